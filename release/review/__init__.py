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

Modules: ``inputs`` (``PacketInputs``, ``PreviousRelease``, reading a build or a bundle),
``evidence`` (residual risk, expectations, changes, provenance rows), ``facts``
(``Facts``, ``collect_facts``), ``render`` (HTML builders, sections, ``render_review``)
and ``packet`` (``write_review``, ``review``). This package re-exports their names so
``release.review.X`` keeps working.

The review workspace (``release review --serve``) lives beside it: ``summary`` (the
one-screen summary both share), ``queue`` (the items to review, in their public sentence),
``workspace`` (state and the signed actions, no web framework) and ``server`` (the only
module importing Flask). They are imported on demand, never from here.
"""

from __future__ import annotations

from release.review.evidence import QUASI_IDENTIFIERS, Rows, _changes, _expectations, _provenance, _published, _risk  # noqa: F401
from release.review.facts import (  # noqa: F401
                                     _ACTION,
                                     _PLAIN_TYPE,
                                     _SMALL_CELL_WORDS,
                                     _TABLE_COLUMNS,
                                     CHART_CELLS,
                                     FLAGGED_ROWS,
                                     LOW_CONFIDENCE,
                                     PLACEHOLDER,
                                     PREVIEW_ROWS,
                                     SAMPLE_SIZE,
                                     TABLES_DIR,
                                     Cell,
                                     Facts,
                                     Sample,
                                     TableFacts,
                                     _samples,
                                     _table_facts,
                                     collect_facts,
)
from release.review.inputs import PacketInputs, PreviousRelease, _pattern, _privacy, _rules, inputs_from_build, inputs_from_bundle  # noqa: F401
from release.review.packet import PACKET, review, write_review
from release.review.render import _CSP, _CSS, _bars, _highlight, _interval_chart, render_review  # noqa: F401

__all__ = [
    "CHART_CELLS", "FLAGGED_ROWS", "LOW_CONFIDENCE", "PACKET", "PLACEHOLDER", "PREVIEW_ROWS",
    "QUASI_IDENTIFIERS", "SAMPLE_SIZE", "TABLES_DIR", "Cell", "Facts", "PacketInputs", "PreviousRelease",
    "Rows", "Sample", "TableFacts", "collect_facts", "inputs_from_build", "inputs_from_bundle",
    "render_review", "review", "write_review",
]
