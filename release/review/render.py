"""Rendering the review packet: one self-contained HTML file from ``Facts``.

Inline CSS and SVG, no script, and a Content-Security-Policy that forbids every fetch.
The page and its one-screen summary (verdict, risk rating, budget, every warning, the
commands that decide and approve) are the Jinja2 template ``templates/packet.html`` with
autoescape; the later sections are still built here, every string through ``_e``
(HTML-escaped), and the raw tables fold into an appendix (``<details>``). ``render_review`` is pure and
deterministic, so a packet rendered before the manifest is written is byte-identical to
one re-rendered later from the bundle.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import jinja2
from markupsafe import Markup

from release.review.facts import Facts, TableFacts, collect_facts
from release.review.inputs import PacketInputs
from release.review.summary import summarize

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem 2rem;color:#1b1b1b}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #ccd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}td,th{border:1px solid #ccd;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#eef}td.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#11602a;font-weight:600}.warn{color:#8a5a00;font-weight:600}.bad{color:#a0141e;font-weight:600}.muted{color:#666}
.banner{padding:.6rem 1rem;border-radius:4px;margin:.8rem 0}.banner.ok{background:#e4f4e8}.banner.bad{background:#fbe4e6}
blockquote{margin:.4rem 0;padding:.4rem .8rem;background:#f6f6f9;border-left:4px solid #99a;white-space:pre-wrap}
mark{background:#ffe08a;padding:0 .15rem;border-radius:2px}svg{display:block;margin:.4rem 0}
#summary h2{margin-top:.6rem}#summary p,#summary h3{margin:.35rem 0}ul.tight{margin:.2rem 0}ul.tight li{margin:0}
pre{background:#f6f6f9;padding:.4rem .6rem;margin:.3rem 0;white-space:pre-wrap}
details.appendix{margin:1rem 0}details.appendix>summary{font-weight:600;cursor:pointer}
"""
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"


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

_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                                autoescape=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)


def _section_summary(f: Facts) -> str:
    """The summary: one screen with the verdict, the risk rating, the budget, every warning and
    the commands (``templates/packet.html``); this returns only its blocking-findings table."""
    return (_table(["Blocking finding", "File", "Column", "Row key", "Rule", "Rows"], f.blocking_rows, (5,))
            if f.blocking_rows else "")


def _section_notes(f: Facts) -> str:
    if not f.notes and not f.publication_notes:
        return ""
    return ('<section id="notes"><h2>Counting rules and how the files are written</h2>'
            + ("<h3>Counting rules and exclusions</h3><ul>" + "".join(f"<li>{_e(n)}</li>" for n in f.notes) + "</ul>"
               if f.notes else "")
            + ("<h3>How the public files are written</h3><ul>"
               + "".join(f"<li>{_e(n)}</li>" for n in f.publication_notes) + "</ul>" if f.publication_notes else "")
            + "</section>")


_VERDICT_CLASS = {"green": "ok", "amber": "warn", "red": "bad", "not measured": "muted"}


def _risk_verdicts(f: Facts) -> list[dict[str, str]]:
    """Record-level re-identification risk of each file the privacy policy names: a verdict and its number."""
    items = []
    for risk in f.record_risk:
        verdict = str(risk.get("verdict", "red"))
        quasi = ", ".join(str(q) for q in risk.get("quasi_identifiers", []) or [])  # type: ignore[union-attr]
        items.append({"css": _VERDICT_CLASS.get(verdict, "bad"), "verdict": verdict.upper(), "text": (
            f"{risk.get('file')}: {float(risk.get('unique_share', 0.0)):.1%} of "  # type: ignore[arg-type]
            f"{int(risk.get('rows', 0)):,} rows unique on ({quasi}) as published; "  # type: ignore[call-overload]
            f"{float(risk.get('under_k_share', 0.0)):.1%} in classes under k = {risk.get('k')} "  # type: ignore[arg-type]
            f"(action: {risk.get('action')}).")})
    return items


def _section_to_fix(f: Facts) -> str:
    """Every blocking finding with its context, and the commands that resolve it."""
    if not f.to_fix:
        return ""
    command = f"release decide {_e(f.dataset)} {_e(f.year)} --finding ID --decision redact|keep --reviewer NAME"
    return ('<section id="to-fix"><h2>What blocks this release, and how to resolve it</h2>'
            "<p>Each item below is something redaction could not fix by itself. Either fix the raw export "
            "or the policy and rebuild, or record a decision and rebuild: <code>redact</code> blanks the public "
            "cell, <code>keep</code> publishes it as it is (the value was not identifying).</p>"
            f"<pre>{command}</pre><p>The next <code>release {_e(f.dataset)} {_e(f.year)}</code> applies the "
            "decisions; a cell that changed since review is not decided.</p>"
            + _table(["Finding", "Check", "File", "Row key", "Column", "Rule", "Context (the hit itself withheld)"],
                     f.to_fix) + "</section>")


def _section_privacy(f: Facts) -> str:
    """Plain language: what each published number means, its interval, the budget used and left."""
    if not f.privacy_tables:
        return ""
    budget = f.privacy_budget or {}
    spent = budget.get("rho_spent") or {}
    charged = budget.get("rho_charged_by_this_build") or {}
    caps = budget.get("rho_cap") or {}
    lines = [f"{unit}: the measurements of this release cost rho {float(rho):.3g}, of which "
             f"{float(charged.get(unit, 0.0)):.3g} was charged by this build (the rest re-uses measurements "  # type: ignore[union-attr]
             "already paid for)" + (f"; cap over every release {float(caps[unit]):.3g}"  # type: ignore[index]
                                     if isinstance(caps, dict) and unit in caps else "")
             for unit, rho in sorted(spent.items())]  # type: ignore[union-attr]
    parts = ['<section id="privacy"><h2>Privacy of the tables</h2><p>Differential privacy limits what anyone can '
             "learn about one person from the published numbers, whatever else they know. The budget (rho) "
             "measures that limit: smaller is stronger; it adds up over tables, years and datasets that can hold "
             "the same people, and the privacy ledger refuses a measurement that would pass the cap. Every draw "
             "of noise is charged once and stored; a rebuild on the same data re-uses it. A summary table "
             "restates a public file and claims no protection. "
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
            "of quasi-identifiers (contact date as published, place, sex, race, age) in the public persons file. "
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


def _appendix(title: str, section: str) -> str:
    """Raw tables fold away: the reader opens them on purpose."""
    return f'<details class="appendix"><summary>Appendix: {_e(title)}</summary>{section}</details>' if section else ""


def render_review(inputs: PacketInputs) -> str:
    facts = collect_facts(inputs)
    summary = summarize(facts)
    title = f"Review packet: {facts.dataset} {facts.year}"
    body = "".join(section(facts) for section in (
        _section_to_fix, _section_notes, _section_redactions, _section_samples, _section_flagged,
        _section_juvenile, _section_privacy))
    body += "".join(_appendix(name, section(facts)) for name, section in (
        ("aggregate tables", _section_tables), ("expectation results", _section_expectations),
        ("residual risk", _section_risk), ("changes since the last release", _section_changes),
        ("provenance", _section_provenance)))
    return _TEMPLATES.get_template("packet.html").render(
        csp=Markup(_CSP), css=Markup(_CSS), title=title, f=facts, s=summary,
        rating_class=_VERDICT_CLASS.get(summary.risk_rating, "muted"), risks=_risk_verdicts(facts),
        files="; ".join(f"{name} ({rows:,} rows, {cols} columns)" for name, rows, cols in facts.data_files),
        removed=", ".join(f"{count:,} {label}" for label, count in facts.removed_plain) or "nothing",
        blocking_table=Markup(_section_summary(facts)), sections=Markup(body))
