"""Homicide clearance by the FBI method: an exact annual table, one row per year.

Counting rules (``dataset_rules`` of ``redaction_rules/homicide_clearance.yaml``, model
``ClearanceRules``), for each year Y from ``first_year`` to the release year:

- **new homicides**: cases whose death was *ruled* a homicide in Y (``ruled_homicide_date``);
  a death ruled a homicide years later counts in the year of the ruling. A case without a
  readable ruling date is counted by ``occurred_date`` (reported as a warning).
- **cleared**: cases cleared in Y (``cleared_date``), whatever year they occurred. A
  clearance dated before the ruling counts in the ruling's year: a case cannot be a
  cleared homicide before it is a homicide. Split into clearances of homicides new in Y
  and of earlier years, and into arrests and exceptional clearances.
- **clearance rate** = cleared / new x 100, rounded half up to one decimal. It can exceed
  100 (old cases cleared). It is blank when Y has no new homicides (undefined, not zero).

The table is an official statistic without personal attributes and is published exactly
(no noise, no suppression). Victim and suspect fields are raw-only. A cleared date that
cannot be read blocks the release: the clearance could not be put in a year.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from pydantic import Field

from release.config.policy import DatasetPolicy
from release.datasets import DeriveContext, Derived, Note
from release.datasets.common import FrozenRules, aligned, count_text, dataset_rules, finding, parse_dates, unreadable_dates
from release.model import Finding, Severity
from release.stages.publish import PublicFile

FILE = "homicides"
DERIVED_FILES = ("public/{dataset}_{year}_annual.csv",)  # what derive writes (datasets.derived_files)
COLUMNS = ("year", "new_homicides", "cleared", "cleared_of_year", "cleared_of_earlier_years",
           "cleared_by_arrest", "cleared_exceptionally", "clearance_rate_percent")
DESCRIPTIONS = {
    "year": "Calendar year.",
    "new_homicides": ("Deaths ruled a homicide in the year (a death ruled a homicide later counts in "
                      "the year of the ruling)."),
    "cleared": "Homicides cleared in the year, whatever year they occurred.",
    "cleared_of_year": "Of those cleared, homicides counted as new in the same year.",
    "cleared_of_earlier_years": "Of those cleared, homicides counted as new in an earlier year.",
    "cleared_by_arrest": "Of those cleared, cleared by arrest.",
    "cleared_exceptionally": "Of those cleared, cleared by exceptional means.",
    "clearance_rate_percent": ("cleared / new_homicides x 100, one decimal; may exceed 100; blank when "
                               "there were no new homicides."),
}


class ClearanceRules(FrozenRules):
    """Homicide clearance's ``dataset_rules``: the first year of the annual table (one row per year from it to
    the release year)."""

    first_year: int = Field(default=2016, ge=1900, le=2100)


@dataclass(frozen=True)
class CaseYears:
    """Per case: the year it counts as new, and the year it counts as cleared (NA if open)."""

    new: pd.Series
    cleared: pd.Series
    ruled_fallback: pd.Series   # no readable ruling date: counted by occurred_date


def case_years(occurred: pd.Series, ruled: pd.Series, cleared: pd.Series) -> CaseYears:
    """Inputs are datetime64 (NaT when blank); outputs are nullable integer years."""
    fallback = ruled.isna()
    homicide_from = ruled.where(~fallback, occurred)
    counted_cleared = cleared.where(cleared.isna() | (cleared >= homicide_from) | homicide_from.isna(),
                                    homicide_from)
    return CaseYears(homicide_from.dt.year.astype("Int64"), counted_cleared.dt.year.astype("Int64"),
                     fallback.astype(bool))


def clearance_rate(cleared: int, new: int) -> str | None:
    """Percent with one decimal, rounded half up in integer arithmetic; None when new is 0."""
    if new == 0:
        return None
    tenths = (2000 * cleared + new) // (2 * new)
    return f"{tenths // 10}.{tenths % 10}"


def annual_table(years: CaseYears, clearance_type: pd.Series, first_year: int,
                 last_year: int) -> pd.DataFrame:
    rows = []
    for year in range(first_year, last_year + 1):
        new = int((years.new == year).sum())
        cleared = (years.cleared == year).fillna(False).astype(bool)
        of_year = cleared & (years.new == year).fillna(False).astype(bool)
        count = int(cleared.sum())
        rows.append({
            "year": str(year), "new_homicides": count_text(new), "cleared": count_text(count),
            "cleared_of_year": count_text(int(of_year.sum())),
            "cleared_of_earlier_years": count_text(count - int(of_year.sum())),
            "cleared_by_arrest": count_text(int((cleared & (clearance_type == "arrest")).sum())),
            "cleared_exceptionally": count_text(int((cleared & (clearance_type == "exceptional")).sum())),
            "clearance_rate_percent": clearance_rate(count, new)})
    return pd.DataFrame(rows, columns=list(COLUMNS), dtype=object)  # text cells, None for blank


def _data_findings(raw: pd.DataFrame, public: pd.DataFrame, dates: dict[str, pd.Series],
                   years: CaseYears, file: str) -> list[Finding]:
    checks: list[tuple[pd.Series, Severity, str, str]] = [
        (years.new.isna(), "blocking", "ruled_homicide_date",
         "neither a ruling nor an injury date can be read: the case cannot be put in a year"),
        (unreadable_dates(raw["cleared_date"], dates["cleared_date"]), "blocking", "cleared_date",
         "cleared_date present but not a readable date: the clearance cannot be put in a year"),
        (years.ruled_fallback, "warning", "ruled_homicide_date",
         "no readable ruling date: counted as new in the year of occurred_date"),
        ((dates["ruled_homicide_date"] < dates["occurred_date"]).fillna(False), "warning",
         "ruled_homicide_date", "ruled before the injury occurred (counted by the ruling date)"),
        ((dates["cleared_date"] < dates["occurred_date"]).fillna(False), "warning", "cleared_date",
         "cleared before the injury occurred (counted by the cleared date)"),
        (dates["cleared_date"].notna() & public["clearance_type"].isna(), "warning", "clearance_type",
         "cleared without a clearance type: in cleared, in neither arrest nor exceptional"),
        (dates["cleared_date"].isna() & public["clearance_type"].notna(), "warning", "cleared_date",
         "clearance type without a cleared date: counted as open"),
    ]
    return [finding(public, mask.astype(bool), code="case_dates", severity=severity, message=message,
                    file=file, column=column, rule="dataset_rules.fbi_method")
            for mask, severity, column, message in checks if mask.any()]


NOTES = (  # the dataset's notes (``datasets.Note``): the build fills them, the trusted checks hold a manifest to them
    Note("FBI method, {first}-{year}: new homicides are counted in the year the death was ruled a "
         "homicide, so a death ruled a homicide years later counts in the year of the ruling."),
    Note("A homicide is counted as cleared in the year it was cleared, whatever year it occurred; a "
         "clearance dated before the ruling counts in the ruling's year."),
    Note("The clearance rate is cleared / new x 100, rounded half up to one decimal; it can exceed 100 "
         "when cases of earlier years are cleared, and it is blank for a year without new homicides."),
    Note("{year}: {new} new homicide(s), {cleared} cleared ({of_year} of {year}, {of_earlier} of earlier years)."),
    Note("Published exactly, without noise or suppression: the table holds counts of cases and no "
         "victim or suspect attribute."),
    Note("{fallback} case(s) without a readable ruling date are counted by the date of the injury."),
)


def _first_year(policy: DatasetPolicy, year: int) -> int:
    return min(dataset_rules(policy, ClearanceRules).first_year, year)


def note_values(policy: DatasetPolicy, year: int) -> dict[str, object]:
    """The notes' slots the trusted policy gives (``datasets.Note``)."""
    return {"first": _first_year(policy, year)}


def derive(ctx: DeriveContext) -> Derived:
    file = ctx.policy.files[FILE].raw_file
    raw, public = ctx.raw[FILE], ctx.public[FILE]
    aligned(raw, public, file)
    dates = {c: parse_dates(public[c]) for c in ("occurred_date", "ruled_homicide_date", "cleared_date")}
    years = case_years(dates["occurred_date"], dates["ruled_homicide_date"], dates["cleared_date"])
    first = _first_year(ctx.policy, ctx.year)  # the notes' ``first``
    table = annual_table(years, public["clearance_type"], first, ctx.year)
    findings = _data_findings(raw, public, dates, years, file)
    this_year = table.iloc[-1]
    notes = (NOTES[0](first=first, year=ctx.year), NOTES[1](), NOTES[2](),
             NOTES[3](year=ctx.year, new=this_year["new_homicides"], cleared=this_year["cleared"],
                      of_year=this_year["cleared_of_year"], of_earlier=this_year["cleared_of_earlier_years"]),
             NOTES[4](), NOTES[5](fallback=int(years.ruled_fallback.sum())))
    return Derived(files=(public_file(ctx.policy, ctx.dataset, ctx.year, table),), findings=tuple(findings),
                   notes=notes)


def public_file(policy: DatasetPolicy, dataset: str, year: int, frame: pd.DataFrame) -> PublicFile:
    """The derived file as the build publishes it: its data package resource follows from the policy
    alone (``release.audit.public_content`` regenerates it with an empty frame)."""
    first = note_values(policy, year)["first"]
    return PublicFile(
        relpath=DERIVED_FILES[0].format(dataset=dataset, year=year), frame=frame,
        description=f"Homicide clearances by the FBI method, {first}-{year}, one row per year.",
        field_descriptions=DESCRIPTIONS, field_types={c: "integer" for c in COLUMNS[:-1]} |
        {"clearance_rate_percent": "number"}, name="annual_clearance")
