"""Shared helpers of the dataset modules: strict flags and dates."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from release.datasets.common import parse_date, parse_dates, read_flags, unreadable_dates


@pytest.mark.parametrize(
    ("value", "reads"),
    [("t", "true"), ("T", "true"), ("true", "true"), ("TRUE", "true"), ("1", "true"), ("yes", "true"),
     ("Y", "true"), (" yes ", "true"), ("f", "false"), ("False", "false"), ("0", "false"), ("no", "false"),
     ("N", "false"), ("", "blank"), (None, "blank"), ("  ", "blank"), ("maybe", "unreadable"),
     ("2", "unreadable"), ("tru", "unreadable")],
    ids=lambda v: repr(v))
def test_flags_read_strictly(value: str | None, reads: str) -> None:
    flags = read_flags(pd.Series([value], dtype=object))
    got = [name for name in ("true", "false", "blank", "unreadable") if bool(getattr(flags, name).iloc[0])]
    assert got == [reads]


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2020-03-04", date(2020, 3, 4)), ("2020-03-04 17:25:00+00", date(2020, 3, 4)),
     ("2020-3-4", date(2020, 3, 4)), ("03/04/2020", date(2020, 3, 4)), ("3/4/2020 10:00", date(2020, 3, 4)),
     ("2020-02-29", date(2020, 2, 29)), ("2019-02-29", None), ("2020-13-01", None), ("soon", None),
     ("", None), (None, None)],
    ids=["iso", "city-timestamp", "unpadded", "us", "us-time", "leap-day", "not-leap", "month-13", "text",
         "blank", "missing"])
def test_parse_date(value: str | None, expected: date | None) -> None:
    assert parse_date(value) == expected


def test_unreadable_dates_are_present_but_unparsed() -> None:
    values = pd.Series(["2020-01-01", "", None, "2020-02-30", "later"], dtype=object)
    assert unreadable_dates(values, parse_dates(values)).tolist() == [False, False, False, True, True]
