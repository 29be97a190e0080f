"""The linear structure of everything published: items as sums of base cells, and margins.

The integer program and the LP audit reason over the same quantities, and one cell
published in two tables or two releases must be one unknown. This module owns that
identification (an item is its set of base cells of a (family, period) grid) and the
margin equations between items.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from release.config.tables import ALL
from release.model import Finding
from release.stages.suppress.published import PublishedTable


@dataclass
class Item:
    """One published quantity: a sum of base cells of a (family, period) cross-classification."""

    members: np.ndarray
    label: str
    tables: list[str]
    width: int = 0
    published: int | None = None  # exact value already public (earlier releases)
    current: int | None = None    # true value in this release's exact tables
    hidden: bool = False          # shown as suppressed in some published table
    interval: tuple[float, float] | None = None  # a noisy table's 95% interval (the attacker's constraint)
    low_target: float = math.inf   # a hidden primary v must reach down to v - min(v, lower protection)
    high_target: float = -math.inf  # ... and up to v + upper protection (set by the build, which knows v)


@dataclass
class System:
    """Every published quantity (an item) and the margin equations between them, with each current table's
    rows mapped to their items."""

    items: list[Item]
    singleton: np.ndarray                      # base cell -> its own item, or -1
    equations: list[tuple[int, list[int]]]     # margin item = sum of child items
    row_items: dict[str, list[int]]            # current table -> item of each row
    findings: list[Finding]

    def suppressed_items(self) -> list[int]:
        """Every item some table hides, including one another table (or the microdata) gives exactly:
        its range is then a single point, and the audit says so."""
        return [i for i, item in enumerate(self.items) if item.hidden]


def build_system(tables: list[tuple[PublishedTable, str]]) -> System:
    """Items (published quantities) as sums of base cells, and the margin equations.

    Tables of one family and period share a grid of base cells over the union of their
    categories; a row's ``All`` sums over *that table's* categories (a rolling month window
    of last year's release covers other months than this year's). Items are identified by
    their set of base cells, so the same quantity in two tables or releases is one item.
    """
    groups: dict[tuple[str, str], list[PublishedTable]] = {}
    for table, _ in tables:
        groups.setdefault((table.cell_family, table.period), []).append(table)
    layout: dict[tuple[str, str], tuple[list[str], list[list[str]], np.ndarray]] = {}
    offset = 0
    for key, members in groups.items():
        dims: list[str] = []
        cats: list[list[str]] = []
        for table in members:
            for dim in table.dimensions:
                if dim not in dims:
                    dims.append(dim)
                    cats.append([])
                known = cats[dims.index(dim)]
                known += [v for v in pd.unique(table.frame[dim].astype(str)) if v != ALL and v not in known]
        shape = tuple(len(c) for c in cats)
        layout[key] = (dims, cats, np.arange(math.prod(shape)).reshape(shape) + offset)
        offset += math.prod(shape)
    items: list[Item] = []
    index: dict[tuple[object, ...], int] = {}
    shapes: list[tuple[tuple[str, str], tuple[object, ...]]] = []  # item -> (group, per-dim selection)
    row_items: dict[str, list[int]] = {}
    findings: list[Finding] = []
    singleton = np.full(offset, -1, dtype=np.int64)

    def item_for(gkey: tuple[str, str], selection: tuple[object, ...], label: str) -> int:
        grid = layout[gkey][2]
        members = np.sort(grid[np.ix_(*[np.atleast_1d(np.asarray(s)) for s in selection])].reshape(-1))
        key = (gkey, members.tobytes())
        if key not in index:
            index[key] = len(items)
            shapes.append((gkey, selection))
            if len(members) == 1:
                singleton[members[0]] = len(items)
            items.append(Item(members=members, label=label, tables=[]))
        return index[key]

    for table, role in tables:
        gkey = (table.cell_family, table.period)
        dims, cats = layout[gkey][0], layout[gkey][1]
        lookup = [{c: i for i, c in enumerate(cs)} for cs in cats]
        columns = [table.frame[d].astype(str).to_numpy() if d in table.dimensions else None for d in dims]
        own = [tuple(sorted(lookup[k][v] for v in set(col) if v != ALL)) if col is not None
               else tuple(range(len(cats[k]))) for k, col in enumerate(columns)]
        ids: list[int] = []
        conflicts = 0
        for r, (value, status) in enumerate(zip(table.frame["value"], table.frame["status"], strict=True)):
            selection = tuple(own[k] if col is None or col[r] == ALL else lookup[k][col[r]]
                              for k, col in enumerate(columns))
            label = "|".join(f"{d}={col[r]}" for d, col in zip(dims, columns, strict=True) if col is not None)
            i = item_for(gkey, selection, f"{table.name}: {label}")
            item = items[i]
            ids.append(i)
            item.tables.append(table.name)
            if role == "current":
                item.current = int(value)
                item.width = max(item.width, table.protection_width)
            elif status == "exact":
                conflicts += item.published is not None and item.published != int(value)
                item.published = int(value) if item.published is None else item.published
            elif status == "suppressed":
                item.hidden = True
                item.width = max(item.width, table.protection_width)
            elif status == "noisy":
                bounds = _interval(table.frame, r)
                if bounds is not None:  # the tightest interval any release gives the attacker
                    old = item.interval or (-math.inf, math.inf)
                    item.interval = (max(old[0], bounds[0]), min(old[1], bounds[1]))
        if role == "current":
            row_items[table.name] = ids
        if conflicts:
            findings.append(_blocking("published_values_inconsistent", table, "", f"{conflicts} cells "
                                      "were published with different exact values", count=conflicts))
    equations: list[tuple[int, list[int]]] = []
    for i, (gkey, item_selection) in enumerate(list(shapes)):
        grid = layout[gkey][2]
        for k, chosen in enumerate(item_selection):
            if not isinstance(chosen, tuple) or len(chosen) < 2:
                continue
            children = []
            for c in chosen:
                sub = item_selection[:k] + (c,) + item_selection[k + 1:]
                child_members = np.sort(grid[np.ix_(*[np.atleast_1d(np.asarray(s)) for s in sub])].reshape(-1))
                children.append(index.get((gkey, child_members.tobytes())))
            if all(c is not None for c in children):
                equations.append((i, [int(c) for c in children if c is not None]))
    return System(items=items, singleton=singleton, equations=equations, row_items=row_items,
                  findings=findings)


def _interval(frame: pd.DataFrame, row: int) -> tuple[float, float] | None:
    if "lower" not in frame.columns or "upper" not in frame.columns:
        return None
    low, high = pd.to_numeric(frame["lower"].iloc[row], errors="coerce"), \
        pd.to_numeric(frame["upper"].iloc[row], errors="coerce")
    return (float(low), float(high)) if pd.notna(low) and pd.notna(high) else None


def _blocking(code: str, table: PublishedTable, row_key: str, message: str,
              count: int | None = None) -> Finding:
    return Finding(stage="suppress", code=code, severity="blocking", message=message,
                   file=table.name, row_key=row_key or None, rule="protection_width", count=count)

