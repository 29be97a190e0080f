"""Post-processing: consistent non-negative integers, exact least squares, intervals around values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import lsqr

from release.stages import postprocess as pp
from release.stages.tabulate import level_values, workload

STRUCTURES = {
    "cells-only": ((6,), [(0,)]),
    "two-way-full": ((4, 3), [(0, 1), (0,), (1,), ()]),
    "three-way-some": ((5, 4, 3), [(0, 1, 2), (0, 1), (2,), ()]),
    "fioe-people": ((14, 7, 12), [(0, 1, 2), (0, 1), (0,), (1,), (2,), ()]),
}


@pytest.mark.parametrize(("shape", "levels"), STRUCTURES.values(), ids=STRUCTURES.keys())
def test_least_squares_and_variance_match_generic_linear_algebra(shape: tuple[int, ...],
                                                                 levels: list[tuple[int, ...]]) -> None:
    matrix = workload(shape, levels)
    noisy = np.random.default_rng(0).normal(10, 3, matrix.shape[0])
    closed = pp.least_squares(noisy, shape, levels)
    generic = lsqr(matrix, noisy, atol=1e-13, btol=1e-13)[0]
    assert np.allclose(closed, generic, atol=1e-8)
    if math.prod(shape) <= 100:
        inverse = np.linalg.inv((matrix.T @ matrix).toarray())
        for axes in levels:
            row = workload(shape, [axes])[[0]].toarray()
            assert pp.variance_factor(shape, levels, axes) == pytest.approx(float((row @ inverse @ row.T)[0, 0]))


@settings(max_examples=40, deadline=None)
@given(structure=st.sampled_from(list(STRUCTURES)[:3]), seed=st.integers(0, 2**32 - 1),
       mechanism=st.sampled_from(["discrete_gaussian", "discrete_laplace"]),
       scale=st.floats(0.5, 20.0))
def test_published_tables_are_consistent_nonnegative_and_inside_their_intervals(
        structure: str, seed: int, mechanism: str, scale: float) -> None:
    shape, levels = STRUCTURES[structure]
    rng = np.random.default_rng(seed)
    size = workload(shape, levels).shape[0]
    noisy = rng.integers(-15, 40, size)  # any noisy vector, including negative and inconsistent values
    result = pp.postprocess(noisy, shape, levels, mechanism, scale)  # type: ignore[arg-type]
    cells = result.levels[0].value
    for axes, level in zip(levels, result.levels, strict=True):
        assert level.value.dtype == np.int64 and (level.value >= 0).all()
        assert (level.value == level_values(cells, shape, axes)).all()  # margins add up exactly
        assert (level.lower <= level.value).all() and (level.value <= level.upper).all()
        assert (level.lower >= 0).all()


def test_without_margins_the_interval_is_the_mechanism_interval() -> None:
    noisy = np.array([5, 0, -3, 12])
    result = pp.postprocess(noisy, (4,), [(0,)], "discrete_gaussian", 1.0)
    half = int(math.ceil(pp.noise.accuracy("discrete_gaussian", 1.0))) - 1
    level = result.levels[0]
    assert level.value.tolist() == [5, 0, 0, 12]  # negatives raised to zero, nothing else moves
    assert level.lower.tolist() == [5 - half, 0, 0, 12 - half]
    assert level.upper.tolist() == [5 + half, half, half, 12 + half]  # -3: the interval of 0, not a narrower one


@settings(max_examples=40, deadline=None)
@given(structure=st.sampled_from(list(STRUCTURES)[:3]), seed=st.integers(0, 2**32 - 1),
       mechanism=st.sampled_from(["discrete_gaussian", "discrete_laplace"]), scale=st.floats(1.0, 20.0))
def test_no_noisy_value_is_published_with_a_zero_width_interval(structure: str, seed: int, mechanism: str,
                                                                scale: float) -> None:
    """issue #12 (observation): values whose estimate fell far below zero were published as [0, 0]
    under sigma 9, as if certain. With noise, every interval keeps its reach above zero: a guarantee
    over any noisy vector (far negative ones included), not a property of one draw."""
    shape, levels = STRUCTURES[structure]
    size = workload(shape, levels).shape[0]
    noisy = np.random.default_rng(seed).integers(-80, 40, size)
    result = pp.postprocess(noisy, shape, levels, mechanism, scale)  # type: ignore[arg-type]
    for level in result.levels:
        assert (level.upper > level.lower).all()
        assert (level.lower <= level.value).all() and (level.value <= level.upper).all()


@settings(max_examples=30, deadline=None)
@given(structure=st.sampled_from(list(STRUCTURES)[1:3]), seed=st.integers(0, 2**32 - 1), scale=st.floats(0.5, 20.0))
def test_top_down_holds_the_coarsest_level_at_its_estimate(structure: str, seed: int, scale: float) -> None:
    """issue #12: negative cells raised to zero take their mass from the other cells of the margin,
    never from the margin. The grand total (the coarsest level) is its least-squares estimate
    rounded, whatever the cells do, so it carries no bias from the clamping below it."""
    shape, levels = STRUCTURES[structure]
    rng = np.random.default_rng(seed)
    truth = rng.choice([0, 0, 0, 1, 2, 30], size=math.prod(shape))  # many zeros: the old rounding pushed totals up
    noisy = np.concatenate([level_values(truth, shape, axes) for axes in levels]) \
        + np.rint(rng.normal(0, scale, workload(shape, levels).shape[0])).astype(np.int64)
    result = pp.postprocess(noisy, shape, levels, "discrete_gaussian", scale)
    total = result.levels[levels.index(())]
    estimate = float(total.estimate[0])
    if estimate >= 0:
        assert abs(int(total.value[0]) - estimate) <= 0.5 + 1e-9
    for level in result.levels:
        assert level.widened == 0 or result.rounding != "optimal"  # inside its interval, never stretched to it
