"""Noisy tables: bounded counts -> measurements (drawn once, stored, re-used) -> post-processing.

A noisy table asks a ``Measurer`` for each of its measurements. The orchestrator's measurer
(``release.build.budget``) looks the measurement up in the ledger's store by the hash of the
table's declaration and a keyed hash of its bounded counts: the same data finds the same
draw (free: a change to post-processing costs nothing), changed data is a new draw, charged
before any noisy value exists outside the ledger. A table declared ``per_year`` is measured
one calendar year at a time, so a rolling window re-uses the years an earlier release
measured instead of drawing them again. Nothing returned carries a raw value.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import pandas as pd

from release.bundle.jsonl import canonical_json
from release.config.tables import TableSpec, data_years
from release.privacy.ledger import Spend, record_sha256
from release.stages import noise
from release.stages.postprocess import PostProcessed, postprocess
from release.stages.tabulate import (
    Counter,
    RowOrder,
    TableCounts,
    kept_axes,
    level_values,
    occurrences,
    tabulate,
)


@dataclass(frozen=True)
class MeasurementRequest:
    """One block's measurement as the ledger's measurer receives it, before any draw: its bounded counts,
    what it may spend, and the hash of its declaration, by which a stored draw is found and re-used."""

    dataset: str
    table: str
    release_year: int
    data_year: int
    privacy_unit: str
    mechanism: noise.NoisyMechanism
    budget: float              # rho (Gaussian) or epsilon (Laplace)
    rho: float                 # what the ledger is charged
    epsilon: float | None
    bounds: noise.Sensitivity
    values: np.ndarray         # bounded counts, never stored or shown
    spec_sha256: str           # the declaration (and the data year) this measurement answers

    def draw(self) -> dict[str, Any]:
        """A new OpenDP draw, as the record the store keeps (noisy values included)."""
        return noise.drawn_record(self.values, table=self.table, mechanism=self.mechanism, budget=self.budget,
                                  bounds=self.bounds, data_year=self.data_year, spec_sha256=self.spec_sha256)

    def inputs(self) -> dict[str, Any]:
        """What the witness service needs to make this draw itself (the service tier)."""
        return noise.draw_inputs(self.values, table=self.table, mechanism=self.mechanism, budget=self.budget,
                                 bounds=self.bounds, data_year=self.data_year, spec_sha256=self.spec_sha256)


@dataclass(frozen=True)
class Measured:
    """A measurement's answer: the noisy release, its record's hash, the ledger entry that paid for it
    (None without a ledger), whether a stored draw was re-used and, under the witness service, the
    service's signed statement of the draw."""

    release: noise.NoisyRelease
    sha256: str
    charge: str | None
    reused: bool
    witness_draw: dict[str, Any] | None = None  # the witness service's signed draw statement (service tier)


Measurer = Callable[[MeasurementRequest], Measured]


def direct_measurer(request: MeasurementRequest) -> Measured:
    """No ledger (library use and tests): every call is a new draw that nobody records."""
    record = request.draw()
    return Measured(noise.from_record(record), record_sha256(record), None, False)


def spec_sha256(dataset: str, spec: TableSpec, data_year: int) -> str:
    text = canonical_json({"dataset": dataset, "spec": spec.model_dump(mode="json"), "data_year": data_year})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class NoisyTable:
    """One noisy table after post-processing, with what it cost."""

    processed: PostProcessed
    scale: float                     # the scale of the published vector's noise (per value)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    spends: list[Spend] = field(default_factory=list)
    counts: list[TableCounts] = field(default_factory=list)


def _year_rows(frame: pd.DataFrame, column: str, year: int) -> pd.DataFrame:
    dated = frame[column].astype("string").str.slice(0, 4)
    return frame[(dated == f"{year:04d}").fillna(False).to_numpy(dtype=bool)]


def measured_block(spec: TableSpec) -> TableSpec:
    """What one measurement of ``spec`` covers: the table itself, or, for a per-year table, one
    year of it (its month dimension covers that year alone)."""
    if not spec.per_year:
        return spec
    dims = tuple(d.model_copy(update={"years_back": 0}) if d.kind == "month" else d for d in spec.dimensions)
    return spec.model_copy(update={"dimensions": dims, "per_year": None})


@dataclass(frozen=True)
class NoisyPlan:
    """A noisy table's measurements, before any is drawn (so the whole release can be checked
    against the cap first)."""

    spec: TableSpec
    requests: tuple[MeasurementRequest, ...]
    counts: tuple[TableCounts, ...]


def plan_noisy(frame: pd.DataFrame, spec: TableSpec, *, dataset: str, year: int, row_order: RowOrder | None,
               rng: np.random.Generator | None, counter: Counter | None = None) -> NoisyPlan:
    """Tabulate (per year if declared; the group-by ``counter``'s) and state the measurement each block needs."""
    mechanism = _noisy_mechanism(spec)
    declared = spec.rho if mechanism == "discrete_gaussian" else spec.epsilon
    assert declared is not None  # TableSpec requires rho of the Gaussian, epsilon of the Laplace
    budget = float(declared)
    block = measured_block(spec)
    requests, all_counts = [], []
    for data_year in data_years(spec, year):
        rows = _year_rows(frame, spec.per_year.column, data_year) if spec.per_year else frame
        counts = tabulate(rows, block, data_year, rng, row_order, counter)
        levels = [kept_axes(counts.dimensions, level) for level in block.levels()]
        vector = np.concatenate([level_values(counts.counts, counts.shape, a) for a in levels])
        bounds = noise.sensitivity(counts.shape, levels, max_rows_per_unit=spec.max_rows_per_unit,
                                   max_cells_per_unit=spec.max_cells_per_unit,
                                   max_rows_per_cell=spec.rows_per_cell, units_may_merge=spec.units_may_merge)
        requests.append(MeasurementRequest(
            dataset=dataset, table=spec.name, release_year=year, data_year=data_year,
            privacy_unit=str(spec.privacy_unit_name), mechanism=mechanism, budget=budget, rho=spec.rho_spent,
            epsilon=spec.epsilon, bounds=bounds, values=vector,
            spec_sha256=spec_sha256(dataset, block, data_year)))
        all_counts.append(counts)
    return NoisyPlan(spec, tuple(requests), tuple(all_counts))


def measure_noisy(plan: NoisyPlan, measurer: Measurer) -> NoisyTable:
    """Each block measured once (or found stored), assembled, post-processed."""
    spec = plan.spec
    measurements: list[dict[str, Any]] = []
    spends: list[Spend] = []
    scale = 0.0
    vectors = []
    for request in plan.requests:
        measured = measurer(request)
        vectors.append(measured.release.values)
        scale = measured.release.scale
        measurements.append(measured.release.measurement | {
            "dataset": request.dataset, "year": request.release_year, "data_year": request.data_year,
            "privacy_unit": spec.privacy_unit_name, "rho": spec.rho_spent, "measurement_sha256": measured.sha256,
            "ledger_charge": measured.charge, "reused": measured.reused,
            "noisy_values": [int(v) for v in measured.release.values]}
            | ({"witness_draw": measured.witness_draw} if measured.witness_draw is not None else {}))
        spends.append(Spend(table=spec.name, privacy_unit=str(spec.privacy_unit_name), mechanism=spec.mechanism,
                            rho=spec.rho_spent, epsilon=spec.epsilon, data_year=request.data_year,
                            reused=measured.reused, charge=measured.charge))
    processed, scale = post_processed(spec, vectors, [c.shape for c in plan.counts], scale)
    return NoisyTable(processed, scale, measurements, spends, list(plan.counts))


def post_processed(spec: TableSpec, vectors: Sequence[np.ndarray], shapes: Sequence[tuple[int, ...]],
                   scale: float) -> tuple[PostProcessed, float]:
    """The published table from its measurements' noisy vectors: assembled, then post-processed
    (deterministic: the same draws give the same cells, which approve and the audit recompute)."""
    shape, noisy, scale = _assemble(spec, vectors, shapes, scale)
    levels = [kept_axes(tuple(d.name for d in spec.dimensions), level) for level in spec.levels()]
    return postprocess(noisy, shape, levels, _noisy_mechanism(spec), scale), scale


def _noisy_mechanism(spec: TableSpec) -> noise.NoisyMechanism:
    """A noisy table's mechanism as the noise stage names it (every caller passes a table whose
    ``is_noisy`` it checked: only noisy tables are measured or replayed)."""
    return cast(noise.NoisyMechanism, spec.mechanism)


def replayed(spec: TableSpec, records: Sequence[Mapping[str, Any]], year: int) -> PostProcessed:
    """The table ``spec`` of release ``year`` recomputed from its stored measurements (one per data
    year, oldest first), with shapes from the declaration's codebooks."""
    block = measured_block(spec)
    shapes = [tuple(len(d.codebook(y)) for d in block.dimensions) for y in data_years(spec, year)]
    vectors = [np.asarray(r["noisy_values"], dtype=np.int64) for r in records]
    return post_processed(spec, vectors, shapes, float(records[-1]["scale"]))[0]


def _assemble(spec: TableSpec, vectors: Sequence[np.ndarray], shapes: Sequence[tuple[int, ...]],
              scale: float) -> tuple[tuple[int, ...], np.ndarray, float]:
    """The published vector from its yearly blocks: month blocks side by side along the month
    axis; without a month dimension, the years' vectors summed (noise scale times sqrt(years))."""
    if len(vectors) == 1:
        return shapes[0], vectors[0], scale
    month = next((i for i, d in enumerate(spec.dimensions) if d.kind == "month"), None)
    if month is None:
        return shapes[0], np.sum(np.stack(vectors), axis=0), scale * math.sqrt(len(vectors))
    names = tuple(d.name for d in spec.dimensions)
    shape = tuple(n * len(vectors) if i == month else n for i, n in enumerate(shapes[0]))
    parts = []
    for level in spec.levels():
        axes = kept_axes(names, level)
        size = math.prod(shapes[0][i] for i in axes)
        offset = sum(math.prod(shapes[0][i] for i in kept_axes(names, earlier))
                     for earlier in spec.levels()[:spec.levels().index(level)])
        blocks = [v[offset:offset + size].reshape([shapes[0][i] for i in axes]) for v in vectors]
        parts.append(np.concatenate(blocks, axis=axes.index(month)).reshape(-1))
    return shape, np.concatenate(parts), scale


def planned_spends(specs: Sequence[TableSpec], dataset: str, year: int) -> list[Spend]:
    """What one measurement of each noisy table costs (exact and summary tables spend nothing)."""
    return [Spend(table=s.name, privacy_unit=str(s.privacy_unit_name), mechanism=s.mechanism, rho=s.rho_spent,
                  epsilon=s.epsilon) for s in specs if s.is_noisy]


def keyed_row_order(mac: Callable[[str], str]) -> RowOrder:
    """Per-row priorities from the release key: a unit's kept rows depend on its own rows only
    (the truncation stays stable), and the same data gives the same counts (and draw) again."""
    def order(table: str, units: np.ndarray, cells: np.ndarray) -> np.ndarray:
        ranks = occurrences(units, cells)
        return np.array([int(mac(f"truncate\x1f{table}\x1f{u}\x1f{c}\x1f{r}")[:15], 16)
                         for u, c, r in zip(units, cells, ranks, strict=True)], dtype=np.int64)
    return order


def counts_mac(mac: Callable[[str], str], request: MeasurementRequest) -> str:
    """Keyed hash of the bounded counts: the store's key cannot be brute-forced to the counts."""
    return mac(f"counts\x1f{request.spec_sha256}\x1f{','.join(str(int(v)) for v in request.values)}")


def unit_summary(spends: Sequence[Spend]) -> Mapping[str, float]:
    out: dict[str, float] = {}
    for spend in spends:
        out[spend.privacy_unit] = out.get(spend.privacy_unit, 0.0) + spend.rho
    return out
