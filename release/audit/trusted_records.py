"""Do the published record-level files hold the trusted coarsening and juvenile rule? (issue #12)

Part of the trusted-policy check (``release.audit.trusted_release.release_problems``: approve, publish,
the audit and ``verify``). Both checks are allow-lists of what the build can write, read with the
trusted rules, never "anything but a whole number":

* **coarsening** (round 22 nocoarsen, round 24 C-age-*, C-ageband-col): every cell of a column the
  trusted linkage plan coarsens, and of the ``age_band`` column the portal form moves its bands
  to, is one the build writes there: a band (the adult bands of ``release.privacy.linkage``, the juvenile
  rule's) for ``age_band``, blank for ``blank``. ``30-30``, ``thirty``, superscript or full-width
  digits and an exact age in ``age_band`` are not bands.
* **the juvenile rule** (round 24 C-minor-*): a persons row is a minor's when its age is a
  juvenile band, a whole number under ``juvenile.under`` or unknown (blank, as the build writes an
  age it could not read and counts as a minor's). A minor's age is only a juvenile band; every row
  of a report involving one (any published file, by the report link) has the withheld columns
  withheld and its date no finer than ``juvenile.date_precision``.
* **the derived and keyed columns** (round 25 C-pir-age, C-recnum-age): a ``sequence`` column
  (``person_in_report``, ``row_in_report``) is each row's place among its report's rows, 1 to n in
  the file's order, as ``portal.portal_file`` numbers them (the build moves a report's rows
  together, in their order); an identifier published as a keyed pseudonym (``recnum``,
  ``person_id``) is of the pseudonym's form or blank. Neither can carry another value unseen.
  (Free-text cells cannot be regenerated without the raw export: ``audit --raw`` replays them,
  ``release.audit.record_replay``.)
* **the closed and typed columns** (round 26, ``release.audit.trusted_vocabulary``): every value of a
  ``keep``, ``integer``, ``zip``, ``age``, ``street_name``, ``datetime`` or patterned ``officer``
  column is one its trusted rule's own function publishes (rule vocabulary).

Messages name the file, column, count and rule; a published value is never repeated.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from release.config.policy import AgeRule, DatasetPolicy, FilePolicy

if TYPE_CHECKING:
    from release.audit.trusted_release import Trusted

# the precisions a published date can say it has, finest first (``release.bundle.portal``)
PRECISIONS = ("minute", "hour", "day", "month")
# a published date in portal form, split into its parts (``portal.iso_date``)
_ISO = re.compile(r"^\d{4}-\d{2}(?:-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2}))?)?$")
_WHOLE_YEARS = re.compile(r"^(?:0|[1-9][0-9]{0,2})$")  # str(int(n)), as the age rule writes it


def published(trusted: Trusted, public: Path, name: str) -> pd.DataFrame | None:
    from release.audit.trusted_release import published_file

    found = published_file(trusted, public, name)
    return found[1] if found is not None else None


def file_name(trusted: Trusted, name: str) -> str:
    return trusted.policy.files[name].public_file.format(year=trusted.year)


def _derived_bands(file_policy: FilePolicy, column: str) -> list[str]:
    """The ``age_band`` columns the portal form moves ``column``'s bands to."""
    return [c for c, rule in file_policy.columns.items() if rule.type == "age_band" and rule.of == column]


def _carriers(file_policy: FilePolicy, column: str, frame: pd.DataFrame) -> list[str]:
    """The published columns that hold ``column``'s values: itself and its ``age_band``."""
    return [c for c in (column, *_derived_bands(file_policy, column)) if c in frame.columns]


def juvenile_labels(policy: DatasetPolicy) -> set[str]:
    return {band.label for band in policy.juvenile.bands} if policy.juvenile is not None else set()


def _outside(values: Iterable[object], allowed: set[object]) -> int:
    return sum(1 for value in values if value not in allowed)


def coarsening_problems(trusted: Trusted, public: Path) -> list[str]:
    """Each column the trusted linkage plan coarsens holds only what the coarsening writes there."""
    from release.privacy import linkage

    problems: list[str] = []
    for name, columns in sorted(linkage.coarsening(trusted.tables).items()):
        frame = published(trusted, public, name)
        if frame is None:
            continue  # not published: nothing to link
        file_policy = trusted.policy.files[name]
        for column, action in sorted(columns.items()):
            allowed: set[object] = {None}
            if action == "age_band":
                allowed |= set(linkage.ADULT_BAND_LABELS) | juvenile_labels(trusted.policy)
            for carrier in _carriers(file_policy, column, frame):
                outside = _outside(frame[carrier], allowed)
                if outside:
                    problems.append(f"public file {file_name(trusted, name)}, column {carrier}: {outside} value(s) "
                                    f"are not coarsened ({action}) as {trusted.where} requires while its "
                                    "protected table is built (rule linkage.coarsen)")
    return problems


def risk_changes_age(trusted: Trusted, column: str) -> tuple[bool, bool]:
    """Does the trusted record-risk ladder of the bundle's policy band the age column by decades, or
    blank it?"""
    steps = [step for spec in trusted.privacy.record_risk.get(trusted.policy_name, ()) for step in spec.steps
             if step.column == column]
    return any(s.to == "age_band" for s in steps), any(s.to == "blank" for s in steps)


def _age_values(trusted: Trusted, column: str, coarsened: bool) -> tuple[set[str], bool]:
    """The bands the build can write in the age column, and whether whole years may stand there."""
    from release.privacy import linkage

    policy = trusted.policy
    labels = juvenile_labels(policy)
    if coarsened:
        return labels | set(linkage.ADULT_BAND_LABELS), False
    decades, _ = risk_changes_age(trusted, column)
    # ``record_risk._coarser``: an adult's years by decade, "10-19" for an 18-year-old
    return labels | ({f"{low}-{low + 9}" for low in range(10, 120, 10)} if decades else set()), True


def juvenile_problems(trusted: Trusted, public: Path) -> list[str]:
    """The trusted juvenile rule holds in the published files (its ages, withheld columns, dates)."""
    from release.privacy import linkage

    policy, rule = trusted.policy, trusted.policy.juvenile
    if rule is None or not rule.enabled:
        return []
    name, column = policy.column_ref(rule.age_column)
    frame = published(trusted, public, name)
    if frame is None:
        return []
    file_policy = policy.files[name]
    link = file_policy.link_column
    wanted = [c for c in (column, *_derived_bands(file_policy, column), link) if c in file_policy.public_columns()]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:  # who is a minor, or which report is theirs, is no longer in the file: fail closed
        return [f"public file {file_name(trusted, name)}, column {c}: missing, so the trusted juvenile rule cannot be "
                "checked (rule juvenile)" for c in missing]
    carriers = _carriers(file_policy, column, frame)
    coarsened = column in linkage.coarsening(trusted.tables).get(name, {})
    labels = juvenile_labels(policy)
    bands, whole_years = _age_values(trusted, column, coarsened)
    age_rule = file_policy.columns[column]
    most = age_rule.maximum if isinstance(age_rule, AgeRule) and age_rule.maximum is not None else 150

    def years(value: object) -> int | None:
        return int(value) if isinstance(value, str) and _WHOLE_YEARS.match(value) else None

    cells = list(zip(*(frame[c] for c in carriers), strict=True))
    _, blanked = risk_changes_age(trusted, column)
    young = [any((y := years(v)) is not None and y < rule.under for v in row) for row in cells]
    banded = [any(v in labels for v in row) for row in cells]
    unknown = [not blanked and all(v is None for v in row) for row in cells]
    minor = pd.Series([a or b or c for a, b, c in zip(young, banded, unknown, strict=True)], index=frame.index)
    where = f"public file {file_name(trusted, name)}"
    problems: list[str] = []
    if not coarsened:  # the coarsening check holds a coarsened age column to its bands
        def allowed(value: object) -> bool:
            y = years(value)
            return value is None or value in bands or (whole_years and y is not None and rule.under <= y <= most)
        for carrier in carriers:
            outside = sum(1 for value in frame[carrier] if not allowed(value))
            if outside:
                problems.append(f"{where}, column {carrier}: {outside} value(s) are not an age the build writes "
                                f"(whole years from {rule.under}, or an age band) under the trusted juvenile rule "
                                "(rule juvenile.bands)")
    for carrier in carriers:
        adult = sum(1 for value, is_minor in zip(frame[carrier], minor, strict=True)
                    if is_minor and value is not None and value not in labels)
        if adult:
            problems.append(f"{where}, column {carrier}: {adult} row(s) of a minor hold an age that is not a "
                            "juvenile band (rule juvenile.bands)")
    reports = set(frame.loc[minor.to_numpy(), link].dropna()) if link in frame.columns else set()
    return problems + (_report_problems(trusted, public, reports) if reports else [])


def _report_problems(trusted: Trusted, public: Path, reports: set[object]) -> list[str]:
    """Every published row of a report involving a minor: withheld columns withheld, dates no finer
    than the juvenile precision."""
    from release.stages.generalize import WITHHELD_AS_TEXT

    policy, rule = trusted.policy, trusted.policy.juvenile
    assert rule is not None
    coarse_enough = set(PRECISIONS[PRECISIONS.index(rule.date_precision):])
    problems: list[str] = []
    for name, file_policy in sorted(policy.files.items()):
        frame = published(trusted, public, name)
        link = file_policy.link_column
        if frame is None or link not in frame.columns:
            continue
        rows = frame[frame[link].isin(reports)]
        where = f"public file {file_name(trusted, name)}"
        for ref in rule.withhold:
            ref_file, column = policy.column_ref(ref)
            if ref_file != name or column not in rows.columns:
                continue
            marker = rule.withheld_text if file_policy.columns[column].type in WITHHELD_AS_TEXT else None
            shown = _outside(rows[column], {None, marker})
            if shown:
                problems.append(f"{where}, column {column}: {shown} row(s) of reports involving a minor are not "
                                "withheld (rule juvenile.withhold)")
        date = file_policy.date_column
        stated = [c for c, r in file_policy.columns.items()
                  if r.type == "date_precision" and r.of == date and c in rows.columns]
        dates = rows[date] if date in rows.columns else pd.Series(None, index=rows.index, dtype=object)
        says = rows[stated[0]] if stated else pd.Series(None, index=rows.index, dtype=object)
        finer = sum(1 for value, precision in zip(dates, says, strict=True)
                    if not _no_finer(value, rule.date_precision) or precision not in {None, *coarse_enough})
        if finer:
            problems.append(f"{where}, column {date}: {finer} row(s) of reports involving a minor give the date "
                            f"finer than the juvenile precision ({rule.date_precision}) (rule juvenile.date_precision)")
    return problems


def _no_finer(value: object, precision: str) -> bool:
    """A published date (portal form) that says nothing finer than ``precision``: the start of its
    period in every finer part."""
    if value is None:
        return True
    match = _ISO.match(value) if isinstance(value, str) else None
    if match is None:
        return False
    day, *clock = match.groups()
    midnight = all(part in (None, "00") for part in clock)
    return midnight and (precision == "day" or day in (None, "01"))


def column_rule_problems(trusted: Trusted, public: Path) -> list[str]:
    """Each ``sequence`` column numbers its report's rows 1..n in the file's order; each pseudonym
    column holds only the pseudonym's form or a blank; each closed or typed column only what its rule
    publishes (``release.audit.trusted_vocabulary``)."""
    from release.audit.trusted_vocabulary import vocabulary_problems
    from release.bundle.portal import sequence_numbers
    from release.stages.pseudonyms import pseudonym_columns

    problems: list[str] = []
    for name, file_policy in sorted(trusted.policy.files.items()):
        frame = published(trusted, public, name) if file_policy.publish else None
        if frame is None:
            continue
        where = f"public file {file_name(trusted, name)}"
        for column, rule in file_policy.columns.items():
            if rule.type != "sequence" or column not in frame.columns:
                continue
            of = rule.of
            if of not in frame.columns:
                problems.append(f"{where}, column {column}: its report column {of} is missing, so the numbering "
                                "cannot be checked (rule sequence)")
                continue
            expected = sequence_numbers(frame, of)
            wrong = sum(1 for value, want in zip(frame[column], expected, strict=True) if value != want)
            if wrong:
                problems.append(f"{where}, column {column}: {wrong} row(s) are not the row's place among its "
                                f"report's rows (1 to n in the file's order) as the build numbers them (rule sequence)")
    for name, column, rule in pseudonym_columns(trusted.policy):
        frame = published(trusted, public, name)
        if frame is None or column not in frame.columns:
            continue
        form = re.compile(rule.public_pattern)
        wrong = sum(1 for value in frame[column] if value is not None and not form.fullmatch(str(value)))
        if wrong:
            problems.append(f"public file {file_name(trusted, name)}, column {column}: {wrong} value(s) are not of "
                            f"the pseudonym's form ({rule.prefix} and 16 hex digits) or blank (rule pseudonym)")
    return problems + vocabulary_problems(trusted, public) + order_problems(trusted, public)


def order_problems(trusted: Trusted, public: Path) -> list[str]:
    """Under pseudonymous report keys, the reports of each record file in the order the build writes
    them (``juvenile.publish_keys``): each report's rows together, and the reports by (published date
    of the report's first row, as text; pseudonym), with no two reports sharing both (round 38, F1:
    reports swapped in an edited copy, re-bound with the release key, carried log2(k!) bits for k
    reports past every check but the raw replay). The order of one report's rows comes from the raw
    export, so only ``audit --raw`` and ``approve --raw`` hold it."""
    from release.stages.juvenile import pseudonymous_keys

    if not pseudonymous_keys(trusted.policy):
        return []
    problems: list[str] = []
    for name, file_policy in sorted(trusted.policy.files.items()):
        frame = published(trusted, public, name) if file_policy.publish else None
        link, date = file_policy.link_column, file_policy.date_column
        if frame is None or link not in frame.columns:
            continue
        keys = ["" if not isinstance(v, str) else v for v in frame[link]]
        dates = ["" if not isinstance(v, str) else v for v in frame[date]] if date in frame.columns else [""] * len(keys)
        runs: list[tuple[str, str]] = []  # (first row's date, key) of each run of rows of one report, in file order
        for index, key in enumerate(keys):
            if index == 0 or key != keys[index - 1]:
                runs.append((dates[index], key))
        split = len(runs) - len({key for _, key in runs})
        unordered = sum(1 for before, after in pairwise(runs) if not before < after)
        where = f"public file {file_name(trusted, name)}"
        if split:
            problems.append(f"{where}, column {link}: {split} report(s) have rows apart from each other; the build "
                            "writes a report's rows together (rule row-order)")
        elif unordered:
            problems.append(f"{where}: {unordered} report(s) are out of the order the build writes them in (published "
                            f"date of the report's first row, then its pseudonym in {link}) (rule row-order)")
    return problems
