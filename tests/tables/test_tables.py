"""The facade: declared tables -> long-form public tables, through the shipped FIOE policy too."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from release.build.tables import build_tables, load_table_specs, planned_spends
from release.config.tables import load_tables_policy
from release.errors import ConfigError
from release.stages import noise
from release.stages.suppress import audit_suppression

ROOT = Path(__file__).resolve().parents[2]
RACES = ["Black", "White", "Other", "Unknown"]

POLICY = {
    "frames": {"people": {"not_public": "test frame"}, "reports": {"not_public": "test frame"}},
    "tables": [
        {"name": "people_by_race_sex", "description": "the number of people", "source": "people",
         "dimensions": [{"name": "race", "categories": RACES, "other": "Other", "missing": "Unknown"},
                        {"name": "sex", "categories": ["Male", "Female", "Unknown"], "other": "Unknown"}],
         "privacy_unit": "unit_id", "privacy_unit_name": "person", "max_rows_per_unit": 1,
         "max_cells_per_unit": 1, "mechanism": "discrete_gaussian", "rho": 0.5,
         "margins": [["race"], ["sex"], []]},
        {"name": "bases", "description": "the number of report bases", "source": "reports",
         "dimensions": [{"name": "basis", "categories": ["Intel", "Encounter", "Unknown"], "other": "Unknown"}],
         "privacy_unit": "unit_id", "privacy_unit_name": "report", "max_rows_per_unit": 2,
         "max_cells_per_unit": 2, "max_rows_per_cell": 1, "mechanism": "discrete_laplace", "epsilon": 1.0,
         "margins": [[]]},
        {"name": "reports_by_place", "description": "the number of reports", "source": "reports",
         "dimensions": [{"name": "place", "column": "neighbourhood", "categories": ["North", "South", "East", "West"],
                         "other": "West"},
                        {"name": "month", "kind": "month"}],
         "privacy_unit": "unit_id", "privacy_unit_name": "report", "max_rows_per_unit": 1,
         "max_cells_per_unit": 1, "mechanism": "exact", "margins": [["place"], ["month"], []],
         "suppression": {"threshold": 6, "protection_width": 5, "cost": "value"}},
    ],
}


def frames(rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    people = pd.DataFrame({
        "unit_id": [f"P{i:04d}" for i in range(300)],
        "race": rng.choice(["BLACK", "white", "Purple", None], 300),
        "sex": rng.choice(["Male", "FEMALE", None], 300)})
    report_ids = [f"R{i:03d}" for i in rng.integers(0, 120, 260)]
    place = {r: rng.choice(["North", "North", "South", "East", "Nowhere"]) for r in sorted(set(report_ids))}
    month = {r: f"2020-{rng.integers(1, 4):02d}" for r in sorted(set(report_ids))}
    reports = pd.DataFrame({
        "unit_id": report_ids, "neighbourhood": [place[r] for r in report_ids],
        "month": [month[r] for r in report_ids],
        "basis": rng.choice(["Intel", "Encounter", "Encounter "], 260)})
    return {"people": people, "reports": reports}


@pytest.fixture()
def result(tmp_path: Path) -> object:
    path = tmp_path / "tables.yaml"
    path.write_text(yaml.safe_dump(POLICY, sort_keys=False), encoding="utf-8")
    specs = load_table_specs(path)
    return build_tables(frames(np.random.default_rng(7)), specs, dataset="demo", year=2020,
                        rng=np.random.default_rng(11))


@pytest.mark.parametrize(("table", "dims", "rows"), [
    ("people_by_race_sex", ["race", "sex"], 12 + 4 + 3 + 1),
    ("bases", ["basis"], 3 + 1),
    ("reports_by_place", ["place", "month"], 48 + 4 + 12 + 1),
], ids=["noisy-gaussian", "noisy-laplace", "exact"])
def test_long_form_with_every_category_and_margins(result, table: str, dims: list[str], rows: int) -> None:
    frame = result.tables[table]
    assert list(frame.columns) == [*dims, "value", "lower", "upper", "status"]
    assert len(frame) == rows
    assert (frame[dims] == "All").all(axis=1).sum() == 1  # the grand total
    assert set(frame["status"]) <= {"noisy", "exact", "suppressed"}


@pytest.mark.parametrize("table", ["people_by_race_sex", "bases"])
def test_noisy_margins_add_up_and_intervals_hold_the_value(result, table: str) -> None:
    frame = result.tables[table]
    dims = [c for c in frame.columns if c not in ("value", "lower", "upper", "status")]
    assert (frame["status"] == "noisy").all() and (frame["value"] >= 0).all()
    assert ((frame["lower"] <= frame["value"]) & (frame["value"] <= frame["upper"])).all()
    cells = frame[(frame[dims] != "All").all(axis=1)]
    for _, margin in frame[(frame[dims] == "All").any(axis=1)].iterrows():
        match = np.ones(len(cells), dtype=bool)
        for dim in dims:
            if margin[dim] != "All":
                match &= (cells[dim] == margin[dim]).to_numpy()
        assert cells.loc[match, "value"].sum() == margin["value"]


def test_measurements_are_json_recorded_and_within_budget(result) -> None:
    records = json.loads(json.dumps(result.measurements))
    assert [r["table"] for r in records] == ["people_by_race_sex", "bases"]
    for record in records:
        assert record["opendp_version"] == "0.16.0" and record["features"] == ["contrib"]
        assert noise.replay_privacy_loss(record) <= record["declared_budget"]
    assert records[1]["d_in"] == 2 + 2  # two bases in two cells, plus the total


def test_spends_follow_the_declarations(result) -> None:
    assert [(s.table, s.privacy_unit, s.rho, s.epsilon) for s in result.spends] == [  # one measurement each
        ("people_by_race_sex", "person", 0.5, None), ("bases", "report", 0.5, 1.0)]


def test_exact_table_hides_small_counts_and_passes_the_audit(result) -> None:
    frame = result.tables["reports_by_place"]
    shown = frame[frame["status"] == "exact"]
    hidden = frame[frame["status"] == "suppressed"]
    assert len(hidden) and hidden["value"].isna().all() and hidden["lower"].isna().all()
    assert not shown["value"].between(1, 6).any()
    assert (shown["lower"] == shown["value"]).all() and (shown["upper"] == shown["value"]).all()
    assert not [f for f in result.findings if f.severity == "blocking"]
    assert audit_suppression(result.published) == []


def test_dropped_rows_are_counted_and_reported(result) -> None:
    assert result.rows_dropped["people_by_race_sex"] == 0
    assert result.rows_dropped["bases"] > 0  # "Encounter" twice in a report counts once
    codes = {(f.file, f.code) for f in result.findings}
    assert ("bases", "contribution_bounded") in codes


def test_nothing_returned_carries_a_raw_value(result) -> None:
    text = json.dumps([f.to_dict() for f in result.findings]) + json.dumps(result.privacy_summary)
    for raw in ("P0001", "R001", "Purple", "Nowhere", "BLACK"):
        assert raw not in text


def test_privacy_summary_explains_each_table(result) -> None:
    by_table = {s["table"]: s for s in result.privacy_summary}
    assert set(by_table) == {"people_by_race_sex", "bases", "reports_by_place"}
    assert "rho = 0.5" in by_table["people_by_race_sex"]["privacy"]
    assert by_table["bases"]["epsilon"] == 1.0
    assert "not covered by the differential-privacy guarantee" in by_table["reports_by_place"]["meaning"]


def test_a_missing_frame_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "tables.yaml"
    path.write_text(yaml.safe_dump(POLICY), encoding="utf-8")
    with pytest.raises(ConfigError, match="no frame named 'reports'"):
        build_tables({"people": frames(np.random.default_rng(1))["people"]}, load_table_specs(path),
                     dataset="demo", year=2020)


def test_shipped_fioe_tables_run_on_the_contract_frames() -> None:
    rng = np.random.default_rng(3)
    people = pd.DataFrame({
        "unit_id": [f"P{i}" for i in range(400)], "fc_num": [f"FC{i // 2}" for i in range(400)],
        "month": [f"2020-{m:02d}" for m in rng.integers(1, 13, 400)],
        "neighbourhood": rng.choice(["DORCHESTER", "ROXBURY", "BOSTON", "QUINCY", None], 400),
        "race": rng.choice(["BLACK", "WHITE", "UNKNOWN", None], 400),
        "sex": rng.choice(["MALE", "FEMALE", "Male to Female Transgender"], 400),
        "ethnicity": None, "was_frisked": rng.choice(["1", "0", None], 400),
        "circumstance": rng.choice(["Stopped", "Observed"], 400)})
    ids = [f"FC{i}" for i in rng.integers(0, 150, 220)]
    reports = pd.DataFrame({
        "unit_id": ids, "fc_num": ids, "month": "2020-05",
        "neighbourhood": [["DORCHESTER", "ROXBURY", "BOSTON"][int(i[2:]) % 3] for i in ids],
        "basis": rng.choice(["Intel", "Encounter", "Probable Cause"], 220),
        "circumstance": [["Stopped", "Observed", "Encountered"][int(i[2:]) % 3] for i in ids]})
    contact_people = pd.DataFrame({"unit_id": [f"K{i}" for i in range(300)],
                                   "contacts": rng.choice(["1", "1", "2", "4", "6"], 300),
                                   "neighbourhood": rng.choice(["DORCHESTER", "ROXBURY", None], 300)})
    policy = load_tables_policy(ROOT / "redaction_rules" / "fioe_tables.yaml")
    result = build_tables({"people": people, "reports": reports, "contact_people": contact_people}, policy.tables,
                          dataset="fioe", year=2020, rng=rng)
    assert set(result.tables) == {s.name for s in policy.tables}
    assert [(s.table, s.rho) for s in result.spends] == [(s.table, s.rho) for s in planned_spends(
        policy.tables, "fioe", 2020)]
    assert all(m["privacy_loss"] <= m["declared_budget"] for m in result.measurements)
    people_table = result.tables["fioe_people_by_neighbourhood_race_month"]
    assert len(people_table) == 14 * 7 * 12 + 14 * 7 + 14 + 7 + 12 + 1
    assert not [f for f in result.findings if f.severity == "blocking"]


def test_a_frame_whose_units_may_join_people_needs_a_table_that_says_so() -> None:
    """A noisy table on a frame flagged ``MERGED_UNITS`` (FIOE's person key) without
    ``units_may_merge`` is blocked before any draw; declared, it is drawn."""
    from release.config.tables import MERGED_UNITS
    spec = next(s for s in load_tables_policy(ROOT / "redaction_rules" / "fioe_tables.yaml").tables if s.is_noisy)
    frame = pd.DataFrame({"unit_id": ["K1", "K2"], "contacts": ["1", "6"], "neighbourhood": ["DORCHESTER", None]})
    frame.attrs[MERGED_UNITS] = True
    for declared in (True, False):
        table = spec.model_copy(update={"units_may_merge": declared})
        result = build_tables({spec.source: frame}, [table], dataset="fioe", year=2020,
                              rng=np.random.default_rng(0))
        blocked = [f.code for f in result.findings if f.severity == "blocking"]
        assert blocked == ([] if declared else ["units_may_merge_undeclared"])
        assert bool(result.spends) is declared and (spec.name in result.tables) is declared


def test_a_frame_with_a_unit_one_removal_would_split_withholds_its_noisy_tables() -> None:
    """One person alone joining others (by one key here, another there) splits the unit when removed:
    two units change, which the doubled sensitivity does not cover, so the table is withheld (nothing
    drawn or charged) rather than published under a ρ that is untrue for that person."""
    from release.config.tables import MERGED_UNITS, SPLIT_UNITS
    from release.privacy.linkage import WITHHELD
    spec = next(s for s in load_tables_policy(ROOT / "redaction_rules" / "fioe_tables.yaml").tables if s.is_noisy)
    frame = pd.DataFrame({"unit_id": ["K1", "K2"], "contacts": ["1", "6"], "neighbourhood": ["DORCHESTER", None]})
    frame.attrs[MERGED_UNITS] = True
    for splits in (0, 1):
        frame.attrs[SPLIT_UNITS] = splits
        result = build_tables({spec.source: frame}, [spec], dataset="fioe", year=2020, rng=np.random.default_rng(0))
        withheld = [f for f in result.findings if f.code == WITHHELD]
        assert [f.count for f in withheld] == ([1] if splits else [])
        assert bool(result.spends) is not splits and (spec.name in result.tables) is not splits
        assert not [f for f in result.findings if f.severity == "blocking"]
