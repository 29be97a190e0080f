"""The five policies against the raw export contract and their expectation suites."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release.config.policy import load_policy
from release.config.tables import load_tables_policy
from release.stages.validate import DATASET_TABLES, load_suites

ROOT = Path(__file__).resolve().parents[2]
# design/raw-exports.md, written out: (raw file, columns, raw-only columns).
CONTRACT = {
    "shootings": ("shootings.csv",
                  ["incident_num", "shooting_date", "district", "shooting_type_v2", "victim_gender", "victim_race",
                   "victim_ethnicity_NIBRS", "multi_victim", "victim_name", "victim_dob", "incident_address",
                   "latitude", "longitude", "self_inflicted", "justifiable"],
                  {"victim_name", "victim_dob", "incident_address", "latitude", "longitude", "self_inflicted",
                   "justifiable"}),
    "shots_fired": ("shots_fired.csv",
                    ["incident_num", "incident_date", "district", "ballistics_evidence", "incident_address",
                     "latitude", "longitude", "source", "confirmed"],
                    {"incident_address", "latitude", "longitude", "source", "confirmed"}),
    "firearms": ("firearms.csv",
                 ["submission_id", "received_date", "category", "related_incident_date", "serial_number",
                  "owner_name"], {"serial_number", "owner_name"}),
    "homicide_clearance": ("homicides.csv",
                           ["case_id", "occurred_date", "ruled_homicide_date", "cleared_date", "clearance_type",
                            "victim_name", "victim_dob", "suspect_name"],
                           {"victim_name", "victim_dob", "suspect_name"}),
    "in_custody_deaths": ("in_custody_deaths.csv",
                          ["case_id", "death_date", "manner_of_death", "name", "dob", "sex", "race", "ethnicity",
                           "location", "circumstances"],
                          {"name", "dob", "sex", "race", "ethnicity", "location", "circumstances"}),
}
# years of rows the counting rule needs, and whether the record-level file is published
WINDOWS = {"shootings": (0, True), "shots_fired": (0, True), "firearms": (0, False),
           "homicide_clearance": (50, False), "in_custody_deaths": (50, False)}
DATASETS = list(CONTRACT)


def _suite(dataset: str, side: str) -> dict:
    return json.loads((ROOT / "expectations" / f"{dataset}_{side}.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("dataset", DATASETS)
def test_policy_names_every_contract_column(dataset: str) -> None:
    raw_file, columns, raw_only = CONTRACT[dataset]
    policy = load_policy(ROOT / "redaction_rules" / f"{dataset}.yaml")
    (file_policy,) = policy.files.values()
    assert file_policy.raw_file == raw_file
    assert list(file_policy.raw_columns()) == columns  # derived columns are not read from an export
    assert set(file_policy.raw_only_columns()) == raw_only
    assert (file_policy.years_before, file_policy.publish) == WINDOWS[dataset]


@pytest.mark.parametrize("dataset", DATASETS)
def test_suites_cover_the_policy(dataset: str) -> None:
    policy = load_policy(ROOT / "redaction_rules" / f"{dataset}.yaml")
    ((name, file_policy),) = policy.files.items()
    for side in ("raw", "public"):
        document = load_suites(ROOT / "expectations" / f"{dataset}_{side}.json")  # tables from DATASET_TABLES
        assert set(document["tables"]) <= set(DATASET_TABLES[dataset])
    raw = _suite(dataset, "raw")["tables"][name]["expectations"]
    # required columns are the loader's to refuse (exit 4): a raw existence check could never fail
    assert not any(e["type"] == "expect_column_to_exist" for e in raw)
    public = _suite(dataset, "public")["tables"][name]["expectations"]
    absent = {e["kwargs"]["column"] for e in public if e["type"] == "expect_column_to_not_exist"}
    assert absent == set(file_policy.raw_only_columns())
    ordered = next(e for e in public if e["type"] == "expect_table_columns_to_match_ordered_list")
    assert ordered["kwargs"]["column_list"] == file_policy.public_columns()
    assert all(e["meta"]["level"] == "critical" for e in public if e["kwargs"].get("column") == "_raw_value_leak")
    assert any(e["kwargs"].get("column") == "_raw_value_leak" for e in public)


def test_shootings_tables_declaration_loads() -> None:
    policy = load_policy(ROOT / "redaction_rules" / "shootings.yaml")
    assert policy.tables_file == "shootings_tables.yaml"
    tables = load_tables_policy(ROOT / "redaction_rules" / policy.tables_file).tables
    assert [(t.name, t.source, t.mechanism) for t in tables] == [
        ("shootings_victims_by_district_type", "victims", "summary")]  # the victims file gives it (issue #12)
