"""Tabulation: raw rows -> codebook cells -> per-unit bounded contributions -> counts.

This module owns the part of the privacy argument that OpenDP has to trust: each
privacy unit's contribution is bounded here, by random truncation, and then *verified*
(no unit exceeds ``max_rows_per_unit`` rows, ``max_cells_per_unit`` distinct cells, or
``max_rows_per_cell`` rows in one cell). OpenDP checks none of this (pitfalls.md). It also
owns the cell layout shared by noise, post-processing and suppression: level 0 is the
full cross-classification, each margin is a sum of it with ``All`` in the dropped
dimensions, and every codebook category is present, zeros included.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from release.errors import BlockingFinding, ConfigError
from release.stages import load
from release.tables_spec import ALL, DimensionSpec, TableSpec, normalize_raw

# A keyed, per-row priority: which of a unit's rows survive truncation, reproducible on the same
# data (so a rebuild finds its stored measurement) and depending on the unit's own rows only.
RowOrder = Callable[[str, np.ndarray, np.ndarray], np.ndarray]

# The loader's missing-value tokens, compared stripped and case-blind, plus "nan" (a float
# NaN written out as text by an upstream tool).
MISSING_TOKENS = frozenset(t.strip().lower() for t in load.MISSING_TOKENS) | {"nan"}
_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})")


@dataclass(frozen=True)
class ContributionProfile:
    max_rows_per_unit: int
    max_cells_per_unit: int
    max_rows_per_cell: int


@dataclass(frozen=True)
class TableCounts:
    """Bounded counts of one table over its full codebook (C order over ``dimensions``)."""

    name: str
    dimensions: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...]
    counts: np.ndarray
    rows_in: int               # rows after the table's ``where`` filter
    rows_without_unit: int     # no privacy-unit id: cannot be bounded, so not counted
    rows_outside_period: int   # month dimension outside the covered years, or no month
    rows_dropped: int          # removed by contribution bounding
    profile: ContributionProfile

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(c) for c in self.categories)


def is_missing(values: pd.Series) -> np.ndarray:
    text = values.astype("string").str.strip().str.lower()
    return (values.isna() | text.isin(MISSING_TOKENS).fillna(True)).to_numpy(dtype=bool)


def map_dimension(values: pd.Series, dim: DimensionSpec, year: int) -> np.ndarray:
    """Codebook index of each raw value; -1 marks a row outside a month dimension's years."""
    codebook = dim.codebook(year)
    missing = is_missing(values)
    if dim.kind == "month":
        index = {label: i for i, label in enumerate(codebook)}
        parsed = values.astype("string").str.extract(_MONTH)
        labels = (parsed[0] + "-" + parsed[1]).fillna("")
        return np.array([index.get(label, -1) for label in labels], dtype=np.int64)
    position = {c: i for i, c in enumerate(codebook)}
    lookup = {key: position[target] for key, target in dim.lookup().items()}
    other = position[dim.other or ""]
    absent = position[dim.missing] if dim.missing else other
    normalized = values.astype("string").fillna("").map(normalize_raw)
    codes = np.array([lookup.get(v, other) for v in normalized], dtype=np.int64)
    codes[missing] = absent
    return codes


def bound_contributions(units: np.ndarray, cells: np.ndarray, *, max_rows_per_unit: int,
                        max_cells_per_unit: int, max_rows_per_cell: int,
                        rng: np.random.Generator | None = None, order: np.ndarray | None = None) -> np.ndarray:
    """Keep a random subset of each unit's rows within the three bounds.

    Rows are put in one random order (``order``, a permutation, else one drawn from ``rng``);
    in that order a unit keeps at most ``max_rows_per_cell`` rows per cell, rows of its first
    ``max_cells_per_unit`` distinct cells, and then its first ``max_rows_per_unit`` rows.
    Returns a keep-mask aligned with the input.
    """
    n = len(units)
    if order is None:
        order = (rng if rng is not None else np.random.default_rng()).permutation(n)
    frame = pd.DataFrame({"unit": units[order], "cell": cells[order]})
    keep = frame.groupby(["unit", "cell"], sort=False).cumcount().to_numpy() < max_rows_per_cell
    firsts = frame[keep].drop_duplicates(["unit", "cell"])
    rank = pd.Series(firsts.groupby("unit", sort=False).cumcount().to_numpy(),
                     index=pd.MultiIndex.from_frame(firsts))
    row_rank = rank.reindex(pd.MultiIndex.from_frame(frame)).to_numpy()
    keep &= np.nan_to_num(row_rank, nan=np.inf) < max_cells_per_unit
    kept = frame[keep]
    within = kept.groupby("unit", sort=False).cumcount().to_numpy() < max_rows_per_unit
    keep[np.flatnonzero(keep)[~within]] = False
    out = np.zeros(n, dtype=bool)
    out[order] = keep
    return out


def contribution_profile(units: np.ndarray, cells: np.ndarray) -> ContributionProfile:
    if len(units) == 0:
        return ContributionProfile(0, 0, 0)
    frame = pd.DataFrame({"unit": units, "cell": cells})
    return ContributionProfile(
        max_rows_per_unit=int(frame.groupby("unit").size().max()),
        max_cells_per_unit=int(frame.groupby("unit")["cell"].nunique().max()),
        max_rows_per_cell=int(frame.groupby(["unit", "cell"]).size().max()))


def verify_bounds(profile: ContributionProfile, spec: TableSpec) -> None:
    """The guarantee OpenDP is told about must hold on the data actually counted."""
    limits = (spec.max_rows_per_unit, spec.max_cells_per_unit, spec.rows_per_cell)
    seen = (profile.max_rows_per_unit, profile.max_cells_per_unit, profile.max_rows_per_cell)
    if any(s > lim for s, lim in zip(seen, limits)):
        raise BlockingFinding("contribution bounding failed: a privacy unit exceeds the declared "
                              "bounds", file=spec.name, rule="contribution_bounds")


def occurrences(units: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """The rank of each row among the rows of its (unit, cell), in input order."""
    return pd.DataFrame({"u": units, "c": cells}).groupby(["u", "c"], sort=False).cumcount().to_numpy()


def tabulate(frame: pd.DataFrame, spec: TableSpec, year: int, rng: np.random.Generator | None = None,
             row_order: RowOrder | None = None) -> TableCounts:
    """Counts of one table over its full codebook. A summary counts every row (it restates a
    public file); a protected table counts each unit's rows within the declared bounds, chosen
    by ``row_order`` (keyed, reproducible) or else by ``rng``."""
    needed = {spec.privacy_unit, *spec.where, *(d.source_column for d in spec.dimensions)}
    absent = sorted(needed - set(frame.columns))
    if absent:
        raise ConfigError(f"tables.{spec.name}: frame '{spec.source}' has no column "
                          f"{', '.join(absent)}", column=absent[0])
    rows = frame
    for column, allowed in spec.where.items():
        wanted = {normalize_raw(v) for v in allowed}
        rows = rows[rows[column].astype("string").fillna("").map(normalize_raw).isin(wanted)]
    categories = tuple(d.codebook(year) for d in spec.dimensions)
    codes = np.stack([map_dimension(rows[d.source_column], d, year) for d in spec.dimensions]) \
        if len(rows) else np.zeros((len(spec.dimensions), 0), dtype=np.int64)
    inside = (codes >= 0).all(axis=0)
    has_unit = ~is_missing(rows[spec.privacy_unit])
    usable = inside & has_unit
    if spec.mechanism == "summary":
        usable = inside  # every public row counts, with or without a unit
    unit_values = rows[spec.privacy_unit].astype("string").fillna("").to_numpy(dtype=object)[usable]
    units = pd.factorize(unit_values)[0]
    shape = tuple(len(c) for c in categories)
    cells = np.ravel_multi_index(tuple(codes[:, usable]), shape) if usable.any() \
        else np.zeros(0, dtype=np.int64)
    if spec.mechanism == "summary":  # every row; with max_rows_per_cell 1, a unit once per cell
        keep = np.ones(len(cells), dtype=bool) if spec.max_rows_per_cell != 1 \
            else occurrences(units, cells) == 0
    else:
        order = np.argsort(row_order(spec.name, unit_values, cells), kind="stable") \
            if row_order is not None and len(cells) else None
        keep = bound_contributions(units, cells, max_rows_per_unit=spec.max_rows_per_unit,
                                   max_cells_per_unit=spec.max_cells_per_unit,
                                   max_rows_per_cell=spec.rows_per_cell, rng=rng, order=order)
    profile = contribution_profile(units[keep], cells[keep])
    if spec.mechanism != "summary":
        verify_bounds(profile, spec)
    counts = np.bincount(cells[keep], minlength=int(np.prod(shape))).astype(np.int64)
    return TableCounts(
        name=spec.name, dimensions=tuple(d.name for d in spec.dimensions), categories=categories,
        counts=counts, rows_in=len(rows), rows_without_unit=0 if spec.mechanism == "summary" else int((inside & ~has_unit).sum()),
        rows_outside_period=int((~inside).sum()), rows_dropped=int((~keep).sum()), profile=profile)


# ---- the cell layout: levels (cells and margins) over the full codebook -------------------

def kept_axes(dimensions: tuple[str, ...], level: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, d in enumerate(dimensions) if d in level)


def level_values(base: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    """Sum a flat base-cell vector to one level (C order over the kept axes)."""
    dropped = tuple(i for i in range(len(shape)) if i not in axes)
    return np.asarray(base).reshape(shape).sum(axis=dropped).reshape(-1)


def level_matrix(shape: tuple[int, ...], axes: tuple[int, ...]) -> sparse.csr_matrix:
    """0/1 matrix mapping base cells to the cells of one level."""
    size = int(np.prod(shape))
    grid = np.indices(shape).reshape(len(shape), size)
    kept_shape = tuple(shape[i] for i in axes)
    rows = np.ravel_multi_index(tuple(grid[i] for i in axes), kept_shape) if axes \
        else np.zeros(size, dtype=np.int64)
    return sparse.csr_matrix((np.ones(size), (rows, np.arange(size))),
                             shape=(int(np.prod(kept_shape)), size))


def workload(shape: tuple[int, ...], levels: list[tuple[int, ...]]) -> sparse.csr_matrix:
    """All levels stacked: the linear map from base cells to every published number."""
    return sparse.vstack([level_matrix(shape, axes) for axes in levels]).tocsr()


def level_labels(dimensions: tuple[str, ...], categories: tuple[tuple[str, ...], ...],
                 axes: tuple[int, ...]) -> pd.DataFrame:
    """Dimension columns of one level's rows, ``All`` in the dropped dimensions."""
    kept = [categories[i] for i in axes]
    index = pd.MultiIndex.from_product(kept) if len(kept) > 1 else None
    columns: dict[str, object] = {}
    size = int(np.prod([len(k) for k in kept])) if kept else 1
    for position, dim in enumerate(dimensions):
        if position in axes:
            k = axes.index(position)
            columns[dim] = (index.get_level_values(k) if index is not None else kept[0])
        else:
            columns[dim] = [ALL] * size
    return pd.DataFrame(columns).astype("string")
