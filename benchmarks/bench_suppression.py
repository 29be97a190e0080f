"""Suppression: cells hidden vs the ILP optimum, and LP-audit time on 10,000-cell tables.

Run: .venv/bin/python benchmarks/bench_suppression.py [--quick]

1. Optimality on small tables: our ILP + audit cutting-plane loop against the exact
   optimum found by enumerating every complementary pattern (feasible only for tiny
   tables); both must pass the same LP audit.
2. Large tables (10,000 base cells, with margins): cells hidden, rounds of the loop,
   greedy repair passes, the best proven ILP lower bound, and wall time of protect()
   (bounded by suppress.PROTECT_BUDGET_S; "audit findings" > 0 means it stopped there
   and the release would be blocked) and of one audit_suppression() pass over the
   result (goal: audit <= 60 s on this 2-core machine).
Synthetic counts only.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from release.stages.suppress import ExactTable, PublishedTable, audit_suppression, protect  # noqa: E402
from release.stages.tabulate import level_labels, level_values  # noqa: E402


def make_table(counts: np.ndarray, margins: list[tuple[int, ...]], width: int = 10,
               name: str = "t") -> PublishedTable:
    shape = counts.shape
    dims = tuple(f"d{i}" for i in range(len(shape)))
    cats = tuple(tuple(f"c{j}" for j in range(n)) for n in shape)
    frames = []
    for axes in [tuple(range(len(shape))), *margins]:
        frame = level_labels(dims, cats, axes)
        frame["value"] = level_values(counts.reshape(-1), shape, axes)
        frames.append(frame)
    frame = pd.concat(frames, ignore_index=True)
    frame["status"] = "exact"
    return PublishedTable(name=name, dimensions=dims, frame=frame, period="2020", protection_width=width)


def with_mask(table: PublishedTable, mask: np.ndarray) -> PublishedTable:
    frame = table.frame.copy()
    frame.loc[mask, "status"] = "suppressed"
    frame.loc[mask, "value"] = pd.NA
    return PublishedTable(table.name, table.dimensions, frame, table.period,
                          protection_width=table.protection_width)


def brute_force(table: PublishedTable, threshold: int) -> tuple[int, int]:
    """Smallest total value hidden (ties: fewest cells) over every complementary pattern."""
    values = table.frame["value"].to_numpy(dtype=np.int64)
    primary = (values >= 1) & (values <= threshold)
    free = np.flatnonzero(~primary)
    best = (10**9, 10**9)
    for k in range(0, len(free) + 1):
        for extra in itertools.combinations(free, k):
            mask = primary.copy()
            mask[list(extra)] = True
            cost = int(values[list(extra)].sum() + len(extra))
            if cost >= best[0]:
                continue
            if not audit_suppression([with_mask(table, mask)]):
                best = (cost, len(extra))
    return best


def small_tables(rng: np.random.Generator, count: int) -> None:
    print("\n## Complementary suppression vs exhaustive optimum (cost = value hidden + cells)\n")
    print("| table | primary | ILP complementary | ILP cost | optimum cost | rounds |")
    print("|---|---|---|---|---|---|")
    for k in range(count):
        counts = rng.choice([0, 2, 5, 9, 14, 20, 30, 45], size=(3, 3), p=[.1, .15, .1, .1, .15, .15, .15, .1])
        table = make_table(counts, [(0,), (1,), ()])
        result = protect([ExactTable(table, 10, "value")])
        mask = result.suppressed["t"]
        assert not audit_suppression([with_mask(table, mask)])
        values = table.frame["value"].to_numpy()
        comp = mask & ~((values >= 1) & (values <= 10))
        ours = int(values[comp].sum() + comp.sum())
        optimum, _ = brute_force(table, 10)
        print(f"| 3x3 #{k} | {result.primary} | {int(comp.sum())} | {ours} | {optimum} | {result.rounds} |")


def large_tables(rng: np.random.Generator, quick: bool) -> None:
    print("\n## 10,000-cell tables: protect() and audit_suppression()\n")
    print("| shape | margins | log-mean | rows published | primary | complementary | cost | ILP lower bound | rounds | repairs "
          "| protect s | audit s | audit findings |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    cases = [((100, 100), [(0,), (1,), ()], 3.0),    # many small cells
             ((100, 100), [(0,), (1,), ()], 4.5),    # few small cells: more complementary work
             ((25, 20, 20), [(0, 1), (0, 2), (1, 2), (0,), (1,), (2,), ()], 3.0),
             ((25, 20, 20), [(0, 1), (0, 2), (1, 2), (0,), (1,), (2,), ()], 4.5)]
    for shape, margins, log_mean in cases[:2] if quick else cases:
        means = rng.lognormal(mean=log_mean, sigma=1.2, size=shape)
        counts = rng.poisson(means)
        table = make_table(counts, margins)
        started = time.perf_counter()
        result = protect([ExactTable(table, 10, "count")])
        protect_s = time.perf_counter() - started
        published = with_mask(table, result.suppressed["t"])
        started = time.perf_counter()
        findings = audit_suppression([published])
        audit_s = time.perf_counter() - started
        print(f"| {'x'.join(map(str, shape))} | {len(margins)} | {log_mean} | {len(table.frame)} | {result.primary} "
              f"| {result.complementary} | {result.objective:.0f} | {result.lower_bound:.0f} | {result.rounds} "
              f"| {result.repairs} | {protect_s:.1f} "
              f"| {audit_s:.1f} | {len(findings)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one large table, fewer small ones")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    small_tables(rng, 3 if args.quick else 8)
    large_tables(rng, args.quick)


if __name__ == "__main__":
    main()
