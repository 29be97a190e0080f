"""What the ledger's witness service and its clients say to each other, and how a statement is
signed and checked (``release.witness.service`` answers, ``release.witness.client`` asks).

One request per connection: a line of JSON in, a line of JSON out, over a Unix socket (the
address is an absolute path) or TCP (``host:port``). Every answer that vouches for something is
a **signed statement**: canonical JSON, signed with Ed25519 under a fixed context string by the
key only the witness holds, and checked by the client under the key the organisation's
``privacy.yaml`` pins. Three kinds:

- ``head``: what the witness holds now (the ledger it anchors, how many entries, the last
  entry's hash, when, under which account and declarations).
- ``receipt``: the witness holds the ledger's entries up to ``seq`` (with ``hash``); the ledger
  keeps it beside the entry and the manifest records the one of its head,
  so anyone with the pinned key can check it offline.
- ``draw``: the witness made a draw for ``ledger_id`` (``draw_id``, the record's ``record_sha256``,
  the ``charge`` fields the ledger pays it with, but its run and measurement key: ``SIGNED_CHARGE``);
  the ledger keeps it beside the stored measurement and the manifest's measurement carries it
  (``witness_draw``). Approve, publish, the audit and verify require it for every measurement
  charged after the ledger's anchor in the service (issue #12, attack 4x-import). It commits to the
  bounded counts the service drew on (``counts_commitment``, under the counts key ``counts_key_id``
  names: ``release.witness.counts``), which approve, publish, the audit and verify require and
  ``release audit --raw`` recounts (round 23, 4s-scale).

**No published statement carries a value the client chose** (round 31, covert channel). Receipts
and draw statements are copied into the public manifest, and the analyst who runs the build can
patch the client and send any request: whatever the witness signed back verbatim (the request's
nonce, up to 768 bits; a draw's ``run_id``, 128 bits, and ``measurement_key``, whose suffix the
service cannot recompute) would reach every reader of the portal, chosen bit for bit. So a
statement holds only what the ledger or the data determine (the ledger's id, an entry's seq and hash;
the record's hash, the declared charge fields, the counts' commitment) and what the witness draws
itself (``draw_id``, the noise behind ``record_sha256``); a receipt or draw statement carries no
time either (when to ask is the client's choice, and the manifest's build time is private), nor
how many entries the witness holds (a client sets that by appending as many as it likes). The
run and measurement key stay on the ledger's charge entry, which the witness holds and matches to
its draw before it takes it (``witness_store``), and reach a recovering ledger in the tail's
clear ``charge``, checked against the statement.

The freshness the nonce gives the client is a second signature, never published: every answer that
carries a statement carries ``fresh``, the witness's signature of (the statement's hash, the
request's nonce) (``FRESH``); the client checks it, so a statement recorded earlier and replayed
answers another nonce and is refused, and keeps only the statement. Asking again for the receipt of
the same entry returns the same receipt, bit for bit (Ed25519 signs deterministically); a second
draw is a new draw, charged in full and recorded by the witness.

A statement in the form before round 31 (it carries ``nonce``) is refused wherever it could be
published or re-used, fail closed: stored draws made in it are not re-used, so the rebuild draws
them again (and is charged), and approve, publish, the audit and verify fail a bundle or published
copy that carries one: rebuild it. Accepting it where it was already stored would keep publishing
the values a client chose. Only an unpaid draw in it is still charged (``old_form_ok``: charging is
the safe direction, and the stored measurement is never re-used).

A refusal is not signed: it never lets anything through (no receipt, no commit).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import socket
from collections.abc import Mapping
from typing import Any

from release.config.privacy import parse_address
from release.keys.signing import canonical, public_key_id, short_id, verify_bytes
from release.privacy.ledger_entries import CHARGE_FIELDS

CONTEXT = b"release witness statement v1\n"
HEAD = "release-witness/head"
RECEIPT = "release-witness/receipt"
DRAW = "release-witness/draw"
FRESH = "release-witness/fresh"  # what ``fresh`` signs: this statement answers this nonce (never published)
CLIENT_CHOSEN = ("run_id", "measurement_key")  # charge fields the service cannot check: never signed
SIGNED_CHARGE = tuple(f for f in CHARGE_FIELDS if f not in CLIENT_CHOSEN)
OLD_FORM = ("it is in the statement form before round 31, which signed back the client's own nonce (and a draw's run "
            "and measurement key) into the public manifest: rebuild the release; its measurements are drawn again "
            "and charged")
MAX_LINE = 16 * 1024 * 1024  # an append of every entry of a large ledger fits; a flood does not
TIMEOUT = 30.0


def message(statement: Mapping[str, Any]) -> bytes:
    return CONTEXT + canonical(dict(statement))


def fresh_message(statement: Mapping[str, Any], nonce: str) -> bytes:
    """What ``fresh`` signs: the statement's hash and the request's nonce."""
    return message({"type": FRESH, "statement_sha256": hashlib.sha256(message(statement)).hexdigest(),
                    "nonce": nonce})


def signed_charge(charge: Mapping[str, Any]) -> dict[str, Any]:
    """The charge fields a draw statement signs: the ledger's charge but what the client chose freely."""
    return {f: charge.get(f) for f in SIGNED_CHARGE}


def new_nonce() -> str:
    return secrets.token_hex(16)


def verified(signed: object, public_key: str, kind: str, nonce: str | None = None,
             fresh: object = None, old_form_ok: bool = False) -> dict[str, Any] | str:
    """The statement ``signed`` carries, when it is a ``kind`` statement signed by ``public_key`` in
    this form (``old_form_ok``: or the one before round 31, for a draw charged, never published) and,
    given ``nonce``, ``fresh`` signs that it answers it; otherwise why not (a sentence, never a value)."""
    if not isinstance(signed, Mapping) or not isinstance(signed.get("statement"), Mapping):
        return "it is not a signed statement"
    statement = dict(signed["statement"])
    if not verify_bytes(public_key, message(statement), signed.get("signature")):
        return (f"its signature does not verify under the witness key privacy.yaml pins (key "
                f"{short_id(public_key_id(public_key))})")
    if statement.get("type") != kind:
        return f"it is not a {kind.split('/')[-1]} statement"
    if "nonce" in statement and not old_form_ok:
        return OLD_FORM
    if nonce is not None and not verify_bytes(public_key, fresh_message(statement, nonce), fresh):
        return "it answers another request (its fresh signature is not for this one's nonce): a replayed statement"
    return statement


def exchange(address: str, request: Mapping[str, Any], timeout: float = TIMEOUT) -> dict[str, Any]:
    """Send one request, read one answer; OSError when the service cannot be reached or
    answers nothing readable (the caller turns it into a refusal)."""
    family, target = parse_address(address)
    with socket.socket(family, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout)
        connection.connect(target)
        connection.sendall(json.dumps(dict(request), separators=(",", ":")).encode("utf-8") + b"\n")
        with connection.makefile("rb") as answer:
            line = answer.readline(MAX_LINE + 1)
    try:
        reply = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise OSError("the witness answered something that is not a JSON line") from None
    if not isinstance(reply, dict):
        raise OSError("the witness answered something that is not a JSON object")
    return reply
