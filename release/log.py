"""The hash-chained redaction log (``redaction_log.jsonl``).

One JSON object per line. Each entry carries ``seq`` and the hash of the entry before it
(``prev``); its own ``hash`` is SHA-256 over its canonical JSON without ``hash``. A final
trailer holds the entry count, the head hash and an HMAC of both under the release key,
so an edit, a deletion, a reordering or a truncation is detected by ``verify_log``, and
a forged trailer is detected by anyone holding the key. No original value is stored: the
events carry HMAC tokens only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from release.keys import Tokenizer
from release.model import RedactionEvent

GENESIS = "0" * 64
LOG_VERSION = 1


def _canonical(entry: dict[str, object]) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _digest(entry: dict[str, object]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


def build_log(events: Iterable[RedactionEvent], tokenizer: Tokenizer) -> list[str]:
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
        "head": prev, "key_id": tokenizer.key_id,
        "mac": tokenizer.mac(f"{LOG_VERSION}:{seq}:{prev}"),
    }
    trailer["hash"] = _digest(trailer)
    lines.append(_canonical(trailer))
    return lines


@dataclass(frozen=True)
class LogCheck:
    ok: bool
    entries: int
    head: str
    problems: tuple[str, ...]
    trailer_mac_checked: bool

    def to_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "entries": self.entries, "head": self.head,
                "problems": list(self.problems), "trailer_mac_checked": self.trailer_mac_checked}


def verify_log(lines: Sequence[str], tokenizer: Tokenizer | None = None) -> LogCheck:
    """Check chain, order, count and trailer. Problems name line numbers, never content."""
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
    mac_checked = False
    if trailer is None:
        problems.append("no trailer: the log is truncated")
    else:
        if trailer.get("count") != entries:
            problems.append("trailer count differs from the number of entries")
        if trailer.get("head") != trailer.get("prev"):
            problems.append("trailer head differs from the last entry's hash")
        if tokenizer is not None:
            mac_checked = True
            expected = tokenizer.mac(f"{trailer.get('log_version')}:{trailer.get('count')}:{trailer.get('head')}")
            if trailer.get("mac") != expected:
                problems.append("trailer MAC does not verify under this key")
    head = str(trailer.get("head")) if trailer else prev
    return LogCheck(not problems, entries, head, tuple(problems), mac_checked)
