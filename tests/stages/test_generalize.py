"""Column rules and the juvenile rule."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import contact, person, write_export

from release.config.policy import DatasetPolicy, DatetimeRule
from release.keys.hmac import Tokenizer
from release.stages.generalize import Context, generalize, rule_datetime, strip_house_number
from release.stages.juvenile import minor_keys
from release.stages.load import load_export

KEY = Tokenizer(b"g" * 64)


@pytest.mark.parametrize(
    ("raw", "public"),
    [("45 Blue Hill Ave", "Blue Hill Ave"), ("rear of 12 Magazine St", "Magazine St"),
     ("100-104 Warren St", "Warren St"), ("22 Dudley St Apt 3", "Dudley St"),
     ("12A CENTRE ST #4", "CENTRE ST"), ("WASHINGTON ST", "WASHINGTON ST"), ("E 1ST ST", "E 1ST ST")],
    ids=["house", "rear-of", "range", "apartment", "letter-unit", "plain", "ordinal"])
def test_street_name_keeps_name_only(raw: str, public: str) -> None:
    assert strip_house_number(raw) == public


def _run(folder: Path, policy: DatasetPolicy) -> tuple[dict[str, pd.DataFrame], list, list]:
    loaded = load_export(folder, policy, 2020)
    minors = minor_keys(loaded.tables, policy)
    tables, findings, events = generalize(loaded.tables, policy, minors, KEY)
    return tables.frames, findings, events


def test_public_columns_only_and_values_generalized(tiny_export: Path, policy: DatasetPolicy) -> None:
    frames, _, _ = _run(tiny_export, policy)
    contacts = frames["contacts"]
    assert list(contacts.columns[:-1]) == policy.files["contacts"].public_columns()
    assert contacts["contact_date"].iloc[0] == "2020-03-04 17:00"
    assert "first_name" not in frames["persons"].columns


def test_juvenile_report_banded_withheld_coarsened(tiny_export: Path, policy: DatasetPolicy) -> None:
    frames, findings, events = _run(tiny_export, policy)
    contacts = frames["contacts"].set_index("_row_key")
    persons = frames["persons"].set_index("_row_key")
    assert persons.loc["FC20000002/p1", "age"] == "16-17"
    assert persons.loc["FC20000002/p1", "contact_date"] == "2020-03"
    assert contacts.loc["FC20000002", "contact_reason"] == "[WITHHELD: JUVENILE]"
    assert contacts.loc["FC20000002", "street"] == "[WITHHELD: JUVENILE]"  # withheld, not missing
    assert contacts.loc["FC20000002", "contact_date"] == "2020-03"
    assert persons.loc["FC20000001/p1", "age"] == "20"  # from the DOB 03/14/1999 on 2020-03-04 (the age column says 21)
    withheld = [e for e in events if e.action == "withhold"]
    assert {(e.row_key, e.column) for e in withheld} == {("FC20000002", "contact_reason"), ("FC20000002", "street")}
    assert any(f.code == "juvenile_rule" for f in findings)


@pytest.mark.parametrize(
    ("age", "public"),
    [("13", "under 14"), ("14", "14-15"), ("17", "16-17"), ("18", "18"), ("-3", None), ("140", None), ("", None)],
    ids=["13", "14", "17", "18", "negative", "too-old", "blank"])
def test_age_rule(tmp_path: Path, policy: DatasetPolicy, age: str, public: str | None) -> None:
    folder = write_export(tmp_path, [contact("FC20000001")], [person("FC20000001", age=age, dob="")])
    frames, _, _ = _run(folder, policy)
    assert frames["persons"]["age"].iloc[0] == public


@pytest.mark.parametrize(
    ("age", "dob", "public", "withheld", "code"),
    [("16.0", "", None, True, "age_unknown_minor"), ("17 yrs", "", None, True, "age_unknown_minor"),
     ("", "", None, True, "age_unknown_minor"), ("-3", "", None, True, "age_unknown_minor"),
     ("", "2004-01-02", "16-17", True, "age_from_dob"), ("21", "3/1/2004", "16-17", True, "age_from_dob"),
     ("16", "03/14/1999", "20", False, "age_from_dob"), ("0", "19990101", "21", False, "age_from_dob"),
     ("16.0", "not a date", None, True, "age_unknown_minor"), ("25", "", "25", False, None),
     ("30", "2030-01-01", "30", False, None)],
    ids=["decimal", "with-unit", "blank", "negative", "blank-age-dob-16", "dob-wins-minor", "dob-wins-adult",
         "zero-with-dob", "unreadable-dob", "clean-adult", "future-dob-ignored"])
def test_minors_fail_closed(tmp_path: Path, policy: DatasetPolicy, age: str, dob: str, public: str | None,
                            withheld: bool, code: str | None) -> None:
    """The age comes from the date of birth when one can be read; an age that is not a clean
    whole number in range, with no readable date of birth, counts as a minor and is reported."""
    folder = write_export(tmp_path, [contact("FC20000001")], [person("FC20000001", age=age, dob=dob)])
    frames, findings, _ = _run(folder, policy)
    assert frames["persons"]["age"].iloc[0] == public
    assert (frames["contacts"]["contact_reason"].iloc[0] == "[WITHHELD: JUVENILE]") is withheld
    codes = {f.code: f for f in findings if f.code in ("age_unknown_minor", "age_from_dob")}
    assert set(codes) == ({code} if code else set())
    if code:
        assert codes[code].row_keys == ("FC20000001/p1",) and (not dob or dob not in repr(findings))


@pytest.mark.parametrize(
    ("column", "raw", "public"),
    [("state", "MASSACHUSETTS", "MA"), ("zip", "2124", "02124"), ("zip", "02124-1234", "02124"),
     ("zip", "ABCDE", None), ("circumstance", "Frisked", None), ("stop_duration", "abc", None),
     ("vehicle_year", "1850", None), ("vehicle_year", "1" * 30, None)],
    ids=["state-spelling", "zip-pad", "zip-plus4", "zip-bad", "outside-domain", "not-integer", "year-range",
         "thirty-digit-year"])
def test_column_rules(tmp_path: Path, policy: DatasetPolicy, column: str, raw: str, public: str | None) -> None:
    folder = write_export(tmp_path, [contact("FC20000001", **{column: raw})], [person("FC20000001")])
    frames, findings, _ = _run(folder, policy)
    assert frames["contacts"][column].iloc[0] == public
    assert raw not in repr(findings) or raw == public


def test_events_carry_tokens_not_values(tiny_export: Path, policy: DatasetPolicy) -> None:
    _, _, events = _run(tiny_export, policy)
    text = repr(events)
    assert "Observed group" not in text and "2004-01-02" not in text
    assert all(len(e.token) == 64 for e in events)


@pytest.mark.parametrize(
    ("raw", "precision", "public"),
    [("2020-03-04 17:25:00", "hour", "2020-03-04 17:00"), ("2020-3-4 7:05", "minute", "2020-03-04 07:05"),
     ("2015-01-01 13:30:00+00", "day", "2015-01-01"), ("2020-03-04", "month", "2020-03"),
     ("2020-02-30 10:00", "hour", None), ("2020-13-01", "day", None), ("2021-02-29", "day", None),
     ("2020-03-04 24:00", "hour", None), ("2020-03-04 10:60", "minute", None), ("2020-03", "day", None)],
    ids=["hour", "short-parts", "offset", "month", "feb-30", "month-13", "not-leap", "hour-24", "minute-60",
         "too-coarse"])
def test_datetime_rule_blanks_and_reports_dates_that_cannot_exist(raw: str, precision: str,
                                                                  public: str | None) -> None:
    values = pd.Series([raw], dtype=object)
    ctx = Context("fioe", "fieldcontact.csv", "contact_date", pd.Series(["FC20000001"]), KEY)
    outcome = rule_datetime(values, DatetimeRule(type="datetime", precision=precision), ctx)  # type: ignore[arg-type]
    assert outcome.values.iloc[0] == public
    assert [(f.code, f.row_keys) for f in outcome.findings] == ([] if public else [("date_unreadable", ("FC20000001",))])


@pytest.mark.parametrize(("raw", "public"), [("Y", "1"), ("y", "1"), ("YES", "1"), (None, "0"), ("N", "0"),
                                              ("Zebulon", None)],
                         ids=["Y", "lower", "yes", "blank", "N", "not-a-flag"])
def test_a_y_blank_flag_reads_blank_as_an_unticked_box(raw: str | None, public: str | None) -> None:
    """The RMS writes its frisk and search flags as Y or nothing (issue #16): ``blank_means``."""
    from release.config.column_rules import KeepRule
    from release.stages.generalize import rule_keep

    rule = KeepRule(type="keep", required=True, domain=("0", "1"), spellings={"Y": "1", "YES": "1", "N": "0"},
                    blank_means="0")
    ctx = Context("fioe", "fieldcontact.csv", "frisked", pd.Series(["F190000001"]), KEY)
    outcome = rule_keep(pd.Series([raw], dtype=object), rule, ctx)
    assert outcome.values.tolist() == [public]
    assert [f.code for f in outcome.findings] == ([] if public is not None else ["value_outside_domain"])


def test_missing_tokens_of_a_policy_read_as_blank(tmp_path: Path) -> None:
    """The legacy system writes NO DATA ENTERED for an empty field: missing, not a value."""
    from release.config.policy import load_policy
    from release.synth.fioe_legacy import generate_fioe_legacy, write_fioe_legacy

    policy = load_policy(Path(__file__).resolve().parents[2] / "redaction_rules" / "fioe_legacy.yaml")
    write_fioe_legacy(generate_fioe_legacy(2013, seed=4, n_reports=12), tmp_path)
    assert "NO DATA ENTERED" in (tmp_path / "fio.csv").read_text(encoding="utf-8")
    frame = load_export(tmp_path, policy, 2013).tables["persons"]
    assert not frame.drop(columns="_row_key").isin(["NO DATA ENTERED"]).any().any()


def test_identifier_is_published_as_its_keyed_pseudonym(tmp_path: Path, policy: DatasetPolicy) -> None:
    """person_id (``pseudonym`` rule): the same id, the same pseudonym in every row of a release;
    another key (another year's release) another one; a value not of the id's format blanked and
    reported by row key, never by value."""
    persons = [person("FC20000001", person_id="30000000001"), person("FC20000002", person_id="30000000001"),
               person("FC20000003", person_id="30000000002"), person("FC20000004", person_id="J. Smith")]
    folder = write_export(tmp_path, [contact(f"FC2000000{i}") for i in range(1, 5)], persons)
    frames, findings, events = _run(folder, policy)
    published = frames["persons"]["person_id"].tolist()
    assert published[0] == published[1] != published[2] and published[3] is None
    assert all(p.startswith("PER-") and len(p) == 20 for p in published[:3])
    loaded = load_export(folder, policy, 2020)
    other_year = generalize(loaded.tables, policy, frozenset(), Tokenizer(b"h" * 64))[0]["persons"]["person_id"]
    assert not set(other_year.dropna()) & set(published[:3])
    bad = [f for f in findings if f.column == "person_id"]
    assert [(f.code, f.row_keys) for f in bad] == [("value_outside_pattern", ("FC20000004/p1",))]
    assert "Smith" not in repr(bad) and "30000000001" not in repr(findings)
    logged = [e for e in events if e.column == "person_id"]
    assert [(e.row_key, e.action) for e in logged] == [("FC20000004/p1", "drop_value")]
    assert logged[0].token == KEY.token("J. Smith")


def test_an_age_computed_from_a_blank_age_cell_logs_no_removed_value(tmp_path: Path, policy: DatasetPolicy) -> None:
    """A minor's band from the date of birth where the age cell was blank removes no cell's value:
    nothing is logged for it (a token of no raw value would fail the audit's recomputation)."""
    folder = write_export(tmp_path, [contact("FC20000001"), contact("FC20000002")],
                          [person("FC20000001", age="", dob="2004-01-02"), person("FC20000002", age="16", dob="")])
    frames, _, events = _run(folder, policy)
    assert frames["persons"]["age"].tolist() == ["16-17", "16-17"]  # both banded
    assert [e.row_key for e in events if e.entity_type == "AGE"] == ["FC20000002/p1"]
