"""Run every benchmark in turn and print their tables (not part of the test run).

Run: .venv/bin/python benchmarks/run_all.py [--quick]
--quick passes each script its small-size option, for a smoke run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = [  # (script, quick arguments)
    ("bench_release.py", []),
    ("bench_leak.py", ["--reports", "800"]),
    ("bench_presidio_synth.py", []),
    ("bench_throughput.py", ["--limit", "800"]),
    ("bench_noise.py", ["--runs", "20"]),
    ("bench_suppression.py", ["--quick"]),
    ("bench_parse.py", ["--repeat", "5"]),
    ("bench_attacks.py", ["--rebuilds", "2", "--draws", "20"]),
    ("bench_sample_provenance.py", []),
]


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    failed = 0
    for script, quick_args in SCRIPTS:
        path = HERE / script
        if not path.is_file():
            continue
        print(f"\n=== {script} ===", flush=True)
        done = subprocess.run([sys.executable, str(path), *(quick_args if quick else [])])
        failed += done.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
