"""The privacy budget of one build, and where the ledger lives.

Owns the reserve → commit / cancel life cycle of a run's spends (``reserve_budget``), the
ledger location rule (``ledger_path``), the manifest's privacy section and the
``budget`` command's report. The ledger itself (SQLite, caps) is ``release.ledger``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from release import tables as tables_api
from release.ledger import Ledger, ledger_file
from release.run_options import BuildOptions, Resolved


@dataclass
class RunBudget:
    """The privacy budget of this run: reserved before any noise, committed after the
    bundle is written, given back if the run fails for any reason."""

    ledger: Ledger | None
    run_id: str
    specs: list
    delta: float
    cap_rho: float
    spends: list
    committed: bool = False

    def commit(self) -> None:
        if self.ledger is not None and self.spends:
            self.ledger.commit(self.run_id)
        self.committed = True


@contextlib.contextmanager
def reserve_budget(options: BuildOptions, resolved: Resolved) -> Iterator[RunBudget]:
    policy = resolved.policy
    run_id = uuid.uuid4().hex
    if not policy.tables_file:
        yield RunBudget(None, run_id, [], 0.0, 0.0, [])
        return
    tables_policy = tables_api.load_tables_policy(resolved.rules_dir / policy.tables_file)
    specs = list(tables_policy.tables)
    spends = tables_api.planned_spends(specs, options.dataset, options.year)
    ledger = Ledger(ledger_path(options.out_dir, options.ledger))
    budget = RunBudget(ledger, run_id, specs, tables_policy.budget.delta, tables_policy.budget.cap_rho, spends)
    if spends:
        ledger.reserve(run_id=run_id, dataset=options.dataset, year=options.year, spends=spends,
                       cap_rho=tables_policy.budget.cap_rho, delta=tables_policy.budget.delta)
    try:
        yield budget
    finally:
        if spends and not budget.committed:
            ledger.cancel(run_id)


def ledger_path(out_dir: Path, explicit: Path | None = None) -> Path:
    """The privacy ledger: ``--ledger``, else ``$RELEASE_LEDGER``, else ``OUT/privacy_ledger.sqlite``."""
    return ledger_file(out_dir, explicit)


def privacy_section(tables: object, budget: RunBudget) -> dict[str, object]:
    """The manifest's ``privacy`` section: the run's spends and the tables' noise summary."""
    if tables is None:
        return {}
    by_unit: dict[str, float] = {}
    for spend in budget.spends:
        by_unit[spend.privacy_unit] = by_unit.get(spend.privacy_unit, 0.0) + spend.rho
    return {
        "ledger": str(budget.ledger.path) if budget.ledger is not None else None,
        "run_id": budget.run_id,
        "delta": budget.delta,
        "rho_cap": budget.cap_rho,
        "rho_spent": by_unit,
        "spends": [dataclasses.asdict(s) for s in budget.spends],
        "rows_dropped": tables.rows_dropped,  # type: ignore[attr-defined]
        "tables": tables.privacy_summary,  # type: ignore[attr-defined]
        "measurements": tables.measurements,  # type: ignore[attr-defined]
    }


def budget_report(dataset: str, out_dir: Path, ledger: Path | None = None) -> dict[str, object]:
    """Privacy spent and left per year and privacy unit, from the ledger."""
    path = ledger_path(out_dir, ledger)
    if not path.is_file():
        return {"dataset": dataset, "ledger": str(path), "years": [], "units": [], "note": "no ledger yet"}
    return {"ledger": str(path), **Ledger(path).report(dataset).to_dict()}
