"""The linkage check (``release.privacy.linkage``, issue #12 attack 1c), on tiny hand-made public files: which
columns link, who is exposed (for a pair of a person's reports, the rows alike in every column the
two agree on hold fewer than ``min_people_per_class`` people; or their narratives share a phrase
found in the reports of fewer than that many), what the finding says (counts only), and the
policy's guards. The attacks themselves run through the CLI in tests/security/test_linkage_attacks.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from release.config.tables import LinkageSpec, load_tables_policy
from release.model import ROW_KEY
from release.privacy.linkage import (
    CHECKED,
    MAX_PAIRS_PER_PERSON,
    WITHHELD,
    check_linkage,
    coarsening,
    exposure,
    linking_rows,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_tables_policy(ROOT / "redaction_rules" / "fioe_tables.yaml")
TABLE = next(t for t in SHIPPED.tables if t.source == "contact_people")
SPEC = LinkageSpec(file="persons", parent="contacts", key="fc_num", truth="person_rows",
                   dates=["contact_date", "parent.contact_date"])


def files(*rows: tuple[str, str, str, str, str], hours: tuple[int, ...] = ()) -> dict[str, pd.DataFrame]:
    """Public files of (person, report, age band, car, street) rows; each report on its own day of
    January 2020, at 10:00 unless ``hours`` says otherwise."""
    when = [f"2020-01-{i + 1:02d}T{(hours[i] if i < len(hours) else 10):02d}:00:00" for i in range(len(rows))]
    persons = pd.DataFrame([{ROW_KEY: f"r{i}", "fc_num": report, "contact_date": when[i],
                             "sex": "Male", "age_band": band} for i, (_, report, band, _, _) in enumerate(rows)])
    contacts = pd.DataFrame([{ROW_KEY: f"c{i}", "fc_num": report, "contact_date": when[i],
                              "vehicle_model": car, "street": street}
                             for i, (_, report, _, car, street) in enumerate(rows)]).drop_duplicates("fc_num")
    return {"persons": persons, "contacts": contacts}


def truth(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame({"row_key": [f"r{i}" for i in range(len(rows))],
                         "unit_id": [person or None for person, *_ in rows]}, dtype=object)


def exposed(spec: LinkageSpec, *rows: tuple[str, str, str, str, str], **public: object) -> int:
    linked = linking_rows(spec, files(*rows, **public))  # type: ignore[arg-type]
    assert not isinstance(linked, str), linked
    return exposure(spec, linked, truth(*rows)).exposed_people


def crowd(count: int, street: str = "ELM ST") -> list[tuple[str, str, str, str, str]]:
    """``count`` other people, each in one report, alike in every linking column on ``street``."""
    return [(f"{street}{i}", f"FC{street}{i}", "25-34", "", street) for i in range(count)]


def test_every_published_column_links_but_the_key_the_row_key_and_the_positions() -> None:
    public = files(("p", "FC1", "25-34", "Cutlass", "ELM ST"))
    public["contacts"] = pd.concat([public["contacts"], public["contacts"].assign(vehicle_model="Accord")])
    public["persons"]["person_in_report"] = "1"
    linked = linking_rows(SPEC.model_copy(update={"positions": ("person_in_report",)}), public)
    assert not isinstance(linked, str)
    assert list(linked.columns) == [
        "fc_num", ROW_KEY, "contact_date", "sex", "age_band", "parent.contact_date", "parent.vehicle_model",
        "parent.street", "contact_date@month", "contact_date@hour", "parent.contact_date@month",
        "parent.contact_date@hour"]
    assert linked["parent.vehicle_model"].tolist() == ["Accord|Cutlass"]  # a report's rows that differ: all values
    assert linked[["contact_date@month", "contact_date@hour"]].values.tolist() == [["2020-01", "10"]]


@pytest.mark.parametrize(("named", "why"), [
    ({"dates": ["contact_dat"]}, "'contact_dat', which is not a published column"),
    ({"free_text": ["parent.contact_reasn"]}, "'parent.contact_reasn', which is not a published"),
    ({"positions": ["parent.row_in_report"]}, "'parent.row_in_report', which is not a published"),
], ids=["misspelt-date", "misspelt-free-text", "unpublished-position"])
def test_a_declared_column_the_files_do_not_publish_stops_the_check(named: dict, why: str) -> None:
    """A misspelt narrative would be compared whole (never equal, so its phrases never link), a
    misspelt date never by hour. So the check refuses to run, and the table's build blocks (below)."""
    assert why in str(linking_rows(SPEC.model_copy(update=named), files(("p", "FC1", "25-34", "", "ELM ST"))))


CASES = {
    "two-reports-alike": (1, [("p", "FC1", "25-34", "", "ELM ST"), ("p", "FC2", "25-34", "", "ELM ST")]),
    "two-reports-among-three-others": (1, [("p", "FC1", "25-34", "", "ELM ST"), ("p", "FC2", "25-34", "", "ELM ST"),
                                           *crowd(3)]),
    "two-reports-among-four-others": (0, [("p", "FC1", "25-34", "", "ELM ST"), ("p", "FC2", "25-34", "", "ELM ST"),
                                          *crowd(4)]),
    "one-report-seen-twice-in-it": (0, [("p", "FC1", "25-34", "", "ELM ST"), ("p", "FC1", "25-34", "", "ELM ST")]),
    "rows-without-a-person-are-people-too": (0, [("p", "FC1", "25-34", "", "ELM ST"),
                                                 ("p", "FC2", "25-34", "", "ELM ST"),
                                                 *[("", f"FC8{i}", "25-34", "", "ELM ST") for i in range(4)]]),
    "age-crosses-a-band": (1, [("p", "FC1", "18-24", "", "ELM ST"), ("p", "FC2", "25-34", "", "ELM ST"),
                               *crowd(4, "OAK ST")]),
    "same-car-elsewhere": (1, [("p", "FC1", "25-34", "Cutlass", "ELM ST"), ("p", "FC2", "25-34", "Cutlass", "OAK ST"),
                               *crowd(10, "ELM ST"), *crowd(10, "OAK ST")]),
    "another-street-among-four-others": (0, [("p", "FC1", "25-34", "", "ELM ST"), ("p", "FC2", "25-34", "", "OAK ST"),
                                             *crowd(4, "ELM ST")]),
    "another-street-among-three-others": (1, [("p", "FC1", "25-34", "", "ELM ST"), ("p", "FC2", "25-34", "", "OAK ST"),
                                              *crowd(3, "ELM ST")]),
}


@pytest.mark.parametrize(("count", "rows"), list(CASES.values()), ids=list(CASES))
def test_who_is_exposed(count: int, rows: list[tuple[str, str, str, str, str]]) -> None:
    assert exposed(SPEC, *rows) == count


def test_any_column_may_differ_and_any_may_link() -> None:
    """No column is declared: a pair differing in the age band, or the street, is still compared on
    every other column (the car), and one agreeing on the hour of day is compared on it too."""
    rows = [("p", "FC1", "18-24", "Cutlass", "ELM ST"), ("p", "FC2", "25-34", "Cutlass", "OAK ST"),
            *[(f"q{i}", f"FCQ{i}", "25-34", "", "OAK ST") for i in range(10)]]
    assert exposed(SPEC, *rows) == 1
    night = [("p", "FC1", "25-34", "", "ELM ST"), ("p", "FC2", "25-34", "", "ELM ST"), *crowd(5)]
    assert exposed(SPEC, *night) == 0  # all at 10:00: a class of 6 people
    assert exposed(SPEC, *night, hours=(23, 23)) == 1  # the person's two at 23:00, the others at 10:00
    assert exposed(SPEC.model_copy(update={"dates": ()}), *night, hours=(23, 23)) == 0  # the full date-times differ


def narratives(rows: list[tuple[str, str, str, str, str]], texts: dict[str, str]) -> dict[str, pd.DataFrame]:
    public = files(*rows)
    public["contacts"]["contact_reason"] = [texts.get(r, f"Routine stop number {i}, nothing found.")
                                            for i, r in enumerate(public["contacts"]["fc_num"])]
    return public


def test_a_rare_phrase_two_narratives_share_links_them() -> None:
    """Two of a person's reports, alike on structure with ten others, share a five-word phrase."""
    rows = [("p", "FC1", "25-34", "", "ELM ST"), ("p", "FC2", "25-34", "", "ELM ST"), *crowd(10)]
    texts = {"FC1": "Seen near the park with a scorpion tattoo on his neck today.",
             "FC2": "Stopped again; scorpion tattoo on his neck, released."}
    spec = SPEC.model_copy(update={"free_text": ("parent.contact_reason",)})
    for shared_by, count in ((0, 1), (3, 1), (4, 0)):  # the phrase also in reports of others: 1+3 people, then 1+4
        more = {f"FCELM ST{i}": "Known to wear a scorpion tattoo on his neck." for i in range(shared_by)}
        linked = linking_rows(spec, narratives(rows, {**texts, **more}))
        assert not isinstance(linked, str)
        found = exposure(spec, linked, truth(*rows))
        assert (found.exposed_people, found.exposed_by_text) == (count, count)


def test_the_pairs_compared_per_person_are_capped() -> None:
    rows = [("p", f"FC{i}", "25-34", "", "ELM ST") for i in range(12)]  # 66 pairs
    linked = linking_rows(SPEC, files(*rows))
    assert not isinstance(linked, str)
    found = exposure(SPEC, linked, truth(*rows))
    assert (found.pairs_compared, found.pairs_capped_people, found.exposed_people) == (MAX_PAIRS_PER_PERSON, 1, 1)


def test_the_finding_withholds_the_table_with_counts_only() -> None:
    rows = [("person-key-1", "FC1", "25-34", "Cutlass", "ELM ST"), ("person-key-1", "FC2", "25-34", "Cutlass", "OAK ST")]
    spec = SHIPPED.frames["contact_people"].linkage
    assert spec is not None
    shipped = spec.model_copy(update={"positions": (), "free_text": (), "dates": ("contact_date", "parent.contact_date")})
    found, figure = check_linkage(TABLE, {"person_rows": truth(*rows)}, shipped, files(*rows))
    assert [(f.code, f.severity, f.count) for f in found] == [(WITHHELD, "warning", 1)]
    assert figure is not None and figure.to_dict() == {
        "exposed_people": 1, "exposing_classes": 1, "exposed_by_text": 0, "pairs_compared": 1,
        "pairs_capped_people": 0, "repeated_people": 1, "min_people_per_class": 5}
    assert not any(value in found[0].message for value in ("Cutlass", "ELM", "person-key", "25-34", "FC1"))
    found, figure = check_linkage(TABLE, {"person_rows": truth(*rows[:1])}, shipped, files(*rows[:1]))
    assert [(f.code, f.severity) for f in found] == [(CHECKED, "info")] and figure and figure.repeated_people == 0


def test_a_check_that_cannot_run_blocks() -> None:
    rows = [("p", "FC1", "25-34", "", "ELM ST")]
    for frames, public in (({}, files(*rows)), ({"person_rows": truth(*rows)}, {"persons": files(*rows)["persons"]})):
        found, figure = check_linkage(TABLE, frames, SPEC, public)
        assert [(f.code, f.severity) for f in found] == [("linkage_not_checked", "blocking")] and figure is None


def test_coarsening_reaches_the_parent_file() -> None:
    policy = SHIPPED.model_copy(update={"frames": {**SHIPPED.frames, "contact_people": SHIPPED.frames[
        "contact_people"].model_copy(update={"linkage": SPEC.model_copy(update={"coarsen": {
            "build": "blank", "parent.vehicle_model": "blank"}})})}})
    assert coarsening(policy) == {"persons": {"build": "blank"}, "contacts": {"vehicle_model": "blank"}}


@pytest.mark.parametrize("update", [
    {"positions": ["contact_date"]},
    {"free_text": ["contact_date"]},
    {"coarsen": {"parent.age": "age_band"}},
    {"min_people_per_class": 1},
    {"drifting": {"age": ["age_band"]}},
], ids=["date-and-position", "date-and-free-text", "parent-age-band", "class-of-one", "no-drifting-groups-any-more"])
def test_the_policy_guards(update: dict) -> None:
    LinkageSpec.model_validate(SPEC.model_dump())
    with pytest.raises(ValidationError):
        LinkageSpec.model_validate({**SPEC.model_dump(), **update})


def test_files_with_no_row_link_no_one_rather_than_fail() -> None:
    """Round 38, F4: a year whose every row is dated in another year publishes empty files; reading their
    dates as text was an internal error (exit 1) for the build, the audit and a range of years."""
    public = files(("p", "FC1", "25-34", "", "ELM ST"))
    empty = {name: frame.iloc[0:0] for name, frame in public.items()}
    linked = linking_rows(SPEC, empty)
    assert not isinstance(linked, str) and linked.empty
    assert exposure(SPEC, linked, truth()).exposed_people == 0
