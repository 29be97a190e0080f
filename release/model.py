"""Value types passed between stages: findings, reports and redaction events.

Stages return new tables plus the events they caused; nothing here holds a raw value.
A ``Finding`` names where something is (file, row key, column, rule) and how many, never
what the value was; a ``RedactionEvent`` carries an HMAC token instead of the text.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Literal

import pandas as pd

Severity = Literal["blocking", "warning", "info"]
# The column every loaded table carries: its row's key (the report number, as declared), by which every
# finding, log entry and decision names a row. Set at load (``release.stages.load``), never published.
ROW_KEY = "_row_key"


@dataclass(frozen=True)
class InputFile:
    """One raw file as read, for the manifest: its hash, size, encoding and rows."""

    name: str
    sha256: str
    size_bytes: int
    encoding: str
    rows: int


@dataclass(frozen=True)
class Finding:
    """One observation by a stage. ``blocking`` findings stop the release."""

    stage: str
    code: str
    severity: Severity
    message: str
    file: str | None = None
    row_key: str | None = None
    column: str | None = None
    rule: str | None = None
    count: int | None = None
    row_keys: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["row_keys"] = list(self.row_keys)
        return data


@dataclass(frozen=True)
class RedactionEvent:
    """One redaction or withholding, as it goes into the hash-chained log.

    ``start``/``end`` are offsets in the original text, ``out_start``/``out_end`` in the
    published text (both -1 for whole-cell actions). ``token`` is HMAC-SHA-256 of the
    normalized removed value under a key that never enters the bundle.
    """

    dataset: str
    file: str
    row_key: str
    column: str
    action: str  # redact | withhold | drop_value | generalize | suppress
    entity_type: str
    detector: str
    detector_version: str
    rule_id: str
    score: float
    start: int
    end: int
    out_start: int
    out_end: int
    removed_length: int
    token: str
    placeholder: str = ""

    def to_dict(self) -> dict[str, object]:
        # every field is a str, int or float: a shallow copy is what asdict's deep copy gives,
        # at a tenth of the cost (a year's log has ~45,000 entries)
        return {name: getattr(self, name) for name in _EVENT_FIELDS}


_EVENT_FIELDS = tuple(f.name for f in fields(RedactionEvent))


@dataclass(frozen=True)
class Report:
    """Every finding of a run; the exit decision is derived from it, never stored beside it."""

    findings: tuple[Finding, ...] = ()

    def extend(self, more: list[Finding] | tuple[Finding, ...]) -> Report:
        return Report(self.findings + tuple(more))

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "blocking")

    @property
    def ok(self) -> bool:
        return not self.blocking

    def to_list(self) -> list[dict[str, object]]:
        return [f.to_dict() for f in self.findings]


@dataclass(frozen=True)
class Tables:
    """Named DataFrames (e.g. ``contacts``, ``persons``). Stages copy, never mutate."""

    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    def replace(self, **frames: pd.DataFrame) -> Tables:
        merged = dict(self.frames)
        merged.update(frames)
        return Tables(merged)

    def names(self) -> list[str]:
        return list(self.frames)


def finite_number(value: object) -> float | None:
    """A published table cell as a number: None when blank, text, NaN or infinite."""
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class ReviewerDecision:
    """A reviewer's ruling on one span of one record's text (see ``release decide``): read from the signed
    decisions file (``release.bundle.decisions``), applied by the redaction stage (``apply_decisions``)."""

    decision: str      # "keep" | "redact"
    row_key: str       # the report's key (identical texts of one report are redacted once)
    column: str
    start: int
    end: int
    entity_type: str
    token: str         # HMAC of the span: a decision applies only while the raw text still holds it
