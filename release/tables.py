"""Facade for the orchestrator: declared tables -> published long-form tables.

``build_tables`` runs tabulate (bounded contributions) -> noise (OpenDP) -> postprocess
for noisy tables, and tabulate -> suppress (primary, complementary ILP, LP audit) for
exact ones, then the mandatory suppression audit over this release and earlier ones.
It never touches the ledger: the orchestrator reserves ``planned_spends`` first and
commits or cancels after. Nothing returned carries a raw value; findings carry counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from release.errors import ConfigError, InputError
from release.ledger import Spend, epsilon_from_rho
from release.model import Finding
from release.stages import noise
from release.stages.postprocess import postprocess
from release.stages.suppress import ExactTable, PublishedTable, audit_suppression, protect
from release.stages.tabulate import TableCounts, kept_axes, level_labels, level_values, tabulate
from release.tables_spec import VALUE_COLUMNS, BudgetSpec, TableSpec, TablesPolicy, load_tables_policy

__all__ = ["TablesResult", "build_tables", "load_table_specs", "load_tables_policy", "planned_spends",
           "period_of", "published_table", "PublishedTable", "Spend", "TableSpec", "TablesPolicy"]
DEFAULT_DELTA = BudgetSpec().delta


@dataclass(frozen=True)
class TablesResult:
    tables: dict[str, pd.DataFrame]
    findings: list[Finding]
    spends: list[Spend]
    measurements: list[dict[str, object]]
    privacy_summary: list[dict[str, object]]
    rows_dropped: dict[str, int]
    published: list[PublishedTable] = field(default_factory=list)  # exact tables, for next year's prior


def load_table_specs(path: Path) -> list[TableSpec]:
    return list(load_tables_policy(path).tables)


def planned_spends(specs: Sequence[TableSpec], dataset: str, year: int) -> list[Spend]:
    """What the noisy tables will spend (exact tables spend nothing and are not DP)."""
    return [Spend(table=s.name, privacy_unit=s.privacy_unit_name, mechanism=s.mechanism,
                  rho=s.rho_spent, epsilon=s.epsilon)
            for s in specs if s.mechanism != "exact"]


def published_table(spec: TableSpec, frame: pd.DataFrame, year: int, release: str = "",
                    file: str | None = None) -> PublishedTable:
    """An exact table as published (e.g. read back from an earlier bundle's CSV, ``file``)."""
    dims = tuple(d.name for d in spec.dimensions)
    missing = [c for c in (*dims, "value", "status") if c not in frame.columns]
    if missing:
        raise ConfigError(f"tables.{spec.name}: published table lacks column {missing[0]}",
                          file=file, column=missing[0])
    exact = frame["status"] == "exact"
    values = pd.to_numeric(frame.loc[exact, "value"], errors="coerce")
    bad = int((values.isna() | (values < 0) | (values % 1 != 0)).sum())
    if bad:
        raise InputError(f"tables.{spec.name}: {bad} exact cell(s) do not hold a whole non-negative count",
                         file=file, column="value", rule="published-table")
    return PublishedTable(name=spec.name, dimensions=dims, frame=frame, period=period_of(spec, year),
                          family=spec.cell_family, protection_width=spec.suppression_rules.protection_width,
                          release=release or str(year))


def published_exact_tables(out_dir: Path, dataset: str, specs: Sequence[TableSpec], *,
                           before: int | None = None, through: int | None = None) -> list[PublishedTable]:
    """Exact tables this dataset published in the years ``before`` (exclusive) or ``through``
    (inclusive) a year, read back from their bundles."""
    from release.gate import read_public_csv

    found = []
    for spec in specs:
        if spec.mechanism != "exact":
            continue
        for folder in sorted((out_dir / dataset).glob("[0-9][0-9][0-9][0-9]")):
            year = int(folder.name)
            path = folder / "public" / "tables" / f"{spec.name}.csv"
            if path.is_file() and (before is None or year < before) and (through is None or year <= through):
                found.append(published_table(spec, read_public_csv(path), year, file=str(path)))
    return found


def period_of(spec: TableSpec, year: int) -> str:
    """What a table's cells describe. A month dimension dates every cell itself (rolling
    windows of different releases then share months); otherwise the cells are the year's."""
    return "" if any(d.kind == "month" for d in spec.dimensions) else str(year)


def build_tables(frames: Mapping[str, pd.DataFrame], specs: Sequence[TableSpec], *, dataset: str,
                 year: int, prior: Sequence[PublishedTable] = (), rng: np.random.Generator | None = None,
                 delta: float = DEFAULT_DELTA) -> TablesResult:
    rng = rng if rng is not None else np.random.default_rng()
    tables: dict[str, pd.DataFrame] = {}
    findings: list[Finding] = []
    measurements: list[dict[str, object]] = []
    summary: list[dict[str, object]] = []
    dropped: dict[str, int] = {}
    exact: list[tuple[TableSpec, ExactTable]] = []
    for spec in specs:
        if spec.source not in frames:
            raise ConfigError(f"tables.{spec.name}.source: no frame named '{spec.source}'")
        counts = tabulate(frames[spec.source], spec, year, rng)
        dropped[spec.name] = counts.rows_dropped
        findings.extend(_tabulation_findings(spec, counts))
        levels = [kept_axes(counts.dimensions, level) for level in spec.levels()]
        labels = pd.concat([level_labels(counts.dimensions, counts.categories, axes) for axes in levels],
                           ignore_index=True)
        if spec.mechanism == "exact":
            values = np.concatenate([level_values(counts.counts, counts.shape, a) for a in levels])
            frame = _long(labels, values, values, values, "exact")
            table = PublishedTable(name=spec.name, dimensions=counts.dimensions, frame=frame,
                                   period=period_of(spec, year), family=spec.cell_family,
                                   protection_width=spec.suppression_rules.protection_width,
                                   release=f"{dataset} {year}")
            exact.append((spec, ExactTable(table, spec.suppression_rules.threshold,
                                           spec.suppression_rules.cost)))
            continue
        vector = np.concatenate([level_values(counts.counts, counts.shape, a) for a in levels])
        bounds = noise.sensitivity(counts.shape, levels, max_rows_per_unit=spec.max_rows_per_unit,
                                   max_cells_per_unit=spec.max_cells_per_unit,
                                   max_rows_per_cell=spec.rows_per_cell)
        mechanism: noise.NoisyMechanism = spec.mechanism  # type: ignore[assignment]
        budget = float(spec.rho if mechanism == "discrete_gaussian" else spec.epsilon)  # type: ignore[arg-type]
        released = noise.release_noisy(vector, table=spec.name, mechanism=mechanism, budget=budget,
                                       bounds=bounds)
        processed = postprocess(released.values, counts.shape, levels, mechanism, released.scale)
        tables[spec.name] = _long(labels, *(np.concatenate([getattr(lv, k) for lv in processed.levels])
                                            for k in ("value", "lower", "upper")), "noisy")
        measurements.append(released.measurement | {
            "dataset": dataset, "year": year, "privacy_unit": spec.privacy_unit_name,
            "rho": spec.rho_spent, "delta": delta, "rounding": processed.rounding})
        summary.append(_noisy_summary(spec, released, processed.levels[0].value.size,
                                      tables[spec.name], delta))
    published: list[PublishedTable] = []
    if exact:
        protection = protect([e for _, e in exact], prior)
        findings.extend(protection.findings)
        for spec, entry in exact:
            frame = entry.table.frame.copy()
            hidden = protection.suppressed[spec.name]
            frame.loc[hidden, ["value", "lower", "upper"]] = pd.NA
            frame.loc[hidden, "status"] = "suppressed"
            tables[spec.name] = frame
            published.append(replace(entry.table, frame=frame))
            summary.append(_exact_summary(spec, frame))
        findings.extend(audit_suppression([*prior, *published]))  # the mandatory gate
    return TablesResult(tables=tables, findings=findings, spends=planned_spends(specs, dataset, year),
                        measurements=measurements, privacy_summary=summary, rows_dropped=dropped,
                        published=published)


def _long(labels: pd.DataFrame, value: np.ndarray, lower: np.ndarray, upper: np.ndarray,
          status: str) -> pd.DataFrame:
    frame = labels.copy()
    for name, column in zip(VALUE_COLUMNS[:3], (value, lower, upper)):
        frame[name] = pd.array(column, dtype="Int64")
    frame["status"] = pd.array([status] * len(frame), dtype="string")
    return frame


def _tabulation_findings(spec: TableSpec, counts: TableCounts) -> list[Finding]:
    out = []
    for code, severity, n, what in (
            ("contribution_bounded", "info", counts.rows_dropped,
             "rows beyond the per-unit contribution bounds were left out of the counts"),
            ("rows_without_privacy_unit", "warning", counts.rows_without_unit,
             "rows without a privacy-unit id cannot be bounded and were left out"),
            ("rows_outside_period", "info", counts.rows_outside_period,
             "rows without a month inside the table's years were left out")):
        if n:
            out.append(Finding(stage="tabulate", code=code, severity=severity,  # type: ignore[arg-type]
                               message=f"{n} {what}", file=spec.name, rule="contribution_bounds",
                               count=n))
    return out


def _noisy_summary(spec: TableSpec, released: noise.NoisyRelease, cells: int, frame: pd.DataFrame,
                   delta: float) -> dict[str, object]:
    """Plain-language lines meant for the public: nothing here is an exact count of the data
    (rows dropped by bounding are exact, so they stay in ``rows_dropped`` and the findings)."""
    widths = (frame["upper"] - frame["lower"]).astype(float)
    kind = "discrete Gaussian" if spec.mechanism == "discrete_gaussian" else "discrete Laplace"
    budget = (f"rho = {spec.rho:g} (zero-concentrated DP)" if spec.mechanism == "discrete_gaussian"
              else f"epsilon = {spec.epsilon:g} (pure DP, rho = {spec.rho_spent:g})")
    epsilon = epsilon_from_rho(spec.rho_spent, delta)
    return {
        "table": spec.name, "mechanism": spec.mechanism, "privacy_unit": spec.privacy_unit_name,
        "rho": spec.rho_spent, "epsilon": spec.epsilon, "delta": delta, "epsilon_at_delta": epsilon,
        "noise_scale": released.scale, "cells": cells,
        "median_interval_width": float(widths.median()),
        "meaning": (f"Each number is {spec.description}, plus random {kind} noise (scale "
                    f"{released.scale:.3g}) so that no single {spec.privacy_unit_name} can be detected. "
                    "Negative results were raised to zero and margins (rows marked All) were adjusted "
                    "to add up, so small counts are slightly too high on average."),
        "interval": ("lower and upper bound a 95% interval for the true count; half of the intervals "
                     f"in this table are at most {widths.median():g} wide."),
        "privacy": (f"This table spends {budget} per {spec.privacy_unit_name}, which implies "
                    f"epsilon = {epsilon:.3g} at delta = {delta:g}. Each {spec.privacy_unit_name} "
                    f"contributes at most {spec.max_rows_per_unit} rows in at most "
                    f"{spec.max_cells_per_unit} cells; rows beyond that were left out."),
    }


def _exact_summary(spec: TableSpec, frame: pd.DataFrame) -> dict[str, object]:
    rules = spec.suppression_rules
    hidden = int((frame["status"] == "suppressed").sum())
    return {
        "table": spec.name, "mechanism": "exact", "privacy_unit": spec.privacy_unit_name,
        "rho": 0.0, "epsilon": None, "cells_suppressed": hidden,
        "meaning": (f"Each number is {spec.description}, exactly (no noise; not covered by the "
                    f"differential-privacy guarantee). Counts from 1 to {rules.threshold} are "
                    f"hidden, and other cells are hidden with them so that no hidden count can be "
                    f"worked out from totals, linked tables or earlier releases; {hidden} cells are "
                    "hidden in all."),
        "interval": (f"published counts are exact (lower = upper = value); each hidden count stays "
                     f"uncertain over a range at least {rules.protection_width} wide."),
        "privacy": "no privacy budget is spent; protection rests on suppression only.",
    }
