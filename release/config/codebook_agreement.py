"""Each aggregate table's codebook held to the policy column it counts: no category, mapping key or row
filter value that no published value of the column can reach.

Why: a table's codebook (``redaction_rules/<dataset>_tables.yaml``) is written apart from the policy's
domain of its source column, and may rightly be coarser (the FIOE tables publish seven races; the
policy's domain has nine, the other two fall to ``Other``). What must not happen is silent drift: a
policy value renamed so that a category or a mapping key can never match, every such row falling
into ``Other`` or ``Unknown``, a zero published for the category, and nothing anywhere saying so.

Where a column's values come from is the tables file's protection model: a frame with
``recount_from`` declares, for each of its columns, the public column of the policy whose published
rows it is (``columns``: ``race: race``, ``neighbourhood: parent.city``). Those values are the
published ones, codebook-spelled (the summaries are recounted from the public files; the dataset
modules copy the generalized columns), so a value reaches a table's category only through the
policy's domain, never through a spelling the policy maps away at generalization (``Bstn``: the
published city is ``BOSTON``). Checked, for every dimension (and ``where`` column) of a table whose
source column is such a public column with a closed domain in the policy:

- a mapping key must equal (as tabulation compares: trimmed, spaces collapsed, case-folded) a value
  of the domain, or ``Other`` where the policy publishes unknown values as ``Other``;
- a category other than the dimension's ``missing`` and ``other`` targets must be reached: a domain
  value spelled as the category, or a live mapping key's target;
- a ``where`` value must equal a domain value (else the table counts no row).

``check_codebook_agreement`` raises a ``ConfigError`` naming the tables file, the table, the codebook
and the dimension, the rule and the policy column; the words in it are the rules' own (categories,
mapping keys), never a value of the data. ``release.build.options.resolve`` calls it before the first
stage, where both files are at hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from release.config.codebooks import OTHER
from release.config.column_rules import KeepRule
from release.config.policy import DatasetPolicy
from release.config.tables import DimensionSpec, FrameSpec, TableSpec, TablesPolicy, normalize_raw
from release.errors import ConfigError

RULE = "codebook-agreement"
PARENT = "parent."


@dataclass(frozen=True)
class Disagreement:
    """One entry of a tables file that no published value of its policy column can reach."""

    table: str
    key: str              # its key path in the tables file: ``dimensions.<name>`` or ``where.<column>``
    codebook: str | None  # the ``codebooks`` entry the dimension is declared by (a YAML anchor), if any
    column: str           # the policy column, ``<file>.<column>``
    problem: str          # what cannot be reached, in the rules' own words

    def message(self) -> str:
        book = f" (codebook '{self.codebook}')" if self.codebook else ""
        return f"tables.{self.table}.{self.key}{book}: {self.problem} of the policy column {self.column}"


def policy_column(frame: FrameSpec | None, column: str) -> tuple[str, str] | None:
    """The policy ``(file, column)`` whose published values a frame column holds, or None when the tables
    file does not say: a frame no public file gives (``not_public``: the partner's counts, FIOE's keyed
    persons, whose neighbourhood is the city as the export wrote it) is built by its dataset module, and a
    frame column it does not list (a derived month, a count like ``contacts``) has no policy column."""
    if frame is None or frame.recount_from is None or column not in frame.columns:
        return None
    public = frame.columns[column]
    if public.startswith(PARENT):
        return (frame.parent, public.removeprefix(PARENT)) if frame.parent else None
    return frame.recount_from, public


def published_values(policy: DatasetPolicy, file: str, column: str) -> tuple[str, ...] | None:
    """Every value the column is published with, or None when it has no closed domain: free values, a
    format (``pattern``), a list cell (each cell several values) or a column the policy does not name (the
    recount checks report that one)."""
    file_policy = policy.files.get(file)
    rule = file_policy.columns.get(column) if file_policy is not None else None
    if not isinstance(rule, KeepRule) or rule.domain is None or rule.list_separator is not None:
        return None
    other = (OTHER,) if rule.on_unknown == "other" and OTHER not in rule.domain else ()
    return (*rule.domain, *other)


def _dimension_problems(dimension: DimensionSpec, values: tuple[str, ...]) -> Iterator[str]:
    if dimension.kind != "categorical":
        return  # a month's codebook is every YYYY-MM of the covered years: no policy domain to hold it to
    published = {normalize_raw(value) for value in values}
    for key in dimension.mapping:
        if normalize_raw(key) not in published:
            yield f"mapping key '{key}' is no published value"
    lookup = dimension.lookup()
    reached = {lookup[normalize_raw(value)] for value in values if normalize_raw(value) in lookup}
    targets = {dimension.other, dimension.missing}
    for category in dimension.categories:
        if category not in targets and category not in reached:
            yield f"category '{category}' is reached by no published value"


def disagreements(tables: TablesPolicy, policy: DatasetPolicy) -> list[Disagreement]:
    """Every entry of the tables file that no published value of its source column can reach, in file order."""
    found: list[Disagreement] = []
    for table in tables.tables:
        frame = tables.frames.get(table.source)
        for dimension in table.dimensions:
            source = policy_column(frame, dimension.source_column)
            values = published_values(policy, *source) if source else None
            if source is None or values is None:
                continue  # no closed domain in the policy for it (see policy_column, published_values)
            book = next((name for name, spec in tables.codebooks.items() if spec == dimension), None)
            found += [Disagreement(table.name, f"dimensions.{dimension.name}", book, ".".join(source), problem)
                      for problem in _dimension_problems(dimension, values)]
        found += _where_problems(table, frame, policy)
    return found


def _where_problems(table: TableSpec, frame: FrameSpec | None, policy: DatasetPolicy) -> list[Disagreement]:
    found = []
    for column, accepted in table.where.items():
        source = policy_column(frame, column)
        values = published_values(policy, *source) if source else None
        if source is None or values is None:
            continue
        published = {normalize_raw(value) for value in values}
        found += [Disagreement(table.name, f"where.{column}", None, ".".join(source),
                               f"value '{value}' is no published value")
                  for value in accepted if normalize_raw(value) not in published]
    return found


def check_codebook_agreement(tables: TablesPolicy, policy: DatasetPolicy, tables_path: Path) -> None:
    """Refuse a tables file with an entry its policy makes unreachable (the first one, and how many more)."""
    found = disagreements(tables, policy)
    if found:
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise ConfigError(f"{found[0].message()}, so no row can ever count under it (a value renamed in the "
                          f"policy, or a spelling the policy maps away before publication){more}",
                          file=str(tables_path), rule=RULE)
