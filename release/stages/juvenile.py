"""Which records involve a minor, by the dataset's juvenile rule, failing closed.

A report involves a minor when any person row linked to it is, or may be, under
``juvenile.under``. The age comes from the date of birth when one can be read (it wins over
the age column: "16" typed for a 21-year-old, or "0"); otherwise from the age column when
it is a clean whole number within the age rule's range. A row with neither ("16.0", "17
yrs", a blank, -3) counts as a minor, and the report says so: publishing the narrative,
street and hour of an unknown-age child is the failure this rule exists to prevent. The
decision is made once here so that redaction can skip withheld narratives and
generalization can band ages and withhold the listed columns.

A juvenile report's date is coarsened to the month, but report numbers are sequential by
date: ``FC20001234`` between two neighbours whose full dates are published gives the day
back, and so does its place in a file sorted by report; and once the minors' reports carry a
pseudonym, every gap in the other reports' public sequence is one of them. So when the policy
has juvenile protection, every report is published under a keyed pseudonymous report number
(``public_report_key``: ``RPT-`` and 16 hex digits of an HMAC of a purpose label, the dataset
and the report number under the value-token key, the same in both files so persons still link
to contacts), and the rows are ordered by (published date as text, pseudonym): a row's key and
place tell nothing beyond its published date (``publish_keys``). A policy with
``public_keys: source`` keeps the source's numbers for the other reports; the juvenile ones
are then published under their pseudonym after every other row (``publish_apart``), and the
packet warns that gaps in the sequence give their dates back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from release.config.policy import AgeRule, DatasetPolicy, FilePolicy
from release.errors import ReleaseError
from release.keys.hmac import Tokenizer
from release.model import Tables
from release.pii.terms import parse_date
from release.stages.dates import DateParts, read_date

PUBLIC_KEY_PREFIX = "RPT-"
PUBLIC_KEY_PATTERN = r"RPT-[0-9A-F]{16}"
_KEY_PURPOSE = "release public report key"


def parse_age(values: pd.Series) -> pd.Series:
    """Whole years as a nullable integer; anything not a plain integer is missing."""
    text = values.astype("string").str.strip()
    numeric = text.where(text.str.fullmatch(r"-?\d{1,3}", na=False))
    return pd.to_numeric(numeric, errors="coerce").astype("Int64")


@dataclass(frozen=True)
class Ages:
    """The age of each row of the age column's file, as the juvenile rule and the public file use it."""

    years: pd.Series       # Int64: whole years at the row's date, <NA> when unknown
    from_dob: pd.Series    # bool: computed from the date of birth
    differs: pd.Series     # bool: from the date of birth, and the age column said something else
    unknown: pd.Series     # bool: no usable date of birth and no clean age in range: counts as a minor


def _age_on(born: date | None, when: DateParts | None) -> int | None:
    if born is None or when is None or when.month is None or when.day is None:
        return None
    return when.year - born.year - ((when.month, when.day) < (born.month, born.day))


def read_ages(frame: pd.DataFrame, policy: DatasetPolicy) -> Ages:
    """Every row's age in the age column's file (``frame`` is that file's loaded table)."""
    rule = policy.juvenile
    assert rule is not None
    file, column = policy.column_ref(rule.age_column)
    age_rule = policy.files[file].columns[column]
    low, high = (age_rule.minimum, age_rule.maximum) if isinstance(age_rule, AgeRule) else (0, 150)
    stated = parse_age(frame[column])
    stated = stated.where((stated >= low) & (stated <= high))
    from_dob = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    if rule.dob_column is not None:
        dob_column = policy.column_ref(rule.dob_column)[1]
        dates = frame[policy.files[file].date_column]
        # each distinct date read once (a year has a few hundred contact dates)
        births = {v: parse_date(v) for v in frame[dob_column].dropna().unique() if isinstance(v, str)}
        days = {v: read_date(v) for v in dates.dropna().unique() if isinstance(v, str)}
        computed = [_age_on(births.get(born) if isinstance(born, str) else None,
                            days.get(on) if isinstance(on, str) else None)
                    for born, on in zip(frame[dob_column], dates, strict=True)]
        from_dob = pd.Series([a if a is not None and low <= a <= high else pd.NA for a in computed],
                             index=frame.index, dtype="Int64")
    has_dob = from_dob.notna().astype(bool)
    years = from_dob.where(has_dob, stated)
    differs = has_dob & (stated != from_dob).fillna(True).astype(bool)
    return Ages(years, has_dob, differs, years.isna().astype(bool))


def minor_rows(ages: Ages, policy: DatasetPolicy) -> pd.Series:
    """Rows of a person who is, or may be, a minor (an unknown age counts as one)."""
    assert policy.juvenile is not None
    return (ages.unknown | (ages.years < policy.juvenile.under).fillna(False)).astype(bool)


def minor_keys(tables: Tables, policy: DatasetPolicy) -> frozenset[str]:
    """Values of the parent link (e.g. ``fc_num``) of every record involving a minor."""
    rule = policy.juvenile
    if rule is None or not rule.enabled:
        return frozenset()
    file, _ = policy.column_ref(rule.age_column)
    frame = tables[file]
    link = policy.files[file].parent
    key_column = link.column if link else policy.files[file].key_column
    return frozenset(frame.loc[minor_rows(read_ages(frame, policy), policy), key_column].dropna())


def age_band(age: int, policy: DatasetPolicy) -> str:
    assert policy.juvenile is not None
    for band in policy.juvenile.bands:
        if age <= band.maximum:
            return band.label
    return policy.juvenile.bands[-1].label


def pseudonymous_keys(policy: DatasetPolicy) -> bool:
    """Every report of this policy's public files is published under its pseudonym."""
    return policy.juvenile is not None and policy.juvenile.enabled and policy.public_keys == "pseudonym"


def public_report_key(report: str, dataset: str, tokenizer: Tokenizer) -> str:
    """The pseudonymous report number a report is published under: keyed (the value-token key,
    per dataset and year, with its own purpose label), so it cannot be recomputed from the
    (short, sequential) report numbers without the key; one form for every report."""
    return PUBLIC_KEY_PREFIX + tokenizer.token(f"{_KEY_PURPOSE}|{dataset}|{report}")[:16].upper()


def _pseudonymized(frame: pd.DataFrame, file_policy: FilePolicy, rows: pd.Series, dataset: str,
                   tokenizer: Tokenizer) -> pd.DataFrame:
    """``frame`` with the key (and link) of the ``rows`` replaced by their pseudonyms."""
    out = frame.copy()
    for column in dict.fromkeys([file_policy.link_column, file_policy.key_column]):
        if column in out.columns:
            values = out[column].astype(object)
            keys = {v: public_report_key(v, dataset, tokenizer) for v in values[rows].dropna().unique()
                    if isinstance(v, str)}
            if len(set(keys.values())) != len(keys):  # 64 bits: never in practice, but never silently
                raise ReleaseError("two report numbers share a public pseudonym", column=column,
                                   rule="public-keys")
            out[column] = values.where(~rows, values.map(lambda v, keys=keys: keys.get(v, v)))
    return out


def publish_keys(frame: pd.DataFrame, file_policy: FilePolicy, dataset: str, tokenizer: Tokenizer) -> pd.DataFrame:
    """Every report under its pseudonym, rows ordered by (published date as text, pseudonym).
    A report's rows stay together in their order (the audit numbers them as load does): the
    date that orders them is the published date of the report's first row."""
    link = file_policy.link_column
    if link not in frame.columns:
        return frame
    out = _pseudonymized(frame, file_policy, pd.Series(True, index=frame.index), dataset, tokenizer)
    date = file_policy.date_column
    order = pd.DataFrame({
        "date": [v if isinstance(v, str) else "" for v in out[date]] if date in out.columns else "",
        "key": [v if isinstance(v, str) else "" for v in out[link]],
        "position": range(len(out))})
    order["date"] = order.groupby("key", sort=False)["date"].transform("first")
    return out.iloc[order.sort_values(["date", "key", "position"], kind="stable")["position"].to_numpy()]


def publish_apart(frame: pd.DataFrame, file_policy: FilePolicy, minors: frozenset[str], dataset: str,
                  tokenizer: Tokenizer) -> tuple[pd.DataFrame, int]:
    """Source keys (``public_keys: source``): the public frame with each juvenile report's key
    (and link) replaced by its pseudonym and its rows moved after all others, ordered by
    pseudonym; and how many rows moved."""
    link = file_policy.link_column
    if not minors or link not in frame.columns:
        return frame, 0
    involved = frame[link].isin(minors).astype(bool)
    if not involved.any():
        return frame, 0
    out = _pseudonymized(frame, file_policy, involved, dataset, tokenizer)
    apart = out.loc[involved].sort_values(link, kind="stable")  # ordered by pseudonym only
    return pd.concat([out.loc[~involved], apart]), int(involved.sum())
