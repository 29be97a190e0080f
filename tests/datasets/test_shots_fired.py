"""Shots-fired counting rule on tiny hand-written exports: confirmed incidents only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


def report(num: str, confirmed: str, ballistics: str, **values: str) -> dict[str, str]:
    row = {"incident_num": num, "incident_date": "2020-07-04 23:41:00+00", "district": "B3",
           "ballistics_evidence": ballistics, "incident_address": "77 Quillfeather St",
           "latitude": "42.2912345", "longitude": "-71.0812345", "source": "ShotSpotter",
           "confirmed": confirmed}
    row.update(values)
    return row


# (confirmed, ballistics_evidence) -> published with ballistics_confirms true / false
CASES = [
    ("t", "f", True, True), ("TRUE", "t", True, True), ("Yes", "", True, True), ("1", "0", True, True),
    ("f", "t", True, False),        # evidence confirms by definition; the flag disagrees
    ("", "f", False, False), ("no", "f", False, False), ("0", "", False, False),
    ("maybe", "f", False, False),   # unreadable flag: unconfirmed (fail closed)
    ("maybe", "t", True, False),
]


@pytest.mark.parametrize("ballistics_confirms", [True, False], ids=["evidence-confirms", "flag-only"])
def test_only_confirmed_incidents_are_published(run_derive: Callable[..., Any], ballistics_confirms: bool) -> None:
    rows = [report(f"I2000000{i:02d}", c, b) for i, (c, b, _, _) in enumerate(CASES)]
    run = run_derive("shots_fired", rows, ballistics_confirms=ballistics_confirms)
    expected = {f"I2000000{i:02d}" for i, case in enumerate(CASES) if case[2 if ballistics_confirms else 3]}
    assert set(run.frame("incidents")["incident_num"]) == expected
    published, unconfirmed = (6, 4) if ballistics_confirms else (4, 6)
    assert run.derived.notes[0] == (f"{published} of 10 shots-fired report(s) of 2020 are confirmed and "
                                    f"published; {unconfirmed} unconfirmed report(s) are counted here and "
                                    "not published.")
    excluded = next(f for f in run.derived.findings if f.code == "unconfirmed_excluded")
    assert excluded.count == unconfirmed
    by_evidence = [f for f in run.derived.findings if f.code == "confirmed_by_evidence"]
    assert [f.count for f in by_evidence] == ([2] if ballistics_confirms else [])
    unreadable = next(f for f in run.derived.findings if f.code == "flag_unreadable")
    assert unreadable.count == (1 if ballistics_confirms else 2)


def test_public_frame_has_no_address_coordinates_or_source(run_derive: Callable[..., Any]) -> None:
    run = run_derive("shots_fired", [report("I200000001", "t", "TRUE"), report("I200000002", "t", "no")])
    public = run.frame("incidents")
    assert list(public.columns) == ["incident_num", "incident_date", "district", "ballistics_evidence", "_row_key"]
    assert list(public["ballistics_evidence"]) == ["t", "f"]     # flags published as the City's t/f
    assert list(public["incident_date"]) == ["2020-07-04 23:00"] * 2


def test_other_years_are_not_counted(run_derive: Callable[..., Any]) -> None:
    rows = [report("I190000001", "t", "t", incident_date="2019-12-31 23:59:00+00"),
            report("I200000001", "t", "t"), report("I210000001", "t", "t", incident_date="2021-01-01 00:01:00+00")]
    run = run_derive("shots_fired", rows)
    assert list(run.frame("incidents")["incident_num"]) == ["I200000001"]
    assert run.derived.notes[0].startswith("1 of 1 shots-fired report(s) of 2020")
