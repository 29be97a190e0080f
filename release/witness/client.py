"""The ledger's side of the witness service (``witness: {service: ADDRESS, public_key: ed25519:...}``
in privacy.yaml): ask for a fresh signed head, send new entries and keep the signed receipt.

Every answer is checked under the key the organisation's policy pins, and its ``fresh`` signature
against the nonce this request sent (the statement itself carries no value the client chose: it may
be published, ``release.witness.protocol``). Whatever cannot be trusted stops the caller, which
fails closed: a service that cannot be reached, a refusal, a statement signed by another key (a
service run by the analyst, or a copy mounted over the address in a private namespace), a statement
replayed from an earlier request. A write transaction that gets no valid receipt rolls back, so no
draw leaves the ledger unless the real witness holds its charge (``release.witness.service``; issue
#12, 2f-ns, 2f-rw).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from release.errors import BudgetError
from release.keys.signing import public_key_id, short_id
from release.privacy.ledger_entries import record_sha256
from release.witness.anchor import RESTORE, View, published_before
from release.witness.counts import statement_problems
from release.witness.protocol import DRAW, HEAD, RECEIPT, SIGNED_CHARGE, exchange, new_nonce, verified

if TYPE_CHECKING:
    from release.privacy.ledger import Entry

_PRINTABLE = re.compile(r"[^ -~]")


class ServiceWitness:
    """A witness service, as privacy.yaml pins it (``release.witness.anchor.WitnessTier``)."""

    tier = "service"
    lost = ("its store was lost, emptied or replaced, or another service answers with its key: restore the "
            "witness's store (witness.sqlite) from its backup")

    def __init__(self, address: str, public_key: str) -> None:
        self.address = address
        self.public_key = public_key
        self.key_id = public_key_id(public_key)

    @property
    def label(self) -> str:
        return f"the witness service at {self.address} (key {short_id(self.key_id)})"

    def _refused(self, message: str) -> BudgetError:
        return BudgetError(message, file=self.address, rule="witness")

    def _ask(self, op: str, kind: str, **fields: Any) -> dict[str, Any]:
        """The verified statement answering one request; BudgetError when there is none to trust."""
        nonce = new_nonce()
        try:
            reply = exchange(self.address, {"op": op, "nonce": nonce, **fields})
        except (OSError, ValueError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise self._refused(
                f"{self.label} cannot be reached ({reason}): nothing is drawn, approved or published while the "
                "ledger's witness does not answer. Start it under the witness's own account (release witness "
                f"serve --dir STORE --key KEY --socket PATH or --port N), or, if it moved, correct "
                "witness.service in the organisation's privacy.yaml") from None
        if reply.get("ok") is not True:
            said = _PRINTABLE.sub("?", str(reply.get("refused", "no reason given")))[:300]
            raise self._refused(f"{self.label} refused the request: {said}. " + (RESTORE if op == "append" else ""))
        statement = verified(reply.get("signed"), self.public_key, kind, nonce, reply.get("fresh"))
        if isinstance(statement, str):
            raise self._refused(
                f"{self.label} answered with a statement that cannot be trusted: {statement}. It is not the "
                "organisation's witness (a service run with another key, a copy mounted over its address, a "
                "replayed answer), or privacy.yaml pins the wrong key; nothing is drawn, approved or published "
                "until the organisation's witness answers")
        statement["_signed"], statement["_reply"] = reply["signed"], reply
        return statement

    def view(self) -> View:
        statement = self._ask("head", HEAD)
        length, ledger_id, last = statement.get("length"), statement.get("ledger_id"), statement.get("head")
        if not isinstance(length, int) or length < 0 or (length and not (isinstance(ledger_id, str)
                                                                          and isinstance(last, str))):
            raise self._refused(f"{self.label} signed a head that is not readable")
        unpaid = statement.get("unpaid", 0)
        return View(ledger_id if isinstance(ledger_id, str) else None,
                    {length: last} if length and isinstance(last, str) else {}, length,
                    unpaid=unpaid if isinstance(unpaid, int) else 0)

    def statement(self) -> dict[str, Any]:
        """A fresh signed head (``release doctor`` shows who keeps it)."""
        return self._ask("head", HEAD)

    def ledger_id(self) -> str | None:
        return self.view().ledger_id

    def anchor_body(self) -> dict[str, Any]:
        return {"witness": self.address, "witness_key": self.key_id, "tier": "service"}

    def _mine(self, anchors: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        return [a for a in anchors if a.get("tier") == "service" and a.get("witness_key") == self.key_id]

    def anchored_here(self, anchors: Sequence[Mapping[str, Any]]) -> bool:
        return bool(self._mine(anchors))

    def anchor_problems(self, anchors: Sequence[Mapping[str, Any]]) -> list[str]:
        """Folder anchors are history (a ledger moves up to the service); another service is refused."""
        return sorted({f"the ledger was anchored to the witness service with key {str(a.get('witness_key'))[:16]}, "
                       f"not to the one privacy.yaml pins ({short_id(self.key_id)}): use the rules folder that pins "
                       "that key" for a in anchors if a.get("tier") == "service" and a.get("witness_key") != self.key_id})

    def record(self, ledger_id: str, entries: Sequence[Entry]) -> dict[str, Any] | None:
        """Have the service hold ``entries``; its signed receipt for the last one."""
        if not entries:
            return None
        last = entries[-1]
        statement = self._ask("append", RECEIPT, ledger_id=ledger_id, entries=_marks(entries))
        if (statement.get("ledger_id"), statement.get("seq"), statement.get("hash")) != (ledger_id, last.seq, last.hash):
            raise self._refused(f"{self.label} signed a receipt for another entry than ledger entry {last.seq}")
        return dict(statement["_signed"])

    def draw(self, ledger_id: str, entries: Sequence[Entry], charge: Mapping[str, Any],
             inputs: Mapping[str, Any], committed: Mapping[str, str] | None = None
             ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Have the service make a draw (holding ``entries`` first): (the record, its signed draw
        statement), checked to name this ledger, this charge and this record, and, given
        ``committed``, to commit to these counts (the service refuses before drawing when its counts
        key is not the one ``committed`` names)."""
        wanted = {"counts_key_id": committed["counts_key_id"]} if committed else {}
        statement = self._ask("draw", DRAW, ledger_id=ledger_id, entries=_marks(entries), charge=dict(charge),
                              inputs=dict(inputs), **wanted)
        record = statement["_reply"].get("record")
        found = self.draw_problems(statement["_signed"], ledger_id, record_sha256(record), charge) \
            if isinstance(record, dict) else ["it came without its record"]
        if not found and committed and statement.get("counts_commitment") != committed.get("counts_commitment"):
            found = ["it commits to other counts than the ones this build sent"]
        if found:
            raise self._refused(f"{self.label} answered a draw that cannot be used ({found[0]}): it names another "
                                "ledger, charge or record than the one asked for, or commits to no counts")
        return record, dict(statement["_signed"])

    def tail(self, ledger_id: str, first: int) -> tuple[View, list[dict[str, Any]], list[dict[str, Any]]]:
        """What the service holds from seq ``first`` on (entries with bodies and MACs) and the draws
        unpaid or paid by those entries, under a fresh signed head (the entries must end at it)."""
        statement = self._ask("tail", HEAD, ledger_id=ledger_id, **{"from": first})
        reply = statement["_reply"]
        marks, draws = reply.get("entries"), reply.get("draws")
        if not isinstance(marks, list) or not isinstance(draws, list) \
                or not all(isinstance(m, dict) for m in marks) or not all(isinstance(d, dict) for d in draws):
            raise self._refused(f"{self.label} answered a tail that is not readable")
        length, last = statement.get("length"), statement.get("head")
        view = View(ledger_id, {length: last} if isinstance(length, int) and length and isinstance(last, str) else {},
                    length if isinstance(length, int) else 0)
        return view, marks, draws

    def draw_problems(self, signed: object, ledger_id: str | None, sha256: object,
                      charge: Mapping[str, Any] | None = None, committed: bool = True) -> list[str]:
        """Why ``signed`` is not this witness's statement that it drew the record ``sha256`` for
        ``ledger_id`` (and, given, for ``charge``), committing to its counts unless ``committed`` is
        False; empty when it is."""
        return draw_problems(signed, self.public_key, ledger_id, sha256, charge, committed)

    def epoch(self, entries: Sequence[Entry]) -> Entry | None:
        """The ledger's anchor entry in this service: every entry from it on was witnessed by it."""
        return next((e for e in entries if e.kind == "anchor" and self._mine([e.body])), None)

    def head_checks(self, recorded: Mapping[str, Any], entries: Sequence[Entry], run_id: str | None) -> list[str]:
        """A head after the ledger's anchor here, whose receipt verifies (2f-pre: a release built before
        the anchor may hold a draw selected among several, so it is never approved as it is)."""
        epoch = self.epoch(entries)
        count = int(recorded["length"])
        if epoch is None or count < epoch.seq:
            if epoch is not None and published_before(entries, run_id, epoch.seq):
                return []
            return [f"the release was built before the ledger was anchored to {self.label}"
                    + (f" (ledger entry {epoch.seq})" if epoch else "") + ": its draws were never witnessed and may "
                    "have been selected among several (attack 2f-pre). Rebuild it: measurements charged before the "
                    "anchor are drawn again and charged"]
        return receipt_problems(recorded, self.public_key)


def receipt_problems(recorded: Mapping[str, Any], public_key: str) -> list[str]:
    """Whether the manifest's head carries the witness's receipt for that very entry, signed by the
    pinned key (checkable offline, by anyone holding the policy)."""
    receipt = recorded.get("receipt")
    if receipt is None:
        return ["the manifest records no witness receipt for its ledger head: it was edited, or built without the "
                "witness service; rebuild it"]
    statement = verified(receipt, public_key, RECEIPT)
    if isinstance(statement, str):
        return [f"the manifest's witness receipt does not verify: {statement}"]
    if (statement.get("ledger_id"), statement.get("seq"), statement.get("hash")) != (
            recorded.get("ledger_id"), recorded.get("length"), recorded.get("head")):
        return ["the manifest's witness receipt is for another ledger entry than its head"]
    return []


def draw_problems(signed: object, public_key: str, ledger_id: str | None, sha256: object,
                  charge: Mapping[str, Any] | None = None, committed: bool = True) -> list[str]:
    """A measurement's draw statement (``witness_draw``) against the pinned key: signed by it, in the
    form that carries nothing the client chose, for this ledger and this record (and, given, the
    charge that paid it: the fields it signs, ``SIGNED_CHARGE``), committing to the counts it was
    drawn on (``release.witness.counts``; ``committed`` False: an unpaid draw is charged all the
    same, never re-used, so the form before round 31 is taken there too). Offline, for anyone."""
    if signed is None:
        return ["it carries no draw statement of the witness service (the service makes every draw after the "
                "ledger's anchor in it: a measurement without one was drawn elsewhere, or the manifest was edited)"]
    statement = verified(signed, public_key, DRAW, old_form_ok=not committed)
    if isinstance(statement, str):
        return [f"its draw statement does not verify: {statement}"]
    if statement.get("ledger_id") != ledger_id:
        return ["its draw statement names another ledger"]
    if statement.get("record_sha256") != sha256:
        return ["its draw statement is for another record than this measurement"]
    drawn = statement.get("charge")
    if charge is not None and (not isinstance(drawn, Mapping)
                               or any(drawn.get(f) != charge.get(f) for f in SIGNED_CHARGE)):
        return ["its draw statement names other charge fields than the ledger's charge that paid it"]
    return statement_problems(statement) if committed else []


def _marks(entries: Sequence[Entry]) -> list[dict[str, Any]]:
    """Entries as the service holds them: seq, hash, prev, kind, and the body and MAC it checks."""
    return [{"seq": e.seq, "hash": e.hash, "prev": e.prev, "kind": e.kind, "body": e.raw_body, "mac": e.mac}
            for e in entries]
