"""Firearms counting rule on tiny hand-written exports: daily counts by the day received."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from release.errors import ConfigError

COLUMNS = ["CollectionDate", "CrimeGunsRecovered", "GunsSurrenderedSafeguarded", "BuybackGunsRecovered"]


def firearm(sid: str, received: str, category: str, related: str = "", **values: str) -> dict[str, str]:
    row = {"submission_id": sid, "received_date": received, "category": category,
           "related_incident_date": related, "serial_number": "QZ4815162", "owner_name": ""}
    row.update(values)
    return row


ROWS = [
    firearm("F1", "2020-01-01 09:15:00", "crime", "2019-12-30"),
    firearm("F2", "2020-01-01", "CRIME GUN", "2020-01-01"),
    firearm("F3", "2020-01-01 14:00:00", "Surrender", owner_name="Ottoline Quaresma"),
    firearm("F4", "2020-01-01 15:00:00", "Safekeeping", owner_name="Bartholomew Quince"),
    firearm("F5", "2020-03-15", "buyback"), firearm("F6", "2020-03-15", "Buy Back"),
    firearm("F7", "2020-03-15", "buyback"),
    firearm("F8", "2020-12-31 17:59:59", "crime", "2018-06-02"),
    firearm("F9", "2019-12-31", "crime", "2019-12-30"),          # received 2019: not in 2020
    firearm("F10", "2021-01-02", "crime", "2020-12-30"),         # received 2021 for a 2020 incident: 2021
]


def test_daily_counts_by_day_received(run_derive: Callable[..., Any]) -> None:
    run = run_derive("firearms", ROWS)
    daily = run.file("daily_counts")
    assert list(daily.columns) == COLUMNS
    assert len(daily) == 366                                    # 2020 is a leap year: every day present
    assert daily["CollectionDate"].iloc[[0, 59, -1]].tolist() == ["2020-01-01", "2020-02-29", "2020-12-31"]
    by_day = daily.set_index("CollectionDate")
    # hand-computed: 1 Jan crime F1 F2, surrendered/safeguarded F3 F4; 15 Mar buyback F5-F7; 31 Dec F8
    assert by_day.loc["2020-01-01"].tolist() == ["2", "2", "0"]
    assert by_day.loc["2020-03-15"].tolist() == ["0", "0", "3"]
    assert by_day.loc["2020-12-31"].tolist() == ["1", "0", "0"]
    others = by_day.drop(index=["2020-01-01", "2020-03-15", "2020-12-31"])
    assert (others == "0").all().all()
    assert [sum(map(int, daily[c])) for c in COLUMNS[1:]] == [3, 2, 3]
    assert not run.codes("blocking")


def test_earlier_year_incidents_counted_when_received_and_noted(run_derive: Callable[..., Any]) -> None:
    run = run_derive("firearms", ROWS)
    # F1 (incident 2019) and F8 (incident 2018) were received in 2020: counted in 2020
    assert ("2 firearm(s) received in 2020 relate to an incident of an earlier year and are counted in "
            "2020; before 2021 the City may have counted such firearms in the incident's year.") in run.derived.notes
    assert run.derived.notes[0].startswith("8 firearm(s) received in 2020")


@pytest.mark.parametrize(("year", "days"), [(2019, 365), (2020, 366)], ids=["2019", "leap-2020"])
def test_every_day_of_the_year(run_derive: Callable[..., Any], year: int, days: int) -> None:
    run = run_derive("firearms", ROWS, year=year)
    daily = run.file("daily_counts")
    assert len(daily) == days and daily["CollectionDate"].is_unique
    expected_crime = 1 if year == 2019 else 3                   # 2019: F9 only
    assert sum(map(int, daily["CrimeGunsRecovered"])) == expected_crime


def test_category_outside_codebook_blocks(run_derive: Callable[..., Any]) -> None:
    run = run_derive("firearms", [*ROWS[:3], firearm("F11", "2020-05-05", "found property")])
    blocking = [f for f in run.findings if f.severity == "blocking"]
    assert {(f.stage, f.column) for f in blocking} == {("generalize", "category"), ("derive", "category")}
    assert all(f.count == 1 for f in blocking)


def test_impossible_received_date_blocks(run_derive: Callable[..., Any]) -> None:
    run = run_derive("firearms", [*ROWS[:3], firearm("F12", "2020-02-30", "crime")])
    blocking = [f for f in run.findings if f.severity == "blocking"]
    # the firearm cannot be put on a day, so the crime total would miss it: it blocks, now at
    # load (a date that cannot exist is unreadable, and firearms' unreadable_dates is block)
    assert [(f.code, f.column, f.row_keys) for f in blocking] == [("date_unreadable", "received_date", ("F12",))]


@pytest.mark.parametrize(
    ("columns", "message"),
    [({"CrimeGunsRecovered": ["crime"], "Other": ["crime", "buyback"]}, "a category is counted in two columns"),
     ({"CrimeGunsRecovered": ["crime"]}, "must list every category")],
    ids=["category-twice", "category-missing"])
def test_columns_must_cover_the_codebook_once(run_derive: Callable[..., Any], columns: dict[str, list[str]],
                                              message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        run_derive("firearms", ROWS, columns=columns)
    assert message in caught.value.message and caught.value.message.startswith("dataset_rules.columns")
