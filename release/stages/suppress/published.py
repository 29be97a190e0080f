"""What suppression takes and gives back: tables as published, exact tables, the result.

These types sit apart from the solver so that the linear structure (``system``), the
integer program (``ilp``) and the entry points (the package) can all import them
without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from release.model import Finding


@dataclass(frozen=True)
class PublishedTable:
    """A table as published (or about to be): long form with ``value`` and ``status``.

    Cells of tables with the same ``family`` and ``period`` are the same quantities, so
    an earlier release of the same table, or a coarser table of the same rows, constrains
    what this one may reveal. ``period`` is what the counts describe: the data year, or
    "" when a month dimension dates each cell (``release.build.tables.period_of``).
    """

    name: str
    dimensions: tuple[str, ...]
    frame: pd.DataFrame
    period: str
    family: str = ""
    protection_width: int = 10
    release: str = "this release"

    @property
    def cell_family(self) -> str:
        return self.family or self.name


@dataclass(frozen=True)
class ExactTable:
    """An exact table of this release before suppression (all values true counts)."""

    table: PublishedTable
    threshold: int
    cost: str  # "value" | "count"
    lower_protection: int = 0    # a hidden primary v must reach v - min(v, lower) in the LP
    upper_protection: int = 0    # ... and v + upper
    external: tuple[tuple[str, ...], ...] = ()  # margins published elsewhere: known, never hidden


@dataclass(frozen=True)
class Protection:
    """What suppression decided: each table's hidden rows, how many were primary and complementary, and how
    the solve went."""

    suppressed: dict[str, np.ndarray]  # table name -> row mask, in frame order
    primary: int
    complementary: int
    rounds: int              # cutting-plane rounds (ILP + audit)
    repairs: int             # greedy repair passes after the rounds (0: the ILP pattern passed)
    objective: float         # cost of the complementary cells hidden
    lower_bound: float
    findings: tuple[Finding, ...]


def primary_mask(values: np.ndarray, threshold: int) -> np.ndarray:
    """Counts 1..threshold are hidden; zero stays published."""
    return (values >= 1) & (values <= threshold)

