"""Every figure the review packet shows: the ``Facts`` record and ``collect_facts``.

Facts come from the packet inputs only (public files, redaction log entries, manifest,
validation results), so the packet can be shared: redaction log entries carry types,
offsets and tokens, never removed text. Rendering (``release.review.render``) formats
these facts and computes nothing of its own.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

import pandas as pd

from release.bundle.log import read_entries
from release.bundle.manifest_recorded import Recorded
from release.model import finite_number
from release.review.evidence import Rows, _changes, _expectations, _provenance, _risk
from release.review.inputs import PacketInputs

LOW_CONFIDENCE = 0.6
SAMPLE_SIZE = 12
FLAGGED_ROWS = 500
PREVIEW_ROWS = 200
CHART_CELLS = 40
TABLES_DIR = "public/tables/"
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*(?:[ :]+[A-Z0-9_]+)*\]")
_TABLE_COLUMNS = frozenset({"value", "lower", "upper", "status", "threshold", "noisy", "noisy_value"})
_PLAIN_TYPE = {"PERSON": "names of people", "ADDRESS": "addresses", "STREET_ADDRESS": "house numbers",
               "PHONE": "phone numbers", "DATE_TIME": "dates", "AGE": "exact ages of minors",
               "PLATE": "licence plates", "LICENSE": "licence numbers", "EMAIL": "e-mail addresses",
               "JUVENILE_RECORD": "values of reports involving a minor"}
_ACTION = {"redact": "redacted from free text", "withhold": "withheld", "generalize": "coarsened",
           "drop_value": "dropped", "suppress": "suppressed"}
_SMALL_CELL_WORDS = ("juvenile", "suppress", "threshold", "small_cell", "min_cell")


@dataclass(frozen=True)
class Sample:
    """A published narrative with a placeholder, and where its placeholders are."""

    file: str
    row: int
    column: str
    text: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Cell:
    """One table cell as the packet charts it: its label, value, interval, noisy value and status."""

    label: str
    value: float | None
    lower: float | None
    upper: float | None
    noisy: float | None
    status: str


@dataclass(frozen=True)
class TableFacts:
    """What the packet shows of one aggregate table: its size, statuses, preview and charted cells."""

    name: str
    rows: int
    statuses: tuple[tuple[str, int], ...]
    headers: tuple[str, ...]
    preview: tuple[tuple[object, ...], ...]
    chart_cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Facts:
    """Everything the packet and the workspace's summary show of a bundle, as counts, names and hashes."""

    dataset: str
    year: str
    status: str
    run_id: str
    created_at: str
    blocking: int
    approvals_required: str   # e.g. "legal 1": the policy's roles as recorded at build, for display
    warnings: int
    log_entries: int
    data_files: list[tuple[str, int, int]]
    tables: list[TableFacts]
    removed_plain: list[tuple[str, int]]
    blocking_rows: Rows
    by_type: list[tuple[tuple[str, str], int]]
    by_column: list[tuple[tuple[str, str], int]]
    samples: list[Sample]
    narratives_with_placeholders: int
    flagged: Rows
    flagged_total: int
    decisions: Rows
    juvenile_reports: int
    suppressed_cells: int
    juvenile_rows: Rows
    juvenile_findings: Rows
    expectations: Rows
    risk: Rows
    previous_year: str
    changes: Rows
    budget_changes: Rows
    rules_changed: int
    provenance: list[tuple[str, str]]
    low_confidence: float = LOW_CONFIDENCE
    notes: tuple[str, ...] = ()
    publication_notes: tuple[str, ...] = ()
    privacy_tables: tuple[Mapping[str, object], ...] = ()
    privacy_budget: Mapping[str, object] | None = None
    to_fix: Rows = field(default_factory=list)
    non_default_policy: tuple[str, ...] = ()
    source_keys_warning: str = ""  # public_keys: source under juvenile protection
    generation: str = ""  # the record system the export came from (release.datasets.generations), in words
    record_risk: tuple[Mapping[str, object], ...] = ()  # the policy's checks, with verdicts (manifest)
    warning_findings: tuple[Mapping[str, object], ...] = ()  # every warning, listed in the summary


def approvals_wanted(manifest: Mapping[str, object]) -> str:
    """The approvals the policy asked for when the bundle was built, for the reader of the packet
    (approve and publish read the policy itself)."""
    parameters = Recorded.of(manifest).parameters
    wanted = parameters.get("approvals") if parameters is not None else None
    required = wanted.get("required") if isinstance(wanted, dict) else None
    if isinstance(required, dict) and required:
        return ", ".join(f"{role} {count}" for role, count in required.items())
    return "see the policy"


def _non_default_policy(manifest: Mapping[str, object]) -> tuple[str, ...]:
    """One line per rules or suites folder that is not the installed copy, naming its files."""
    lines = []
    recorded = Recorded.of(manifest)
    for section, label in ((recorded.rules, "rules"), (recorded.expectations, "expectation suites")):
        if section is None:
            continue
        if section.get("origin") == "working-directory":
            lines.append(f"The {label} came from the working directory (not compared with the installed copy).")
        elif section.get("default") is False:
            files = [str(f) for f in section.get("differs_from_installed") or []]
            lines.append(f"The {label} ({section.get('origin')}: {section.get('folder', '?')}) differ from the "
                         f"installed copy in {len(files)} file(s): {', '.join(files)}.")
    return tuple(lines)


_CHOSEN_BY = {"year": "from the year", "headers": "from the export's headers (two systems shared the year)",
              "option": "with --generation"}


def _generation(manifest: Mapping[str, object]) -> str:
    """The generation the manifest names, for the summary: which system, its policy, how chosen."""
    section = Recorded.of(manifest).generation
    if section is None:
        return ""
    how = _CHOSEN_BY.get(str(section.get("chosen_by")), str(section.get("chosen_by", "")))
    return (f"{section.get('name', '?')}: {section.get('title', '')}, built with the policy {section.get('policy', '?')}, "
            f"chosen {how}. No table of this release counts another system's rows.")


def _source_keys_warning(manifest: Mapping[str, object]) -> str:
    """The warning the summary shows when reports keep the source's sequential numbers while
    some reports' dates are coarsened (``public_keys: source`` with juvenile protection)."""
    parameters = Recorded.of(manifest).parameters
    policy = parameters.get("policy") if parameters is not None else None
    if not isinstance(policy, dict) or policy.get("public_keys") != "source":
        return ""
    rule = policy.get("juvenile")
    if not isinstance(rule, dict) or not rule.get("enabled", True):
        return ""
    return ("The public files keep the source's report numbers (public_keys: source). They are sequential: "
            "each gap in the published sequence is a withheld report involving a minor, and its neighbours' "
            "published dates bracket its date, undoing the month coarsening to about a day.")


def _table_facts(relpath: str, frame: pd.DataFrame) -> TableFacts:
    dims = [c for c in frame.columns if c not in _TABLE_COLUMNS]
    statuses = Counter(str(s) for s in frame["status"]) if "status" in frame.columns else Counter()
    noisy = next((c for c in ("noisy", "noisy_value") if c in frame.columns), None)
    cells = tuple(
        Cell(" / ".join(str(row[d]) for d in dims) or "(total)", finite_number(row.get("value")),
             finite_number(row.get("lower")), finite_number(row.get("upper")),
             finite_number(row[noisy]) if noisy else None,
             str(row.get("status") or ""))
        for _, row in frame.head(CHART_CELLS).iterrows())
    preview = tuple(tuple("" if v is None else v for v in row)
                    for row in frame.head(PREVIEW_ROWS).itertuples(index=False))
    return TableFacts(relpath.removeprefix(TABLES_DIR), len(frame), tuple(sorted(statuses.items())),
                      tuple(map(str, frame.columns)), preview, cells)


def _samples(data: Mapping[str, pd.DataFrame]) -> tuple[list[Sample], int]:
    """Narratives with a placeholder (not wholly withheld cells), evenly spread over the files."""
    found: list[Sample] = []
    for relpath, frame in sorted(data.items()):
        for column in frame.columns:
            texts = frame[column]
            has_bracket = texts.map(lambda v: isinstance(v, str) and "[" in v).astype(bool)
            for position, text in texts[has_bracket].items():
                if isinstance(text, str) and not PLACEHOLDER.fullmatch(text.strip()):
                    spans = tuple(m.span() for m in PLACEHOLDER.finditer(text))
                    if spans:
                        # a row's place: the frames are read with their default (integer) index
                        found.append(Sample(relpath.removeprefix("public/"), int(cast(int, position)) + 1, column, text,
                                            spans))
    step = max(1, math.ceil(len(found) / SAMPLE_SIZE))
    return found[::step][:SAMPLE_SIZE], len(found)


def collect_facts(inputs: PacketInputs) -> Facts:
    manifest, lines = Recorded.of(inputs.manifest), inputs.log_lines
    year = manifest.shown("year")
    data = {k: v for k, v in inputs.public.items() if not k.startswith(TABLES_DIR)}
    tables = [_table_facts(k, v) for k, v in sorted(inputs.public.items()) if k.startswith(TABLES_DIR)]
    entries = read_entries(lines)
    findings = manifest.findings
    by_type = Counter((str(e.get("action")), str(e.get("entity_type"))) for e in entries)
    by_column = Counter((str(e.get("file")), str(e.get("column"))) for e in entries)
    juvenile = [e for e in entries if str(e.get("rule_id", "")).startswith("juvenile")]
    scored = [(finite_number(e.get("score")) or 0.0, i, e) for i, e in enumerate(entries) if e.get("action") == "redact"]
    flagged = [e for score, _, e in sorted(scored, key=lambda item: item[:2]) if score < LOW_CONFIDENCE]
    samples, with_placeholders = _samples(data)
    changes, budget, rules_changed = (_changes({k: len(v) for k, v in data.items()},
                                               {k: tuple(v.columns) for k, v in data.items()}, year, manifest,
                                               inputs.previous) if inputs.previous else ([], [], 0))
    return Facts(
        dataset=manifest.shown("dataset"), year=year, status=manifest.shown("status", "unknown"),
        run_id=manifest.shown("run_id"), created_at=manifest.shown("created_at"),
        blocking=manifest.blocking, approvals_required=approvals_wanted(manifest),
        warnings=sum(1 for f in findings if f.get("severity") == "warning"), log_entries=len(entries),
        warning_findings=tuple(f for f in findings if f.get("severity") == "warning"),
        data_files=[(k.removeprefix("public/"), len(v), len(v.columns)) for k, v in sorted(data.items())],
        tables=tables,
        removed_plain=[(f"{_PLAIN_TYPE.get(t, t.replace('_', ' ').lower())} {_ACTION.get(a, a)}", n)
                       for (a, t), n in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0]))],
        blocking_rows=[(f.get("message", ""), f.get("file") or "", f.get("column") or "", f.get("row_key") or "",
                        f.get("rule") or "", f.get("count") or "") for f in findings if f.get("severity") == "blocking"],
        by_type=sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0])),
        by_column=sorted(by_column.items(), key=lambda kv: (-kv[1], kv[0])),
        samples=samples, narratives_with_placeholders=with_placeholders,
        flagged=[(e.get("seq"), str(e.get("hash", ""))[:12], e.get("file"), e.get("row_key"), e.get("column"),
                  e.get("entity_type"), e.get("detector"), e.get("score"), e.get("placeholder", ""))
                 for e in flagged[:FLAGGED_ROWS]],
        flagged_total=len(flagged),
        decisions=[(d.get("decision"), d.get("reviewer"), d.get("file"), d.get("row_key"), d.get("column"),
                    d.get("entity_type"), f"{d.get('start')}-{d.get('end')}", d.get("recorded_at"), d.get("note", ""))
                   for d in manifest.review_decisions],
        juvenile_reports=len({str(e.get("row_key")).split("/")[0].split("#")[0] for e in juvenile}),
        suppressed_cells=sum(1 for e in entries if e.get("action") == "suppress")
        + sum(n for t in tables for s, n in t.statuses if s in ("suppressed", "withheld")),
        juvenile_rows=[(r, a, c, n) for (r, a, c), n in sorted(Counter(
            (str(e.get("rule_id")), str(e.get("action")), str(e.get("column"))) for e in juvenile).items())],
        juvenile_findings=[(f.get("message", ""), f.get("file") or "", f.get("rule") or "", f.get("count") or "")
                           for f in findings if any(w in f"{f.get('code')} {f.get('rule')}" for w in _SMALL_CELL_WORDS)],
        expectations=_expectations(inputs.validation), risk=_risk(data),
        previous_year=inputs.previous.year if inputs.previous else "", changes=changes,
        budget_changes=budget, rules_changed=rules_changed, provenance=_provenance(manifest, lines),
        notes=tuple(manifest.dataset_notes),
        publication_notes=_texts(manifest.value("publication_notes")),  # a list of texts only (as written)
        privacy_tables=tuple(manifest.table_claims),
        privacy_budget=manifest.privacy or None,
        non_default_policy=_non_default_policy(manifest),
        source_keys_warning=_source_keys_warning(manifest),
        generation=_generation(manifest),
        record_risk=tuple(manifest.record_risk),
        to_fix=[(b.get("finding_id"), b.get("stage"), b.get("file"), b.get("row_key"), b.get("column"),
                 b.get("rule"), b.get("context") if b.get("context") is not None
                 else "(a structured cell: its value is not shown)") for b in inputs.blocking])


def _texts(value: object) -> tuple[str, ...]:
    """A manifest list of plain-language lines (absent or malformed: none)."""
    return tuple(str(item) for item in value) if isinstance(value, list) else ()
