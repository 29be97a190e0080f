"""Dates as the raw exports write them, read against the calendar.

Why: a pattern alone lets 2020-02-30, 2020-13-01 or 25:61 through, and a published date
that cannot exist is both wrong and a sign the cell held something else. A date is
``YYYY[-M[-D]]`` optionally followed by a time ``[ T]H:MM[:SS[.fraction]]`` and anything
after it (a ``+00`` offset); the parts present must exist. Load uses the year (a row
whose date cannot be read, or cannot exist, is excluded or blocks, as the file's
``unreadable_dates`` says); the ``datetime`` rule formats the rest and blanks what it cannot.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

_DATE = re.compile(
    r"\s*(?P<year>\d{4})(?:-(?P<month>\d{1,2})(?:-(?P<day>\d{1,2}))?)?"
    r"(?:[ T](?:(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?)?.*)?",
    re.DOTALL)


@dataclass(frozen=True)
class DateParts:
    """The parts a date gives (None for a part it leaves out), each one known to exist on the calendar."""

    year: int
    month: int | None
    day: int | None
    hour: int | None
    minute: int | None


def read_date(text: str) -> DateParts | None:
    """The parts of a date, or None when it is not one or names a day or time that does not exist."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    parts = {name: (int(value) if value is not None else None) for name, value in match.groupdict().items()}
    year, month, day = parts["year"], parts["month"], parts["day"]
    assert year is not None
    if month is not None and not 1 <= month <= 12:
        return None
    if day is not None and (month is None or not 1 <= day <= calendar.monthrange(year, month)[1]):
        return None
    hour, minute, second = parts["hour"], parts["minute"], parts["second"]
    if hour is not None and (hour > 23 or (minute or 0) > 59 or (second or 0) > 59):
        return None
    return DateParts(year, month, day, hour, minute)
