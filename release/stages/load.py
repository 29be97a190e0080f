"""Read a raw export folder into typed tables, robustly and without trusting it.

Accepts UTF-8 (with or without BOM) or cp1252 (one per file), LF or CRLF, quoted fields
with newlines, ``''``/``NULL``/``None``/``N/A`` as missing, stray spaces and the header
aliases of the policy. Reading the bytes (encoding, strict CSV, the policy's ``limits``)
is ``load_csv``'s; what stops the load here is the contract: a missing file or required
column, a header-only file, a row key not of its declared format. Each is an
``InputError`` naming file, line and column, never a value. Columns the policy does not
name are dropped and reported (by name only when it is a plain identifier), an absent
optional column is reported, invisible characters (controls, bidi overrides, zero-width)
are removed and reported; rows outside the release year and persons with no report are
excluded and reported.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from release.config.policy import DatasetPolicy, FilePolicy, InputLimits
from release.errors import InputError
from release.model import ROW_KEY, Finding, InputFile, Severity, Tables
from release.stages import load_csv
from release.stages.cells import strip_invisible
from release.stages.dates import read_date

MISSING_TOKENS = frozenset({"", "NULL", "NULL ", "None", "N/A", "NA", "null", "none", "n/a"})
NO_KEY = "(no key)"
BAD_KEY = "(key not of its declared format)"
_MAX_KEYS = 20


@dataclass(frozen=True)
class Loaded:
    """What a load gives: the tables, each input file as read, and the findings of reading them."""

    tables: Tables
    inputs: tuple[InputFile, ...]
    findings: tuple[Finding, ...]


def read_csv(path: Path, limits: InputLimits | None = None) -> pd.DataFrame:
    """Any CSV with the loader's decoding, parsing and limits, every cell a string (for
    ``release scan`` on files outside a release's contract); headers are cleaned and stripped."""
    raw = load_csv.read(path, path.name, limits or InputLimits())
    header = [strip_invisible(name).strip() for name in raw.header]
    return pd.DataFrame(list(raw.rows), columns=header, dtype=object)


def _columns(raw: load_csv.RawCsv, policy: FilePolicy) -> tuple[dict[str, int], list[Finding]]:
    """Contract name -> position in the file; the columns no rule names are reported, each by
    ``column_label`` (a header may hold a value), and the optional columns the file lacks."""
    file = policy.raw_file
    positions: dict[str, int] = {}
    findings: list[Finding] = []
    for position, original in enumerate(raw.header):
        name = load_csv.header_name(original)
        name = policy.aliases.get(name, name)
        if name in positions:
            raise InputError("the column appears twice (directly or through an alias)", file=file,
                             line=raw.header_line, column=name, rule="header")
        if name in policy.raw_columns():  # a derived column is computed, never read from an export
            positions[name] = position
        else:
            findings.append(Finding(
                stage="load", code="column_not_in_policy", severity="warning",
                message="column is not named by any rule: dropped, never published",
                file=file, column=load_csv.column_label(original, position), rule="allow-list"))
    for column in policy.required_columns():
        if column not in positions:
            raise InputError("required column is missing", file=file, line=raw.header_line, column=column,
                             rule="required")
    for column, rule in policy.raw_columns().items():
        if column not in positions and rule.type != "drop":  # a dropped column is never read
            findings.append(Finding(
                stage="load", code="optional_column_absent", severity="warning",
                message="optional column absent from the export: read as blank in every row", file=file,
                column=column, rule="optional-column"))
    return positions, findings


def _clean(cells: list[str], missing: frozenset[str] = MISSING_TOKENS) -> tuple[list[str | None], list[bool]]:
    """Each cell without invisible characters and stray spaces, None when missing; and which
    cells held an invisible character."""
    values: list[str | None] = []
    invisible: list[bool] = []
    for cell in cells:
        clean = strip_invisible(cell)
        invisible.append(len(clean) != len(cell))
        clean = clean.strip()
        values.append(None if clean in missing else clean)
    return values, invisible


def _check_keys(frame: pd.DataFrame, policy: FilePolicy, lines: tuple[int, ...]) -> None:
    """A row key not of its column's declared format may be anything typed into the export
    (a name and a date of birth): it stops the load, naming the line, never the value.
    A missing key is left to the raw suite (a report row) or the parent link (a person row)."""
    columns = dict.fromkeys([policy.key_column, *([policy.parent.column] if policy.parent else [])])
    for column in columns:
        pattern = getattr(policy.columns[column], "pattern", None)
        if pattern is None:
            continue
        regex = re.compile(pattern)
        for position, value in enumerate(frame[column].tolist()):
            if value is not None and regex.fullmatch(value) is None:
                raise InputError("the row key is not of its declared format (its value is not shown)",
                                 file=policy.raw_file, line=lines[position], column=column, rule="key-format")


def row_keys(frame: pd.DataFrame, policy: FilePolicy) -> pd.Series:
    """The key shown in findings, the redaction log and the packet for each row.

    The loader refuses a raw key not of its declared format (``_check_keys``); when a published
    file is read back (the audit), such a key (a pseudonymous report number the audit could not
    map back to the source's) never becomes part of a row key either: those rows are told apart
    by their ordinal only."""
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


def missing_tokens(policy: DatasetPolicy) -> frozenset[str]:
    """What reads as missing in this policy's export: the loader's tokens and the policy's own."""
    return MISSING_TOKENS | frozenset(policy.missing_tokens)


def _keys(frame: pd.DataFrame, mask: pd.Series) -> tuple[str, ...]:
    return tuple(frame.loc[mask, ROW_KEY].head(_MAX_KEYS))


def load_file(input_dir: Path, policy: FilePolicy, limits: InputLimits | None = None,
              missing: frozenset[str] = MISSING_TOKENS) -> tuple[pd.DataFrame, InputFile, list[Finding]]:
    path = input_dir / policy.raw_file
    file = policy.raw_file
    if not path.is_file():
        raise InputError("required file not found in the input folder", file=file, rule="files")
    raw = load_csv.read(path, file, limits or InputLimits())
    positions, findings = _columns(raw, policy)
    if not raw.rows:  # an export cut off after its header must not become an empty release
        raise InputError("the file has a header but no rows", file=file, rule="non-empty")
    cleaned: dict[str, list[str | None]] = {}
    invisible: dict[str, list[bool]] = {}
    for column in policy.raw_columns():
        if column in positions:
            cleaned[column], invisible[column] = _clean([row[positions[column]] for row in raw.rows], missing)
        else:  # an optional column absent from this export (reported above)
            cleaned[column] = [None] * len(raw.rows)
    frame = pd.DataFrame({column: pd.Series(values, dtype=object) for column, values in cleaned.items()})
    _check_keys(frame, policy, raw.lines)
    frame[ROW_KEY] = row_keys(frame, policy)
    for column, flags in invisible.items():
        mask = pd.Series(flags, index=frame.index, dtype=bool)
        if mask.any():
            findings.append(Finding(
                stage="load", code="invisible_characters_removed", severity="warning",
                message="control, bidi-override or zero-width characters removed from the cells",
                file=file, column=column, rule="invisible-characters", count=int(mask.sum()),
                row_keys=_keys(frame, mask)))
    info = InputFile(file, hashlib.sha256(raw.raw).hexdigest(), len(raw.raw), raw.encoding, len(frame))
    return frame, info, findings


def _year_filter(frame: pd.DataFrame, policy: FilePolicy, year: int) -> tuple[pd.DataFrame, list[Finding]]:
    dates = [read_date(value) if isinstance(value, str) else None for value in frame[policy.date_column]]
    years = pd.Series([str(d.year) if d else None for d in dates], index=frame.index, dtype=object)
    findings: list[Finding] = []
    unparsed = years.isna()
    kept_years = {str(y) for y in range(year - policy.years_before, year + 1)}
    other = ~unparsed & ~years.isin(kept_years)
    block = policy.unreadable_dates == "block"
    checks: list[tuple[pd.Series, str, str, Severity]] = [
        (unparsed, "date_unreadable", "rows without a readable date (or with one that cannot exist): the release "
         "year of these rows is unknown, so an exact count would fall short (unreadable_dates: block)" if block
         else "rows without a readable date (or with one that cannot exist): excluded",
         "blocking" if block else "warning"),
        (other, "outside_year", f"rows dated outside {min(kept_years)}-{year}: excluded"
         if policy.years_before else f"rows dated outside {year}: excluded", "warning"),
    ]
    for mask, code, message, severity in checks:
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
    missing = missing_tokens(policy)
    for name, file_policy in policy.files.items():
        frame, info, found = load_file(input_dir, file_policy, policy.limits, missing)
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
