"""False alarms of ``redactions_redetected`` on honest builds of the City's real years (issue #12, round 27).

Run: .venv/bin/python benchmarks/bench_redetect.py [--years 2019 2020 2022] [--data DIR] [--rules DIR]
     [--expectations DIR] [--json]

For each year, copies the City's FIO files from ``../shared/data/boston/`` into a temporary folder
under the contract's names (never into the project), builds ``release fioe YEAR`` there as a fresh
process (a throw-away HOME and HMAC key), then runs ``release audit --raw --no-scan
--allow-unverified`` on the draft and reports the check ``redactions_redetected``: the texts and
logged spans it re-detected, how many texts carry exactly the engine's first round and how many
exactly its verify rounds replayed (and how many a reviewer touched), its status and problem count
(each problem on an honest build is a false alarm), and the wall time of the build and of the audit.
Develop on 2019 and 2020; 2022 is kept for final figures. The City's 2022 file holds another column's
values in ``weather`` (a shifted export): the build blocks and its packet says to re-export it, or to set
the column to ``drop`` and regenerate the suites (``python -m release.config.suite_domains --rules DIR
--expectations DIR``); ``--rules`` and ``--expectations`` give such copies (outside the project).

Exit status: 0 reported; 4 the City's files are absent.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "boston"
SYSTEM = {2019: "rms", 2020: "mark43", 2022: "mark43"}


def _cli(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "release", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, check=False)


def run(year: int, data: Path, work: Path, rules: list[str], expectations: list[str]) -> dict[str, object]:
    raw, out = work / "raw", work / "out"
    raw.mkdir(parents=True)
    for contract in ("fieldcontact", "fieldcontact_name"):
        shutil.copyfile(data / f"{contract}_{year}_{SYSTEM[year]}.csv", raw / f"{contract}.csv")
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASE_")}
    env.update(HOME=str(work / "home"), RELEASE_HMAC_KEY=secrets.token_hex(32))
    started = time.perf_counter()
    built = _cli(["fioe", str(year), "--input", str(raw), "--out", str(out), *rules, *expectations, "--json"], env, work)
    build_seconds = time.perf_counter() - started
    try:
        status = json.loads(built.stdout).get("status")
    except json.JSONDecodeError:
        status = None
    if status is None:
        return {"year": year, "build_exit": built.returncode, "error": built.stderr.strip()[-300:]}
    started = time.perf_counter()
    audited = _cli(["audit", "fioe", str(year), "--out", str(out), "--raw", str(raw), *rules, "--no-scan",
                    "--allow-unverified", "--json"], env, work)
    audit_seconds = time.perf_counter() - started
    report = json.loads(audited.stdout) if audited.stdout.startswith("{") else {}
    checks = {c["name"]: c for c in report.get("checks", [])}
    check = checks.get("redactions_redetected", {})
    return {"year": year, "system": SYSTEM[year], "build_exit": built.returncode, "status": status,
            "build_seconds": round(build_seconds, 1), "audit_exit": audited.returncode,
            "audit_seconds": round(audit_seconds, 1), "check": check.get("status", "absent"),
            "texts": check.get("detail", {}).get("texts"), "spans": check.get("detail", {}).get("spans_checked"),
            "as_first_round": check.get("detail", {}).get("texts_as_first_round"),
            "as_verify_rounds": check.get("detail", {}).get("texts_as_verify_rounds"),
            "reviewed": check.get("detail", {}).get("texts_reviewed"),
            "false_alarms": check.get("problem_count", len(check.get("problems", [])))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--years", type=int, nargs="+", default=[2019, 2020], choices=sorted(SYSTEM))
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--rules", type=Path, help="a rules folder for the build and the audit")
    parser.add_argument("--expectations", type=Path, help="an expectations folder for the build")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not all((args.data / f"fieldcontact_{y}_{SYSTEM[y]}.csv").is_file() for y in args.years):
        print(f"the City's FIO files are not in {args.data} (see ../shared/data/boston/SOURCES.md)", file=sys.stderr)
        return 4
    rows = []
    for year in args.years:
        with tempfile.TemporaryDirectory(prefix=f"redetect-{year}-") as work:
            rows.append(run(year, args.data, Path(work),
                            ["--rules", str(args.rules.resolve())] if args.rules else [],
                            ["--expectations", str(args.expectations.resolve())] if args.expectations else []))
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'year':>4} {'system':>6} {'build':>7} {'status':>7} {'audit':>7} {'check':>6} {'texts':>7} "
          f"{'spans':>7} {'1st round':>9} {'rounds':>6} {'reviewed':>8} {'false alarms':>12}")
    for r in rows:
        cells = [r.get(k, "") for k in ("year", "system", "build_seconds", "status", "audit_seconds", "check", "texts",
                                        "spans", "as_first_round", "as_verify_rounds", "reviewed", "false_alarms")]
        print("{:>4} {:>6} {:>6}s {:>7} {:>6}s {:>6} {:>7} {:>7} {:>9} {:>6} {:>8} {:>12}".format(*(str(c) for c in cells)))
        if r.get("error"):
            print(f"     build exit {r.get('build_exit')}: {r['error']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
