"""Post-processing of noisy tables: consistent, non-negative integers inside their 95% intervals.

Works on the noisy vector only (post-processing cannot weaken differential privacy):
1. least squares: the consistent table closest to every noisy cell and margin. The
   workload is a set of marginals over a product domain, so ``A^T A`` is diagonal in a
   Kronecker basis and the solution and its per-cell variance have closed forms. It is
   unbiased, and its 95% intervals come from OpenDP's accuracy (clipped at zero);
2. top-down, as in the Census TopDown algorithm: levels from the coarsest (the total) to
   the cells. Each level's values are the non-negative least-squares solution closest to its
   estimate, held inside its intervals and adding up *exactly* to every coarser level
   already fixed (``scipy.optimize.lsq_linear``), then rounded to integers that still add
   up (controlled rounding, a small integer program: HiGHS via ``scipy.optimize.milp``).
   Raising negative cells to zero takes the mass from the other cells of the same margin,
   never from the margin, so margins stay as unbiased as their estimates (the old one-shot
   rounding moved the grand total by 17 noise SDs); ``benchmarks/bench_attacks.py`` measures it.

The published value lies inside its interval by construction; only if the constraints
cannot all hold (noise.md, section 5) is a bound relaxed, and then the interval is widened
to the value and the level says so (``widened``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, lsq_linear, milp

from release.stages import noise
from release.stages.native_output import quiet_stdout
from release.stages.tabulate import level_matrix, level_values

ALPHA = 0.05
ROUNDING_TIME_LIMIT_S = 30.0
ROUNDING_GAP = 1e-3
EQUALITY_WEIGHT = 1e4  # how hard the least-squares step holds the coarser levels (rounding makes it exact)


@dataclass(frozen=True)
class LevelValues:
    """One level's published integers, with their least-squares estimates and 95% intervals."""

    estimate: np.ndarray  # least-squares estimate (float)
    value: np.ndarray     # published non-negative integer
    lower: np.ndarray
    upper: np.ndarray
    noise_scale: float   # the mechanism scale that the interval assumes for this level
    widened: int = 0     # intervals widened to reach their value (0 unless constraints clashed)


@dataclass(frozen=True)
class PostProcessed:
    """Every level of one table, in the order asked for, and how the rounding ended."""

    levels: tuple[LevelValues, ...]
    rounding: str  # "optimal", "relaxed" (a bound had to give), "time_limit" or "fallback"


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


def _aggregate(shape: tuple[int, ...], finer: tuple[int, ...], coarser: tuple[int, ...]) -> sparse.csr_matrix:
    """0/1 matrix from the cells of level ``finer`` to those of level ``coarser`` (a subset)."""
    sub_shape = tuple(shape[i] for i in finer)
    return level_matrix(sub_shape, tuple(finer.index(i) for i in coarser))


def _nearest(target: np.ndarray, low: np.ndarray, high: np.ndarray, equal: sparse.csr_matrix | None,
             fixed: np.ndarray | None) -> np.ndarray:
    """Argmin |x - target|^2 with low <= x <= high and equal @ x = fixed (held by a heavy weight)."""
    if equal is None or equal.shape[0] == 0:
        clipped: np.ndarray = np.clip(target, low, high)
        return clipped
    matrix = sparse.vstack([sparse.identity(len(target), format="csr"), EQUALITY_WEIGHT * equal]).tocsr()
    assert fixed is not None  # given with ``equal``: the values the rows of ``equal`` must add up to
    rhs = np.concatenate([target, EQUALITY_WEIGHT * fixed])
    upper = np.where(high > low, high, low + 1e-9)
    solved = lsq_linear(matrix, rhs, bounds=(low, upper), method="trf", lsmr_tol="auto", tol=1e-10)
    nearest: np.ndarray = np.clip(np.asarray(solved.x, dtype=float), low, high)
    return nearest


def round_controlled(values: np.ndarray, low: np.ndarray, high: np.ndarray, equal: sparse.csr_matrix | None,
                     fixed: np.ndarray | None) -> tuple[np.ndarray, str]:
    """Integers next to ``values`` (floor or ceiling, within [low, high]) with ``equal @ x = fixed``
    exactly, minimizing the L1 distance; the bounds relax step by step if they must."""
    n = len(values)
    if equal is None or equal.shape[0] == 0:
        return np.clip(np.rint(values), low, high).astype(np.int64), "optimal"
    attempts = (("optimal", np.maximum(np.floor(values), low), np.minimum(np.ceil(values), high)),
                ("relaxed", np.maximum(np.floor(values) - 1, 0), np.ceil(values) + 1),
                ("relaxed", np.zeros(n), np.full(n, np.inf)))
    eye = sparse.identity(n, format="csr")
    for status, lo, hi in attempts:
        constraints = [LinearConstraint(sparse.hstack([equal, sparse.csr_matrix((equal.shape[0], n))]), fixed, fixed),
                       LinearConstraint(sparse.hstack([eye, -eye]), -np.inf, values),
                       LinearConstraint(sparse.hstack([-eye, -eye]), -np.inf, -values)]
        with quiet_stdout():
            result = milp(np.concatenate([np.zeros(n), np.ones(n)]), constraints=constraints,
                          integrality=np.concatenate([np.ones(n), np.zeros(n)]),
                          bounds=Bounds(np.concatenate([lo, np.zeros(n)]),
                                        np.concatenate([hi, np.full(n, np.inf)])),
                          options={"time_limit": ROUNDING_TIME_LIMIT_S, "mip_rel_gap": ROUNDING_GAP,
                                   "disp": False})
        if result.x is not None:
            return np.rint(result.x[:n]).astype(np.int64), status if result.status == 0 else "time_limit"
    return np.maximum(np.rint(values), 0).astype(np.int64), "fallback"


def _intervals(estimate: np.ndarray, half: float) -> tuple[np.ndarray, np.ndarray]:
    """Integers t with |t - e| < half around the estimate clamped at zero, e = max(estimate, 0): a
    count is never negative, so the interval is clipped at zero on the lower side only and keeps
    the noise's reach above it. Around the raw estimate, one far below zero gave an empty set,
    published as [0, 0] under sigma 9: a noisy value presented as certain (issue #12). Clamping
    only widens an interval, so coverage can only rise."""
    centre = np.maximum(estimate, 0.0)
    lower = np.maximum(np.floor(centre - half).astype(np.int64) + 1, 0)
    upper = np.ceil(centre + half).astype(np.int64) - 1
    return lower, np.maximum(upper, lower)


def postprocess(noisy: np.ndarray, shape: tuple[int, ...], levels: list[tuple[int, ...]],
                mechanism: noise.NoisyMechanism, scale: float) -> PostProcessed:
    estimate = np.round(least_squares(noisy, shape, levels), 9)
    factors = [variance_factor(shape, levels, axes) for axes in levels]
    bounds: dict[tuple[int, ...], tuple[np.ndarray, np.ndarray, float]] = {}
    for axes, factor in zip(levels, factors, strict=True):
        exact = math.isclose(factor, 1.0)  # the estimate is one noisy value: its own distribution
        half = noise.accuracy(mechanism, float(scale * math.sqrt(factor)), ALPHA, discrete=exact)
        bounds[axes] = (*_intervals(np.round(level_values(estimate, shape, axes), 9), half), factor)
    order = sorted(set(levels) | {tuple(range(len(shape)))}, key=lambda a: (len(a), a))
    fixed: dict[tuple[int, ...], np.ndarray] = {}
    statuses = []
    for axes in order:
        target = np.round(level_values(estimate, shape, axes), 9)
        low, high = (bounds[axes][0].astype(float), bounds[axes][1].astype(float)) if axes in bounds \
            else (np.zeros(len(target)), np.full(len(target), np.inf))
        parents = [p for p in fixed if set(p) < set(axes)]
        equal = sparse.vstack([_aggregate(shape, axes, p) for p in parents]).tocsr() if parents else None
        held = np.concatenate([fixed[p] for p in parents]).astype(float) if parents else None
        fixed[axes], status = round_controlled(_nearest(target, low, high, equal, held), low, high, equal, held)
        statuses.append(status)
    base = fixed[tuple(range(len(shape)))]
    out = []
    for axes, factor in zip(levels, factors, strict=True):
        value = level_values(base, shape, axes).astype(np.int64)
        lower, upper = bounds[axes][0], bounds[axes][1]
        widened = int(((value < lower) | (value > upper)).sum())
        out.append(LevelValues(estimate=np.round(level_values(estimate, shape, axes), 9), value=value,
                               lower=np.minimum(lower, value), upper=np.maximum(upper, value),
                               noise_scale=float(scale * math.sqrt(factor)), widened=widened))
    rounding = next((s for s in ("fallback", "time_limit", "relaxed") if s in statuses), "optimal")
    return PostProcessed(levels=tuple(out), rounding=rounding)
