"""Scale: a multi-year synthetic FIOE corpus through the whole release, locally and on Ray (issue 15).

The corpus is the project's generator (``release sample``, 2020 back, each year its own seed, every
year in the Mark43 shape, built with ``--generation mark43``: the older systems' exports have no
narratives), written as one export folder per year. Each
configuration runs in a fresh process, so its peak memory is its own:
  local --jobs 1, local --jobs 2, --engine ray with 2 workers (in-process Ray).

**The release** (default): ``release fioe FIRST-LAST --input CORPUS`` (``release.build.years``), every
stage of every year, each year its own bundle. After each year the child records the seconds
since the run started and the driver's peak RSS so far (``getrusage``: this process only, not the
forked workers nor the Ray actors). Printed: per run, words/s over the whole corpus and the peak;
then how time and peak memory grow from 1 year to all of them. Memory stays flat when the years
are streamed: a year's export is read when its turn comes and released before the next.

**The engine only** (``--engine-only``): every narrative of the corpus through one ``redact_many``
(the redaction stage, the bulk of a build's PII work) with ``release.execution.workers.open_engine``, as
before; the corpus is then in memory at once, so its peak grows with it.

The load average is printed before and after: these machines are noisy, so compare ratios.

    .venv/bin/python benchmarks/bench_scale.py                                   # 10 years, ~57,000 reports
    .venv/bin/python benchmarks/bench_scale.py --years 10 --reports-per-year 570 # the same shape, 1/10
    .venv/bin/python benchmarks/bench_scale.py --engine-only                     # the redaction pass alone
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # this checkout, not only the installed one

LAST_YEAR = 2020
SHAPE = "mark43"  # every year's export in this record system's shape (--generation): each has narratives
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
    from release.execution.workers import open_engine
    from release.pii.engine import EngineSettings
    from release.pii.parallel import Execution

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


def write_corpus(folder: Path, years: int, reports: int) -> dict[int, int]:
    """One synthetic export per year under ``folder/<year>``, every year in today's shape (``SHAPE``:
    the older systems' exports have no narratives, and the point is the PII work); the words of
    each year's free text, as its policy names the columns."""
    import csv

    from release.api import BuildOptions, resolve, write_sample
    from release.config.policy import FREE_TEXT_TYPES

    words: dict[int, int] = {}
    for year in range(LAST_YEAR - years + 1, LAST_YEAR + 1):
        export = folder / str(year)
        write_sample("fioe", year, export, reports=reports, generation=SHAPE)
        policy = resolve(BuildOptions(dataset="fioe", year=year, input_dir=export, out_dir=folder / "none",
                                      generation=SHAPE)).policy
        words[year] = 0
        for file_policy in policy.files.values():
            free = [c for c, rule in file_policy.columns.items() if rule.type in FREE_TEXT_TYPES]
            with (export / file_policy.raw_file).open(encoding="utf-8", newline="") as handle:
                words[year] += sum(len((row.get(c) or "").split()) for row in csv.DictReader(handle) for c in free)
    return words


class StageClock:
    """A build's Progress that shows nothing and adds up the seconds each stage took, rounds
    merged ("verify (round 2): second scan" counts as "verify: second scan")."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        key = re.sub(r" \(round \d+\)", "", name)
        started = time.perf_counter()
        try:
            yield lambda n: None
        finally:
            self.seconds[key] = self.seconds.get(key, 0.0) + time.perf_counter() - started


def release_run(config: str, corpus_dir: Path, years: int) -> dict[str, object]:
    """One configuration in this process: ``release fioe FIRST-LAST`` over the corpus, with the
    seconds and peak RSS after each year."""
    from release.api import BuildOptions, build_release
    from release.pii.parallel import Execution

    engine_name, jobs = CONFIGS[config]
    first = LAST_YEAR - years + 1
    out = Path(tempfile.mkdtemp(prefix="bench-scale-out-"))
    marks: list[dict[str, float]] = []
    start = time.perf_counter()

    def build(options: BuildOptions) -> dict[str, object]:
        result = build_release(options)
        marks.append({"year": options.year, "s": time.perf_counter() - start, "peak_mb": _rss_mb()})
        return result

    from release.build import years as years_module
    clock = StageClock()
    options = BuildOptions(dataset="fioe", year=first, input_dir=corpus_dir, out_dir=out, progress=clock,
                           generation=SHAPE, execution=Execution(engine=engine_name, jobs=jobs))
    result = years_module.build_years(options, tuple(range(first, LAST_YEAR + 1)), build)
    shutil.rmtree(out, ignore_errors=True)
    return {"marks": marks, "drafts": result["drafts"], "blocked": result["blocked"], "stages": clock.seconds}


def release_main(args: argparse.Namespace, configs: list[str]) -> None:
    home = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    corpus_dir = home / "corpus"
    words = write_corpus(corpus_dir, args.years, args.reports_per_year)
    env = {**os.environ, "HOME": str(home / "home"), "RELEASE_HMAC_KEY_FILE": str(home / "hmac.key")}
    runs: dict[str, dict] = {}
    for config in configs:
        command = [sys.executable, __file__, "--release-one", config, "--corpus", str(corpus_dir),
                   "--years", str(args.years)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            sys.exit(f"{config} exited {done.returncode}: {done.stderr[-2000:]}")
        runs[config] = json.loads(done.stdout.strip().splitlines()[-1])
        last = runs[config]["marks"][-1]
        print(f"{LABELS[config]}: done in {last['s']:,.0f} s, peak {last['peak_mb']:,.0f} MB", flush=True)  # a long run's
    shutil.rmtree(home, ignore_errors=True)
    total_words = sum(words.values())
    print(f"\nthe release: release fioe {LAST_YEAR - args.years + 1}-{LAST_YEAR}, {args.years} year(s) x "
          f"{args.reports_per_year:,} reports, {total_words:,} narrative words; every stage of every year")
    print(f"{'run':26s} {'drafts':>6s} {'1st year s':>10s} {'all s':>8s} {'words/s':>8s} "
          f"{'peak MB 1st':>11s} {'peak MB all':>11s}")
    for config, run in runs.items():
        marks = run["marks"]
        print(f"{LABELS[config]:26s} {run['drafts']:6d} {marks[0]['s']:10.1f} {marks[-1]['s']:8.1f} "
              f"{total_words / marks[-1]['s']:8,.0f} {marks[0]['peak_mb']:11,.0f} {marks[-1]['peak_mb']:11,.0f}")
    print("\ngrowth with the years (seconds since the run started, and peak driver MB so far, after each year)")
    header = "".join(f"{'year ' + str(m['year']):>16s}" for m in next(iter(runs.values()))["marks"])
    print(f"{'run':26s}{header}")
    for config, run in runs.items():
        print(f"{LABELS[config]:26s}" + "".join(f"{m['s']:8.0f}s{m['peak_mb']:6.0f}M" for m in run["marks"]))
    stages = list(dict.fromkeys(name for run in runs.values() for name in run["stages"]))
    print("\nwhere the time went, all years (seconds in each stage of the build; the driver's view: a stage "
          "that runs on the workers while the driver does another is counted once)")
    print(f"{'stage':40s}" + "".join(f"{LABELS[c]:>26s}" for c in runs))
    for name in stages:
        print(f"{name:40s}" + "".join(f"{run['stages'].get(name, 0.0):26.1f}" for run in runs.values()))
    for config, run in runs.items():
        marks = run["marks"]
        print(f"{LABELS[config]}: time x{marks[-1]['s'] / marks[0]['s']:.2f} for x{len(marks)} years; "
              f"peak memory x{marks[-1]['peak_mb'] / marks[0]['peak_mb']:.2f}")


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
    parser.add_argument("--engine-only", action="store_true", help="one redaction pass over the corpus, not the release")
    parser.add_argument("--one", choices=list(CONFIGS), help=argparse.SUPPRESS)  # a child run (engine only)
    parser.add_argument("--release-one", choices=list(CONFIGS), help=argparse.SUPPRESS)  # a child run (release)
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.years, args.reports_per_year)))
        return 0
    if args.release_one:
        print(json.dumps(release_run(args.release_one, args.corpus, args.years)))
        return 0
    configs = [c for c in args.configs.split(",") if c]
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if not args.engine_only:
        release_main(args, configs)
        print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        return 0
    sizes = sorted({1, args.years})
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
