"""Whole-process wall time and peak memory of `release fioe 2020` on the bundled sample.

Run: .venv/bin/python benchmarks/bench_release.py [--repeat N] [--input DIR --year Y]
Each run is a fresh process (model load included), writing to a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_once(year: int, input_dir: str | None) -> tuple[float, float, dict]:
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, "-c", "import cli; cli.main()", "fioe", str(year), "--out", out, "--json"]
        if input_dir:
            command += ["--input", input_dir]
        env = dict(os.environ, RELEASE_HMAC_KEY="dca93b968a4dd413b5d3a13ca868eed66587e7e81d06e57c941fd07b6a6373aa")
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if done.returncode != 0:
            sys.exit(f"release exited {done.returncode}: {done.stderr.strip()[-400:]}")
        result = json.loads(done.stdout)
    return elapsed, max(peak, before) / 1024, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--year", type=int, default=2020)
    parser.add_argument("--input", default=None)
    args = parser.parse_args()
    rows = []
    for attempt in range(args.repeat):
        elapsed, peak_mib, result = run_once(args.year, args.input)
        rows.append((attempt + 1, elapsed, peak_mib, result["redactions"],
                     sum(o.get("rows", 0) for o in result["outputs"])))
    print(f"release fioe {args.year} ({'bundled sample' if not args.input else args.input}), {os.cpu_count()} cores")
    print(f"{'run':>4} {'wall s':>8} {'peak MiB':>9} {'log entries':>12} {'public rows':>12}")
    for run, elapsed, peak, entries, public_rows in rows:
        print(f"{run:>4} {elapsed:>8.1f} {peak:>9.0f} {entries:>12} {public_rows:>12}")


if __name__ == "__main__":
    main()
