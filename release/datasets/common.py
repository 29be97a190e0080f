"""Helpers shared by the dataset modules: typed dataset rules, flags, dates, log events.

The dataset modules count and exclude by rules a policy's column rules cannot express;
these helpers keep them small and alike: ``dataset_rules`` validates the policy's
``dataset_rules`` mapping into the module's own frozen model (errors name the key path),
``read_flags`` reads the yes/no flags of the exports (``t``/``f``/``1``/``0``/``true``/``yes``...)
without ever guessing, ``parse_dates`` reads the date columns, and ``cell_events`` turns
removed cell values into log entries carrying an HMAC token, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from release.config.policy import DatasetPolicy
from release.errors import ConfigError, ReleaseError
from release.keys.hmac import Tokenizer
from release.model import ROW_KEY, Finding, RedactionEvent, Severity

MAX_ROW_KEYS = 20
TRUE_WORDS = frozenset({"t", "true", "1", "yes", "y"})
FALSE_WORDS = frozenset({"f", "false", "0", "no", "n"})
_ISO = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?$")
_US = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s.*)?$")

Rules = TypeVar("Rules", bound=BaseModel)


class FrozenRules(BaseModel):
    """Base of every module's ``dataset_rules`` model: frozen, unknown keys rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def dataset_rules(policy: DatasetPolicy, model: type[Rules]) -> Rules:
    """The policy's ``dataset_rules`` as ``model``; a mistake names the YAML key path."""
    try:
        return model.model_validate(dict(policy.dataset_rules))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            message = "unknown key"
        raise ConfigError(f"dataset_rules{'.' + key if key else ''}: {message}",
                          file=f"{policy.dataset}.yaml") from None


@dataclass(frozen=True)
class Flags:
    """A yes/no column read strictly: every row is exactly one of the four masks."""

    true: pd.Series
    false: pd.Series
    blank: pd.Series
    unreadable: pd.Series


def read_flags(values: pd.Series) -> Flags:
    words = values.map(lambda v: v.strip().casefold() if isinstance(v, str) else None)
    blank = words.isna() | (words == "")
    true = words.isin(TRUE_WORDS) & ~blank
    false = words.isin(FALSE_WORDS) & ~blank
    return Flags(true.astype(bool), false.astype(bool), blank.astype(bool),
                 (~blank & ~true & ~false).astype(bool))


def parse_date(value: object) -> date | None:
    """``YYYY-MM-DD[ anything]`` or ``M/D/YYYY[ anything]``; None when absent or impossible."""
    if not isinstance(value, str):
        return None
    if match := _ISO.match(value):
        y, m, d = (int(g) for g in match.groups())
    elif match := _US.match(value):
        m, d, y = (int(g) for g in match.groups())
    else:
        return None
    try:
        return date(y, m, d)
    except ValueError:
        return None


def parse_dates(values: pd.Series) -> pd.Series:
    """Dates as ``datetime64`` (NaT when blank or unreadable), aligned with ``values``."""
    return pd.to_datetime(pd.Series([parse_date(v) for v in values.tolist()], index=values.index,
                                    dtype=object), errors="coerce")


def unreadable_dates(values: pd.Series, parsed: pd.Series) -> pd.Series:
    """Rows with a value that is not a readable date (blank is not unreadable)."""
    present = values.map(lambda v: isinstance(v, str) and bool(v.strip()))
    return (present & parsed.isna()).astype(bool)


def aligned(raw: pd.DataFrame, public: pd.DataFrame, file: str) -> None:
    """Raw and public frames of one file must hold the same rows in the same order."""
    if raw[ROW_KEY].tolist() != public[ROW_KEY].tolist():
        raise ReleaseError("raw and public rows are not aligned", file=file, rule="derive")


def row_keys(frame: pd.DataFrame, mask: pd.Series) -> tuple[str, ...]:
    return tuple(str(k) for k in frame.loc[mask, ROW_KEY].head(MAX_ROW_KEYS))


def finding(frame: pd.DataFrame, mask: pd.Series, *, code: str, severity: Severity, message: str,
            file: str, column: str | None = None, rule: str) -> Finding:
    """A finding about the rows in ``mask``: their count and first row keys, never values."""
    return Finding(stage="derive", code=code, severity=severity,
                   message=message, file=file, column=column, rule=rule,
                   count=int(mask.sum()), row_keys=row_keys(frame, mask))


def cell_events(*, dataset: str, file: str, column: str, keys: Sequence[str],
                removed: Sequence[str], action: str, entity_type: str, rule_id: str,
                tokenizer: Tokenizer, detector: str = "dataset_rule") -> list[RedactionEvent]:
    """One log entry per changed cell: the removed value's length and HMAC token only."""
    return [RedactionEvent(
        dataset=dataset, file=file, row_key=str(key), column=column, action=action,
        entity_type=entity_type, detector=detector, detector_version="1", rule_id=rule_id,
        score=1.0, start=-1, end=-1, out_start=-1, out_end=-1, removed_length=len(value),
        token=tokenizer.token(value)) for key, value in zip(keys, removed, strict=True)]


def count_text(value: int) -> str:
    """Counts in a published table are text like every other published cell."""
    return str(int(value))
