"""YouthConnect: the partner's aggregate files become rows for the noisy tables path.

The partner sends three aggregate files under HIPAA and juvenile protections (referrals by
reason and month, distinct youth referred by month, client demographics by year); none is
record-level and none is ever published (``publish: false``). Every public number is a
noisy table of ``redaction_rules/youthconnect_tables.yaml``:

- **Expansion.** Each count becomes that many rows with a placeholder ``unit_id`` (see
  ``release.datasets.best.expand_counts``): ``referrals`` (one row per youth referred in a
  month: month; the release year and the two before, the loader's window), ``reasons``
  (one row per youth and reason: month, referral_reason; the release year and the one
  before) and ``clients`` (one row per client of the release year: age_band, sex, race,
  ethnicity). Tabulation keeps every row, so counts before noise equal the partner's.
- **Privacy unit: a person**, shared with every dataset that can hold the same human
  (``redaction_rules/privacy.yaml``). The partner's bounds (``dataset_rules``:
  ``max_reasons_per_youth``, ``max_referral_months_per_youth_per_year``) are declared to
  OpenDP per calendar year (``tests/datasets/test_youthconnect.py`` checks the two files
  agree); the guarantee is conditional on them. Each year is measured once and stored; a
  window re-uses the stored years (``per_year`` in the tables file).
- **The partner's own numbers test its bound.** In a month, each referred youth carries
  between one and ``max_reasons_per_youth`` reasons, so the reasons counted must lie
  between the youth referred and ``max_reasons_per_youth`` times that. Above it, the
  declared bound is false and the noise would be too small: the release is blocked. Below
  it (a youth without a reason), a warning.
- **Fail closed.** A blank or non-integer count, or a month or year outside the file's
  window, blocks. Months without a row, and windows reaching before the partner's
  ``first_year``, are warnings (their cells are zero before noise). No message or note
  carries a count of youth: the exact numbers are what the noise protects.
"""

from __future__ import annotations

import re

import pandas as pd
from pydantic import Field

from release.config.policy import DatasetPolicy
from release.datasets import DeriveContext, Derived, Note
from release.datasets.best import counts_of, duplicated_cells, expand_counts, month_in_years, months_without_rows, unusable_counts
from release.datasets.common import FrozenRules, aligned, dataset_rules, finding
from release.model import Finding, Severity

REFERRALS, TOTALS, DEMOGRAPHICS = "referrals", "referral_totals", "demographics"
DEMOGRAPHIC_COLUMNS = ("age_band", "sex", "race", "ethnicity")
_YEAR = re.compile(r"^\d{4}$")


class YouthConnectRules(FrozenRules):
    """The partner's bounds per youth (declared to OpenDP, tested against the partner's own numbers) and the
    first year the partner has data for."""

    max_reasons_per_youth: int = Field(ge=1, le=20)
    max_referral_months_per_youth_per_year: int = Field(ge=1, le=12)
    first_year: int = Field(default=2016, ge=1990, le=2100)


def _checked(ctx: DeriveContext, name: str, count_column: str, period_ok: pd.Series,
             period_column: str, period: str, cell: tuple[str, ...] = ()) -> tuple[pd.DataFrame, list[Finding]]:
    """Rows with a usable period, their counts as integers (unusable counts -> 0 and a
    blocking finding); a ``cell`` listed twice blocks."""
    file = ctx.policy.files[name].raw_file
    raw, public = ctx.raw[name], ctx.public[name]
    aligned(raw, public, file)
    findings: list[Finding] = []
    if (~period_ok).any():
        findings.append(finding(public, ~period_ok, code="period_unreadable", severity="blocking",
                                message=f"{period_column} is not {period}: its counts cannot be put "
                                        "in a cell", file=file, column=period_column,
                                rule=f"files.{name}.years_before"))
    usable = public.loc[period_ok.to_numpy()]
    twice = duplicated_cells(usable, cell, pooled=("Other",)) if cell else pd.Series(False, index=usable.index)
    if twice.any():
        findings.append(finding(usable, twice, code="cell_listed_twice", severity="blocking",
                                message="two partner rows for one cell (after spellings are mapped): "
                                        "their youth would be counted twice", file=file,
                                column=cell[-1], rule=f"files.{name}"))
    counts = counts_of(usable[count_column])
    findings += unusable_counts(usable, counts, file=file, column=count_column, rule="integer")
    return usable.assign(**{count_column: counts.clip(lower=0)}), findings


def bound_check(reasons: pd.DataFrame, totals: pd.DataFrame, max_reasons: int, year: int,
                file: str) -> list[Finding]:
    """Months of the reasons window where the partner's counts contradict its bound."""
    months = [f"{y:04d}-{m:02d}" for y in (year - 1, year) for m in range(1, 13)]
    counted = reasons.groupby("month")["referrals"].sum().reindex(months, fill_value=0)
    youth = totals.groupby("month")["youth_referred"].sum().reindex(months, fill_value=0)
    over = counted > max_reasons * youth
    under = counted < youth
    findings = []
    checks: tuple[tuple[pd.Series, str, Severity, str], ...] = (
        (over, "reasons_outside_bound", "blocking",
         f"months whose reasons counted exceed max_reasons_per_youth ({max_reasons}) x youth referred: "
         "the declared contribution bound is false there (a month missing from the totals has no youth)"),
        (under, "reasons_below_youth", "warning",
         "months with fewer reasons counted than youth referred (a youth without a reason)"))
    for mask, code, severity, message in checks:
        if mask.any():
            findings.append(Finding(stage="derive", code=code, severity=severity,
                                    message=message, file=file, column="referrals",
                                    rule="dataset_rules.max_reasons_per_youth", count=int(mask.sum()),
                                    row_keys=tuple(counted.index[mask.to_numpy()][:20])))
    return findings


def _coverage(ctx: DeriveContext, rules: YouthConnectRules, referrals: pd.DataFrame,
              totals: pd.DataFrame, clients: pd.DataFrame) -> list[Finding]:
    findings = []
    for name, frame, years_back in ((REFERRALS, referrals, 1), (TOTALS, totals, 2)):
        missing = months_without_rows(frame["month"], ctx.year, years_back)
        if missing:
            findings.append(Finding(
                stage="derive", code="months_without_rows", severity="warning",
                message=f"{missing} month(s) of {ctx.year - years_back}-{ctx.year} have no partner "
                        "row: their cells are zero before noise", file=ctx.policy.files[name].raw_file,
                column="month", rule=f"files.{name}.years_before", count=missing))
    if clients.empty:
        findings.append(Finding(
            stage="derive", code="year_without_rows", severity="warning",
            message=f"no client demographics for {ctx.year}: every cell is zero before noise",
            file=ctx.policy.files[DEMOGRAPHICS].raw_file, column="year", rule="files.demographics"))
    if ctx.year - 2 < rules.first_year:
        findings.append(Finding(
            stage="derive", code="window_before_first_year", severity="warning",
            message=f"the monthly window starts before the partner's first year {rules.first_year}: "
                    "those months are zero before noise", column="month",
            file=ctx.policy.files[TOTALS].raw_file, rule="dataset_rules.first_year"))
    return findings


NOTES = (  # the dataset's notes (``datasets.Note``): the build fills them, the trusted checks hold a manifest to them
    Note("YouthConnect numbers arrive from the partner already aggregated (referrals by reason and "
         "month, youth referred by month, client demographics by year); nothing is record-level and "
         "the partner's files are not published. Every published number is a noisy table (OpenDP "
         "discrete Gaussian, zero-concentrated DP)."),
    Note("Privacy unit: a person (a youth here), shared with every dataset that can hold the same person. "
         "The partner states that a referred youth carries at most {reasons} reason(s) and is referred in "
         "at most {months} month(s) of a year: in one year a youth adds at most {months} to the referral "
         "counts and {reason_counts} reason counts, at most {months} to one reason. These bounds are "
         "declared to OpenDP as stated and cannot be checked here: the guarantee holds only if they are true."),
    Note("Each calendar year is measured once and stored: the {first}-{year} monthly window and the "
         "{previous}-{year} reasons window re-use the years an earlier release measured (a month is never "
         "measured twice unless the partner's numbers for it changed, which is a new, charged measurement)."),
    Note("In every month of {previous}-{year} the reasons counted were checked against the youth "
         "referred: at least one and at most {reasons} per youth (a breach blocks the release)."),
    Note("Client demographics are those of {year}; a client who stays more than a year is counted in "
         "each year's release, and the privacy ledger adds up what every release spends for the same "
         "person, so the cap holds over all years and datasets."),
    Note("{rows} partner row(s) were expanded into one counting row per youth (or youth and reason); "
         "counting them gives back the partner's numbers exactly, before noise."),
)


def note_values(policy: DatasetPolicy, year: int) -> dict[str, object]:
    """The notes' slots the trusted policy gives (``datasets.Note``)."""
    rules = dataset_rules(policy, YouthConnectRules)
    reasons, months = rules.max_reasons_per_youth, rules.max_referral_months_per_youth_per_year
    return {"reasons": reasons, "months": months, "reason_counts": months * reasons, "first": year - 2,
            "previous": year - 1, "year": year}


def _notes(policy: DatasetPolicy, year: int, rows: int) -> tuple[str, ...]:
    given = note_values(policy, year)
    return (NOTES[0](), NOTES[1](**given), NOTES[2](**given), NOTES[3](**given), NOTES[4](**given),
            NOTES[5](rows=rows))


def derive(ctx: DeriveContext) -> Derived:
    rules = dataset_rules(ctx.policy, YouthConnectRules)
    year = ctx.year
    referrals, findings = _checked(ctx, REFERRALS, "referrals",
                                   month_in_years(ctx.public[REFERRALS]["month"], year - 1, year),
                                   "month", f"YYYY-MM of {year - 1}-{year}", ("month", "referral_reason"))
    totals, found = _checked(ctx, TOTALS, "youth_referred",
                             month_in_years(ctx.public[TOTALS]["month"], year - 2, year),
                             "month", f"YYYY-MM of {year - 2}-{year}", ("month",))
    findings += found
    years = ctx.public[DEMOGRAPHICS]["year"]
    demographics, found = _checked(ctx, DEMOGRAPHICS, "clients",
                                   years.map(lambda v: isinstance(v, str) and bool(_YEAR.match(v))
                                             and int(v) == year).astype(bool),
                                   "year", f"the year {year} (YYYY)")
    findings += found
    findings += bound_check(referrals, totals, rules.max_reasons_per_youth, year,
                            ctx.policy.files[REFERRALS].raw_file)
    frames = {
        "referrals": expand_counts(totals, "youth_referred", ("month",), "referral"),
        "reasons": expand_counts(referrals, "referrals", ("month", "referral_reason"), "reason"),
        "clients": expand_counts(demographics, "clients", DEMOGRAPHIC_COLUMNS, "client"),
    }
    findings += _coverage(ctx, rules, referrals, totals, frames["clients"])
    rows = len(referrals) + len(totals) + len(demographics)
    return Derived(table_frames=frames, findings=tuple(findings), notes=_notes(ctx.policy, year, rows))
