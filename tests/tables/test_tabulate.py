"""Tabulation: codebook mapping and per-unit contribution bounds (verified, property-tested); the
group-by cut by privacy unit, as the Ray engine counts it, gives the same counts."""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from in_process_ray import in_process_workers

from release.build.tables_noisy import keyed_row_order
from release.config.tables import DimensionSpec, TableSpec
from release.errors import BlockingFinding, ConfigError
from release.stages.tabulate import (
    ContributionProfile,
    Contributions,
    Counted,
    bound_contributions,
    by_unit,
    contribution_profile,
    count,
    map_dimension,
    merged,
    tabulate,
    verify_bounds,
)

RACE = DimensionSpec(name="race", categories=("Black", "White", "Other", "Unknown"),
                     mapping={"BLK": "Black"}, other="Other", missing="Unknown")


def spec(**changes: object) -> TableSpec:
    base: dict[str, object] = dict(
        name="t", description="people", source="people", dimensions=(RACE,), privacy_unit="unit_id",
        privacy_unit_name="person", max_rows_per_unit=2, max_cells_per_unit=2, mechanism="exact")
    base.update(changes)
    return TableSpec.model_validate(base)


@pytest.mark.parametrize(("raw", "expected"), [
    ("Black", "Black"), (" black ", "Black"), ("BLK", "Black"), ("Purple", "Other"),
    (None, "Unknown"), ("", "Unknown"), ("NULL", "Unknown"), ("n/a", "Unknown"),
], ids=["exact", "case-and-space", "mapped-spelling", "unmapped-goes-to-other", "none", "empty",
        "null-token", "na-token"])
def test_map_dimension(raw: str | None, expected: str) -> None:
    codes = map_dimension(pd.Series([raw], dtype=object), RACE, 2020)
    assert RACE.categories[codes[0]] == expected


@pytest.mark.parametrize(("raw", "code"), [
    ("2020-01", 0), ("2020-12-31 10:00", 11), ("2019-12", -1), (None, -1), ("12/2020", -1),
], ids=["first-month", "date-prefix", "previous-year", "missing", "other-format"])
def test_month_dimension_covers_the_release_year(raw: str | None, code: int) -> None:
    month = DimensionSpec(name="month", kind="month")
    assert month.codebook(2020)[0] == "2020-01" and len(month.codebook(2020)) == 12
    assert map_dimension(pd.Series([raw], dtype=object), month, 2020)[0] == code


def test_every_category_is_counted_zeros_included() -> None:
    frame = pd.DataFrame({"unit_id": ["u1", "u2", "u3"], "race": ["Black", "Black", None]})
    counts = tabulate(frame, spec(), 2020, np.random.default_rng(0))
    assert counts.categories == (RACE.categories,)
    assert counts.counts.tolist() == [2, 0, 0, 1]


def test_where_filter_and_rows_without_unit_are_reported() -> None:
    frame = pd.DataFrame({"unit_id": ["u1", None, "u3", "u4"], "race": ["Black"] * 4,
                          "was_frisked": ["1", "1", "0", " 1 "]})
    counts = tabulate(frame, spec(where={"was_frisked": ("1",)}), 2020, np.random.default_rng(0))
    assert counts.rows_in == 3 and counts.rows_without_unit == 1
    assert counts.counts.sum() == 2


def test_missing_column_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no column race"):
        tabulate(pd.DataFrame({"unit_id": ["u1"]}), spec(), 2020, np.random.default_rng(0))


def test_verification_refuses_a_unit_over_its_bounds() -> None:
    with pytest.raises(BlockingFinding, match="exceeds the declared bounds"):
        verify_bounds(ContributionProfile(3, 1, 1), spec())


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 5)), max_size=80),
       max_rows=st.integers(1, 4), max_cells=st.integers(1, 4), max_per_cell=st.integers(1, 4),
       seed=st.integers(0, 2**32 - 1))
def test_bounded_contributions_never_exceed_bounds(rows: list[tuple[int, int]], max_rows: int,
                                                   max_cells: int, max_per_cell: int, seed: int) -> None:
    units = np.array([u for u, _ in rows], dtype=np.int64)
    cells = np.array([c for _, c in rows], dtype=np.int64)
    keep = bound_contributions(units, cells, max_rows_per_unit=max_rows, max_cells_per_unit=max_cells,
                               max_rows_per_cell=max_per_cell, rng=np.random.default_rng(seed))
    profile = contribution_profile(units[keep], cells[keep])
    assert profile.max_rows_per_unit <= max_rows
    assert profile.max_cells_per_unit <= max_cells
    assert profile.max_rows_per_cell <= max_per_cell
    # nothing is dropped from a unit that was already within its bounds
    for unit in set(units.tolist()):
        mine = units == unit
        own = contribution_profile(units[mine], cells[mine])
        if (own.max_rows_per_unit <= max_rows and own.max_cells_per_unit <= max_cells
                and own.max_rows_per_cell <= max_per_cell):
            assert keep[mine].all()
        else:  # and a unit over its bounds still keeps a row
            assert keep[mine].any()


# ---- the group-by cut by privacy unit (what --engine ray's actors count) -----------------------

@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.integers(0, 8), st.integers(0, 5)), max_size=80), parts=st.integers(1, 5),
       bounds=st.one_of(st.none(), st.tuples(st.integers(1, 4), st.integers(1, 3), st.integers(1, 3))),
       once_per_cell=st.booleans())
def test_counts_cut_by_unit_and_summed_are_the_whole_counts(
        rows: list[tuple[int, int]], parts: int, bounds: tuple[int, int, int] | None, once_per_cell: bool) -> None:
    """Every step of the bounding looks at one unit's rows, in the rows' order (the truncation
    order), so however the units are cut, the parts keep what the whole keeps: their counts, drops
    and profiles add up to the whole's."""
    units = np.array([u for u, _ in rows], dtype=np.int64)
    cells = np.array([c for _, c in rows], dtype=np.int64)
    whole = Contributions(units, cells, 6, bounds, once_per_cell=once_per_cell)
    expected = count(whole)
    cut = by_unit(whole, parts)
    assert sorted(np.concatenate([p.cells for p in cut]).tolist()) == sorted(cells.tolist())
    found = merged(6, [count(part) for part in cut])
    assert found.counts.tolist() == expected.counts.tolist()
    assert (found.profile, found.dropped) == (expected.profile, expected.dropped)
    assert int(expected.counts.sum()) + expected.dropped == len(rows)


def _keyed(message: str) -> str:
    return hashlib.sha256(message.encode()).hexdigest()


def _frame(size: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame({"unit_id": [f"u{i}" for i in rng.integers(0, 60, size)],
                         "race": rng.choice(["Black", "White", "BLK", "Purple", None], size)})


def test_a_table_counted_in_parts_is_the_table_counted_here() -> None:
    """``tabulate`` with a counter that cuts the rows (as the Ray engine does) gives the counts, drops
    and profile of the one-process count: the keyed truncation keeps the same rows."""
    table, calls = spec(max_rows_per_unit=3, max_cells_per_unit=2), []

    def in_parts(contributions: Contributions) -> Counted:
        calls.append(len(contributions.cells))
        return merged(contributions.size, [count(part) for part in by_unit(contributions, 3)])

    here = tabulate(_frame(), table, 2020, row_order=keyed_row_order(_keyed))
    there = tabulate(_frame(), table, 2020, row_order=keyed_row_order(_keyed), counter=in_parts)
    assert calls == [300] and here.rows_dropped > 0  # the truncation did drop rows
    assert here.counts.tolist() == there.counts.tolist()
    assert (here.rows_dropped, here.profile, here.rows_in) == (there.rows_dropped, there.profile, there.rows_in)


def test_the_driver_verifies_the_bounds_on_what_the_counter_returns() -> None:
    """A counter whose result breaks the declared bounds blocks the table: the bounds OpenDP is told
    about are checked on what the counter returns (the Ray engine's counter computes that result on
    the driver from the rows its workers keep: ``test_a_worker_keeping_rows_past_the_bounds_...``)."""
    def careless(contributions: Contributions) -> Counted:
        return Counted(np.bincount(contributions.cells, minlength=contributions.size), ContributionProfile(9, 1, 1), 0)

    with pytest.raises(BlockingFinding, match="exceeds the declared bounds"):
        tabulate(_frame(), spec(), 2020, row_order=keyed_row_order(_keyed), counter=careless)


# ---- the driver's side under --engine ray (RayWorkers.count), Ray's calls run in this process -----

def test_the_actors_bound_parts_by_unit_and_the_driver_counts_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each part goes to an actor as unit indices and cells in truncation order (no raw value, no
    keyed priority); the actor answers with one bit per row, and the counts are the local ones."""
    from release.execution import ray_workers

    monkeypatch.setattr(ray_workers, "COUNT_ROWS", 100)
    table = spec(max_rows_per_unit=3, max_cells_per_unit=2)
    expected = tabulate(_frame(), table, 2020, row_order=keyed_row_order(_keyed))
    with in_process_workers(monkeypatch) as (runner, _):
        counted = tabulate(_frame(), table, 2020, row_order=keyed_row_order(_keyed),
                           counter=runner.count)  # type: ignore[attr-defined]
        sent = [args[0] for actor in runner._actors for args in actor.calls["count"]]  # type: ignore[attr-defined]
        assert [len(actor.calls["count"]) for actor in runner._actors] == [2, 1]  # type: ignore[attr-defined]
    assert len(sent) == 3 and sum(len(part.cells) for part in sent) == 300  # 300 rows, 100 a part, 2 actors
    assert {f.name for f in dataclasses.fields(sent[0])} == {"units", "cells", "size", "bounds", "once_per_cell"}
    assert all(part.units.dtype == part.cells.dtype == np.int64 for part in sent)
    assert counted.counts.tolist() == expected.counts.tolist()
    assert (counted.rows_dropped, counted.profile) == (expected.rows_dropped, expected.profile)


def _answer(fault: str, part: Contributions) -> object:
    rows = len(part.cells)
    return {"short": np.packbits(np.ones(rows - 8, dtype=bool)),
            "counts": count(part),
            "wide": np.ones(-(-rows // 8), dtype=np.int64)}[fault]


@pytest.mark.parametrize("fault", ["other code", "short", "counts", "wide"])
def test_a_worker_on_other_code_or_answering_other_than_a_bit_per_row_is_refused(
        monkeypatch: pytest.MonkeyPatch, fault: str) -> None:
    from release.errors import EnvironmentProblem
    from release.execution import ray_workers

    with in_process_workers(monkeypatch) as (runner, _):
        worker = runner._actors[1].worker  # type: ignore[attr-defined]
        message = "is not one bit per row"
        if fault == "other code":
            worker.checks_identity[ray_workers.CHECKS_CODE] = "0" * 64
            message = "runs other leak checks or table counts than this machine"
        else:
            monkeypatch.setattr(worker, "count", lambda part: (worker.checks_identity, _answer(fault, part)))
        with pytest.raises(EnvironmentProblem, match=message):
            tabulate(_frame(), spec(), 2020, row_order=keyed_row_order(_keyed), counter=runner.count)  # type: ignore[attr-defined]


def test_a_worker_keeping_rows_past_the_bounds_blocks_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """The counts and the profile the bounds are verified on are computed on the driver from the
    rows the worker says are kept: a worker that keeps every row cannot claim a profile within them."""
    with in_process_workers(monkeypatch) as (runner, _):
        worker = runner._actors[0].worker  # type: ignore[attr-defined]
        monkeypatch.setattr(worker, "count", lambda part: (worker.checks_identity,
                                                           np.packbits(np.ones(len(part.cells), dtype=bool))))
        with pytest.raises(BlockingFinding, match="exceeds the declared bounds"):
            tabulate(_frame(), spec(), 2020, row_order=keyed_row_order(_keyed), counter=runner.count)  # type: ignore[attr-defined]


def test_the_checks_digest_names_the_numpy_and_pandas_a_worker_groups_with(monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker on another pandas (or numpy) may keep other rows of a unit: its digest differs, and
    the driver refuses it as a worker on other code (above)."""
    from release.execution import ray_workers

    here = ray_workers.checks_code_digest()
    ray_workers.checks_code_digest.cache_clear()
    monkeypatch.setattr(pd, "__version__", "0.0.0")
    try:
        assert ray_workers.checks_code_digest() != here
    finally:
        ray_workers.checks_code_digest.cache_clear()
