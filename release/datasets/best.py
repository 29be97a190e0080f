"""BEST: the partner's month x district counts become rows for the noisy tables path.

The Boston Emergency Services Team partner sends aggregates only (``best_monthly.csv``:
month, district, co_responded_incidents, proactive_engagements_followups); there is no
client-level data on the police side, and the partner's file is never published
(``publish: false``). Every public number is a noisy table of
``redaction_rules/best_tables.yaml``:

- **Expansion.** Each count becomes that many rows (one per incident, or per engagement or
  follow-up) in ``table_frames["co_responded_incidents"]`` and
  ``table_frames["proactive_engagements_followups"]`` (columns unit_id, month, district).
  ``unit_id`` is a per-row placeholder, so tabulation keeps every row: counting the rows
  gives back the partner's counts exactly, and only OpenDP's noise changes them.
- **Privacy unit: a BEST client.** An incident involves one client; a client may be the
  subject of several incidents and follow-ups in a month. The partner's bounds
  (``dataset_rules``: ``max_incidents_per_client_per_month``,
  ``max_followups_per_client_per_month``) cannot be checked here (no client ids); the
  tables declare them to OpenDP scaled to the year (12 months x N rows, at most N in one
  cell). ``tests/datasets/test_best.py`` checks that the two files agree.
- **Fail closed.** A count that is not a non-negative integer (blanked by the policy's
  ``integer`` rule) or a month that is not ``YYYY-MM`` of the release year blocks: a count
  cannot be guessed. Months of the year without any partner row are reported (their cells
  are zero before noise). Nothing here puts a count in a message or note: the exact totals
  are what the noise protects.

``expand_counts`` is shared with the YouthConnect module (the other partner-aggregate
dataset).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
from pydantic import Field

from release.config.policy import DatasetPolicy
from release.datasets import DeriveContext, Derived, Note
from release.datasets.common import FrozenRules, aligned, dataset_rules, finding
from release.model import ROW_KEY, Finding

FILE = "monthly"
MEASURES = ("co_responded_incidents", "proactive_engagements_followups")
UNIT = "unit_id"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_DIGITS = re.compile(r"[0-9]+")


class BestRules(FrozenRules):
    """The partner's bounds per client (``dataset_rules``): declared to OpenDP, never checked here (the file has
    no client ids)."""

    max_incidents_per_client_per_month: int = Field(ge=1, le=100)
    max_followups_per_client_per_month: int = Field(ge=1, le=100)


def month_in_years(values: pd.Series, first_year: int, last_year: int) -> pd.Series:
    """True where the value is ``YYYY-MM`` with the year in [first_year, last_year]."""
    def ok(value: object) -> bool:
        match = _MONTH.match(value) if isinstance(value, str) else None
        return match is not None and first_year <= int(match.group(1)) <= last_year
    return values.map(ok).astype(bool)


def counts_of(values: pd.Series) -> pd.Series:
    """The policy's ``integer`` rule leaves digits or blank; blank (and anything else) is -1."""
    def count(value: object) -> int:
        return int(value) if isinstance(value, str) and _DIGITS.fullmatch(value) else -1
    return values.map(count).astype(np.int64)


def expand_counts(frame: pd.DataFrame, count_column: str, columns: Sequence[str],
                  unit_prefix: str) -> pd.DataFrame:
    """One row per counted unit: each row of ``frame`` repeated ``count_column`` times.

    ``frame[count_column]`` holds non-negative integers. ``unit_id`` is a placeholder unique
    per row (``<prefix>:<row key>:<n>``): partner aggregates carry no person ids, so the
    contribution bounds are declared from the partner's statements, not enforced here.
    """
    repeats = frame[count_column].to_numpy(dtype=np.int64)
    if (repeats < 0).any():
        raise ValueError("expand_counts needs non-negative counts")
    index = np.repeat(np.arange(len(frame)), repeats)
    out = frame.iloc[index][list(columns)].reset_index(drop=True)
    keys = frame[ROW_KEY].astype(str).to_numpy()[index]
    ordinal = pd.Series(index).groupby(index).cumcount().to_numpy() + 1
    units = pd.Series([f"{unit_prefix}:{k}:{n}" for k, n in zip(keys, ordinal, strict=True)], dtype=object)
    return pd.concat([units.rename(UNIT), out.astype(object)], axis=1)


def unusable_counts(frame: pd.DataFrame, counts: pd.Series, *, file: str, column: str,
                    rule: str) -> list[Finding]:
    bad = counts < 0
    if not bad.any():
        return []
    return [finding(frame, bad, code="count_unusable", severity="blocking",
                    message="a partner count is blank or not a non-negative integer: the table "
                            "cannot be built (a count is never guessed)",
                    file=file, column=column, rule=rule)]


def duplicated_cells(frame: pd.DataFrame, columns: Sequence[str], pooled: Sequence[str] = ()) -> pd.Series:
    """Rows sharing every one of ``columns`` (all known) with another row: a count listed
    twice (e.g. ``A1`` and ``A-1``) would count the same people twice and break the bounds.
    ``pooled`` values of the last column are catch-alls (``Other``) that may repeat."""
    known = frame[list(columns)].notna().all(axis=1) & ~frame[columns[-1]].isin(list(pooled))
    return (frame[list(columns)].duplicated(keep=False) & known).astype(bool)


def months_without_rows(months: pd.Series, year: int, years_back: int = 0) -> int:
    expected = {f"{y:04d}-{m:02d}" for y in range(year - years_back, year + 1) for m in range(1, 13)}
    return len(expected - set(months.dropna()))


NOTES = (  # the dataset's notes (``datasets.Note``): the build fills them, the trusted checks hold a manifest to them
    Note("BEST counts arrive from the partner already aggregated by month and police district; "
         "no client-level data exists on the police side and the partner's file is not published. "
         "Every published number is a noisy table (OpenDP discrete Gaussian, zero-concentrated DP)."),
    Note("Privacy unit: a person (a BEST client here), shared with every dataset that can hold the same "
         "person. The partner states that a client is the subject of at most "
         "{incidents} co-responded incident(s) and {followups} engagement(s) or follow-up(s) a month; "
         "over the year one client can therefore add at most {year_incidents} incidents and "
         "{year_followups} follow-ups, at most {incidents} and {followups} to one cell. These bounds "
         "are the partner's statements (they cannot be checked without client ids) and are declared "
         "to OpenDP as stated: the guarantee holds only if they are true."),
    Note("{rows} partner row(s) (month x district) were expanded into one counting row per "
         "incident and per follow-up; counting them gives back the partner's numbers exactly, before "
         "noise."),
    Note("The citywide monthly series is a separate noisy table, not the sum of the district cells, "
         "so it does not add up to them exactly."),
)


def note_values(policy: DatasetPolicy, year: int) -> dict[str, object]:
    """The notes' slots the trusted policy gives (``datasets.Note``)."""
    rules = dataset_rules(policy, BestRules)
    incidents, followups = rules.max_incidents_per_client_per_month, rules.max_followups_per_client_per_month
    return {"incidents": incidents, "followups": followups, "year_incidents": 12 * incidents,
            "year_followups": 12 * followups}

def derive(ctx: DeriveContext) -> Derived:
    file = ctx.policy.files[FILE].raw_file
    raw, public = ctx.raw[FILE], ctx.public[FILE]
    aligned(raw, public, file)
    findings: list[Finding] = []
    bad_month = ~month_in_years(public["month"], ctx.year, ctx.year)
    if bad_month.any():
        findings.append(finding(public, bad_month, code="month_unreadable", severity="blocking",
                                message=f"month is not YYYY-MM of {ctx.year}: its counts cannot be "
                                        "put in a cell", file=file, column="month",
                                rule="dataset_rules.month"))
    usable = public.loc[~bad_month.to_numpy()]
    twice = duplicated_cells(usable, ("month", "district"))
    if twice.any():
        findings.append(finding(usable, twice, code="cell_listed_twice", severity="blocking",
                                message="two partner rows for one month and district (after spellings "
                                        "are mapped): their people would be counted twice",
                                file=file, column="district", rule="dataset_rules"))
    frames: dict[str, pd.DataFrame] = {}
    for measure in MEASURES:
        counts = counts_of(usable[measure])
        findings += unusable_counts(usable, counts, file=file, column=measure, rule="integer")
        rows = usable.assign(**{measure: counts.clip(lower=0)})
        frames[measure] = expand_counts(rows, measure, ("month", "district"), measure)
    missing = months_without_rows(usable["month"], ctx.year)
    if missing:
        findings.append(Finding(stage="derive", code="months_without_rows", severity="warning",
                                message=f"{missing} month(s) of {ctx.year} have no partner row: their "
                                        "cells are zero before noise", file=file, column="month",
                                rule="dataset_rules", count=missing))
    unknown_district = usable["district"].isna()
    if unknown_district.any():
        findings.append(finding(usable, unknown_district, code="district_unknown", severity="info",
                                message="rows without a district of the codebook: counted under "
                                        "Unknown", file=file, column="district", rule="codebook"))
    notes = (NOTES[0](), NOTES[1](**note_values(ctx.policy, ctx.year)), NOTES[2](rows=len(usable)), NOTES[3]())
    return Derived(table_frames=frames, findings=tuple(findings), notes=notes)
