"""Budget ledger: every draw charged once and stored, caps fixed at first use and only lowered,
the sum over all years and datasets under the cap, two processes never both past it, and an
append-only hash chain that an audit can check (the old replace-and-cancel behaviour gave
free draws and is gone: issue #12)."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from release.audit.ledger import cap_problems, chain_problems
from release.config.zcdp import rho_from_epsilon
from release.errors import BudgetError
from release.privacy.ledger import Charge, Ledger, caps_in_force, epsilon_from_rho, spent_by_unit

CAP = 1.0
DELTA = 1e-9


def mac(text: str) -> str:
    import hashlib
    import hmac
    return hmac.new(b"k" * 32, text.encode(), hashlib.sha256).hexdigest()


def charge(rho: float, year: int = 2020, dataset: str = "fioe", unit: str = "person") -> Charge:
    return Charge(unit=unit, dataset=dataset, table="t", data_year=year, release_year=year,
                  mechanism="discrete_gaussian", rho=rho, epsilon=None, run_id="run")


def draw(n: list[int]) -> Any:
    def make() -> dict[str, Any]:
        n.append(1)
        return {"table": "t", "noisy_values": [len(n)]}
    return make


def ledger_with_cap(tmp_path: Path, cap: float = CAP, **caps: float) -> Ledger:
    ledger = Ledger(tmp_path / "ledger.sqlite", mac)
    ledger.fix_caps({"person": cap, **caps}, DELTA)
    return ledger


def spent(ledger: Ledger, unit: str = "person") -> float:
    return spent_by_unit(ledger.entries()).get(unit, 0.0)


@pytest.mark.parametrize(("earlier", "now", "allowed"), [
    ([0.5], 0.5, True),
    ([0.5], 0.6, False),
    ([0.3, 0.3], 0.4, True),
    ([0.3, 0.3], 0.5, False),
    ([], 1.2, False),
], ids=["exactly-the-cap", "over-the-cap", "three-years-fit", "three-years-over", "one-year-over"])
def test_the_cap_holds_over_all_years(tmp_path: Path, earlier: list[float], now: float, allowed: bool) -> None:
    ledger = ledger_with_cap(tmp_path)
    drawn: list[int] = []
    for k, rho in enumerate(earlier):
        ledger.obtain(f"k{k}", charge(rho, 2018 + k), draw(drawn))
    if allowed:
        ledger.obtain("now", charge(now, 2022), draw(drawn))
        assert spent(ledger) == pytest.approx(sum(earlier) + now)
    else:
        with pytest.raises(BudgetError, match="privacy unit 'person'.*above the cap"):
            ledger.obtain("now", charge(now, 2022), draw(drawn))
        assert len(drawn) == len(earlier)  # refused before anything was drawn
        assert spent(ledger) == pytest.approx(sum(earlier))


def test_the_same_measurement_is_drawn_once_and_reused_free(tmp_path: Path) -> None:
    ledger = ledger_with_cap(tmp_path)
    drawn: list[int] = []
    first = ledger.obtain("same-spec:same-counts", charge(0.1), draw(drawn))
    again = [ledger.obtain("same-spec:same-counts", charge(0.1), draw(drawn)) for _ in range(25)]
    assert len(drawn) == 1 and spent(ledger) == pytest.approx(0.1)
    assert all(a.reused and a.record == first.record and a.charge == first.charge for a in again)
    changed = ledger.obtain("same-spec:other-counts", charge(0.1), draw(drawn))
    assert not changed.reused and len(drawn) == 2 and spent(ledger) == pytest.approx(0.2)


def test_units_composing_across_datasets_share_one_cap(tmp_path: Path) -> None:
    ledger = ledger_with_cap(tmp_path, other=1.0)
    ledger.obtain("a", charge(0.6, dataset="fioe"), draw([]))
    with pytest.raises(BudgetError, match="'person'"):
        ledger.obtain("b", charge(0.6, dataset="youthconnect"), draw([]))
    ledger.obtain("c", charge(0.6, dataset="best", unit="other"), draw([]))  # another unit: its own cap


def test_the_cap_is_fixed_at_first_use_and_only_lowered(tmp_path: Path) -> None:
    ledger = ledger_with_cap(tmp_path)
    with pytest.raises(BudgetError, match="can only be lowered"):
        ledger.fix_caps({"person": 5.0}, DELTA)
    assert ledger.fix_caps({"person": 0.5}, DELTA) == {"person": 0.5}
    assert caps_in_force(ledger.entries()) == {"person": 0.5}
    with pytest.raises(BudgetError, match="can only be lowered"):
        ledger.fix_caps({"person": 1.0}, DELTA)


def _compete(path: str, key: str, barrier: multiprocessing.synchronize.Barrier,
             results: multiprocessing.Queue[tuple[str, bool]]) -> None:
    ledger = Ledger(Path(path), mac)
    barrier.wait()
    try:
        ledger.obtain(key, charge(0.6), draw([]))
        results.put((key, True))
    except BudgetError:
        results.put((key, False))


def test_two_processes_cannot_both_spend_the_last_budget(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    Ledger(path, mac).fix_caps({"person": CAP}, DELTA)
    context = multiprocessing.get_context("fork")  # the children need this module, not a fresh import
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [context.Process(target=_compete, args=(str(path), key, barrier, results)) for key in ("a", "b")]
    for worker in workers:
        worker.start()
    outcome = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=120)
    assert sorted(outcome.values()) == [False, True]
    assert spent(Ledger(path)) == pytest.approx(0.6)


@pytest.mark.parametrize("statement", ["UPDATE entries SET body = '{}'", "DELETE FROM entries",
                                       "DELETE FROM measurements"], ids=["update", "delete", "delete-stored"])
def test_the_ledger_refuses_edits(tmp_path: Path, statement: str) -> None:
    ledger = ledger_with_cap(tmp_path)
    ledger.obtain("a", charge(0.1), draw([]))
    with sqlite3.connect(ledger.path) as db, pytest.raises(sqlite3.IntegrityError):
        db.execute(statement)


def test_an_edit_past_the_triggers_breaks_the_chain(tmp_path: Path) -> None:
    ledger = ledger_with_cap(tmp_path)
    ledger.obtain("a", charge(0.5), draw([]))
    assert chain_problems(ledger.entries(), mac) == [] and cap_problems(ledger.entries(), {"person": CAP}) == []
    with sqlite3.connect(ledger.path) as db:
        db.execute("DROP TRIGGER entries_no_update")
        db.execute("UPDATE entries SET body = replace(body, '\"rho\":0.5', '\"rho\":1e-06') WHERE kind = 'charge'")
        db.execute("UPDATE entries SET body = replace(body, '\"cap_rho\":1.0', '\"cap_rho\":100.0')")
    assert any("edited" in p for p in chain_problems(ledger.entries(), mac))


def test_an_appended_higher_cap_is_named(tmp_path: Path) -> None:
    ledger = ledger_with_cap(tmp_path)
    with ledger._transaction() as db:  # what a hand-written client could append
        ledger._append(db, "cap", {"unit": "person", "cap_rho": 100.0, "delta": DELTA})
    assert chain_problems(ledger.entries(), mac) == []
    assert any("raises the cap" in p for p in cap_problems(ledger.entries(), {"person": CAP}))
    assert any("above the cap" in p for p in cap_problems(ledger.entries(), {"person": 5.0}))


def test_bundles_and_publication_are_bound_to_the_manifest(tmp_path: Path) -> None:
    ledger = ledger_with_cap(tmp_path)
    got = ledger.obtain("a", charge(0.1), draw([]))
    ledger.bind_bundle(dataset="fioe", year=2020, run_id="r", manifest_sha256="m" * 64, measurements=[got.sha256],
                       charges=[got.charge])
    assert ledger.bundle("m" * 64, "r") is not None and ledger.bundle("x" * 64, "r") is None
    assert ledger.bundle("m" * 64) is not None and ledger.bundle("m" * 64, "q") is None
    ledger.mark_published(dataset="fioe", year=2020, run_id="r", manifest_sha256="m" * 64)
    assert [e.kind for e in ledger.entries()] == ["cap", "charge", "bundle", "publish"]
    assert json.loads(json.dumps([e.body for e in ledger.entries()]))  # plain JSON


@pytest.mark.parametrize("rho", [0.0, -0.1, float("inf"), float("nan")])
def test_charges_must_be_positive_and_finite(tmp_path: Path, rho: float) -> None:
    with pytest.raises(BudgetError, match="positive finite rho"):
        ledger_with_cap(tmp_path).obtain("k", charge(rho), draw([]))


def test_epsilon_comes_from_opendp_and_is_tighter_than_the_textbook_bound() -> None:
    import math
    textbook = 0.5 + 2 * math.sqrt(0.5 * math.log(1e9))
    assert epsilon_from_rho(0.0, 1e-9) == 0.0
    assert 0.9 * textbook < epsilon_from_rho(0.5, 1e-9) < textbook
    assert epsilon_from_rho(1.0, 1e-9) < epsilon_from_rho(1.0, 1e-12)
    assert rho_from_epsilon(1.0) == 0.5
