"""The synthetic raw exports of the five incident datasets and their bundled samples."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from release.synth import firearms, homicide_clearance, in_custody_deaths, shootings, shots_fired
from release.synth.__main__ import main as synth_main

ROOT = Path(__file__).resolve().parents[2]
# dataset -> (module, generate, file, date column, first year of the bundled sample, a raw-only column)
GENERATORS: dict[str, tuple[ModuleType, Callable[..., list[dict[str, str]]], str, str, int, str]] = {
    "shootings": (shootings, shootings.generate_shootings, "shootings.csv", "shooting_date", 2016, "victim_name"),
    "shots_fired": (shots_fired, shots_fired.generate_shots_fired, "shots_fired.csv", "incident_date", 2016,
                    "incident_address"),
    "firearms": (firearms, firearms.generate_firearms, "firearms.csv", "received_date", 2016, "serial_number"),
    "homicide_clearance": (homicide_clearance, homicide_clearance.generate_homicides, "homicides.csv",
                           "occurred_date", 2006, "victim_name"),
    "in_custody_deaths": (in_custody_deaths, in_custody_deaths.generate_custody_deaths, "in_custody_deaths.csv",
                          "death_date", 2014, "circumstances"),
}
DATASETS = list(GENERATORS)


@pytest.mark.parametrize("dataset", DATASETS)
def test_bundled_sample_equals_a_fresh_write(dataset: str, tmp_path: Path) -> None:
    module, _, file, *_ = GENERATORS[dataset]
    module.write_sample(tmp_path)
    sample = ROOT / "release" / "samples" / dataset / "2020"
    assert (tmp_path / file).read_bytes() == (sample / file).read_bytes()
    assert "**Everything in this folder is synthetic.**" in (sample / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("dataset", DATASETS)
def test_sample_covers_the_years_and_carries_raw_only_values(dataset: str) -> None:
    _, _, file, date_column, first_year, raw_only = GENERATORS[dataset]
    with (ROOT / "release" / "samples" / dataset / "2020" / file).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    years = {row[date_column][:4] for row in rows}
    expected = {str(y) for y in range(first_year, 2021)}
    assert years <= expected and (min(years), max(years)) == (str(first_year), "2020")
    if dataset != "in_custody_deaths":   # which has a year without deaths on purpose
        assert years == expected
    assert sum(1 for row in rows if row[raw_only]) >= len(rows) // 3


@pytest.mark.parametrize("dataset", DATASETS)
def test_seed_fixes_the_rows(dataset: str) -> None:
    generate = GENERATORS[dataset][1]
    assert generate(2020, seed=5, first_year=2019) == generate(2020, seed=5, first_year=2019)
    assert generate(2020, seed=5, first_year=2019) != generate(2020, seed=6, first_year=2019)


def test_in_custody_sample_has_a_year_without_deaths() -> None:
    rows = in_custody_deaths.generate_custody_deaths(2020, seed=2020)
    years = {row["death_date"][:4] for row in rows}
    assert {str(y) for y in range(2016, 2021)} - years          # a zero year for the table to show


@pytest.mark.parametrize(
    ("dataset", "options", "rows"),
    [("shootings", ["--incidents", "3", "--first-year", "2020"], None),
     ("shots_fired", ["--reports", "4", "--first-year", "2020"], 4),
     ("firearms", ["--crime-guns", "30", "--first-year", "2020"], None),
     ("homicide_clearance", ["--cases", "5", "--first-year", "2019"], None),
     ("in_custody_deaths", ["--seed", "3"], None)],
    ids=DATASETS)
def test_command_line_writes_the_export(dataset: str, options: list[str], rows: int | None, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert synth_main([dataset, "2020", str(tmp_path), *options]) == 0
    file = tmp_path / GENERATORS[dataset][2]
    written = file.read_text(encoding="utf-8").splitlines()
    assert capsys.readouterr().out.splitlines() == [str(file), f"{len(written) - 1} rows"]
    if rows is not None:
        assert len(written) - 1 == rows
