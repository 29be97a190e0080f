"""The witness service's store (``witness.sqlite``): its append-only record of one ledger's chain,
of every draw it made for that ledger, and of the administrator's voids.

- ``chain``: one row per ledger entry it holds (seq, hash, prev, kind, the entry's body and MAC, the
  writer's uid, and the draw a charge paid). It appends an entry only when ``entry_hash(prev, kind,
  body)`` is its hash and it follows the last one held; a seq held with another hash, a gap, or
  another ledger id is refused. Every ``charge`` after the ledger's anchor in this witness must pay
  exactly one unpaid draw this witness made (same measurement hash, same charge fields): a charge
  for a draw made elsewhere (a throw-away ledger, issue #12 attack 4x-import) is refused.
- ``draws``: every draw it made (``release.witness.service`` calls OpenDP through
  ``release.stages.noise``): the record (noisy values, never the counts), its hash, the charge
  fields (all of them: the run and measurement key a charge must name are matched here, never
  signed, ``release.witness.protocol``), the requesting uid, the signed statement. No new draw while
  one is unpaid, nor one the service's trusted declarations refuse (``release.witness.declared``: a
  measurement they do not declare, or a charge past their cap given what this store trusts: its own
  draws and the charges it adopted before its anchor, never a writer's ``cap`` entry).
- ``voids``: an administrator's ``release witness void --from SEQ``: the rows from SEQ on are no
  longer the live chain (junk an allowed writer appended, which no ledger can adopt); a charge that
  paid a draw is never voided, so a void cannot free budget.

SQLite triggers refuse UPDATE and DELETE on every table. A store kept before draws existed (a
``marks`` table without bodies) opens: its marks are copied into ``chain`` once, as they are.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from release.bundle.jsonl import utc_now
from release.errors import ConfigError
from release.privacy.ledger_entries import CHARGE_FIELDS, GENESIS, canonical, entry_hash, loss_as_rho, record_sha256

STORE = "witness.sqlite"
_TABLES = ("meta", "marks", "chain", "draws", "voids")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS marks (seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, prev TEXT NOT NULL,
                                  kind TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chain (row INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL, hash TEXT NOT NULL,
                                  prev TEXT NOT NULL, kind TEXT NOT NULL, body TEXT, mac TEXT, uid INTEGER,
                                  pays TEXT, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS draws (id TEXT PRIMARY KEY, ledger_id TEXT NOT NULL, record_sha256 TEXT NOT NULL,
                                  record TEXT NOT NULL, charge TEXT NOT NULL, signed TEXT NOT NULL, uid INTEGER,
                                  at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS voids (id INTEGER PRIMARY KEY AUTOINCREMENT, from_seq INTEGER NOT NULL,
                                  upto_row INTEGER NOT NULL, uid INTEGER, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chain_seq ON chain (seq);
CREATE INDEX IF NOT EXISTS chain_pays ON chain (pays);
CREATE VIEW IF NOT EXISTS live AS SELECT * FROM chain c WHERE NOT EXISTS (
    SELECT 1 FROM voids v WHERE c.seq >= v.from_seq AND c.row <= v.upto_row);
""" + "".join(f"""
CREATE TRIGGER IF NOT EXISTS {t}_no_update BEFORE UPDATE ON {t}
    BEGIN SELECT RAISE(ABORT, 'the witness is append-only'); END;
CREATE TRIGGER IF NOT EXISTS {t}_no_delete BEFORE DELETE ON {t}
    BEGIN SELECT RAISE(ABORT, 'the witness is append-only'); END;""" for t in _TABLES)
TOLERANCE = 1e-9


class Refused(Exception):
    """A request the witness does not take (the message says why; it never carries a value)."""


Mark = Mapping[str, Any]  # {seq, hash, prev, kind, body, mac}


class Store:
    """The witness's own append-only record of one ledger's chain and of the draws it made."""

    def __init__(self, folder: Path, key_id: str) -> None:
        self.path = folder / STORE
        self.key_id = key_id
        with closing(sqlite3.connect(self.path, timeout=60)) as db:
            db.executescript(_SCHEMA)  # idempotent; executescript manages its own transaction
        with self._transaction() as db:
            row = db.execute("SELECT value FROM meta WHERE name = 'key_id'").fetchone()
            if row is None:
                db.execute("INSERT INTO meta VALUES ('key_id', ?)", (key_id,))
            elif row[0] != key_id:
                raise ConfigError("this witness store was kept under another key: serve it with that key (a "
                                  "new key is a new witness, with a new store and a new pin in privacy.yaml)",
                                  file=str(self.path), rule="witness-key")
            if db.execute("SELECT COUNT(*) FROM chain").fetchone()[0] == 0:  # a store kept before draws existed
                db.execute("INSERT INTO chain (seq, hash, prev, kind, at) SELECT seq, hash, prev, kind, at FROM marks "
                           "ORDER BY seq")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=60, isolation_level=None)) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    # ---- reading -----------------------------------------------------------------------------

    @staticmethod
    def _state(db: sqlite3.Connection) -> tuple[str | None, int, str]:
        ledger = db.execute("SELECT value FROM meta WHERE name = 'ledger_id'").fetchone()
        last = db.execute("SELECT seq, hash FROM live ORDER BY seq DESC LIMIT 1").fetchone()
        return (ledger[0] if ledger else None), (last[0] if last else 0), (last[1] if last else GENESIS)

    @staticmethod
    def _unpaid(db: sqlite3.Connection, ledger_id: str | None) -> list[tuple[str, str, str]]:
        """(id, record_sha256, charge) of the draws for ``ledger_id`` that no live charge paid."""
        return db.execute("SELECT id, record_sha256, charge FROM draws d WHERE ledger_id = ? AND NOT EXISTS "
                          "(SELECT 1 FROM live WHERE pays = d.id) ORDER BY at, id", (ledger_id,)).fetchall()

    def _anchor_seq(self, db: sqlite3.Connection) -> int | None:
        """The seq of the ledger's anchor in this witness (a store kept before bodies: its last anchor)."""
        for seq, body in db.execute("SELECT seq, body FROM live WHERE kind = 'anchor' ORDER BY seq DESC"):
            if body is None or _parsed(body).get("witness_key") == self.key_id:
                return int(seq)
        return None

    def head(self) -> tuple[str | None, int, str | None, int]:
        """(the ledger it anchors, how many entries it holds, the last one's hash, its unpaid draws)."""
        with self._transaction() as db:
            ledger_id, count, last = self._state(db)
            unpaid = len(self._unpaid(db, ledger_id))
        return ledger_id, count, (last if count else None), unpaid

    def tail(self, ledger_id: str, first: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The live entries from seq ``first`` on (bodies and MACs), and the draws that are unpaid or
        paid by one of them (record, signed statement, and the whole charge the statement signs but
        its run and measurement key): what a ledger behind the witness adopts."""
        with self._transaction() as db:
            anchored, _, _ = self._state(db)
            if anchored != ledger_id:
                raise Refused("the witness anchors another ledger (its ledger id differs)")
            marks = [{"seq": s, "hash": h, "prev": p, "kind": k, "body": b, "mac": m, "pays": pays}
                     for s, h, p, k, b, m, pays in db.execute(
                         "SELECT seq, hash, prev, kind, body, mac, pays FROM live WHERE seq >= ? ORDER BY seq",
                         (first,))]
            paying = {m["pays"]: m["seq"] for m in marks if m["pays"]}
            wanted = paying.keys() | {row[0] for row in self._unpaid(db, ledger_id)}
            draws = [{"record": json.loads(record), "signed": json.loads(signed), "charge": json.loads(charge),
                      "paid_by": paying.get(draw_id)}
                     for draw_id, record, charge, signed in db.execute(
                         "SELECT id, record, charge, signed FROM draws WHERE ledger_id = ? ORDER BY at, id",
                         (ledger_id,))
                     if draw_id in wanted]
        return marks, draws

    # ---- appending ----------------------------------------------------------------------------

    def _hold(self, db: sqlite3.Connection, ledger_id: str, marks: Sequence[Mark], uid: int | None) -> tuple[int, str]:
        """Append ``marks`` (in seq order) in the open transaction; (entries held now, last hash)."""
        anchored, count, last = self._state(db)
        if anchored is None:
            first = marks[0] if marks else {}
            if first.get("seq") != 1 or first.get("hash") != ledger_id or first.get("prev") != GENESIS:
                raise Refused("the witness holds nothing yet: the first append starts at the ledger's entry 1, "
                              "whose hash is the ledger's id")
            db.execute("INSERT INTO meta VALUES ('ledger_id', ?)", (ledger_id,))
        elif anchored != ledger_id:
            raise Refused("the witness anchors another ledger (its ledger id differs): this is not the "
                          "authoritative ledger")
        anchor = self._anchor_seq(db)
        for mark in marks:
            seq = mark["seq"]
            if entry_hash(mark["prev"], mark["kind"], mark["body"]) != mark["hash"]:
                raise Refused(f"ledger entry {seq}: its hash does not match its body")
            if seq <= count:
                held = db.execute("SELECT hash FROM live WHERE seq = ?", (seq,)).fetchone()
                if held is None or held[0] != mark["hash"]:
                    raise Refused(f"the witness holds ledger entry {seq} already, with another hash: this "
                                  "ledger was rolled back, or is a copy another run appended to first")
                continue
            if seq != count + 1:
                raise Refused(f"ledger entry {seq} leaves a gap: the witness holds entries 1..{count}")
            if mark["prev"] != last:
                raise Refused(f"ledger entry {seq} does not follow the entry the witness holds before it")
            pays = self._pays(db, ledger_id, seq, _parsed(mark["body"])) \
                if mark["kind"] == "charge" and anchor is not None else None
            db.execute("INSERT INTO chain (seq, hash, prev, kind, body, mac, uid, pays, at) VALUES (?,?,?,?,?,?,?,?,?)",
                       (seq, mark["hash"], mark["prev"], mark["kind"], mark["body"], mark.get("mac"), uid, pays,
                        utc_now()))
            if mark["kind"] == "anchor" and _parsed(mark["body"]).get("witness_key") == self.key_id:
                anchor = seq
            count, last = seq, mark["hash"]
        return count, last

    def _pays(self, db: sqlite3.Connection, ledger_id: str, seq: int, body: Mapping[str, Any]) -> str:
        """The unpaid draw the charge at ``seq`` pays (its hash and charge fields equal the draw's)."""
        matching = [draw_id for draw_id, digest, charge in self._unpaid(db, ledger_id)
                    if body.get("measurement_sha256") == digest
                    and all(body.get(f) == json.loads(charge).get(f) for f in CHARGE_FIELDS)]
        if len(matching) != 1:
            raise Refused(f"ledger entry {seq} is a charge that pays no draw this witness made (it made every draw "
                          "of this ledger since its anchor, and no unpaid one has this measurement and these charge "
                          "fields): a draw made elsewhere is never charged into this ledger")
        return matching[0]

    def append(self, ledger_id: str, marks: Sequence[Mark], uid: int | None) -> tuple[int, str]:
        """Hold ``marks`` (in seq order); (entries held now, the hash of the last mark sent)."""
        if not marks:
            raise Refused("an append names no entry")
        with self._transaction() as db:
            count, _ = self._hold(db, ledger_id, marks, uid)
        return count, str(marks[-1]["hash"])

    def draw(self, ledger_id: str, marks: Sequence[Mark], uid: int | None, charge: Mapping[str, Any],
             make: Callable[[], dict[str, Any]], sign: Callable[[dict[str, Any]], dict[str, Any]],
             within_cap: Callable[[list[dict[str, Any]]], None]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Hold ``marks``, make a draw (``make``) and record it with its signed statement, in one
        transaction; (the record, the signed statement). Refused while a draw of the ledger is unpaid,
        before its anchor here, by ``within_cap`` (given the charges this witness trusts: ``_counted``),
        or when the charge's rho is below the draw's privacy loss."""
        with self._transaction() as db:
            if marks:
                self._hold(db, ledger_id, marks, uid)
            anchored, _, _ = self._state(db)
            if anchored != ledger_id or self._anchor_seq(db) is None:
                raise Refused("a draw is made only for the ledger this witness anchors, after its anchor entry")
            if self._unpaid(db, ledger_id):
                raise Refused("a draw of this ledger is unpaid (its charge never reached the witness): run release "
                              "witness recover, or any build, which charges it first")
            within_cap(self._counted(db, ledger_id))
            record = make()
            if float(charge["rho"]) < loss_as_rho(record, float(record["privacy_loss"])) * (1 - TOLERANCE):
                raise Refused("the charge's rho is below the draw's privacy loss")
            draw_id = secrets.token_hex(16)
            digest = record_sha256(record)
            signed = sign({"ledger_id": ledger_id, "draw_id": draw_id, "record_sha256": digest,
                           "charge": dict(charge)})
            db.execute("INSERT INTO draws VALUES (?,?,?,?,?,?,?,?)",
                       (draw_id, ledger_id, digest, canonical(record), canonical(dict(charge)), canonical(signed), uid,
                        utc_now()))
        return record, signed

    @staticmethod
    def _counted(db: sqlite3.Connection, ledger_id: str) -> list[dict[str, Any]]:
        """The charges this witness can trust, to sum against a cap: every draw it made for the ledger
        (paid or not) and the live charges that pay none of its draws, which are those it adopted
        before its anchor (after it, every charge pays one: ``_pays``). A writer's ``cap`` entries
        are not among them (round 25, U-selfcap); marks a store kept before entries had bodies
        cannot be summed, and are not."""
        drawn = [json.loads(charge) for (charge,) in db.execute("SELECT charge FROM draws WHERE ledger_id = ?",
                                                                 (ledger_id,))]
        adopted = [_parsed(body) for (body,) in db.execute(
            "SELECT body FROM live WHERE kind = 'charge' AND pays IS NULL AND body IS NOT NULL")]
        return drawn + adopted

    def void(self, first: int, uid: int | None) -> list[int]:
        """Take the live entries from seq ``first`` on out of the live chain; the seqs voided.
        Refused when one is a charge that paid a draw (a void never frees budget)."""
        with self._transaction() as db:
            _, count, _ = self._state(db)
            if not 1 <= first <= count:
                raise Refused(f"the witness holds entries 1..{count}: there is no entry {first} to void from")
            paying = db.execute("SELECT seq FROM live WHERE seq >= ? AND pays IS NOT NULL ORDER BY seq",
                                (first,)).fetchone()
            if paying is not None:
                raise Refused(f"entry {paying[0]} is a charge that paid a draw this witness made: it is never voided "
                              "(that would free budget); void from a later seq")
            upto = db.execute("SELECT MAX(row) FROM chain").fetchone()[0]
            db.execute("INSERT INTO voids (from_seq, upto_row, uid, at) VALUES (?,?,?,?)", (first, upto, uid, utc_now()))
        return list(range(first, count + 1))


def _parsed(body: str | None) -> dict[str, Any]:
    try:
        parsed = json.loads(body) if body is not None else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
