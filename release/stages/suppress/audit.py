"""The LP audit: min and max of every suppressed cell over everything published, and its cuts.

The attacker knows every published exact value (this release, every other year's, the public
record-level files recounted), that counts are non-negative, how margins and linked tables
add up, and the 95% interval of every noisy cell of the same family (as a constraint; a set
of intervals that contradicts itself is dropped, as an attacker would). A hidden cell is safe
only if its LP range is at least its protection width and, for a primary cell whose true value
the build knows, reaches its lower and upper protection levels (τ-ARGUS). The audit fails
closed: an LP that does not end optimal (or unbounded, for a maximum) fails its cell. Each
failure also yields capacity cuts from the duals of its LPs (Fischetti & Salazar 2001), which
the integer program (``ilp``) adds as rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from release.model import Finding
from release.stages.suppress.system import Item, System

TOLERANCE = 1e-7
SEED_PATIENCE = 3  # random probes in a row that resolve under 1% of the pending items

Cut = tuple[dict[int, float], float]  # sum(coef[item] * hidden[item]) >= rhs
Cuts = dict[int, list[Cut]]


@dataclass(frozen=True)
class _Failure:
    item: int
    kind: str                                   # "narrow", "unverified" or "infeasible"
    low: float = math.nan
    high: float = math.nan
    duals: tuple[tuple[float, np.ndarray], ...] = ()  # (sign, equality duals) of the min (+1) and max (-1) LPs


def _rows(system: System, known: dict[int, int], unknown: np.ndarray, base: np.ndarray, local: np.ndarray
          ) -> tuple[list[int], list[float], list[int], list[int], int]:
    eq_items: list[int] = []
    rhs: list[float] = []
    r_idx: list[int] = []
    c_idx: list[int] = []
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
    return eq_items, rhs, r_idx, c_idx, inconsistent


def _interval_rows(system: System, known: dict[int, int], unknown: np.ndarray, base: np.ndarray,
                   local: np.ndarray, n_vars: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """``sum(free members) <= upper - known`` and ``-sum <= -(lower - known)`` per noisy item."""
    r_idx: list[int] = []
    c_idx: list[int] = []
    data: list[float] = []
    rhs: list[float] = []
    for i, item in enumerate(system.items):
        if item.interval is None or i in known:
            continue
        free = item.members[unknown[item.members]]
        if len(free) == 0:
            continue
        rest = float(np.nansum(base[item.members]))
        for sign, bound in ((1.0, item.interval[1] - rest), (-1.0, -(item.interval[0] - rest))):
            r_idx.extend([len(rhs)] * len(free))
            c_idx.extend(local[free].tolist())
            data.extend([sign] * len(free))
            rhs.append(bound)
    return sparse.csr_matrix((data, (r_idx, c_idx)), shape=(len(rhs), n_vars)), np.array(rhs, dtype=float)


def lp_audit(system: System, known: dict[int, int], hidden: Sequence[int],
             truth: np.ndarray | None = None) -> tuple[list[Finding], Cuts]:
    """Findings for hidden items the attacker narrows below their protection and, for each,
    capacity cuts that every protecting pattern satisfies (``truth``: true base-cell values)."""
    n_base = len(system.singleton)
    truth = truth if truth is not None else np.full(n_base, np.nan)
    base = np.full(n_base, np.nan)
    for i, value in known.items():
        if len(system.items[i].members) == 1:
            base[system.items[i].members[0]] = value
    unknown = np.isnan(base)
    local = np.cumsum(unknown) - 1
    n_vars = int(unknown.sum())
    eq_items, rhs, r_idx, c_idx, inconsistent = _rows(system, known, unknown, base, local)
    matrix = sparse.csr_matrix((np.ones(len(r_idx)), (r_idx, c_idx)), shape=(len(eq_items), n_vars))
    rhs_arr = np.array(rhs, dtype=float)
    ub, ub_rhs = _interval_rows(system, known, unknown, base, local, n_vars)
    stacked = sparse.vstack([matrix, abs(ub)]).tocsr()
    graph = sparse.bmat([[None, stacked.T], [stacked, None]], format="csr") if stacked.shape[0] else \
        sparse.csr_matrix((n_vars, n_vars))
    _, component = connected_components(graph, directed=False)
    var_comp = component[:n_vars]
    row_comp = component[n_vars:n_vars + len(eq_items)]
    ub_comp = component[n_vars + len(eq_items):]
    findings: list[Finding] = []
    cuts: Cuts = {}
    groups: dict[tuple[int, ...], list[int]] = {}
    for t in hidden:
        free = system.items[t].members[unknown[system.items[t].members]]
        groups.setdefault(tuple(sorted(set(var_comp[local[free]].tolist()))), []).append(t)
    for comps, members in groups.items():
        cols = np.flatnonzero(np.isin(var_comp, comps))
        rows = np.flatnonzero(np.isin(row_comp, comps)) if len(eq_items) else np.zeros(0, dtype=int)
        ub_rows = np.flatnonzero(np.isin(ub_comp, comps)) if len(ub_rhs) else np.zeros(0, dtype=int)
        lp = _ComponentLP(matrix[rows][:, cols].tocsr(), rhs_arr[rows], ub[ub_rows][:, cols].tocsr(),
                          ub_rhs[ub_rows], cols, members, system, unknown, local)
        for failure in lp.narrow_items():
            item = system.items[failure.item]
            if failure.kind == "infeasible":
                inconsistent += 1
                continue
            findings.append(_finding(item, failure))
            if failure.kind == "narrow" and not lp.used_intervals:
                cuts[failure.item] = _cuts(system, item, base, truth, [eq_items[r] for r in rows], failure)
    if inconsistent:
        findings.append(Finding(
            stage="suppress", code="published_values_inconsistent", severity="blocking",
            message=f"{inconsistent} published exact values contradict each other across tables "
                    "or releases", rule="protection_width", count=inconsistent))
    return findings, cuts


def _finding(item: Item, failure: _Failure) -> Finding:
    if failure.kind == "unverified":
        return Finding(stage="suppress", code="suppression_unverified", severity="blocking",
                       message="the LP audit could not prove a suppressed cell safe (a solver status other than "
                               "optimal): it fails closed", file=item.tables[0], row_key=item.label,
                       rule="protection_width")
    width = failure.high - failure.low
    levels = "" if math.isinf(item.low_target) and math.isinf(item.high_target) else \
        " or its range misses its lower or upper protection level"
    return Finding(stage="suppress", code="suppressed_cell_recoverable", severity="blocking",
                   message=f"a suppressed cell can be narrowed to an interval of width {width:.2f}, "
                           f"below its protection width {item.width}{levels}, from published cells",
                   file=item.tables[0], row_key=item.label, rule="protection_width")


class _LinprogResult(Protocol):
    """What is read of scipy's ``OptimizeResult`` (scipy ships no types)."""

    status: int
    x: np.ndarray
    fun: float
    eqlin: Any  # its ``marginals``: the duals of the equality rows


class _ComponentLP:
    """LPs over one connected block of unknown cells, built once ("warm structure").

    Every LP solution is a feasible table, so it also widens the observed range of every
    other hidden item of the block; an item whose observed range already meets its
    protection needs no LP of its own. Only the rest get their min and max solved.
    """

    def __init__(self, matrix: sparse.csr_matrix, rhs: np.ndarray, ub: sparse.csr_matrix, ub_rhs: np.ndarray,
                 cols: np.ndarray, items: list[int], system: System, unknown: np.ndarray, local: np.ndarray) -> None:
        self.matrix, self.rhs, self.items = matrix, rhs, items
        self.ub: sparse.csr_matrix | None
        self.ub_rhs: np.ndarray | None
        self.ub, self.ub_rhs = (ub, ub_rhs) if ub.shape[0] else (None, None)
        self.used_intervals = self.ub is not None
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
        self.low_targets = np.array([system.items[t].low_target for t in items], dtype=float)
        self.high_targets = np.array([system.items[t].high_target for t in items], dtype=float)
        self.low = np.full(len(items), np.inf)
        self.high = np.full(len(items), -np.inf)

    def _linprog(self, objective: np.ndarray, box: float | None) -> _LinprogResult:
        has_rows = self.matrix.shape[0] > 0
        result: _LinprogResult = linprog(objective, A_eq=self.matrix if has_rows else None,
                                         b_eq=self.rhs if has_rows else None, A_ub=self.ub, b_ub=self.ub_rhs,
                                         bounds=(0, box), method="highs")
        return result

    def _solve(self, objective: np.ndarray, box: float | None = None) -> tuple[int, float, np.ndarray]:
        if self.matrix.shape[1] == 0:
            return 0, 0.0, np.zeros(0)
        res = self._linprog(objective, box)
        if res.status == 2 and self.ub is not None:  # the intervals contradict: an attacker drops them
            self.ub, self.ub_rhs = None, None
            res = self._linprog(objective, box)
        if res.status != 0:
            return int(res.status), math.nan, np.zeros(0)
        seen = self.objectives @ res.x
        np.minimum(self.low, seen, out=self.low)
        np.maximum(self.high, seen, out=self.high)
        duals = np.asarray(res.eqlin.marginals) if self.matrix.shape[0] else np.zeros(0)
        return 0, float(res.fun), duals

    def _meets(self, k: np.ndarray | int, low: np.ndarray | float, high: np.ndarray | float) -> np.ndarray:
        met: np.ndarray = ((high - low >= self.widths[k] - TOLERANCE) & (low <= self.low_targets[k] + TOLERANCE)
                           & (high >= self.high_targets[k] - TOLERANCE))
        return met

    def _pending(self) -> np.ndarray:
        return np.flatnonzero(~self._meets(np.arange(len(self.items)), self.low, self.high))

    def narrow_items(self) -> list[_Failure]:
        """Each hidden item whose exact range fails its protection, or whose LPs did not end optimal."""
        rng = np.random.default_rng(0)
        # Probe with random +/- combinations of the unresolved items, inside a box so no
        # probe is unbounded (a point of the box is still a feasible table).
        top = max(self.rhs.max(initial=0.0), self.widths.max(initial=0.0),
                  float(np.nanmax(np.where(np.isfinite(self.high_targets), self.high_targets, 0.0), initial=0.0)))
        box = 2 * float(top) + 1
        pending, stalled = self._pending(), 0
        while len(pending) and stalled < SEED_PATIENCE:
            signs = rng.choice([-1.0, 1.0], len(pending))
            status, _, _ = self._solve(np.asarray(signs @ self.objectives[pending]).ravel(), box)
            if status == 2:
                return [_Failure(self.items[0], "infeasible")]
            before, pending = len(pending), self._pending()
            stalled = stalled + 1 if before - len(pending) <= max(1, before // 100) else 0
        failures = []
        for k in pending:
            if self._meets(int(k), self.low[k], self.high[k]):
                continue  # resolved by an earlier item's LP
            objective = self.objectives[k].toarray().ravel()
            ends: dict[float, float] = {}
            duals = []
            for sign in (1.0, -1.0):
                status, value, y = self._solve(sign * objective)
                if status == 3 and sign < 0:
                    ends[sign] = math.inf  # no upper end: any room upwards
                elif status != 0:
                    failures.append(_Failure(self.items[k], "unverified"))
                    break
                else:
                    ends[sign] = sign * value
                    duals.append((sign, y))
            else:
                if not self._meets(int(k), ends[1.0], ends[-1.0]):
                    failures.append(_Failure(self.items[k], "narrow", ends[1.0], ends[-1.0], tuple(duals)))
        return failures


def _cuts(system: System, item: Item, base: np.ndarray, truth: np.ndarray, rows: list[int],
          failure: _Failure) -> list[Cut]:
    """The width cut from both LPs, and one cut per protection level (upwards from the max LP's
    duals, downwards from the min LP's), each needing that much room."""
    out = [_cut(system, item, base, truth, rows, list(failure.duals), float(item.width))]
    value = _true_value(item, truth)
    for sign, room in ((-1.0, item.high_target - value), (1.0, value - item.low_target)):
        duals = [(s, y) for s, y in failure.duals if s == sign]
        if duals and np.isfinite(room) and room > TOLERANCE:
            out.append(_cut(system, item, base, truth, rows, duals, float(room)))
    return out


def _true_value(item: Item, truth: np.ndarray) -> float:
    return float(np.nansum(truth[item.members])) if item.members.size else math.nan


def _cut(system: System, item: Item, base: np.ndarray, truth: np.ndarray, rows: list[int],
         duals: list[tuple[float, np.ndarray]], need: float) -> Cut:
    """Capacity cut (Fischetti & Salazar 2001) from the duals of the min and max LPs.

    With deviations d = x - truth, the max LP's dual bounds the upward room of the item by
    sum over base cells b of r_b * truth_b * s_b (r_b > 0: how far b can fall to zero, if
    hidden) plus an unbounded term for any equation with a non-zero dual or base cell with
    r_b < 0 that gets hidden; likewise downward. Width <= up + down, so every pattern that
    protects the item satisfies sum(coef * s) >= width. Coefficients are capped at the width.
    """
    width = need
    coef: dict[int, float] = {}
    constant = 0.0
    in_item = set(item.members.tolist())
    for sign, y in duals:
        pressure: dict[int, float] = {}
        for r, y_r in zip(rows, y, strict=True):
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
