"""The suppression audit fails closed and sees what an attacker sees (issue #12): a solver status
other than optimal fails the cell; τ-ARGUS protection levels catch a hidden 3 whose range is
[3, 13]; noisy cells of the family and cells another release gives exactly constrain it; zero
cells are not free; and a safe hypercube start protects an n-dimensional table on its own."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from tables.tablekit import build_table, hide, independent_widths

from release.stages.suppress import ExactTable, audit_suppression, build_system, lp_audit, protect


def test_a_solver_status_other_than_optimal_fails_the_cell(monkeypatch: pytest.MonkeyPatch) -> None:
    import release.stages.suppress.audit as audit

    table = build_table([[20, 3, 30], [25, 40, 35], [30, 28, 50]])
    safe = protect([ExactTable(table, 10, "value")])
    published = hide(table, safe.suppressed["t"])
    assert audit_suppression([published]) == []
    monkeypatch.setattr(audit, "linprog", lambda *a, **k: SimpleNamespace(status=4, x=None, fun=np.nan))
    findings = audit_suppression([published])
    assert findings and {f.code for f in findings} == {"suppression_unverified"}
    assert all(f.severity == "blocking" for f in findings)


def _rectangle() -> tuple[object, object]:
    """A hidden 3 in a rectangle whose diagonal holds a zero: the 3 can rise by 10, never fall."""
    table = build_table([[3, 12], [15, 0]])
    cells = table.frame.index[(table.frame[["a", "b"]] != "All").all(axis=1)]
    mask = np.zeros(len(table.frame), dtype=bool)
    mask[cells] = True
    return table, hide(table, mask)


def test_sliding_width_alone_lets_the_truth_sit_at_the_edge() -> None:
    table, published = _rectangle()
    widths = independent_widths([published], ("a", "b"))
    assert min(widths.values()) >= 10 and audit_suppression([published]) == []  # the old check passed it


def test_protection_levels_catch_the_hidden_3_at_the_bottom_of_its_range() -> None:
    table, published = _rectangle()
    system = build_system([(table, "current")])
    hidden = [i for i, item in enumerate(system.items) if len(item.members) == 1]
    truth = np.full(len(system.singleton), np.nan)
    for i in hidden:
        truth[system.items[i].members[0]] = system.items[i].current
    three = next(i for i in hidden if system.items[i].current == 3)
    system.items[three].low_target = 0.0    # lower protection 10: it must be able to fall to max(3 - 10, 0)
    system.items[three].high_target = 13.0  # upper protection 10
    known = {i: int(item.current) for i, item in enumerate(system.items) if i not in hidden}  # type: ignore[arg-type]
    findings, cuts = lp_audit(system, known, hidden, truth)
    assert [f.row_key for f in findings] == ["t: a=a0|b=b0"] and three in cuts


def test_protect_meets_the_protection_levels() -> None:
    table = build_table([[3, 12, 30], [15, 0, 22], [40, 18, 9]])
    result = protect([ExactTable(table, 10, "value", lower_protection=10, upper_protection=10)])
    assert not [f for f in result.findings if f.severity == "blocking"]
    published = hide(table, result.suppressed["t"])
    from scipy.optimize import linprog
    values = table.frame["value"].to_numpy()
    rows = [(r, values[r]) for r in np.flatnonzero(result.suppressed["t"]) if 1 <= values[r] <= 10]
    widths = independent_widths([published], ("a", "b"))  # an LP written apart from the audit
    assert min(widths.values()) >= 10 and rows
    cells = published.frame[(published.frame[["a", "b"]] != "All").all(axis=1)]
    grid = [(a, b) for a, b in zip(cells["a"], cells["b"], strict=True)]
    a_eq, b_eq = [], []
    for _, row in published.frame[published.frame["status"] == "exact"].iterrows():
        a_eq.append([float((row["a"] in ("All", a)) and (row["b"] in ("All", b))) for a, b in grid])
        b_eq.append(float(row["value"]))
    for r, value in rows:
        target = [float(published.frame.at[r, "a"] == a and published.frame.at[r, "b"] == b) for a, b in grid]
        low = linprog(target, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        high = linprog([-t for t in target], A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert low.status == 0 and low.fun <= value - min(value, 10) + 1e-6
        assert high.status == 3 or -high.fun >= value + 10 - 1e-6


def test_noisy_cells_of_the_family_are_interval_constraints() -> None:
    counts = [[20, 3, 30], [25, 40, 35], [30, 28, 50]]
    table = build_table(counts, family="f")
    safe = protect([ExactTable(table, 10, "value")])
    published = hide(table, safe.suppressed["t"])
    assert audit_suppression([published]) == []
    noisy = build_table(counts, name="noisy", family="f")
    noisy.frame["status"] = "noisy"
    noisy.frame["lower"] = noisy.frame["value"]
    noisy.frame["upper"] = noisy.frame["value"]  # intervals so tight they pin every cell
    findings = audit_suppression([published, noisy])
    assert findings and {f.code for f in findings} == {"suppressed_cell_recoverable"}


def test_a_cell_another_release_gives_exactly_is_not_protected() -> None:
    table = build_table([[20, 3, 30], [25, 40, 35], [30, 28, 50]], family="f")
    published = hide(table, protect([ExactTable(table, 10, "value")]).suppressed["t"])
    again = build_table([[20, 3, 30], [25, 40, 35], [30, 28, 50]], name="other", family="f")
    assert {f.code for f in audit_suppression([published, again])} == {"suppressed_cell_recoverable"}


def test_a_hidden_zero_costs_as_much_as_a_hidden_one() -> None:
    from release.stages.suppress.ilp import _Plan
    table = build_table([[0, 1, 30], [25, 40, 35], [30, 28, 50]])
    system = build_system([(table, "current")])
    plan = _Plan.build(system, [ExactTable(table, 0, "value")])  # threshold 0: nothing primary, all decided
    cost = {system.items[i].current: plan.cost[k] for k, i in enumerate(plan.decision)}
    assert cost[0] == cost[1] == 2.0 and cost[30] == 31.0


def test_the_hypercube_start_protects_a_three_way_table_without_the_integer_program(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import release.stages.suppress as suppress
    monkeypatch.setattr(suppress, "_solve", lambda *args: None)  # the integer program finds nothing in time
    rng = np.random.default_rng(4)
    counts = rng.choice([3, 15, 20, 25, 40], size=(3, 3, 2), p=[0.1, 0.2, 0.3, 0.2, 0.2])
    table = build_table(counts, margins=[(0, 1), (0, 2), (1, 2), (0,), (1,), (2,), ()])
    result = protect([ExactTable(table, 10, "value")])
    assert result.repairs == 0 and not result.findings
    assert audit_suppression([hide(table, result.suppressed["t"])]) == []
