"""Read a raw export folder into typed tables, robustly and without trusting it.

Accepts UTF-8 (with or without BOM) and cp1252, LF or CRLF, quoted fields with newlines,
``''``/``NULL``/``None``/``N/A`` as missing, stray spaces and the header aliases of the
policy. A missing file or required column, an empty file or a CSV cut off inside a quoted
field stops the load with an ``InputError`` that names file and column, never a value.
Columns the policy does not name are dropped here and reported; rows outside the release
year and persons with no report are excluded and reported.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from release.config import DatasetPolicy, FilePolicy
from release.errors import InputError
from release.model import Finding, Tables

MISSING_TOKENS = frozenset({"", "NULL", "NULL ", "None", "N/A", "NA", "null", "none", "n/a"})
ROW_KEY = "_row_key"
NO_KEY = "(no key)"
BAD_KEY = "(key not of its declared format)"
_YEAR = re.compile(r"^\s*(\d{4})(?:-\d{1,2}(?:-\d{1,2})?)?(?:[ T].*)?$")
_MAX_KEYS = 20


@dataclass(frozen=True)
class InputFile:
    name: str
    sha256: str
    size_bytes: int
    encoding: str
    rows: int


@dataclass(frozen=True)
class Loaded:
    tables: Tables
    inputs: tuple[InputFile, ...]
    findings: tuple[Finding, ...]


def _decode(raw: bytes, file: str) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise InputError("cannot be decoded as UTF-8 or cp1252", file=file, rule="encoding")


def _parse(text: str, file: str) -> pd.DataFrame:
    if not text.strip():
        raise InputError("the file is empty", file=file, rule="non-empty")
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
            engine="c", quoting=csv.QUOTE_MINIMAL, skip_blank_lines=True,
        )
    except pd.errors.EmptyDataError:
        raise InputError("the file has no header row", file=file, rule="header") from None
    except pd.errors.ParserError as exc:
        text_of = str(exc)
        line = re.search(r"(?:row|line) (\d+)", text_of)
        where = f" near line {line.group(1)}" if line else ""
        if "EOF inside string" in text_of:
            reason = f"the file ends inside a quoted field{where} (truncated?)"
        else:
            reason = f"malformed CSV{where}: wrong number of fields"
        raise InputError(reason, file=file, rule="csv") from None
    return frame


def read_csv(path: Path) -> pd.DataFrame:
    """Any CSV with the loader's decoding and parsing rules, every cell a string (for
    ``release scan`` on files outside a release's contract); headers are stripped."""
    frame = _parse(_decode(path.read_bytes(), path.name)[0], path.name)
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    return frame


def _normalize_headers(frame: pd.DataFrame, policy: FilePolicy) -> pd.DataFrame:
    renamed: dict[str, str] = {}
    seen: set[str] = set()
    for original in frame.columns:
        name = str(original).replace("\ufeff", "").strip().lower()
        name = policy.aliases.get(name, name)
        if name in seen:
            raise InputError("the column appears twice (directly or through an alias)",
                             file=policy.raw_file, column=name, rule="header")
        seen.add(name)
        renamed[original] = name
    return frame.rename(columns=renamed)


def _clean_values(frame: pd.DataFrame) -> pd.DataFrame:
    cleaned = {}
    for column in frame.columns:
        values = [value.strip() if isinstance(value, str) else "" for value in frame[column].tolist()]
        cleaned[column] = pd.Series([None if v in MISSING_TOKENS else v for v in values],
                                    index=frame.index, dtype=object)
    return pd.DataFrame(cleaned, index=frame.index)


def row_keys(frame: pd.DataFrame, policy: FilePolicy) -> pd.Series:
    """The key shown in findings, the redaction log and the packet for each row.

    A key value that does not have its column's declared format may be anything typed into
    the export (a name), so it never becomes part of a row key: such rows are told apart by
    their ordinal only."""
    key = frame[policy.key_column].fillna(NO_KEY)
    pattern = getattr(policy.columns[policy.key_column], "pattern", None)
    if pattern is not None:
        regex = re.compile(pattern)
        key = key.where(key.map(lambda v: v == NO_KEY or regex.fullmatch(v) is not None), BAD_KEY)
    ordinal = key.groupby(key).cumcount() + 1
    if policy.parent is None:
        # a report repeats once per basis: the first row is the report number itself
        return key.where(ordinal == 1, key + "#" + ordinal.astype(str))
    return key + "/p" + ordinal.astype(str)


def _keys(frame: pd.DataFrame, mask: pd.Series) -> tuple[str, ...]:
    return tuple(frame.loc[mask, ROW_KEY].head(_MAX_KEYS))


def load_file(input_dir: Path, policy: FilePolicy) -> tuple[pd.DataFrame, InputFile, list[Finding]]:
    path = input_dir / policy.raw_file
    file = policy.raw_file
    if not path.is_file():
        raise InputError("required file not found in the input folder", file=file, rule="files")
    raw = path.read_bytes()
    text, encoding = _decode(raw, file)
    frame = _normalize_headers(_parse(text, file), policy)
    for column in policy.required_columns():
        if column not in frame.columns:
            raise InputError("required column is missing", file=file, column=column, rule="required")
    findings: list[Finding] = []
    for column in frame.columns:
        if column not in policy.columns:
            findings.append(Finding(
                stage="load", code="column_not_in_policy", severity="warning",
                message="column is not named by any rule: dropped, never published",
                file=file, column=column, rule="allow-list"))
    known = [c for c in frame.columns if c in policy.columns]
    frame = _clean_values(frame[known])
    for column in policy.columns:  # optional columns absent from this export
        if column not in frame.columns:
            frame[column] = None
    frame = frame[list(policy.columns)].copy()
    frame[ROW_KEY] = row_keys(frame, policy)
    info = InputFile(file, hashlib.sha256(raw).hexdigest(), len(raw), encoding, len(frame))
    return frame, info, findings


def _year_filter(frame: pd.DataFrame, policy: FilePolicy, year: int) -> tuple[pd.DataFrame, list[Finding]]:
    years = frame[policy.date_column].fillna("").str.extract(_YEAR, expand=False)
    findings: list[Finding] = []
    unparsed = years.isna()
    kept_years = {str(y) for y in range(year - policy.years_before, year + 1)}
    other = ~unparsed & ~years.isin(kept_years)
    block = policy.unreadable_dates == "block"
    for mask, code, message, severity in (
        (unparsed, "date_unreadable", "rows without a readable date: the release year of these rows is unknown, "
         "so an exact count would fall short (unreadable_dates: block)" if block
         else "rows without a readable date: excluded", "blocking" if block else "warning"),
        (other, "outside_year", f"rows dated outside {min(kept_years)}-{year}: excluded"
         if policy.years_before else f"rows dated outside {year}: excluded", "warning"),
    ):
        if mask.any():
            findings.append(Finding(
                stage="load", code=code, severity=severity, message=message,
                file=policy.raw_file, column=policy.date_column,
                rule="unreadable-dates" if code == "date_unreadable" else "release-year",
                count=int(mask.sum()), row_keys=_keys(frame, mask)))
    return frame.loc[~(unparsed | other)].reset_index(drop=True), findings


def load_export(input_dir: Path, policy: DatasetPolicy, year: int) -> Loaded:
    frames: dict[str, pd.DataFrame] = {}
    inputs: list[InputFile] = []
    findings: list[Finding] = []
    for name, file_policy in policy.files.items():
        frame, info, found = load_file(input_dir, file_policy)
        frame, outside = _year_filter(frame, file_policy, year)
        frames[name] = frame
        inputs.append(info)
        findings += found + outside
    for name, file_policy in policy.files.items():
        link = file_policy.parent
        if link is None:
            continue
        child = frames[name]
        known = set(frames[link.file][link.column].dropna())
        orphan = ~child[link.column].isin(known)
        if orphan.any():
            findings.append(Finding(
                stage="load", code="orphan_rows",
                severity="warning", message=f"rows with no matching {link.file} row: excluded",
                file=file_policy.raw_file, column=link.column, rule="parent-link",
                count=int(orphan.sum()), row_keys=_keys(child, orphan)))
            frames[name] = child.loc[~orphan].reset_index(drop=True)
    return Loaded(Tables(frames), tuple(inputs), tuple(findings))
