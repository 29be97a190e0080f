"""Scan one CSV column for PII, outside any build (for auditors and already-published files).

Owns ``scan_file``: it reads the file with the loader's decoding rules, runs the PII
engine over the column and reports counts and offsets only — never the text.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from release import paths
from release.build.options import Progress, Silent
from release.errors import InputError
from release.pii.parallel import Execution
from release.stages import load

# A row key printed as it is: a report or case number (letters, then digits and dashes), or
# a published pseudonymous report number. Anything else in the key column may be a name typed there.
_PLAIN_KEY = re.compile(r"[A-Z]{0,4}-?\d[\d-]{0,23}(?:#\d+)?|RPT-[0-9A-F]{16}")


def _row_key(value: object, number: int) -> str:
    """The key a finding names: the key column's value when it reads as a report number,
    else ``row <n>`` (1-based data row), so the output never carries a value typed there."""
    text = value.strip() if isinstance(value, str) else ""
    return text if _PLAIN_KEY.fullmatch(text) else f"row {number}"


def scan_file(path: Path, column: str, *, key_column: str | None = None, rules_dir: Path | None = None,
              threshold: float = 0.25, progress: Progress | None = None,
              roster_columns: tuple[str, ...] = (), marker: str | None = "XXX",
              execution: Execution | None = None) -> dict[str, object]:
    """Scan one CSV column for PII (for auditors and already-published files).

    Reports counts by entity type and, per finding, the row key (``key_column`` when its value
    reads as a report number, else the 1-based data row number), entity type, offsets and
    detector rule — never the text.
    Names found in ``roster_columns`` (e.g. the officer columns of a City file) are kept
    as a published roster; a hit that touches an earlier redaction ``marker`` (the City's
    ``XXX``) is counted apart as already redacted. ``execution``: where the scan runs (``--jobs``,
    ``--engine``); the findings are the same wherever.
    """
    from release.execution.workers import execution_section, open_engine
    from release.pii.engine import EngineSettings

    progress = progress or Silent()
    if not path.is_file():
        raise InputError("file not found", file=str(path), rule="scan")
    frame = load.read_csv(path)
    for wanted in (column, key_column, *roster_columns):
        if wanted and wanted not in frame.columns:
            raise InputError("column not found", file=path.name, column=wanted, rule="scan")
    rules = (rules_dir or paths.default_dir("redaction_rules")[0]) / "pii"
    texts = [t if isinstance(t, str) else "" for t in frame[column].tolist()]
    keys = ([_row_key(v, i) for i, v in enumerate(frame[key_column].tolist(), start=1)] if key_column
            else [str(i) for i in range(1, len(frame) + 1)])
    roster = tuple(sorted({v for c in roster_columns for v in frame[c].tolist() if isinstance(v, str) and v.strip()}))
    execution = execution or Execution()
    unique = list(dict.fromkeys(texts))
    with contextlib.ExitStack() as stack:
        with progress.stage("load PII model"):
            engine = stack.enter_context(open_engine(
                EngineSettings(rules_dir=rules, threshold=threshold, officers=roster), execution))
        with progress.stage("scan", total=len(unique)) as advance:  # advanced per text, not once at the end
            results = dict(zip(unique, engine.scan_many(unique, threshold=threshold, progress=advance), strict=True))
    by_type: dict[str, int] = {}
    touching_by_type: dict[str, int] = {}
    rows_with_findings = 0
    findings: list[dict[str, object]] = []
    touching: list[dict[str, object]] = []  # listed apart, for an auditor to look at
    for key, text in zip(keys, texts, strict=True):
        hits = results.get(text, [])
        counted = [h for h in hits
                   if not marker or marker not in text[max(0, h.start - len(marker)):h.end + len(marker)]]
        rows_with_findings += bool(counted)
        for hit in hits:
            into, counts = (findings, by_type) if hit in counted else (touching, touching_by_type)
            counts[hit.entity_type] = counts.get(hit.entity_type, 0) + 1
            into.append({"row_key": key, "column": column, "entity_type": hit.entity_type,
                         "start": hit.start, "end": hit.end, "rule": hit.rule_id,
                         "score": round(float(hit.score), 3)})
    return {"file": path.name, "column": column, "rows": len(texts), "rows_with_findings": rows_with_findings,
            "threshold": threshold, "by_type": _by_count(by_type),
            "touching_earlier_redaction": len(touching), "touching_by_type": _by_count(touching_by_type),
            "roster_names": len(roster), "findings": findings, "touching_findings": touching,
            "engine": engine.versions(), "execution": execution_section(engine, execution)}


def _by_count(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))
