"""In-custody deaths: one exact total per year, zeros written out, nothing else published."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def death(case_id: str, when: str, manner: str = "Natural") -> dict[str, str]:
    return {"case_id": case_id, "death_date": when, "manner_of_death": manner, "name": "Ottoline Quaresma",
            "dob": "05/06/1970", "sex": "Female", "race": "White", "ethnicity": "Not Hispanic or Latinx",
            "location": "holding cell, District Q-9 station, 12 Quillfeather St",
            "circumstances": "Ottoline Quaresma was found unresponsive during a cell check."}


ROWS = [death("D15", "2015-05-05 10:00"), death("D17-1", "2017-01-01 00:05", "Suicide"),
        death("D17-2", "2017-12-31 23:55", "pending investigation"), death("D19", "2019-07-07"),
        death("D20-1", "2020-02-02"), death("D20-2", "2020-06-06", "ACCIDENT"), death("D20-3", "2020-09-09"),
        death("D21", "2021-01-01 00:30")]


@pytest.mark.parametrize(
    ("year", "first_year", "expected"),
    [(2020, None, [("2016", "0"), ("2017", "2"), ("2018", "0"), ("2019", "1"), ("2020", "3")]),
     (2020, 2018, [("2018", "0"), ("2019", "1"), ("2020", "3")]),
     (2018, None, [("2016", "0"), ("2017", "2"), ("2018", "0")])],
    ids=["2020", "from-2018", "release-2018"])
def test_annual_totals_with_explicit_zeros(run_derive: Callable[..., Any], year: int, first_year: int | None,
                                           expected: list[tuple[str, str]]) -> None:
    rules = {"first_year": first_year} if first_year else {}
    run = run_derive("in_custody_deaths", ROWS, year=year, **rules)
    table = run.file("annual_deaths")
    assert list(table.columns) == ["year", "deaths"]
    assert list(table.itertuples(index=False, name=None)) == expected
    assert not run.codes("blocking")


def test_notes_say_no_breakdown_and_name_zero_years(run_derive: Callable[..., Any]) -> None:
    run = run_derive("in_custody_deaths", ROWS)
    assert run.derived.notes[0].endswith("years without a death show 0 (2016, 2018).")
    assert any(note.startswith("No breakdown") for note in run.derived.notes)
    assert "1 death(s) before 2016 are in the export and not in the table." in run.derived.notes
    assert len(run.derived.files) == 1                          # the annual totals, nothing else


def test_case_frame_keeps_no_personal_field(run_derive: Callable[..., Any]) -> None:
    run = run_derive("in_custody_deaths", ROWS)
    assert list(run.frame("deaths").columns) == ["case_id", "death_date", "manner_of_death", "_row_key"]
    assert set(run.frame("deaths")["manner_of_death"]) == {"Natural", "Suicide", "Pending", "Accident"}


def test_impossible_death_date_blocks(run_derive: Callable[..., Any]) -> None:
    run = run_derive("in_custody_deaths", [*ROWS[:3], death("D99", "2020-02-31")])
    blocking = [f for f in run.findings if f.severity == "blocking"]
    # blocked at load now: a date that cannot exist is unreadable (unreadable_dates: block)
    assert [(f.code, f.column, f.row_keys) for f in blocking] == [("date_unreadable", "death_date", ("D99",))]
