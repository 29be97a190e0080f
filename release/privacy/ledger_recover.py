"""The ledger adopts what its witness service holds and it lacks (issue #12, attack 5k-kill).

A build killed between the service's answer and the ledger's COMMIT leaves the service ahead: it
holds entries the ledger never committed, or a draw it made whose charge never reached it. Refused
as a rollback, that froze every dataset on the ledger with a fix ("restore from backup") no backup
could give. Now the ledger's write guard (``Ledger._guard``) adopts them, so the next build,
approval or publication just works, and ``release witness recover`` does it on demand:

- entries beyond the ledger's length are inserted exactly as the service holds them, after
  checking that they chain on from the ledger's last entry to the service's signed head, that each
  hash recomputes from its body and, with the release key, that each MAC verifies (an entry no key
  wrote is refused, naming ``release witness void``: the administrator's way out); the service's
  receipt for the last one is kept, as for any entry the ledger witnessed itself;
- a draw the service made that no charge paid is paid: its charge entry is appended (the fields
  the service holds for it, matched to the fields its signed statement signs: it never signs the
  run and measurement key, which a client chose) and its record is stored with the statement.

Over-counting is the safe direction: a recovered charge stays charged, whatever the cap says.
The folder tier keeps its behaviour (nothing to adopt from: it holds no bodies).
"""

from __future__ import annotations

import hmac
import json
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import BudgetError
from release.privacy.ledger_entries import CHARGE_FIELDS, canonical, entry_hash, record_sha256
from release.witness.anchor import anchors, is_service

if TYPE_CHECKING:
    from release.privacy.ledger import Ledger

VOID = ("the witness's administrator, as the witness's account, runs release witness void --dir STORE --key KEY "
        "--from {seq}, and the ledger's next write appends its own entries there")


def _refused(ledger: Ledger, message: str) -> BudgetError:
    return BudgetError(message, file=str(ledger.path), rule="witness-recover")


def adopt_entries(ledger: Ledger, db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Insert the entries the service holds beyond the ledger (and store the draws they paid), in the
    open transaction; the draws it made that are still unpaid (``pay_unpaid`` pays them)."""
    witness = ledger.witness
    if witness is None or not is_service(witness):
        return []
    entries = ledger._read(db)
    if witness.anchor_problems(anchors(entries)):
        return []  # anchored to another service: the witness check refuses it
    view = witness.view()
    if view.ledger_id is None or not entries or entries[0].hash != view.ledger_id \
            or (view.length <= len(entries) and not view.unpaid):
        return []
    ledger_id = view.ledger_id  # the tail's view is of the same ledger
    view, marks, draws = witness.tail(ledger_id, len(entries) + 1)
    if marks and (marks[0].get("seq") != len(entries) + 1 or marks[0].get("prev") != entries[-1].hash):
        return []  # the ledger is not a prefix of the witness's chain: the witness check refuses it
    if marks and ledger.mac is None:
        raise _refused(ledger, f"{witness.label} holds {len(marks)} ledger entr{'y' if len(marks) == 1 else 'ies'} "
                       "the ledger lacks (a write cut off before its commit); adopting them needs the release key to "
                       "check their MACs: run release witness recover (or a build) where the release key is")
    paid = {d.get("paid_by"): d for d in draws if d.get("paid_by") is not None}
    prev = entries[-1].hash
    for mark in marks:
        _check_mark(ledger, mark, prev)
        db.execute("INSERT INTO entries (seq, kind, body, prev, hash, mac) VALUES (?,?,?,?,?,?)",
                   (mark["seq"], mark["kind"], mark["body"], mark["prev"], mark["hash"], mark["mac"]))
        prev = mark["hash"]
        if mark["kind"] == "charge" and mark["seq"] in paid:
            _keep_paid(ledger, db, json.loads(mark["body"]), mark["hash"], paid[mark["seq"]])
    if marks:
        if (marks[-1]["seq"], marks[-1]["hash"]) not in view.known.items():
            raise _refused(ledger, f"{witness.label} answered entries that do not end at the head it signed: "
                                   "nothing was adopted")
        last = ledger._read(db)[-1]  # its receipt, which a manifest recording this head carries
        receipt = witness.record(ledger_id, [last])
        if receipt is not None:
            db.execute("INSERT OR REPLACE INTO receipts VALUES (?, ?)", (last.seq, canonical(receipt)))
        span = f"{marks[0]['seq']}" if len(marks) == 1 else f"{marks[0]['seq']}..{marks[-1]['seq']}"
        ledger.recovered.append(f"ledger entr{'y' if len(marks) == 1 else 'ies'} {span} recovered from "
                                f"{witness.label}: a write the witness took was cut off before the ledger committed "
                                "it")
    return [d for d in draws if d.get("paid_by") is None]


def _check_mark(ledger: Ledger, mark: Mapping[str, Any], prev: str) -> None:
    """A held entry the ledger may adopt: it follows ``prev``, its hash is its body's, its MAC the key's."""
    seq, body = mark.get("seq"), mark.get("body")
    why = None
    if not isinstance(body, str) or not isinstance(mark.get("kind"), str):
        why = "the witness holds no body for it (kept before bodies were)"
    elif mark.get("prev") != prev or entry_hash(prev, mark["kind"], body) != mark.get("hash"):
        why = "it does not chain on from the ledger's last entry"
    elif ledger.mac is not None and not (isinstance(mark.get("mac"), str)
                                         and hmac.compare_digest(ledger.mac(str(mark["hash"])), mark["mac"])):
        why = "its MAC does not verify under the release key: no key of this organisation wrote it"
    if why is not None:
        raise _refused(ledger, f"the witness service holds ledger entry {seq}, which the ledger lacks and cannot "
                               f"adopt ({why}). " + VOID.format(seq=seq))


def _keep_paid(ledger: Ledger, db: sqlite3.Connection, body: Mapping[str, Any], charge: str,
               draw: Mapping[str, Any]) -> None:
    """Store the draw an adopted charge paid, when its statement verifies for that charge."""
    witness = ledger.witness
    assert witness is not None  # the charge was adopted from it (``adopt_entries``)
    record, signed = draw.get("record"), draw.get("signed")
    if isinstance(record, dict) and isinstance(signed, dict) and not witness.draw_problems(
            signed, ledger._read(db)[0].hash, record_sha256(record), body):
        ledger.keep_measurement(db, str(body.get("measurement_key")), charge, record, dict(signed))


def pay_unpaid(ledger: Ledger, db: sqlite3.Connection, draws: Sequence[Mapping[str, Any]]) -> None:
    """Charge each draw the service made that no charge paid (the charge fields the tail hands back,
    held to those its signed statement signs: the run and measurement key it never signs), in the
    open transaction, before anything else is written."""
    if not draws:
        return
    witness = ledger.witness
    assert witness is not None  # the draws are its own (``adopt_entries``)
    if ledger.mac is None:
        raise _refused(ledger, f"{witness.label} made a draw that was never charged (a build cut off before "
                               "its commit); charging it needs the release key to MAC the charge: run release witness "
                               "recover (or a build) where the release key is")
    for draw in draws:
        record, signed = draw.get("record"), draw.get("signed")
        fields = draw.get("charge")
        ledger_id = ledger._read(db)[0].hash
        if not isinstance(record, dict) or not isinstance(fields, dict) or not isinstance(signed, dict) \
                or witness.draw_problems(signed, ledger_id, record_sha256(record), fields,
                                         committed=False):  # charged even uncommitted
            raise _refused(ledger, f"{witness.label} holds an unpaid draw whose statement does not verify "
                                   "under the pinned key: it is not charged; the witness's administrator checks the "
                                   "service's store and key")
        ledger.store_measurement(db, {f: fields.get(f) for f in CHARGE_FIELDS}, record, dict(signed))
        ledger.recovered.append(f"a draw {witness.label} made for table {fields.get('table')} "
                                f"({fields.get('dataset')} {fields.get('release_year')}, data year "
                                f"{fields.get('data_year')}) was never charged (its build was cut off): it is charged "
                                "now and its measurement kept")


def recover(rules_dir: Path | None = None, requested: Path | None = None) -> dict[str, Any]:
    """``release witness recover``: the authoritative ledger adopts what its witness service holds
    and it lacks, with the release key when one is configured; what was adopted (exit 0, also when
    there was nothing to do)."""
    from release.config.privacy import checked_ledger
    from release.keys.hmac import existing_key, ledger_mac
    from release.paths import default_dir
    from release.privacy.ledger_open import existing_ledger

    rules = rules_dir or default_dir("redaction_rules")[0]
    key = existing_key()
    ledger = existing_ledger(rules, requested, ledger_mac(key) if key else None)
    if ledger is None or ledger.witness is None or ledger.witness.tier != "service":
        return {"ledger": str(checked_ledger(rules, requested)), "recovered": [],
                "note": "no ledger yet" if ledger is None else "the policy names no witness service: nothing to recover"}
    return ledger.recover()
