"""Aggregate-table declarations: YAML -> frozen typed models (``TablesPolicy``, ``TableSpec``).

A table declaration says what is counted (source frame, row filter, dimensions with full
codebooks), who is protected (privacy unit and how much one unit may contribute), and how
it is published: a **summary** of a record-level public file (exact, no privacy claim), or
**protected** (OpenDP noise with a stated budget, or exact counts with suppression). The
policy also declares, per frame, whether an outsider can rebuild it from the published
record-level files (``frames``): that is the dataset's protection model, and the build
checks it by recounting. Every key is documented in ``redaction_rules/README_tables.md``.
Errors name the file and the key path: ``redaction_rules/fioe_tables.yaml: tables[1].mechanism``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from release.config.policy import load_yaml_model
from release.config.tables_codebook import ALL, DimensionSpec, Name, _Frozen, normalize_raw
from release.config.zcdp import rho_from_epsilon

__all__ = ["ALL", "VALUE_COLUMNS", "DimensionSpec", "FrameSpec", "Mechanism", "PerYearSpec", "SuppressionSpec",
           "TableSpec", "TablesPolicy", "check_family", "load_tables_policy", "normalize_raw"]

VALUE_COLUMNS = ("value", "lower", "upper", "status")  # long-form columns after the dimensions
Mechanism = Literal["discrete_gaussian", "discrete_laplace", "exact", "summary"]
NOISY = ("discrete_gaussian", "discrete_laplace")


# frame rules a noisy table may declare it holds to (``release.datasets.fioe`` marks its frames)
# A frame's ``attrs`` flag, set by the dataset that builds it: its units may each hold two or more
# people (FIOE's person key joins records by surname + date of birth or person id), so a noisy
# table on it must be calibrated to one person changing a unit's row (``units_may_merge``).
MERGED_UNITS = "units_may_merge"
SPLIT_UNITS = "units_may_split"  # how many of a frame's units one person's removal could split in two


class SuppressionSpec(_Frozen):
    """Exact tables only: which counts are hidden and how well hidden cells must be protected.

    τ-ARGUS style: a hidden count v must stay uncertain downwards by ``lower_protection``
    (at most v: the attacker cannot rule out a count that much lower) and upwards by
    ``upper_protection``; every hidden cell, primary or not, keeps a range of at least
    ``protection_width`` (sliding protection alone lets a hidden 3 sit at the bottom of [3, 13])."""

    threshold: Annotated[int, Field(ge=1)] = 10
    protection_width: Annotated[int, Field(ge=1)] = 10
    lower_protection: Annotated[int, Field(ge=0)] | None = None  # default: threshold
    upper_protection: Annotated[int, Field(ge=0)] | None = None  # default: protection_width
    cost: Literal["value", "count"] = "value"

    @property
    def lower(self) -> int:
        return self.threshold if self.lower_protection is None else self.lower_protection

    @property
    def upper(self) -> int:
        return self.protection_width if self.upper_protection is None else self.upper_protection


class PerYearSpec(_Frozen):
    """Each calendar year of the table is measured once and stored; a later release covering
    the same year re-uses that measurement (a rolling window is post-processing, not a new draw)."""

    column: str                                  # the frame's YYYY-MM column that dates a row
    years: Annotated[int, Field(ge=1, le=10)]    # the release year and the years before it


class TableSpec(_Frozen):
    """One declared table: what is counted (source frame, row filter, dimensions), who is protected
    and how much one unit may add, and how it is published (a summary, noisy with its budget, or exact
    with suppression); the validators refuse a budget or bound that does not fit the mechanism."""

    name: Name
    description: str = Field(min_length=1)
    source: str
    where: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    dimensions: tuple[DimensionSpec, ...] = Field(min_length=1)
    measure: Literal["count"] = "count"
    privacy_unit: str = "unit_id"
    privacy_unit_name: Name | None = None        # protected tables: a unit of privacy.yaml
    max_rows_per_unit: Annotated[int, Field(ge=1)] = 1
    max_cells_per_unit: Annotated[int, Field(ge=1)] = 1
    max_rows_per_cell: Annotated[int, Field(ge=1)] | None = None
    bounds: Literal["enforced", "declared"] = "enforced"
    units_may_merge: bool = False
    mechanism: Mechanism = "discrete_gaussian"
    rho: Annotated[float, Field(gt=0, le=10)] | None = None
    epsilon: Annotated[float, Field(gt=0, le=10)] | None = None
    margins: tuple[tuple[str, ...], ...] = ()
    per_year: PerYearSpec | None = None
    suppression: SuppressionSpec | None = None
    family: Name | None = None
    external_margins: tuple[tuple[str, ...], ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> TableSpec:
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names):
            raise ValueError("dimensions: two dimensions share a name")
        if set(names) & set(VALUE_COLUMNS):
            raise ValueError(f"dimensions: {', '.join(VALUE_COLUMNS)} are reserved column names")
        if self.mechanism == "discrete_gaussian" and (self.rho is None or self.epsilon is not None):
            raise ValueError("mechanism: discrete_gaussian takes rho (zCDP) and no epsilon")
        if self.mechanism == "discrete_laplace" and (self.epsilon is None or self.rho is not None):
            raise ValueError("mechanism: discrete_laplace takes epsilon (pure DP) and no rho")
        if self.mechanism in ("exact", "summary"):
            if self.rho is not None or self.epsilon is not None:
                raise ValueError(f"mechanism: {self.mechanism} tables spend no budget; remove rho/epsilon")
            if self.per_year is not None:
                raise ValueError("per_year: only noisy tables are measured")
        if self.mechanism != "summary":
            unset = [k for k in ("privacy_unit", "privacy_unit_name", "max_rows_per_unit", "max_cells_per_unit")
                     if k not in self.model_fields_set]
            if unset:
                raise ValueError(f"{unset[0]}: a protected table declares its privacy unit and its bounds")
        if self.mechanism != "exact" and (self.suppression is not None or self.external_margins):
            raise ValueError("suppression and external_margins apply to exact tables only")
        if self.mechanism == "summary" and self.family is not None:
            raise ValueError("family: a summary restates a public file; it has no family")
        if self.max_rows_per_cell is not None and self.max_rows_per_cell > self.max_rows_per_unit:
            raise ValueError("max_rows_per_cell: cannot exceed max_rows_per_unit")
        seen: set[frozenset[str]] = set()
        for margin in self.margins:
            kept = frozenset(margin)
            if len(kept) != len(margin) or not kept <= set(names):
                raise ValueError("margins: each margin lists distinct dimensions of this table")
            if kept == set(names) or kept in seen:
                raise ValueError("margins: a margin repeats the cells or another margin")
            seen.add(kept)
        if any(frozenset(m) not in seen for m in self.external_margins):
            raise ValueError("external_margins: each must be one of the table's margins")
        self._check_per_year()
        return self

    def _check_per_year(self) -> None:
        if self.per_year is None:
            return
        months = [d for d in self.dimensions if d.kind == "month"]
        if months and (months[0].source_column != self.per_year.column
                       or months[0].years_back + 1 != self.per_year.years):
            raise ValueError("per_year: must name the month dimension's column and cover its years "
                             "(years = years_back + 1)")
        if months and any(months[0].name not in m for m in self.margins):
            raise ValueError("per_year: every margin of a table measured per year keeps its month dimension")

    @property
    def suppression_rules(self) -> SuppressionSpec:
        return self.suppression or SuppressionSpec()

    @property
    def rows_per_cell(self) -> int:
        return self.max_rows_per_cell or self.max_rows_per_unit

    @property
    def is_noisy(self) -> bool:
        return self.mechanism in NOISY

    @property
    def rho_spent(self) -> float:
        """ZCDP cost of one measurement: rho, or epsilon^2/2 for pure epsilon-DP (BS16 Prop. 1.4);
        0 for exact and summary tables."""
        if self.mechanism == "discrete_gaussian":
            return float(self.rho or 0.0)
        if self.mechanism == "discrete_laplace":
            return rho_from_epsilon(float(self.epsilon or 0.0))
        return 0.0

    @property
    def cell_family(self) -> str:
        return self.family or self.name

    def levels(self) -> tuple[tuple[str, ...], ...]:
        """Level 0 is every dimension (the cells); then the margins, in table-dimension order."""
        names = tuple(d.name for d in self.dimensions)
        return (names, *(tuple(n for n in names if n in margin) for margin in self.margins))

    def columns_used(self) -> tuple[str, ...]:
        """The frame columns this table reads (what a recount from public files needs)."""
        return tuple(dict.fromkeys([*(d.source_column for d in self.dimensions), *self.where]))


class LinkageSpec(_Frozen):
    """How an outsider links one person's public rows across reports, and how the build judges it
    with the private truth (``release.privacy.linkage``). Each row of ``file`` is joined to its report's row
    of ``parent`` on ``key``. For each pair of one person's reports, the attacker keeps every
    published column the two rows agree on (all but ``key``, the ``positions`` and the
    ``free_text``; ``dates`` also by month and hour of day): the rows alike on those form the
    pair's class, and a person is exposed when one such class holds fewer than
    ``min_people_per_class`` people, or when two of their reports' ``free_text`` share a phrase
    found in the reports of fewer than that many people."""

    file: str
    parent: str
    key: str
    # the frame (from the dataset's derive step) giving each row of ``file`` its true person:
    # ``row_key`` (the row's load key) -> ``unit_id`` (the person key; missing when unattributed)
    truth: str
    # a row's place in its report (a parent's column as ``parent.<column>``): never linking
    positions: tuple[str, ...] = ()
    # narratives: linked through rare shared word 5-grams, not by equality
    free_text: tuple[str, ...] = ()
    # date-times at their published precision: also compared by month and by hour of day
    dates: tuple[str, ...] = ()
    min_people_per_class: int = Field(default=5, ge=2)
    # what ``file`` (or ``parent.<column>``) gives up while a protected table is built on this frame:
    # ``blank`` empties a column, ``age_band`` moves an adult's age to a band in ``age_band``
    coarsen: dict[str, Literal["blank", "age_band"]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _apart(self) -> LinkageSpec:
        if set(self.positions) & {*self.free_text, *self.dates} or set(self.free_text) & set(self.dates):
            raise ValueError("linkage: a column is a position, free text or a date, never two of these")
        if any(action == "age_band" and column.startswith("parent.") for column, action in self.coarsen.items()):
            raise ValueError("linkage.coarsen: age_band applies to the linked file's own age column")
        return self


class FrameSpec(_Frozen):
    """The protection model of one frame: how an outsider rebuilds it from the published
    record-level files (``recount_from``), or why no published file gives it (``not_public``)."""

    recount_from: str | None = None   # the policy file whose public rows are this frame's rows
    parent: str | None = None         # a second file joined on ``key`` (its first row per key)
    key: str | None = None
    unit: str | None = None           # the public column that is the frame's privacy unit (default: the row)
    columns: dict[str, str] = Field(default_factory=dict)  # frame column -> public column ("parent.col")
    not_public: str | None = None
    linkage: LinkageSpec | None = None  # a not_public frame of persons: the linkage attacker to play

    @model_validator(mode="after")
    def _one_way(self) -> FrameSpec:
        if (self.recount_from is None) == (self.not_public is None):
            raise ValueError("a frame takes either recount_from (with its columns) or not_public (why)")
        if self.linkage is not None and self.not_public is None:
            raise ValueError("linkage: only a not_public frame is rebuilt by linking public rows")
        if self.not_public is not None and (self.columns or self.parent or self.key or self.unit):
            raise ValueError("not_public: a frame no public file gives has no recount columns")
        if (self.parent is None) != (self.key is None):
            raise ValueError("parent and key go together")
        if any(v.startswith("parent.") for v in self.columns.values()) and self.parent is None:
            raise ValueError("columns: a parent column needs parent and key")
        return self


class TablesPolicy(_Frozen):
    """A dataset's tables file: its tables, and the protection model of every frame they count
    (``frames``), which each table must name, so the build can recount what the public files give away."""

    frames: dict[Name, FrameSpec] = Field(default_factory=dict)
    codebooks: dict[str, DimensionSpec] = Field(default_factory=dict)  # YAML anchors for reuse
    tables: tuple[TableSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _families(self) -> TablesPolicy:
        names = [t.name for t in self.tables]
        if len(set(names)) != len(names):
            raise ValueError("tables: two tables share a name")
        for table in self.tables:
            frame = self.frames.get(table.source)
            if frame is None:
                raise ValueError(f"frames: declare frame '{table.source}' (recount_from or not_public): "
                                 "the protection model says what the public files give away")
            if table.mechanism == "summary":
                missing = [c for c in table.columns_used() if c not in frame.columns]
                if frame.recount_from is None or missing:
                    raise ValueError(f"tables.{table.name}: a summary must be recountable from the public "
                                     f"file (frame '{table.source}' lacks {', '.join(missing) or 'recount_from'})")
        groups: dict[str, list[TableSpec]] = {}
        for table in self.tables:
            if table.family is not None:
                groups.setdefault(table.family, []).append(table)
        for family, members in groups.items():
            check_family(family, members)
        _same_source_exact(self.tables)
        return self


def _same_source_exact(tables: tuple[TableSpec, ...]) -> None:
    """Exact tables of one source must declare one family: otherwise their differences (71 - 68)
    give away hidden cells that no single table's suppression accounts for."""
    by_source: dict[str, list[TableSpec]] = {}
    for table in tables:
        if table.mechanism == "exact":
            by_source.setdefault(table.source, []).append(table)
    for source, members in by_source.items():
        families = {t.family for t in members}
        if len(members) > 1 and (None in families or len(families) > 1):
            raise ValueError(f"tables: exact tables {', '.join(t.name for t in members)} count frame "
                             f"'{source}': declare one family for them")


def check_family(family: str, members: list[TableSpec]) -> None:
    """Tables of one family count the same rows at different detail, so they can share cells."""
    finest = max(members, key=lambda t: len(t.dimensions))
    if len({any(d.kind == "month" for d in t.dimensions) for t in members}) > 1:
        raise ValueError(f"family '{family}': a month dimension must be in every table or in none")
    dims = {d.name: d for d in finest.dimensions}
    same = ("source", "where", "privacy_unit", "max_rows_per_unit", "max_cells_per_unit",
            "max_rows_per_cell")
    for table in members:
        if any(getattr(table, key) != getattr(finest, key) for key in same):
            raise ValueError(f"family '{family}': tables must share {', '.join(same)}")
        for dim in table.dimensions:
            if dims.get(dim.name) != dim:
                raise ValueError(f"family '{family}': dimension '{dim.name}' must be declared "
                                 f"identically in table '{finest.name}'")


def load_tables_policy(path: Path) -> TablesPolicy:
    return load_yaml_model(path, TablesPolicy, top_level="a mapping with a 'tables' list")


def data_years(spec: TableSpec, year: int) -> list[int]:
    """The data years release ``year`` measures ``spec`` in, oldest first (one, unless per-year)."""
    return list(range(year - spec.per_year.years + 1, year + 1)) if spec.per_year else [year]
