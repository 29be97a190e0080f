"""A rolling window: each year's release repeats the months of the year before, so the second
year's suppression must hold against the first year's published and hidden cells. Two ways it
used to end blocked with nothing left to try, although hiding more always protects: a capacity
cut gave each of the first year's hidden cells (whose counts this build cannot see) a full
protection's room, so no cut ever asked for more; and when no cut asks for more, the repair
stopped. Now such a cell's room is bounded by the most it can be, and the repair widens.
Counts are drawn at random (the mix of busy and quiet districts of a city's monthly counts)."""

from __future__ import annotations

import numpy as np
import pytest
from tables.tablekit import build_table, hide, independent_ranges

from release.stages.suppress import ExactTable, PublishedTable, protect

THRESHOLD, WIDTH, LOWER, UPPER = 3, 4, 3, 3


def _years(seed: int, districts: int = 8, months: int = 6) -> tuple[np.ndarray, PublishedTable, PublishedTable]:
    """Monthly counts of three years; the first release covers years 1-2, the second years 2-3."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(rng.choice([0.3, 1.5, 5], size=(districts, 1)), size=(districts, 3 * months))
    labels = [f"{year}-{month:02d}" for year in (2018, 2019, 2020) for month in range(1, months + 1)]
    places = tuple(f"d{i}" for i in range(districts))

    def window(name: str, start: int) -> PublishedTable:
        return build_table(counts[:, start:start + 2 * months], dims=("district", "month"), period="",
                           family="f", width=WIDTH, name=name,
                           categories=(places, tuple(labels[start:start + 2 * months])))
    return counts, window("first", 0), window("second", months)


def _entry(table: PublishedTable) -> ExactTable:
    return ExactTable(table, THRESHOLD, "value", LOWER, UPPER)


def _second_year(seed: int) -> tuple[object, PublishedTable, PublishedTable, PublishedTable]:
    """(protection of the second release, the first as published, both before suppression)."""
    _, first, second = _years(seed)
    done = protect([_entry(first)])
    assert not [f for f in done.findings if f.severity == "blocking"]
    published_first = hide(first, done.suppressed["first"])
    return protect([_entry(second)], [published_first]), published_first, first, second


def _assert_protected(result: object, published_first: PublishedTable, first: PublishedTable,
                      second: PublishedTable) -> None:
    """No blocking finding, and an LP written apart from the audit over both releases: every hidden
    cell at least ``WIDTH`` wide, every hidden primary v reaching v - min(v, LOWER) and v + UPPER."""
    assert not [f for f in result.findings if f.severity == "blocking"]  # type: ignore[attr-defined]
    published = hide(second, result.suppressed["second"])  # type: ignore[attr-defined]
    truth = {(t.name, r): int(v) for t in (first, second) for r, v in enumerate(t.frame["value"])}
    ranges = independent_ranges([published_first, published], ("district", "month"))
    assert ranges
    for key, (low, high) in ranges.items():
        value = truth[key]
        assert high - low >= WIDTH - 1e-6, key
        if 1 <= value <= THRESHOLD:
            assert low <= value - min(value, LOWER) + 1e-6 and high >= value + UPPER - 1e-6, key


@pytest.mark.slow
def test_an_earlier_years_hidden_cells_give_no_more_room_than_they_can(monkeypatch: pytest.MonkeyPatch) -> None:
    from release.stages.suppress import ilp
    monkeypatch.setattr(ilp._Plan, "_widen", lambda self, failing, chosen: False)  # the cuts alone
    result, *tables = _second_year(23)
    _assert_protected(result, *tables)
    monkeypatch.setattr(ilp, "_ceilings", lambda system, truth: truth)  # as before: full room assumed
    blocked, *_ = _second_year(23)
    assert {f.code for f in blocked.findings} == {"suppression_unprotectable"}  # type: ignore[attr-defined]


@pytest.mark.slow
def test_when_no_cut_asks_for_more_the_repair_widens(monkeypatch: pytest.MonkeyPatch) -> None:
    from release.stages.suppress import ilp
    result, *tables = _second_year(10)
    _assert_protected(result, *tables)
    assert result.repairs >= 1  # type: ignore[attr-defined]
    monkeypatch.setattr(ilp._Plan, "_widen", lambda self, failing, chosen: False)
    blocked, *_ = _second_year(10)
    assert {f.code for f in blocked.findings} == {"suppression_unprotectable"}  # type: ignore[attr-defined]


def test_a_cell_only_the_earlier_release_shows_is_bounded_by_what_the_sums_leave() -> None:
    """The first year's own months are counted by no table of this build: each gets a ceiling at
    least its true count (the cuts stay valid) and at most what the first release's row total
    leaves once the shared months (this build's true counts) are taken off."""
    from release.stages.suppress import build_system
    from release.stages.suppress.ilp import _ceilings

    counts, first, second = _years(23)
    published_first = hide(first, protect([_entry(first)]).suppressed["first"])
    system = build_system([(published_first, "published"), (second, "current")])
    truth = np.full(len(system.singleton), np.nan)
    for item in system.items:
        if item.current is not None and len(item.members) == 1:
            truth[item.members[0]] = item.current
    ceiling = _ceilings(system, truth)
    seen = ~np.isnan(truth)
    assert np.array_equal(ceiling[seen], truth[seen]) and not np.isnan(ceiling).any()
    months = counts.shape[1] // 3
    for item in system.items:
        if len(item.members) != 1 or seen[item.members[0]]:
            continue
        cell = dict(part.split("=") for part in item.label.split(": ")[1].split("|"))  # district=d3|month=2018-04
        district, month = int(cell["district"].removeprefix("d")), int(cell["month"].removeprefix("2018-"))
        left = counts[district, :months].sum()
        assert counts[district, month - 1] <= ceiling[item.members[0]] <= left, item.label
