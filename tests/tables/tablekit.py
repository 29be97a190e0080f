"""Helpers for the table tests: tiny synthetic tables and an independent LP to check the audit."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from release.stages.suppress import PublishedTable
from release.stages.tabulate import level_labels, level_values

TableFactory = Callable[..., PublishedTable]


def build_table(counts: Sequence[Sequence[int]] | np.ndarray, margins: Sequence[tuple[int, ...]] = ((0,), (1,), ()),
                *, name: str = "t", period: str = "2020", family: str = "", width: int = 10,
                dims: tuple[str, ...] | None = None,
                categories: tuple[tuple[str, ...], ...] | None = None) -> PublishedTable:
    """Long-form exact table: cells, then each margin (``All`` in the summed dimensions)."""
    array = np.asarray(counts, dtype=np.int64)
    dims = dims or tuple("abcdef"[i] for i in range(array.ndim))
    cats = categories or tuple(tuple(f"{d}{j}" for j in range(n)) for d, n in zip(dims, array.shape, strict=True))
    frames = []
    for axes in [tuple(range(array.ndim)), *margins]:
        frame = level_labels(dims, cats, tuple(axes))
        frame["value"] = level_values(array.reshape(-1), array.shape, tuple(axes))
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame["status"] = "exact"
    return PublishedTable(name=name, dimensions=dims, frame=frame, period=period, family=family,
                          protection_width=width)


def hide(table: PublishedTable, mask: np.ndarray) -> PublishedTable:
    frame = table.frame.copy()
    frame["value"] = frame["value"].astype("Int64")
    frame.loc[mask, "value"] = pd.NA
    frame.loc[mask, "status"] = "suppressed"
    return PublishedTable(table.name, table.dimensions, frame, table.period, table.family,
                          table.protection_width)


def independent_widths(tables: Sequence[PublishedTable], base_dims: tuple[str, ...]) -> dict[tuple[str, int], float]:
    """Max - min of each suppressed row (``independent_ranges``), keyed by (table name, row number)."""
    return {key: high - low for key, (low, high) in independent_ranges(tables, base_dims).items()}


def independent_ranges(tables: Sequence[PublishedTable],
                       base_dims: tuple[str, ...]) -> dict[tuple[str, int], tuple[float, float]]:
    """Brute LP, written separately from the audit: every table is a sum over the base
    cells of ``base_dims`` (one shared family and period; a row's ``All`` sums that table's own
    categories); returns (min, max) of each suppressed row, keyed by (table name, row number)."""
    cats = []
    for dim in base_dims:
        seen: list[str] = []
        for table in tables:
            if dim in table.dimensions:
                seen += [v for v in table.frame[dim] if v != "All" and v not in seen]
        cats.append(seen)
    grid = pd.MultiIndex.from_product(cats, names=list(base_dims)).to_frame(index=False)

    def row_vector(table: PublishedTable, row: pd.Series) -> np.ndarray:
        match = np.ones(len(grid), dtype=bool)
        for dim in table.dimensions:
            own = grid[dim].isin(set(table.frame[dim]) - {"All"}) if row[dim] == "All" else grid[dim] == row[dim]
            match &= own.to_numpy()
        return match.astype(float)

    a_eq, b_eq, targets = [], [], []
    for table in tables:
        for number, row in table.frame.iterrows():
            if row["status"] == "exact":
                a_eq.append(row_vector(table, row))
                b_eq.append(float(row["value"]))
            elif row["status"] == "suppressed":
                targets.append(((table.name, int(number)), row_vector(table, row)))
    ranges = {}
    for key, vector in targets:
        low = linprog(vector, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog(-vector, A_eq=np.array(a_eq), b_eq=b_eq, bounds=(0, None), method="highs")
        assert low.status == 0 and high.status in (0, 3)
        ranges[key] = (float(low.fun), float("inf") if high.status == 3 else float(-high.fun))
    return ranges
