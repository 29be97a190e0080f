"""Facade for the orchestrator: declared tables -> published long-form tables.

``build_tables`` runs, per table: for a **summary**, a recount of the public record-level
file (exact, no privacy claim); for a **noisy** table, tabulate (bounded contributions) ->
measurements through the ``measure`` callback (the ledger's store: drawn once, charged,
re-used) -> post-processing; for an **exact** table, tabulate -> suppression (primary,
complementary ILP, LP audit). Before any noise is drawn, every protected table is recounted
from the public files as an outsider would (``release.privacy.recount``): one that the files give
away is blocked. The suppression audit then runs over this release, every other year's
published tables (noisy ones as interval constraints) and the public microdata.
Nothing returned carries a raw value; findings carry counts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from release.build.tables_noisy import (
    MeasurementRequest,
    Measurer,
    direct_measurer,
    keyed_row_order,
    measure_noisy,
    plan_noisy,
    planned_spends,
)
from release.build.tables_text import exact_summary, noisy_summary, summary_summary
from release.bundle.places import first_versions
from release.config.tables import MERGED_UNITS, SPLIT_UNITS, VALUE_COLUMNS, FrameSpec, TableSpec, TablesPolicy, load_tables_policy
from release.errors import ConfigError, InputError
from release.model import Finding, Severity
from release.privacy import linkage, recount
from release.privacy.ledger import Spend
from release.stages.suppress import ExactTable, PublishedTable, audit_suppression, protect
from release.stages.tabulate import Counter, TableCounts, kept_axes, level_labels, level_values, tabulate

__all__ = ["PublishedTable", "Spend", "TableSpec", "TablesPolicy", "TablesResult", "build_tables",
           "load_table_specs", "load_tables_policy", "period_of", "planned_spends", "published_table",
           "published_tables"]
DEFAULT_DELTA = 1e-9
@dataclass(frozen=True)
class TablesResult:
    """What ``build_tables`` gives the build: the long-form tables to publish, the findings (counts only),
    and what the manifest's ``privacy`` section and the ledger's binding entry record of the draws."""

    tables: dict[str, pd.DataFrame]
    findings: list[Finding]
    spends: list[Spend]
    measurements: list[dict[str, object]]
    privacy_summary: list[dict[str, object]]
    rows_dropped: dict[str, int]
    published: list[PublishedTable] = field(default_factory=list)  # exact tables, for other years' audits
    linkage: dict[str, dict[str, object]] = field(default_factory=dict)  # table -> what linking exposes (private)


def load_table_specs(path: Path) -> list[TableSpec]:
    return list(load_tables_policy(path).tables)


def published_table(spec: TableSpec, frame: pd.DataFrame, year: int, release: str = "",
                    file: str | None = None) -> PublishedTable:
    """A table as published (read back from a bundle's CSV, ``file``): exact and suppressed
    cells, and noisy cells whose interval the LP attacker uses as a constraint."""
    dims = tuple(d.name for d in spec.dimensions)
    missing = [c for c in (*dims, "value", "status") if c not in frame.columns]
    if missing:
        raise ConfigError(f"tables.{spec.name}: published table lacks column {missing[0]}",
                          file=file, column=missing[0])
    for status, columns in (("exact", ("value",)), ("noisy", ("lower", "upper"))):
        rows = frame["status"] == status
        for column in columns if rows.any() else ():
            values = pd.to_numeric(frame.loc[rows, column] if column in frame.columns else pd.Series(dtype=object),
                                   errors="coerce")
            bad = int((values.isna() | (values < 0) | (values % 1 != 0)).sum()) if len(values) else int(rows.sum())
            if bad:
                raise InputError(f"tables.{spec.name}: {bad} {status} cell(s) do not hold a whole non-negative "
                                 f"{column}", file=file, column=column, rule="published-table")
    return PublishedTable(name=spec.name, dimensions=dims, frame=frame, period=period_of(spec, year),
                          family=spec.cell_family, protection_width=spec.suppression_rules.protection_width,
                          release=release or str(year))


def published_tables(out_dir: Path, dataset: str, specs: Sequence[TableSpec], *, exclude: int | None = None,
                     through: int | None = None, generation: str | None = None) -> list[PublishedTable]:
    """Exact and noisy tables this dataset published in every year (but ``exclude``; up to
    ``through``), read back from their bundles: on a rebuild, later years count too. Of a split
    year, the part of ``generation`` only (``bundles.first_versions``)."""
    from release.bundle.read import read_public_csv

    found = []
    for spec in specs:
        if spec.mechanism == "summary":
            continue
        for year, folder in first_versions(dataset, out_dir, generation):
            path = folder / "public" / "tables" / f"{spec.name}.csv"
            if path.is_file() and year != exclude and (through is None or year <= through):
                found.append(published_table(spec, read_public_csv(path), year, file=str(path)))
    return found


def published_microdata(out_dir: Path, dataset: str, policy: TablesPolicy, files: Mapping[str, str], *,
                        exclude: int | None = None, through: int | None = None,
                        generation: str | None = None) -> list[PublishedTable]:
    """Every exact table recounted from each year's published record-level files (``files``: policy
    file name -> public file name pattern): the LP attacker's known equations. Of a split year,
    the part of ``generation`` only: another system's files hold other columns."""
    from release.bundle.read import read_public_record

    found = []
    exact = [s for s in policy.tables if s.mechanism == "exact"]
    for year, folder in first_versions(dataset, out_dir, generation) if exact else []:
        if year == exclude or (through is not None and year > through):
            continue
        # each file whole, its CSV parts joined (``record_parts``): a year written in parts is known too
        read = {name: read_public_record(folder / "public", pattern.format(year=year))
                for name, pattern in files.items()}
        public = {name: frame for name, frame in read.items() if frame is not None}
        for spec in exact:
            values = recount.recount(spec, policy.frames.get(spec.source), public, year)
            if values is not None:
                found.append(recount.as_published(spec, values, year, period_of(spec, year),
                                                  f"public microdata {year}"))
    return found


def published_exact_tables(out_dir: Path, dataset: str, specs: Sequence[TableSpec], *,
                           before: int | None = None, through: int | None = None) -> list[PublishedTable]:
    """Kept for callers that want earlier years only; the audits use ``published_tables``."""
    return [t for t in published_tables(out_dir, dataset, specs, through=through)
            if before is None or (t.release.isdigit() and int(t.release) < before)]


def period_of(spec: TableSpec, year: int) -> str:
    """What a table's cells describe. A month dimension dates every cell itself (rolling
    windows of different releases then share months); otherwise the cells are the year's."""
    return "" if any(d.kind == "month" for d in spec.dimensions) else str(year)


def _merged_units_declared(spec: TableSpec, frame: pd.DataFrame) -> list[Finding]:
    """Noise calibrated to a unit's rows being removed is too little when the frame's units may
    join people: removing one of them changes the unit's row instead (noise.md, section 2)."""
    if not spec.is_noisy or spec.units_may_merge or not frame.attrs.get(MERGED_UNITS):
        return []
    return [Finding(stage="tables", code="units_may_merge_undeclared", severity="blocking",
                    message=f"a unit of the frame '{spec.source}' may hold two or more people (its person key "
                            "joins records by more than one identifier), but the table does not declare "
                            "units_may_merge: true, so its noise would not cover one person changing a unit's "
                            "row; declare it in the tables policy", file=spec.name, rule="units_may_merge")]


def _split_units_withheld(spec: TableSpec, frame: pd.DataFrame) -> list[Finding]:
    """A unit joined through one person (their surname and date of birth shared with one row, their
    person id with another) falls apart when that person is removed: two units change, not one row of
    one, and the noise covers only the latter (noise.md, section 2). Such a table is withheld."""
    count = int(frame.attrs.get(SPLIT_UNITS) or 0)
    if not spec.is_noisy or count == 0:
        return []
    return [Finding(stage="tables", code=linkage.WITHHELD, severity="warning",
                    message=f"{count} unit(s) of the frame '{spec.source}' hold a person who alone joins the others "
                            "(by one key with some rows, by another with others): removing that person would split "
                            "the unit in two, which the table's noise does not cover. The table is withheld from "
                            "this release (nothing of it is drawn, charged or published); it is published again when "
                            "no unit is joined that way", file=spec.name, rule="units_may_merge", count=count)]


def withheld_tables(specs: Sequence[TableSpec], frames: Mapping[str, pd.DataFrame],
                    model: Mapping[str, FrameSpec] | None, public_files: recount.PublicFiles) -> set[str]:
    """The declared tables the build withholds from a release of these frames and public files: what
    ``release audit --raw`` (and approve and publish with ``--raw``) replays, so that which tables a
    release leaves out is the build's, never the analyst's choice (round 35, F1)."""
    withheld = set()
    for spec in specs:
        if spec.source not in frames:
            continue
        found, _ = linkage.check_linkage(spec, frames, linkage.linkage_of(model, spec), public_files)
        if any(f.code == linkage.WITHHELD for f in [*found, *_split_units_withheld(spec, frames[spec.source])]):
            withheld.add(spec.name)
    return withheld


def build_tables(frames: Mapping[str, pd.DataFrame], specs: Sequence[TableSpec], *, dataset: str,
                 year: int, prior: Sequence[PublishedTable] = (), rng: np.random.Generator | None = None,
                 delta: float = DEFAULT_DELTA, measure: Measurer = direct_measurer,
                 mac: Callable[[str], str] | None = None, model: Mapping[str, FrameSpec] | None = None,
                 public_files: recount.PublicFiles | None = None,
                 precheck: Callable[[Sequence[MeasurementRequest]], None] | None = None,
                 counter: Counter | None = None) -> TablesResult:
    """``model`` and ``public_files`` (the protection model and the record-level files as they
    will be published, each row with its load row key for the linkage check's truth) turn on the
    recount checks; the orchestrator always passes them, and
    ``precheck``, which refuses the whole release before any draw if its new charges would
    pass a cap. ``counter``: where each table's group-by runs (``tabulate.count`` when None; the
    build passes its engine's, which under ``--engine ray`` counts on the actors)."""
    rng = rng if rng is not None else np.random.default_rng()
    row_order = keyed_row_order(mac) if mac is not None else None
    result = TablesResult({}, [], [], [], [], {})
    outside = {s.name: _recount(s, model, public_files, year) for s in specs}
    for spec in specs:
        if spec.source not in frames:
            raise ConfigError(f"tables.{spec.name}.source: no frame named '{spec.source}'")
        truth = recount.all_rows(frames[spec.source], spec, year) if public_files is not None else None
        result.findings.extend(recount.check_table(spec, truth, outside[spec.name]) if model is not None else [])
        found, exposure = linkage.check_linkage(spec, frames, linkage.linkage_of(model, spec), public_files)
        result.findings.extend([*found, *_merged_units_declared(spec, frames[spec.source]),
                                *_split_units_withheld(spec, frames[spec.source])])
        if exposure is not None:
            result.linkage[spec.name] = exposure.to_dict()
    if any(f.severity == "blocking" for f in result.findings):
        return result  # nothing is drawn for a release that is blocked anyway
    withheld = {f.file for f in result.findings if f.code == linkage.WITHHELD}
    specs = [s for s in specs if s.name not in withheld]
    plans = {s.name: plan_noisy(frames[s.source], s, dataset=dataset, year=year, row_order=row_order, rng=rng,
                               counter=counter)
             for s in specs if s.is_noisy}
    if precheck is not None:
        precheck([r for plan in plans.values() for r in plan.requests])
    exact: list[tuple[TableSpec, ExactTable]] = []
    for spec in specs:
        frame = frames[spec.source]
        if spec.mechanism == "summary":
            known = outside[spec.name]
            values = known if known is not None else recount.all_rows(frame, spec, year)
            if values is None:  # no public files to recount, and the frame lacks a column: refused as tabulate does
                absent = [c for c in spec.columns_used() if c not in frame.columns]
                raise ConfigError(f"tables.{spec.name}: frame '{spec.source}' has no column {', '.join(absent)}",
                                  column=absent[0])
            result.tables[spec.name] = _long(labels(spec, year), values, values, values, "exact")
            result.privacy_summary.append(summary_summary(spec, model))
            continue
        if spec.is_noisy:
            noisy = measure_noisy(plans[spec.name], measure)
            _record_counts(result, spec, noisy.counts)
            bounds = {k: np.concatenate([getattr(lv, k) for lv in noisy.processed.levels])
                      for k in ("value", "lower", "upper")}
            result.tables[spec.name] = _long(labels(spec, year), bounds["value"], bounds["lower"], bounds["upper"],
                                             "noisy")
            result.measurements.extend(m | {"delta": delta, "rounding": noisy.processed.rounding}
                                       for m in noisy.measurements)
            result.spends.extend(noisy.spends)
            result.privacy_summary.append(noisy_summary(spec, noisy, result.tables[spec.name], delta))
            continue
        counts = tabulate(frame, spec, year, rng, row_order, counter)
        _record_counts(result, spec, [counts])
        levels = [kept_axes(counts.dimensions, level) for level in spec.levels()]
        values = np.concatenate([level_values(counts.counts, counts.shape, a) for a in levels])
        table = PublishedTable(name=spec.name, dimensions=counts.dimensions,
                               frame=_long(labels(spec, year), values, values, values, "exact"),
                               period=period_of(spec, year), family=spec.cell_family,
                               protection_width=spec.suppression_rules.protection_width,
                               release=f"{dataset} {year}")
        exact.append((spec, ExactTable(table, spec.suppression_rules.threshold, spec.suppression_rules.cost,
                                       spec.suppression_rules.lower, spec.suppression_rules.upper,
                                       _external(spec))))
    if exact:
        _suppress(result, exact, [*prior, *_microdata(exact, outside, year)], year)
    return result


def _recount(spec: TableSpec, model: Mapping[str, FrameSpec] | None, files: recount.PublicFiles | None,
             year: int) -> np.ndarray | None:
    if model is None or files is None:
        return None
    return recount.recount(spec, model.get(spec.source), files, year)


def _microdata(exact: list[tuple[TableSpec, ExactTable]], outside: Mapping[str, np.ndarray | None],
               year: int) -> list[PublishedTable]:
    """The public record-level files as the LP attacker's known equations."""
    return [recount.as_published(spec, values, year, period_of(spec, year), "public microdata")
            for spec, _ in exact if (values := outside.get(spec.name)) is not None]


def _external(spec: TableSpec) -> tuple[tuple[str, ...], ...]:
    names = tuple(d.name for d in spec.dimensions)
    return tuple(tuple(n for n in names if n in margin) for margin in spec.external_margins)


def _suppress(result: TablesResult, exact: list[tuple[TableSpec, ExactTable]], prior: Sequence[PublishedTable],
              year: int) -> None:
    protection = protect([e for _, e in exact], prior)
    result.findings.extend(protection.findings)
    for spec, entry in exact:
        frame = entry.table.frame.copy()
        hidden = protection.suppressed[spec.name]
        frame.loc[hidden, ["value", "lower", "upper"]] = pd.NA
        frame.loc[hidden, "status"] = "suppressed"
        result.tables[spec.name] = frame
        result.published.append(replace(entry.table, frame=frame))
        result.privacy_summary.append(exact_summary(spec, frame))
    result.findings.extend(audit_suppression([*prior, *result.published]))  # the mandatory gate


def labels(spec: TableSpec, year: int) -> pd.DataFrame:
    """The dimension columns of every row of a table, in the order the build writes them."""
    names = tuple(d.name for d in spec.dimensions)
    categories = tuple(d.codebook(year) for d in spec.dimensions)
    return pd.concat([level_labels(names, categories, kept_axes(names, level)) for level in spec.levels()],
                     ignore_index=True)


def _long(labels: pd.DataFrame, value: np.ndarray, lower: np.ndarray, upper: np.ndarray,
          status: str) -> pd.DataFrame:
    frame = labels.copy()
    for name, column in zip(VALUE_COLUMNS[:3], (value, lower, upper), strict=True):
        frame[name] = pd.array(column, dtype="Int64")
    frame["status"] = pd.array([status] * len(frame), dtype="string")
    return frame


def _record_counts(result: TablesResult, spec: TableSpec, counts: Sequence[TableCounts]) -> None:
    dropped = sum(c.rows_dropped for c in counts)
    result.rows_dropped[spec.name] = dropped
    left_out: tuple[tuple[str, Severity, int, str], ...] = (
            ("contribution_bounded", "info", dropped,
             "rows beyond the per-unit contribution bounds were left out of the counts"),
            ("rows_without_privacy_unit", "warning", sum(c.rows_without_unit for c in counts),
             "rows without a privacy-unit id cannot be bounded and were left out"),
            ("rows_outside_period", "info", sum(c.rows_outside_period for c in counts),
             "rows without a month inside the table's years were left out"))
    for code, severity, n, what in left_out:
        if n:
            result.findings.append(Finding(stage="tabulate", code=code, severity=severity,
                                           message=f"{n} {what}", file=spec.name, rule="contribution_bounds",
                                           count=n))
