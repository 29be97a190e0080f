"""JSON as the bundle holds it: the one canonical form (``canonical_json``) and timestamp (``utc_now``),
type-strict equality (``same_json``), and the one reader of the bundle's line files: the redaction log,
approvals and their seals, reviewers' decisions, ``SHA256SUMS`` and the ledger's marks.

Why: each was read with ``read_text(encoding="utf-8")``, so one byte that is not UTF-8 (a damaged
copy, or an edit) stopped approve, publish, the audit, verify and the review with an internal error
instead of a refusal that names the file. Here a byte that is not UTF-8 is read as U+FFFD, so the
check that reads the line refuses it by file and line as it refuses any other altered line: inside
what a signature, MAC or hash chain covers, the line no longer verifies; outside it (a signed line's
framing), a signed line must be exactly the bytes its writer gives (``SignedRecord.from_line``: its four
keys; ``verify_record``: the key and signature as the signer writes them), and the file-form check
refuses an ``approvals.jsonl`` that is not UTF-8 at all (round 36, H2: a byte outside the signed part was
read past). Lines split as ``str.splitlines`` splits them, as before.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

# one encoder for every call: json.dumps with options builds a new encoder per call
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def canonical_json(value: object) -> str:
    """The one canonical JSON text of everything hashed, signed, MACed or chained: keys sorted, no
    spaces, ASCII only, and no NaN or infinity (they are not JSON, and two readers would disagree)."""
    return _CANONICAL.encode(value)


def utc_now() -> str:
    """Now, in UTC to the second (ISO 8601): every time a manifest, ledger entry or signed record holds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def text_lines(path: Path) -> list[str]:
    """The lines of ``path`` (none when it is not a file)."""
    if not path.is_file():
        return []
    return path.read_bytes().decode("utf-8", errors="replace").splitlines()


def is_text(path: Path) -> bool:
    """Whether ``path`` is absent or UTF-8 text (a file that a writer may rewrite line by line)."""
    if not path.is_file():
        return True
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def same_json(a: object, b: object) -> bool:
    """Equal as published: the same JSON text (keys sorted), so type-strict: 0 is not 0.0, 1 is not true.
    The checks regenerate every published value with the build's own arithmetic, so nothing is close but
    equal: a tolerance let any double within it through (round 34, N3), and ``==`` any type (round 35, F2)."""
    import json

    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
