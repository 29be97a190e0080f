"""Post-processing of noisy tables: consistent, non-negative integers with 95% intervals.

Works on the noisy vector only (post-processing cannot weaken differential privacy):
1. least squares: the consistent table closest to every noisy cell and margin. The
   workload is a set of marginals over a product domain, so ``A^T A`` is diagonal in a
   Kronecker basis and the solution and its per-cell variance have closed forms;
2. rounding by a small integer program (HiGHS via ``scipy.optimize.milp``): the
   non-negative integer cells whose cells *and* margins are closest, in L1 weighted by
   each estimate's standard error, to the least-squares values; margins published are
   the sums of the published cells, so they add up exactly;
3. intervals: integers within OpenDP's 95% accuracy of the least-squares estimate, for
   the noise scale of that estimate (the mechanism's own integer noise when the estimate
   is a single noisy value; the continuous distribution of that scale when it combines
   many), widened to contain the published value and clipped at zero. noise.md says where
   this is exact and where it is approximate.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

from release.stages import noise
from release.stages.tabulate import level_values, workload

ALPHA = 0.05
ROUNDING_TIME_LIMIT_S = 30.0
ROUNDING_GAP = 1e-3


@dataclass(frozen=True)
class LevelValues:
    estimate: np.ndarray  # least-squares estimate (float)
    value: np.ndarray     # published non-negative integer
    lower: np.ndarray
    upper: np.ndarray
    noise_scale: float   # the mechanism scale that the interval assumes for this level


@dataclass(frozen=True)
class PostProcessed:
    levels: tuple[LevelValues, ...]
    rounding: str  # "optimal", "time_limit" or "fallback"


def _subsets(k: int) -> list[tuple[int, ...]]:
    return [s for r in range(k + 1) for s in itertools.combinations(range(k), r)]


def _eigenvalue(subset: tuple[int, ...], shape: tuple[int, ...], levels: list[tuple[int, ...]]) -> float:
    return float(sum(math.prod(shape[d] for d in range(len(shape)) if d not in axes)
                     for axes in levels if set(subset) <= set(axes)))


def _project(v: np.ndarray, subset: tuple[int, ...]) -> np.ndarray:
    """P_S: centre along the axes in S, average along the others."""
    out = v
    for axis in range(v.ndim):
        mean = out.mean(axis=axis, keepdims=True)
        out = out - mean if axis in subset else np.broadcast_to(mean, out.shape)
    return out


def least_squares(noisy: np.ndarray, shape: tuple[int, ...], levels: list[tuple[int, ...]]) -> np.ndarray:
    """argmin_x ||A x - y||^2 over real base cells, via A^T A = sum_S lambda_S P_S."""
    back = np.zeros(shape)
    offset = 0
    for axes in levels:
        size = math.prod(shape[i] for i in axes)
        part = noisy[offset:offset + size].astype(float).reshape([shape[i] for i in axes])
        offset += size
        back = back + np.expand_dims(part, tuple(i for i in range(len(shape)) if i not in axes))
    solution = np.zeros(shape)
    for subset in _subsets(len(shape)):
        solution = solution + _project(back, subset) / _eigenvalue(subset, shape, levels)
    return solution.reshape(-1)


def variance_factor(shape: tuple[int, ...], levels: list[tuple[int, ...]], axes: tuple[int, ...]) -> float:
    """Var(estimate of one cell of level ``axes``) / Var(one noisy value)."""
    total = 0.0
    for subset in _subsets(len(shape)):
        if not set(subset) <= set(axes):
            continue
        term = math.prod(1 - 1 / shape[d] for d in subset)
        term *= math.prod(1 / shape[d] for d in axes if d not in subset)
        term *= math.prod(shape[d] for d in range(len(shape)) if d not in axes)
        total += term / _eigenvalue(subset, shape, levels)
    return total


def round_consistently(estimate: np.ndarray, matrix: sparse.csr_matrix,
                       weights: np.ndarray) -> tuple[np.ndarray, str]:
    """Non-negative integer base cells minimizing sum_i w_i |(A x)_i - (A x_hat)_i|.

    Each cell stays within one of its estimate's floor/ceiling (and >= 0): the optimum is
    almost always there, and it keeps the program small (about 3 s for 1,300 cells).
    """
    n, m = matrix.shape[1], matrix.shape[0]
    low = np.maximum(np.floor(estimate) - 1, 0)
    high = np.maximum(np.ceil(estimate) + 1, 0)
    target = matrix @ estimate
    eye = sparse.identity(m, format="csr")
    constraints = [LinearConstraint(sparse.hstack([matrix, -eye]), -np.inf, target),
                   LinearConstraint(sparse.hstack([-matrix, -eye]), -np.inf, -target)]
    result = milp(np.concatenate([np.zeros(n), weights]), constraints=constraints,
                  integrality=np.concatenate([np.ones(n), np.zeros(m)]),
                  bounds=Bounds(np.concatenate([low, np.zeros(m)]), np.concatenate([high, np.full(m, np.inf)])),
                  options={"time_limit": ROUNDING_TIME_LIMIT_S, "mip_rel_gap": ROUNDING_GAP, "disp": False})
    if result.x is not None:
        status = "optimal" if result.status == 0 else "time_limit"
        return np.rint(result.x[:n]).astype(np.int64), status
    return np.maximum(np.rint(estimate), 0).astype(np.int64), "fallback"


def postprocess(noisy: np.ndarray, shape: tuple[int, ...], levels: list[tuple[int, ...]],
                mechanism: noise.NoisyMechanism, scale: float) -> PostProcessed:
    estimate = np.round(least_squares(noisy, shape, levels), 9)
    factors = [variance_factor(shape, levels, axes) for axes in levels]
    sizes = [math.prod(shape[i] for i in axes) for axes in levels]
    weights = np.concatenate([np.full(size, 1 / math.sqrt(f)) for size, f in zip(sizes, factors)])
    base, rounding = round_consistently(estimate, workload(shape, levels), weights)
    out = []
    for axes, factor in zip(levels, factors):
        est = np.round(level_values(estimate, shape, axes), 9)
        value = level_values(base, shape, axes).astype(np.int64)
        exact = math.isclose(factor, 1.0)  # the estimate is one noisy value: its own distribution
        half = noise.accuracy(mechanism, float(scale * math.sqrt(factor)), ALPHA, discrete=exact)
        lower = np.floor(est - half).astype(np.int64) + 1
        upper = np.ceil(est + half).astype(np.int64) - 1
        lower = np.maximum(0, np.minimum(lower, value))
        upper = np.maximum(upper, value)
        out.append(LevelValues(estimate=est, value=value, lower=lower, upper=upper,
                               noise_scale=float(scale * math.sqrt(factor))))
    return PostProcessed(levels=tuple(out), rounding=rounding)
