"""The linkage check (``release.linkage``, issue #12 attack 1c), on tiny hand-made public files: which
columns link, who is exposed (two or more reports in a class of fewer than ``min_people_per_class``
people, any combination of the drifting groups left out), what the finding says (counts only), and
the policy's guards. The attacks themselves run through the CLI in tests/security/test_linkage_attacks.py.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from release.linkage import CHECKED, WITHHELD, check_linkage, coarsening, exposure, linking_rows
from release.stages.load import ROW_KEY
from release.tables_spec import LinkageSpec, load_tables_policy

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_tables_policy(ROOT / "redaction_rules" / "fioe_tables.yaml")
TABLE = next(t for t in SHIPPED.tables if t.source == "contact_people")
SPEC = LinkageSpec(file="persons", parent="contacts", key="fc_num", truth="person_rows",
                   per_report=["contact_date", "parent.contact_date"],
                   drifting={"age": ["age_band"], "vehicle": ["parent.vehicle_model"], "place": ["parent.street"]})


def files(*rows: tuple[str, str, str, str, str]) -> dict[str, pd.DataFrame]:
    """Public files of (person, report, age band, car, street) rows; each report on its own date."""
    persons = pd.DataFrame([{ROW_KEY: f"r{i}", "fc_num": report, "contact_date": f"2020-01-{i + 1:02d}",
                             "sex": "Male", "age_band": band} for i, (_, report, band, _, _) in enumerate(rows)])
    contacts = pd.DataFrame([{ROW_KEY: f"c{i}", "fc_num": report, "contact_date": f"2020-01-{i + 1:02d}",
                              "vehicle_model": car, "street": street}
                             for i, (_, report, _, car, street) in enumerate(rows)]).drop_duplicates("fc_num")
    return {"persons": persons, "contacts": contacts}


def truth(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    return pd.DataFrame({"row_key": [f"r{i}" for i in range(len(rows))],
                         "unit_id": [person or None for person, *_ in rows]}, dtype=object)


def exposed(spec: LinkageSpec, *rows: tuple[str, str, str, str, str]) -> int:
    linked = linking_rows(spec, files(*rows))
    assert not isinstance(linked, str), linked
    return exposure(spec, linked, truth(*rows)).exposed_people


def crowd(count: int, street: str = "ELM ST") -> list[tuple[str, str, str, str, str]]:
    """``count`` other people, each in one report, alike in every linking column on ``street``."""
    return [(f"{street}{i}", f"FC{street}{i}", "25-34", "", street) for i in range(count)]


def test_every_published_column_links_but_the_key_the_row_key_and_the_per_report_ones() -> None:
    public = files(("p", "FC1", "25-34", "Cutlass", "ELM ST"))
    public["contacts"] = pd.concat([public["contacts"], public["contacts"].assign(vehicle_model="Accord")])
    linked = linking_rows(SPEC, public)
    assert not isinstance(linked, str)
    assert list(linked.columns) == ["fc_num", ROW_KEY, "sex", "age_band", "parent.vehicle_model", "parent.street"]
    assert linked["parent.vehicle_model"].tolist() == ["Accord|Cutlass"]  # a report's rows that differ: all values


@pytest.mark.parametrize(("named", "why"), [
    ({"per_report": ["contact_dat"]}, "'contact_dat', which is not a published column"),
    ({"drifting": {"vehicle": ["parent.vehicle_plate"]}}, "'parent.vehicle_plate', which is not a published"),
], ids=["misspelt-per-report", "unpublished-drifting"])
def test_a_declared_column_the_files_do_not_publish_stops_the_check(named: dict, why: str) -> None:
    """A misspelt exception would leave the per-report date linking: every report its own class, every
    link hidden. So the check refuses to run, and the table's build blocks (below)."""
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


def test_an_undeclared_drift_is_not_bridged() -> None:
    """The age band and the car link only because the policy declares them drifting: without the
    groups, a key must hold all of them, and the two reports fall in different classes."""
    rows = [("p", "FC1", "18-24", "", "ELM ST"), ("p", "FC2", "25-34", "", "ELM ST"), *crowd(4, "OAK ST")]
    assert exposed(SPEC, *rows) == 1 and exposed(SPEC.model_copy(update={"drifting": {}}), *rows) == 0
    linked = linking_rows(SPEC, files(*rows))
    assert not isinstance(linked, str) and exposure(SPEC, linked, truth(*rows)).worst_key_leaves_out == ("age",)


def test_the_finding_withholds_the_table_with_counts_only() -> None:
    rows = [("person-key-1", "FC1", "25-34", "Cutlass", "ELM ST"), ("person-key-1", "FC2", "25-34", "Cutlass", "OAK ST")]
    spec = SHIPPED.frames["contact_people"].linkage
    assert spec is not None
    shipped = spec.model_copy(update={"per_report": ("contact_date", "parent.contact_date"),
                                      "drifting": {"vehicle": ("parent.vehicle_model",), "place": ("parent.street",)}})
    found, figure = check_linkage(TABLE, {"person_rows": truth(*rows)}, shipped, files(*rows))
    assert [(f.code, f.severity, f.count) for f in found] == [(WITHHELD, "warning", 1)]
    assert figure is not None and figure.to_dict() == {
        "exposed_people": 1, "exposing_classes": 1, "worst_key_leaves_out": ["place"], "linking_keys": 4,
        "repeated_people": 1, "min_people_per_class": 5}
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
    {"drifting": {"age": ["age_band"], "also": ["age_band"]}},
    {"per_report": ["age_band"], "drifting": {"age": ["age_band"]}},
    {"drifting": {f"group{i}": [f"column{i}"] for i in range(9)}},
    {"coarsen": {"parent.age": "age_band"}},
    {"min_people_per_class": 1},
], ids=["column-in-two-groups", "drifting-and-per-report", "too-many-groups", "parent-age-band", "class-of-one"])
def test_the_policy_guards(update: dict) -> None:
    LinkageSpec.model_validate(SPEC.model_dump())
    with pytest.raises(ValidationError):
        LinkageSpec.model_validate({**SPEC.model_dump(), **update})
