"""The safe start of complementary suppression: a hypercube around every primary cell.

For a primary cell p of an n-dimensional table, pick one other category in every dimension:
the 2^n cells at the corners of that box can move together (+d on the corners of p's parity,
-d on the others) without changing any margin. So p can rise by the smallest value of an
odd corner and fall by the smallest value of an even corner (p itself included): the cube
meets p's protection when those rooms reach its upper and lower protection levels and their
sum its width (Repsilber's hypercube method, as in τ-ARGUS). A zero corner gives no room
downwards, so zeros are never free here. The cheapest qualifying cube is hidden, its corners
then cost nothing for the next primary. It needs one LP audit, not an integer program, so an
n-dimensional table always gets a pattern quickly; the integer program then improves on it
within its time budget (``release.stages.suppress.protect``).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence

import numpy as np

from release.config.tables import ALL
from release.stages.suppress.ilp import _Plan
from release.stages.suppress.published import ExactTable

MAX_CUBES = 256          # candidate boxes tried per primary cell (the cheapest categories first)
HYPERCUBE_BUDGET_S = 30.0  # then the remaining primaries are left to the integer program and repair


def hypercube_start(plan: _Plan, current: Sequence[ExactTable]) -> np.ndarray:
    """A mask over ``plan.decision``: the cells the hypercubes hide (primaries are hidden anyway)."""
    chosen = np.zeros(len(plan.decision), dtype=bool)
    deadline = time.monotonic() + HYPERCUBE_BUDGET_S
    for entry in current:
        grid = _interior(plan, entry)
        if grid is None:
            continue
        values = np.array([[plan.system.items[i].current or 0 for i in grid.reshape(-1)]]).reshape(grid.shape)
        for index in sorted(zip(*np.nonzero(np.vectorize(lambda i: i in plan.primary)(grid)), strict=True),
                            key=lambda ix: values[ix]):
            if time.monotonic() > deadline:
                return chosen
            cube = _cheapest(plan, grid, values, tuple(int(i) for i in index), chosen)
            for item in cube:
                if item in plan.column:
                    chosen[plan.column[item]] = True
    return chosen


def _interior(plan: _Plan, entry: ExactTable) -> np.ndarray | None:
    """The items of the table's cells (no ``All``), as an n-d array in codebook order."""
    frame = entry.table.frame
    dims = entry.table.dimensions
    inner = np.ones(len(frame), dtype=bool)
    for dim in dims:
        inner &= (frame[dim] != ALL).to_numpy()
    rows = np.flatnonzero(inner)
    shape = tuple(len(dict.fromkeys(frame.loc[inner, dim])) for dim in dims)
    if len(rows) != math.prod(shape) or min(shape, default=0) < 2:
        return None
    items = np.array([plan.system.row_items[entry.table.name][r] for r in rows])
    return items.reshape(shape)


def _cheapest(plan: _Plan, grid: np.ndarray, values: np.ndarray, p: tuple[int, ...],
              chosen: np.ndarray) -> tuple[int, ...]:
    item = plan.system.items[int(grid[p])]
    v = float(values[p])
    up_need = max(item.high_target - v, 0.0) if math.isfinite(item.high_target) else 0.0
    down_need = max(v - item.low_target, 0.0) if math.isfinite(item.low_target) else 0.0
    width = float(item.width)

    def cost(i: int) -> float:
        if i in plan.column:
            return 0.0 if chosen[plan.column[i]] else float(plan.cost[plan.column[i]])
        return 0.0 if plan.fixed.get(i) == 1 else math.inf  # published for good: the cube cannot use it

    others = []
    for d, size in enumerate(grid.shape):
        options = [j for j in range(size) if j != p[d]]
        per = max(1, int(MAX_CUBES ** (1 / grid.ndim)))
        line = [tuple(j if k == d else p[k] for k in range(grid.ndim)) for j in options]
        options = [j for _, j in sorted(zip((cost(int(grid[c])) for c in line), options, strict=True))][:per]
        others.append(options)
    best: tuple[float, tuple[int, ...]] = (math.inf, ())
    for combo in itertools.product(*others):
        corners = [tuple(combo[d] if bit else p[d] for d, bit in enumerate(bits))
                   for bits in itertools.product((0, 1), repeat=grid.ndim)]
        odd = [values[c] for c, bits in zip(corners, itertools.product((0, 1), repeat=grid.ndim), strict=True)
               if sum(bits) % 2]
        even = [values[c] for c, bits in zip(corners, itertools.product((0, 1), repeat=grid.ndim), strict=True)
                if not sum(bits) % 2]
        up, down = float(min(odd)), float(min(even))
        if up < up_need or down < down_need or up + down < width:
            continue
        total = sum(cost(int(grid[c])) for c in corners)
        if total < best[0]:
            best = (total, tuple(int(grid[c]) for c in corners))
    return best[1]
