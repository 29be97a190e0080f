"""Data-quality validation against Great Expectations suites; the only module importing GE.

Suites are JSON files, one per dataset and side (``expectations/<dataset>_raw.json``,
``<dataset>_public.json``; format in ``expectations/README.md``). GE results carry raw cell
values (``partial_unexpected_list``, observed values, index lists with the checked column),
so every result is reduced here to counts and row keys before it leaves the module, GE never
prints, and every GE exception becomes ``ConfigError`` (bad suite) or ``ReleaseError``
(anything else) with its traceback dropped (``from None``: tracebacks may quote values).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import numbers
import re
import threading
import warnings
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from release.errors import ConfigError, EnvironmentProblem, ReleaseError
from release.model import Finding

MAX_ROW_KEYS = 20
INTERNAL_PREFIX = "_"  # orchestrator-only columns (row key, leak flag); never published
# Only types whose results we know how to strip of raw values are allowed: aggregate ones
# such as expect_column_most_common_value_to_be_in_set report raw values as observed_value.
SCHEMA_TYPES = frozenset({"expect_column_to_exist", "expect_column_to_not_exist"})
# Column-set checks see the frame WITHOUT internal ("_"-prefixed) columns.
SHAPE_TYPES = frozenset({
    "expect_table_columns_to_match_ordered_list", "expect_table_columns_to_match_set"})
ROW_TYPES = frozenset({
    "expect_column_values_to_not_be_null", "expect_column_values_to_be_null",
    "expect_column_values_to_match_regex", "expect_column_values_to_not_match_regex",
    "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_unique", "expect_column_value_lengths_to_be_between",
    "expect_compound_columns_to_be_unique"})
SUPPORTED_TYPES = SCHEMA_TYPES | SHAPE_TYPES | ROW_TYPES
# GE arguments this stage sets itself, or that would put text into results.
RESERVED_KWARGS = frozenset({
    "id", "meta", "notes", "result_format", "description", "catch_exceptions",
    "rendered_content", "severity", "windows", "batch_id"})
# Tables of each dataset, for load_suites calls made without the tables at hand.
DATASET_TABLES: Mapping[str, tuple[str, ...]] = {
    "fioe": ("contacts", "persons"),
    "shootings": ("victims",),
    "shots_fired": ("incidents",),
    "firearms": ("firearms", "daily_counts"),
    "homicide_clearance": ("homicides", "annual_clearance"),
    "in_custody_deaths": ("deaths", "annual_deaths"),
    "best": ("monthly",),
    "youthconnect": ("referrals", "referral_totals", "demographics"),
}

Fail = Callable[[str, str], ReleaseError]
_LOCK = threading.RLock()  # one GE context per process; GE objects are not thread-safe


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


# --- suite files: read JSON -> frozen models (extra keys forbidden) -> GE objects ----------

class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Meta(_Model):
    level: Literal["critical", "warning"]
    why: str = Field(pattern=r"\S")


class _Check(_Model):
    type: str
    kwargs: dict[str, Any]
    meta: _Meta

    @field_validator("type")
    @classmethod
    def _supported(cls, value: str) -> str:
        if value not in SUPPORTED_TYPES:
            raise ValueError(f"unknown expectation type '{value}'; "
                             f"supported: {', '.join(sorted(SUPPORTED_TYPES))}")
        return value

    @property
    def column(self) -> str | None:
        if "column" in self.kwargs:
            return str(self.kwargs["column"])
        if self.type in ROW_TYPES and "column_list" in self.kwargs:
            return ",".join(str(c) for c in self.kwargs["column_list"])
        return None


class _TableSuite(_Model):
    expectations: tuple[_Check, ...] = Field(min_length=1)


class _SuiteFile(_Model):
    name: str = Field(pattern=r"^[a-z0-9_]+_(raw|public)$")
    description: str = ""
    tables: dict[str, _TableSuite] = Field(min_length=1)


@dataclass(frozen=True)
class _Suite:
    model: _SuiteFile
    digest: str
    document: dict[str, object]


def load_suites(path: Path, *, tables: Collection[str] | None = None) -> dict[str, object]:
    """Read and check a suite file, return its JSON document; ConfigError names file and key path.

    ``tables``: the table names the suite may use; by default those of the dataset the suite
    is named after (``DATASET_TABLES``).
    """
    return _parse(Path(path), tables).document


def _parse(path: Path, tables: Collection[str] | None) -> _Suite:
    def fail(key_path: str, problem: str) -> ConfigError:
        return ConfigError(f"{key_path}: {problem}", file=str(path))

    try:
        raw = path.read_bytes()
        document = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
        model = _SuiteFile.model_validate(document)
    except OSError as exc:
        raise fail("(file)", f"cannot read the suite file ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise fail("(file)", "not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise fail(f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}") from None
    except _DuplicateKey as exc:
        raise fail(str(exc), "duplicate key") from None
    except ValidationError as exc:
        error = exc.errors()[0]
        raise fail(_key_path(error["loc"]) or "(top level)", error["msg"]) from None
    if model.name != path.stem:
        raise fail("name", f"must equal the file name '{path.stem}'")
    dataset = model.name.rsplit("_", 1)[0]
    known = tuple(tables) if tables is not None else DATASET_TABLES.get(dataset)
    if known is None:
        raise fail("name", f"unknown dataset '{dataset}'; known: {', '.join(DATASET_TABLES)}")
    for table, body in model.tables.items():
        if table not in known:
            raise fail(f"tables.{table}", f"unknown table; known: {', '.join(sorted(known))}")
        for index, check in enumerate(body.expectations):
            where = f"tables.{table}.expectations[{index}].kwargs"
            _check_kwargs(check, lambda key, problem: fail(f"{where}{key}", problem))
            _build_expectation(check, index, lambda key, problem: fail(f"{where}{key}", problem))
    return _Suite(model, hashlib.sha256(raw).hexdigest(), document)


def _check_kwargs(check: _Check, fail: Fail) -> None:
    if reserved := sorted(set(check.kwargs) & RESERVED_KWARGS):
        raise fail(f".{reserved[0]}", "set by the validate stage; not allowed in a suite")
    if "regex" in check.kwargs:
        try:
            re.compile(check.kwargs["regex"])
        except (re.error, TypeError) as exc:
            raise fail(".regex", f"invalid regular expression ({exc})") from None
    listed = check.kwargs.get("column_list", check.kwargs.get("column_set")) or []
    if check.type in SHAPE_TYPES and any(str(c).startswith(INTERNAL_PREFIX) for c in listed):
        raise fail("", "internal '_' columns are excluded from column-set checks")


def _key_path(loc: Sequence[int | str]) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


class _DuplicateKey(Exception):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


# --- Great Expectations ------------------------------------------------------------------

@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No warnings or prints from GE: what it would print may hold cell values."""
    sink = io.StringIO()  # discarded; redirecting is process-wide, the stage is single-threaded
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        yield


def _gx() -> Any:
    """Import GE once, silenced, with our one custom expectation registered."""
    with _LOCK:
        logger = logging.getLogger("great_expectations")
        if not logger.handlers:  # some GE loggers set INFO themselves: stop records here
            logger.addHandler(logging.NullHandler())
            logger.propagate = False
            logger.setLevel(logging.CRITICAL + 1)
        try:
            with _quiet():
                import great_expectations as gx
                from great_expectations.exceptions import ExpectationNotFoundError
                from great_expectations.expectations.registry import get_expectation_impl
                try:
                    get_expectation_impl("expect_column_to_not_exist")
                except ExpectationNotFoundError:
                    _register_column_to_not_exist()
        except Exception:
            raise EnvironmentProblem("great_expectations cannot be imported; "
                                     "reinstall the pinned version") from None
        return gx


def _register_column_to_not_exist() -> None:
    """GE 1.x has no negative of expect_column_to_exist; defining the class registers it."""
    from great_expectations.compatibility.pydantic import Field as GxField, StrictStr
    from great_expectations.expectations.expectation import BatchExpectation

    def _validate(self: Any, metrics: dict, runtime_configuration: Any = None,
                  execution_engine: Any = None) -> dict:
        return {"success": self._get_success_kwarg("column") not in metrics["table.columns"]}

    # Built through the metaclass: with ``from __future__ import annotations`` a class
    # statement would leave "StrictStr" as an unresolvable string annotation.
    type(BatchExpectation)("ExpectColumnToNotExist", (BatchExpectation,), {
        "__module__": __name__, "__annotations__": {"column": StrictStr},
        "column": GxField(min_length=1), "metric_dependencies": ("table.columns",),
        "success_keys": ("column",), "domain_keys": ("batch_id",), "args_keys": ("column",),
        "_validate": _validate})


def _build_expectation(check: _Check, index: int, fail: Fail) -> Any:
    """GE expectation for a check; GE's (pydantic 1) errors name the offending kwarg."""
    _gx()
    from great_expectations.compatibility.pydantic import ValidationError as GxValidationError
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        with _quiet():
            return get_expectation_impl(check.type)(**check.kwargs, meta={"index": index})
    except GxValidationError as exc:
        error = exc.errors()[0]
        raise fail("".join(f".{part}" for part in error["loc"]), error["msg"]) from None
    except Exception:
        raise fail("", "rejected by Great Expectations") from None


@dataclass(frozen=True)
class _Outcome:
    """What survives of a GE result: no values, only counts and row positions."""

    success: bool
    evaluated: bool = False
    element_count: int | None = None
    unexpected_count: int | None = None
    positions: tuple[int, ...] = ()


class _Engine:
    """One ephemeral GE context per process; validation definitions cached per suite digest."""

    def __init__(self) -> None:
        self.gx = _gx()
        from great_expectations.data_context.types.base import (
            DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig)

        self.context = self.gx.get_context(mode="ephemeral", project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            analytics_enabled=False))
        self.source = self.context.data_sources.add_pandas("release")
        self.definitions: dict[str, Any] = {}

    def run(self, name: str, checks: Mapping[int, _Check],
            frame: pd.DataFrame) -> dict[int, _Outcome]:
        if name not in self.definitions:
            fail: Fail = lambda key, problem: ReleaseError(f"suite {name}: {problem}")  # noqa: E731
            suite = self.context.suites.add(self.gx.ExpectationSuite(name=name, expectations=[
                _build_expectation(check, index, fail) for index, check in checks.items()]))
            asset = self.source.add_dataframe_asset(name)
            batch = asset.add_batch_definition_whole_dataframe("all")
            self.definitions[name] = self.context.validation_definitions.add(
                self.gx.ValidationDefinition(name=name, data=batch, suite=suite))
        # SUMMARY with a default index: partial_unexpected_index_list holds row positions.
        # (unexpected_index_column_names costs ~0.1 s per 1,000 failing rows.)
        results = self.definitions[name].run(batch_parameters={"dataframe": frame}, result_format={
            "result_format": "SUMMARY", "partial_unexpected_count": MAX_ROW_KEYS,
            "exclude_unexpected_values": True})
        store = self.context.validation_results_store  # keeps every result, values included
        for key in store.list_keys():
            store.remove_key(key)
        return {int(r.expectation_config.meta["index"]): _reduce(r) for r in results.results}


def _reduce(result: Any) -> _Outcome:
    info = result.exception_info or {}
    # one {raised_exception, ...} dict, or one per failed metric
    infos = [info] if "raised_exception" in info else [
        v for v in info.values() if isinstance(v, dict)]
    raised = any(bool(i.get("raised_exception")) for i in infos)
    body = result.result or {}
    count = {k: int(v) if isinstance(v, numbers.Integral) else None
             for k in ("element_count", "unexpected_count") for v in [body.get(k)]}
    positions = [int(p) for p in body.get("partial_unexpected_index_list") or []
                 if isinstance(p, numbers.Integral)]
    return _Outcome(bool(result.success) and not raised, not raised, count["element_count"],
                    count["unexpected_count"], tuple(positions[:MAX_ROW_KEYS]))


_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    """The process's GE context, created on first use (importing GE takes ~2 s)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE


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
    with _LOCK:
        for name, body in suite.model.tables.items():
            table = by_name[name]
            outcomes = _run_table(suite, table, dict(enumerate(body.expectations)))
            for index, check in enumerate(body.expectations):
                result, finding = _sanitize(suite, table, check, outcomes[index], stage)
                results.append(result)
                findings.extend([finding] if finding else [])
    return results, findings


def _run_table(suite: _Suite, table: TableData,
               checks: dict[int, _Check]) -> dict[int, _Outcome]:
    frame = table.frame
    if table.key_column not in frame.columns:
        raise ReleaseError("row key column missing", file=table.file, column=table.key_column)
    public = [c for c in frame.columns if not str(c).startswith(INTERNAL_PREFIX)]
    parts = {  # column-set checks need no rows and must not see internal columns
        "shape": ({i: c for i, c in checks.items() if c.type in SHAPE_TYPES},
                  frame.iloc[0:0][public]),
        "rows": ({i: c for i, c in checks.items() if c.type not in SHAPE_TYPES},
                 frame.reset_index(drop=True))}  # default index: GE reports row positions
    outcomes = {index: _Outcome(success=False) for index in checks}
    for part, (part_checks, part_frame) in parts.items():
        if not part_checks:
            continue
        try:
            with _quiet():
                name = f"{suite.model.name}.{table.name}.{part}.{suite.digest[:16]}"
                outcomes.update(_engine().run(name, part_checks, part_frame))
        except ReleaseError:
            raise
        except Exception:
            raise ReleaseError(f"Great Expectations failed on suite {suite.model.name}",
                               file=table.file) from None
    return outcomes


def _sanitize(suite: _Suite, table: TableData, check: _Check, outcome: _Outcome,
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
                f"Why: {check.meta.why}",
        file=table.file, column=check.column, rule=check.type, count=unexpected, row_keys=row_keys)


def _row_key(keys: pd.Series, position: int) -> str:
    value = keys.iloc[position] if 0 <= position < len(keys) else None
    return f"#{position}" if value is None or pd.isna(value) else str(value)


def _column_set_difference(check: _Check, actual: list[str]) -> tuple[int, str]:
    """Count offending columns; name only those the suite lists (headers may be anything)."""
    expected = [str(c) for c in check.kwargs.get("column_list", check.kwargs.get("column_set"))]
    exact = check.type.endswith("ordered_list") or check.kwargs.get("exact_match") is not False
    missing = [c for c in expected if c not in actual]
    extra = [c for c in actual if c not in expected] if exact else []
    if not missing and not extra:
        moved = sum(1 for want, got in zip(expected, actual) if want != got)
        moved += abs(len(expected) - len(actual))  # duplicated headers
        return moved, f"same column names, {moved} position(s) differ (order or duplicates)"
    return len(missing) + len(extra), \
        f"missing {', '.join(missing) or 'none'}; {len(extra)} unexpected column(s)"
