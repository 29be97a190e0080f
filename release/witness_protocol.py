"""What the ledger's witness service and its clients say to each other, and how a statement is
signed and checked (``release.witness_service`` answers, ``release.witness_client`` asks).

One request per connection: a line of JSON in, a line of JSON out, over a Unix socket (the
address is an absolute path) or TCP (``host:port``). Every answer that vouches for something is
a **signed statement**: canonical JSON, signed with Ed25519 under a fixed context string by the
key only the witness holds, and checked by the client under the key the organisation's
``privacy.yaml`` pins. Two kinds:

- ``head``: what the witness holds now (the ledger it anchors, how many entries, the last
  entry's hash), with the client's fresh nonce: a statement recorded earlier and replayed
  carries another nonce and is refused.
- ``receipt``: the witness appended entries up to ``seq`` (with ``hash``) and now holds
  ``count``, with the nonce of the append request; the ledger keeps it beside the entry and the
  manifest records the one of its head, so anyone with the pinned key can check it offline.
- ``draw``: the witness made a draw for ``ledger_id`` (``draw_id``, the record's ``record_sha256``,
  the ``charge`` fields the ledger pays it with), with the nonce of the draw request; the ledger
  keeps it beside the stored measurement and the manifest's measurement carries it
  (``witness_draw``). Approve, publish, the audit and verify require it for every measurement
  charged after the ledger's anchor in the service (issue #12, attack 4x-import). It commits to the
  bounded counts the service drew on (``counts_commitment``, under the counts key ``counts_key_id``
  names: ``release.witness_counts``), which approve, publish, the audit and verify require and
  ``release audit --raw`` recounts (round 23, 4s-scale).

A refusal is not signed: it never lets anything through (no receipt, no commit).
"""

from __future__ import annotations

import json
import secrets
import socket
from collections.abc import Mapping
from typing import Any

from release.approvals import canonical, public_key_id, short_id, verify_bytes

CONTEXT = b"release witness statement v1\n"
HEAD = "release-witness/head"
RECEIPT = "release-witness/receipt"
DRAW = "release-witness/draw"
MAX_LINE = 16 * 1024 * 1024  # an append of every entry of a large ledger fits; a flood does not
TIMEOUT = 30.0


def message(statement: Mapping[str, Any]) -> bytes:
    return CONTEXT + canonical(dict(statement))


def new_nonce() -> str:
    return secrets.token_hex(16)


def verified(signed: object, public_key: str, kind: str, nonce: str | None = None) -> dict[str, Any] | str:
    """The statement ``signed`` carries, when it is a ``kind`` statement signed by ``public_key``
    (and answers ``nonce``); otherwise why not (a sentence, never a value)."""
    if not isinstance(signed, Mapping) or not isinstance(signed.get("statement"), Mapping):
        return "it is not a signed statement"
    statement = dict(signed["statement"])
    if not verify_bytes(public_key, message(statement), signed.get("signature")):
        return (f"its signature does not verify under the witness key privacy.yaml pins (key "
                f"{short_id(public_key_id(public_key))})")
    if statement.get("type") != kind:
        return f"it is not a {kind.split('/')[-1]} statement"
    if nonce is not None and statement.get("nonce") != nonce:
        return "it answers another request (its nonce is not this one's): a replayed statement"
    return statement


def parse_address(address: str) -> tuple[socket.AddressFamily, str | tuple[str, int]]:
    """(family, target) of a witness address: an absolute path is a Unix socket, else ``host:port``."""
    if address.startswith("/"):
        return socket.AF_UNIX, address
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("a witness address is an absolute socket path or host:port")
    return socket.AF_INET, (host.strip("[]"), int(port))


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
