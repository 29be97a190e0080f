"""Redact free-text columns with the PII engine, using the record's own identifiers.

For every report the raw-only values of its people and vehicle (names, aliases, dates of
birth, addresses, phones, licences, plates) become record-linked terms; narratives of
reports withheld by the juvenile rule are never analysed. Identical texts of one report
(a report repeats once per basis) are analysed once. The engine is handed in by the
orchestrator, so this module never imports Presidio.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Protocol, Sequence

import pandas as pd

from release.config import DatasetPolicy
from release.keys import Tokenizer
from release.model import Finding, RedactionEvent, Tables
from release.pii.terms import RecordTerms
from release.stages.load import ROW_KEY

_FIELD_OF_TERM = {
    "alias": "aliases", "dob": "dobs", "address": "addresses", "phone": "phones",
    "license": "licenses", "plate": "plates", "other": "other",
}


class Engine(Protocol):
    def redact_many(self, texts: Sequence[str], terms: Sequence[RecordTerms],
                    progress: Callable[[int], None] | None = None) -> list: ...
    def versions(self) -> dict[str, str]: ...


def _collect(values: dict[str, list[str]], row: pd.Series, raw_only: dict[str, str]) -> None:
    parts = {kind: row.get(column) for column, kind in raw_only.items()
             if kind in ("first_name", "middle_name", "last_name")}
    pieces = tuple(p if isinstance(p, str) else "" for p in (
        parts.get("first_name"), parts.get("middle_name"), parts.get("last_name")))
    if any(pieces):
        values["name_parts"].append(pieces)  # type: ignore[arg-type]
        values["names"].append(" ".join(p for p in pieces if p))
    for column, kind in raw_only.items():
        value = row.get(column)
        if not isinstance(value, str) or not value:
            continue
        if kind == "full_name":
            values["names"].append(value)
        elif kind in _FIELD_OF_TERM:
            values[_FIELD_OF_TERM[kind]].append(value)


def record_terms(tables: Tables, policy: DatasetPolicy) -> dict[str, RecordTerms]:
    """Raw-only values of each record (keyed by the top-level file's key), gathered from
    the top-level file and every file linked to it."""
    gathered: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for name, file_policy in policy.files.items():
        raw_only = file_policy.raw_only_columns()
        if not raw_only:
            continue
        key_column = file_policy.parent.column if file_policy.parent else file_policy.key_column
        columns = [c for c in raw_only if c in tables[name].columns]
        frame = tables[name][[key_column, *columns]]
        for row in frame.itertuples(index=False):
            record = dict(zip([key_column, *columns], row))
            key = record[key_column]
            if isinstance(key, str):
                _collect(gathered[key], pd.Series(record), raw_only)
    return {key: RecordTerms(**{field: tuple(dict.fromkeys(v)) for field, v in fields.items()})
            for key, fields in gathered.items()}


def officer_roster(tables: Tables, policy: DatasetPolicy) -> tuple[str, ...]:
    names: set[str] = set()
    for name, file_policy in policy.files.items():
        for column, rule in file_policy.columns.items():
            if rule.type == "officer" and rule.roster and column in tables[name].columns:
                names.update(v for v in tables[name][column].dropna() if isinstance(v, str))
    return tuple(sorted(names))


def redact(tables: Tables, policy: DatasetPolicy, engine: Engine, tokenizer: Tokenizer,
           withheld: frozenset[str], progress: Callable[[int], None] | None = None,
           ) -> tuple[Tables, list[Finding], list[RedactionEvent]]:
    terms = record_terms(tables, policy)
    versions = engine.versions()
    detector_version = f"presidio {versions.get('presidio', '?')}, {versions.get('model', '?')} {versions.get('model_version', '?')}"
    frames = dict(tables.frames)
    events: list[RedactionEvent] = []
    findings: list[Finding] = []
    for name, file_policy in policy.files.items():
        narrative_columns = [c for c, r in file_policy.columns.items() if r.type == "narrative"]
        if not narrative_columns:
            continue
        frame = tables[name].copy()
        key_column = file_policy.parent.column if file_policy.parent else file_policy.key_column
        for column in narrative_columns:
            jobs: dict[tuple[str, str], list[int]] = {}
            for position, (key, text) in enumerate(zip(frame[key_column], frame[column])):
                if isinstance(text, str) and text.strip() and key not in withheld:
                    jobs.setdefault((key, text), []).append(position)
            ordered = list(jobs)
            results = engine.redact_many([text for _, text in ordered],
                                         [terms.get(key, RecordTerms()) for key, _ in ordered],
                                         progress=progress)
            values = frame[column].tolist()
            for (key, text), result in zip(ordered, results):
                for position in jobs[(key, text)]:
                    values[position] = result.text
                    row_key = frame[ROW_KEY].iat[position]
                    events += [RedactionEvent(
                        dataset=policy.dataset, file=file_policy.raw_file, row_key=row_key,
                        column=column, action="redact", entity_type=r.entity_type,
                        detector=r.detector, detector_version=detector_version, rule_id=r.rule_id,
                        score=round(float(r.score), 4), start=r.start, end=r.end,
                        out_start=r.out_start, out_end=r.out_end, removed_length=r.end - r.start,
                        token=tokenizer.token(text[r.start:r.end]), placeholder=r.placeholder)
                        for r in result.replacements]
            frame[column] = pd.Series(values, index=frame.index, dtype=object)
            findings.append(Finding(stage="redact", code="narratives_redacted", severity="info",
                                    message="narratives analysed (identical texts of one report once)",
                                    file=file_policy.raw_file, column=column, count=len(ordered)))
        frames[name] = frame
    return Tables(frames), findings, events
