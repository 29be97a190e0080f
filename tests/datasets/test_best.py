"""BEST: partner aggregates -> counting rows -> noisy tables. Guarantees, never noisy values."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import invoke

from release.build.tables import build_tables
from release.bundle.read import read_manifest
from release.config.policy import load_policy
from release.config.privacy import load_privacy_policy
from release.config.tables import load_tables_policy
from release.errors import ConfigError
from release.stages import noise
from release.stages.tabulate import kept_axes, tabulate
from release.stages.validate import load_suites
from release.synth import best as synth_best
from release.synth.__main__ import main as synth_main

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "redaction_rules"
SAMPLE = ROOT / "release" / "samples" / "best" / "2020"
COLUMNS = ["month", "district", "co_responded_incidents", "proactive_engagements_followups"]
DISTRICTS = ["A1", "A7", "A15", "B2", "B3", "C6", "C11", "D4", "D14", "E5", "E13", "E18", "Unknown"]
TABLES = ["best_co_responded_incidents_by_district_month", "best_co_responded_incidents_by_month",
          "best_followups_by_district_month", "best_followups_by_month"]
MEASURE_OF = {TABLES[0]: "co_responded_incidents", TABLES[1]: "co_responded_incidents",
              TABLES[2]: "proactive_engagements_followups", TABLES[3]: "proactive_engagements_followups"}
RULE_OF = {"co_responded_incidents": "max_incidents_per_client_per_month",
           "proactive_engagements_followups": "max_followups_per_client_per_month"}


def row(month: str = "2020-03", district: str = "B2", incidents: str = "12", followups: str = "15") -> dict[str, str]:
    return {"month": month, "district": district, "co_responded_incidents": incidents,
            "proactive_engagements_followups": followups}


def specs() -> list[Any]:
    return list(load_tables_policy(RULES / "best_tables.yaml").tables)


# ---- the policy and its suites --------------------------------------------------------

def test_policy_names_every_contract_column_and_publishes_no_raw_file() -> None:
    policy = load_policy(RULES / "best.yaml")
    ((name, file_policy),) = policy.files.items()
    assert (name, file_policy.raw_file, list(file_policy.columns)) == ("monthly", "best_monthly.csv", COLUMNS)
    assert file_policy.required_columns() == COLUMNS
    assert file_policy.publish is False and file_policy.years_before == 0
    assert file_policy.raw_only_columns() == {}       # aggregates: nothing record-level to hold back
    assert policy.tables_file == "best_tables.yaml"


def test_suites_cover_the_policy() -> None:
    file_policy = load_policy(RULES / "best.yaml").files["monthly"]
    raw = load_suites(ROOT / "expectations" / "best_raw.json")["tables"]["monthly"]["expectations"]
    # required columns are the loader's to refuse (exit 4): a raw existence check could never fail
    assert not any(e["type"] == "expect_column_to_exist" for e in raw) and file_policy.required_columns() == COLUMNS
    public = load_suites(ROOT / "expectations" / "best_public.json")["tables"]["monthly"]["expectations"]
    ordered = next(e for e in public if e["type"] == "expect_table_columns_to_match_ordered_list")
    assert ordered["kwargs"]["column_list"] == file_policy.public_columns()
    assert any(e["kwargs"].get("column") == "_raw_value_leak" and e["meta"]["level"] == "critical" for e in public)
    districts = next(e for e in public if e["type"] == "expect_column_values_to_be_in_set"
                     and e["kwargs"]["column"] == "district")
    assert districts["kwargs"]["value_set"] == list(file_policy.columns["district"].domain)  # type: ignore[union-attr]


def test_policy_codebook_is_the_tables_codebook() -> None:
    domain = load_policy(RULES / "best.yaml").files["monthly"].columns["district"].domain  # type: ignore[union-attr]
    for spec in specs():
        dims = {d.name: d for d in spec.dimensions}
        assert dims["month"].kind == "month" and dims["month"].years_back == 0
        if "district" in dims:
            assert list(dims["district"].categories) == [*domain, "Unknown"]


# ---- declared bounds: the partner's statements, scaled to the year --------------------

@pytest.mark.parametrize("table", TABLES)
def test_declared_bounds_equal_the_partner_rules_scaled_to_the_year(table: str) -> None:
    rules = load_policy(RULES / "best.yaml").dataset_rules
    per_month = int(rules[RULE_OF[MEASURE_OF[table]]])  # type: ignore[call-overload]
    spec = next(s for s in specs() if s.name == table)
    cells = 12 * per_month if "district" in table else 12
    # issue #12: one unit "person" shared with the other datasets; the bounds are the partner's, declared
    assert (spec.source, spec.privacy_unit_name, spec.mechanism, spec.bounds) == (
        MEASURE_OF[table], "person", "discrete_gaussian", "declared")
    assert (spec.max_rows_per_unit, spec.max_cells_per_unit, spec.rows_per_cell) == (12 * per_month, cells, per_month)


# hand-computed: a client puts N rows in each of 12 cells at most -> L1 12 N, L2^2 12 N^2
SENSITIVITY = {TABLES[0]: (36, 108), TABLES[1]: (36, 108), TABLES[2]: (48, 192), TABLES[3]: (48, 192)}


@pytest.mark.parametrize("table", TABLES)
def test_sensitivity_and_privacy_map_hold_the_declared_rho(table: str) -> None:
    spec = next(s for s in specs() if s.name == table)
    shape = tuple(len(d.codebook(2020)) for d in spec.dimensions)
    dims = tuple(d.name for d in spec.dimensions)
    bounds = noise.sensitivity(shape, [kept_axes(dims, level) for level in spec.levels()],
                               max_rows_per_unit=spec.max_rows_per_unit,
                               max_cells_per_unit=spec.max_cells_per_unit, max_rows_per_cell=spec.rows_per_cell)
    assert (bounds.l1, bounds.l2_squared) == SENSITIVITY[table]
    released = noise.release_noisy(np.zeros(int(np.prod(shape)), dtype=np.int64), table=table,
                                   mechanism="discrete_gaussian", budget=float(spec.rho), bounds=bounds)
    assert released.privacy_loss <= spec.rho


def test_budget_per_year_and_cap() -> None:
    policy = load_tables_policy(RULES / "best_tables.yaml")
    assert sum(s.rho_spent for s in policy.tables) == pytest.approx(0.08)
    privacy = load_privacy_policy(RULES)  # the cap is the person's, over every dataset (issue #12)
    assert (privacy.unit("best", "person").cap_rho, privacy.delta) == (1.0, 1e-9)


# ---- derive: expansion and fail-closed checks ----------------------------------------

def test_expansion_gives_back_the_partner_counts_one_row_per_unit(run_derive: Callable[..., Any]) -> None:
    rows = [row("2020-01", "A1", "3", "0"), row("2020-01", "B-2", "5", "7"), row("2020-02", "A1", "0", "2"),
            row("2019-12", "A1", "9", "9")]                       # another year: the loader drops it
    run = run_derive("best", rows)
    incidents = run.derived.table_frames["co_responded_incidents"]
    followups = run.derived.table_frames["proactive_engagements_followups"]
    assert list(incidents.columns) == ["unit_id", "month", "district"]
    assert incidents.groupby(["month", "district"]).size().to_dict() == {("2020-01", "A1"): 3, ("2020-01", "B2"): 5}
    assert followups.groupby(["month", "district"]).size().to_dict() == {("2020-01", "B2"): 7, ("2020-02", "A1"): 2}
    for frame in (incidents, followups):   # every placeholder unit holds one row: within any bound
        assert frame["unit_id"].is_unique and frame["unit_id"].notna().all()
    assert not [f for f in run.findings if f.severity == "blocking"]


@pytest.mark.parametrize(("district", "counted"), [("B-2", "B2"), (" c11 ", "C11"), ("Z9", None), ("", None)],
                         ids=["hyphen", "case-and-spaces", "outside-codebook", "blank"])
def test_districts_map_onto_the_codebook(run_derive: Callable[..., Any], district: str, counted: str | None) -> None:
    run = run_derive("best", [row(district=district, incidents="2")])
    values = run.derived.table_frames["co_responded_incidents"]["district"].tolist()
    assert values == [counted, counted]
    if counted is None:
        assert "district_unknown" in run.codes("info")


@pytest.mark.parametrize(("value", "code"), [("", "count_unusable"), ("12.5", "count_unusable"),
                                             ("-3", "count_unusable"), ("many", "count_unusable")],
                         ids=["blank", "decimal", "negative", "text"])
def test_an_unusable_count_blocks_naming_file_and_column(run_derive: Callable[..., Any], value: str,
                                                        code: str) -> None:
    run = run_derive("best", [row(incidents=value), row("2020-04", incidents="4")])
    blocking = [f for f in run.findings if f.severity == "blocking"]
    assert [(f.code, f.file, f.column, f.count, f.row_keys) for f in blocking] == [
        (code, "best_monthly.csv", "co_responded_incidents", 1, ("2020-03",))]
    assert value not in blocking[0].message or not value


def test_a_cell_listed_twice_blocks(run_derive: Callable[..., Any]) -> None:
    run = run_derive("best", [row("2020-05", "A1"), row("2020-05", "A-1"), row("2020-05", "Z9"), row("2020-05", "Z8")])
    twice = [f for f in run.findings if f.code == "cell_listed_twice"]
    assert [(f.severity, f.count) for f in twice] == [("blocking", 2)]   # the two unknown districts pool


def test_months_without_rows_are_reported(run_derive: Callable[..., Any]) -> None:
    run = run_derive("best", [row("2020-01"), row("2020-02")])
    (missing,) = [f for f in run.findings if f.code == "months_without_rows"]
    assert (missing.severity, missing.count) == ("warning", 10)


@pytest.mark.parametrize(("rules", "key"),
                         [({"max_incidents_per_client_per_month": 0}, "dataset_rules.max_incidents_per_client_per_month"),
                          ({"max_clients": 2}, "dataset_rules.max_clients")],
                         ids=["zero", "unknown-key"])
def test_bad_dataset_rules_name_the_key(run_derive: Callable[..., Any], rules: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        run_derive("best", [row()], **rules)
    assert caught.value.message.startswith(key) and caught.value.file == "best.yaml"


def test_notes_carry_no_count(run_derive: Callable[..., Any]) -> None:
    run = run_derive("best", [row(incidents="987", followups="654")])
    text = " ".join(run.derived.notes) + " ".join(f.message for f in run.findings)
    assert "987" not in text and "654" not in text


# ---- the tables path on the expanded frames -------------------------------------------

def test_tabulation_keeps_every_row_within_the_declared_bounds(run_derive: Callable[..., Any]) -> None:
    run = run_derive("best", [row("2020-01", "A1", "40", "50"), row("2020-07", "E18", "3", "0")])
    rng = np.random.default_rng(0)
    for spec in specs():
        counts = tabulate(run.derived.table_frames[spec.source], spec, 2020, rng)
        assert counts.rows_dropped == 0 and counts.rows_without_unit == 0 and counts.rows_outside_period == 0
        profile = counts.profile
        assert (profile.max_rows_per_unit, profile.max_cells_per_unit, profile.max_rows_per_cell) == (1, 1, 1)
        assert int(counts.counts.sum()) == (43 if spec.source == "co_responded_incidents" else 50)


def test_tables_are_long_form_with_every_category(run_derive: Callable[..., Any]) -> None:
    run = run_derive("best", [row("2020-01", "A1", "40", "50")])
    result = build_tables(run.derived.table_frames, specs(), dataset="best", year=2020)
    months = [f"2020-{m:02d}" for m in range(1, 13)]
    for spec in specs():
        table = result.tables[spec.name]
        dims = [d.name for d in spec.dimensions]
        assert list(table.columns) == [*dims, "value", "lower", "upper", "status"]
        expected = {(m, d) for m in months for d in DISTRICTS} if "district" in dims else {(m,) for m in months}
        assert set(map(tuple, table[dims].to_numpy().tolist())) == expected and len(table) == len(expected)
        assert (table["status"] == "noisy").all()
        assert ((table["lower"] <= table["value"]) & (table["value"] <= table["upper"]) & (table["value"] >= 0)).all()
    assert {(s.table, s.privacy_unit, s.rho) for s in result.spends} == {
        (s.name, "person", s.rho) for s in specs()}
    assert all(m["privacy_loss"] <= m["declared_budget"] for m in result.measurements)


# ---- synthetic export ------------------------------------------------------------------

def test_bundled_sample_equals_a_fresh_write(tmp_path: Path) -> None:
    synth_best.write_sample(tmp_path)
    assert (tmp_path / "best_monthly.csv").read_bytes() == (SAMPLE / "best_monthly.csv").read_bytes()
    assert "**Everything in this folder is synthetic.**" in (SAMPLE / "README.md").read_text(encoding="utf-8")


def test_sample_covers_2016_2020_with_plausible_magnitudes() -> None:
    with (SAMPLE / "best_monthly.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == COLUMNS
    assert {r["month"][:4] for r in rows} == {str(y) for y in range(2016, 2021)}
    assert len(rows) == 5 * 12 * 12                          # every month x district
    incidents = [int(r["co_responded_incidents"]) for r in rows]
    assert 5 <= min(incidents) and max(incidents) <= 400 and 30 <= float(np.mean(incidents)) <= 150


def test_seed_fixes_the_rows() -> None:
    generate = synth_best.generate_best
    assert generate(2020, seed=5, first_year=2019) == generate(2020, seed=5, first_year=2019)
    assert generate(2020, seed=5, first_year=2019) != generate(2020, seed=6, first_year=2019)


def test_synth_command_line_writes_the_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synth_main(["best", "2020", str(tmp_path), "--first-year", "2020", "--incidents", "20"]) == 0
    written = (tmp_path / "best_monthly.csv").read_text(encoding="utf-8").splitlines()
    assert capsys.readouterr().out.splitlines() == [str(tmp_path / "best_monthly.csv"), "144 rows"]
    assert len(written) == 145


def test_release_sample_writes_the_bundled_export(tmp_path: Path) -> None:
    code, stdout, _ = invoke("sample", "best", "2020", "--out", str(tmp_path), "--json")
    assert code == 0 and json.loads(stdout)["files"] == ["best_monthly.csv"]
    assert (tmp_path / "best_monthly.csv").read_bytes() == (SAMPLE / "best_monthly.csv").read_bytes()


# ---- end to end through the CLI ------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("best-out")
    code, stdout, stderr = invoke("best", "2020", "--out", str(out), "--json")   # the bundled sample
    assert code == 0, stdout + stderr
    return out, json.loads(stdout)


def test_datapackage_validates_with_typed_fields(built: tuple[Path, dict[str, Any]]) -> None:
    from conftest import valid_typed_package
    package = valid_typed_package(built[0] / "best" / "2020" / "public")
    for resource in package["resources"]:
        assert {f["name"]: f["type"] for f in resource["schema"]["fields"]}["value"] == "integer"


def test_bundle_publishes_noisy_tables_only(built: tuple[Path, dict[str, Any]]) -> None:
    out, _ = built
    public = out / "best" / "2020" / "public"
    assert sorted(p.name for p in public.iterdir()) == ["datapackage.json", "privacy.json", "privacy.md", "tables"]
    assert sorted(p.name for p in (public / "tables").iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    sample = (SAMPLE / "best_monthly.csv").read_text(encoding="utf-8")
    for table in (public / "tables").iterdir():
        text = table.read_text(encoding="utf-8")
        header = next(csv.reader(io.StringIO(text)))
        assert header[-4:] == ["value", "lower", "upper", "status"]
        assert not set(header) & {"co_responded_incidents", "proactive_engagements_followups"}
        assert sample.splitlines()[0] not in text


def test_manifest_spends_the_declared_rho(built: tuple[Path, dict[str, Any]]) -> None:
    out, _ = built
    manifest = read_manifest(out / "best" / "2020")  # with its private part (rows dropped)
    privacy = manifest["privacy"]
    assert privacy["rho_spent"] == {"person": pytest.approx(0.08)}
    assert {s["table"]: s["rho"] for s in privacy["spends"]} == {s.name: s.rho for s in specs()}
    assert all(m["privacy_loss"] <= m["declared_budget"] for m in privacy["measurements"])
    assert all(dropped == 0 for dropped in privacy["rows_dropped"].values())
    assert manifest["checks"]["blocking_findings"] == 0 and manifest["dataset_notes"]
    # the per-row placeholder units make "rows dropped 0" vacuous: the text claims the partner's bound, no more
    for table in privacy["tables"]:
        assert "conditional on the partner's declared bound" in table["privacy"]
        assert "left out" not in table["privacy"]


@pytest.mark.shared_ledger
def test_a_rebuild_of_the_same_data_charges_nothing(built: tuple[Path, dict[str, Any]]) -> None:
    out, _ = built
    code, stdout, stderr = invoke("best", "2020", "--out", str(out), "--json")
    assert code == 0, stdout + stderr
    privacy = read_manifest(out / "best" / "2020")["privacy"]  # the build's history is in the private part
    assert privacy["rho_charged_by_this_build"] == {} and all(s["reused"] for s in privacy["spends"])


@pytest.mark.shared_ledger
def test_budget_lists_the_year(built: tuple[Path, dict[str, Any]]) -> None:
    out, _ = built
    code, stdout, _ = invoke("budget", "best", "--out", str(out), "--json")
    report = json.loads(stdout)
    assert code == 0
    assert [(y["year"], y["privacy_unit"], round(y["rho"], 9)) for y in report["years"]] == [(2020, "person", 0.08)]
    assert [(u["privacy_unit"], u["cap_rho"]) for u in report["units"]] == [("person", 1.0)]


def test_missing_required_column_blocks_naming_file_and_column(tmp_path: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((SAMPLE / "best_monthly.csv").read_text(encoding="utf-8"))))
    folder = tmp_path / "raw"
    folder.mkdir()
    with (folder / "best_monthly.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS[:3], extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    code, _, stderr = invoke("best", "2020", "--input", str(folder), "--out", str(tmp_path / "out"))
    assert code == 4
    assert stderr.strip() == ("error: file best_monthly.csv, line 1, column proactive_engagements_followups, "
                              "rule required: required column is missing")
    assert not (tmp_path / "out" / "best" / "2020").exists()
