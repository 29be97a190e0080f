"""Issue #12, "cells an LP attacker over all published years narrows below protection: 0", on
releases that really suppress. The shipped releases hide nothing (their exact tables are
summaries of public files), so the figure read "0 of 0". Here a department publishes shootings as
tables only (``benchmarks/bench_attacks.py``, ``tables_only_rules``: no victim-level file, victims
by district and month over a 24-month window, counts of 1 to 3 hidden): 2019 and 2020 are built
through the CLI from one synthetic export, then 2019 again once 2020 is out. The attacker is the
bench's, written apart from the library: every year's tables, linked on the months they share,
min and max of every hidden cell, judged on the declared width and protection levels."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import invoke

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
import bench_attacks as bench  # noqa: E402

pytestmark = pytest.mark.slow  # two years built through the CLI, then the LP attacker: ~35 s before the first test

TABLE = "shootings_victims_by_district_month"


@pytest.fixture(scope="module")
def tables_only(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(rules, raw export, releases folder) of the tables-only shootings releases."""
    folder = tmp_path_factory.mktemp("tables-only")
    rules = bench.tables_only_rules(folder / "rules")
    raw = folder / "raw"
    code, _, stderr = invoke("sample", "shootings", bench.TABLES_ONLY_YEARS[1], "--out", str(raw),
                             "--seed", bench.TABLES_ONLY_SEED, "--json")
    assert code == 0, stderr
    out = folder / "out"
    for year in bench.TABLES_ONLY_YEARS:  # 2019, 2020, then 2019 rebuilt against the published 2020
        code, stdout, stderr = invoke("shootings", year, "--input", str(raw), "--rules", str(rules),
                                      "--out", str(out), "--json")
        assert code == 0 and json.loads(stdout)["status"] == "draft", stdout + stderr
    return rules, raw, out


def _truth(tables_only: tuple[Path, Path, Path]) -> bench.Truth:
    rules, raw, _ = tables_only
    return bench.true_cells(rules, raw, "shootings", {2019, 2020})


def test_no_suppressed_cell_of_any_year_is_narrowed_below_its_protection(
        tables_only: tuple[Path, Path, Path]) -> None:
    releases = bench.read_releases(tables_only[2])
    assert sorted(p.year for p in releases) == [2019, 2020]
    assert all(not p.files and list(p.tables) == [TABLE] for p in releases)  # tables only, as the variant says
    declared = {"family": "shootings_victims_by_month", **bench.TABLES_ONLY_SUPPRESSION}
    assert all(p.privacy[TABLE]["suppression"] == declared for p in releases)  # what the attacker judges by
    figure = bench.lp_attack(releases, _truth(tables_only))["shootings"]
    assert figure.hidden >= 1 and figure.levels == figure.hidden  # every hidden cell judged on its levels too
    assert (figure.narrowed, figure.unproven, figure.cells) == (0, 0, [])


def test_a_later_year_that_shows_what_an_earlier_one_hid_is_caught(
        tables_only: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """The attacker is not vacuous: a 2020 release that printed the exact 2019 counts the 2019
    release hid gives each of those cells back, and the attacker, linking the years, says so."""
    out = Path(shutil.copytree(tables_only[2], tmp_path / "out"))
    truth = _truth(tables_only)
    path = out / "shootings" / "2020" / "public" / "tables" / f"{TABLE}.csv"
    shown = pd.read_csv(path, dtype=str, keep_default_na=False)
    cells = (shown["district"] != "All") & shown["month"].str.startswith("2019-")
    for r in shown.index[cells]:
        value = str(truth[("shootings", 2020, TABLE)][f"{shown.at[r, 'district']}|{shown.at[r, 'month']}"])
        shown.loc[r, ["value", "lower", "upper", "status"]] = [value, value, value, "exact"]
    shown.to_csv(path, index=False)
    earlier = pd.read_csv(out / "shootings" / "2019" / "public" / "tables" / f"{TABLE}.csv", dtype=str,
                          keep_default_na=False)
    given_back = earlier[(earlier["status"] == "suppressed") & (earlier["district"] != "All")
                         & earlier["month"].str.startswith("2019-")]
    figure = bench.lp_attack(bench.read_releases(out), truth)["shootings"]
    assert len(given_back) >= 1
    for _, row in given_back.iterrows():
        assert any(c.startswith(f"2019 {TABLE} {row['district']}|{row['month']}: ") for c in figure.cells)
    assert figure.narrowed >= len(given_back)
