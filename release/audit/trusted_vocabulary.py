"""Does every closed or typed column of the published record-level files hold only what its
trusted rule can publish? (issue #12, round 26)

Part of the trusted-policy check (``release.audit.trusted_records.column_rule_problems``: approve,
publish, the audit and ``verify``). An analyst who holds the release key could copy a paid
bundle, write another value into a ``weather``, ``sex`` or ``race`` cell, a report number or a
date (an exact count, a name), re-hash and bind it again: no raw export is needed to see that
such a value is not one the build writes there. Each published value is read again by the
build's own function for its column's trusted rule (``generalize.published_form``: the
codebook lookup with its spellings, lists, ``Other`` and leading values, the declared pattern,
whole numbers in range, ZIP codes, street names, dates at their precision) and put in portal
form and spreadsheet-safe as the build writes it; a value that does not come back as itself
is not one the rule can publish. Blank is always allowed (the build blanks), and so are the
juvenile rule's withheld text where it withholds the column, the record-risk decades where the
trusted ladder bands an age, and the report pseudonym (``RPT-``) in a report key column.

Not held here: free text (``narrative``, ``free_text``, officers' names: ``audit --raw``
replays them), derived and pseudonym columns (``trusted_records``), a column the trusted
linkage plan coarsens and the juvenile age column (``trusted_records`` holds them to their
bands), and derived files and tables (``release.audit.public_content``).

Messages name the file, column, rule and count of rows; a published value is never repeated.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from release.config.policy import ColumnRule, DatetimeRule, FilePolicy, KeepRule, OfficerRule

if TYPE_CHECKING:
    from release.audit.trusted_release import Trusted

# the rule types whose every published value is one the rule's own function writes
HELD = frozenset({"keep", "integer", "zip", "street_name", "age", "datetime"})


def _held(rule: ColumnRule) -> bool:
    return rule.type in HELD or (isinstance(rule, OfficerRule) and rule.pattern is not None)


def _describe(rule: ColumnRule) -> str:
    if isinstance(rule, KeepRule):
        return f"keep, codebook {', '.join(rule.codebook)}" if rule.codebook else \
            "keep, pattern" if rule.pattern is not None else "keep, domain"
    if isinstance(rule, DatetimeRule):
        return f"datetime, {rule.precision}"
    return str(rule.type)


def _unsafe(value: str) -> str:
    """The cell before the build made it spreadsheet-safe (``cells.safe_cell``)."""
    from release.stages.cells import is_neutralized

    return value[1:] if is_neutralized(value) else value


def _forms(values: list[str], rule: ColumnRule, trusted: Trusted, file_policy: FilePolicy, column: str
           ) -> list[set[object]]:
    """For each published value, the cells the rule writes for it read again (portal form, safe)."""
    from release.bundle.portal import iso_date
    from release.stages.cells import safe_cell
    from release.stages.generalize import Context, published_form

    raw = pd.Series([_unsafe(v) for v in values], dtype=object)
    # no tokenizer: no rule held here makes a keyed value
    ctx = Context(trusted.dataset, file_policy.raw_file, column, pd.Series(range(len(values))),
                  None)  # type: ignore[arg-type]
    if not isinstance(rule, DatetimeRule):
        return [{safe_cell(f)} for f in published_form(raw, rule, ctx)]
    # a date at its column's precision, or coarser (the juvenile rule, the record-risk ladder),
    # in the ISO form of the column's precision (``portal.iso_date``)
    from release.bundle.portal import PRECISIONS

    coarser = PRECISIONS[PRECISIONS.index(rule.precision):]
    made = [published_form(raw, rule.model_copy(update={"precision": p}), ctx) for p in coarser]
    return [{iso_date(form[i], rule.precision)[0] for form in made} for i in range(len(values))]


def _extras(trusted: Trusted, name: str, file_policy: FilePolicy, column: str, rule: ColumnRule
            ) -> tuple[set[str], re.Pattern[str] | None]:
    """What else the build writes in the column, beside the rule's own values and a blank: values,
    and a form."""
    from release.audit.trusted_records import risk_changes_age
    from release.stages.generalize import WITHHELD_AS_TEXT
    from release.stages.juvenile import PUBLIC_KEY_PATTERN

    juvenile = trusted.policy.juvenile
    values: set[str] = set()
    form = None
    if juvenile is not None and juvenile.enabled:
        if column in (file_policy.key_column, file_policy.link_column):
            form = re.compile(PUBLIC_KEY_PATTERN)  # a minor's report published under its pseudonym
        if rule.type in WITHHELD_AS_TEXT and f"{name}.{column}" in juvenile.withhold:
            values.add(juvenile.withheld_text)
    if rule.type == "age" and risk_changes_age(trusted, column)[0]:
        values |= {f"{low}-{low + 9}" for low in range(0, 120, 10)}  # ``record_risk._coarser``: by decade
    return values, form


def _only_pseudonyms(trusted: Trusted, file_policy: FilePolicy, column: str) -> bool:
    from release.stages.juvenile import pseudonymous_keys

    return pseudonymous_keys(trusted.policy) and column in (file_policy.key_column, file_policy.link_column)


def vocabulary_problems(trusted: Trusted, public: Path) -> list[str]:
    """Every published value of a closed or typed column is one its trusted rule can publish."""
    from release.audit.trusted_records import file_name, published
    from release.privacy import linkage

    policy = trusted.policy
    coarsened = linkage.coarsening(trusted.tables)
    juvenile = policy.juvenile
    age_column = juvenile.age_column if juvenile is not None and juvenile.enabled else None
    problems: list[str] = []
    for name, file_policy in sorted(policy.files.items()):
        frame = published(trusted, public, name) if file_policy.publish else None
        if frame is None:
            continue
        for column in file_policy.public_columns():
            rule = file_policy.columns[column]
            if column not in frame.columns or not _held(rule) or column in coarsened.get(name, {}) \
                    or f"{name}.{column}" == age_column:
                continue  # missing: the allow-list check; coarsened or the minors' age: their bands
            values = [v for v in frame[column].dropna().unique() if isinstance(v, str)]
            extra, form = _extras(trusted, name, file_policy, column, rule)
            keys = _only_pseudonyms(trusted, file_policy, column)
            own = [set()] * len(values) if keys else _forms(values, rule, trusted, file_policy, column)
            bad = {v for v, forms in zip(values, own, strict=True)
                   if v not in forms and v not in extra and not (form is not None and form.fullmatch(v))}
            rows = int(frame[column].isin(bad).sum()) if bad else 0
            if rows:
                said = "report pseudonym" if keys else _describe(rule)
                problems.append(f"public file {file_name(trusted, name)}, column {column}: {rows} row(s) hold a "
                                f"value its trusted rule ({said}) cannot publish (rule vocabulary)")
    return problems
