"""Identifiers the City publishes, published as keyed pseudonyms (the ``pseudonym`` column rule).

The City's persons files carry ``recnum`` (RMS: a record number, sequential by entry) and
``person_id`` (Mark43: a persistent person id). Published as they are, the first dates a
withheld juvenile report between its neighbours (as report numbers would: ``juvenile``), and
both are internal identifiers anyone holding another extract of the system could join on. So
each is published as ``prefix`` and 16 upper-case hex digits of an HMAC-SHA-256, under the
release's value-token key (``release.keys.hmac``: derived from the master key for the dataset and
year, or for every year of the dataset with ``linkable_tokens``), of a purpose label, the
dataset, the rule's ``namespace`` and the raw value.

Scope, as the key and the label make it: the same raw value gets the same pseudonym in every
row and file of one release, so the joins the City's column allows within a year still work;
another year's release (another key), another dataset or another namespace gives another
pseudonym, so nothing links across them unless the policy sets ``linkable_tokens``. Only the
key holder can recompute a pseudonym (the audit does, from the raw export). Nothing here
logs a value: a pseudonymized column is a column-level decision, recorded in the manifest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from release.config.column_rules import PSEUDONYM_DIGITS, PseudonymRule
from release.config.policy import DatasetPolicy, pseudonym_scope
from release.keys.hmac import Tokenizer

_PURPOSE = "release public identifier pseudonym"


def pseudonym(value: str, rule: PseudonymRule, dataset: str, tokenizer: Tokenizer) -> str:
    """The public pseudonym of a raw identifier (one form for every value of the column)."""
    digest = tokenizer.token(f"{_PURPOSE}|{dataset}|{rule.namespace}|{value}")  # normalized by token()
    return rule.prefix + digest[:PSEUDONYM_DIGITS].upper()


def raw_format_ok(value: str, rule: PseudonymRule) -> bool:
    return re.fullmatch(rule.pattern, value.strip()) is not None


def pseudonym_columns(policy: DatasetPolicy) -> Iterator[tuple[str, str, PseudonymRule]]:
    """(file, column, rule) of every pseudonymized column of a published file, in policy order."""
    for name, file_policy in policy.files.items():
        for column, rule in file_policy.columns.items():
            if isinstance(rule, PseudonymRule) and file_policy.publish:
                yield name, column, rule


def manifest_section(policy: DatasetPolicy, year: int) -> list[dict[str, object]]:
    """What the manifest says of each pseudonymized column (never a key, never a value)."""
    return [{"file": policy.files[name].public_file.format(year=year), "column": column,
             "form": f"{rule.prefix} and 16 upper-case hex digits", "pattern": rule.public_pattern,
             "hmac": "HMAC-SHA-256 under the release's value-token key (manifest hmac.purposes.value_tokens)",
             "namespace": rule.namespace, "scope": pseudonym_scope(policy, year)}
            for name, column, rule in pseudonym_columns(policy)]


def publication_note(policy: DatasetPolicy, year: int) -> str | None:
    """The packet's and datapackage's sentence on the pseudonymized columns, if any."""
    columns = [f"{policy.files[name].public_file.format(year=year)} {column} ({rule.prefix}...)"
               for name, column, rule in pseudonym_columns(policy)]
    if not columns:
        return None
    return (f"Identifiers the City publishes are published as keyed pseudonyms, never as the City's values: "
            f"{', '.join(columns)}: the prefix and 16 hex digits of an HMAC under the release key, which only the "
            f"key holder can recompute. Scope: {pseudonym_scope(policy, year)}. A blank is an identifier the export did not "
            f"have (or not of its declared format, reported).")
