"""Suppression of exact tables: primary, complementary by integer program, and the LP audit.

Exact counts 1..threshold are hidden (primary). Complementary cells are then chosen by
an integer program (HiGHS via ``scipy.optimize.milp``) minimizing what is hidden, with
the classic per-equation protection constraints for every margin equation of this
release's tables, linked tables of one family and earlier releases on record. Those
constraints are necessary but not sufficient, so the LP audit (min and max of every
suppressed cell over everything published) runs after each solve and turns each failure
into a capacity cut from its LP duals (Fischetti & Salazar 2001). The loop ends when the
audit passes (a greedy repair finishes it if rounds or time run out);
``audit_suppression`` is then also the mandatory final gate.

Sections: public types and entry points; the integer program; the linear structure of
everything published (items = sums of base cells); the LP audit and its cuts.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp
from scipy.sparse.csgraph import connected_components

from release.model import Finding
from release.tables_spec import ALL

MAX_ROUNDS = 25          # cutting-plane rounds before the greedy repair takes over
MAX_REPAIRS = 200
ILP_BUDGET_S = 150.0     # all cutting-plane rounds together
ILP_TIME_LIMIT_S = 30.0  # one ILP solve (HiGHS returns its best pattern when time is up)
PROTECT_BUDGET_S = 900.0  # then stop: the remaining failures block the release
ILP_RELATIVE_GAP = 0.005  # stop within 0.5% of the proven optimum (exact for small objectives)


@dataclass(frozen=True)
class PublishedTable:
    """A table as published (or about to be): long form with ``value`` and ``status``.

    Cells of tables with the same ``family`` and ``period`` are the same quantities, so
    an earlier release of the same table, or a coarser table of the same rows, constrains
    what this one may reveal. ``period`` is what the counts describe: the data year, or
    "" when a month dimension dates each cell (``release.tables.period_of``).
    """

    name: str
    dimensions: tuple[str, ...]
    frame: pd.DataFrame
    period: str
    family: str = ""
    protection_width: int = 10
    release: str = "this release"

    @property
    def cell_family(self) -> str:
        return self.family or self.name


@dataclass(frozen=True)
class ExactTable:
    """An exact table of this release before suppression (all values true counts)."""

    table: PublishedTable
    threshold: int
    cost: str  # "value" | "count"


@dataclass(frozen=True)
class Protection:
    suppressed: dict[str, np.ndarray]  # table name -> row mask, in frame order
    primary: int
    complementary: int
    rounds: int              # cutting-plane rounds (ILP + audit)
    repairs: int             # greedy repair passes after the rounds (0: the ILP pattern passed)
    objective: float         # cost of the complementary cells hidden
    lower_bound: float
    findings: tuple[Finding, ...]


def primary_mask(values: np.ndarray, threshold: int) -> np.ndarray:
    """Counts 1..threshold are hidden; zero stays published."""
    return (values >= 1) & (values <= threshold)


def audit_suppression(published: Sequence[PublishedTable]) -> list[Finding]:
    """Every suppressed cell must keep an LP interval at least its protection width wide.

    The attacker knows every exact value in ``published`` (this release and earlier
    ones), that counts are non-negative, and how margins and linked tables add up.
    """
    system = build_system([(t, "published") for t in published])
    known = {i: item.published for i, item in enumerate(system.items) if item.published is not None}
    return system.findings + lp_audit(system, known, system.suppressed_items())[0]


def protect(current: Sequence[ExactTable], prior: Sequence[PublishedTable] = ()) -> Protection:
    """Primary and complementary suppression of this release's exact tables, given ``prior``.

    Cutting planes: solve the ILP, audit, add a capacity cut per failing cell, repeat. If
    the loop runs out of rounds or time, a greedy repair hides the cheapest cells each
    failing cut asks for until the audit passes; ``lower_bound`` (the best ILP bound)
    then says how far from optimal the result may be.
    """
    system = build_system([(t, "published") for t in prior] + [(e.table, "current") for e in current])
    plan = _Plan.build(system, current)
    rows = _protection_rows(system, plan.fixed, plan.column)
    deadline = time.monotonic() + ILP_BUDGET_S
    chosen = np.zeros(len(plan.decision), dtype=bool)
    lower_bound, rounds, repairs = 0.0, 0, 0
    unprotectable: set[int] = set()
    failures: list[Finding] = []
    cuts: dict[int, Cut] = {}
    for rounds in range(1, MAX_ROUNDS + 1):
        limit = max(5.0, min(ILP_TIME_LIMIT_S, deadline - time.monotonic()))
        solved = _solve(plan.cost, rows, len(plan.decision), limit)
        if solved is None:  # no pattern found in time: repair the last one instead
            break
        chosen, bound = solved
        lower_bound = max(lower_bound, bound)
        failures, cuts = plan.audit(chosen)
        if not failures:
            break
        new_rows = plan.cut_rows(cuts, unprotectable)
        if not new_rows or time.monotonic() > deadline:
            break
        rows.extend(new_rows)
    give_up = deadline - ILP_BUDGET_S + PROTECT_BUDGET_S
    while failures and repairs < MAX_REPAIRS and time.monotonic() < give_up and plan.repair(cuts, chosen):
        repairs += 1
        failures, cuts = plan.audit(chosen)
    findings = list(system.findings)
    if plan.revised:
        findings.append(Finding(
            stage="suppress", code="published_cell_revised", severity="blocking",
            message=f"{plan.revised} cells differ from the exact values an earlier release published",
            rule="protection_width", count=plan.revised))
    if unprotectable or failures:
        count = len(unprotectable | set(cuts))
        findings.append(Finding(
            stage="suppress", code="suppression_unprotectable", severity="blocking",
            message=f"{count} suppressed cells stay narrower than their protection width after "
                    "complementary suppression (pinned by earlier releases or linked tables, or "
                    "the search ran out of time)",
            rule="protection_width", count=count))
    final = plan.always_hidden | {plan.decision[k] for k in np.flatnonzero(chosen)}
    suppressed = {e.table.name: np.array([i in final or i in plan.primary
                                          for i in system.row_items[e.table.name]], dtype=bool)
                  for e in current}
    return Protection(suppressed=suppressed, primary=len(plan.primary), complementary=int(chosen.sum()),
                      rounds=rounds, repairs=repairs, objective=float(plan.cost[chosen].sum()),
                      lower_bound=min(lower_bound, float(plan.cost[chosen].sum())),
                      findings=tuple(findings))


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
    truth: np.ndarray
    revised: int

    @classmethod
    def build(cls, system: System, current: Sequence[ExactTable]) -> "_Plan":
        thresholds = {e.table.name: e.threshold for e in current}
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
            if primary_mask(np.array([item.current]), threshold)[0]:
                primary.add(index)
            if item.published is not None:
                fixed[index] = 0  # already public in an earlier release: hiding it protects nothing
                revised += item.published != item.current
            elif index in primary:
                fixed[index] = 1
            else:
                decision.append(index)
        cost = np.array([(system.items[i].current or 0) + 1.0 if by_value & set(system.items[i].tables)
                         else 1.0 for i in decision], dtype=float)
        always_hidden = {i for i, s in fixed.items() if s == 1 and
                         (system.items[i].current is not None or system.items[i].hidden)}
        return cls(system, fixed, decision, {item: k for k, item in enumerate(decision)}, cost,
                   primary, always_hidden, truth, revised)

    def audit(self, chosen: np.ndarray) -> tuple[list[Finding], dict[int, Cut]]:
        hidden = self.always_hidden | {self.decision[k] for k in np.flatnonzero(chosen)}
        known = {i: (item.current if item.current is not None else item.published)
                 for i, item in enumerate(self.system.items)
                 if i not in hidden and (item.current is not None or item.published is not None)}
        return lp_audit(self.system, known, sorted(hidden), self.truth)  # type: ignore[arg-type]

    def cut_rows(self, cuts: dict[int, Cut], unprotectable: set[int]) -> list[Row]:
        """A cut protects its item only when the item is hidden: sum(coef * s) >= rhs * s_item."""
        rows: list[Row] = []
        for item, (coef, rhs) in cuts.items():
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

    def repair(self, cuts: dict[int, Cut], chosen: np.ndarray) -> bool:
        """Hide, for each failing cut, the cells with the least cost per unit of room it needs."""
        added = False
        for item, (coef, rhs) in cuts.items():
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
    result = milp(cost, constraints=constraints, integrality=np.ones(n), bounds=Bounds(0, 1),
                  options={"time_limit": time_limit, "mip_rel_gap": ILP_RELATIVE_GAP, "disp": False})
    if result.x is None:  # rows that no pattern meets were dropped, so only a time-out lands here
        return None
    bound = getattr(result, "mip_dual_bound", None)
    return result.x > 0.5, float(bound) if bound is not None and math.isfinite(bound) else float(result.fun)


# ---- the linear structure of everything published ------------------------------------

@dataclass
class Item:
    """One published quantity: a sum of base cells of a (family, period) cross-classification."""

    members: np.ndarray
    label: str
    tables: list[str]
    width: int = 0
    published: int | None = None  # exact value already public (earlier releases)
    current: int | None = None    # true value in this release's exact tables
    hidden: bool = False          # shown as suppressed in some published table


@dataclass
class System:
    items: list[Item]
    singleton: np.ndarray                      # base cell -> its own item, or -1
    equations: list[tuple[int, list[int]]]     # margin item = sum of child items
    row_items: dict[str, list[int]]            # current table -> item of each row
    findings: list[Finding]

    def suppressed_items(self) -> list[int]:
        return [i for i, item in enumerate(self.items) if item.hidden and item.published is None]


def build_system(tables: list[tuple[PublishedTable, str]]) -> System:
    """Items (published quantities) as sums of base cells, and the margin equations.

    Tables of one family and period share a grid of base cells over the union of their
    categories; a row's ``All`` sums over *that table's* categories (a rolling month window
    of last year's release covers other months than this year's). Items are identified by
    their set of base cells, so the same quantity in two tables or releases is one item.
    """
    groups: dict[tuple[str, str], list[PublishedTable]] = {}
    for table, _ in tables:
        groups.setdefault((table.cell_family, table.period), []).append(table)
    layout: dict[tuple[str, str], tuple[list[str], list[list[str]], np.ndarray]] = {}
    offset = 0
    for key, members in groups.items():
        dims: list[str] = []
        cats: list[list[str]] = []
        for table in members:
            for dim in table.dimensions:
                if dim not in dims:
                    dims.append(dim)
                    cats.append([])
                known = cats[dims.index(dim)]
                known += [v for v in pd.unique(table.frame[dim].astype(str)) if v != ALL and v not in known]
        shape = tuple(len(c) for c in cats)
        layout[key] = (dims, cats, np.arange(math.prod(shape)).reshape(shape) + offset)
        offset += math.prod(shape)
    items: list[Item] = []
    index: dict[tuple[object, ...], int] = {}
    shapes: list[tuple[tuple[str, str], tuple[object, ...]]] = []  # item -> (group, per-dim selection)
    row_items: dict[str, list[int]] = {}
    findings: list[Finding] = []
    singleton = np.full(offset, -1, dtype=np.int64)

    def item_for(gkey: tuple[str, str], selection: tuple[object, ...], label: str) -> int:
        grid = layout[gkey][2]
        members = np.sort(grid[np.ix_(*[np.atleast_1d(np.asarray(s)) for s in selection])].reshape(-1))
        key = (gkey, members.tobytes())
        if key not in index:
            index[key] = len(items)
            shapes.append((gkey, selection))
            if len(members) == 1:
                singleton[members[0]] = len(items)
            items.append(Item(members=members, label=label, tables=[]))
        return index[key]

    for table, role in tables:
        gkey = (table.cell_family, table.period)
        dims, cats = layout[gkey][0], layout[gkey][1]
        lookup = [{c: i for i, c in enumerate(cs)} for cs in cats]
        columns = [table.frame[d].astype(str).to_numpy() if d in table.dimensions else None for d in dims]
        own = [tuple(sorted(lookup[k][v] for v in set(col) if v != ALL)) if col is not None
               else tuple(range(len(cats[k]))) for k, col in enumerate(columns)]
        ids: list[int] = []
        conflicts = 0
        for r, (value, status) in enumerate(zip(table.frame["value"], table.frame["status"])):
            selection = tuple(own[k] if col is None or col[r] == ALL else lookup[k][col[r]]
                              for k, col in enumerate(columns))
            label = "|".join(f"{d}={col[r]}" for d, col in zip(dims, columns) if col is not None)
            i = item_for(gkey, selection, f"{table.name}: {label}")
            item = items[i]
            ids.append(i)
            item.tables.append(table.name)
            if role == "current":
                item.current = int(value)
                item.width = max(item.width, table.protection_width)
            elif status == "exact":
                conflicts += item.published is not None and item.published != int(value)
                item.published = int(value) if item.published is None else item.published
            elif status == "suppressed":
                item.hidden = True
                item.width = max(item.width, table.protection_width)
        if role == "current":
            row_items[table.name] = ids
        if conflicts:
            findings.append(_blocking("published_values_inconsistent", table, "", f"{conflicts} cells "
                                      "were published with different exact values", count=conflicts))
    equations: list[tuple[int, list[int]]] = []
    for i, (gkey, selection) in enumerate(list(shapes)):
        grid = layout[gkey][2]
        for k, chosen in enumerate(selection):
            if not isinstance(chosen, tuple) or len(chosen) < 2:
                continue
            children = []
            for c in chosen:
                sub = selection[:k] + (c,) + selection[k + 1:]
                members = np.sort(grid[np.ix_(*[np.atleast_1d(np.asarray(s)) for s in sub])].reshape(-1))
                children.append(index.get((gkey, members.tobytes())))
            if all(c is not None for c in children):
                equations.append((i, [int(c) for c in children if c is not None]))
    return System(items=items, singleton=singleton, equations=equations, row_items=row_items,
                  findings=findings)


def _blocking(code: str, table: PublishedTable, row_key: str, message: str,
              count: int | None = None) -> Finding:
    return Finding(stage="suppress", code=code, severity="blocking", message=message,
                   file=table.name, row_key=row_key or None, rule="protection_width", count=count)


# ---- the audit: LP min and max of every suppressed cell ---------------------------------

TOLERANCE = 1e-7
SEED_PATIENCE = 3  # random probes in a row that resolve under 1% of the pending items


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


Cut = tuple[dict[int, float], float]  # sum(coef[item] * hidden[item]) >= rhs
