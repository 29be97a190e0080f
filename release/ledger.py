"""Privacy budget ledger: what each release spent, per dataset, privacy unit, year and table.

One SQLite file persists across releases and years. Budgets add up under zCDP (rho);
the cap holds per dataset and privacy unit over *all* years, because a unit's data can
appear in several years' tables. A run reserves its spends atomically (``BEGIN
IMMEDIATE``: two processes cannot both pass the cap), then commits or cancels. A rebuild
of the same dataset and year replaces that year's unpublished run instead of adding to
it; ``mark_published`` makes a run permanent, so a later rebuild adds to it.
"""

from __future__ import annotations

import math
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from release.errors import BudgetError

COUNTED = ("reserved", "committed", "published")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY, dataset TEXT NOT NULL, year INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('reserved','committed','published','cancelled','replaced')),
    replaced_by TEXT, status_before TEXT, cap_rho REAL NOT NULL, delta REAL NOT NULL,
    created TEXT NOT NULL, updated TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spends (
    run_id TEXT NOT NULL REFERENCES runs(run_id), table_name TEXT NOT NULL,
    privacy_unit TEXT NOT NULL, mechanism TEXT NOT NULL, rho REAL NOT NULL, epsilon REAL,
    PRIMARY KEY (run_id, table_name));
"""


@dataclass(frozen=True)
class Spend:
    """One noisy table's cost. ``epsilon`` is the pure-DP parameter of a Laplace table."""

    table: str
    privacy_unit: str
    mechanism: str
    rho: float
    epsilon: float | None = None


def epsilon_from_rho(rho: float, delta: float) -> float:
    """rho-zCDP implies (rho + 2 sqrt(rho ln(1/delta)), delta)-DP (Bun & Steinke 2016, Prop. 1.3)."""
    return rho + 2 * math.sqrt(rho * math.log(1 / delta)) if rho > 0 else 0.0


def rho_from_epsilon(epsilon: float) -> float:
    """Pure epsilon-DP implies (epsilon^2 / 2)-zCDP (Bun & Steinke 2016, Prop. 1.4)."""
    return epsilon * epsilon / 2


@dataclass(frozen=True)
class YearLine:
    year: int
    privacy_unit: str
    rho: float
    epsilon: float
    statuses: tuple[str, ...]


@dataclass(frozen=True)
class UnitLine:
    privacy_unit: str
    cap_rho: float
    spent_rho: float
    remaining_rho: float
    epsilon: float  # of the total spent, at ``delta``


@dataclass(frozen=True)
class BudgetReport:
    dataset: str
    delta: float
    years: tuple[YearLine, ...]
    units: tuple[UnitLine, ...]

    def to_dict(self) -> dict[str, object]:
        return {"dataset": self.dataset, "delta": self.delta,
                "years": [asdict(y) | {"statuses": list(y.statuses)} for y in self.years],
                "units": [asdict(u) for u in self.units]}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _within_cap(total_rho: float, cap_rho: float) -> bool:
    """The one cap test (a relative 1e-12 slack for float sums)."""
    return total_rho <= cap_rho * (1 + 1e-12)


def ledger_file(out_dir: Path, explicit: Path | None = None, recorded: object = None) -> Path:
    """Which ledger: ``--ledger``, else ``$RELEASE_LEDGER``, else the one a bundle's manifest
    ``recorded`` (for publish and audit), else ``OUT/privacy_ledger.sqlite``."""
    env = os.environ.get("RELEASE_LEDGER")
    if explicit is not None:
        return explicit
    if env:
        return Path(env)
    return Path(str(recorded)) if recorded else out_dir / "privacy_ledger.sqlite"


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with closing(sqlite3.connect(self.path, timeout=60)) as db:
                db.executescript(_SCHEMA)  # idempotent; executescript manages its own transaction
        except sqlite3.Error as exc:
            raise self._unreadable(exc) from None

    def _unreadable(self, exc: sqlite3.Error) -> BudgetError:
        return BudgetError(f"the privacy ledger cannot be used ({type(exc).__name__})", file=str(self.path),
                           rule="ledger")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE transaction: writers queue, readers never see half a change."""
        try:
            with closing(sqlite3.connect(self.path, timeout=60, isolation_level=None)) as db:
                db.execute("PRAGMA foreign_keys = ON")
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                except BaseException:
                    db.execute("ROLLBACK")
                    raise
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._unreadable(exc) from None

    def reserve(self, *, run_id: str, dataset: str, year: int, spends: Sequence[Spend],
                cap_rho: float, delta: float) -> None:
        for spend in spends:
            if not (math.isfinite(spend.rho) and spend.rho > 0):
                raise BudgetError(f"spend for table '{spend.table}' must have a positive finite rho",
                                  rule="budget")
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone():
                raise BudgetError(f"run '{run_id}' already has a reservation", rule="budget")
            replaced = [r for (r,) in db.execute(
                "SELECT run_id FROM runs WHERE dataset = ? AND year = ? AND status IN "
                "('reserved','committed')", (dataset, year))]
            spent = self._spent_by_unit(db, dataset, exclude=replaced)
            for unit in sorted({s.privacy_unit for s in spends}):
                adding = sum(s.rho for s in spends if s.privacy_unit == unit)
                if not _within_cap(spent.get(unit, 0.0) + adding, cap_rho):
                    raise BudgetError(
                        f"{dataset} {year}: privacy unit '{unit}' would spend rho "
                        f"{spent.get(unit, 0.0) + adding:.4g} over all years, above the cap "
                        f"{cap_rho:.4g} (already spent {spent.get(unit, 0.0):.4g})", rule="budget")
            now = _now()
            db.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?)",
                       (run_id, dataset, year, "reserved", None, None, cap_rho, delta, now, now))
            db.executemany("INSERT INTO spends VALUES (?,?,?,?,?,?)",
                           [(run_id, s.table, s.privacy_unit, s.mechanism, s.rho, s.epsilon)
                            for s in spends])
            db.executemany("UPDATE runs SET status_before = status, status = 'replaced', "
                           "replaced_by = ?, updated = ? WHERE run_id = ?",
                           [(run_id, now, r) for r in replaced])

    def commit(self, run_id: str) -> None:
        """The run finished: its spend stays (until a rebuild of the same year replaces it)."""
        self._move(run_id, "reserved", "committed")

    def mark_published(self, run_id: str) -> None:
        """The run's tables go public: its spend is permanent and never replaced."""
        self._move(run_id, "committed", "published")

    def unmark_published(self, run_id: str) -> None:
        """A publication that failed before its files went out gives the mark back."""
        self._move(run_id, "published", "committed")

    def cancel(self, run_id: str) -> None:
        """A failed run gives its reservation back; a draft it was replacing counts again."""
        with self._transaction() as db:
            row = db.execute("SELECT status, dataset FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                raise BudgetError(f"no reservation for run '{run_id}'", rule="budget")
            if row[0] not in ("reserved", "replaced"):
                raise BudgetError(f"run '{run_id}' is {row[0]} and cannot be cancelled", rule="budget")
            db.execute("UPDATE runs SET status = 'cancelled', updated = ? WHERE run_id = ?",
                       (_now(), run_id))
            for old, cap in db.execute("SELECT run_id, cap_rho FROM runs WHERE replaced_by = ? AND "
                                       "status = 'replaced' AND status_before = 'committed'",
                                       (run_id,)).fetchall():
                restore = self._fits(db, row[1], old, cap)
                db.execute("UPDATE runs SET status = ?, replaced_by = NULL, updated = ? WHERE run_id = ?",
                           ("committed" if restore else "cancelled", _now(), old))

    def report(self, dataset: str) -> BudgetReport:
        with self._transaction() as db:
            latest = db.execute("SELECT cap_rho, delta FROM runs WHERE dataset = ? ORDER BY created "
                                "DESC, rowid DESC LIMIT 1", (dataset,)).fetchone()
            cap, delta = latest if latest else (0.0, 1e-9)
            marks = ",".join("?" * len(COUNTED))
            rows = db.execute(
                f"SELECT r.year, s.privacy_unit, SUM(s.rho), GROUP_CONCAT(DISTINCT r.status) "
                f"FROM runs r JOIN spends s USING (run_id) WHERE r.dataset = ? AND r.status IN ({marks}) "
                f"GROUP BY r.year, s.privacy_unit ORDER BY r.year, s.privacy_unit",
                (dataset, *COUNTED)).fetchall()
            spent = self._spent_by_unit(db, dataset)
        years = tuple(YearLine(year=y, privacy_unit=u, rho=r, epsilon=epsilon_from_rho(r, delta),
                               statuses=tuple(sorted(st.split(",")))) for y, u, r, st in rows)
        units = tuple(UnitLine(privacy_unit=u, cap_rho=cap, spent_rho=r, remaining_rho=cap - r,
                               epsilon=epsilon_from_rho(r, delta)) for u, r in sorted(spent.items()))
        return BudgetReport(dataset=dataset, delta=delta, years=years, units=units)

    def status(self, run_id: str) -> str | None:
        with self._transaction() as db:
            row = db.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return row[0] if row else None

    def _move(self, run_id: str, before: str, after: str) -> None:
        with self._transaction() as db:
            row = db.execute("SELECT status, replaced_by FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            if row is None:
                raise BudgetError(f"no reservation for run '{run_id}'", rule="budget")
            if row[0] != before:
                why = f"superseded by run '{row[1]}'" if row[0] == "replaced" else f"it is {row[0]}"
                raise BudgetError(f"run '{run_id}' cannot become {after}: {why}", rule="budget")
            db.execute("UPDATE runs SET status = ?, updated = ? WHERE run_id = ?", (after, _now(), run_id))

    @staticmethod
    def _spent_by_unit(db: sqlite3.Connection, dataset: str,
                       exclude: Sequence[str] = ()) -> dict[str, float]:
        marks = ",".join("?" * len(COUNTED))
        spent: dict[str, float] = {}
        for run_id, unit, rho in db.execute(
                f"SELECT r.run_id, s.privacy_unit, s.rho FROM runs r JOIN spends s USING (run_id) "
                f"WHERE r.dataset = ? AND r.status IN ({marks})", (dataset, *COUNTED)):
            if run_id not in exclude:
                spent[unit] = spent.get(unit, 0.0) + rho
        return spent

    def _fits(self, db: sqlite3.Connection, dataset: str, run_id: str, cap: float) -> bool:
        spent = self._spent_by_unit(db, dataset)
        adding: dict[str, float] = {}
        for unit, rho in db.execute("SELECT privacy_unit, rho FROM spends WHERE run_id = ?", (run_id,)):
            adding[unit] = adding.get(unit, 0.0) + rho
        return all(_within_cap(spent.get(u, 0.0) + r, cap) for u, r in adding.items())
