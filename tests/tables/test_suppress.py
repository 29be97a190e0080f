"""Suppression: primary alone leaks, complementary cells fix it, the audit proves it,
and linked tables and earlier releases cannot be combined to recover a hidden count."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from tables.tablekit import build_table, hide, independent_widths

from release.stages.suppress import ExactTable, audit_suppression, build_system, lp_audit, primary_mask, protect

TABLES = {
    "one-small-cell": [[20, 3, 30], [25, 40, 35], [30, 28, 50]],
    "two-small-in-a-row": [[4, 6, 50, 41], [30, 22, 25, 19], [12, 40, 33, 27]],
    "small-row-total": [[2, 3, 0], [40, 35, 29], [18, 44, 26]],
    "zeros-and-smalls": [[0, 7, 15, 0], [11, 0, 9, 30], [25, 18, 0, 12]],
}


def primary_only(table):
    values = table.frame["value"].to_numpy()
    return hide(table, primary_mask(values, 10))


@pytest.mark.parametrize("counts", TABLES.values(), ids=TABLES.keys())
def test_primary_suppression_alone_is_recoverable(counts: list[list[int]]) -> None:
    findings = audit_suppression([primary_only(build_table(counts))])
    assert findings and {f.code for f in findings} == {"suppressed_cell_recoverable"}
    assert all(f.severity == "blocking" for f in findings)


@pytest.mark.parametrize("counts", TABLES.values(), ids=TABLES.keys())
def test_complementary_cells_protect_every_suppressed_cell(counts: list[list[int]]) -> None:
    table = build_table(counts)
    result = protect([ExactTable(table, threshold=10, cost="value")])
    published = hide(table, result.suppressed["t"])
    values = table.frame["value"].to_numpy()
    assert result.complementary >= 1
    assert (result.suppressed["t"] >= primary_mask(values, 10)).all()
    assert audit_suppression([published]) == []
    widths = independent_widths([published], ("a", "b"))
    assert widths and min(widths.values()) >= table.protection_width


def test_zero_stays_published_and_threshold_is_inclusive() -> None:
    assert primary_mask(np.array([0, 1, 10, 11]), 10).tolist() == [False, True, True, False]


def test_linked_tables_of_one_family_are_protected_together() -> None:
    counts = [[20, 3, 30], [25, 40, 35], [30, 28, 50]]
    detail = build_table(counts, name="detail", family="reports")
    by_a = build_table([sum(r) for r in counts], margins=[()], name="by_a", family="reports", dims=("a",))
    # by_a publishes the detail table's row totals: hiding a row total in one but not the other leaks
    result = protect([ExactTable(detail, 10, "value"), ExactTable(by_a, 10, "value")])
    published = [hide(detail, result.suppressed["detail"]), hide(by_a, result.suppressed["by_a"])]
    assert audit_suppression(published) == []
    widths = independent_widths(published, ("a", "b"))
    assert min(widths.values()) >= 10
    detail_totals = detail.frame["b"].eq("All") & detail.frame["a"].ne("All")
    assert result.suppressed["detail"][detail_totals.to_numpy()].tolist() == result.suppressed["by_a"][:3].tolist()


def test_earlier_release_cannot_be_combined_to_recover_a_cell() -> None:
    counts = [[20, 3, 30], [25, 40, 35], [30, 28, 50]]
    table = build_table(counts)
    # last year's release of the same table hid the small cell with a different rectangle
    cells = table.frame.index[table.frame["a"].ne("All") & table.frame["b"].ne("All")]
    rectangle = np.zeros(len(table.frame), dtype=bool)
    rectangle[cells[[1, 2, 4, 5]]] = True  # a0b1, a0b2, a1b1, a1b2
    prior = hide(table, rectangle)
    assert audit_suppression([prior]) == []  # safe on its own

    naive = protect([ExactTable(table, 10, "value")])
    assert audit_suppression([prior, hide(table, naive.suppressed["t"])])  # together they leak

    aware = protect([ExactTable(table, 10, "value")], prior=[prior])
    current = hide(table, aware.suppressed["t"])
    assert audit_suppression([prior, current]) == []
    assert min(independent_widths([prior, current], ("a", "b")).values()) >= 10


def test_a_different_period_does_not_constrain() -> None:
    table = build_table([[20, 3, 30], [25, 40, 35], [30, 28, 50]])
    last_year = build_table([[1, 2, 3], [4, 5, 6], [7, 8, 9]], period="2019")
    alone = protect([ExactTable(table, 10, "value")])
    with_prior = protect([ExactTable(table, 10, "value")], prior=[last_year])
    assert with_prior.findings == ()
    assert (with_prior.suppressed["t"] == alone.suppressed["t"]).all()
    assert audit_suppression([last_year, hide(table, with_prior.suppressed["t"])]) == []


def test_a_cell_pinned_by_an_earlier_release_is_reported_unprotectable() -> None:
    counts = [[20, 3, 30], [25, 40, 35], [30, 28, 50]]
    table = build_table(counts)
    leaky = np.zeros(len(table.frame), dtype=bool)
    leaky[1] = True  # an earlier release hid a0b1 alone: its row total gives it away
    prior = hide(table, leaky)
    result = protect([ExactTable(table, 10, "value")], prior=[prior])
    codes = {f.code for f in result.findings}
    assert "suppression_unprotectable" in codes
    assert audit_suppression([prior, hide(table, result.suppressed["t"])])


def test_contradicting_exact_values_block() -> None:
    first = build_table([[20, 30], [25, 40]])
    second = build_table([[21, 30], [25, 40]])
    second = hide(second, np.array([False, True] + [False] * (len(second.frame) - 2)))
    codes = {f.code for f in audit_suppression([first, second])}
    assert "published_values_inconsistent" in codes


def test_findings_name_cells_by_codebook_labels_only() -> None:
    findings = audit_suppression([primary_only(build_table(TABLES["one-small-cell"]))])
    assert findings[0].row_key == "t: a=a0|b=b1"
    assert findings[0].file == "t" and findings[0].rule == "protection_width"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_capacity_cuts_never_exclude_a_protecting_pattern(seed: int) -> None:
    """Every cut the audit produces holds for every pattern that passes the audit."""
    rng = np.random.default_rng(seed)
    counts = rng.choice([0, 3, 8, 15, 25, 40], size=(2, 3))
    table = build_table(counts)
    system = build_system([(table, "current")])
    truth = np.full(len(system.singleton), np.nan)
    for item in system.items:
        if len(item.members) == 1:
            truth[item.members[0]] = item.current
    n = len(system.items)
    values = np.array([item.current for item in system.items])
    primary = set(np.flatnonzero(primary_mask(values, 10)).tolist()) or {0}
    patterns = [set(primary) | set(extra) for k in range(0, 4)
                for extra in itertools.combinations([i for i in range(n) if i not in primary], k)]
    cuts, passing = [], []
    for hidden in patterns:
        known = {i: int(values[i]) for i in range(n) if i not in hidden}
        findings, found = lp_audit(system, known, sorted(hidden), truth)
        (cuts.extend((item, cut) for item, listed in found.items() for cut in listed)
         if findings else passing.append(hidden))
    assert cuts and passing
    for item, (coef, rhs) in cuts:  # a cut protects its item in patterns that hide it
        for hidden in (p for p in passing if item in p):
            assert sum(c for i, c in coef.items() if i in hidden) >= rhs - 1e-6


@pytest.mark.parametrize(("rounds", "repairs", "passes"), [(1, 200, True), (1, 0, False)],
                         ids=["greedy-repair-finishes", "out-of-time-blocks"])
def test_when_the_cutting_planes_stop_repair_finishes_or_the_release_blocks(
        monkeypatch: pytest.MonkeyPatch, rounds: int, repairs: int, passes: bool) -> None:
    import release.stages.suppress as suppress
    import release.stages.suppress.hypercube as hypercube
    monkeypatch.setattr(suppress, "_protection_rows", lambda *args: [])  # start from primary only
    monkeypatch.setattr(hypercube, "hypercube_start",  # ... and without the safe start (issue #12)
                        lambda plan, current: np.zeros(len(plan.decision), dtype=bool))
    monkeypatch.setattr(suppress, "MAX_ROUNDS", rounds)
    monkeypatch.setattr(suppress, "MAX_REPAIRS", repairs)
    table = build_table(TABLES["two-small-in-a-row"])
    result = protect([ExactTable(table, 10, "value")])
    clean = audit_suppression([hide(table, result.suppressed["t"])]) == []
    assert clean is passes
    assert ({f.code for f in result.findings} == set()) is passes
    if not passes:
        assert {f.severity for f in result.findings} == {"blocking"}


def test_rolling_month_windows_of_two_releases_share_their_common_months() -> None:
    """Last year's window (m1, m2) and this year's (m2, m3) both publish month m2."""
    rows = ("x0", "x1", "x2")
    last = build_table([[30, 3], [40, 50], [60, 45]], name="t", period="", dims=("place", "month"),
                       categories=(rows, ("m1", "m2")))
    this = build_table([[3, 35], [50, 44], [45, 52]], name="t", period="", dims=("place", "month"),
                       categories=(rows, ("m2", "m3")))
    last_published = hide(last, last.frame.index.isin([0, 1, 2, 3]).astype(bool))  # x0,x1 x m1,m2
    assert audit_suppression([last_published]) == []
    # hiding x0m2 this year with a rectangle through x2 publishes x1m2, which unlocks last year's
    naive = hide(this, this.frame.index.isin([0, 1, 4, 5]).astype(bool))
    assert audit_suppression([naive]) == []
    assert audit_suppression([last_published, naive])  # together they leak
    aware = protect([ExactTable(this, 10, "value")], prior=[last_published])
    current = hide(this, aware.suppressed["t"])
    assert audit_suppression([last_published, current]) == []
    system = build_system([(last_published, "published"), (current, "published")])
    shared = [item for item in system.items if len(item.tables) == 2]
    assert {item.label.split(": ")[1] for item in shared} == {
        "place=x0|month=m2", "place=x1|month=m2", "place=x2|month=m2", "place=All|month=m2"}
