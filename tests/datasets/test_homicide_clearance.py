"""Homicide clearance by the FBI method on a hand-written case file, and the rate's rounding."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from release.datasets.homicide_clearance import clearance_rate


def case(case_id: str, occurred: str, ruled: str, cleared: str = "", kind: str = "") -> dict[str, str]:
    return {"case_id": case_id, "occurred_date": occurred, "ruled_homicide_date": ruled,
            "cleared_date": cleared, "clearance_type": kind, "victim_name": "Ottoline Quaresma",
            "victim_dob": "05/06/1990", "suspect_name": "Bartholomew Quince" if cleared else ""}


# The worked example: 10 new homicides in 2020, 4 of them cleared in 2020, and 3 cleared in
# 2020 of earlier years -> 7 / 10 = 70.0%.
CASES = [
    case("N1", "2020-01-10", "2020-01-10", "2020-03-01", "arrest"),
    case("N2", "2020-02-01", "2020-02-02", "2020-12-31", "Exceptional Means"),
    case("N3", "2020-05-05", "2020-05-05", "2020-06-01", "Arrest"),
    case("N4", "2018-05-01", "2020-02-01", "2018-06-01", "arrest"),   # arrest for the assault; death ruled 2020
    case("N5", "2015-07-04", "2020-09-09"),                           # injured 2015, ruled a homicide in 2020
    case("N6", "2020-06-06", "2020-06-06", "2021-01-10", "arrest"),   # cleared after the year
    case("N7", "2020-07-07", "2020-07-07"), case("N8", "2020-08-08", "2020-08-08"),
    case("N9", "2020-09-09", "2020-09-09"), case("N10", "2020-10-10", "2020-10-10"),
    case("E1", "2018-03-03", "2018-03-03", "2020-04-04", "arrest"),
    case("E2", "2019-08-08", "2019-08-09", "2020-08-08", "Cleared by Arrest"),
    case("E3", "2009-01-01", "2009-01-01", "2020-10-10", "exceptional"),  # a cold case
    case("X1", "2020-12-20", "2021-01-05"),                           # ruled in 2021: new in 2021
    case("X2", "2019-04-04", "2019-04-04", "2019-05-05", "arrest"),
]
COLUMNS = ["year", "new_homicides", "cleared", "cleared_of_year", "cleared_of_earlier_years",
           "cleared_by_arrest", "cleared_exceptionally", "clearance_rate_percent"]
EXPECTED = {  # by hand
    "2016": ["0", "0", "0", "0", "0", "0", None],
    "2017": ["0", "0", "0", "0", "0", "0", None],
    "2018": ["1", "0", "0", "0", "0", "0", "0.0"],      # E1 new; N4's early arrest counts in 2020
    "2019": ["2", "1", "1", "0", "1", "0", "50.0"],     # E2, X2 new; X2 cleared
    "2020": ["10", "7", "4", "3", "5", "2", "70.0"],    # N1-N10 new; N1-N4 and E1-E3 cleared
}


def test_fbi_method_worked_example(run_derive: Callable[..., Any]) -> None:
    run = run_derive("homicide_clearance", CASES)
    table = run.file("annual_clearance")
    assert list(table.columns) == COLUMNS
    got = {row[0]: [None if v is None else v for v in row[1:]] for row in table.itertuples(index=False)}
    assert got == EXPECTED
    assert "2020: 10 new homicide(s), 7 cleared (4 of 2020, 3 of earlier years)." in run.derived.notes
    assert not run.codes("blocking")


def test_first_year_is_configurable(run_derive: Callable[..., Any]) -> None:
    run = run_derive("homicide_clearance", CASES, first_year=2019)
    assert run.file("annual_clearance")["year"].tolist() == ["2019", "2020"]


def test_release_year_2019_does_not_see_later_events(run_derive: Callable[..., Any]) -> None:
    run = run_derive("homicide_clearance", CASES, year=2019)
    last = run.file("annual_clearance").iloc[-1]
    assert (last["year"], last["new_homicides"], last["cleared"]) == ("2019", "2", "1")


def test_missing_ruling_date_falls_back_to_injury_date(run_derive: Callable[..., Any]) -> None:
    run = run_derive("homicide_clearance", [case("M1", "2020-03-03", ""), case("M2", "2019-03-03", "2020-01-01")])
    last = run.file("annual_clearance").iloc[-1]
    assert last["new_homicides"] == "2"
    fallback = next(f for f in run.derived.findings if f.column == "ruled_homicide_date")
    assert (fallback.severity, fallback.count, fallback.row_keys) == ("warning", 1, ("M1",))


def test_unreadable_cleared_date_blocks(run_derive: Callable[..., Any]) -> None:
    run = run_derive("homicide_clearance", [case("U1", "2020-03-03", "2020-03-03", "soon", "arrest")])
    blocking = [f for f in run.derived.findings if f.severity == "blocking"]
    assert [(f.column, f.row_keys) for f in blocking] == [("cleared_date", ("U1",))]


def test_victim_and_suspect_fields_never_reach_the_case_frame(run_derive: Callable[..., Any]) -> None:
    run = run_derive("homicide_clearance", CASES)
    assert list(run.frame("homicides").columns) == [
        "case_id", "occurred_date", "ruled_homicide_date", "cleared_date", "clearance_type", "_row_key"]


@pytest.mark.parametrize(
    ("cleared", "new", "rate"),
    [(7, 10, "70.0"), (3, 2, "150.0"), (0, 5, "0.0"), (4, 0, None), (0, 0, None), (1, 3, "33.3"),
     (2, 3, "66.7"), (1, 8, "12.5"), (1, 16, "6.3"), (5, 16, "31.3"), (1, 400, "0.3")],
    ids=["worked-example", "over-100", "zero-cleared", "no-new", "nothing", "third", "two-thirds",
         "exact-eighth", "half-up-6.25", "half-up-31.25", "half-up-0.25"])
def test_clearance_rate_rounds_half_up_and_is_blank_without_new(cleared: int, new: int, rate: str | None) -> None:
    assert clearance_rate(cleared, new) == rate
