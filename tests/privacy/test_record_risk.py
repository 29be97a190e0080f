"""Record-level risk (issue #12): measured on the columns published at the precision published,
with a verdict; a policy may generalize small classes (logged, never a value) or report them."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from release.config.privacy import PrivacyPolicy, RiskSpec
from release.errors import ConfigError
from release.keys.hmac import Tokenizer
from release.privacy.record_risk import assess, generalize, generalize_all, measure

TOKENIZER = Tokenizer(b"r" * 64)
PERSONS = pd.DataFrame({
    "_row_key": [f"FC{i}#1" for i in range(8)],
    "fc_num": [f"FC{i}" for i in range(8)],
    "contact_date": ["2020-01-05 10:00", "2020-01-05 11:00", "2020-01-06 10:00", "2020-01-07 09:00",
                     "2020-01-09 10:00", "2020-01-12 22:00", "2020-01-20 10:00", "2020-01-30 10:00"],
    "sex": ["Male"] * 8, "race": ["Black"] * 8, "age": ["34", "35", "36", "33", "31", "38", "37", "39"]})


def spec(**kwargs: object) -> RiskSpec:
    return RiskSpec.model_validate({"file": "persons", "quasi_identifiers": ["contact_date", "sex", "race", "age"],
                                    "k": 2, **kwargs})


def test_uniqueness_is_measured_at_the_precision_published() -> None:
    by_hour = measure({"persons": PERSONS}, spec())
    assert by_hour is not None and by_hour.unique_share == 1.0 and by_hour.verdict == "red"
    monthly = PERSONS.assign(contact_date=PERSONS["contact_date"].str[:7], age="30-39")
    by_month = measure({"persons": monthly}, spec())
    assert by_month is not None and by_month.unique_share == 0.0 and by_month.verdict == "green"


def test_the_verdict_is_green_amber_red_by_the_share_under_k() -> None:
    almost = PERSONS.assign(contact_date="2020-01", age="30-39")
    almost.loc[7, "race"] = "White"
    result = measure({"persons": almost}, spec(amber_share=0.2))
    assert result is not None and (result.rows_under_k, result.verdict) == (1, "amber")
    assert measure({"persons": almost}, spec(amber_share=0.1)).verdict == "red"  # type: ignore[union-attr]


def test_a_parent_column_is_joined_as_published() -> None:
    contacts = pd.DataFrame({"fc_num": [f"FC{i}" for i in range(8)], "city": ["BOSTON"] * 4 + ["DORCHESTER"] * 4})
    joined = spec(quasi_identifiers=["sex", "parent.city"], parent="contacts", key="fc_num", k=5)
    result = measure({"persons": PERSONS, "contacts": contacts}, joined)
    assert result is not None and result.classes == 2 and result.verdict == "red"


def test_generalize_walks_the_ladder_and_logs_tokens_only() -> None:
    ladder = spec(action="generalize", steps=[{"column": "contact_date", "to": "day"},
                                              {"column": "contact_date", "to": "month"},
                                              {"column": "age", "to": "age_band"}])
    frame, events = generalize(PERSONS, ladder, dataset="fioe", file="fieldcontact_name.csv", tokenizer=TOKENIZER)
    after = measure({"persons": frame}, ladder)
    assert after is not None and after.verdict == "green"
    assert events and {e.action for e in events} == {"generalize"}
    text = json.dumps([e.__dict__ for e in events])
    assert "2020-01-05 10:00" not in text and "34" not in [e.token for e in events]


def test_enforce_reports_and_names_a_missing_column() -> None:
    checks = (spec(), spec(quasi_identifiers=["nope"]))
    frames, events = generalize_all({"persons": PERSONS}, checks, dataset="fioe",
                                    raw_files={"persons": "fieldcontact_name.csv"}, tokenizer=TOKENIZER)
    results, findings = assess(frames, checks, {"persons": list(PERSONS.columns)})
    assert events == [] and [r.verdict for r in results] == ["red"]
    assert {(f.code, f.severity) for f in findings} == {("record_risk_red", "warning"),
                                                        ("record_risk_not_measured", "blocking")}


@pytest.mark.parametrize(("risk", "message"), [
    ({"action": "generalize"}, "steps"),
    ({"quasi_identifiers": ["parent.city"]}, "parent and key"),
    ({"action": "generalize", "quasi_identifiers": ["parent.city"], "parent": "c", "key": "k",
      "steps": [{"column": "x", "to": "day"}]}, "own columns"),
], ids=["generalize-without-steps", "parent-without-join", "generalize-a-joined-column"])
def test_policy_mistakes(risk: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PrivacyPolicy.model_validate({"record_risk": {"fioe": [{"file": "persons", "quasi_identifiers": ["a"],
                                                                **risk}]}})


def test_an_unknown_unit_is_a_config_error() -> None:
    policy = PrivacyPolicy.model_validate({"units": {"person": {"description": "x", "datasets": ["fioe"]}}})
    assert policy.unit("fioe", "person").cap_rho == 1.0
    for dataset, name in (("fioe", "persn"), ("best", "person")):
        with pytest.raises(ConfigError, match="not declared"):
            policy.unit(dataset, name)


def test_classes_are_rows_equal_on_every_quasi_identifier_as_published() -> None:
    """Class sizes are counted per distinct tuple of published cells, blanks and numbers included
    (a value holding the old join separator no longer merges two classes)."""
    frame = pd.DataFrame({"_row_key": [f"k{i}" for i in range(7)],
                          "sex": ["Male", "Male", None, None, "a\x1fb", "a", 3],
                          "race": ["Black", "Black", "White", None, "c", "b\x1fc", "3"]})
    result = measure({"persons": frame}, spec(quasi_identifiers=["sex", "race"]))
    assert result is not None
    assert (result.rows, result.classes, result.unique_rows, result.smallest_class) == (7, 6, 5, 1)
    assert result.rows_under_k == 5 and result.verdict == "red"


def test_a_quasi_identifier_is_measured_with_its_precision_columns_as_the_portal_publishes_it() -> None:
    """Round 34 (N1): on the portal a banded age is blank in ``age`` with the band in ``age_band``, and a
    date carries its precision. Measured without them every banded age falls in one class (an understated
    risk); with them (``companions``: the policy's derived columns of each column) the published files
    measure as the frame before its portal form did, so a reader recomputes the build's counts."""
    from release.privacy.record_risk import companions

    before = PERSONS.assign(age=["16-17", "16-17", "34", "25-34", "25-34", "38", "14-15", "14-15"],
                            contact_date=["2020-01"] * 2 + list(PERSONS["contact_date"][2:]))
    portal = before.assign(
        age=[None, None, "34", None, None, "38", None, None],
        age_band=["16-17", "16-17", None, "25-34", "25-34", None, "14-15", "14-15"],
        contact_date=["2020-01-01T00:00:00"] * 2 + [v.replace(" ", "T") + ":00" for v in PERSONS["contact_date"][2:]],
        contact_date_precision=["month"] * 2 + ["hour"] * 6)
    folded = {"persons": {"age": ("age_band",), "contact_date": ("contact_date_precision",)}}
    want = measure({"persons": before}, spec())
    assert want is not None and want.classes == 7
    blind = measure({"persons": portal}, spec())
    assert blind is not None and blind.classes == 7  # the dates still differ here; the ages alone would merge
    merged = measure({"persons": portal.assign(contact_date="2020-01-01T00:00:00")}, spec())
    assert merged is not None and merged.classes == 3  # blank ages, one date: every band in one class (34, 38, blank)
    assert measure({"persons": portal}, spec(), folded) == want
    assert measure({"persons": portal.assign(contact_date="2020-01-01T00:00:00")}, spec(), folded).classes == 5  # type: ignore[union-attr]

    class _Rule:
        def __init__(self, type_: str, of: str | None = None) -> None:
            self.type, self.of = type_, of

    class _File:
        columns = {"age": _Rule("age"), "age_band": _Rule("age_band", "age"), "sequence": _Rule("sequence", "fc_num"),
                   "contact_date": _Rule("datetime"), "contact_date_precision": _Rule("date_precision", "contact_date")}

    class _Policy:
        files = {"persons": _File()}

    assert companions(_Policy()) == folded  # type: ignore[arg-type]
