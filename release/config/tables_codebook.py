"""Codebooks of the aggregate tables: a source column mapped onto categories published in full.

Kept apart from the table declarations (``tables_spec``) so that tabulation, the
declarations and the protection model can share one definition of how a raw spelling
becomes a published category.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ALL = "All"  # the dimension value of a margin row; no codebook may use it
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def normalize_raw(value: str) -> str:
    """How raw values and mapping keys are compared: trimmed, inner spaces collapsed, case-folded."""
    return " ".join(value.split()).casefold()


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
    def _codebook(self) -> DimensionSpec:
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
