"""Firearms: daily counts by category, every day of the year, counted by the day received.

Counting rule (``dataset_rules`` of ``redaction_rules/firearms.yaml``, model ``FirearmsRules``):

- A firearm is counted once, on the day the Firearms Analysis Unit received it
  (``received_date``), in the column its ``category`` belongs to (``columns``: crime ->
  CrimeGunsRecovered; surrendered and safeguarded -> GunsSurrenderedSafeguarded; buyback
  -> BuybackGunsRecovered). Every category of the policy's codebook belongs to exactly
  one column, so the totals equal the number of firearms received in each category.
- **The 2021 rule, applied to every year.** From 2021 the City counts a firearm in the
  year it was recovered even when it relates to an earlier year's investigation. This
  module applies the same rule to 2020 and earlier: a count by the day received is the
  only one that gives every firearm a real collection day, and a published year never
  changes when a firearm for an old investigation arrives later. (Reproducing the older
  practice would also be impossible here: the loader keeps only rows received up to the
  release year, so a firearm received later for this year's incident is never seen.) The
  firearms received in the year for an earlier year's incident are counted in the notes.
- Every day of the year has a row (zeros included). A firearm that cannot be put on a day
  of the year, or in a column, blocks the release: the totals would be wrong.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from pydantic import Field, field_validator

from release.config.policy import DatasetPolicy, KeepRule
from release.datasets import WORD, DeriveContext, Derived, Note
from release.datasets.common import FrozenRules, aligned, count_text, dataset_rules, finding, parse_dates
from release.errors import ConfigError
from release.model import Finding
from release.stages.publish import PublicFile

FILE = "firearms"
DERIVED_FILES = ("public/{dataset}_{year}_daily_counts.csv",)  # what derive writes (datasets.derived_files)
DATE_COLUMN = "CollectionDate"
DEFAULT_COLUMNS = {"CrimeGunsRecovered": ("crime",),
                   "GunsSurrenderedSafeguarded": ("surrendered", "safeguarded"),
                   "BuybackGunsRecovered": ("buyback",)}
DESCRIPTIONS = {DATE_COLUMN: "Day the Firearms Analysis Unit received the firearms (YYYY-MM-DD).",
                "CrimeGunsRecovered": "Firearms recovered in crimes, received that day.",
                "GunsSurrenderedSafeguarded": "Firearms surrendered or given for safekeeping, received that day.",
                "BuybackGunsRecovered": "Firearms from buyback programmes, received that day."}


class FirearmsRules(FrozenRules):
    """Firearms' ``dataset_rules``: the categories each daily column counts, each category in exactly one column
    (else the totals would be wrong)."""

    columns: dict[str, tuple[str, ...]] = Field(default_factory=lambda: dict(DEFAULT_COLUMNS))

    @field_validator("columns")
    @classmethod
    def _each_category_once(cls, columns: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        listed = [c for categories in columns.values() for c in categories]
        if len(listed) != len(set(listed)):
            raise ValueError("a category is counted in two columns")
        if not columns or any(not categories for categories in columns.values()):
            raise ValueError("every column counts at least one category")
        return columns


def _check_codebook(ctx: DeriveContext, rules: FirearmsRules) -> None:
    rule = ctx.policy.files[FILE].columns["category"]
    listed = {c for categories in rules.columns.values() for c in categories}
    domain = set(rule.domain or ()) if isinstance(rule, KeepRule) else set()
    if domain != listed:
        raise ConfigError("dataset_rules.columns: must list every category of "
                          "files.firearms.columns.category.domain exactly once",
                          file=f"{ctx.dataset}.yaml")


def daily_counts(received: pd.Series, category: pd.Series, columns: dict[str, tuple[str, ...]],
                 year: int) -> pd.DataFrame:
    """One row per day of ``year``; a firearm counts on its (datetime64) received day."""
    days = pd.date_range(date(year, 1, 1), date(year, 12, 31), freq="D")
    out = {DATE_COLUMN: list(days.strftime("%Y-%m-%d"))}
    day = received.dt.normalize()
    for column, categories in columns.items():
        counts = day[category.isin(categories).to_numpy()].value_counts()
        out[column] = [count_text(n) for n in counts.reindex(days, fill_value=0).tolist()]
    return pd.DataFrame(out, dtype=object)


def _not_countable(public: pd.DataFrame, received: pd.Series, year: int,
                   columns: dict[str, tuple[str, ...]], file: str) -> list[Finding]:
    in_year = received.dt.year == year
    listed = [c for categories in columns.values() for c in categories]
    problems = [
        (~in_year.fillna(False).astype(bool), "received_date",
         "received_date is not a day of the release year: the firearm cannot be counted"),
        (~public["category"].isin(listed), "category",
         "category missing or outside the codebook: the firearm would be counted in no column"),
    ]
    return [finding(public, mask, code="firearm_not_countable", severity="blocking", message=message,
                    file=file, column=column, rule="dataset_rules.columns")
            for mask, column, message in problems if mask.any()]


def _consistency(daily: pd.DataFrame, category: pd.Series, columns: dict[str, tuple[str, ...]],
                 file: str) -> list[Finding]:
    """The published totals must equal the number of records in each column's categories."""
    wrong = [column for column, categories in columns.items()
             if sum(int(v) for v in daily[column]) != int(category.isin(categories).sum())]
    return [Finding(stage="derive", code="totals_inconsistent", severity="blocking",
                    message="daily counts do not add up to the firearms of their categories",
                    file=file, column=column, rule="dataset_rules.columns") for column in wrong]


NOTES = (  # the dataset's notes (``datasets.Note``): the build fills them, the trusted checks hold a manifest to them
    Note("{count} firearm(s) received in {year}, each counted once on the day the unit "
         "received it: {totals}. Every day of the year has a row; days without firearms show zeros.",
         {"totals": f"{WORD} [0-9]+(?:, {WORD} [0-9]+)*"}),
    Note("From 2021 the City counts a firearm in the year it was recovered even when it relates to "
         "an earlier year's investigation. This release applies that rule to every year, "
         "{year} included, so a published year never changes when an old case's firearm arrives later."),
    Note("{count} firearm(s) received in {year} relate to an incident of an earlier year and are counted in "
         "{year}; before 2021 the City may have counted such firearms in the incident's year."),
)


def note_words(policy: DatasetPolicy) -> list[str]:
    """The words the notes' slots may hold: the trusted policy's count columns."""
    return list(dataset_rules(policy, FirearmsRules).columns)


def derive(ctx: DeriveContext) -> Derived:
    rules = dataset_rules(ctx.policy, FirearmsRules)
    _check_codebook(ctx, rules)
    file = ctx.policy.files[FILE].raw_file
    raw, public = ctx.raw[FILE], ctx.public[FILE]
    aligned(raw, public, file)
    received = parse_dates(public["received_date"])
    related = parse_dates(public["related_incident_date"])
    daily = daily_counts(received, public["category"], rules.columns, ctx.year)
    findings = _not_countable(public, received, ctx.year, rules.columns, file)
    findings += _consistency(daily, public["category"], rules.columns, file)
    earlier = (related.dt.year < received.dt.year).fillna(False).astype(bool)
    after = (related > received).fillna(False).astype(bool)
    if after.any():
        findings.append(finding(public, after, code="related_after_received", severity="warning",
                                message="related_incident_date after received_date (counted by the "
                                        "day received)", file=file, column="related_incident_date",
                                rule="dataset_rules.received_date"))
    totals = ", ".join(f"{column} {sum(int(v) for v in daily[column])}" for column in rules.columns)
    notes = (NOTES[0](count=len(public), year=ctx.year, totals=totals), NOTES[1](year=ctx.year),
             NOTES[2](count=int(earlier.sum()), year=ctx.year))
    return Derived(files=(public_file(ctx.policy, ctx.dataset, ctx.year, daily),), findings=tuple(findings),
                   notes=notes)


def public_file(policy: DatasetPolicy, dataset: str, year: int, frame: pd.DataFrame) -> PublicFile:
    """The derived file as the build publishes it: its data package resource follows from the policy
    alone (``release.audit.public_content`` regenerates it with an empty frame)."""
    rules = dataset_rules(policy, FirearmsRules)
    return PublicFile(
        relpath=DERIVED_FILES[0].format(dataset=dataset, year=year), frame=frame,
        description=f"Firearms received by the Firearms Analysis Unit in {year}, by day and category.",
        field_descriptions={DATE_COLUMN: DESCRIPTIONS[DATE_COLUMN]} | {
            c: DESCRIPTIONS.get(c, f"Firearms of categories {', '.join(categories)}, received that day.")
            for c, categories in rules.columns.items()},
        field_types={DATE_COLUMN: "date"} | {c: "integer" for c in rules.columns}, name="daily_counts")
