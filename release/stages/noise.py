"""Noise: the only module that imports OpenDP (see noise.md for the privacy argument).

Given counts whose per-unit contributions were bounded and verified by ``tabulate``, it
derives the L1/L2 sensitivity of the whole published vector (cells and margins), builds
an OpenDP integer measurement (discrete Gaussian under zCDP, or discrete Laplace under
pure DP), calibrates its scale, checks ``meas.map(d_in) <= budget`` and refuses to
release otherwise, and serializes the measurement. Only the ``contrib`` feature is
enabled; a process that enabled ``idealized-numerics`` is refused. OpenDP exceptions stop
here and become ``BlockingFinding``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import opendp.prelude as dp
from opendp.mod import GLOBAL_FEATURES, OpenDPException

from release.errors import BlockingFinding, EnvironmentProblem

dp.enable_features("contrib")

NoisyMechanism = Literal["discrete_gaussian", "discrete_laplace"]
FORBIDDEN_FEATURES = frozenset({"idealized-numerics", "floating-point"})
OPENDP_VERSION: str = str(dp.__version__)


def enabled_features() -> frozenset[str]:
    return frozenset(GLOBAL_FEATURES)


def _refuse_forbidden_features() -> None:
    if enabled_features() & FORBIDDEN_FEATURES:
        raise EnvironmentProblem("OpenDP's idealized-numerics feature is enabled in this process; "
                                 "noise is refused (it reopens the floating-point attack)",
                                 rule="opendp-features")


@dataclass(frozen=True)
class Sensitivity:
    """How far one privacy unit can move the published vector (cells and margins)."""

    l1: int
    l2_squared: int

    @property
    def l2(self) -> float:
        """sqrt(l2_squared), rounded up to the next float so it never understates."""
        root = math.sqrt(self.l2_squared)
        while Fraction(root) ** 2 < self.l2_squared:
            root = math.nextafter(root, math.inf)
        return root


def sensitivity(shape: tuple[int, ...], levels: list[tuple[int, ...]], *, max_rows_per_unit: int,
                max_cells_per_unit: int, max_rows_per_cell: int, units_may_merge: bool = False) -> Sensitivity:
    """Tight per-level L1/L2 bounds, summed over levels (derivation in noise.md).

    One unit adds ``total = min(R, C*P)`` rows. In a level whose cells each pool ``fan`` base
    cells, it touches at most ``min(C, cells)`` cells, each by at most
    ``cap = min(total, P*min(fan, C))``; the L2 norm is largest when whole ``cap``s are
    filled first. ``units_may_merge``: a unit (a keyed person) may hold two people, so adding
    or removing one person can *change* the unit's rows; for non-negative contributions
    ``|d - d'|_1 <= |d|_1 + |d'|_1`` and ``|d - d'|_2^2 <= |d|_2^2 + |d'|_2^2``, so both double.
    """
    total = min(max_rows_per_unit, max_cells_per_unit * max_rows_per_cell)
    l1 = l2_squared = 0
    for axes in levels:
        cells = math.prod(shape[i] for i in axes)
        fan = math.prod(shape[i] for i in range(len(shape)) if i not in axes)
        support = min(max_cells_per_unit, cells)
        cap = min(total, max_rows_per_cell * min(fan, max_cells_per_unit))
        full, rest = divmod(total, cap)
        if full >= support:
            l1 += support * cap
            l2_squared += support * cap * cap
        else:
            l1 += total
            l2_squared += full * cap * cap + rest * rest
    factor = 2 if units_may_merge else 1
    return Sensitivity(l1=factor * l1, l2_squared=factor * l2_squared)


@dataclass(frozen=True)
class NoisyRelease:
    """One table's noisy vector and what stands behind it: the mechanism, its scale, the privacy loss checked
    against the budget and the serialized measurement."""

    values: np.ndarray           # signed noisy integers, same order as the input vector
    mechanism: NoisyMechanism
    scale: float                 # OpenDP's scale: sigma (Gaussian) or b (Laplace)
    d_in: float
    budget: float                # declared rho (Gaussian) or epsilon (Laplace)
    privacy_loss: float          # meas.map(d_in), checked <= budget
    measurement: dict[str, Any]  # json-able record for the bundle


def _make(mechanism: NoisyMechanism, scale: float) -> Any:
    domain = dp.vector_domain(dp.atom_domain(T="i64"))
    if mechanism == "discrete_gaussian":
        return dp.m.make_gaussian(domain, dp.l2_distance(T=float), scale)
    return dp.m.make_laplace(domain, dp.l1_distance(T="i64"), scale)


def release_noisy(values: np.ndarray, *, table: str, mechanism: NoisyMechanism, budget: float,
                  bounds: Sensitivity) -> NoisyRelease:
    """Add OpenDP integer noise to ``values`` (bounded counts) for a declared budget."""
    _refuse_forbidden_features()
    d_in: float = bounds.l2 if mechanism == "discrete_gaussian" else bounds.l1
    try:
        scale = float(dp.binary_search_param(lambda s: _make(mechanism, s), d_in=d_in,
                                             d_out=budget, T=float))
        meas = _make(mechanism, scale)
        loss = float(meas.map(d_in))
        if loss > budget:
            raise BlockingFinding(f"privacy map {loss:.6g} exceeds the declared budget {budget:.6g}",
                                  file=table, rule="privacy_map")
        noisy = np.asarray(meas([int(v) for v in values]), dtype=np.int64)
        serialized = json.loads(dp.serialize(meas))  # type: ignore[no-untyped-call]  # OpenDP 0.16: unannotated
    except (OpenDPException, ValueError) as exc:
        variant = getattr(exc, "variant", type(exc).__name__)
        raise BlockingFinding(f"OpenDP could not build or run the measurement ({variant})",
                              file=table, rule="opendp") from None
    record = {
        "table": table,
        "opendp_version": OPENDP_VERSION,
        "features": sorted(enabled_features()),
        "mechanism": mechanism,
        "output_measure": "zero_concentrated_divergence" if mechanism == "discrete_gaussian"
        else "max_divergence",
        "input_metric": "l2_distance" if mechanism == "discrete_gaussian" else "l1_distance",
        "d_in": d_in,
        "l1_sensitivity": bounds.l1,
        "l2_sensitivity_squared": bounds.l2_squared,
        "scale": scale,
        "declared_budget": budget,
        "privacy_loss": loss,
        "vector_length": int(len(values)),
        "serialized": serialized,
    }
    return NoisyRelease(values=noisy, mechanism=mechanism, scale=scale, d_in=d_in, budget=budget,
                        privacy_loss=loss, measurement=record)


def drawn_record(values: np.ndarray, *, table: str, mechanism: NoisyMechanism, budget: float, bounds: Sensitivity,
                 data_year: int, spec_sha256: str) -> dict[str, Any]:
    """A new draw as the record the ledger stores (noisy values included): the one function the
    ledger's builds and the witness service (which makes every draw in the service tier) both use."""
    released = release_noisy(values, table=table, mechanism=mechanism, budget=budget, bounds=bounds)
    return {**released.measurement, "data_year": data_year, "spec_sha256": spec_sha256,
            "noisy_values": [int(v) for v in released.values]}


def draw_inputs(values: np.ndarray, *, table: str, mechanism: NoisyMechanism, budget: float, bounds: Sensitivity,
                data_year: int, spec_sha256: str) -> dict[str, Any]:
    """What the witness service is sent to make a draw (``record_from_inputs``): the bounded counts
    go to it transiently, never stored, logged or echoed there."""
    return {"table": table, "mechanism": mechanism, "budget": budget, "l1": bounds.l1,
            "l2_squared": bounds.l2_squared, "data_year": data_year, "spec_sha256": spec_sha256,
            "counts": [int(v) for v in values]}


def record_from_inputs(inputs: object) -> dict[str, Any]:
    """``drawn_record`` from what ``draw_inputs`` sent; ValueError (naming the field, never a value)
    when the inputs are not of that shape."""
    if not isinstance(inputs, dict):
        raise ValueError("the draw's inputs are not an object")
    ints = {"l1": 0, "l2_squared": 0, "data_year": 1}
    for name, least in ints.items():
        if not (isinstance(inputs.get(name), int) and not isinstance(inputs[name], bool) and inputs[name] >= least):
            raise ValueError(f"the draw's {name} is not a whole number")
    budget = inputs.get("budget")
    if not (isinstance(budget, (int, float)) and not isinstance(budget, bool) and math.isfinite(budget) and budget > 0):
        raise ValueError("the draw's budget is not a positive number")
    if inputs.get("mechanism") not in ("discrete_gaussian", "discrete_laplace"):
        raise ValueError("the draw's mechanism is not discrete_gaussian or discrete_laplace")
    if not all(isinstance(inputs.get(k), str) and 0 < len(inputs[k]) <= 200 for k in ("table", "spec_sha256")):
        raise ValueError("the draw names no table or declaration")
    counts = inputs.get("counts")
    if not (isinstance(counts, list) and counts and len(counts) <= 5_000_000
            and all(isinstance(v, int) and not isinstance(v, bool) and 0 <= v < 2**62 for v in counts)):
        raise ValueError("the draw's counts are not a list of non-negative whole numbers")
    return drawn_record(np.asarray(counts, dtype=np.int64), table=inputs["table"], mechanism=inputs["mechanism"],
                        budget=float(budget), bounds=Sensitivity(inputs["l1"], inputs["l2_squared"]),
                        data_year=inputs["data_year"], spec_sha256=inputs["spec_sha256"])


def from_record(record: dict[str, Any]) -> NoisyRelease:
    """A stored measurement (``release.privacy.ledger``) as a release: the same draw, nothing new."""
    return NoisyRelease(values=np.asarray(record["noisy_values"], dtype=np.int64), mechanism=record["mechanism"],
                        scale=float(record["scale"]), d_in=float(record["d_in"]),
                        budget=float(record["declared_budget"]), privacy_loss=float(record["privacy_loss"]),
                        measurement={k: v for k, v in record.items() if k != "noisy_values"})


@lru_cache(maxsize=256)
def epsilon_from_rho(rho: float, delta: float) -> float:
    """Epsilon at ``delta`` implied by rho-zCDP, from OpenDP's ``make_zCDP_to_approxDP``.

    A Gaussian measurement whose map is at least ``rho`` (the scale is nudged down until it
    is) is converted; OpenDP's privacy profile then gives epsilon(delta), never below the truth."""
    if rho <= 0:
        return 0.0
    _refuse_forbidden_features()
    try:
        scale = math.sqrt(1 / (2 * rho))
        meas = dp.m.make_gaussian(dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale)
        while float(meas.map(1.0)) < rho:  # type: ignore[no-untyped-call]  # OpenDP 0.16: Measurement.map unannotated
            scale = math.nextafter(scale, 0.0)
            meas = dp.m.make_gaussian(dp.atom_domain(T=float, nan=False), dp.absolute_distance(T=float), scale)
        return float(dp.c.make_zCDP_to_approxDP(meas).map(1.0).epsilon(delta))  # type: ignore[no-untyped-call]  # OpenDP 0.16: unannotated
    except OpenDPException as exc:
        raise BlockingFinding(f"OpenDP could not convert rho to epsilon ({exc.variant})", rule="opendp") from None


def replay_privacy_loss(record: dict[str, Any]) -> float:
    """Rebuild a recorded measurement from its serialization and map its d_in again (audit)."""
    _refuse_forbidden_features()
    try:
        meas = dp.deserialize(json.dumps(record["serialized"]))  # type: ignore[no-untyped-call]  # OpenDP 0.16: unannotated
        return float(meas.map(record["d_in"]))
    except (OpenDPException, ValueError, KeyError, TypeError, AttributeError) as exc:  # a damaged record
        raise BlockingFinding(f"recorded measurement cannot be replayed ({type(exc).__name__})",
                              file=str(record.get("table", "")), rule="opendp") from None


@lru_cache(maxsize=4096)
def accuracy(mechanism: NoisyMechanism, scale: float, alpha: float = 0.05, discrete: bool = True) -> float:
    """``a`` with P(|noise| >= a) <= alpha (OpenDP's accuracy functions).

    ``discrete``: the noise is the mechanism's own integer noise. Otherwise it is a linear
    combination of many such draws (a least-squares estimate) and the continuous
    distribution with the same scale is the approximation used (noise.md, section 6).
    """
    try:
        if mechanism == "discrete_gaussian":
            return float(dp.discrete_gaussian_scale_to_accuracy(scale, alpha) if discrete
                         else dp.gaussian_scale_to_accuracy(scale, alpha))
        return float(dp.discrete_laplacian_scale_to_accuracy(scale, alpha) if discrete
                     else dp.laplacian_scale_to_accuracy(scale, alpha))
    except OpenDPException as exc:
        raise BlockingFinding(f"OpenDP accuracy failed ({exc.variant})", rule="opendp") from None
