"""Aggregate-table declarations: YAML -> frozen typed models (``TablesPolicy``, ``TableSpec``).

A table declaration says what is counted (source frame, row filter, dimensions with full
codebooks), who is protected (privacy unit and how much one unit may contribute), and
how it is published (OpenDP noise with a stated budget, or exact counts with
suppression). Every key is documented in ``redaction_rules/README_tables.md``. Errors
name the file and the key path: ``redaction_rules/fioe_tables.yaml: tables[1].mechanism``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from release.config import load_yaml_model
from release.ledger import rho_from_epsilon

ALL = "All"  # the dimension value of a margin row; no codebook may use it
VALUE_COLUMNS = ("value", "lower", "upper", "status")  # long-form columns after the dimensions
Mechanism = Literal["discrete_gaussian", "discrete_laplace", "exact"]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


def normalize_raw(value: str) -> str:
    """How raw values and mapping keys are compared: trimmed, inner spaces collapsed, case-folded."""
    return " ".join(value.split()).casefold()


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DimensionSpec(_Frozen):
    """One dimension: a source column mapped onto a codebook that is published in full."""

    name: Name
    column: str | None = None  # source column; defaults to ``name``
    kind: Literal["categorical", "month"] = "categorical"
    categories: tuple[str, ...] = ()
    mapping: dict[str, str] = Field(default_factory=dict)
    other: str | None = None
    missing: str | None = None
    years_back: Annotated[int, Field(ge=0, le=10)] = 0

    @model_validator(mode="after")
    def _codebook(self) -> "DimensionSpec":
        if self.kind == "month":
            if self.categories or self.mapping or self.other or self.missing:
                raise ValueError("a month dimension takes no categories, mapping, other or missing: "
                                 "its codebook is every YYYY-MM of the covered years")
            return self
        if self.years_back:
            raise ValueError("years_back applies to month dimensions only")
        if not self.categories:
            raise ValueError("categories: a categorical dimension needs its full codebook")
        if len(set(self.categories)) != len(self.categories):
            raise ValueError("categories: duplicate category")
        if ALL in self.categories:
            raise ValueError(f"categories: '{ALL}' is reserved for margins")
        if self.other is None:
            raise ValueError("other: name the codebook category for unmapped values")
        for key in ("other", "missing"):
            value = getattr(self, key)
            if value is not None and value not in self.categories:
                raise ValueError(f"{key}: '{value}' is not one of the categories")
        seen: dict[str, str] = {}
        for raw, target in self.mapping.items():
            if target not in self.categories:
                raise ValueError(f"mapping: target '{target}' is not one of the categories")
            key = normalize_raw(raw)
            if key in seen and seen[key] != target:
                raise ValueError("mapping: two spellings that compare equal map to different categories")
            seen[key] = target
        return self

    @property
    def source_column(self) -> str:
        return self.column or self.name

    def codebook(self, year: int) -> tuple[str, ...]:
        if self.kind == "month":
            return tuple(f"{y:04d}-{m:02d}" for y in range(year - self.years_back, year + 1)
                         for m in range(1, 13))
        return self.categories

    def lookup(self) -> dict[str, str]:
        """Normalized raw spelling -> category (categories map to themselves)."""
        table = {normalize_raw(c): c for c in self.categories}
        table.update({normalize_raw(raw): target for raw, target in self.mapping.items()})
        return table


class SuppressionSpec(_Frozen):
    """Exact tables only: which counts are hidden and how well hidden cells must be protected."""

    threshold: Annotated[int, Field(ge=1)] = 10
    protection_width: Annotated[int, Field(ge=1)] = 10
    cost: Literal["value", "count"] = "value"


class TableSpec(_Frozen):
    name: Name
    description: str = Field(min_length=1)
    source: str
    where: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    dimensions: tuple[DimensionSpec, ...] = Field(min_length=1)
    measure: Literal["count"] = "count"
    privacy_unit: str
    privacy_unit_name: Name
    max_rows_per_unit: Annotated[int, Field(ge=1)]
    max_cells_per_unit: Annotated[int, Field(ge=1)]
    max_rows_per_cell: Annotated[int, Field(ge=1)] | None = None
    mechanism: Mechanism = "discrete_gaussian"
    rho: Annotated[float, Field(gt=0, le=10)] | None = None
    epsilon: Annotated[float, Field(gt=0, le=10)] | None = None
    margins: tuple[tuple[str, ...], ...] = ()
    suppression: SuppressionSpec | None = None
    family: Name | None = None

    @model_validator(mode="after")
    def _consistent(self) -> "TableSpec":
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names):
            raise ValueError("dimensions: two dimensions share a name")
        if set(names) & set(VALUE_COLUMNS):
            raise ValueError(f"dimensions: {', '.join(VALUE_COLUMNS)} are reserved column names")
        if self.mechanism == "discrete_gaussian" and (self.rho is None or self.epsilon is not None):
            raise ValueError("mechanism: discrete_gaussian takes rho (zCDP) and no epsilon")
        if self.mechanism == "discrete_laplace" and (self.epsilon is None or self.rho is not None):
            raise ValueError("mechanism: discrete_laplace takes epsilon (pure DP) and no rho")
        if self.mechanism == "exact":
            if self.rho is not None or self.epsilon is not None:
                raise ValueError("mechanism: exact tables spend no budget; remove rho/epsilon")
        elif self.suppression is not None or self.family is not None:
            raise ValueError("suppression and family apply to exact tables only")
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
        return self

    @property
    def suppression_rules(self) -> SuppressionSpec:
        return self.suppression or SuppressionSpec()

    @property
    def rows_per_cell(self) -> int:
        return self.max_rows_per_cell or self.max_rows_per_unit

    @property
    def rho_spent(self) -> float:
        """zCDP cost: rho, or epsilon^2/2 for pure epsilon-DP (BS16 Prop. 1.4); 0 for exact."""
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


class BudgetSpec(_Frozen):
    cap_rho: Annotated[float, Field(gt=0, le=100)] = 5.0
    delta: Annotated[float, Field(gt=0, le=1e-5)] = 1e-9


class TablesPolicy(_Frozen):
    budget: BudgetSpec = BudgetSpec()
    codebooks: dict[str, DimensionSpec] = Field(default_factory=dict)  # YAML anchors for reuse
    tables: tuple[TableSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _families(self) -> "TablesPolicy":
        names = [t.name for t in self.tables]
        if len(set(names)) != len(names):
            raise ValueError("tables: two tables share a name")
        groups: dict[str, list[TableSpec]] = {}
        for table in self.tables:
            if table.family is not None:
                groups.setdefault(table.family, []).append(table)
        for family, members in groups.items():
            check_family(family, members)
        return self


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
