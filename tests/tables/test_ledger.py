"""Budget ledger: caps over all years, atomic reservations across processes, rebuild and cancel."""

from __future__ import annotations

import json
import math
import multiprocessing
from pathlib import Path

import pytest

from release.errors import BudgetError
from release.ledger import Ledger, Spend, epsilon_from_rho, rho_from_epsilon

CAP = 1.0
DELTA = 1e-9


def spends(person: float = 0.0, report: float = 0.0) -> list[Spend]:
    out = []
    if person:
        out.append(Spend("people_table", "person", "discrete_gaussian", person))
    if report:
        out.append(Spend("reports_table", "report", "discrete_gaussian", report))
    return out


def reserve(ledger: Ledger, run_id: str, year: int, **amounts: float) -> None:
    ledger.reserve(run_id=run_id, dataset="fioe", year=year, spends=spends(**amounts), cap_rho=CAP, delta=DELTA)


def spent(ledger: Ledger, unit: str) -> float:
    return next((u.spent_rho for u in ledger.report("fioe").units if u.privacy_unit == unit), 0.0)


@pytest.mark.parametrize(("earlier", "now", "allowed"), [
    ([0.5], 0.5, True),
    ([0.5], 0.6, False),
    ([0.3, 0.3], 0.4, True),
    ([0.3, 0.3], 0.5, False),
    ([], 1.2, False),
], ids=["exactly-the-cap", "over-the-cap", "three-years-fit", "three-years-over", "one-year-over"])
def test_the_cap_holds_over_all_years(tmp_path: Path, earlier: list[float], now: float, allowed: bool) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    for k, rho in enumerate(earlier):
        reserve(ledger, f"r{k}", 2018 + k, person=rho)
        ledger.commit(f"r{k}")
    if allowed:
        reserve(ledger, "now", 2022, person=now)
        assert spent(ledger, "person") == pytest.approx(sum(earlier) + now)
    else:
        with pytest.raises(BudgetError, match="privacy unit 'person'.*above the cap"):
            reserve(ledger, "now", 2022, person=now)
        assert ledger.status("now") is None  # nothing half-written
        assert spent(ledger, "person") == pytest.approx(sum(earlier))


def test_privacy_units_have_separate_budgets(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    reserve(ledger, "a", 2020, person=0.9, report=0.9)
    reserve(ledger, "b", 2021, report=0.1)
    with pytest.raises(BudgetError, match="'report'"):
        reserve(ledger, "c", 2022, report=0.1)


def _compete(path: str, run_id: str, year: int, barrier: "multiprocessing.synchronize.Barrier",
             results: "multiprocessing.Queue[tuple[str, bool]]") -> None:
    ledger = Ledger(Path(path))
    barrier.wait()
    try:
        reserve(ledger, run_id, year, person=0.6)
        results.put((run_id, True))
    except BudgetError:
        results.put((run_id, False))


def test_two_processes_cannot_both_spend_the_last_budget(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger(path)
    context = multiprocessing.get_context("fork")  # the children need this module, not a fresh import
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [context.Process(target=_compete, args=(str(path), f"run-{year}", year, barrier, results))
               for year in (2020, 2021)]
    for worker in workers:
        worker.start()
    outcome = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=120)
    assert sorted(outcome.values()) == [False, True]
    assert spent(Ledger(path), "person") == pytest.approx(0.6)


def test_rebuilding_a_draft_replaces_its_spend(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    reserve(ledger, "draft-1", 2020, person=0.8)
    ledger.commit("draft-1")
    reserve(ledger, "draft-2", 2020, person=0.8)  # would be 1.6 if it added
    ledger.commit("draft-2")
    assert spent(ledger, "person") == pytest.approx(0.8)
    assert ledger.status("draft-1") == "replaced"
    with pytest.raises(BudgetError, match="superseded by run 'draft-2'"):
        ledger.commit("draft-1")


def test_cancel_returns_the_reservation_and_restores_the_draft_it_replaced(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    reserve(ledger, "failed", 2021, person=0.7)
    ledger.cancel("failed")
    assert spent(ledger, "person") == 0.0
    reserve(ledger, "draft", 2020, person=0.3)
    ledger.commit("draft")
    reserve(ledger, "rebuild", 2020, person=0.5)
    ledger.cancel("rebuild")
    assert ledger.status("draft") == "committed"
    assert spent(ledger, "person") == pytest.approx(0.3)


def test_published_runs_are_never_replaced(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    reserve(ledger, "v1", 2020, person=0.5)
    ledger.commit("v1")
    ledger.mark_published("v1")
    reserve(ledger, "v2", 2020, person=0.4)
    assert ledger.status("v1") == "published"
    assert spent(ledger, "person") == pytest.approx(0.9)
    with pytest.raises(BudgetError, match="above the cap"):
        reserve(ledger, "v3", 2020, person=0.6)  # replaces v2, but v1 still counts: 0.5 + 0.6


@pytest.mark.parametrize("action", ["commit", "cancel", "mark_published"])
def test_unknown_runs_are_refused(tmp_path: Path, action: str) -> None:
    with pytest.raises(BudgetError, match="no reservation for run 'ghost'"):
        getattr(Ledger(tmp_path / "ledger.sqlite"), action)("ghost")


def test_run_ids_are_used_once(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    reserve(ledger, "r", 2020, person=0.1)
    with pytest.raises(BudgetError, match="already has a reservation"):
        reserve(ledger, "r", 2021, person=0.1)


def test_report_is_json_and_converts_rho_to_epsilon(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    reserve(ledger, "r", 2020, person=0.5, report=0.25)
    report = json.loads(json.dumps(ledger.report("fioe").to_dict()))
    assert report["delta"] == DELTA
    person = next(u for u in report["units"] if u["privacy_unit"] == "person")
    assert person["remaining_rho"] == pytest.approx(0.5)
    assert person["epsilon"] == pytest.approx(0.5 + 2 * math.sqrt(0.5 * math.log(1 / DELTA)))
    assert [(y["year"], y["privacy_unit"], y["statuses"]) for y in report["years"]] == [
        (2020, "person", ["reserved"]), (2020, "report", ["reserved"])]


@pytest.mark.parametrize(("rho", "epsilon"), [(0.0, 0.0), (0.5, 0.5 + 2 * math.sqrt(0.5 * math.log(1e9)))])
def test_conversions(rho: float, epsilon: float) -> None:
    assert epsilon_from_rho(rho, 1e-9) == pytest.approx(epsilon)
    assert rho_from_epsilon(1.0) == 0.5


@pytest.mark.parametrize("rho", [0.0, -0.1, math.inf, math.nan])
def test_spends_must_be_positive_and_finite(tmp_path: Path, rho: float) -> None:
    with pytest.raises(BudgetError, match="positive finite rho"):
        Ledger(tmp_path / "l.sqlite").reserve(run_id="r", dataset="fioe", year=2020, cap_rho=1.0, delta=DELTA,
                                              spends=[Spend("t", "person", "discrete_gaussian", rho)])
