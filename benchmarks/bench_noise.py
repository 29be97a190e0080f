"""Noise: error against the optimum discrete Gaussian, and coverage of the 95% intervals.

Run: .venv/bin/python benchmarks/bench_noise.py [--runs N]

At rho = 0.5, for tables where a person adds 1 row (1 cell) or 3 rows in 3 distinct
cells, the mean absolute error of OpenDP's noisy counts is compared with E|Z| of a
discrete Gaussian with the sigma the sensitivity requires (sigma = Delta_2 / sqrt(2 rho),
the optimum for that sensitivity; goal: within 10%). Coverage is the share of cells
whose true count lies in the published [lower, upper] (goal 94-96%; integer intervals
cannot always hit 95%, so the exact coverage of the discrete interval is shown beside it).
Synthetic counts only; the true counts are fixed and only the noise varies.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from release.stages import noise  # noqa: E402
from release.stages.postprocess import postprocess  # noqa: E402
from release.stages.tabulate import level_values  # noqa: E402

RHO = 0.5


def dg_pmf(sigma: float) -> tuple[np.ndarray, np.ndarray]:
    z = np.arange(-int(40 * sigma) - 10, int(40 * sigma) + 11)
    weight = np.exp(-z.astype(float) ** 2 / (2 * sigma ** 2))
    return z, weight / weight.sum()


def run(shape: tuple[int, ...], levels: list[tuple[int, ...]], cells_per_person: int, runs: int,
        rng: np.random.Generator) -> dict[str, float]:
    truth = rng.poisson(20, size=shape).reshape(-1)
    vector = np.concatenate([level_values(truth, shape, axes) for axes in levels])
    bounds = noise.sensitivity(shape, levels, max_rows_per_unit=cells_per_person,
                               max_cells_per_unit=cells_per_person, max_rows_per_cell=1)
    raw_err, pub_err, covered, total, losses = [], [], 0, 0, []
    released = None
    for _ in range(runs):
        released = noise.release_noisy(vector, table="bench", mechanism="discrete_gaussian", budget=RHO,
                                       bounds=bounds)
        losses.append(released.privacy_loss)
        raw_err.append(np.abs(released.values - vector))
        processed = postprocess(released.values, shape, levels, "discrete_gaussian", released.scale)
        published = np.concatenate([lv.value for lv in processed.levels])
        lower = np.concatenate([lv.lower for lv in processed.levels])
        upper = np.concatenate([lv.upper for lv in processed.levels])
        pub_err.append(np.abs(published - vector))
        covered += int(((lower <= vector) & (vector <= upper)).sum())
        total += len(vector)
    assert released is not None
    sigma = released.scale
    z, pmf = dg_pmf(sigma)
    optimum = float((np.abs(z) * pmf).sum())
    half = math.ceil(noise.accuracy("discrete_gaussian", sigma)) - 1
    return {"sigma": sigma, "l2": bounds.l2, "mae_raw": float(np.mean(raw_err)),
            "mae_published": float(np.mean(pub_err)), "optimum": optimum,
            "coverage": covered / total, "exact_coverage": float(pmf[np.abs(z) <= half].sum()),
            "max_loss": max(losses)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    cases = [
        ("100 cells, no margins", (100,), [(0,)]),
        ("10x10, margins + total", (10, 10), [(0, 1), (0,), (1,), ()]),
        ("14x7x12 (FIOE people), 5 margins", (14, 7, 12), [(0, 1, 2), (0, 1), (0,), (1,), (2,), ()]),
    ]
    print(f"## Discrete Gaussian at rho = {RHO}: error and 95% interval coverage ({args.runs} runs each)\n")
    print("| table | cells/person | L2 sens. | sigma | MAE noisy | E|Z| optimum | ratio | MAE published "
          "| coverage | discrete-interval coverage | max map(d_in) | s/run |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, shape, levels in cases:
        for cells in (1, 3):
            runs = args.runs if math.prod(shape) <= 100 else max(20, args.runs // 5)
            started = time.perf_counter()
            r = run(shape, levels, cells, runs, rng)
            per_run = (time.perf_counter() - started) / runs
            print(f"| {label} | {cells} | {r['l2']:.3f} | {r['sigma']:.3f} | {r['mae_raw']:.3f} "
                  f"| {r['optimum']:.3f} | {r['mae_raw'] / r['optimum']:.3f} | {r['mae_published']:.3f} "
                  f"| {100 * r['coverage']:.1f}% | {100 * r['exact_coverage']:.1f}% | {r['max_loss']:.4f} "
                  f"| {per_run:.2f} |")


if __name__ == "__main__":
    main()
