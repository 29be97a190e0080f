"""Suite files for the validate stage: JSON -> frozen models, every mistake a ConfigError.

Owns the suite format (``expectations/README.md``): which expectation types a suite may use,
which kwargs are reserved, which tables each dataset has, and the key path a ConfigError
names. It never imports Great Expectations: the caller passes the function that builds a GE
expectation (``validate_engine.build_expectation``), so GE's own kwarg checks still run at
load, in suite order, while GE stays inside the one module that imports it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from release.config.datasets import SUITE_TABLES
from release.errors import ConfigError, ReleaseError

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
# Tables of each policy's suites, for load_suites calls made without the tables at hand (the registry's).
DATASET_TABLES: Mapping[str, tuple[str, ...]] = SUITE_TABLES

Fail = Callable[[str, str], ReleaseError]


# --- suite files: read JSON -> frozen models (extra keys forbidden) -> GE objects ----------

class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Meta(_Model):
    level: Literal["critical", "warning"]
    why: str = Field(pattern=r"\S")
    fix: str | None = Field(default=None, pattern=r"\S")  # what the analyst does when it fails


class Check(_Model):
    """One expectation of a suite: its GE type, GE kwargs and our level and reason."""

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
    expectations: tuple[Check, ...] = Field(min_length=1)


class _SuiteFile(_Model):
    name: str = Field(pattern=r"^[a-z0-9_]+_(raw|public)$")
    description: str = ""
    tables: dict[str, _TableSuite] = Field(min_length=1)


@dataclass(frozen=True)
class Suite:
    """A checked suite file: its model, the SHA-256 of its bytes and its JSON document."""

    model: _SuiteFile
    digest: str
    document: dict[str, object]


# Builds the GE expectation for (check, index); raises what ``fail`` returns if GE rejects it.
Build = Callable[[Check, int, Fail], object]


def parse_suite(path: Path, tables: Collection[str] | None, build: Build) -> Suite:
    """Read and check a suite file; ``build`` is tried on every check, in suite order."""
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
            fail_here = _under(fail, f"tables.{table}.expectations[{index}].kwargs")
            _check_kwargs(check, fail_here)
            build(check, index, fail_here)
    return Suite(model, hashlib.sha256(raw).hexdigest(), document)


def _under(fail: Fail, where: str) -> Fail:
    """``fail`` for the key paths under ``where`` (one per check, so none sees another's path)."""
    return lambda key, problem: fail(f"{where}{key}", problem)


def _check_kwargs(check: Check, fail: Fail) -> None:
    if reserved := sorted(set(check.kwargs) & RESERVED_KWARGS):
        raise fail(f".{reserved[0]}", "set by the validate stage; not allowed in a suite")
    if "regex" in check.kwargs:
        try:
            re.compile(check.kwargs["regex"])
        except (re.error, TypeError) as exc:
            raise fail(".regex", f"invalid regular expression ({exc})") from None
    if check.type in SHAPE_TYPES and check.kwargs.get("column_list", check.kwargs.get("column_set")) is None:
        # GE accepts one without its columns: there would be nothing to hold the table's columns to
        key = "column_list" if check.type.endswith("ordered_list") else "column_set"
        raise fail(f".{key}", "field required: the columns the table must have")
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
