"""The integer program that chooses complementary cells (HiGHS via ``scipy.optimize.milp``).

Owns which items are decided (primary, already public, earlier-only) and which are free
(``_Plan``), the classic per-equation protection rows, the rows and greedy repair built
from the audit's cuts, and one solve. Those rows are necessary but not sufficient, which
is why the package's ``protect`` alternates solves with the LP audit (``audit``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from release.model import Finding
from release.stages.native_output import quiet_stdout
from release.stages.suppress.audit import TOLERANCE, Cuts, lp_audit
from release.stages.suppress.published import ExactTable, primary_mask
from release.stages.suppress.system import System

ILP_RELATIVE_GAP = 0.005  # stop within 0.5% of the proven optimum (exact for small objectives)


@dataclass
class _Plan:
    """Which items are decided (primary, already public, earlier-only) and which are free."""

    system: System
    fixed: dict[int, int]
    decision: list[int]
    column: dict[int, int]
    cost: np.ndarray
    primary: set[int]
    always_hidden: set[int]
    truth: np.ndarray    # true base-cell counts; a cell only another release shows: its ceiling
    revised: int
    widened: set[int] = field(default_factory=set)  # cells ``_widen`` hid

    @classmethod
    def build(cls, system: System, current: Sequence[ExactTable]) -> _Plan:
        thresholds = {e.table.name: e.threshold for e in current}
        levels = {e.table.name: (e.lower_protection, e.upper_protection) for e in current}
        external = _external_items(system, current)
        by_value = {e.table.name for e in current if e.cost == "value"}
        fixed: dict[int, int] = {}
        decision: list[int] = []
        primary: set[int] = set()
        revised = 0
        truth = np.full(len(system.singleton), np.nan)
        for index, item in enumerate(system.items):
            if item.current is None:
                fixed[index] = 0 if item.published is not None else 1
                continue
            if len(item.members) == 1:
                truth[item.members[0]] = item.current
            threshold = max(thresholds[name] for name in item.tables if name in thresholds)
            if primary_mask(np.array([item.current]), threshold)[0] and index not in external:
                primary.add(index)
                lower = max(levels[name][0] for name in item.tables if name in levels)
                upper = max(levels[name][1] for name in item.tables if name in levels)
                item.low_target = float(item.current - min(item.current, lower)) if lower else np.inf
                item.high_target = float(item.current + upper) if upper else -np.inf
            if index in external:
                fixed[index] = 0  # published elsewhere: hiding it protects nothing
            elif item.published is not None:
                fixed[index] = 0  # already public in an earlier release: hiding it protects nothing
                revised += item.published != item.current
            elif index in primary or item.hidden:
                fixed[index] = 1  # primary, or hidden by another year's release: showing it would reveal it
            else:
                decision.append(index)
        # "value": the counts hidden plus one per cell; a hidden zero costs as much as a hidden one
        # (it only gives room upwards, so it must not look free).
        cost = np.array([max(system.items[i].current or 0, 1) + 1.0 if by_value & set(system.items[i].tables)
                         else 1.0 for i in decision], dtype=float)
        always_hidden = {i for i, s in fixed.items() if s == 1 and
                         (system.items[i].current is not None or system.items[i].hidden)}
        return cls(system, fixed, decision, {item: k for k, item in enumerate(decision)}, cost,
                   primary, always_hidden, _ceilings(system, truth), revised)

    def audit(self, chosen: np.ndarray) -> tuple[list[Finding], Cuts]:
        hidden = self.always_hidden | {self.decision[k] for k in np.flatnonzero(chosen)}
        known: dict[int, int] = {}  # what the attacker reads: this release's value, else an earlier one's
        for i, item in enumerate(self.system.items):
            value = item.current if item.current is not None else item.published
            if i not in hidden and value is not None:
                known[i] = value
        return lp_audit(self.system, known, sorted(hidden), self.truth)

    def cut_rows(self, cuts: Cuts, unprotectable: set[int]) -> list[Row]:
        """A cut protects its item only when the item is hidden: sum(coef * s) >= rhs * s_item."""
        rows: list[Row] = []
        for item, (coef, rhs) in ((item, cut) for item, listed in cuts.items() for cut in listed):
            terms: dict[int, float] = {}
            bound = 0.0
            for j, c in [*coef.items(), (item, -rhs)]:
                if j in self.column:
                    terms[self.column[j]] = terms.get(self.column[j], 0.0) + c
                elif self.fixed.get(j) == 1:
                    bound -= c
            if bound > sum(c for c in terms.values() if c > 0) + TOLERANCE:
                unprotectable.add(item)
            elif bound > sum(c for c in terms.values() if c < 0) + TOLERANCE:
                rows.append((terms, bound))
        return rows

    def repair(self, cuts: Cuts, chosen: np.ndarray) -> bool:
        """Hide, for each failing cut, the cells with the least cost per unit of room it needs; when
        every cut is met already (a cut is valid for every pattern but may not separate this one),
        widen instead. False when there is nothing left to hide."""
        return self._repair_cuts(cuts, chosen) or self._widen(set(cuts), chosen)

    def _widen(self, failing: set[int], chosen: np.ndarray) -> bool:
        """Hide every undecided cell that shares a margin equation with a failing cell or with a cell
        an earlier widening hid. Hiding more only takes knowledge away, so a pattern that protects
        exists (at worst, every cell of the release hidden) and this reaches it ring by ring."""
        ring = failing | self.widened
        added = False
        for total, children in self.system.equations:
            members = [total, *children]
            if not ring.intersection(members):
                continue
            for item in members:
                k = self.column.get(item)
                if k is not None and not chosen[k]:
                    chosen[k] = added = True
                    self.widened.add(item)
        return added

    def _repair_cuts(self, cuts: Cuts, chosen: np.ndarray) -> bool:
        added = False
        for coef, rhs in (cut for listed in cuts.values() for cut in listed):
            hidden = self.always_hidden | {self.decision[k] for k in np.flatnonzero(chosen)}
            need = rhs - sum(c for j, c in coef.items() if j in hidden)
            options = sorted((self.cost[self.column[j]] / c, self.column[j]) for j, c in coef.items()
                             if c > TOLERANCE and j in self.column and not chosen[self.column[j]])
            for _, k in options:
                if need <= TOLERANCE:
                    break
                chosen[k] = True
                need -= coef[self.decision[k]]
                added = True
        return added


Row = tuple[dict[int, float], float]  # sum(coef * s_col) >= rhs


def _ceilings(system: System, truth: np.ndarray) -> np.ndarray:
    """``truth`` (this release's true base-cell counts) with every cell it cannot count, because only
    another year's release describes it (the earlier months of a rolling window), set to the most that
    cell can be: its published value, or the max of an LP over every sum the build knows (this
    release's true counts, every value published). A capacity cut bounds the room a hidden cell gives
    by its value; without one it assumed the full protection, so cuts through an earlier year's hidden
    cells never bit and a rolling window's second year was blocked with nothing left to try."""
    out = truth.copy()
    known: list[tuple[np.ndarray, float]] = []
    for item in system.items:
        value = item.current if item.current is not None else item.published
        if value is None:
            continue
        if len(item.members) == 1 and np.isnan(out[item.members[0]]):
            out[item.members[0]] = value
        known.append((item.members, float(value)))
    unknown = np.flatnonzero(np.isnan(out))
    if not len(unknown):
        return out
    column = np.full(len(out), -1)
    column[unknown] = np.arange(len(unknown))
    r_idx: list[int] = []
    c_idx: list[int] = []
    rhs: list[float] = []
    for members, total in known:
        free = column[members][column[members] >= 0]
        if len(free):
            r_idx.extend([len(rhs)] * len(free))
            c_idx.extend(free.tolist())
            rhs.append(total - float(np.nansum(out[members])))
    matrix = sparse.csr_matrix((np.ones(len(r_idx)), (r_idx, c_idx)), shape=(len(rhs), len(unknown)))
    for k, cell in enumerate(unknown):
        objective = np.zeros(len(unknown))
        objective[k] = -1.0
        result = linprog(objective, A_eq=matrix if len(rhs) else None, b_eq=np.array(rhs) if rhs else None,
                         bounds=(0, None), method="highs")
        if result.status == 0:  # else unbounded or inconsistent: no ceiling (the audit reports the latter)
            out[cell] = -float(result.fun)
    return out


def _external_items(system: System, current: Sequence[ExactTable]) -> set[int]:
    """Items of margins a table declares published elsewhere (``external_margins``)."""
    out: set[int] = set()
    for entry in current:
        if not entry.external:
            continue
        frame = entry.table.frame
        dims = entry.table.dimensions
        for margin in entry.external:
            rows = np.ones(len(frame), dtype=bool)
            for dim in dims:
                rows &= (frame[dim] == "All").to_numpy() != (dim in margin)
            out.update(system.row_items[entry.table.name][r] for r in np.flatnonzero(rows))
    return out


def _protection_rows(system: System, fixed: dict[int, int], column: dict[int, int]) -> list[Row]:
    """Per margin equation q = sum(children), for a hidden member i (values all known):
    another member is hidden, and the single-equation interval is wide enough."""
    rows: list[Row] = []

    def add(terms: list[tuple[int, float]], rhs_terms: list[tuple[int, float]], rhs: float) -> None:
        # sum(terms) >= sum(rhs_terms) + rhs, with fixed items moved to the right
        coef: dict[int, float] = {}
        bound = rhs
        for item, weight in terms:
            if item in column:
                coef[column[item]] = coef.get(column[item], 0.0) + weight
            else:
                bound -= weight * fixed[item]
        for item, weight in rhs_terms:
            if item in column:
                coef[column[item]] = coef.get(column[item], 0.0) - weight
            else:
                bound += weight * fixed[item]
        coef = {k: v for k, v in coef.items() if v != 0}
        lowest = sum(v for v in coef.values() if v < 0)
        highest = sum(v for v in coef.values() if v > 0)
        if lowest < bound <= highest:  # neither always true nor impossible (the audit reports that)
            rows.append((coef, bound))

    for total, children in system.equations:
        members = [total, *children]
        if any(system.items[m].current is None for m in members):
            continue  # an earlier-only cell of unknown value: left to the audit's cuts
        for i in members:
            if i not in column and fixed.get(i) != 1:
                continue
            others = [c for c in children if c != i]
            if i == total:
                add([(c, 1.0) for c in children], [(i, 1.0)], 0.0)
                continue
            add([(c, 1.0) for c in others] + [(total, 1.0)], [(i, 1.0)], 0.0)
            width = system.items[i].width
            value = system.items[i].current or 0
            if width > value:
                add([(c, float(system.items[c].current or 0)) for c in others] + [(total, float(width))],
                    [(i, float(width - value))], 0.0)
    return rows


def _solve(cost: np.ndarray, rows: list[Row], n: int, time_limit: float) -> tuple[np.ndarray, float] | None:
    """Cheapest pattern meeting every row and HiGHS's proven lower bound; None if none found in time."""
    if n == 0:
        return np.zeros(0, dtype=bool), 0.0
    constraints = []
    if rows:
        data, r, c = [], [], []
        for k, (coef, _) in enumerate(rows):
            for col, v in coef.items():
                r.append(k)
                c.append(col)
                data.append(v)
        matrix = sparse.csr_matrix((data, (r, c)), shape=(len(rows), n))
        constraints.append(LinearConstraint(matrix, np.array([b for _, b in rows]), np.inf))
    with quiet_stdout():
        result = milp(cost, constraints=constraints, integrality=np.ones(n), bounds=Bounds(0, 1),
                      options={"time_limit": time_limit, "mip_rel_gap": ILP_RELATIVE_GAP, "disp": False})
    if result.x is None:  # rows that no pattern meets were dropped, so only a time-out lands here
        return None
    bound = getattr(result, "mip_dual_bound", None)
    return result.x > 0.5, float(bound) if bound is not None and math.isfinite(bound) else float(result.fun)
