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

from release.config.tables import ALL, DimensionSpec, TableSpec, normalize_raw
from release.errors import BlockingFinding, ConfigError
from release.stages import load

# A keyed, per-row priority: which of a unit's rows survive truncation, reproducible on the same
# data (so a rebuild finds its stored measurement) and depending on the unit's own rows only.
RowOrder = Callable[[str, np.ndarray, np.ndarray], np.ndarray]

# The loader's missing-value tokens, compared stripped and case-blind, plus "nan" (a float
# NaN written out as text by an upstream tool).
MISSING_TOKENS = frozenset(t.strip().lower() for t in load.MISSING_TOKENS) | {"nan"}
_MONTH = re.compile(r"^\s*(\d{4})-(\d{2})")


@dataclass(frozen=True)
class ContributionProfile:
    """The bounds on one privacy unit's contribution that tabulation enforces and OpenDP is told: rows,
    distinct cells, rows in one cell."""

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
    if any(s > lim for s, lim in zip(seen, limits, strict=True)):
        raise BlockingFinding("contribution bounding failed: a privacy unit exceeds the declared "
                              "bounds", file=spec.name, rule="contribution_bounds")


def occurrences(units: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """The rank of each row among the rows of its (unit, cell), in input order."""
    return pd.DataFrame({"u": units, "c": cells}).groupby(["u", "c"], sort=False).cumcount().to_numpy()


@dataclass(frozen=True)
class Contributions:
    """A table's usable rows as the group-by reads them, in truncation order (a unit keeps its rows
    in this order): each row's privacy unit (an index) and base cell, and the bounds. ``bounds``
    None: a summary, every row counted (``once_per_cell``: a unit once in a cell). Nothing here is
    raw, nor keyed: the units are indices, and the keyed priorities that set the order stay with
    the caller (``tabulate``)."""

    units: np.ndarray
    cells: np.ndarray
    size: int                                  # base cells of the full codebook
    bounds: tuple[int, int, int] | None        # max rows per unit, max cells per unit, max rows per cell
    once_per_cell: bool = False

    def part(self, rows: np.ndarray) -> Contributions:
        return Contributions(self.units[rows], self.cells[rows], self.size, self.bounds, self.once_per_cell)


@dataclass(frozen=True)
class Counted:
    """The group-by's small result: counts per base cell of the kept rows, their profile, and how
    many rows bounding dropped."""

    counts: np.ndarray
    profile: ContributionProfile
    dropped: int


# Counts a table's contributions: ``count`` in this process, or cut by unit and bounded on workers
# (``--engine ray``, ``release.execution.ray_workers.RayWorkers.count``): the result is the same.
Counter = Callable[[Contributions], Counted]


def kept(contributions: Contributions) -> np.ndarray:
    """Which rows each unit keeps within the bounds, in the rows' order (``bound_contributions``).
    Every step looks at one unit's rows only, so rows cut by unit (``by_unit``) keep what the
    whole keeps."""
    c = contributions
    if c.bounds is None:
        return occurrences(c.units, c.cells) == 0 if c.once_per_cell else np.ones(len(c.cells), dtype=bool)
    return bound_contributions(c.units, c.cells, max_rows_per_unit=c.bounds[0], max_cells_per_unit=c.bounds[1],
                               max_rows_per_cell=c.bounds[2], order=np.arange(len(c.cells)))


def counted(contributions: Contributions, keep: np.ndarray) -> Counted:
    """The counts per cell of the rows ``keep`` marks, their profile and the rows dropped, from the
    caller's own rows: a keep mask from elsewhere (a worker's) decides which rows count, never what
    they count or the profile the bounds are verified on."""
    c = contributions
    return Counted(np.bincount(c.cells[keep], minlength=c.size).astype(np.int64),
                   contribution_profile(c.units[keep], c.cells[keep]), int((~keep).sum()))


def count(contributions: Contributions) -> Counted:
    """Bound each unit's contribution and count the kept rows per cell."""
    return counted(contributions, kept(contributions))


def by_unit(contributions: Contributions, parts: int) -> list[Contributions]:
    """The rows cut into ``parts`` by unit (every row of a unit in one part, in row order)."""
    return [contributions.part(np.flatnonzero(contributions.units % parts == i)) for i in range(parts)]


def merged(size: int, counted: list[Counted]) -> Counted:
    """The parts' results as one: counts and drops summed, each profile bound the largest (no unit
    is in two parts)."""
    total = Counted(np.zeros(size, dtype=np.int64), ContributionProfile(0, 0, 0), 0)
    for one in counted:
        total = Counted(total.counts + one.counts, ContributionProfile(
            max(total.profile.max_rows_per_unit, one.profile.max_rows_per_unit),
            max(total.profile.max_cells_per_unit, one.profile.max_cells_per_unit),
            max(total.profile.max_rows_per_cell, one.profile.max_rows_per_cell)), total.dropped + one.dropped)
    return total


def tabulate(frame: pd.DataFrame, spec: TableSpec, year: int, rng: np.random.Generator | None = None,
             row_order: RowOrder | None = None, counter: Counter | None = None) -> TableCounts:
    """Counts of one table over its full codebook. A summary counts every row (it restates a
    public file); a protected table counts each unit's rows within the declared bounds, chosen
    by ``row_order`` (keyed, reproducible) or else by ``rng``. The rows are read, and put in
    truncation order, here; the group-by (bounding and counting) is ``counter``'s (``count`` when
    None); the bounds are verified here on what it returns."""
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
    units = pd.factorize(unit_values)[0].astype(np.int64)
    shape = tuple(len(c) for c in categories)
    cells = np.ravel_multi_index(tuple(codes[:, usable]), shape) if usable.any() \
        else np.zeros(0, dtype=np.int64)
    order = _truncation_order(spec, unit_values, cells, rng, row_order)
    contributions = Contributions(units[order], cells[order], int(np.prod(shape)),
                                  None if spec.mechanism == "summary" else
                                  (spec.max_rows_per_unit, spec.max_cells_per_unit, spec.rows_per_cell),
                                  once_per_cell=spec.mechanism == "summary" and spec.max_rows_per_cell == 1)
    counted = (counter or count)(contributions) if len(cells) else count(contributions)
    if spec.mechanism != "summary":
        verify_bounds(counted.profile, spec)
    return TableCounts(
        name=spec.name, dimensions=tuple(d.name for d in spec.dimensions), categories=categories,
        counts=counted.counts, rows_in=len(rows),
        rows_without_unit=0 if spec.mechanism == "summary" else int((inside & ~has_unit).sum()),
        rows_outside_period=int((~inside).sum()), rows_dropped=counted.dropped, profile=counted.profile)


def _truncation_order(spec: TableSpec, unit_values: np.ndarray, cells: np.ndarray,
                      rng: np.random.Generator | None, row_order: RowOrder | None) -> np.ndarray:
    """The rows' truncation order: by keyed priority (``row_order``; ties in row order), else one
    random order drawn from ``rng``; a summary truncates nothing (row order)."""
    n = len(cells)
    if spec.mechanism == "summary" or n == 0:
        return np.arange(n)
    if row_order is not None:
        return np.argsort(row_order(spec.name, unit_values, cells), kind="stable")
    return (rng if rng is not None else np.random.default_rng()).permutation(n)


# ---- the cell layout: levels (cells and margins) over the full codebook -------------------

def kept_axes(dimensions: tuple[str, ...], level: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(i for i, d in enumerate(dimensions) if d in level)


def level_values(base: np.ndarray, shape: tuple[int, ...], axes: tuple[int, ...]) -> np.ndarray:
    """Sum a flat base-cell vector to one level (C order over the kept axes)."""
    dropped = tuple(i for i in range(len(shape)) if i not in axes)
    summed: np.ndarray = np.asarray(base).reshape(shape).sum(axis=dropped)
    return summed.reshape(-1)


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
