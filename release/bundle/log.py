"""The hash-chained redaction log (``redaction_log.jsonl``).

One JSON object per line. Each entry carries ``seq`` and the hash of the entry before it
(``prev``); its own ``hash`` is SHA-256 over its canonical JSON without ``hash``. A final
trailer holds the entry count, the head hash and an HMAC of both under the release's
trailer key, so an edit, a deletion, a reordering or a truncation is detected by
``verify_log``, and a re-chained, re-counted log is detected by anyone holding the key.
The trailer key is derived for that purpose only and its message is labelled (format 2),
so no value token, which the build computes over text a narrative chooses, is ever a
valid trailer MAC. No original value is stored: the events carry HMAC tokens only.
Its readers (the packet, the review queue, the audit, a reviewer's decision) read its entries and trailer
through ``read_entries`` and ``read_trailer``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from release.bundle.jsonl import canonical_json
from release.keys.hmac import TrailerKey
from release.model import RedactionEvent

GENESIS = "0" * 64
LOG_VERSION = 2  # 1: the trailer MAC used the token key (forgeable)


def _canonical(entry: dict[str, object]) -> str:
    return canonical_json(entry)


def _digest(entry: dict[str, object]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def build_log(events: Iterable[RedactionEvent], trailer_key: TrailerKey) -> list[str]:
    """Chain the events and close them with a trailer; returns the lines to write."""
    lines: list[str] = []
    prev = GENESIS
    seq = 0
    for seq, event in enumerate(events, start=1):
        entry: dict[str, object] = {"seq": seq, "prev": prev, **event.to_dict()}
        entry["hash"] = _digest(entry)
        prev = str(entry["hash"])
        lines.append(_canonical(entry))
    trailer: dict[str, object] = {
        "trailer": True, "log_version": LOG_VERSION, "count": seq, "prev": prev,
        "head": prev, "key_id": trailer_key.key_id,
        "mac": trailer_key.mac(LOG_VERSION, seq, prev),
    }
    trailer["hash"] = _digest(trailer)
    lines.append(_canonical(trailer))
    return lines


_NOT_JSON = object()


def read_entries(lines: Iterable[str], *, trailer: bool = False,
                 not_json: Callable[[int], object] | None = None) -> list[dict[str, Any]]:
    """The log's lines that are JSON objects, in order: its entries, and with ``trailer`` the lines a ``trailer``
    key marks too. A line that is not JSON is skipped (``verify_log`` names it) unless ``not_json`` is given: it is
    called with the line's number and refuses the log (a reader that must not read past it). A line that is not an
    object is skipped. Every reader of the log but ``verify_log`` (which names each line it finds wrong) reads it
    through here, so none reads a line another would not."""
    found: list[dict[str, Any]] = []
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            entry = _NOT_JSON  # refused below, outside the handler: a refusal names the line, not the parser's error
        if entry is _NOT_JSON:
            if not_json is not None:
                not_json(number)
            continue
        if isinstance(entry, dict) and (trailer or not entry.get("trailer")):
            found.append(entry)
    return found


def read_trailer(lines: Sequence[str]) -> dict[str, Any] | None:
    """The log's trailer as written: its last line, when that is a JSON object a ``trailer`` key marks (None: the
    log is empty, truncated or damaged, which ``verify_log`` names)."""
    try:
        last = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        return None
    return last if isinstance(last, dict) and last.get("trailer") else None


@dataclass(frozen=True)
class LogCheck:
    """What ``verify_log`` found of a log: its entries and head, and every break in the chain or the
    trailer MAC (the MAC is checked only by a holder of the release's key, hence ``trailer_mac_checked``)."""

    entries: int
    head: str
    chain_problems: tuple[str, ...]   # edits, deletions, reorderings, truncation
    mac_problems: tuple[str, ...]     # the trailer MAC, when a key was given
    trailer_mac_checked: bool

    @property
    def problems(self) -> tuple[str, ...]:
        return self.chain_problems + self.mac_problems

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "entries": self.entries, "head": self.head,
                "problems": list(self.problems), "trailer_mac_checked": self.trailer_mac_checked}


def trailer_mac_problems(trailer: dict[str, object], trailer_key: TrailerKey) -> list[str]:
    """Why a trailer's MAC does not prove the log whole under ``trailer_key`` (empty: it does)."""
    problems = []
    expected_version = 1 if trailer_key.legacy else LOG_VERSION
    if trailer.get("log_version") != expected_version:
        problems.append(f"trailer log format {trailer.get('log_version')}, the manifest's keys are "
                        f"for format {expected_version}")
    expected = trailer_key.mac(trailer.get("log_version"), trailer.get("count"), trailer.get("head"))
    if not hmac.compare_digest(str(trailer.get("mac")).encode("utf-8"), expected.encode("ascii")):
        problems.append("trailer MAC does not verify under this key")
    return problems


def verify_log(lines: Sequence[str], trailer_key: TrailerKey | None = None) -> LogCheck:
    """Check chain, order, count and trailer (its MAC only given the key). Problems name
    line numbers, never content."""
    problems: list[str] = []
    prev = GENESIS
    entries = 0
    trailer: dict[str, object] | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            problems.append(f"line {number}: empty line")
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            problems.append(f"line {number}: not valid JSON")
            continue
        if not isinstance(entry, dict):
            problems.append(f"line {number}: not a JSON object")
            continue
        if trailer is not None:
            problems.append(f"line {number}: entry after the trailer")
        if entry.get("hash") != _digest(entry):
            problems.append(f"line {number}: hash does not match its content (edited)")
        if entry.get("prev") != prev:
            problems.append(f"line {number}: chain broken (an entry was removed, inserted or moved)")
        if entry.get("trailer") is True:
            trailer = entry
        else:
            entries += 1
            if entry.get("seq") != entries:
                problems.append(f"line {number}: sequence number out of order")
        prev = str(entry.get("hash"))
    mac_problems: list[str] = []
    if trailer is None:
        problems.append("no trailer: the log is truncated")
    else:
        if trailer.get("count") != entries:
            problems.append("trailer count differs from the number of entries")
        if trailer.get("head") != trailer.get("prev"):
            problems.append("trailer head differs from the last entry's hash")
        if trailer_key is not None:
            mac_problems = trailer_mac_problems(trailer, trailer_key)
    head = str(trailer.get("head")) if trailer else prev
    return LogCheck(entries, head, tuple(problems), tuple(mac_problems),
                    trailer is not None and trailer_key is not None)
