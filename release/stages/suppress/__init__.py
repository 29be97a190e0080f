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

This package module owns the entry points and the cutting-plane loop with its limits
(tests patch ``MAX_ROUNDS``, ``MAX_REPAIRS`` and ``_protection_rows`` here). The rest:
``published`` (the public types), ``ilp`` (the integer program), ``system`` (the linear
structure of everything published: items = sums of base cells) and ``audit`` (the LP
audit and its cuts).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np

from release.model import Finding
from release.stages.suppress.audit import SEED_PATIENCE, TOLERANCE, Cut, Cuts, lp_audit
from release.stages.suppress.audit import _ComponentLP as _ComponentLP
from release.stages.suppress.audit import _cut as _cut
from release.stages.suppress.ilp import ILP_RELATIVE_GAP, Row, _Plan, _protection_rows, _solve
from release.stages.suppress.published import ExactTable, Protection, PublishedTable, primary_mask
from release.stages.suppress.system import Item, System, build_system
from release.stages.suppress.system import _blocking as _blocking

__all__ = [
    "ILP_BUDGET_S", "ILP_RELATIVE_GAP", "ILP_TIME_LIMIT_S", "MAX_REPAIRS", "MAX_ROUNDS",
    "PROTECT_BUDGET_S", "SEED_PATIENCE", "TOLERANCE", "Cut", "Cuts", "ExactTable", "Item", "Protection",
    "PublishedTable", "Row", "System", "audit_suppression", "build_system", "lp_audit",
    "primary_mask", "protect",
]

MAX_ROUNDS = 25          # cutting-plane rounds before the greedy repair takes over
MAX_REPAIRS = 200
ILP_BUDGET_S = 150.0     # all cutting-plane rounds together
ILP_TIME_LIMIT_S = 30.0  # one ILP solve (HiGHS returns its best pattern when time is up)
PROTECT_BUDGET_S = 900.0  # then stop: the remaining failures block the release


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

    A safe start first: a hypercube around every primary cell (``hypercube``), audited; if it
    passes it is the incumbent. Then cutting planes improve on it within the time budget:
    solve the ILP, audit, add capacity cuts per failing cell, repeat; a cheaper pattern that
    passes replaces the incumbent. If no pattern passed when the loop stops, a greedy repair
    hides the cheapest cells each failing cut asks for (or, when every cut is met already, the
    cells sharing a margin with a failing one, ring by ring) until the audit passes;
    ``lower_bound`` (the best ILP bound) says how far from optimal the result may be.
    """
    from release.stages.suppress.hypercube import hypercube_start

    system = build_system([(t, "published") for t in prior] + [(e.table, "current") for e in current])
    plan = _Plan.build(system, current)
    rows = _protection_rows(system, plan.fixed, plan.column)
    deadline = time.monotonic() + ILP_BUDGET_S
    start = hypercube_start(plan, current)
    incumbent = start.copy() if not plan.audit(start)[0] else None
    chosen = np.zeros(len(plan.decision), dtype=bool)
    lower_bound, rounds, repairs = 0.0, 0, 0
    unprotectable: set[int] = set()
    failures: list[Finding] = []
    cuts: Cuts = {}
    passed = False  # only a pattern the audit passed counts: "no failures" of no audit is not a pass
    for _ in range(MAX_ROUNDS):
        rounds += 1  # reported: the cutting-plane rounds actually run
        limit = max(5.0, min(ILP_TIME_LIMIT_S, deadline - time.monotonic()))
        solved = _solve(plan.cost, rows, len(plan.decision), limit)
        if solved is None:  # no pattern found in time: repair the last one instead
            break
        chosen, bound = solved
        lower_bound = max(lower_bound, bound)
        failures, cuts = plan.audit(chosen)
        passed = not failures
        if passed:
            break
        new_rows = plan.cut_rows(cuts, unprotectable)
        if not new_rows or time.monotonic() > deadline:
            break
        rows.extend(new_rows)
    if incumbent is not None and (not passed or plan.cost[incumbent].sum() <= plan.cost[chosen].sum()):
        chosen, failures, cuts = incumbent, [], {}
    elif not passed:  # neither passed (or no pattern was ever audited): repair from both together
        chosen |= start
        failures, cuts = plan.audit(chosen)
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
        count = max(len(unprotectable | set(cuts)), sum(1 for f in failures if f.row_key))
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
