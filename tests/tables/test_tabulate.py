"""Tabulation: codebook mapping and per-unit contribution bounds (verified, property-tested)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release.errors import BlockingFinding, ConfigError
from release.stages.tabulate import (ContributionProfile, bound_contributions, contribution_profile,
                                     map_dimension, tabulate, verify_bounds)
from release.tables_spec import DimensionSpec, TableSpec

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
