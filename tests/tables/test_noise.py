"""Noise: sensitivity from the bounds, privacy maps within budget, OpenDP kept in its box.

DP tests assert guarantees (``meas.map(d_in) <= budget``), never noisy values.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import numpy as np
import pytest

from release.errors import BlockingFinding, EnvironmentProblem
from release.stages import noise
from release.stages.tabulate import workload

ROOT = Path(__file__).resolve().parents[2]
FULL_2X3 = [(0, 1), (0,), (1,), ()]


def brute_sensitivity(shape: tuple[int, ...], levels: list[tuple[int, ...]], rows: int, cells: int,
                      per_cell: int) -> tuple[int, int]:
    """Max L1 and L2^2 of one unit's contribution over every vector the bounds allow."""
    matrix = workload(shape, levels)
    best_l1 = best_l2 = 0
    for vector in itertools.product(range(per_cell + 1), repeat=math.prod(shape)):
        d = np.array(vector)
        if d.sum() > rows or (d > 0).sum() > cells:
            continue
        out = matrix @ d
        best_l1, best_l2 = max(best_l1, int(np.abs(out).sum())), max(best_l2, int((out ** 2).sum()))
    return best_l1, best_l2


@pytest.mark.parametrize(("shape", "levels", "bounds", "expected"), [
    ((4, 3), [(0, 1)], (1, 1, 1), (1, 1)),
    ((4, 3), [(0, 1)], (3, 3, 1), (3, 3)),
    ((4, 3), [(0, 1)], (3, 3, 3), (3, 9)),
    ((4, 3), [(0, 1)], (3, 2, 2), (3, 5)),
    ((5, 4), [(0, 1), (0,), (1,), ()], (1, 1, 1), (4, 4)),
    ((5, 4), [(0, 1), (1,), ()], (3, 3, 1), (9, 3 + 9 + 9)),
    ((14, 7, 12), [(0, 1, 2), (0, 1), (0,), (1,), (2,), ()], (1, 1, 1), (6, 6)),
], ids=["one-row", "three-distinct-cells", "three-rows-one-cell", "cell-cap-two", "margins-one-row",
        "bases-by-circumstance", "fioe-people"])
def test_sensitivity_from_bounds(shape: tuple[int, ...], levels: list[tuple[int, ...]],
                                 bounds: tuple[int, int, int], expected: tuple[int, int]) -> None:
    rows, cells, per_cell = bounds
    got = noise.sensitivity(shape, levels, max_rows_per_unit=rows, max_cells_per_unit=cells,
                            max_rows_per_cell=per_cell)
    assert (got.l1, got.l2_squared) == expected
    assert got.l2 >= math.sqrt(expected[1]) and got.l2 ** 2 >= expected[1]


@pytest.mark.parametrize("bounds", [(1, 1, 1), (2, 1, 2), (2, 2, 1), (3, 3, 1), (3, 2, 2), (3, 3, 3)],
                         ids=lambda b: "R{}-C{}-P{}".format(*b))
@pytest.mark.parametrize("levels", [[(0, 1)], FULL_2X3, [(0, 1), (0,)]], ids=["cells", "full", "rows"])
def test_sensitivity_is_never_below_the_worst_unit(bounds: tuple[int, int, int],
                                                   levels: list[tuple[int, ...]]) -> None:
    rows, cells, per_cell = bounds
    got = noise.sensitivity((2, 3), levels, max_rows_per_unit=rows, max_cells_per_unit=cells,
                            max_rows_per_cell=per_cell)
    worst_l1, worst_l2 = brute_sensitivity((2, 3), levels, rows, cells, per_cell)
    assert got.l1 >= worst_l1 and got.l2_squared >= worst_l2
    if len(levels) == 1 or cells == 1:  # tight: per level, and whenever a unit has one cell
        assert (got.l1, got.l2_squared) == (worst_l1, worst_l2)


@pytest.mark.parametrize(("mechanism", "budget"), [
    ("discrete_gaussian", 0.01), ("discrete_gaussian", 0.25), ("discrete_gaussian", 1.0),
    ("discrete_laplace", 0.1), ("discrete_laplace", 1.0),
], ids=["gauss-0.01", "gauss-0.25", "gauss-1", "laplace-0.1", "laplace-1"])
@pytest.mark.parametrize("bounds", [(1, 1, 1), (3, 3, 1), (3, 3, 3)], ids=["R1", "R3-P1", "R3-P3"])
def test_every_measurement_maps_within_its_budget(mechanism: noise.NoisyMechanism, budget: float,
                                                  bounds: tuple[int, int, int]) -> None:
    sens = noise.sensitivity((4, 3), FULL_2X3, max_rows_per_unit=bounds[0], max_cells_per_unit=bounds[1],
                             max_rows_per_cell=bounds[2])
    released = noise.release_noisy(np.arange(20), table="t", mechanism=mechanism, budget=budget, bounds=sens)
    assert released.privacy_loss <= budget
    assert released.measurement["d_in"] == (sens.l2 if mechanism == "discrete_gaussian" else sens.l1)
    assert noise.replay_privacy_loss(released.measurement) <= budget  # from the serialized form
    assert released.measurement["opendp_version"] == noise.OPENDP_VERSION == "0.16.0"
    assert released.values.dtype == np.int64 and len(released.values) == 20


def test_counts_are_signed_not_clamped() -> None:
    released = noise.release_noisy(np.zeros(400, dtype=int), table="t", mechanism="discrete_gaussian",
                                   budget=0.05, bounds=noise.Sensitivity(1, 1))
    assert released.values.min() < 0  # P(no negative among 400 draws at sigma ~3.2) < 1e-50


def test_release_refuses_when_the_map_exceeds_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(noise.dp, "binary_search_param", lambda *a, **k: 0.5)  # far too little noise
    with pytest.raises(BlockingFinding, match="exceeds the declared budget"):
        noise.release_noisy(np.arange(5), table="t", mechanism="discrete_gaussian", budget=0.1,
                            bounds=noise.Sensitivity(3, 9))


def test_opendp_errors_stop_at_the_noise_module(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise noise.OpenDPException("FailedFunction", "synthetic failure")
    monkeypatch.setattr(noise, "_make", broken)
    with pytest.raises(BlockingFinding, match=r"OpenDP could not build or run the measurement \(FailedFunction\)"):
        noise.release_noisy(np.arange(5), table="t", mechanism="discrete_laplace", budget=1.0,
                            bounds=noise.Sensitivity(1, 1))


@pytest.mark.parametrize("feature", ["idealized-numerics", "floating-point"])
def test_noise_is_refused_if_idealized_numerics_was_enabled(monkeypatch: pytest.MonkeyPatch,
                                                            feature: str) -> None:
    monkeypatch.setattr(noise, "enabled_features", lambda: frozenset({"contrib", feature}))
    with pytest.raises(EnvironmentProblem, match="idealized-numerics"):
        noise.release_noisy(np.arange(5), table="t", mechanism="discrete_gaussian", budget=1.0,
                            bounds=noise.Sensitivity(1, 1))


def test_only_contrib_is_ever_enabled() -> None:
    noise.release_noisy(np.arange(3), table="t", mechanism="discrete_gaussian", budget=1.0,
                        bounds=noise.Sensitivity(1, 1))
    assert noise.enabled_features() == frozenset({"contrib"})


def test_opendp_is_imported_by_the_noise_module_only() -> None:
    importers, enablers = [], []
    for path in sorted((ROOT / "release").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if re.search(r"^\s*(import opendp|from opendp)", text, re.MULTILINE):
            importers.append(path.relative_to(ROOT).as_posix())
        if re.search(r"enable_features\([^)]*(idealized|floating)", text):
            enablers.append(path.relative_to(ROOT).as_posix())
    assert importers == ["release/stages/noise.py"]
    assert enablers == []


@pytest.mark.parametrize(("mechanism", "scale"), [("discrete_gaussian", 1.0), ("discrete_gaussian", 3.0),
                                                  ("discrete_laplace", 2.0)])
def test_accuracy_is_a_95_percent_bound(mechanism: noise.NoisyMechanism, scale: float) -> None:
    """P(|Z| >= a) <= 0.05, computed from the exact pmf (not by sampling)."""
    a = noise.accuracy(mechanism, scale)
    z = np.arange(-200, 201)
    weight = np.exp(-z ** 2 / (2 * scale ** 2)) if mechanism == "discrete_gaussian" else np.exp(-np.abs(z) / scale)
    pmf = weight / weight.sum()
    assert pmf[np.abs(z) >= a].sum() <= 0.05
