"""Redact free-text columns with the PII engine, using the record's own identifiers.

For every report the raw-only values of its people and vehicle (names, aliases, dates of
birth, addresses, phones, licences, plates) become record-linked terms; narratives of
reports withheld by the juvenile rule are never analysed. Identical texts of one report
(a report repeats once per basis) are analysed once. The engine is handed in by the
orchestrator, so this module never imports Presidio.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pandas as pd

from release.config.policy import DatasetPolicy
from release.keys.hmac import Tokenizer
from release.model import ROW_KEY, Finding, RedactionEvent, ReviewerDecision, Tables
from release.pii.placeholders import ENGINE_SPACING, Detection, Redacted, Replacement, place
from release.pii.terms import RecordTerms

_FIELD_OF_TERM = {
    "alias": "aliases", "dob": "dobs", "address": "addresses", "phone": "phones",
    "license": "licenses", "plate": "plates", "other": "other",
}


class Engine(Protocol):
    """What this stage needs of the PII engine (``release.pii.engine.PiiEngine``); a Protocol, so it never
    imports Presidio."""

    def redact_many(self, texts: Sequence[str], terms: Sequence[RecordTerms],
                    progress: Callable[[int], None] | None = None, *,
                    forced: Sequence[Sequence[Detection]] | None = None,
                    placeholders: Sequence[Sequence[tuple[int, int]]] | None = None,
                    alongside: Callable[[], None] | None = None) -> list[Redacted]: ...
    def scan_many(self, texts: Sequence[str], *, threshold: float,
                  placeholders: Sequence[Sequence[tuple[int, int]]] | None = None,
                  progress: Callable[[int], None] | None = None,
                  alongside: Callable[[], None] | None = None) -> list[list[Detection]]: ...
    def versions(self) -> dict[str, str]: ...


def _collect(values: dict[str, list[str]], name_parts: list[tuple[str, ...]], row: Mapping[str, object],
             raw_only: dict[str, str]) -> None:
    parts = {kind: row.get(column) for column, kind in raw_only.items()
             if kind in ("first_name", "middle_name", "last_name")}
    pieces = tuple(p if isinstance(p, str) else "" for p in (
        parts.get("first_name"), parts.get("middle_name"), parts.get("last_name")))
    if any(pieces):
        name_parts.append(pieces)
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
    gathered: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    name_parts: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for name, file_policy in policy.files.items():
        raw_only = file_policy.raw_only_columns()
        if not raw_only:
            continue
        key_column = file_policy.link_column
        columns = [c for c in raw_only if c in tables[name].columns]
        frame = tables[name][[key_column, *columns]]
        for row in frame.itertuples(index=False):
            record = dict(zip([key_column, *columns], row, strict=True))  # a plain dict: a Series per row cost seconds
            key = record[key_column]
            if isinstance(key, str):
                _collect(gathered[key], name_parts[key], record, raw_only)
    return {key: RecordTerms(name_parts=tuple(dict.fromkeys(name_parts[key])),
                             **{field: tuple(dict.fromkeys(v)) for field, v in fields.items()})
            for key, fields in gathered.items()}


def officer_roster(tables: Tables, policy: DatasetPolicy) -> tuple[str, ...]:
    names: set[str] = set()
    for name, file_policy in policy.files.items():
        for column, rule in file_policy.columns.items():
            if rule.type == "officer" and rule.roster and column in tables[name].columns:
                names.update(v for v in tables[name][column].dropna() if isinstance(v, str))
    return tuple(sorted(names))


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    entity_type: str
    detector: str
    score: float
    rule_id: str
    placeholder: str
    kept: bool = False  # a reviewer kept this text: rendered as is, logged as "keep"


def _render(text: str, spans: list[_Span]) -> tuple[str, list[tuple[_Span, int, int]]]:
    """Original text with each span replaced by its placeholder (a kept span copied), by the engine's
    own renderer (``placeholders.place``) with the engine's spacing: a reviewer's re-rendering
    (``apply_decisions``) and the replay of the log (``render_logged``) set the spaces the engine
    sets. (Round 38, F2: the re-rendering set none, and a reviewer's "redact" of an engine span,
    which logs no span of its own, beside a ``_`` or a bracket was replayed with the engine's and
    failed an honest bundle.)"""
    ordered = sorted(spans, key=lambda s: s.start)
    rendered, placed = place(text, [(s.start, s.end, None if s.kept else s.placeholder) for s in ordered],
                             ENGINE_SPACING)
    return rendered, [(span, out_start, out_end) for span, (out_start, out_end) in zip(ordered, placed, strict=True)]


def render_logged(text: str, spans: Sequence[tuple[int, int, str, bool]]) -> tuple[str, list[tuple[int, int]]]:
    """``text`` with logged spans (start, end, placeholder, kept) rendered as the build renders them
    (``release audit --raw`` replays the log without the PII model), whether or not a reviewer ruled
    on it; and each span's place in the output, in the order of their starts."""
    rendered, placed = _render(text, [_Span(start, end, "", "", 0.0, "", placeholder, kept)
                                      for start, end, placeholder, kept in spans])
    return rendered, [(out_start, out_end) for _, out_start, out_end in placed]


def apply_decisions(text: str, replacements: Sequence[Replacement], decisions: Sequence[ReviewerDecision],
                    tokenizer: Tokenizer) -> tuple[str, list[tuple[_Span, int, int]], list[ReviewerDecision],
                                                   list[ReviewerDecision]]:
    """Re-render one text after reviewer decisions; returns (text, spans, applied, stale)."""
    spans = [_Span(r.start, r.end, r.entity_type, r.detector, r.score, r.rule_id, r.placeholder)
             for r in replacements]
    applied: list[ReviewerDecision] = []
    stale: list[ReviewerDecision] = []
    for decision in decisions:
        if decision.end > len(text) or tokenizer.token(text[decision.start:decision.end]) != decision.token:
            stale.append(decision)  # the raw text changed since the reviewer looked
            continue
        applied.append(decision)
        overlapping = [s for s in spans if s.start < decision.end and decision.start < s.end]
        if decision.decision == "keep":
            spans = [s for s in spans if not (s.start == decision.start and s.end == decision.end)]
            if not any(s.start < decision.end and decision.start < s.end for s in spans):
                spans.append(_Span(decision.start, decision.end, decision.entity_type, "reviewer", 1.0,
                                   "reviewer.keep", "", kept=True))
        elif not overlapping:
            spans.append(_Span(decision.start, decision.end, decision.entity_type, "reviewer", 1.0,
                               "reviewer.redact", f"[{decision.entity_type}]"))
    rendered, placed = _render(text, spans)
    return rendered, placed, applied, stale


@dataclass(frozen=True)
class TextJob:
    """One distinct free-text value of one record: what the engine redacts once."""

    table: str     # policy file name
    column: str
    key: str       # the record's key (the top-level file's key)
    text: str      # the raw text; identical texts of one record are redacted once


@dataclass(frozen=True)
class Rendered:
    """One job's public text and the spans placed in it (raw and output offsets)."""

    text: str
    placed: tuple[tuple[_Span, int, int], ...]
    forced: tuple[Detection, ...] = ()

    @property
    def replacements(self) -> list[PlacedSpan]:
        """Spans replaced by a placeholder (a kept span is copied, so it is not one)."""
        return [PlacedSpan(span.start, span.end, out_start, out_end)
                for span, out_start, out_end in self.placed if not span.kept]


@dataclass(frozen=True)
class PlacedSpan:
    """A placeholder's span in the raw text and in the public text: how a public hit is mapped back to the raw."""

    start: int
    end: int
    out_start: int
    out_end: int


@dataclass(frozen=True)
class Redaction:
    """The redaction of every free-text cell. ``rendered`` is kept so the verify rounds
    can map a public hit back to the raw text and re-run only the texts that change; the
    records' terms and each job's log events are kept so a later round (``previous``)
    rebuilds neither for what it did not redact again."""

    tables: Tables
    findings: tuple[Finding, ...]
    events: tuple[RedactionEvent, ...]
    rendered: Mapping[TextJob, Rendered]
    positions: Mapping[TextJob, tuple[int, ...]]
    terms: Mapping[str, RecordTerms] = field(default_factory=dict)
    job_events: Mapping[TextJob, tuple[RedactionEvent, ...]] = field(default_factory=dict)
    detector_version: str = ""

    def jobs_by_position(self) -> dict[tuple[str, str, int], TextJob]:
        """(table, column, row position) -> the job whose text that cell holds."""
        return {(job.table, job.column, position): job
                for job, where in self.positions.items() for position in where}


def text_jobs(tables: Tables, policy: DatasetPolicy, withheld: frozenset[str]) -> dict[TextJob, list[int]]:
    """The texts to redact. A withheld record's text is skipped only in the columns the
    juvenile rule withholds: its other free text (a clothing description) is published, so
    it is redacted like any other."""
    withheld_columns = set(map(policy.column_ref, policy.juvenile.withhold)) if policy.juvenile else set()
    jobs: dict[TextJob, list[int]] = {}
    for name, file_policy in policy.files.items():
        key_column = file_policy.link_column
        frame = tables[name]
        for column in policy.files[name].free_text_columns():
            skipped = withheld if (name, column) in withheld_columns else frozenset()
            for position, (key, text) in enumerate(zip(frame[key_column], frame[column], strict=True)):
                if isinstance(text, str) and text.strip() and key not in skipped:
                    jobs.setdefault(TextJob(name, column, str(key), text), []).append(position)
    return jobs


def texts_to_redact(tables: Tables, policy: DatasetPolicy, withheld: frozenset[str]) -> int:
    """How many texts a first ``redact`` sends to the engine: the total its progress counts to."""
    return len(text_jobs(tables, policy, withheld))


def decisions_by_record(decisions: Sequence[ReviewerDecision]) -> dict[tuple[str, str], list[ReviewerDecision]]:
    """The decisions on each record's text, by (record key, column): a job's ``key`` and ``column``."""
    by_record: dict[tuple[str, str], list[ReviewerDecision]] = defaultdict(list)
    for decision in decisions:
        by_record[(decision.row_key.split("#")[0].split("/")[0], decision.column)].append(decision)
    return by_record


def redact(tables: Tables, policy: DatasetPolicy, engine: Engine, tokenizer: Tokenizer,
           withheld: frozenset[str], progress: Callable[[int], None] | None = None,
           decisions: Sequence[ReviewerDecision] = (),
           forced: Mapping[TextJob, Sequence[Detection]] | None = None,
           previous: Redaction | None = None, alongside: Callable[[], None] | None = None) -> Redaction:
    """Redact every free-text cell with its record's terms.

    ``forced`` holds spans (raw offsets) a check found after an earlier round; they join the
    union of candidates. With ``previous`` (an earlier round over the same tables), only
    texts whose forced spans changed are sent to the engine again. ``alongside``: the
    caller's own work, run while the engine's workers redact (once, whether or not any text
    needs the engine).
    """
    forced = forced or {}
    terms = previous.terms if previous is not None else record_terms(tables, policy)
    jobs = text_jobs(tables, policy, withheld)
    wanted = {job: tuple(forced.get(job, ())) for job in jobs}
    rendered: dict[TextJob, Rendered] = {}
    todo = [job for job in jobs if previous is None or job not in previous.rendered
            or previous.rendered[job].forced != wanted[job]]
    if previous is not None:
        rendered.update({job: previous.rendered[job] for job in jobs if job not in todo})
    results = engine.redact_many([job.text for job in todo], [terms.get(job.key, RecordTerms()) for job in todo],
                                 progress=progress, forced=[wanted[job] for job in todo],
                                 alongside=alongside) if todo else []
    if not todo and alongside is not None:
        alongside()
    by_record = decisions_by_record(decisions)
    applied_count: dict[tuple[str, str], int] = defaultdict(int)
    stale_rows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for job, result in zip(todo, results, strict=True):
        mine = by_record.get((job.key, job.column))
        if mine:
            out_text, placed, applied, stale = apply_decisions(job.text, result.replacements, mine, tokenizer)
            applied_count[(job.table, job.column)] += len(applied)
            stale_rows[(job.table, job.column)] += [d.row_key for d in stale]
        else:
            out_text = result.text
            placed = [(_Span(r.start, r.end, r.entity_type, r.detector, r.score, r.rule_id, r.placeholder),
                       r.out_start, r.out_end) for r in result.replacements]
        rendered[job] = Rendered(out_text, tuple(placed), wanted[job])
    return _assemble(tables, policy, engine, tokenizer, jobs, rendered, applied_count, stale_rows, terms, previous)


def _assemble(tables: Tables, policy: DatasetPolicy, engine: Engine, tokenizer: Tokenizer,
              jobs: Mapping[TextJob, list[int]], rendered: Mapping[TextJob, Rendered],
              applied_count: Mapping[tuple[str, str], int],
              stale_rows: Mapping[tuple[str, str], list[str]], terms: Mapping[str, RecordTerms],
              previous: Redaction | None) -> Redaction:
    """Public frames and log events from what each job rendered (a job rendered as in
    ``previous`` keeps its events)."""
    versions = engine.versions()
    detector_version = (f"presidio {versions.get('presidio', '?')}, "
                        f"{versions.get('model', '?')} {versions.get('model_version', '?')}")
    frames = dict(tables.frames)
    events: list[RedactionEvent] = []
    job_events: dict[TextJob, tuple[RedactionEvent, ...]] = {}
    reusable = previous is not None and previous.detector_version == detector_version
    findings: list[Finding] = []
    for name, file_policy in policy.files.items():
        columns = policy.files[name].free_text_columns()
        if not columns:
            continue
        frame = tables[name].copy()
        row_keys = frame[ROW_KEY].tolist()
        for column in columns:
            values = frame[column].tolist()
            mine = [job for job in jobs if job.table == name and job.column == column]
            for job in mine:
                result = rendered[job]
                for position in jobs[job]:
                    values[position] = result.text
                if reusable and previous is not None and job in previous.job_events \
                        and previous.rendered.get(job) is result:
                    job_events[job] = previous.job_events[job]
                else:
                    job_events[job] = tuple(RedactionEvent(
                        dataset=policy.dataset, file=file_policy.raw_file, row_key=row_keys[position],
                        column=column, action="keep" if span.kept else "redact", entity_type=span.entity_type,
                        detector=span.detector,
                        detector_version=("reviewer decision" if span.detector == "reviewer" else detector_version),
                        rule_id=span.rule_id, score=round(float(span.score), 4), start=span.start, end=span.end,
                        out_start=out_start, out_end=out_end, removed_length=span.end - span.start,
                        token=tokenizer.token(job.text[span.start:span.end]), placeholder=span.placeholder)
                        for position in jobs[job] for span, out_start, out_end in result.placed)
                events += job_events[job]
            if applied_count.get((name, column)):
                findings.append(Finding(stage="redact", code="reviewer_decisions_applied", severity="info",
                                        message="reviewer decisions applied", file=file_policy.raw_file,
                                        column=column, rule="review", count=applied_count[(name, column)]))
            stale = stale_rows.get((name, column), [])
            if stale:
                findings.append(Finding(stage="redact", code="reviewer_decisions_stale", severity="warning",
                                        message="reviewer decisions not applied: the raw text changed since review",
                                        file=file_policy.raw_file, column=column, rule="review",
                                        count=len(stale), row_keys=tuple(stale[:20])))
            frame[column] = pd.Series(values, index=frame.index, dtype=object)
            findings.append(Finding(stage="redact", code="narratives_redacted", severity="info",
                                    message="free texts analysed (identical texts of one report once)",
                                    file=file_policy.raw_file, column=column, count=len(mine)))
        frames[name] = frame
    return Redaction(Tables(frames), tuple(findings), tuple(events), dict(rendered),
                     {job: tuple(where) for job, where in jobs.items()}, terms, job_events, detector_version)
