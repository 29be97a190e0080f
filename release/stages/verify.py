"""Verify the public text, and turn what the checks find back into redactions.

Detect, redact once, verify (architecture.md): the second PII scan and the two leak checks
read the public files. A hit inside a free-text column is mapped back to the raw text
through the replacements the redaction made, and the redactor redacts it in the next
round together with everything else it found (one union, one rendering, consistent
placeholder numbers and log offsets). A hit that cannot be mapped, or one in a structured
column, is something redaction cannot fix: it stays a blocking finding.

Pure functions on strings and spans; the orchestrator runs the rounds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol


class Placed(Protocol):
    """A replacement as the redaction made it: raw offsets and output offsets."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def out_start(self) -> int: ...
    @property
    def out_end(self) -> int: ...


@dataclass(frozen=True)
class Hit:
    """Something a check found in a public cell. ``start``/``end`` are offsets in the public
    cell text, or None when the check names only the cell."""

    file: str          # public file name
    table: str         # policy file name ("contacts")
    row_key: str
    column: str
    entity_type: str
    detector: str      # second_scan | leak_check
    rule_id: str
    start: int | None = None
    end: int | None = None
    score: float = 1.0

    @property
    def finding_id(self) -> str:
        return finding_id(self.detector, self.file, self.row_key, self.column, self.rule_id,
                          self.start, self.end)


MAX_VERIFY_ROUNDS = 5  # the build's verify rounds (``build._verify``), replayed by ``span_support``


def finding_id(stage: str, file: str | None, row_key: str | None, column: str | None, rule: str | None,
               start: int | None = None, end: int | None = None) -> str:
    """A short stable name for one blocking finding, for ``release decide --finding``.

    Built from where it is (never from a value), so a rebuild of the same data names the
    same finding the same way."""
    where = "|".join(str(part) for part in (stage, file, row_key, column, rule, start, end))
    return "F" + hashlib.sha256(where.encode("utf-8")).hexdigest()[:10]


def _segments(original: str, output: str, placed: Sequence[Placed]) -> list[tuple[int, int, int]] | None:
    """Verbatim copies of the raw text inside the output: (out_start, out_end, raw_start).

    Between two replacements the output holds the raw text unchanged, with at most a space
    added on either side so a placeholder never glues to a word."""
    segments: list[tuple[int, int, int]] = []
    raw_at = out_at = 0
    for item in [*sorted(placed, key=lambda p: p.out_start), None]:
        raw_end = len(original) if item is None else item.start
        out_end = len(output) if item is None else item.out_start
        chunk = original[raw_at:raw_end]
        gap = output[out_at:out_end]
        offset = gap.find(chunk) if chunk else 0
        if offset < 0 or len(gap) - len(chunk) > 2:
            return None  # not the shape the redactor writes: do not guess
        segments.append((out_at + offset, out_at + offset + len(chunk), raw_at))
        if item is not None:
            raw_at, out_at = item.end, item.out_end
    return segments


def to_raw_span(original: str, output: str, placed: Sequence[Placed], start: int, end: int) -> tuple[int, int] | None:
    """The raw-text span behind ``output[start:end]``; a placeholder it touches is taken whole.

    None when the output is not the raw text with these replacements, or when the span lies
    entirely inside placeholders and added spaces (nothing raw is left there)."""
    if not 0 <= start < end <= len(output):
        return None
    segments = _segments(original, output, placed)
    if segments is None:
        return None
    raw_points: list[int] = []
    for out_a, out_b, raw_a in segments:
        low, high = max(start, out_a), min(end, out_b)
        if low < high:
            raw_points += [raw_a + low - out_a, raw_a + high - out_a]
    for item in placed:
        if item.out_start < end and start < item.out_end:
            raw_points += [item.start, item.end]
    if not raw_points:
        return None
    return min(raw_points), max(raw_points)


def spans_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def new_spans(found: Iterable[tuple[int, int]], already: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans of ``found`` not already covered whole by a span in ``already``."""
    covered = list(already)
    return [span for span in dict.fromkeys(found)
            if not any(c[0] <= span[0] and span[1] <= c[1] for c in covered)]
