"""YouthConnect: three partner aggregates -> counting rows -> noisy tables, budgets composed
over years by the ledger. Guarantees, never noisy values."""

from __future__ import annotations

import csv
import io
import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from conftest import invoke

from release.build.tables import build_tables, planned_spends
from release.bundle.read import read_manifest
from release.config.policy import DatasetPolicy, load_policy
from release.config.privacy import load_privacy_policy
from release.config.tables import load_tables_policy
from release.datasets import DeriveContext, Derived, deriver
from release.errors import BudgetError, ConfigError, InputError
from release.keys.hmac import Tokenizer
from release.model import Finding
from release.privacy.ledger import Charge, Ledger, spent_by_unit
from release.stages import noise
from release.stages.generalize import generalize
from release.stages.load import load_export
from release.stages.tabulate import kept_axes, tabulate
from release.stages.validate import DATASET_TABLES, load_suites
from release.synth import youthconnect as synth
from release.synth.__main__ import main as synth_main

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "redaction_rules"
SAMPLE = ROOT / "release" / "samples" / "youthconnect" / "2020"
TOKENIZER = Tokenizer(b"y" * 64)
CONTRACT = {  # design/raw-exports.md, written out
    "referrals": ("youthconnect_referrals.csv", ["month", "referral_reason", "referrals"], 1),
    "referral_totals": ("youthconnect_referral_totals.csv", ["month", "youth_referred"], 2),
    "demographics": ("youthconnect_demographics.csv",
                     ["year", "age_band", "sex", "race", "ethnicity", "clients"], 0),
}
FILES = [CONTRACT[name][0] for name in CONTRACT]
TABLES = ["youthconnect_referrals_by_month", "youthconnect_referral_reasons", "youthconnect_referral_reason_groups",
          "youthconnect_clients_by_age_sex", "youthconnect_clients_by_race_ethnicity"]
REASONS = ["Family conflict", "School issues", "Substance use", "Mental health", "Violence exposure", "Other"]
COUNT_COLUMNS = {"referrals", "youth_referred", "clients"}


def specs() -> list[Any]:
    return list(load_tables_policy(RULES / "youthconnect_tables.yaml").tables)


def spec_named(name: str) -> Any:
    return next(s for s in specs() if s.name == name)


# ---- tiny exports run through load -> generalize -> derive ---------------------------

@dataclass(frozen=True)
class Run:
    derived: Derived
    findings: tuple[Finding, ...]

    def codes(self, severity: str) -> list[str]:
        return [f.code for f in self.findings if f.severity == severity]


def _write(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows([{c: r.get(c, "") for c in columns} for r in rows])


def reason(month: str, what: str, n: int | str) -> dict[str, str]:
    return {"month": month, "referral_reason": what, "referrals": str(n)}


def total(month: str, n: int | str) -> dict[str, str]:
    return {"month": month, "youth_referred": str(n)}


def cell(age: str = "15-17", sex: str = "Female", race: str = "Black", ethnicity: str = "Not Hispanic or Latino",
         n: int | str = 4, year: str = "2020") -> dict[str, str]:
    return {"year": year, "age_band": age, "sex": sex, "race": race, "ethnicity": ethnicity, "clients": str(n)}


@pytest.fixture()
def run_yc(tmp_path: Path) -> Any:
    counter = iter(range(1000))

    def run(reasons: Sequence[dict[str, str]], totals: Sequence[dict[str, str]],
            cells: Sequence[dict[str, str]] = (), year: int = 2020, **rules: object) -> Run:
        policy: DatasetPolicy = load_policy(RULES / "youthconnect.yaml")
        if rules:
            policy = policy.model_copy(update={"dataset_rules": {**policy.dataset_rules, **rules}})
        folder = tmp_path / f"raw{next(counter)}"
        for (file, columns, _), rows in zip(CONTRACT.values(), (reasons, totals, cells or [cell()]), strict=True):
            _write(folder / file, columns, rows)
        loaded = load_export(folder, policy, year)
        public, found, _ = generalize(loaded.tables, policy, frozenset(), TOKENIZER)
        derive = deriver("youthconnect")
        assert derive is not None
        derived = derive(DeriveContext("youthconnect", year, policy, loaded.tables, public, TOKENIZER))
        return Run(derived, tuple(loaded.findings) + tuple(found) + tuple(derived.findings))
    return run


def consistent_year(year: int = 2020, youth: int = 10) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Every month of the windows: ``youth`` referred, 1.5 reasons each (within the bound)."""
    reasons, totals = [], []
    for y in range(year - 2, year + 1):
        for m in range(1, 13):
            month = f"{y}-{m:02d}"
            totals.append(total(month, youth))
            reasons += [reason(month, "Family conflict", youth), reason(month, "School issues", youth // 2)]
    return reasons, totals


# ---- the policy, its suites and its codebooks ----------------------------------------

@pytest.mark.parametrize("name", list(CONTRACT))
def test_policy_names_every_contract_column_and_publishes_no_raw_file(name: str) -> None:
    file, columns, years_before = CONTRACT[name]
    file_policy = load_policy(RULES / "youthconnect.yaml").files[name]
    assert (file_policy.raw_file, list(file_policy.columns)) == (file, columns)
    assert file_policy.required_columns() == columns
    assert (file_policy.publish, file_policy.years_before) == (False, years_before)
    assert file_policy.raw_only_columns() == {}


@pytest.mark.parametrize("side", ["raw", "public"])
def test_suites_cover_every_file(side: str) -> None:
    policy = load_policy(RULES / "youthconnect.yaml")
    document = load_suites(ROOT / "expectations" / f"youthconnect_{side}.json")
    assert set(document["tables"]) == set(policy.files) == set(DATASET_TABLES["youthconnect"])
    for name, file_policy in policy.files.items():
        checks = document["tables"][name]["expectations"]
        if side == "raw":  # required columns are the loader's to refuse: an existence check could never fail
            assert not any(e["type"] == "expect_column_to_exist" for e in checks)
        else:
            ordered = next(e for e in checks if e["type"] == "expect_table_columns_to_match_ordered_list")
            assert ordered["kwargs"]["column_list"] == file_policy.public_columns()
            assert any(e["kwargs"].get("column") == "_raw_value_leak" for e in checks)


def test_every_reason_is_in_exactly_one_group_and_codebooks_agree() -> None:
    policy = load_policy(RULES / "youthconnect.yaml")
    domain = policy.files["referrals"].columns["referral_reason"].domain  # type: ignore[union-attr]
    reasons = spec_named("youthconnect_referral_reasons").dimensions[0]
    groups = spec_named("youthconnect_referral_reason_groups").dimensions[0]
    assert list(domain) == list(reasons.categories) == REASONS
    assert groups.source_column == "referral_reason"
    lookup = groups.lookup()
    assert {r: lookup[r.casefold()] for r in REASONS} == {
        "Family conflict": "Family", "School issues": "School", "Substance use": "Health",
        "Mental health": "Health", "Violence exposure": "Safety", "Other": "Other"}
    assert set(lookup[r.casefold()] for r in REASONS) == set(groups.categories)   # no empty group
    demo_specs = [spec_named("youthconnect_clients_by_age_sex"), spec_named("youthconnect_clients_by_race_ethnicity")]
    for dim in (d for s in demo_specs for d in s.dimensions):
        rule = policy.files["demographics"].columns[dim.name]
        assert set(rule.domain) == set(dim.categories)  # type: ignore[union-attr]


# ---- declared bounds: the partner's statements, scaled to each table's window ---------

def _expected_bounds(name: str, reasons: int, months: int) -> tuple[int, int, int]:
    """Per calendar year: each table is measured one year at a time (issue #12: a month once)."""
    largest_group = 2                                  # Health: Substance use + Mental health
    return {"youthconnect_referrals_by_month": (months, months, 1),
            "youthconnect_referral_reasons": (months * reasons, months * reasons, months),
            "youthconnect_referral_reason_groups": (months * reasons, months * reasons,
                                                    months * min(reasons, largest_group)),
            "youthconnect_clients_by_age_sex": (1, 1, 1),
            "youthconnect_clients_by_race_ethnicity": (1, 1, 1)}[name]


WINDOW = {TABLES[0]: 3, TABLES[1]: 2, TABLES[2]: 2, TABLES[3]: None, TABLES[4]: None}


@pytest.mark.parametrize("table", TABLES)
def test_declared_bounds_equal_the_partner_rules_scaled(table: str) -> None:
    rules = load_policy(RULES / "youthconnect.yaml").dataset_rules
    spec = spec_named(table)
    assert (spec.privacy_unit_name, spec.mechanism, spec.bounds) == ("person", "discrete_gaussian", "declared")
    assert (spec.per_year.years if spec.per_year else None) == WINDOW[table]
    assert (spec.max_rows_per_unit, spec.max_cells_per_unit, spec.rows_per_cell) == _expected_bounds(
        table, int(rules["max_reasons_per_youth"]), int(rules["max_referral_months_per_youth_per_year"]))  # type: ignore[call-overload]


SENSITIVITY = {TABLES[0]: (2, 2), TABLES[1]: (6, 12), TABLES[2]: (6, 20), TABLES[3]: (4, 4), TABLES[4]: (4, 4)}


@pytest.mark.parametrize("table", TABLES)
def test_sensitivity_and_privacy_map_hold_the_declared_rho(table: str) -> None:
    spec = spec_named(table)
    shape = tuple(len(d.model_copy(update={"years_back": 0}).codebook(2020)) for d in spec.dimensions)  # one year
    dims = tuple(d.name for d in spec.dimensions)
    levels = [kept_axes(dims, level) for level in spec.levels()]
    bounds = noise.sensitivity(shape, levels, max_rows_per_unit=spec.max_rows_per_unit,
                               max_cells_per_unit=spec.max_cells_per_unit, max_rows_per_cell=spec.rows_per_cell)
    assert (bounds.l1, bounds.l2_squared) == SENSITIVITY[table]
    size = sum(int(np.prod([shape[i] for i in axes])) for axes in levels)
    released = noise.release_noisy(np.zeros(size, dtype=np.int64), table=table, mechanism="discrete_gaussian",
                                   budget=float(spec.rho), bounds=bounds)
    assert released.privacy_loss <= spec.rho


# ---- the ledger: one unit, budgets composed over years -------------------------------

def test_spend_per_data_year_is_the_declared_rho_for_one_unit() -> None:
    spends = planned_spends(specs(), "youthconnect", 2020)
    assert {s.privacy_unit for s in spends} == {"person"}
    assert {s.table: s.rho for s in spends} == {s.name: s.rho for s in specs()}
    assert sum(s.rho for s in spends) == pytest.approx(0.075)


def test_ledger_refuses_the_year_that_would_pass_the_cap(tmp_path: Path) -> None:
    """Each release measures only the data years no release measured before (rolling windows
    re-use them); the first one measures its whole windows."""
    privacy = load_privacy_policy(RULES)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.fix_caps({"person": privacy.unit("youthconnect", "person").cap_rho}, privacy.delta)
    accepted = []
    for year in range(2016, 2040):
        wanted = {f"{s.name}:{data_year}": ("person", s.rho_spent) for s in specs()
                  for data_year in range(year - (s.per_year.years if s.per_year else 1) + 1, year + 1)}
        try:
            ledger.check_new(wanted, f"youthconnect {year}")
        except BudgetError as error:
            assert "person" in error.message and "cap" in error.message
            break
        for key, (unit, rho) in wanted.items():
            ledger.obtain(key, Charge(unit, "youthconnect", key, year, year, "discrete_gaussian", rho, None, "r"),
                          lambda: {"noisy_values": []})
        accepted.append(year)
    assert accepted == list(range(2016, 2028))        # 0.16 + 11 x 0.075 = 0.985 <= 1.0 < 1.06
    assert spent_by_unit(ledger.entries())["person"] == pytest.approx(0.985)


# ---- derive: expansion, windows, the partner's bound ----------------------------------

def test_expansion_gives_back_the_partner_counts_one_row_per_unit(run_yc: Any) -> None:
    reasons, totals = consistent_year()
    cells = [cell(n=3), cell("12-14", "M", "Black or African American", "Hispanic", n=2), cell(n=7, year="2019")]
    run = run_yc(reasons, totals, cells)
    frames = run.derived.table_frames
    assert list(frames["referrals"].columns) == ["unit_id", "month"]
    assert list(frames["reasons"].columns) == ["unit_id", "month", "referral_reason"]
    assert list(frames["clients"].columns) == ["unit_id", "age_band", "sex", "race", "ethnicity"]
    assert len(frames["referrals"]) == 36 * 10 and frames["referrals"]["month"].min() == "2018-01"
    assert len(frames["reasons"]) == 24 * 15 and frames["reasons"]["month"].min() == "2019-01"
    assert len(frames["clients"]) == 5                # 3 + 2 clients of 2020; the 2019 row is not loaded
    assert sorted(map(tuple, frames["clients"].drop(columns="unit_id").drop_duplicates().to_numpy().tolist())) == [
        ("12-14", "Male", "Black", "Hispanic or Latino"), ("15-17", "Female", "Black", "Not Hispanic or Latino")]
    for frame in frames.values():                      # each placeholder unit holds one row
        assert frame["unit_id"].is_unique
    assert run.codes("blocking") == []


@pytest.mark.parametrize(
    ("counted", "youth", "code", "severity"),
    [(31, 10, "reasons_outside_bound", "blocking"),      # above 3 reasons per youth: the bound is false
     (30, 10, None, None),                               # exactly 3 per youth
     (10, 10, None, None),                               # one each
     (9, 10, "reasons_below_youth", "warning"),          # a youth without a reason
     (4, 0, "reasons_outside_bound", "blocking")],       # reasons in a month with no youth
    ids=["above", "at-bound", "one-each", "below", "no-youth"])
def test_partner_counts_are_checked_against_the_reasons_bound(run_yc: Any, counted: int, youth: int,
                                                              code: str | None, severity: str | None) -> None:
    reasons, totals = consistent_year()
    reasons = [r for r in reasons if r["month"] != "2020-06"] + [reason("2020-06", "Other", counted)]
    totals = [t for t in totals if t["month"] != "2020-06"] + [total("2020-06", youth)]
    run = run_yc(reasons, totals)
    found = [f for f in run.findings if f.code in ("reasons_outside_bound", "reasons_below_youth")]
    if code is None:
        assert found == []
    else:
        assert [(f.code, f.severity, f.count, f.row_keys, f.column) for f in found] == [
            (code, severity, 1, ("2020-06",), "referrals")]
        assert str(counted) not in found[0].message.replace("(3)", "")


def test_a_smaller_declared_bound_blocks_the_same_counts(run_yc: Any) -> None:
    reasons, totals = consistent_year()                 # 1.5 reasons per youth
    assert run_yc(reasons, totals).codes("blocking") == []
    assert set(run_yc(reasons, totals, max_reasons_per_youth=1).codes("blocking")) == {"reasons_outside_bound"}


@pytest.mark.parametrize(("raw", "counted"), [("Substance abuse", "Substance use"), ("TRUANCY", "School issues"),
                                              ("Gambling", "Other"), ("", "Other")],
                         ids=["spelling", "upper-case", "outside-codebook", "blank"])
def test_reasons_map_onto_the_codebook(run_yc: Any, raw: str, counted: str) -> None:
    reasons, totals = consistent_year()
    run = run_yc([*reasons, reason("2020-02", raw, 1)], totals)
    frame = run.derived.table_frames["reasons"]
    month = frame[frame["month"] == "2020-02"]
    spec = spec_named("youthconnect_referral_reasons")
    counts = tabulate(month, spec, 2020, np.random.default_rng(0))
    expected = {r: 0 for r in REASONS} | {"Family conflict": 10, "School issues": 5}   # consistent_year's month
    expected[counted] += 1
    assert dict(zip(counts.categories[0], counts.counts.tolist(), strict=True)) == expected


@pytest.mark.parametrize(
    ("file", "row", "code", "column"),
    [("reasons", reason("2020-03", "Other", "x"), "count_unusable", "referrals"),
     ("cells", cell(n=""), "count_unusable", "clients"),
     ("reasons", reason("2020-01", "Family", 2), "cell_listed_twice", "referral_reason")],
    ids=["text-count", "blank-count", "listed-twice"])
def test_unusable_partner_rows_block(run_yc: Any, file: str, row: dict[str, str], code: str, column: str) -> None:
    reasons, totals = consistent_year()
    cells = [cell()]
    {"reasons": reasons, "totals": totals, "cells": cells}[file].append(row)
    run = run_yc(reasons, totals, cells)
    blocking = [f for f in run.findings if f.severity == "blocking"]
    assert code in [f.code for f in blocking] and column in [f.column for f in blocking]


def test_month_key_not_of_its_format_is_an_input_error(run_yc: Any) -> None:
    """A month is the totals file's row key: one not of its format (2020-13) stops the load,
    naming the line (it used to reach the dataset module as ``period_unreadable``)."""
    reasons, totals = consistent_year()
    with pytest.raises(InputError) as caught:
        run_yc(reasons, [*totals, total("2020-13", 4)], [cell()])
    assert "column month, rule key-format" in str(caught.value) and "2020-13" not in str(caught.value)


def test_windows_before_the_partner_data_and_empty_months_warn(run_yc: Any) -> None:
    reasons, totals = consistent_year(2017)
    run = run_yc(reasons[12:], totals[12:], [cell(year="2017")], year=2017)   # no 2015 rows
    warnings = {f.code: f for f in run.findings if f.severity == "warning"}
    assert warnings["window_before_first_year"].rule == "dataset_rules.first_year"
    assert warnings["months_without_rows"].count == 12
    assert run.codes("blocking") == []


@pytest.mark.parametrize(("rules", "key"),
                         [({"max_reasons_per_youth": 0}, "dataset_rules.max_reasons_per_youth"),
                          ({"max_referral_months_per_youth_per_year": 13},
                           "dataset_rules.max_referral_months_per_youth_per_year"),
                          ({"reasons_cap": 2}, "dataset_rules.reasons_cap")],
                         ids=["zero-reasons", "thirteen-months", "unknown-key"])
def test_bad_dataset_rules_name_the_key(run_yc: Any, rules: dict[str, object], key: str) -> None:
    reasons, totals = consistent_year()
    with pytest.raises(ConfigError) as caught:
        run_yc(reasons, totals, **rules)
    assert caught.value.message.startswith(key) and caught.value.file == "youthconnect.yaml"


# ---- the tables path on the expanded frames -------------------------------------------

def test_tabulation_keeps_every_row_and_groups_follow_the_codebook(run_yc: Any) -> None:
    reasons, totals = consistent_year()
    extra = [reason("2020-04", "Substance use", 3), reason("2020-04", "Mental health", 2)]
    run = run_yc([*reasons, *extra], totals)
    rng = np.random.default_rng(0)
    exact = {}
    for spec in specs():
        counts = tabulate(run.derived.table_frames[spec.source], spec, 2020, rng)
        assert (counts.rows_dropped, counts.rows_without_unit, counts.rows_outside_period) == (0, 0, 0)
        profile = counts.profile
        assert (profile.max_rows_per_unit, profile.max_cells_per_unit, profile.max_rows_per_cell) == (1, 1, 1)
        one_way = len(counts.shape) == 1
        exact[spec.name] = dict(zip(counts.categories[0], counts.counts.tolist(), strict=True)) if one_way else None
    groups, by_reason = exact["youthconnect_referral_reason_groups"], exact["youthconnect_referral_reasons"]
    assert groups == {"Family": 240, "School": 120, "Health": 5, "Safety": 0, "Other": 0}   # before noise
    assert by_reason["Substance use"] + by_reason["Mental health"] == groups["Health"]


def test_tables_are_long_form_with_every_category(run_yc: Any) -> None:
    reasons, totals = consistent_year()
    run = run_yc(reasons, totals, [cell()])
    result = build_tables(run.derived.table_frames, specs(), dataset="youthconnect", year=2020)
    sizes = {TABLES[0]: 36, TABLES[1]: 6, TABLES[2]: 5, TABLES[3]: 5 * 4 + 5 + 4 + 1, TABLES[4]: 6 * 3 + 6 + 3 + 1}
    for spec in specs():
        table = result.tables[spec.name]
        dims = [d.name for d in spec.dimensions]
        assert list(table.columns) == [*dims, "value", "lower", "upper", "status"]
        assert len(table) == sizes[spec.name] and not table[dims].duplicated().any()
        for dim in spec.dimensions:                    # every category, zeros included
            assert set(dim.codebook(2020)) <= set(table[dim.name])
        assert (table["status"] == "noisy").all() and (table["value"] >= 0).all()
        assert ((table["lower"] <= table["value"]) & (table["value"] <= table["upper"])).all()
    assert all(m["privacy_loss"] <= m["declared_budget"] for m in result.measurements)


# ---- synthetic export ------------------------------------------------------------------

def test_bundled_sample_equals_a_fresh_write(tmp_path: Path) -> None:
    assert [p.name for p in synth.write_sample(tmp_path)] == FILES
    for file in FILES:
        assert (tmp_path / file).read_bytes() == (SAMPLE / file).read_bytes()
    assert "**Everything in this folder is synthetic.**" in (SAMPLE / "README.md").read_text(encoding="utf-8")


def _read(file: str) -> list[dict[str, str]]:
    with (SAMPLE / file).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_sample_is_consistent_with_the_declared_bounds() -> None:
    totals = {r["month"]: int(r["youth_referred"]) for r in _read(FILES[1])}
    counted: dict[str, int] = {}
    for r in _read(FILES[0]):
        counted[r["month"]] = counted.get(r["month"], 0) + int(r["referrals"])
    assert set(totals) == set(counted) == {f"{y}-{m:02d}" for y in range(2016, 2021) for m in range(1, 13)}
    assert all(totals[m] <= counted[m] <= 3 * totals[m] for m in totals)
    assert 10 <= min(totals.values()) and max(totals.values()) <= 100          # tens a month
    years = {r["year"] for r in _read(FILES[2])}
    assert years == {str(y) for y in range(2016, 2021)}


def test_seed_fixes_the_rows() -> None:
    generate = synth.generate_youthconnect
    assert generate(2020, seed=5, first_year=2019) == generate(2020, seed=5, first_year=2019)
    assert generate(2020, seed=5, first_year=2019) != generate(2020, seed=6, first_year=2019)


def test_synth_command_line_writes_the_three_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synth_main(["youthconnect", "2020", str(tmp_path), "--first-year", "2020", "--youth", "8"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[:3] == [str(tmp_path / f) for f in FILES]
    lines = sum(len((tmp_path / f).read_text(encoding="utf-8").splitlines()) - 1 for f in FILES)
    assert out[3] == f"{lines} rows"


def test_release_sample_writes_the_three_files(tmp_path: Path) -> None:
    code, stdout, _ = invoke("sample", "youthconnect", "2020", "--out", str(tmp_path), "--json")
    assert code == 0 and json.loads(stdout)["files"] == FILES
    assert all((tmp_path / f).read_bytes() == (SAMPLE / f).read_bytes() for f in FILES)


# ---- end to end through the CLI: two years, one ledger --------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("youthconnect-out")
    for year in ("2019", "2020"):
        code, stdout, stderr = invoke("youthconnect", year, "--input", str(SAMPLE), "--out", str(out), "--json")
        assert code == 0, stdout + stderr
    return out


@pytest.mark.shared_ledger
def test_budget_charges_each_data_year_once(built: Path) -> None:
    """2019 then 2020 from the same partner files: the 2020 release re-uses every year the 2019
    release measured (2018 and 2019) and pays for 2020 alone (issue #12: a month is measured once)."""
    code, stdout, _ = invoke("budget", "youthconnect", "--out", str(built), "--json")
    report = json.loads(stdout)
    assert code == 0
    assert [(y["year"], y["privacy_unit"], round(y["rho"], 9)) for y in report["years"]] == [
        (2017, "person", 0.03), (2018, "person", 0.055), (2019, "person", 0.075), (2020, "person", 0.075)]
    (unit,) = report["units"]
    assert (unit["privacy_unit"], unit["cap_rho"]) == ("person", 1.0)
    assert unit["spent_rho_by_this_dataset"] == pytest.approx(0.235)
    code, stdout, _ = invoke("budget", "youthconnect", "--out", str(built))
    assert code == 0 and "  2019 person" in stdout and "  2020 person" in stdout


@pytest.mark.parametrize("year", ["2019", "2020"])
def test_datapackage_validates_with_typed_fields(built: Path, year: str) -> None:
    from conftest import valid_typed_package
    valid_typed_package(built / "youthconnect" / year / "public")


@pytest.mark.parametrize("year", ["2019", "2020"])
def test_bundles_publish_noisy_tables_only(built: Path, year: str) -> None:
    bundle = built / "youthconnect" / year
    public = bundle / "public"
    assert sorted(p.name for p in public.iterdir()) == ["datapackage.json", "privacy.json", "privacy.md", "tables"]
    assert sorted(p.name for p in (public / "tables").iterdir()) == sorted(f"{t}.csv" for t in TABLES)
    for table in (public / "tables").iterdir():
        header = next(csv.reader(io.StringIO(table.read_text(encoding="utf-8"))))
        assert header[-4:] == ["value", "lower", "upper", "status"] and not set(header) & COUNT_COLUMNS
    months = next(csv.DictReader(io.StringIO((public / "tables" / f"{TABLES[0]}.csv").read_text(encoding="utf-8"))))
    assert months["month"] == f"{int(year) - 2}-01"    # the window moves with the release year
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["privacy"]["rho_spent"] == {"person": pytest.approx(0.16)}  # 3 + 2 + 2 + 1 + 1 measurements
    charged = read_manifest(bundle)["privacy"]["rho_charged_by_this_build"]  # the build's history: private part
    assert charged == ({"person": pytest.approx(0.16)} if year == "2019" else {"person": pytest.approx(0.075)})
    assert all(m["privacy_loss"] <= m["declared_budget"] for m in manifest["privacy"]["measurements"])
    assert {Path(o["path"]).name for o in manifest["outputs"]}.isdisjoint(FILES)


def test_the_cap_refuses_a_release_through_the_cli(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    privacy = rules / "privacy.yaml"
    document = yaml.safe_load(privacy.read_text(encoding="utf-8"))
    document["units"]["person"]["cap_rho"] = 0.2              # room for the first release (0.16), not for 0.075 more
    privacy.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    common = ("--input", str(SAMPLE), "--out", str(tmp_path / "out"), "--rules", str(rules), "--json")
    assert invoke("youthconnect", "2019", *common)[0] == 0
    code, stdout, stderr = invoke("youthconnect", "2020", *common)
    assert code == 6 and "person" in stderr and "cap" in stderr
    bundle = tmp_path / "out" / "youthconnect" / "2020"   # a blocked bundle: nothing publishable, nothing drawn
    assert json.loads((bundle / "manifest.json").read_text())["status"] == "blocked"
    assert not (bundle / "public").exists()
    assert json.loads(stdout)["blocking"][0]["code"] == "budget_refused"
    report = json.loads(invoke("budget", "youthconnect", "--out", str(tmp_path / "out"), "--json")[1])
    assert [(y["year"], round(y["rho"], 9)) for y in report["years"]] == [(2017, 0.03), (2018, 0.055), (2019, 0.075)]


@pytest.mark.parametrize("name", list(CONTRACT))
def test_missing_required_column_blocks_naming_file_and_column(tmp_path: Path, name: str) -> None:
    file, columns, _ = CONTRACT[name]
    folder = tmp_path / "raw"
    shutil.copytree(SAMPLE, folder)
    dropped = columns[-1]
    with (SAMPLE / file).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    _write(folder / file, columns[:-1], [{c: r[c] for c in columns[:-1]} for r in rows])
    code, _, stderr = invoke("youthconnect", "2020", "--input", str(folder), "--out", str(tmp_path / "out"))
    assert code == 4
    assert stderr.strip() == f"error: file {file}, line 1, column {dropped}, rule required: required column is missing"
    assert not (tmp_path / "out" / "youthconnect" / "2020").exists()
