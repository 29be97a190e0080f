"""The legal review packet (``review/index.html``): what a reviewer reads before signing.

Everything in it comes from what the bundle publishes or records — the public files, the
redaction log (types, offsets, tokens: never removed text), the sanitized validation
results and the manifest — so the packet itself can be shared. It is one self-contained
file (inline CSS and SVG, no script, a Content-Security-Policy that forbids every fetch),
and every string in it is HTML-escaped.

``render_review`` is pure and deterministic: the orchestrator renders the packet before it
writes the manifest (``inputs_from_build``), so the packet is listed and hashed in the
manifest like every other output and an approval covers the packet the reviewer read.
``write_review`` re-renders from a bundle (``inputs_from_bundle``) and never replaces a
listed packet.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
import webbrowser
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from release.approvals import load_decisions
from release.errors import ApprovalError
from release.gate import (approvals_required, blocking_count, bundle_dir, listed_outputs, read_manifest,
                          read_public_csv)
from release.stages.publish import LOG, MANIFEST, PublicFile, sha256_file

PACKET = "index.html"
_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem 2rem;color:#1b1b1b}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #ccd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{border:1px solid #ccd;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#eef}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#11602a;font-weight:600}.bad{color:#a0141e;font-weight:600}.muted{color:#666}
.banner{padding:.6rem 1rem;border-radius:4px;margin:.8rem 0}.banner.ok{background:#e4f4e8}.banner.bad{background:#fbe4e6}
blockquote{margin:.4rem 0;padding:.4rem .8rem;background:#f6f6f9;border-left:4px solid #99a;white-space:pre-wrap}
mark{background:#ffe08a;padding:0 .15rem;border-radius:2px}svg{display:block;margin:.4rem 0}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


# ---- facts: every figure the packet shows, from public files, log and manifest ---------

LOW_CONFIDENCE = 0.6
SAMPLE_SIZE = 12
FLAGGED_ROWS = 500
PREVIEW_ROWS = 200
CHART_CELLS = 40
TABLES_DIR = "public/tables/"
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_]*(?:[ :]+[A-Z0-9_]+)*\]")
QUASI_IDENTIFIERS = (("month", "zip", "sex", "race", "age"), ("month", "city", "sex", "race", "age"))
_TABLE_COLUMNS = frozenset({"value", "lower", "upper", "status", "threshold", "noisy", "noisy_value"})
_PLAIN_TYPE = {"PERSON": "names of people", "ADDRESS": "addresses", "STREET_ADDRESS": "house numbers",
               "PHONE": "phone numbers", "DATE_TIME": "dates", "AGE": "exact ages of minors",
               "PLATE": "licence plates", "LICENSE": "licence numbers", "EMAIL": "e-mail addresses",
               "JUVENILE_RECORD": "values of reports involving a minor"}
_ACTION = {"redact": "redacted from free text", "withhold": "withheld", "generalize": "coarsened",
           "drop_value": "dropped", "suppress": "suppressed"}
_SMALL_CELL_WORDS = ("juvenile", "suppress", "threshold", "small_cell", "min_cell")


def _pattern(relpath: str, year: str) -> str:
    return relpath.removeprefix("public/").replace(year, "{year}")


def _privacy(manifest: Mapping[str, object]) -> dict[str, str]:
    privacy = manifest.get("privacy")
    if not isinstance(privacy, dict):
        return {}
    def show(value: object) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k} {v}" for k, v in sorted(value.items())) if all(
                not isinstance(v, (dict, list)) for v in value.values()) else f"{len(value)} entries"
        return f"{len(value)} entries" if isinstance(value, list) else str(value)
    return {str(k): show(v) for k, v in sorted(privacy.items())}


def _rules(manifest: Mapping[str, object]) -> dict[str, str]:
    rules = manifest.get("rules")
    files = rules.get("files") if isinstance(rules, dict) else None
    return {str(f.get("path")): str(f.get("sha256")) for f in files or [] if isinstance(f, dict)}


@dataclass(frozen=True)
class PreviousRelease:
    """What the packet compares against: the same dataset's previous bundle."""

    year: str
    rows: Mapping[str, int]                   # file name with its year as "{year}" -> rows
    columns: Mapping[str, tuple[str, ...]]
    privacy: Mapping[str, str]
    rules: Mapping[str, str]                  # rule file -> sha256

    @classmethod
    def from_bundle(cls, bundle: Path) -> "PreviousRelease":
        manifest = read_manifest(bundle)
        year = str(manifest.get("year", bundle.name))
        rows, columns = {}, {}
        for relpath, item in listed_outputs(manifest).items():
            path = bundle / relpath
            if relpath.startswith("public/") and relpath.endswith(".csv") and path.is_file():
                key = _pattern(relpath, year)
                with path.open(encoding="utf-8", newline="") as handle:
                    columns[key] = tuple(next(csv.reader(handle), []))
                rows[key] = item["rows"] if isinstance(item.get("rows"), int) else len(read_public_csv(path))
        return cls(year, rows, columns, _privacy(manifest), _rules(manifest))


@dataclass(frozen=True)
class Sample:
    file: str
    row: int
    column: str
    text: str
    spans: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Cell:
    label: str
    value: float | None
    lower: float | None
    upper: float | None
    noisy: float | None
    status: str


@dataclass(frozen=True)
class TableFacts:
    name: str
    rows: int
    statuses: tuple[tuple[str, int], ...]
    headers: tuple[str, ...]
    preview: tuple[tuple[object, ...], ...]
    chart_cells: tuple[Cell, ...]


Rows = list[tuple[object, ...]]


@dataclass(frozen=True)
class Facts:
    dataset: str
    year: str
    status: str
    run_id: str
    created_at: str
    blocking: int
    approvals_required: int
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
    privacy_tables: tuple[Mapping[str, object], ...] = ()
    privacy_budget: Mapping[str, object] | None = None


@dataclass(frozen=True)
class PacketInputs:
    manifest: Mapping[str, object]            # "outputs" is ignored: the packet is one of them
    public: Mapping[str, pd.DataFrame]        # "public/<file>.csv" -> cells as str/None
    log_lines: tuple[str, ...]
    validation: Mapping[str, str]             # review/validation_*.json texts
    previous: PreviousRelease | None = None


def inputs_from_build(public_files: Sequence[PublicFile], log_lines: Sequence[str],
                      review_files: Mapping[str, str], manifest: Mapping[str, object],
                      previous_bundle: Path | None = None) -> PacketInputs:
    """What the orchestrator holds before writing; frames go through the CSV writer so the
    packet is byte-identical to one rendered later from the written bundle."""
    public = {}
    for item in public_files:
        if item.relpath.endswith(".csv"):
            text = io.StringIO()
            item.frame.to_csv(text, index=False, lineterminator="\n")
            public[item.relpath] = read_public_csv(text.getvalue())
    validation = {k: v for k, v in review_files.items() if k.startswith("validation_")}
    return PacketInputs(manifest, public, tuple(log_lines), validation,
                        PreviousRelease.from_bundle(previous_bundle) if previous_bundle else None)


def inputs_from_bundle(bundle: Path, previous_bundle: Path | None = None) -> PacketInputs:
    manifest = read_manifest(bundle)
    public = {p.relative_to(bundle).as_posix(): read_public_csv(p)
              for p in sorted((bundle / "public").rglob("*.csv"))}
    log = bundle / LOG
    lines = tuple(log.read_text(encoding="utf-8").splitlines()) if log.is_file() else ()
    validation = {p.name: p.read_text(encoding="utf-8") for p in sorted((bundle / "review").glob("validation_*.json"))}
    return PacketInputs(manifest, public, lines, validation,
                        PreviousRelease.from_bundle(previous_bundle) if previous_bundle else None)


def _entries(lines: Sequence[str]) -> list[dict[str, object]]:
    entries = []
    for line in lines:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(entry, dict) and not entry.get("trailer"):
            entries.append(entry)
    return entries


def _number(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _table_facts(relpath: str, frame: pd.DataFrame) -> TableFacts:
    dims = [c for c in frame.columns if c not in _TABLE_COLUMNS]
    statuses = Counter(str(s) for s in frame["status"]) if "status" in frame.columns else Counter()
    noisy = next((c for c in ("noisy", "noisy_value") if c in frame.columns), None)
    cells = tuple(
        Cell(" / ".join(str(row[d]) for d in dims) or "(total)", _number(row.get("value")),
             _number(row.get("lower")), _number(row.get("upper")), _number(row[noisy]) if noisy else None,
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
                        found.append(Sample(relpath.removeprefix("public/"), int(position) + 1, column, text, spans))
    step = max(1, math.ceil(len(found) / SAMPLE_SIZE))
    return found[::step][:SAMPLE_SIZE], len(found)


def _month(value: object) -> str | None:
    return value[:7] if isinstance(value, str) else None


def _risk(data: Mapping[str, pd.DataFrame]) -> Rows:
    """Equivalence classes on quasi-identifiers in each persons-like public file."""
    rows: Rows = []
    for relpath, frame in sorted(data.items()):
        if not {"sex", "race", "age"} <= set(frame.columns) or frame.empty:
            continue
        view = pd.DataFrame({c: frame[c] for c in ("sex", "race", "age")})
        for other in data.values():
            links = [c for c in frame.columns if c in other.columns and c.endswith(("_num", "_id", "key"))]
            if other is not frame and links:
                first = other.drop_duplicates(links[0]).set_index(links[0])
                for place in ("zip", "city"):
                    if place in first.columns:
                        view[place] = frame[links[0]].map(first[place])
                dates = [c for c in first.columns if "date" in c]
                if dates:
                    view["month"] = frame[links[0]].map(first[dates[0]]).map(_month)
        own_dates = [c for c in frame.columns if "date" in c]
        if own_dates:
            view["month"] = frame[own_dates[0]].map(_month)
        for columns in QUASI_IDENTIFIERS:
            if set(columns) <= set(view.columns):
                sizes = view[list(columns)].fillna("(blank)").value_counts()
                unique = int((sizes == 1).sum())
                rows.append((relpath.removeprefix("public/"), ", ".join(columns), len(view), len(sizes), unique,
                             f"{unique / len(view):.1%}", int(sizes[sizes < 5].sum()), int(sizes.min())))
    return rows


def _expectations(validation: Mapping[str, str]) -> Rows:
    rows: Rows = []
    for name, text in sorted(validation.items()):
        try:
            results = json.loads(text)
        except json.JSONDecodeError:
            rows.append((name, "", "unreadable results file", "", "", "", "", ""))
            continue
        for r in results if isinstance(results, list) else []:
            if isinstance(r, dict):
                rows.append((r.get("suite", ""), r.get("table", ""), r.get("expectation", ""), r.get("column") or "",
                             r.get("level", ""), "pass" if r.get("success") else "FAIL",
                             r.get("unexpected_count", ""), r.get("element_count", "")))
    return rows


def _changes(data_rows: Mapping[str, int], data_columns: Mapping[str, tuple[str, ...]], year: str,
             manifest: Mapping[str, object], previous: PreviousRelease) -> tuple[Rows, Rows, int]:
    now_rows = {_pattern(k, year): v for k, v in data_rows.items()}
    now_columns = {_pattern(k, year): v for k, v in data_columns.items()}
    changes: Rows = []
    for name in sorted(set(now_rows) | set(previous.rows)):
        then_cols, now_cols = previous.columns.get(name, ()), now_columns.get(name, ())
        changes.append((name, previous.rows.get(name, "absent"), now_rows.get(name, "absent"),
                        ", ".join(c for c in now_cols if c not in then_cols) or "-",
                        ", ".join(c for c in then_cols if c not in now_cols) or "-"))
    privacy_now = _privacy(manifest)
    budget: Rows = [(k, previous.privacy.get(k, "-"), privacy_now.get(k, "-"))
                    for k in sorted(set(previous.privacy) | set(privacy_now))]
    rules_now = _rules(manifest)
    changed = sum(1 for k in set(rules_now) | set(previous.rules) if rules_now.get(k) != previous.rules.get(k))
    return changes, budget, changed


def _provenance(manifest: Mapping[str, object], lines: Sequence[str]) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    inputs = manifest.get("inputs")
    for f in (inputs.get("files") or []) if isinstance(inputs, dict) else []:
        if isinstance(f, dict):
            items.append((f"input {f.get('name')}", f"sha256 {f.get('sha256')}, {f.get('rows')} rows"))
    for path, digest in sorted(_rules(manifest).items()):
        items.append((f"rule file {path}", f"sha256 {digest}"))
    components = manifest.get("components")
    for name, version in sorted(components.items()) if isinstance(components, dict) else []:
        items.append((f"component {name}", str(version)))
    items.append(("HMAC key id", str(manifest.get("hmac_key_id", "-"))))
    try:
        trailer = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        trailer = None
    head = trailer.get("head") if isinstance(trailer, dict) and trailer.get("trailer") else None
    items.append(("redaction log head", str(head) if head else "no trailer"))
    return items


def collect_facts(inputs: PacketInputs) -> Facts:
    manifest, lines = inputs.manifest, inputs.log_lines
    year = str(manifest.get("year", ""))
    data = {k: v for k, v in inputs.public.items() if not k.startswith(TABLES_DIR)}
    tables = [_table_facts(k, v) for k, v in sorted(inputs.public.items()) if k.startswith(TABLES_DIR)]
    entries = _entries(lines)
    findings = [f for f in manifest.get("findings", []) or [] if isinstance(f, dict)]  # type: ignore[union-attr]
    by_type = Counter((str(e.get("action")), str(e.get("entity_type"))) for e in entries)
    by_column = Counter((str(e.get("file")), str(e.get("column"))) for e in entries)
    juvenile = [e for e in entries if str(e.get("rule_id", "")).startswith("juvenile")]
    scored = [(_number(e.get("score")) or 0.0, i, e) for i, e in enumerate(entries) if e.get("action") == "redact"]
    flagged = [e for score, _, e in sorted(scored, key=lambda item: item[:2]) if score < LOW_CONFIDENCE]
    samples, with_placeholders = _samples(data)
    changes, budget, rules_changed = (_changes({k: len(v) for k, v in data.items()},
                                               {k: tuple(v.columns) for k, v in data.items()}, year, manifest,
                                               inputs.previous) if inputs.previous else ([], [], 0))
    return Facts(
        dataset=str(manifest.get("dataset", "")), year=year, status=str(manifest.get("status", "unknown")),
        run_id=str(manifest.get("run_id", "")), created_at=str(manifest.get("created_at", "")),
        blocking=blocking_count(dict(manifest)), approvals_required=approvals_required(dict(manifest)),
        warnings=sum(1 for f in findings if f.get("severity") == "warning"), log_entries=len(entries),
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
                   for d in manifest.get("review_decisions", []) or [] if isinstance(d, dict)],  # type: ignore[union-attr]
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
        notes=tuple(str(n) for n in manifest.get("dataset_notes", []) or []),  # type: ignore[union-attr]
        privacy_tables=tuple(t for t in (manifest.get("privacy") or {}).get("tables", []) or []  # type: ignore[union-attr]
                             if isinstance(t, dict)),
        privacy_budget=manifest.get("privacy") or None)  # type: ignore[arg-type]


# ---- small HTML builders (every text goes through _e) --------------------------------

def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: Sequence[int] = ()) -> str:
    if not rows:
        return '<p class="muted">None.</p>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f'<td{" class=n" if i in numeric else ""}>{_e(c)}</td>'
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bars(items: Sequence[tuple[str, float]], title: str) -> str:
    """Horizontal bar chart, inline SVG."""
    if not items:
        return ""
    top = max((v for _, v in items), default=0) or 1
    row, label_w, bar_w = 22, 260, 380
    parts = [f'<svg role="img" width="{label_w + bar_w + 80}" '
             f'height="{row * len(items) + 8}" aria-label="{_e(title)}"><title>{_e(title)}</title>']
    for i, (label, value) in enumerate(items):
        y, width = i * row + 4, max(1.0, bar_w * value / top)
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">{_e(label[:40])}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{width:.1f}" height="{row - 6}" fill="#5b6bb5"/>'
                     f'<text x="{label_w + width + 4:.1f}" y="{y + 14}" font-size="12">{_e(f"{value:g}")}</text>')
    return "".join(parts) + "</svg>"


def _interval_chart(table: TableFacts) -> str:
    """Published value per cell with its interval; noisy value as a dot when published."""
    cells = table.chart_cells
    if not cells:
        return ""
    top = max(max(c.upper or 0, c.value or 0, c.noisy or 0) for c in cells) or 1
    row, label_w, bar_w = 20, 260, 380
    scale = bar_w / top
    parts = [f'<svg role="img" width="{label_w + bar_w + 90}" '
             f'height="{row * len(cells) + 8}" aria-label="{_e(table.name)}"><title>{_e(table.name)}</title>']
    for i, cell in enumerate(cells):
        y = i * row + 4
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" font-size="11">{_e(cell.label[:40])}</text>')
        if cell.value is None:
            parts.append(f'<text x="{label_w + 4}" y="{y + 13}" font-size="11" fill="#a0141e">{_e(cell.status)}</text>')
            continue
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{max(1.0, cell.value * scale):.1f}" height="{row - 8}" fill="#8fa0d8"/>')
        if cell.lower is not None and cell.upper is not None:
            x1, x2, mid = label_w + cell.lower * scale, label_w + cell.upper * scale, y + row / 2 - 2
            parts.append(f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{mid}" y2="{mid}" stroke="#1b1b1b"/>'
                         f'<line x1="{x1:.1f}" x2="{x1:.1f}" y1="{mid - 4}" y2="{mid + 4}" stroke="#1b1b1b"/>'
                         f'<line x1="{x2:.1f}" x2="{x2:.1f}" y1="{mid - 4}" y2="{mid + 4}" stroke="#1b1b1b"/>')
        if cell.noisy is not None:
            parts.append(f'<circle cx="{label_w + cell.noisy * scale:.1f}" cy="{y + row / 2 - 2}" r="3" fill="#a0141e"/>')
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 13}" font-size="11">{_e(f"{cell.value:g}")}</text>')
    return "".join(parts) + "</svg>"


def _highlight(text: str, spans: Sequence[tuple[int, int]]) -> str:
    out, cursor = [], 0
    for start, end in spans:
        out.append(_e(text[cursor:start]) + f"<mark>{_e(text[start:end])}</mark>")
        cursor = end
    return "".join(out) + _e(text[cursor:])


# ---- sections ------------------------------------------------------------------------

def _section_summary(f: Facts) -> str:
    files = "; ".join(f"{name} ({rows:,} rows, {cols} columns)" for name, rows, cols in f.data_files)
    removed = ", ".join(f"{count:,} {label}" for label, count in f.removed_plain) or "nothing"
    verdict = (f'<div class="banner bad"><span class="bad">{f.blocking:,} blocking finding(s).</span> '
               "This bundle cannot be approved until they are resolved.</div>" if f.blocking else
               '<div class="banner ok"><span class="ok">No blocking finding.</span> '
               f"The bundle may be approved; {f.approvals_required} signed approval(s) are needed to publish.</div>")
    return (f'<section id="summary"><h2>Summary</h2>{verdict}<p>This <strong>{_e(f.status)}</strong> release of '
            f"<strong>{_e(f.dataset)} {_e(f.year)}</strong> would publish {len(f.data_files)} data file(s): {_e(files) or 'none'}"
            f", and {len(f.tables)} aggregate table(s).</p><p>What was removed or coarsened before publication, "
            f"per the redaction log ({f.log_entries:,} entries): {_e(removed)}.</p><p>Warnings: {f.warnings:,}. "
            f"Reviewer decisions applied in this build: {len(f.decisions):,}.</p>"
            + (_table(["Blocking finding", "File", "Column", "Row key", "Rule", "Rows"], f.blocking_rows, (5,))
               if f.blocking_rows else "")
            + ("<h3>Counting rules and exclusions</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in f.notes) + "</ul>"
               if f.notes else "") + "</section>")


def _section_privacy(f: Facts) -> str:
    """Plain language: what each published number means, its interval, the budget used and left."""
    if not f.privacy_tables:
        return ""
    budget = f.privacy_budget or {}
    spent = budget.get("rho_spent") or {}
    cap = budget.get("rho_cap")
    lines = [f"{unit}: rho {float(rho):.3g} spent by this release" + (f" (cap over all years {float(cap):.3g})" if cap else "")
             for unit, rho in sorted(spent.items())]  # type: ignore[union-attr]
    parts = ['<section id="privacy"><h2>Privacy of the tables</h2><p>Differential privacy limits what anyone can '
             "learn about one person from the published numbers, whatever else they know. The budget (rho) "
             "measures that limit: smaller is stronger; it adds up over tables and over years for the same "
             "people, and the privacy ledger refuses a release that would pass the cap. "
             "Run <code>release budget DATASET</code> for what is left.</p>"]
    if lines:
        parts.append("<ul>" + "".join(f"<li>{_e(line)}</li>" for line in lines) + "</ul>")
    for table in f.privacy_tables:
        parts.append(f"<h3>{_e(table.get('table'))}</h3><p>{_e(table.get('meaning'))}</p>"
                     f"<p><strong>Interval:</strong> {_e(table.get('interval'))}</p>"
                     f"<p><strong>Privacy:</strong> {_e(table.get('privacy'))}</p>")
    return "".join(parts) + "</section>"


def _section_redactions(f: Facts) -> str:
    return ('<section id="redactions"><h2>Redactions</h2><p>Counted from the redaction log; the removed text '
            "itself is never stored, only its length and a keyed hash.</p>"
            + _bars([(f"{a}: {t}", n) for (a, t), n in f.by_type], "Redactions by action and type")
            + _table(["Action", "Type", "Entries"], [(a, t, n) for (a, t), n in f.by_type], (2,))
            + _table(["File", "Column", "Entries"], [(fi, c, n) for (fi, c), n in f.by_column], (2,)) + "</section>")


def _section_samples(f: Facts) -> str:
    quotes = "".join(f'<p class="muted">{_e(s.file)}, row {s.row:,}, column {_e(s.column)}</p>'
                     f"<blockquote>{_highlight(s.text, s.spans)}</blockquote>" for s in f.samples)
    return ('<section id="samples"><h2>Sample of redacted narratives</h2><p>Taken from the public files as '
            f"published; placeholders are highlighted. {len(f.samples)} of {f.narratives_with_placeholders:,} "
            "narratives with a placeholder.</p>" + (quotes or '<p class="muted">None.</p>') + "</section>")


def _section_flagged(f: Facts) -> str:
    return ('<section id="flagged"><h2>Low-confidence detections and reviewer decisions</h2>'
            f"<p>{f.flagged_total:,} redaction(s) scored below {f.low_confidence:g}"
            + (f" (the {len(f.flagged):,} lowest are listed)" if f.flagged_total > len(f.flagged) else "")
            + ". A reviewer may record <em>redact</em> or "
            "<em>keep</em> on an entry by its log id (seq or hash); decisions are applied by the next build.</p>"
            + _table(["Seq", "Hash", "File", "Row key", "Column", "Type", "Detector", "Score", "Placeholder"],
                     f.flagged, (0, 7))
            + "<h3>Decisions applied in this build</h3>"
            + _table(["Decision", "Reviewer", "File", "Row key", "Column", "Type", "Offsets", "Recorded", "Note"],
                     f.decisions) + "</section>")


def _section_juvenile(f: Facts) -> str:
    return ('<section id="juvenile"><h2>Juvenile and small-cell decisions</h2>'
            f"<p>Reports involving a minor: {f.juvenile_reports:,}. Cells suppressed or withheld in tables: "
            f"{f.suppressed_cells:,}.</p>"
            + _table(["Rule", "Action", "Column", "Entries"], f.juvenile_rows, (3,))
            + _table(["Finding", "File", "Rule", "Rows"], f.juvenile_findings, (3,)) + "</section>")


def _section_tables(f: Facts) -> str:
    if not f.tables:
        return ""
    parts = ['<section id="tables"><h2>Aggregate tables</h2><p>Bars: published value; whiskers: the published '
             "interval; dot: the noisy value, where the table publishes it.</p>"]
    for t in f.tables:
        parts.append(f"<h3>{_e(t.name)}</h3><p>{t.rows:,} cells; status: "
                     f"{_e(', '.join(f'{k} {v:,}' for k, v in t.statuses)) or 'none'}.</p>"
                     + _interval_chart(t) + _table(t.headers, t.preview))
    return "".join(parts) + "</section>"


def _section_expectations(f: Facts) -> str:
    return ('<section id="expectations"><h2>Expectation results</h2><p>Sanitized: counts and row keys only.</p>'
            + _table(["Suite", "Table", "Expectation", "Column", "Level", "Result", "Unexpected", "Rows checked"],
                     f.expectations, (6, 7)) + "</section>")


def _section_risk(f: Facts) -> str:
    return ('<section id="risk"><h2>Residual risk</h2><p>How many published people are unique on a combination '
            "of quasi-identifiers (contact month, place, sex, race, age) in the public persons file. "
            "A unique combination is what a linkage attack starts from.</p>"
            + _table(["File", "Quasi-identifiers", "Rows", "Classes", "Unique rows", "Share unique",
                      "Rows in classes under 5", "Smallest class"], f.risk, (2, 3, 4, 5, 6, 7)) + "</section>")


def _section_changes(f: Facts) -> str:
    if not f.changes:
        return ('<section id="changes"><h2>Changes since the last release</h2><p class="muted">No previous '
                "release of this dataset was found.</p></section>")
    return (f'<section id="changes"><h2>Changes since the last release ({_e(f.previous_year)})</h2>'
            + _table(["File", "Rows then", "Rows now", "Columns added", "Columns removed"], f.changes, (1, 2))
            + _table(["Privacy", "Then", "Now"], f.budget_changes)
            + f"<p>Rule files changed: {f.rules_changed:,}.</p></section>")


def _section_provenance(f: Facts) -> str:
    return ('<section id="provenance"><h2>Provenance</h2>'
            + _table(["Item", "Value"], f.provenance) + "</section>")


def render_review(inputs: PacketInputs) -> str:
    facts = collect_facts(inputs)
    title = f"Review packet: {facts.dataset} {facts.year}"
    body = "".join(section(facts) for section in (
        _section_summary, _section_redactions, _section_samples, _section_flagged, _section_juvenile,
        _section_tables, _section_privacy, _section_expectations, _section_risk, _section_changes, _section_provenance))
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><h1>{_e(title)}</h1>"
            f'<p class="muted">Run {_e(facts.run_id)}, built {_e(facts.created_at)}.</p>{body}</body></html>\n')


def write_review(bundle_dir: Path, previous_bundle: Path | None = None) -> Path:
    """Write ``review/index.html`` unless the manifest already lists one (then it is final:
    it is restored only if missing and the render reproduces its listed hash)."""
    path = bundle_dir / "review" / PACKET
    listed = listed_outputs(read_manifest(bundle_dir)).get(f"review/{PACKET}")
    if listed is not None and path.is_file():
        return path
    text = render_review(inputs_from_bundle(bundle_dir, previous_bundle))
    staging = path.with_name(f".{PACKET}.tmp")
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.write_text(text, encoding="utf-8", newline="\n")
    if listed is not None and sha256_file(staging) != listed.get("sha256"):
        staging.unlink()
        raise ApprovalError("the listed review packet is missing and cannot be reproduced; rebuild the release",
                            file=f"review/{PACKET}", rule="integrity")
    staging.replace(path)
    return path


def review(dataset: str, year: int, out_dir: Path, open_browser: bool = False) -> dict[str, object]:
    bundle = bundle_dir(dataset, year, out_dir)
    manifest = read_manifest(bundle)
    previous = bundle_dir(dataset, year - 1, out_dir)
    path = write_review(bundle, previous if (previous / MANIFEST).is_file() else None)
    applied = {json.dumps(d, sort_keys=True) for d in manifest.get("review_decisions", []) or []
               if isinstance(d, dict)}
    pending = [d for d in load_decisions(dataset, year, out_dir)
               if json.dumps(d.to_dict(), sort_keys=True) not in applied]
    if open_browser:
        webbrowser.open(path.resolve().as_uri())
    return {"dataset": dataset, "year": year, "packet": str(path),
            "listed_in_manifest": f"review/{PACKET}" in listed_outputs(manifest),
            "status": manifest.get("status"), "blocking_findings": blocking_count(manifest),
            "approvals_required": approvals_required(manifest), "decisions_pending": len(pending)}
