"""Data-quality validation stage: check each table against its Great Expectations suite.

Suites are JSON files, one per dataset and side (``expectations/<dataset>_raw.json``,
``<dataset>_public.json``; format in ``expectations/README.md``), read by
``release.config.suites``; GE itself is imported only by ``validate_engine``, which reduces every
result to counts and row positions. This module owns the verb: it splits each table into
the part GE sees, runs the suite, and turns each outcome into a ``SuiteResult`` and, when it
failed, a ``Finding`` naming the table, column, rule, count and row keys, never a value.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from release.config.suites import (
    DATASET_TABLES,
    INTERNAL_PREFIX,
    RESERVED_KWARGS,
    ROW_TYPES,
    SCHEMA_TYPES,
    SHAPE_TYPES,
    SUPPORTED_TYPES,
    Check,
    Fail,
    Suite,
    parse_suite,
)
from release.errors import ConfigError, ReleaseError
from release.model import Finding
from release.stages.validate_engine import LOCK, MAX_ROW_KEYS, Outcome, build_expectation, run_checks

__all__ = ["DATASET_TABLES", "INTERNAL_PREFIX", "MAX_ROW_KEYS", "RESERVED_KWARGS", "ROW_TYPES",
           "SCHEMA_TYPES", "SHAPE_TYPES", "SUPPORTED_TYPES", "Fail", "SuiteResult", "TableData",
           "load_suites", "validate"]


@dataclass(frozen=True, eq=False)
class TableData:
    """One table as the orchestrator hands it over; values are str or missing."""

    name: str
    file: str
    frame: pd.DataFrame
    key_column: str


@dataclass(frozen=True)
class SuiteResult:
    """One expectation's outcome, sanitized: names, counts and row keys, never values."""

    suite: str
    table: str
    expectation: str
    column: str | None
    level: str
    success: bool
    element_count: int
    unexpected_count: int
    unexpected_row_keys: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["unexpected_row_keys"] = list(self.unexpected_row_keys)
        return data


def load_suites(path: Path, *, tables: Collection[str] | None = None) -> dict[str, object]:
    """Read and check a suite file, return its JSON document; ConfigError names file and key path.

    ``tables``: the table names the suite may use; by default those of the dataset the suite
    is named after (``DATASET_TABLES``).
    """
    return _parse(Path(path), tables).document


def _parse(path: Path, tables: Collection[str] | None) -> Suite:
    """The suite, with every check also built by GE (GE rejects some kwargs only then)."""
    return parse_suite(path, tables, build_expectation)


# --- the stage ---------------------------------------------------------------------------

def validate(tables: Sequence[TableData], suite_path: Path, *,
             stage: str) -> tuple[list[SuiteResult], list[Finding]]:
    """Check every table against its suite; each failing expectation becomes a Finding."""
    suite_path = Path(suite_path)
    by_name = {table.name: table for table in tables}
    suite = _parse(suite_path, tuple(by_name))
    if unchecked := sorted(set(by_name) - set(suite.model.tables)):
        raise ConfigError(f"tables.{unchecked[0]}: missing; every table must have a suite",
                          file=str(suite_path))
    results: list[SuiteResult] = []
    findings: list[Finding] = []
    with LOCK:
        for name, body in suite.model.tables.items():
            table = by_name[name]
            outcomes = _run_table(suite, table, dict(enumerate(body.expectations)))
            for index, check in enumerate(body.expectations):
                result, finding = _sanitize(suite, table, check, outcomes[index], stage)
                results.append(result)
                findings.extend([finding] if finding else [])
    return results, findings


def _run_table(suite: Suite, table: TableData,
               checks: dict[int, Check]) -> dict[int, Outcome]:
    frame = table.frame
    if table.key_column not in frame.columns:
        raise ReleaseError("row key column missing", file=table.file, column=table.key_column)
    public = [c for c in frame.columns if not str(c).startswith(INTERNAL_PREFIX)]
    parts = {  # column-set checks need no rows and must not see internal columns
        "shape": ({i: c for i, c in checks.items() if c.type in SHAPE_TYPES},
                  frame.iloc[0:0][public]),
        "rows": ({i: c for i, c in checks.items() if c.type not in SHAPE_TYPES},
                 frame.reset_index(drop=True))}  # default index: GE reports row positions
    outcomes = {index: Outcome(success=False) for index in checks}
    for part, (part_checks, part_frame) in parts.items():
        if not part_checks:
            continue
        name = f"{suite.model.name}.{table.name}.{part}.{suite.digest[:16]}"
        outcomes.update(run_checks(name, part_checks, part_frame,
                                   suite_name=suite.model.name, file=table.file))
    return outcomes


def _sanitize(suite: Suite, table: TableData, check: Check, outcome: Outcome,
              stage: str) -> tuple[SuiteResult, Finding | None]:
    rows = len(table.frame)
    row_keys: tuple[str, ...] = ()
    if not outcome.evaluated:  # e.g. the column is missing: no count is known
        unexpected, detail = 0, "could not be evaluated (is the column missing?)"
    elif check.type in ROW_TYPES:
        unexpected = outcome.unexpected_count or 0
        keys = table.frame[table.key_column]
        row_keys = tuple(_row_key(keys, position) for position in outcome.positions)
        detail = f"{unexpected} of {outcome.element_count or rows} row(s) unexpected"
    elif check.type in SHAPE_TYPES:
        public = [str(c) for c in table.frame.columns if not str(c).startswith(INTERNAL_PREFIX)]
        unexpected, detail = _column_set_difference(check, public)
    else:
        unexpected = 0 if outcome.success else 1
        detail = "column is missing" if check.type == "expect_column_to_exist" else "column present"
    result = SuiteResult(suite.model.name, table.name, check.type, check.column, check.meta.level,
                         outcome.success, outcome.element_count or rows, unexpected, row_keys)
    if outcome.success:
        return result, None
    return result, Finding(
        stage=stage, code=f"expectation:{check.type}",
        severity="blocking" if check.meta.level == "critical" else "warning",
        message=f"{table.name}: {check.type} failed ({check.meta.level}): {detail}. "
                f"Why: {check.meta.why}" + (f". Fix: {check.meta.fix}" if check.meta.fix else ""),
        file=table.file, column=check.column, rule=check.type, count=unexpected, row_keys=row_keys)


def _row_key(keys: pd.Series, position: int) -> str:
    value = keys.iloc[position] if 0 <= position < len(keys) else None
    return f"#{position}" if value is None or pd.isna(value) else str(value)


def _column_set_difference(check: Check, actual: list[str]) -> tuple[int, str]:
    """Count offending columns; name only those the suite lists (headers may be anything)."""
    listed = check.kwargs.get("column_list", check.kwargs.get("column_set"))
    assert listed is not None  # a suite's column-set check names its columns (``release.config.suites._check_kwargs``)
    expected = [str(c) for c in listed]
    exact = check.type.endswith("ordered_list") or check.kwargs.get("exact_match") is not False
    missing = [c for c in expected if c not in actual]
    extra = [c for c in actual if c not in expected] if exact else []
    if not missing and not extra:
        # strict=False: with duplicated headers the lists differ in length; the excess is counted below
        moved = sum(1 for want, got in zip(expected, actual, strict=False) if want != got)
        moved += abs(len(expected) - len(actual))  # duplicated headers
        return moved, f"same column names, {moved} position(s) differ (order or duplicates)"
    return len(missing) + len(extra), \
        f"missing {', '.join(missing) or 'none'}; {len(extra)} unexpected column(s)"
