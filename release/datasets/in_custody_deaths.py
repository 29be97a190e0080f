"""Deaths in custody: the exact annual total, one row per year, zeros written out.

Counting rule (``dataset_rules`` of ``redaction_rules/in_custody_deaths.yaml``, model
``CustodyDeathsRules``): each row of the case file is one death, counted in the calendar
year of ``death_date``. The table has a row for every year from ``first_year`` to the
release year, with an explicit 0 for a year without deaths (a missing row would be read
as "no data", not "none"). The total is published exactly: the department must publish
it, and it carries no attribute of the person. No breakdown is published (by manner of
death, sex, race...): with a few deaths a year nearly every cell would fall under the
small-cell rule (counts 1 to 10 suppressed) and the exact total would give the rest
away. Names, dates of birth, demographics, location and the circumstances text are
raw-only: they reach no public column.
"""

from __future__ import annotations

import pandas as pd
from pydantic import Field

from release.config.policy import DatasetPolicy
from release.datasets import DeriveContext, Derived, Note
from release.datasets.common import FrozenRules, aligned, count_text, dataset_rules, finding, parse_dates
from release.stages.publish import PublicFile

FILE = "deaths"
DERIVED_FILES = ("public/{dataset}_{year}_annual.csv",)  # what derive writes (datasets.derived_files)
COLUMNS = ("year", "deaths")


class CustodyDeathsRules(FrozenRules):
    """Deaths in custody's ``dataset_rules``: the first year of the annual table (one row per year from it to
    the release year)."""

    first_year: int = Field(default=2016, ge=1900, le=2100)


def annual_deaths(death_dates: pd.Series, first_year: int, last_year: int) -> pd.DataFrame:
    """Deaths per calendar year of ``death_dates`` (datetime64), every year present."""
    years = death_dates.dt.year
    return pd.DataFrame({"year": [str(y) for y in range(first_year, last_year + 1)],
                         "deaths": [count_text(int((years == y).sum()))
                                    for y in range(first_year, last_year + 1)]},
                        columns=list(COLUMNS), dtype=object)


NOTES = (  # the dataset's notes (``datasets.Note``): the build fills them, the trusted checks hold a manifest to them
    Note("One row per year {first}-{year}: the number of deaths in custody in the calendar year of "
         "death, exactly; years without a death show 0 ({zero_years}).", {"zero_years": "none|[0-9]+(?:, [0-9]+)*"}),
    Note("No breakdown (manner of death, sex, race, age, place) is published: with a few deaths a year "
         "nearly every cell would be under the small-cell rule (counts 1 to 10 suppressed), and the "
         "exact total would reveal the rest."),
    Note("Names, dates of birth, demographics, location and the account of the circumstances are never "
         "published."),
    Note("{before} death(s) before {first} are in the export and not in the table."),
)


def _first_year(policy: DatasetPolicy, year: int) -> int:
    return min(dataset_rules(policy, CustodyDeathsRules).first_year, year)


def note_values(policy: DatasetPolicy, year: int) -> dict[str, object]:
    """The notes' slots the trusted policy gives (``datasets.Note``)."""
    return {"first": _first_year(policy, year)}


def derive(ctx: DeriveContext) -> Derived:
    file = ctx.policy.files[FILE].raw_file
    raw, public = ctx.raw[FILE], ctx.public[FILE]
    aligned(raw, public, file)
    dates = parse_dates(public["death_date"])
    first = _first_year(ctx.policy, ctx.year)  # the notes' ``first``
    table = annual_deaths(dates, first, ctx.year)
    findings = []
    if dates.isna().any():
        findings.append(finding(public, dates.isna(), code="death_not_countable", severity="blocking",
                                message="death_date is not a readable date: the death cannot be put in a year",
                                file=file, column="death_date", rule="dataset_rules.first_year"))
    before = (dates.dt.year < first).fillna(False).astype(bool)
    zero_years = [str(row.year) for row in table.itertuples() if row.deaths == "0"]  # already text (annual_deaths)
    notes = (NOTES[0](first=first, year=ctx.year, zero_years=", ".join(zero_years) or "none"), NOTES[1](),
             NOTES[2](), NOTES[3](before=int(before.sum()), first=first))
    return Derived(files=(public_file(ctx.policy, ctx.dataset, ctx.year, table),), findings=tuple(findings),
                   notes=notes)


def public_file(policy: DatasetPolicy, dataset: str, year: int, frame: pd.DataFrame) -> PublicFile:
    """The derived file as the build publishes it: its data package resource follows from the policy
    alone (``release.audit.public_content`` regenerates it with an empty frame)."""
    first = note_values(policy, year)["first"]
    return PublicFile(
        relpath=DERIVED_FILES[0].format(dataset=dataset, year=year), frame=frame,
        description=f"Deaths in Boston Police custody, {first}-{year}, one row per year.",
        field_descriptions={"year": "Calendar year of death.",
                            "deaths": "Number of deaths in custody in the year (0 when none)."},
        field_types={"year": "integer", "deaths": "integer"}, name="annual_deaths")
