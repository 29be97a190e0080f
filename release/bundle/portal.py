"""Public files in the form an open-data portal can type, and the schema that types them.

Why: a portal (CKAN, Socrata) guesses column types from the values and a frictionless
validator checks them against ``datapackage.json``. A column that mixes ``2020-01-01 12:00``
with ``2020-01``, or ``21`` with ``16-17``, is read as text. So, after every stage that
coarsens values (the juvenile rule, a dataset's k-anonymity), ``portal_form`` writes each
published date in one ISO 8601 form per column (the start of its period where it was
coarsened) and fills the policy's derived columns: the precision of each date
(``date_precision``), the band of a banded age (``age_band``, the age itself then blank) and a
row's position among its report's rows (``sequence``). Derived columns say how coarse a value
is or repeat what the file's order shows: they add no detail.

``field_descriptor`` gives each public column its Table Schema field from its column rule;
``package_properties`` the package's license, sources, privacy statement and the
change note against the City's current files.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from release.bundle.layout import resource_name
from release.bundle.manifest_recorded import Recorded
from release.config.column_rules import DERIVED_RULES
from release.config.policy import DatasetPolicy, FilePolicy, pseudonym_scope
from release.model import Tables

PRECISIONS = ("minute", "hour", "day", "month")
# The City's portal license (Analyze Boston publishes under the ODC Public Domain Dedication
# and License); a policy's ``portal.license`` replaces it.
DEFAULT_LICENSE = {"name": "ODC-PDDL-1.0", "path": "https://opendatacommons.org/licenses/pddl/1-0/",
                   "title": "Open Data Commons Public Domain Dedication and License v1.0"}


def _parts(value: object) -> tuple[str, str, str | None, str | None, str | None] | None:
    """(year, month, day, hour, minute) of a published date (``YYYY-MM``, ``YYYY-MM-DD`` or
    ``YYYY-MM-DD HH:MM``, as the datetime rule writes them), None for anything else."""
    if not isinstance(value, str):
        return None
    date, _, time = value.strip().partition(" ")
    fields = date.split("-")
    if len(fields) not in (2, 3) or not all(f.isdigit() for f in fields):
        return None
    hour, minute = (time.split(":") + [None])[:2] if time else (None, None)
    return fields[0], fields[1], fields[2] if len(fields) == 3 else None, hour, minute


def iso_date(value: object, precision: str) -> tuple[str | None, str | None]:
    """A published date in the ISO 8601 form of its column's ``precision`` (the start of its
    period where it is coarser), and how precise the value itself is."""
    parts = _parts(value)
    if parts is None:
        return None, None
    year, month, day, hour, minute = parts
    own = "month" if day is None else "day" if hour is None else precision
    if precision == "month":
        return f"{year}-{month}", "month"
    if precision == "day":
        return f"{year}-{month}-{day or '01'}", own
    return f"{year}-{month}-{day or '01'}T{hour or '00'}:{minute or '00'}:00", own


def portal_file(frame: pd.DataFrame, file_policy: FilePolicy, policy: DatasetPolicy) -> pd.DataFrame:
    """One public frame (public columns and internal ones) with dates in ISO 8601 and the
    derived columns filled; values are text or None like every public cell."""
    out = frame.copy()
    precision_of: dict[str, pd.Series] = {}
    for column, rule in file_policy.columns.items():
        if rule.type == "datetime" and column in out.columns:
            pairs = [iso_date(v, rule.precision) for v in out[column].tolist()]
            out[column] = pd.Series([p[0] for p in pairs], index=out.index, dtype=object)
            precision_of[column] = pd.Series([p[1] for p in pairs], index=out.index, dtype=object)
    bands = _band_labels(policy)
    for column, rule in file_policy.columns.items():
        if not isinstance(rule, DERIVED_RULES):
            continue
        of = rule.of
        if rule.type == "date_precision":
            out[column] = precision_of[of]
        elif rule.type == "age_band":
            banded = out[of].isin(bands).astype(bool)
            out[column] = out[of].where(banded, None).astype(object)
            out[of] = out[of].where(~banded, None).astype(object)
        elif rule.type == "sequence":
            out[column] = sequence_numbers(out, of).astype(object)
    return out


def sequence_numbers(frame: pd.DataFrame, of: str) -> pd.Series:
    """Each row's place (1, 2, ...) among the rows of its ``of`` (its report), in file order, as text:
    what a ``sequence`` column publishes, and what the trusted check holds it to."""
    return (frame.groupby(frame[of].fillna("\x00"), sort=False).cumcount() + 1).map(str)


def _band_labels(policy: DatasetPolicy) -> set[str]:
    """The age bands an age column may hold: the juvenile rule's, and the adult bands of a persons
    file coarsened against linkage (``release.privacy.linkage``)."""
    from release.privacy.linkage import ADULT_BAND_LABELS
    return ({band.label for band in policy.juvenile.bands} | set(ADULT_BAND_LABELS)) if policy.juvenile else set()


def _band_order(label: str) -> tuple[int, str]:
    digits = "".join(c if c.isdigit() else " " for c in label).split()
    return (int(digits[0]) if digits else -1, label)


def portal_form(public: Tables, policy: DatasetPolicy) -> Tables:
    """Every record file in portal form. A file that is checked but never written (``publish: false``)
    is checked in the form it would be written: the public suite expects that form."""
    return public.replace(**{name: portal_file(public[name], fp, policy) for name, fp in policy.files.items()})


def field_descriptor(column: str, policy: DatasetPolicy, file_policy: FilePolicy) -> dict[str, Any]:
    """The Table Schema field of a public column, typed by its column rule."""
    rule = file_policy.columns[column]
    field: dict[str, Any] = {"name": column, "type": "string"}
    description = rule.description
    if rule.type == "datetime":
        field["type"] = {"month": "yearmonth", "day": "date"}.get(rule.precision, "datetime")
        coarser = [name for name, r in file_policy.columns.items()
                   if r.type == "date_precision" and r.of == column]
        if coarser:
            description += (f" ISO 8601; where coarser than {rule.precision}, the start of the period, "
                            f"and {coarser[0]} says how precise the value is.")
    elif rule.type in ("integer", "age", "sequence"):
        field["type"] = "integer"
        if rule.type == "sequence":
            field["constraints"] = {"minimum": 1}
    elif rule.type == "keep" and rule.domain is not None and not rule.list_separator and \
            rule.on_unknown != "other" and len(rule.domain) == 2:
        truth = {frozenset({"0", "1"}): ("1", "0"), frozenset({"t", "f"}): ("t", "f")}.get(frozenset(rule.domain))
        if truth is not None:
            field.update(type="boolean", trueValues=[truth[0]], falseValues=[truth[1]])
    elif rule.type == "date_precision":
        field["constraints"] = {"enum": list(PRECISIONS)}
    elif rule.type == "age_band" and policy.juvenile is not None:
        field["constraints"] = {"enum": sorted(_band_labels(policy), key=_band_order)}
    elif rule.type == "zip":
        field["constraints"] = {"pattern": "[0-9]{5}"}
    elif rule.type == "pseudonym":
        field["constraints"] = {"pattern": rule.public_pattern}
        description += (f" Published as a keyed pseudonym ({rule.prefix} and 16 hex digits of an HMAC under the "
                        f"release key), never the City's value. Scope: {pseudonym_scope(policy)}.")
    if description:
        field["description"] = description
    return field


def missing_values(policy: DatasetPolicy) -> list[str]:
    """Blank is missing; a cell withheld by the juvenile rule holds its ``withheld_text``."""
    juvenile = policy.juvenile
    return ["", juvenile.withheld_text] if juvenile is not None and juvenile.enabled else [""]


def foreign_keys(file_policy: FilePolicy, policy: DatasetPolicy, year: int) -> list[dict[str, Any]]:
    """The parent link (persons.fc_num -> contacts.fc_num) when both files are published."""
    link = file_policy.parent
    if link is None or not policy.files[link.file].publish:
        return []
    parent = policy.files[link.file]
    return [{"fields": [link.column],
             "reference": {"resource": resource_name(parent.public_file.format(year=year)),
                           "fields": [parent.key_column]}}]


def change_note(policy: DatasetPolicy) -> str:
    """What differs from the City's current public files, for the columns this policy publishes."""
    lines = ["Differences from the City's current public files:"]
    for name, file_policy in ((n, fp) for n, fp in policy.files.items() if fp.publish):
        for column, rule in file_policy.columns.items():
            column = f"{name}.{column}"
            if rule.type == "datetime":
                lines.append(f"- {column}: ISO 8601 ({_FORM[rule.precision]}) instead of "
                             f"'YYYY-MM-DD HH:MM:SS'; the time is cut to the {rule.precision}.")
            elif rule.type == "date_precision":
                lines.append(f"- {column} (new): how precise {rule.of} is in that row ({', '.join(PRECISIONS)}); "
                             f"a coarsened date is written as the start of its period "
                             f"(2020-03 as 2020-03-01T00:00:00).")
            elif rule.type == "age_band":
                lines.append(f"- {column} (new): the age band where an age is banded (minors; every adult while a "
                             f"person-level protected table is published, release/privacy/linkage.py); {rule.of} then "
                             f"holds whole years only and is blank in those rows, where the City's file "
                             f"mixed numbers with bands.")
            elif rule.type == "sequence":
                lines.append(f"- {column} (new): the row's position among the rows of the same {rule.of} "
                             f"(1, 2, ...); with {rule.of} it identifies the row (the primary key).")
            elif rule.type == "pseudonym":
                lines.append(f"- {column}: a keyed pseudonym ({rule.prefix} and 16 hex digits) instead of the City's "
                             f"identifier; the same identifier has the same pseudonym throughout the release "
                             f"(scope: {pseudonym_scope(policy)}).")
            elif rule.type == "keep" and rule.blank_means is not None:
                marks: dict[str, list[str]] = {}
                for spelling, value in rule.spellings.items():
                    if value != rule.blank_means:
                        marks.setdefault(value, []).append(spelling)
                written = ", ".join(f"{'/'.join(k)} as {v}" for v, k in marks.items())
                lines.append(f"- {column}: the City's {written}, and its blank (an unticked box) as "
                             f"{rule.blank_means}; declared boolean.")
            elif rule.type == "keep" and rule.domain is not None and len(rule.domain) == 2 and \
                    frozenset(rule.domain) in (frozenset({"0", "1"}), frozenset({"t", "f"})):
                lines.append(f"- {column}: values as the City writes them ({'/'.join(sorted(rule.domain))}), "
                             f"declared boolean.")
        swapped = [(alias, target) for alias, target in file_policy.aliases.items()
                   if alias in file_policy.columns and alias != target]
        lines += [f"- {name}.{target}: read from the export's {alias} column (the source system swapped the two)."
                  for alias, target in swapped]
        dropped = [c for c, r in file_policy.columns.items() if r.type in ("drop", "raw_only")]
        if dropped:
            lines.append(f"- {name}: not published (identifying or internal): {', '.join(dropped)}.")
    if policy.juvenile is not None and policy.juvenile.enabled:
        withheld = ", ".join(policy.juvenile.withhold)
        lines.append(f"- Withheld is not missing: a text cell withheld by the juvenile rule ({withheld}) holds "
                     f"'{policy.juvenile.withheld_text}', declared in missingValues (read as null); a blank "
                     f"cell means the export had no (readable) value. "
                     + ("Every report number is a keyed pseudonym (RPT- and 16 hex digits), not the City's: the "
                        "City's numbers are sequential by date and would date withheld reports; rows are in order "
                        "of published date." if policy.public_keys == "pseudonym" else
                        "Report numbers are the City's, a juvenile report's under a keyed pseudonym."))
    lines.append("- Values outside a column's vocabulary or format are blanked (reported in the review packet), "
                 "and cells a spreadsheet would run as a formula start with '.")
    return "\n".join(lines)


_FORM = {"minute": "YYYY-MM-DDTHH:MM:00", "hour": "YYYY-MM-DDTHH:00:00", "day": "YYYY-MM-DD", "month": "YYYY-MM"}


def package_properties(policy: DatasetPolicy, manifest: Mapping[str, object]) -> dict[str, Any]:
    """License, sources, privacy statement and change note of the package. No ``created`` time: the
    build's time is free to whoever builds, so it stays in the manifest's private part (round 30, R1);
    the portal states when it published the files."""
    # the export's files as the trusted policy names them: the same in a bundle and in a published copy
    # (whose manifest has no inputs), and nothing the analyst names (round 30: a file renamed carried bits)
    files = [file_policy.raw_file for file_policy in policy.files.values()]
    recorded = Recorded.of(manifest)
    statement = [
        "Only columns the dataset's policy allow-lists are published; identifying columns (names, dates of "
        "birth, addresses, plates) are never published, and free text is published only after PII redaction "
        "with typed placeholders and a second scan.",
        *recorded.publication_notes,
    ]
    if recorded.value("privacy"):  # a privacy section, as written (an empty one: no tables)
        statement.append("Aggregate tables under tables/ carry calibrated noise (differential privacy); "
                         "each value comes with its 95% interval (lower, upper). The budget is recorded in the "
                         "release manifest's privacy section.")
    properties: dict[str, Any] = {
        "licenses": [dict(DEFAULT_LICENSE)],
        "sources": [{"title": f"Boston Police Department: {policy.dataset} export"
                              + (f" ({', '.join(f for f in files if f)})" if any(files) else "")}],
        "privacy": {"statement": " ".join(statement), "manifest": "manifest.json (beside public/)"},
        "changes": change_note(policy),
    }
    return properties


TABLE_FIELDS: dict[str, dict[str, Any]] = {
    "value": {"type": "integer", "description": "The count: noisy, exact, or blank where suppressed (status)."},
    "lower": {"type": "integer", "description": "Lower bound of the 95% interval for the true count."},
    "upper": {"type": "integer", "description": "Upper bound of the 95% interval for the true count."},
    "status": {"type": "string", "constraints": {"enum": ["noisy", "exact", "suppressed"]},
               "description": "noisy (calibrated noise added), exact, or suppressed (value hidden)."},
}  # dimensions stay text: a margin row holds "All" in them


def table_fields(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The typed fields of an aggregate table (long form: dimensions, value, lower, upper, status)."""
    return {str(c): dict(TABLE_FIELDS[str(c)]) for c in frame.columns if str(c) in TABLE_FIELDS}
