"""Apply each column's rule and the juvenile rule; keep only allow-listed columns.

Each rule type is a small function registered under its YAML ``type``; the policy is
validated at load, so an unknown type never reaches here. Per-row decisions that remove
information (a house number, an exact age, a withheld narrative) become log events with
an HMAC token of what was removed; column-level decisions (dropped columns, date
precision) are recorded in the manifest through the policy's hash.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from release.config.codebooks import Vocabulary
from release.config.policy import (
    DERIVED_TYPES,
    FREE_TEXT_TYPES,
    AgeRule,
    ColumnRule,
    DatasetPolicy,
    DatetimeRule,
    FilePolicy,
    IntegerRule,
    KeepRule,
    OfficerRule,
    PseudonymRule,
    StreetNameRule,
)
from release.errors import ReleaseError
from release.keys.hmac import Tokenizer
from release.model import ROW_KEY, Finding, RedactionEvent, Severity, Tables
from release.stages.dates import read_date
from release.stages.juvenile import age_band, minor_rows, parse_age, read_ages
from release.stages.pseudonyms import pseudonym, raw_format_ok

_MAX_KEYS = 20
# Withheld cells of these types hold the juvenile rule's withheld_text; others are blank.
WITHHELD_AS_TEXT = FREE_TEXT_TYPES | {"street_name"}
_HOUSE = re.compile(
    r"^\s*(?:(?:rear|front|side)\s+(?:of\s+)?)?\#?\d+[a-z]?(?:\s*[-/&]\s*\d+[a-z]?)?\s*(?:,\s*)?",
    re.IGNORECASE)
_UNIT = re.compile(r"\s*(?:,\s*)?(?:\b(?:apt|apartment|unit|ste|suite|fl|floor|rm|room)\b\.?\s*|#)\s*\w+\s*$",
                   re.IGNORECASE)
_BARE_NUMBER = re.compile(r"\b\d+[a-z]?\b(?<!\d(?:st|nd|rd|th))", re.IGNORECASE)


@dataclass(frozen=True)
class Context:
    """Where a rule is applied: the dataset, file, column and row keys its findings and events name, and the
    tokenizer for what it removes."""

    dataset: str
    file: str          # raw file name, for findings and events
    column: str
    row_keys: pd.Series
    tokenizer: Tokenizer


@dataclass(frozen=True)
class Outcome:
    """What a rule returns: the new values, the rows that lost information (each logged with a token) and its
    findings."""

    values: pd.Series
    changed: pd.Series          # rows whose value lost information (logged per row)
    findings: tuple[Finding, ...] = ()
    action: str = "generalize"
    entity_type: str = ""
    generalized: pd.Series | None = None  # other rows that lost detail, logged as "generalize"


def _finding(ctx: Context, mask: pd.Series, code: str, message: str, severity: Severity = "warning") -> Finding:
    return Finding(stage="generalize", code=code, severity=severity,
                   message=message, file=ctx.file, column=ctx.column, rule=code,
                   count=int(mask.sum()), row_keys=tuple(ctx.row_keys[mask].head(_MAX_KEYS)))


def _unchanged(values: pd.Series) -> pd.Series:
    return pd.Series(False, index=values.index)


def rule_keep(values: pd.Series, rule: KeepRule, ctx: Context) -> Outcome:
    """A closed vocabulary: the codebook's spelling of each value, or the value if it has
    the declared format; an unknown value (or list item) is blanked, or "Other", or blocks. A
    blank cell stands for ``blank_means`` where the form makes blank an answer (an unticked box)."""
    if rule.blank_means is not None:
        values = values.where(values.notna(), rule.blank_means)
    return _closed(values, Vocabulary.of(rule), rule.on_unknown, ctx,
                   "pattern" if rule.pattern is not None else "list" if rule.list_separator else "codebook")


def rule_officer(values: pd.Series, rule: OfficerRule, ctx: Context) -> Outcome:
    """Officers' names are published as the City does; an ID column may declare its format."""
    if rule.pattern is None:
        return rule_passthrough(values, rule, ctx)
    return _closed(values, Vocabulary.of(rule), "blank", ctx, "pattern")


_UNKNOWN_MESSAGE = {
    "codebook": "values outside the codebook", "list": "list items outside the codebook",
    "pattern": "values not of the declared format"}
_UNKNOWN_ACTION = {"blank": "blanked", "other": "published as Other", "block": "blanked; blocks the release"}


def _closed(values: pd.Series, vocabulary: Vocabulary, on_unknown: str, ctx: Context, kind: str) -> Outcome:
    """Read each distinct value once; a cell that lost an entry is reported (count and row
    keys, never the value) and logged with the token of what it held."""
    readings = {value: vocabulary.read(value) for value in values.dropna().unique() if isinstance(value, str)}
    out = values.map({v: r.value for v, r in readings.items()}).astype(object)  # dict look-ups, not a call per cell
    out = out.where(out.notna(), None)
    # .eq(True), not .fillna(False): a column of blanks maps to float64 NaN, which a bool fill will not take
    lost = values.map({v: r.unknown > 0 for v, r in readings.items()}).eq(True)
    trimmed = values.map({v: r.trimmed > 0 for v, r in readings.items()}).eq(True) & ~lost
    findings: list[Finding] = []
    if lost.any():
        code = "value_outside_pattern" if kind == "pattern" else "value_outside_domain"
        findings.append(_finding(ctx, lost, code, f"{_UNKNOWN_MESSAGE[kind]}: {_UNKNOWN_ACTION[on_unknown]}",
                                 "blocking" if on_unknown == "block" else "warning"))
    if trimmed.any():
        findings.append(_finding(ctx, trimmed, "value_shortened", "values published as the codebook value "
                                 "they start with (the words after it dropped)", "info"))
    return Outcome(out, lost, tuple(findings), action="generalize" if on_unknown == "other" else "drop_value",
                   entity_type="VALUE_OUTSIDE_PATTERN" if kind == "pattern" else "VALUE_OUTSIDE_CODEBOOK",
                   generalized=trimmed)


def rule_datetime(values: pd.Series, rule: DatetimeRule, ctx: Context) -> Outcome:
    return Outcome(*_format_dates(values, rule.precision, ctx))


def _format_dates(values: pd.Series, precision: str, ctx: Context) -> tuple[pd.Series, pd.Series, tuple[Finding, ...]]:
    def fmt(value: object) -> str | None:
        date = read_date(value) if isinstance(value, str) else None
        if date is None or date.month is None or (precision != "month" and date.day is None):
            return None  # not a date, one that cannot exist (2020-02-30, 25:00), or too coarse
        y, m = f"{date.year:04d}", f"{date.month:02d}"
        if precision == "month":
            return f"{y}-{m}"
        d = f"{date.day:02d}"
        if precision == "day" or date.hour is None:
            return f"{y}-{m}-{d}"
        hh, mm = f"{date.hour:02d}", f"{date.minute or 0:02d}"
        return f"{y}-{m}-{d} {hh}:00" if precision == "hour" else f"{y}-{m}-{d} {hh}:{mm}"

    out = values.map(fmt)
    bad = values.notna() & out.isna()
    findings = (_finding(ctx, bad, "date_unreadable", "unreadable or impossible dates blanked"),) if bad.any() else ()
    return out, _unchanged(values), findings


def strip_house_number(street: str) -> str:
    # inner runs of spaces collapsed first: the patterns' \s* would make a long run quadratic
    name = _UNIT.sub("", _HOUSE.sub("", " ".join(street.split())))
    name = _BARE_NUMBER.sub("", name)
    return " ".join(name.replace(" ,", ",").split()).strip(" ,-")


_ROUTE = re.compile(r"^(?:(?:i|us|ma|rt|route|sr|state\s+route|interstate)[\s-]*\d+[a-z]?)(?:\s+[nsew]b?)?$",
                    re.IGNORECASE)
_INTERSECTION = re.compile(r"\s*(?:&|/|\band\b|@|\bat\b)\s*", re.IGNORECASE)
_DIRECTION = frozenset({"n", "s", "e", "w", "north", "south", "east", "west", "nb", "sb", "eb", "wb", "ext"})


def _one_street(part: str, street_types: frozenset[str]) -> bool:
    words = [w for w in (w.strip(".,;:()").casefold() for w in part.split()) if w]
    while len(words) > 1 and words[-1] in _DIRECTION:
        words.pop()  # "Washington St N", "Blue Hill Ave Ext"
    if not words:
        return False
    # "Blue Hill Ave"; "Avenue de Lafayette", "Public Alley No."; "I-93"
    return words[-1] in street_types or (len(words) > 1 and words[0] in street_types) or \
        (len(words) > 1 and words[1] in street_types) or bool(_ROUTE.match(" ".join(words)))


def reads_as_street(name: str, street_types: frozenset[str]) -> bool:
    """A street name ends (or, French-style, starts) with a street type ("Blue Hill Ave",
    "Broadway", "Avenue de Lafayette"), is a numbered route ("I-93"), or is an intersection
    whose parts are such, one of them allowed to be a single untyped word ("Centre St & Chestnut")."""
    parts = [p for p in _INTERSECTION.split(" ".join(name.split())) if p.strip()]  # no long space runs
    if not parts:
        return False
    typed = [_one_street(part, street_types) for part in parts]
    if all(typed):
        return True
    untyped = [part for part, ok in zip(parts, typed, strict=True) if not ok]
    return len(parts) > 1 and any(typed) and len(untyped) == 1 and \
        len(untyped[0].split()) == 1 and untyped[0].strip().isalpha()


def rule_street_name(values: pd.Series, rule: StreetNameRule, ctx: Context) -> Outcome:
    types = frozenset(t.casefold() for t in rule.domain or ())
    stripped = values.map(lambda v: (v.strip() if _ROUTE.match(v.strip()) else strip_house_number(v) or None)
                          if isinstance(v, str) else v)  # a route's number is its name: "I-93"
    readable = stripped.map(lambda v: isinstance(v, str) and reads_as_street(v, types))
    out = pd.Series([v if ok else None for v, ok in zip(stripped, readable, strict=True)],
                    index=values.index, dtype=object)
    unreadable = values.map(lambda v: isinstance(v, str) and bool(v.strip())) & ~readable.astype(bool)
    changed = values.notna() & (out != values)
    findings = (_finding(ctx, unreadable, "street_unreadable",
                         "values that do not read as a street name: blanked"),) if unreadable.any() else ()
    return Outcome(out, changed.fillna(True), findings, entity_type="STREET_ADDRESS", action="generalize")


def _integers(values: pd.Series, minimum: int | None, maximum: int | None, ctx: Context,
              code: str) -> tuple[pd.Series, tuple[Finding, ...]]:
    # at most 15 digits: a 30-digit "year" is not an integer of any rule, and would overflow Int64
    numbers = parse_age(values) if code == "age_invalid" else pd.to_numeric(
        values.where(values.astype("string").str.fullmatch(r"-?\d{1,15}", na=False)), errors="coerce").astype("Int64")
    valid = numbers.notna()
    if minimum is not None:
        valid &= numbers >= minimum
    if maximum is not None:
        valid &= numbers <= maximum
    valid = valid.fillna(False).astype(bool)
    bad = values.notna() & ~valid
    findings = (_finding(ctx, bad, code, "values not integers within the rule's range: blanked"),) if bad.any() else ()
    return numbers.where(valid), findings


def rule_integer(values: pd.Series, rule: IntegerRule, ctx: Context) -> Outcome:
    numbers, findings = _integers(values, rule.minimum, rule.maximum, ctx, "integer_invalid")
    return Outcome(_whole_years(numbers), _unchanged(values), findings)


def rule_zip(values: pd.Series, rule: object, ctx: Context) -> Outcome:
    def fmt(value: object) -> str | None:
        if not isinstance(value, str):
            return None
        digits = value.split("-")[0].strip()
        if digits.isdigit() and len(digits) in (4, 5):
            return digits.zfill(5)  # a spreadsheet dropped the leading zero
        return None
    out = values.map(fmt)
    bad = values.notna() & out.isna()
    findings = (_finding(ctx, bad, "zip_invalid", "ZIP codes not of five digits: blanked"),) if bad.any() else ()
    return Outcome(out, _unchanged(values), findings)


def rule_pseudonym(values: pd.Series, rule: PseudonymRule, ctx: Context) -> Outcome:
    """Each identifier as its keyed pseudonym (``release.stages.pseudonyms``); one not of the
    declared format is blanked, reported and logged (with the token of what it held)."""
    readings: dict[str, str | None] = {}
    for value in values.dropna().unique():
        if isinstance(value, str):
            readings[value] = pseudonym(value, rule, ctx.dataset, ctx.tokenizer) if raw_format_ok(value, rule) else None
    made = [p for p in readings.values() if p is not None]
    if len(set(made)) != len(made):  # 64 bits: never in practice, but never silently
        raise ReleaseError("two identifiers share a public pseudonym", file=ctx.file, column=ctx.column,
                           rule="pseudonym")
    out = values.map(lambda v: readings.get(v) if isinstance(v, str) else None).astype(object)
    lost = values.map(lambda v: isinstance(v, str) and readings.get(v) is None).astype(bool)
    findings = (_finding(ctx, lost, "value_outside_pattern", "identifiers not of the declared format: blanked"),) \
        if lost.any() else ()
    return Outcome(out, lost, findings, action="drop_value", entity_type="VALUE_OUTSIDE_PATTERN")


def rule_passthrough(values: pd.Series, rule: object, ctx: Context) -> Outcome:
    return Outcome(values, _unchanged(values))


def published_form(values: pd.Series, rule: ColumnRule, ctx: Context) -> pd.Series:
    """What a closed or typed column's rule publishes for each value on its own: the rule's own
    function, without the juvenile rule or any other row (before the portal form and spreadsheet
    safety). The trusted-policy check holds a published cell to it (``release.audit.trusted_vocabulary``)."""
    if isinstance(rule, AgeRule):
        numbers, _ = _integers(values, rule.minimum, rule.maximum, ctx, "age_invalid")
        return _whole_years(numbers)
    return _as_text(RULES[rule.type](values, rule, ctx).values)


def _whole_years(numbers: pd.Series) -> pd.Series:
    return numbers.map(lambda n: None if pd.isna(n) else str(int(n))).astype(object)


RULES: dict[str, Callable[..., Outcome]] = {
    "keep": rule_keep, "datetime": rule_datetime, "street_name": rule_street_name,
    "integer": rule_integer, "zip": rule_zip, "narrative": rule_passthrough,
    "free_text": rule_passthrough, "officer": rule_officer, "pseudonym": rule_pseudonym,
    # "age" is handled with the juvenile rule below; "drop" and "raw_only" never reach here
}


def _as_text(values: pd.Series) -> pd.Series:
    """Published cells are text or None (never NaN/NA), so CSVs and checks agree."""
    return pd.Series([v if isinstance(v, str) else None for v in values.tolist()],
                     index=values.index, dtype=object)


def _events(ctx: Context, original: pd.Series, mask: pd.Series, action: str, entity_type: str,
            rule_id: str) -> list[RedactionEvent]:
    return [
        RedactionEvent(
            dataset=ctx.dataset, file=ctx.file, row_key=str(key), column=ctx.column, action=action,
            entity_type=entity_type, detector="policy", detector_version="1", rule_id=rule_id,
            score=1.0, start=-1, end=-1, out_start=-1, out_end=-1,
            removed_length=len(str(value)), token=ctx.tokenizer.token(str(value)))
        for key, value in zip(ctx.row_keys[mask], original[mask], strict=True)
    ]


def _ages(frame: pd.DataFrame, name: str, column: str, rule: AgeRule, policy: DatasetPolicy,
          ctx: Context) -> Outcome:
    """Whole years, banded under the juvenile age; from the date of birth when the juvenile
    rule names one that can be read (``juvenile.read_ages``). A row whose age is unknown is
    published blank and its report is treated as a minor's, and the report says so."""
    values = frame[column]
    numbers, findings = _integers(values, rule.minimum, rule.maximum, ctx, "age_invalid")
    juvenile = policy.juvenile
    if juvenile is None or not juvenile.enabled or juvenile.age_column != f"{name}.{column}":
        return Outcome(_whole_years(numbers), _unchanged(values), findings, entity_type="AGE", action="generalize")
    ages = read_ages(frame, policy)
    minor = minor_rows(ages, policy)

    under = juvenile.under
    out = pd.Series([None if pd.isna(n) else age_band(int(n), policy) if int(n) < under else str(int(n))
                     for n in ages.years.tolist()], index=values.index, dtype=object)
    if ages.unknown.any():
        findings += (_finding(ctx, ages.unknown, "age_unknown_minor", "persons with no readable date of birth and "
                              "no clean age in range: counted as minors (their reports withheld as juvenile)",
                              "warning"),)
    if ages.differs.any():
        findings += (_finding(ctx, ages.differs, "age_from_dob", "ages computed from the date of birth where the "
                              "age column was blank or said otherwise", "warning"),)
    # logged: each age banded (the exact age removed); a blank or corrected age removes nothing, and
    # an age computed from the date of birth where the age cell was blank removes no cell's value
    # (its log token would be of no raw value, which the audit could not recompute)
    removed = minor & ~ages.unknown & values.notna()
    return Outcome(out, removed.astype(bool), findings, entity_type="AGE", action="generalize")


def generalize_file(frame: pd.DataFrame, name: str, policy: DatasetPolicy, minors: frozenset[str],
                    tokenizer: Tokenizer) -> tuple[pd.DataFrame, list[Finding], list[RedactionEvent]]:
    file_policy: FilePolicy = policy.files[name]
    findings: list[Finding] = []
    events: list[RedactionEvent] = []
    out = pd.DataFrame(index=frame.index)
    for column in file_policy.public_columns():
        rule = file_policy.columns[column]
        if rule.type in DERIVED_TYPES:
            out[column] = None  # filled from the published columns (release.bundle.portal), in policy order
            continue
        ctx = Context(policy.dataset, file_policy.raw_file, column, frame[ROW_KEY], tokenizer)
        if rule.type == "age":
            result = _ages(frame, name, column, rule, policy, ctx)
        else:
            result = RULES[rule.type](frame[column], rule, ctx)
        out[column] = result.values
        findings += result.findings
        if result.changed.any():
            events += _events(ctx, frame[column], result.changed, result.action,
                              result.entity_type or column.upper(), f"{rule.type}")
        if result.generalized is not None and result.generalized.any():
            events += _events(ctx, frame[column], result.generalized, "generalize", column.upper(), rule.type)
    out, more_findings, more_events = _apply_juvenile(frame, out, name, policy, minors, tokenizer)
    out = pd.DataFrame({c: _as_text(out[c]) for c in out.columns}, index=out.index)
    out[ROW_KEY] = frame[ROW_KEY]
    return out, findings + more_findings, events + more_events


def _apply_juvenile(frame: pd.DataFrame, out: pd.DataFrame, name: str, policy: DatasetPolicy,
                    minors: frozenset[str], tokenizer: Tokenizer
                    ) -> tuple[pd.DataFrame, list[Finding], list[RedactionEvent]]:
    rule = policy.juvenile
    if rule is None or not rule.enabled or not minors:
        return out, [], []
    file_policy = policy.files[name]
    link = file_policy.link_column
    involved = frame[link].isin(minors)
    if not involved.any():
        return out, [], []
    events: list[RedactionEvent] = []
    date_ctx = Context(policy.dataset, file_policy.raw_file, file_policy.date_column, frame[ROW_KEY], tokenizer)
    coarse, _, _ = _format_dates(frame[file_policy.date_column], rule.date_precision, date_ctx)
    out[file_policy.date_column] = out[file_policy.date_column].where(~involved, coarse)
    events += _events(date_ctx, frame[file_policy.date_column], involved & frame[file_policy.date_column].notna(),
                      "generalize", "DATE_TIME", "juvenile.date_precision")
    for ref in rule.withhold:
        ref_file, column = policy.column_ref(ref)
        if ref_file != name:
            continue
        ctx = Context(policy.dataset, file_policy.raw_file, column, frame[ROW_KEY], tokenizer)
        # withheld text reads as such, not as missing (declared in datapackage.json's missingValues)
        replacement = rule.withheld_text if file_policy.columns[column].type in WITHHELD_AS_TEXT else None
        has_value = involved & frame[column].notna()
        out[column] = out[column].where(~involved, replacement).where(~involved | has_value, None)
        events += _events(ctx, frame[column], has_value, "withhold", "JUVENILE_RECORD", "juvenile.withhold")
    finding = Finding(stage="generalize", code="juvenile_rule", severity="info",
                      message="rows of reports involving a minor: ages banded, listed columns withheld, dates coarsened",
                      file=file_policy.raw_file, rule="juvenile", count=int(involved.sum()))
    return out, [finding], events


def generalize(tables: Tables, policy: DatasetPolicy, minors: frozenset[str],
               tokenizer: Tokenizer) -> tuple[Tables, list[Finding], list[RedactionEvent]]:
    frames: dict[str, pd.DataFrame] = {}
    findings: list[Finding] = []
    events: list[RedactionEvent] = []
    for name in policy.files:
        frames[name], found, caused = generalize_file(tables[name], name, policy, minors, tokenizer)
        findings += found
        events += caused
    return Tables(frames), findings, events
