"""The LP audit: min and max of every suppressed cell over everything published, and its cuts.

The attacker knows every published exact value, that counts are non-negative and how
margins and linked tables add up; a hidden cell is safe only if its LP interval is at
least its protection width. Each failure also yields a capacity cut from the duals of its
LPs (Fischetti & Salazar 2001), which the integer program (``ilp``) adds as a row.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from release.model import Finding
from release.stages.suppress.system import Item, System

TOLERANCE = 1e-7
SEED_PATIENCE = 3  # random probes in a row that resolve under 1% of the pending items

Cut = tuple[dict[int, float], float]  # sum(coef[item] * hidden[item]) >= rhs


def lp_audit(system: System, known: dict[int, int], hidden: Sequence[int],
             truth: np.ndarray | None = None) -> tuple[list[Finding], dict[int, "Cut"]]:
    """Findings for hidden items narrower than their width and, for each, a capacity cut
    that every protecting pattern satisfies (``truth``: true base-cell values, for cuts)."""
    n_base = len(system.singleton)
    truth = truth if truth is not None else np.full(n_base, np.nan)
    base = np.full(n_base, np.nan)
    for i, value in known.items():
        if len(system.items[i].members) == 1:
            base[system.items[i].members[0]] = value
    unknown = np.isnan(base)
    local = np.cumsum(unknown) - 1
    n_vars = int(unknown.sum())
    eq_items, rhs, r_idx, c_idx = [], [], [], []
    findings: list[Finding] = []
    inconsistent = 0
    for i, value in known.items():
        members = system.items[i].members
        if len(members) == 1:
            continue
        free = members[unknown[members]]
        rest = float(value) - float(np.nansum(base[members]))
        if len(free) == 0:
            inconsistent += abs(rest) > TOLERANCE
            continue
        r_idx.extend([len(eq_items)] * len(free))
        c_idx.extend(local[free].tolist())
        eq_items.append(i)
        rhs.append(rest)
    matrix = sparse.csr_matrix((np.ones(len(r_idx)), (r_idx, c_idx)), shape=(len(eq_items), n_vars))
    rhs_arr = np.array(rhs, dtype=float)
    graph = sparse.bmat([[None, matrix.T], [matrix, None]], format="csr") if len(eq_items) else \
        sparse.csr_matrix((n_vars, n_vars))
    _, component = connected_components(graph, directed=False)
    var_comp = component[:n_vars]
    row_comp = component[n_vars:]
    cuts: dict[int, Cut] = {}
    groups: dict[tuple[int, ...], list[int]] = {}
    for t in hidden:
        free = system.items[t].members[unknown[system.items[t].members]]
        groups.setdefault(tuple(sorted(set(var_comp[local[free]].tolist()))), []).append(t)
    for comps, members in groups.items():
        cols = np.flatnonzero(np.isin(var_comp, comps))
        rows = np.flatnonzero(np.isin(row_comp, comps)) if len(eq_items) else np.zeros(0, dtype=int)
        lp = _ComponentLP(matrix[rows][:, cols].tocsr(), rhs_arr[rows], cols, members, system,
                          unknown, local)
        for t, width, duals in lp.narrow_items():
            item = system.items[t]
            if width is None:
                inconsistent += 1
                continue
            findings.append(Finding(
                stage="suppress", code="suppressed_cell_recoverable", severity="blocking",
                message=f"a suppressed cell can be narrowed to an interval of width {width:.2f}, "
                        f"below its protection width {item.width}, from published cells",
                file=item.tables[0], row_key=item.label, rule="protection_width"))
            cuts[t] = _cut(system, item, base, truth, [eq_items[r] for r in rows], duals)
    if inconsistent:
        findings.append(Finding(
            stage="suppress", code="published_values_inconsistent", severity="blocking",
            message=f"{inconsistent} published exact values contradict each other across tables "
                    "or releases", rule="protection_width", count=inconsistent))
    return findings, cuts


class _ComponentLP:
    """LPs over one connected block of unknown cells, built once ("warm structure").

    Every LP solution is a feasible table, so it also widens the observed range of every
    other hidden item of the block; an item whose observed range already reaches its
    protection width needs no LP of its own. Only the rest get their min and max solved.
    """

    def __init__(self, matrix: sparse.csr_matrix, rhs: np.ndarray, cols: np.ndarray, items: list[int],
                 system: System, unknown: np.ndarray, local: np.ndarray) -> None:
        self.matrix, self.rhs, self.items = matrix, rhs, items
        position = np.full(int(unknown.sum()), -1)
        position[cols] = np.arange(len(cols))
        r, c = [], []
        for k, t in enumerate(items):
            members = system.items[t].members
            where = position[local[members[unknown[members]]]]
            r.extend([k] * len(where))
            c.extend(where.tolist())
        self.objectives = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(items), len(cols)))
        self.widths = np.array([system.items[t].width for t in items], dtype=float)
        self.low = np.full(len(items), np.inf)
        self.high = np.full(len(items), -np.inf)

    def _solve(self, objective: np.ndarray, box: float | None = None) -> tuple[int, float, np.ndarray]:
        if self.matrix.shape[1] == 0:
            return 0, 0.0, np.zeros(0)
        has_rows = self.matrix.shape[0] > 0
        res = linprog(objective, A_eq=self.matrix if has_rows else None,
                      b_eq=self.rhs if has_rows else None, bounds=(0, box), method="highs")
        if res.status != 0:
            return int(res.status), math.nan, np.zeros(0)
        seen = self.objectives @ res.x
        np.minimum(self.low, seen, out=self.low)
        np.maximum(self.high, seen, out=self.high)
        return 0, float(res.fun), np.asarray(res.eqlin.marginals) if has_rows else np.zeros(0)

    def _pending(self) -> np.ndarray:
        return np.flatnonzero(self.high - self.low < self.widths - TOLERANCE)

    def narrow_items(self) -> list[tuple[int, float | None, list[tuple[float, np.ndarray]]]]:
        """(item, width or None if infeasible, duals of its min and max LPs) for each failure."""
        rng = np.random.default_rng(0)
        # Probe with random +/- combinations of the unresolved items, inside a box so no
        # probe is unbounded (a point of the box is still a feasible table).
        box = 2 * float(max(self.rhs.max(initial=0.0), self.widths.max(initial=0.0))) + 1
        pending, stalled = self._pending(), 0
        while len(pending) and stalled < SEED_PATIENCE:
            signs = rng.choice([-1.0, 1.0], len(pending))
            status, _, _ = self._solve(np.asarray(signs @ self.objectives[pending]).ravel(), box)
            if status == 2:
                return [(self.items[0], None, [])]
            before, pending = len(pending), self._pending()
            stalled = stalled + 1 if before - len(pending) <= max(1, before // 100) else 0
        failures = []
        for k in pending:
            if self.high[k] - self.low[k] >= self.widths[k] - TOLERANCE:
                continue  # resolved by an earlier item's LP
            objective = self.objectives[k].toarray().ravel()
            ends, duals = [], []
            for sign in (1.0, -1.0):
                status, value, y = self._solve(sign * objective)
                if status == 3:
                    break  # unbounded: any width
                ends.append(sign * value)
                duals.append((sign, y))
            if len(ends) == 2 and ends[1] - ends[0] < self.widths[k] - TOLERANCE:
                failures.append((self.items[k], ends[1] - ends[0], duals))
        return failures


def _cut(system: System, item: Item, base: np.ndarray, truth: np.ndarray, rows: list[int],
         duals: list[tuple[float, np.ndarray]]) -> Cut:
    """Capacity cut (Fischetti & Salazar 2001) from the duals of the min and max LPs.

    With deviations d = x - truth, the max LP's dual bounds the upward room of the item by
    sum over base cells b of r_b * truth_b * s_b (r_b > 0: how far b can fall to zero, if
    hidden) plus an unbounded term for any equation with a non-zero dual or base cell with
    r_b < 0 that gets hidden; likewise downward. Width <= up + down, so every pattern that
    protects the item satisfies sum(coef * s) >= width. Coefficients are capped at the width.
    """
    width = float(item.width)
    coef: dict[int, float] = {}
    constant = 0.0
    in_item = set(item.members.tolist())
    for sign, y in duals:
        pressure: dict[int, float] = {}
        for r, y_r in zip(rows, y):
            if abs(y_r) <= TOLERANCE:
                continue
            coef[r] = width
            for b in system.items[r].members:
                pressure[int(b)] = pressure.get(int(b), 0.0) + float(y_r)
        for b in in_item | set(pressure):
            reduced = (sign if b in in_item else 0.0) - pressure.get(b, 0.0)
            if abs(reduced) <= TOLERANCE:
                continue
            room = width if reduced < 0 or np.isnan(truth[b]) else min(width, reduced * truth[b])
            owner = int(system.singleton[b])
            if owner < 0:
                constant += room  # a base cell no table publishes: hidden whatever we choose
            else:
                coef[owner] = min(width, coef.get(owner, 0.0) + room)
    return coef, width - constant
