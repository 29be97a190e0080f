"""JSON as the bundle holds it: type-strict equality (``same_json``), and the one reader of the bundle's line files: the redaction log, approvals and their seals, reviewers'
decisions, ``SHA256SUMS`` and the ledger's marks.

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

from pathlib import Path


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
