"""The review queue: every item a reviewer must look at before approving, in its context.

Four kinds, in this order: residual findings of a blocked build (``review/blocking.json``),
low-confidence redactions (log entries scored under ``LOW_CONFIDENCE``), withheld narratives
(a whole text withheld by the policy) and record-level risk verdicts that are not green.

An item carries the public sentence with its placeholder in place (cut from the public file
at the log entry's output offsets), never the removed text. With the reviewer's raw export,
``attach_raw`` adds the removed text to the items in memory only: nothing in this module
writes a file, and the removed text is never part of an item's id, log line or error.

Item ids are stable across rebuilds (a hash of kind, file, row key, column, offsets and rule),
so a decision recorded on a span is matched to the same item after the next build.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from release.bundle.decisions import Decision
from release.bundle.jsonl import text_lines
from release.bundle.layout import BLOCKING_FILE, LOG
from release.bundle.log import read_entries
from release.bundle.manifest_recorded import Recorded
from release.bundle.read import read_public_record
from release.config.policy import DatasetPolicy, FilePolicy
from release.errors import ReleaseError
from release.model import finite_number
from release.review.facts import LOW_CONFIDENCE
from release.review.summary import risk_sentence
from release.stages.juvenile import public_report_key

KINDS = ("finding", "span", "withheld", "risk")
KIND_LABEL = {"finding": "Blocking finding", "span": "Low-confidence redaction",
              "withheld": "Withheld narrative", "risk": "Record-level risk"}
CONTEXT_CHARS = 160  # at most this many characters either side of the placeholder
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class Sentence:
    """A public sentence cut around one placeholder: before, the placeholder, after."""

    before: str
    placeholder: str
    after: str


@dataclass(frozen=True)
class QueueItem:
    """One item for a reviewer to decide or acknowledge: a finding, a logged span, a withheld text, a risk."""

    item_id: str
    kind: str                   # one of KINDS
    rule: str                   # bulk actions work per rule
    file: str
    row_key: str
    column: str
    entity_type: str = ""
    score: float | None = None
    detector: str = ""
    decidable: bool = False     # keep/redact can be signed for it; otherwise it is acknowledged
    log_id: str = ""            # the redaction-log hash (kind "span") or the finding id (kind "finding")
    span: tuple[int, int] = (-1, -1)
    sentence: Sentence | None = None
    context: str = ""           # a finding's context as the build stored it (the hit withheld)
    message: str = ""
    removed: str | None = field(default=None, repr=False)  # from --raw only: memory, never disk

    def matches(self, decision: Decision) -> bool:
        if self.kind == "finding":
            return decision.kind == "finding" and decision.finding_id.upper() == self.log_id.upper()
        return (self.kind == "span" and decision.kind == "span" and decision.file == self.file
                and decision.row_key == self.row_key and decision.column == self.column
                and (decision.start, decision.end) == self.span)


def _item_id(*parts: object) -> str:
    return "i" + hashlib.sha256(json.dumps([str(p) for p in parts]).encode("utf-8")).hexdigest()[:12]


def cut_sentence(text: str, start: int, end: int) -> Sentence:
    """The sentence holding ``text[start:end]`` (the placeholder), at most ``CONTEXT_CHARS`` either side."""
    left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    following = _SENTENCE_END.search(text, end)
    right = following.start() if following else len(text)
    left, right = max(left, start - CONTEXT_CHARS), min(right, end + CONTEXT_CHARS)
    return Sentence(("…" if left > 0 else "") + text[left:start], text[start:end],
                    text[end:right] + ("…" if right < len(text) else ""))


class PublicTexts:
    """Public cells by raw row key: the report number is mapped to the key it is published under."""

    def __init__(self, bundle: Path, policy: DatasetPolicy, year: int, tokenizer: object | None) -> None:
        self._bundle, self._policy, self._year, self._tokenizer = bundle, policy, year, tokenizer
        self._frames: dict[str, pd.DataFrame | None] = {}

    def _file(self, raw_file: str) -> FilePolicy | None:
        return next((fp for fp in self._policy.files.values() if fp.raw_file == raw_file), None)

    def _frame(self, file_policy: FilePolicy) -> pd.DataFrame | None:
        relpath = file_policy.public_file.format(year=self._year)
        if relpath not in self._frames:  # the file whole, its CSV parts joined
            self._frames[relpath] = read_public_record(self._bundle / "public", relpath,
                                                       self._policy.publish.csv_row_limit)
        return self._frames[relpath]

    def cell(self, raw_file: str, row_key: str, column: str) -> str | None:
        file_policy = self._file(raw_file)
        frame = self._frame(file_policy) if file_policy is not None else None
        if file_policy is None or frame is None or column not in frame.columns:
            return None
        report, _, rest = row_key.replace("/p", "#").partition("#")
        ordinal = rest or "1"
        link = file_policy.link_column
        keys = {report}
        if self._tokenizer is not None:
            keys.add(public_report_key(report, self._policy.dataset, self._tokenizer))  # type: ignore[arg-type]
        rows = frame[frame[link].isin(keys)] if link in frame.columns else frame.iloc[0:0]
        sequence = next((c for c, r in file_policy.columns.items() if r.type == "sequence"), None)
        if sequence in rows.columns:
            rows = rows[rows[sequence] == ordinal]
        value = rows.iloc[0][column] if len(rows) == 1 else None
        return value if isinstance(value, str) else None


def _log_items(lines: Sequence[str], texts: PublicTexts, narratives: frozenset[str]) -> list[QueueItem]:
    items = []
    entries = read_entries(lines)
    scored = [e for e in entries if e.get("action") == "redact"
              and (finite_number(e.get("score")) or 0.0) < LOW_CONFIDENCE]
    for e in sorted(scored, key=lambda e: (finite_number(e.get("score")) or 0.0, int(e.get("seq") or 0))):
        file, row_key, column = str(e.get("file")), str(e.get("row_key")), str(e.get("column"))
        start, end = int(e.get("start") or 0), int(e.get("end") or 0)
        out_start, out_end = e.get("out_start"), e.get("out_end")
        cell = texts.cell(file, row_key, column)
        sentence = (cut_sentence(cell, out_start, out_end) if cell is not None and isinstance(out_start, int)
                    and isinstance(out_end, int) and 0 <= out_start < out_end <= len(cell) else None)
        items.append(QueueItem(
            _item_id("span", file, row_key, column, start, end), "span", str(e.get("rule_id", "")), file, row_key,
            column, str(e.get("entity_type", "")), finite_number(e.get("score")), str(e.get("detector", "")),
            decidable=start >= 0, log_id=str(e.get("hash", "")), span=(start, end), sentence=sentence))
    for e in entries:
        if e.get("action") == "withhold" and str(e.get("column")) in narratives:
            file, row_key, column = str(e.get("file")), str(e.get("row_key")), str(e.get("column"))
            items.append(QueueItem(
                _item_id("withheld", file, row_key, column), "withheld", str(e.get("rule_id", "")), file, row_key,
                column, str(e.get("entity_type", "")), detector=str(e.get("detector", "")),
                message="The whole text is withheld by the policy (it is not published); acknowledge it."))
    return items


def _finding_items(blocking: Sequence[Mapping[str, object]]) -> list[QueueItem]:
    return [QueueItem(
        _item_id("finding", b.get("finding_id")), "finding", str(b.get("rule") or b.get("stage") or ""),
        str(b.get("file") or ""), str(b.get("row_key") or ""), str(b.get("column") or ""),
        str(b.get("entity_type") or ""), decidable=bool(b.get("decidable", True)), log_id=str(b.get("finding_id")),
        context=str(b.get("context")) if b.get("context") is not None else "(a structured cell: its value is not shown)",
        message=str(b.get("stage") or "")) for b in blocking]


def _risk_items(manifest: Mapping[str, Any]) -> list[QueueItem]:
    return [QueueItem(
        _item_id("risk", risk.get("file"), ", ".join(str(q) for q in risk.get("quasi_identifiers") or [])),
        "risk", "record_risk", str(risk.get("file")), "", "",
        message=f"{str(risk.get('verdict')).upper()}: {risk_sentence(risk)}")
        for risk in Recorded.of(manifest).record_risk if risk.get("verdict") != "green"]


def build_queue(bundle: Path, manifest: Mapping[str, object], policy: DatasetPolicy, year: int,
                tokenizer: object | None) -> list[QueueItem]:
    """Every item to review, from what the bundle records (no raw text)."""
    blocking_path = bundle / "review" / BLOCKING_FILE
    try:
        blocking = json.loads(blocking_path.read_text(encoding="utf-8")) if blocking_path.is_file() else []
    except json.JSONDecodeError:
        raise ReleaseError("the list of blocking findings is not JSON", file=str(blocking_path),
                           rule="review") from None
    log = bundle / LOG
    lines = text_lines(log)
    narratives = frozenset(c for fp in policy.files.values() for c, r in fp.columns.items()
                           if r.type in ("narrative", "free_text"))
    return (_finding_items([b for b in blocking if isinstance(b, dict)])
            + _log_items(lines, PublicTexts(bundle, policy, year, tokenizer), narratives) + _risk_items(manifest))


def attach_raw(items: Sequence[QueueItem], raw_dir: Path, policy: DatasetPolicy) -> list[QueueItem]:
    """The removed text of each span and withheld narrative, read from the reviewer's raw export
    into memory. A row or column that is not there leaves the item without it (named, no value)."""
    from release.model import ROW_KEY
    from release.stages.load import load_file, missing_tokens

    frames: dict[str, pd.DataFrame] = {}
    out = []
    for item in items:
        if item.kind not in ("span", "withheld"):
            out.append(item)
            continue
        file_policy = next((fp for fp in policy.files.values() if fp.raw_file == item.file), None)
        if file_policy is not None and item.file not in frames:
            frames[item.file] = load_file(raw_dir, file_policy, policy.limits, missing_tokens(policy))[0]
        frame = frames.get(item.file)
        text = None
        if frame is not None and item.column in frame.columns:
            rows = frame.loc[frame[ROW_KEY] == item.row_key, item.column]
            text = rows.iloc[0] if len(rows) == 1 and isinstance(rows.iloc[0], str) else None
        if text is None:
            out.append(item)
        elif item.kind == "withheld":
            out.append(replace(item, removed=text))
        else:
            start, end = item.span
            out.append(replace(item, removed=text[start:end]) if 0 <= start < end <= len(text) else item)
    return out
