"""Rendering the review packet: one self-contained HTML file from ``Facts``.

Inline CSS and SVG, no script, and a Content-Security-Policy that forbids every fetch.
The page, its one-screen summary (verdict, risk rating, budget, every warning, the commands
that decide and approve) and every later section are Jinja2 templates with autoescape
(``templates/packet.html``, ``packet_sections.html``, ``packet_macros.html``); this module
computes only what they draw (chart geometry, highlighted pieces, budget lines), and the raw
tables fold into an appendix (``<details>``). ``render_review`` is pure and
deterministic, so a packet rendered before the manifest is written is byte-identical to
one re-rendered later from the bundle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from release.review.facts import Facts, TableFacts, collect_facts
from release.review.inputs import PacketInputs
from release.review.summary import risk_sentence, summarize

_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:64rem;padding:1rem 2rem;color:#1b1b1b}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #ccd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}\
td,th{border:1px solid #ccd;padding:.2rem .5rem;text-align:left;vertical-align:top}
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


# ---- what the templates draw (numbers only; every text is escaped by the templates) -------

def _bars(items: Sequence[tuple[str, float]], title: str) -> dict[str, object] | None:
    """Geometry of a horizontal bar chart (``packet_macros.html``: ``bars``)."""
    if not items:
        return None
    top = max((v for _, v in items), default=0) or 1
    row, label_w, bar_w = 22, 260, 380
    bars = []
    for i, (label, value) in enumerate(items):
        y, width = i * row + 4, max(1.0, bar_w * value / top)
        bars.append({"label": label[:40], "label_x": label_w - 6, "text_y": y + 14, "x": label_w, "y": y,
                     "width": f"{width:.1f}", "bar_h": row - 6, "value_x": f"{label_w + width + 4:.1f}",
                     "value": f"{value:g}"})
    return {"title": title, "width": label_w + bar_w + 80, "height": row * len(items) + 8, "bars": bars}


def _interval_chart(table: TableFacts) -> dict[str, object] | None:
    """Published value per cell with its interval; noisy value as a dot when published."""
    cells = table.chart_cells
    if not cells:
        return None
    top = max(max(c.upper or 0, c.value or 0, c.noisy or 0) for c in cells) or 1
    row, label_w, bar_w = 20, 260, 380
    scale = bar_w / top
    drawn = []
    for i, cell in enumerate(cells):
        y = i * row + 4
        mid = y + row / 2 - 2
        item: dict[str, object] = {"label": cell.label[:40], "label_x": label_w - 6, "text_y": y + 13,
                                   "status": cell.status if cell.value is None else None, "status_x": label_w + 4}
        if cell.value is not None:
            bounded = cell.lower is not None and cell.upper is not None
            item.update(x=label_w, bar_y=y + 2, width=f"{max(1.0, cell.value * scale):.1f}", bar_h=row - 8,
                        x1=f"{label_w + cell.lower * scale:.1f}" if bounded else None,  # type: ignore[operator]
                        x2=f"{label_w + cell.upper * scale:.1f}" if bounded else None,  # type: ignore[operator]
                        mid=mid, tick_lo=mid - 4, tick_hi=mid + 4,
                        dot=f"{label_w + cell.noisy * scale:.1f}" if cell.noisy is not None else None,
                        value_x=label_w + bar_w + 6, value=f"{cell.value:g}")
        drawn.append(item)
    return {"title": table.name, "width": label_w + bar_w + 90, "height": row * len(cells) + 8, "cells": drawn}


def _highlight(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[str, bool]]:
    """The text in pieces, each marked or not (the template escapes them)."""
    parts, cursor = [], 0
    for start, end in spans:
        parts += [(text[cursor:start], False), (text[start:end], True)]
        cursor = end
    return [*parts, (text[cursor:], False)]


_TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                                autoescape=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
_VERDICT_CLASS = {"green": "ok", "amber": "warn", "red": "bad", "not measured": "muted"}


def _risk_verdicts(f: Facts) -> list[dict[str, str]]:
    """Record-level re-identification risk of each file the privacy policy names: a verdict and its number."""
    return [{"css": _VERDICT_CLASS.get(str(risk.get("verdict", "red")), "bad"),
             "verdict": str(risk.get("verdict", "red")).upper(), "text": risk_sentence(risk)} for risk in f.record_risk]


def _budget_lines(f: Facts) -> list[str]:
    if not f.privacy_tables:
        return []  # the privacy section is drawn only for a release with tables
    budget = f.privacy_budget or {}
    # each a unit's numbers (an edited manifest's value of another type reads as none)
    spent, charged, caps = (_by_unit(budget.get(key)) for key in ("rho_spent", "rho_charged_by_this_build", "rho_cap"))
    return [f"{unit}: the measurements of this release cost rho {float(rho):.3g}, of which "
            f"{float(charged.get(unit, 0.0)):.3g} was charged by this build (the rest re-uses measurements "
            "already paid for)" + (f"; cap over every release {float(caps[unit]):.3g}" if unit in caps else "")
            for unit, rho in sorted(spent.items())]


def _by_unit(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def render_review(inputs: PacketInputs) -> str:
    facts = collect_facts(inputs)
    summary = summarize(facts)
    return _TEMPLATES.get_template("packet.html").render(
        csp=Markup(_CSP), css=Markup(_CSS), title=f"Review packet: {facts.dataset} {facts.year}", f=facts, s=summary,
        rating_class=_VERDICT_CLASS.get(summary.risk_rating, "muted"), risks=_risk_verdicts(facts),
        files="; ".join(f"{name} ({rows:,} rows, {cols} columns)" for name, rows, cols in facts.data_files),
        removed=", ".join(f"{count:,} {label}" for label, count in facts.removed_plain) or "nothing",
        redaction_chart=_bars([(f"{a}: {t}", n) for (a, t), n in facts.by_type], "Redactions by action and type"),
        by_type=[(a, t, n) for (a, t), n in facts.by_type], by_column=[(fi, c, n) for (fi, c), n in facts.by_column],
        samples=[{"file": s.file, "row": s.row, "column": s.column, "parts": _highlight(s.text, s.spans)}
                 for s in facts.samples],
        budget_lines=_budget_lines(facts),
        tables=[(t, _interval_chart(t), ", ".join(f"{k} {v:,}" for k, v in t.statuses)) for t in facts.tables])
