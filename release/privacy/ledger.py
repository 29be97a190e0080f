"""Privacy budget ledger: an append-only, hash-chained record of every cap, charge, bundle and
publication, with the noisy measurements it paid for, and of every reviewer decision (by hash).

One SQLite file, at the one location the privacy policy sets, persists across releases,
years and datasets. Every noise draw is a ``charge`` entry, appended in the same
transaction that stores the draw (``obtain``): a rebuild on the same data finds the stored
measurement and pays nothing, changed data pays again, and nothing is ever given back. The
cap of a privacy unit is fixed by its first ``cap`` entry and can only be lowered; the sum
of the unit's charges over every dataset that can hold the same person stays under it.

Each entry holds ``hash = sha256(prev | kind | body)`` and, when the release key is at hand,
an HMAC of that hash; triggers refuse UPDATE and DELETE. Nothing in the file can anchor it, so
every write transaction is checked against the policy's witness (``release.witness.anchor``) before it
starts and has the witness hold its new entries just before it commits (the witness service's
signed receipt is kept in ``receipts``): a rolled-back, replaced or forked ledger is refused
before anything is drawn from it. With the witness service, the service makes every draw and the
ledger keeps its signed draw statement beside the stored measurement (``draws``); what the service
holds and the ledger lacks (a build killed between the service's answer and the COMMIT) is adopted
by the next write (``release.privacy.ledger_recover``). A ``bundle`` entry binds a run to
its manifest hash and the hashes of its measurements, and the manifest records its charges'
entry hashes, so an auditor (``release.audit.ledger``) can tell an edited ledger from an
honest one. A ``decision`` entry holds the hash of a reviewer's signed decision line: it orders the
decisions and tells a deleted one (``release.privacy.decision_anchors``). Writers queue on ``BEGIN
IMMEDIATE``: two processes cannot both pass the cap. The entries' types and the totals read off
them are ``release.privacy.ledger_entries`` (re-exported here).
"""

from __future__ import annotations

import itertools
import json
import math
import signal
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.bundle.jsonl import utc_now
from release.errors import BudgetError
from release.privacy.ledger_entries import (
    GENESIS,
    Charge,
    Entry,
    Obtained,
    Spend,
    canonical,
    caps_in_force,
    entry_hash,
    epsilon_from_rho,
    record_sha256,
    spent_by_unit,
)
from release.witness import anchor as witnessing

if TYPE_CHECKING:
    from release.witness.anchor import WitnessTier

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL,
    prev TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, mac TEXT);
CREATE TABLE IF NOT EXISTS measurements (
    key TEXT PRIMARY KEY, charge TEXT NOT NULL, sha256 TEXT NOT NULL, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS receipts (seq INTEGER PRIMARY KEY, receipt TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS draws (key TEXT PRIMARY KEY, statement TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS draws_no_update BEFORE UPDATE ON draws
    BEGIN SELECT RAISE(ABORT, 'draw statements are never changed'); END;
CREATE TRIGGER IF NOT EXISTS draws_no_delete BEFORE DELETE ON draws
    BEGIN SELECT RAISE(ABORT, 'draw statements are never removed'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER IF NOT EXISTS measurements_no_update BEFORE UPDATE ON measurements
    BEGIN SELECT RAISE(ABORT, 'stored measurements are never changed'); END;
CREATE TRIGGER IF NOT EXISTS measurements_no_delete BEFORE DELETE ON measurements
    BEGIN SELECT RAISE(ABORT, 'stored measurements are never removed'); END;
"""
Mac = Callable[[str], str]
__all__ = ["GENESIS", "Charge", "Entry", "Ledger", "Mac", "Obtained", "Spend", "canonical", "caps_in_force",
           "entry_hash", "epsilon_from_rho", "record_sha256", "spent_by_unit"]


def _commits_to(signed: Mapping[str, Any], committed: Mapping[str, str] | None) -> bool:
    """The signed draw statement commits to the counts ``committed`` names (none named: any)."""
    statement = signed.get("statement")
    return committed is None or isinstance(statement, Mapping) \
        and statement.get("counts_commitment") == committed.get("counts_commitment")


def _now() -> str:
    return utc_now()


@contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until a write transaction has committed or rolled back: one landing
    between the witness's files and the COMMIT would leave the witness ahead of the ledger, which
    looks like (and is refused as) a rollback."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class Ledger:
    """The ledger file: every write transaction checked against the witness first, every draw charged in the
    transaction that stores it."""

    def __init__(self, path: Path, mac: Mac | None = None, witness: WitnessTier | None = None) -> None:
        self.path = Path(path)
        self.mac = mac
        self.witness = witness
        self.recovered: list[str] = []  # what the write guard adopted from the witness service (for the packet)
        # rho counted against each unit, from the entries: a build sets the policy's count, which adds
        # the stray charges a unit absorbs (``release.privacy.trusted_units.counted``)
        self.counting: Callable[[list[Entry]], dict[str, float]] = spent_by_unit
        self._held = 0                  # entries the witness holds in the open write transaction
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
    def _transaction(self, write: bool = False) -> Iterator[sqlite3.Connection]:
        """One BEGIN IMMEDIATE transaction: writers queue, readers never see half a change. A
        ``write`` checks the ledger against its witness first and witnesses what it appended last."""
        try:
            with closing(sqlite3.connect(self.path, timeout=120, isolation_level=None)) as db:
                db.execute("BEGIN IMMEDIATE")
                with _signals_held() if write else nullcontext():
                    try:
                        before = self._guard(db) if write else 0
                        yield db
                        if write:
                            self._witness_new(db, before)
                    except BaseException:
                        db.execute("ROLLBACK")
                        raise
                    db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._unreadable(exc) from None

    def _guard(self, db: sqlite3.Connection) -> int:
        """Refuse to write to a ledger that is not the chain its witness anchors; the count of entries
        the witness holds already. What the witness service holds and the ledger lacks is adopted
        first (``release.privacy.ledger_recover``). At the witness's first use (it holds nothing), the ledger
        is anchored there first: an ``anchor`` entry naming it, and every entry is witnessed."""
        from release.privacy import ledger_recover
        adopted = ledger_recover.adopt_entries(self, db)
        entries = self._read(db)
        problems, view = witnessing.check(self.witness, entries, first_use_ok=True)
        if problems:
            raise BudgetError(problems[0], file=str(self.path), rule="witness",
                              details=[{"problem": p} for p in problems])
        self._held = len(entries)
        if self.witness is not None and view is not None and view.ledger_id is None:
            self._append(db, witnessing.ANCHOR, self.witness.anchor_body())
            self._held = 0
        ledger_recover.pay_unpaid(self, db, adopted)
        return self._held

    def _witness_new(self, db: sqlite3.Connection, before: int) -> None:
        """Witness the entries this transaction appended (all of them at the first use), keeping the
        service's signed receipt for the last."""
        if self.witness is None:
            return
        entries = self._read(db)
        if len(entries) <= before:
            return
        receipt = self.witness.record(entries[0].hash, entries[before:])
        if receipt is not None:
            db.execute("INSERT OR REPLACE INTO receipts VALUES (?, ?)", (entries[-1].seq, canonical(receipt)))

    def anchor(self) -> None:
        """Check the ledger against its witness, anchoring it there at the witness's first use."""
        with self._transaction(write=True):
            pass

    def behind_witness(self) -> bool:
        """Whether a write is due before the ledger is checked: the witness holds nothing yet (its
        first use anchors the ledger), or the service holds entries or an unpaid draw the ledger lacks
        (the write guard adopts them). BudgetError when the witness cannot be asked."""
        if self.witness is None:
            return False
        view = self.witness.view()
        return view.ledger_id is None or (self.witness.tier == "service"
                                          and (view.length > len(self.entries()) or view.unpaid > 0))

    def recover(self) -> dict[str, Any]:
        """``release witness recover``: adopt what the witness service holds and the ledger lacks
        (``release.privacy.ledger_recover``); what was adopted (nothing to do is a report too)."""
        self.recovered = []
        before = len(self.entries())
        with self._transaction(write=True):
            pass
        entries = self.entries()
        return {"ledger": str(self.path), "witness": self.witness.label if self.witness else None,
                "entries_before": before, "entries": len(entries), "recovered": list(self.recovered),
                "note": "nothing to recover" if not self.recovered else "adopted from the witness service"}

    def head(self) -> dict[str, Any]:
        """The chain's head as a manifest records it (``witness.head``), with the witness service's
        signed receipt for it when there is one."""
        with self._transaction() as db:
            entries = self._read(db)
            row = db.execute("SELECT receipt FROM receipts WHERE seq = ?", (len(entries),)).fetchone()
        head = witnessing.head(entries)
        return {**head, "receipt": json.loads(row[0])} if row else head

    def _store_key(self, db: sqlite3.Connection, key: str, entries: list[Entry],
                   committed: Mapping[str, str] | None = None) -> str:
        """Where the measurement ``key`` is stored. A draw charged before the ledger's anchor in its
        witness service was never witnessed, and may have been selected among several (2f-pre); one
        charged after it without the service's draw statement was drawn elsewhere (a throw-away
        ledger's draft put in the store: 4x-import); one whose statement commits to no counts or, given
        ``committed`` (this build's counts' commitment), to other counts than this build's (a patched
        tool's scaled counts stored under the true counts' key: 4s-scale). None is re-used: the
        measurement is drawn again, and charged, under the next free key of the epoch."""
        epoch = self.witness.epoch(entries) if self.witness is not None else None
        if epoch is None or self.witness is None:
            return key
        tag = f"{key}@{epoch.hash[:16]}"
        for candidate in itertools.chain((key, tag), (f"{tag}.{n}" for n in itertools.count(2))):
            row = db.execute("SELECT e.seq, e.body, m.sha256, d.statement FROM measurements m LEFT JOIN entries e ON "
                             "e.hash = m.charge LEFT JOIN draws d ON d.key = m.key WHERE m.key = ?",
                             (candidate,)).fetchone()
            if row is None:
                return candidate
            seq, body, digest, statement = row
            if seq is not None and seq > epoch.seq and statement is not None and not self.witness.draw_problems(
                    json.loads(statement), entries[0].hash, digest, json.loads(body)) \
                    and _commits_to(json.loads(statement), committed):
                return candidate
        raise AssertionError("unreachable: the candidates never end")

    def _append(self, db: sqlite3.Connection, kind: str, body: dict[str, Any]) -> str:
        row = db.execute("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
        prev = row[0] if row else GENESIS
        text = canonical({**body, "at": _now()})
        digest = entry_hash(prev, kind, text)
        db.execute("INSERT INTO entries (kind, body, prev, hash, mac) VALUES (?,?,?,?,?)",
                   (kind, text, prev, digest, self.mac(digest) if self.mac else None))
        return digest

    @staticmethod
    def _read(db: sqlite3.Connection) -> list[Entry]:
        out = []
        for seq, kind, body, prev, digest, mac in db.execute(
                "SELECT seq, kind, body, prev, hash, mac FROM entries ORDER BY seq"):
            try:
                parsed = json.loads(body)
            except json.JSONDecodeError:
                parsed = {}
            out.append(Entry(seq, kind, parsed if isinstance(parsed, dict) else {}, prev, digest, mac, body))
        return out

    def entries(self) -> list[Entry]:
        with self._transaction() as db:
            return self._read(db)

    def ledger_id(self) -> str | None:
        """The hash of the first entry: names this ledger in manifests."""
        with self._transaction() as db:
            row = db.execute("SELECT hash FROM entries ORDER BY seq LIMIT 1").fetchone()
        return row[0] if row else None

    # ---- caps --------------------------------------------------------------------------

    def fix_caps(self, caps: dict[str, float], delta: float) -> dict[str, float]:
        """Record each unit's cap at first use; a later cap may only be lower. Returns the caps in force."""
        with self._transaction(write=True) as db:
            current = caps_in_force(self._read(db))
            for unit, cap in sorted(caps.items()):
                if not (math.isfinite(cap) and cap > 0):
                    raise BudgetError(f"privacy unit '{unit}': the cap must be a positive number", rule="cap")
                fixed = current.get(unit)
                if fixed is not None and cap > fixed * (1 + 1e-12):
                    raise BudgetError(f"privacy unit '{unit}': the policy's cap rho {cap:.4g} is above the cap "
                                      f"{fixed:.4g} fixed on the ledger; a cap can only be lowered", rule="cap")
                if fixed is None or cap < fixed:
                    self._append(db, "cap", {"unit": unit, "cap_rho": cap, "delta": delta})
                    current[unit] = cap
        return {u: current[u] for u in caps}

    # ---- charges and the measurement store ----------------------------------------------

    def obtain(self, key: str, charge: Charge, draw: Callable[[], dict[str, Any]],
               inputs: Callable[[], dict[str, Any]] | None = None,
               committed: Mapping[str, str] | None = None) -> Obtained:
        """The stored measurement under ``key``, or a new one: the cap is checked, the draw is made
        (by the witness service from ``inputs`` in the service tier, else ``draw`` runs here), and the
        charge and the draw are stored in one transaction, whose charge the witness holds before it
        commits and before the draw is returned (nothing drawn is ever free). ``committed``: what the
        service's draw statement must commit to for these counts (``release.witness.counts``)."""
        if not (math.isfinite(charge.rho) and charge.rho > 0):
            raise BudgetError(f"the charge for table '{charge.table}' must have a positive finite rho",
                              rule="budget")
        with self._transaction(write=True) as db:
            entries = self._read(db)
            key = self._store_key(db, key, entries, committed)
            row = db.execute("SELECT m.record, m.sha256, m.charge, d.statement FROM measurements m LEFT JOIN draws d "
                             "ON d.key = m.key WHERE m.key = ?", (key,)).fetchone()
            if row is not None:
                record = json.loads(row[0])
                if record_sha256(record) != row[1]:  # the stored draw was edited: never re-use it
                    raise BudgetError(f"the stored measurement for table '{charge.table}' does not hash to what "
                                      "was charged for it: the ledger's measurement store was edited",
                                      file=str(self.path), rule="ledger")
                return Obtained(record, row[1], row[2], reused=True,
                                witness_draw=json.loads(row[3]) if row[3] else None)
            cap = caps_in_force(entries).get(charge.unit)
            if cap is None:
                raise BudgetError(f"privacy unit '{charge.unit}' has no cap on the ledger", rule="cap")
            spent = self.counting(entries).get(charge.unit, 0.0)
            if spent + charge.rho > cap * (1 + 1e-12):
                raise BudgetError(f"{charge.dataset} {charge.release_year}: privacy unit '{charge.unit}' would "
                                  f"spend rho {spent + charge.rho:.4g} over all releases, above the cap {cap:.4g} "
                                  f"(already spent {spent:.4g})", rule="budget")
            fields = {**charge.__dict__, "measurement_key": key}
            if self.witness is not None and witnessing.is_service(self.witness) and inputs is not None:
                record, statement = self.witness.draw(entries[0].hash, entries[self._held:], fields, inputs(),
                                                      committed)
                self._held = len(entries)
            else:
                record, statement = draw(), None
            digest = record_sha256(record)
            entry = self.store_measurement(db, fields, record, statement)
        return Obtained(record, digest, entry, reused=False, witness_draw=statement)

    def store_measurement(self, db: sqlite3.Connection, fields: dict[str, Any], record: dict[str, Any],
                          statement: dict[str, Any] | None) -> str:
        """Charge ``record`` (the charge ``fields`` and its hash), store it under its key with the
        witness's draw statement, in the open transaction; the charge entry's hash."""
        entry = self._append(db, "charge", {**fields, "measurement_sha256": record_sha256(record)})
        self.keep_measurement(db, str(fields["measurement_key"]), entry, record, statement)
        return entry

    @staticmethod
    def keep_measurement(db: sqlite3.Connection, key: str, charge: str, record: dict[str, Any],
                         statement: dict[str, Any] | None) -> None:
        """Store ``record`` under ``key`` with its draw statement, unless the key is taken (a recovered
        draw whose key another record holds stays charged; it is just not re-used)."""
        if db.execute("SELECT 1 FROM measurements WHERE key = ?", (key,)).fetchone() is not None:
            return
        db.execute("INSERT INTO measurements VALUES (?,?,?,?)", (key, charge, record_sha256(record), canonical(record)))
        if statement is not None:
            db.execute("INSERT OR IGNORE INTO draws VALUES (?,?)", (key, canonical(statement)))

    def check_new(self, wanted: dict[str, tuple[str, float]], context: str) -> None:
        """Refuse, before anything is drawn, a set of measurements (key -> (unit, rho)) whose new
        ones would pass a cap; stored ones are free. ``obtain`` checks again, draw by draw."""
        with self._transaction() as db:
            stored = {k for (k,) in db.execute("SELECT key FROM measurements")}
            entries = self._read(db)
            keys = {key: self._store_key(db, key, entries) for key in wanted}
        caps, spent = caps_in_force(entries), self.counting(entries)
        adding: dict[str, float] = {}
        for key, (unit, rho) in wanted.items():
            if keys[key] not in stored:
                adding[unit] = adding.get(unit, 0.0) + rho
        for unit, rho in sorted(adding.items()):
            cap = caps.get(unit)
            if cap is None or spent.get(unit, 0.0) + rho > cap * (1 + 1e-12):
                raise BudgetError(f"{context}: privacy unit '{unit}' would spend rho {spent.get(unit, 0.0) + rho:.4g} "
                                  f"over all releases, above the cap {cap if cap is not None else 0.0:.4g} (already "
                                  f"spent {spent.get(unit, 0.0):.4g}; new measurements {rho:.4g})", rule="budget")

    # ---- bundles and publication -------------------------------------------------------

    def bind_bundle(self, *, dataset: str, year: int, run_id: str, manifest_sha256: str,
                    measurements: list[str], charges: list[str]) -> str:
        with self._transaction(write=True) as db:
            return self._append(db, "bundle", {"dataset": dataset, "year": year, "run_id": run_id,
                                               "manifest_sha256": manifest_sha256,
                                               "measurements": measurements, "charges": charges})

    def mark_published(self, *, dataset: str, year: int, run_id: str, manifest_sha256: str) -> str:
        with self._transaction(write=True) as db:
            return self._append(db, "publish", {"dataset": dataset, "year": year, "run_id": run_id,
                                                "manifest_sha256": manifest_sha256})

    def record_decision(self, *, dataset: str, year: int, write: Callable[[str], str]) -> int:
        """A reviewer's signed decision (``release.privacy.decision_anchors``): ``write(prev)`` signs it over the
        ledger's last entry hash, writes its line and gives its id, which the entry records right after
        that head, in the same transaction; the entry's seq."""
        with self._transaction(write=True) as db:
            row = db.execute("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
            decision_sha256 = write(row[0] if row else GENESIS)
            digest = self._append(db, "decision", {"dataset": dataset, "year": year,
                                                   "decision_sha256": decision_sha256})
            return int(db.execute("SELECT seq FROM entries WHERE hash = ?", (digest,)).fetchone()[0])

    def stored_records(self) -> dict[str, dict[str, Any]]:
        """Every stored measurement by its hash (the auditor compares them with the manifests)."""
        with self._transaction() as db:
            rows = db.execute("SELECT sha256, record FROM measurements").fetchall()
        return {digest: json.loads(record) for digest, record in rows}

    def bundle(self, manifest_sha256: str, run_id: object = None) -> Entry | None:
        """The ``bundle`` entry binding this manifest (and, given, this run: a published copy's manifest has
        no run id) to its measurements, if the ledger holds one."""
        return next((e for e in reversed(self.entries()) if e.kind == "bundle"
                     and e.body.get("manifest_sha256") == manifest_sha256
                     and run_id in (None, e.body.get("run_id"))), None)
