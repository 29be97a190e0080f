"""Scale: a multi-year synthetic FIOE corpus through the PII engine locally and on Ray (issue 15).

The corpus is the project's generator (``release.synth.fioe``), one export per year (2020 back,
each its own seed), read back through the real loader and term collection
(``release.synth.engine_inputs``): every narrative with its record's terms and the year's roster.
Each configuration runs in a fresh process, so its peak memory is its own:
  local --jobs 1, local --jobs 2, --engine ray with 2 workers (in-process Ray),
each through ``release.pii.workers.open_engine`` (what the build, scan and audit use) and one
``redact_many`` over the whole corpus (the redaction stage, the bulk of a build's PII work).
Printed for each: engine start (model load; for Ray also Ray's start and the actors' loads),
redaction seconds, words/s, and the driver's peak RSS (``getrusage``: this process only, not the
forked workers nor the Ray actors) and how much of it came after the engine started; then how
time and memory grow from 1 year to all of them. The load average is printed before and after.

    .venv/bin/python benchmarks/bench_scale.py                                   # 10 years, ~57,000 reports
    .venv/bin/python benchmarks/bench_scale.py --years 10 --reports-per-year 570 # the same shape, 1/10
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LAST_YEAR = 2020
CONFIGS = {"local-1": ("local", 1), "local-2": ("local", 2), "ray-2": ("ray", 2)}
LABELS = {"local-1": "local --jobs 1", "local-2": "local --jobs 2", "ray-2": "--engine ray, 2 workers"}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def corpus(years: int, reports: int) -> tuple[list[str], list, tuple[str, ...]]:
    """Narratives and terms of ``years`` synthetic exports, and every year's officers."""
    from release.synth.engine_inputs import engine_inputs
    from release.synth.fioe import generate_fioe

    texts: list[str] = []
    terms: list = []
    officers: set[str] = set()
    for year in range(LAST_YEAR - years + 1, LAST_YEAR + 1):
        inputs = engine_inputs(generate_fioe(year, seed=year, n_reports=reports), year)
        texts += inputs.texts
        terms += inputs.terms
        officers.update(inputs.officers)
    return texts, terms, tuple(sorted(officers))


def one(config: str, years: int, reports: int) -> dict[str, float]:
    """One configuration in this process: the corpus, the engine, one redaction pass."""
    from release.pii.engine import EngineSettings
    from release.pii.workers import open_engine
    from release.run_options import Execution

    engine_name, jobs = CONFIGS[config]
    texts, terms, officers = corpus(years, reports)
    before_engine = _rss_mb()
    start = time.perf_counter()
    settings = EngineSettings(rules_dir=ROOT / "redaction_rules" / "pii", officers=officers)
    with open_engine(settings, Execution(engine=engine_name, jobs=jobs)) as engine:
        started = time.perf_counter()
        after_start = _rss_mb()
        engine.redact_many(texts, terms)
        done = time.perf_counter()
    return {"texts": len(texts), "words": sum(len(t.split()) for t in texts), "start_s": started - start,
            "redact_s": done - started, "peak_mb": _rss_mb(), "corpus_mb": before_engine,
            "after_start_mb": after_start}


def measure(config: str, years: int, reports: int) -> dict[str, float]:
    command = [sys.executable, __file__, "--one", config, "--years", str(years), "--reports-per-year", str(reports)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{config} over {years} years exited {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=10, help="years in the corpus (2020 back)")
    parser.add_argument("--reports-per-year", type=int, default=5_700, help="reports generated per year")
    parser.add_argument("--configs", default=",".join(CONFIGS), help=f"any of {', '.join(CONFIGS)}")
    parser.add_argument("--one", choices=list(CONFIGS), help=argparse.SUPPRESS)  # a child run
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.years, args.reports_per_year)))
        return 0
    configs = [c for c in args.configs.split(",") if c]
    sizes = sorted({1, args.years})
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    results = {(c, y): measure(c, y, args.reports_per_year) for y in sizes for c in configs}
    print(f"\n{args.years} year(s) x {args.reports_per_year:,} reports; one redaction pass over every narrative")
    print(f"{'run':26s} {'years':>5s} {'texts':>7s} {'words':>10s} {'start s':>8s} {'redact s':>9s} "
          f"{'words/s':>8s} {'peak MB':>8s} {'after start':>11s}")
    for (config, years), r in results.items():
        print(f"{LABELS[config]:26s} {years:5d} {r['texts']:7,.0f} {r['words']:10,.0f} {r['start_s']:8.1f} "
              f"{r['redact_s']:9.1f} {r['words'] / r['redact_s']:8,.0f} {r['peak_mb']:8,.0f} "
              f"{r['peak_mb'] - r['after_start_mb']:11,.0f}")
    if len(sizes) == 2:
        print(f"\ngrowth from 1 to {args.years} years (ratio of the larger run to the smaller)")
        print(f"{'run':26s} {'words':>7s} {'redact s':>9s} {'peak MB':>8s} {'after start':>11s}")
        for config in configs:
            small, large = results[(config, 1)], results[(config, args.years)]
            growth = (large["peak_mb"] - large["after_start_mb"]) - (small["peak_mb"] - small["after_start_mb"])
            print(f"{LABELS[config]:26s} {large['words'] / small['words']:7.2f} "
                  f"{large['redact_s'] / small['redact_s']:9.2f} {large['peak_mb'] / small['peak_mb']:8.2f} "
                  f"{growth:+10,.0f}M")
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
