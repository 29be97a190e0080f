"""`release fioe 2019` on the City's public 2019 RMS files, renamed to the contract (issue #16).

Run: .venv/bin/python benchmarks/bench_generations.py [--data DIR] [--keep DIR] [--json]

Copies ``fieldcontact_2019_rms.csv`` and ``fieldcontact_name_2019_rms.csv`` from
``../shared/data/boston/`` into a temporary folder as ``fieldcontact.csv`` and
``fieldcontact_name.csv`` (never into the project), runs ``release fioe 2019 --input DIR --json``
as a fresh process (a throw-away HOME and HMAC key, so the user's ledger and key are never
touched) and reports:

- the generation the build chose, and how;
- the City's columns against the public files' (every one kept?);
- ``stop_duration``: non-blank cells in the City's file and in the public file, and the cells
  the build blanked (findings on the column);
- the frisk and search flags: the City's ``Y`` count against the public ``1`` count;
- the exit code, the bundle's status and its packet; a blocked build's findings by check.

Exit status: 0 reported (whatever the build's own exit code); 4 the City's files are absent.
The build may end blocked on the narratives (residual findings in the City's partly redacted
text): that is reported, not a failure of this script; it must still end in a bundle.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "boston"
FILES = {"fieldcontact.csv": "fieldcontact_2019_rms.csv", "fieldcontact_name.csv": "fieldcontact_name_2019_rms.csv"}
PUBLIC = {"fieldcontact.csv": "fioe_2019_contacts.csv", "fieldcontact_name.csv": "fioe_2019_persons.csv"}
FLAGS = ("frisked", "searchperson", "searchvehicle", "summonsissued")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def _filled(rows: list[dict[str, str]], column: str) -> int:
    return sum(1 for r in rows if (r.get(column) or "").strip() not in ("", "NULL"))


def _policy_rules(policy_file: str) -> dict[tuple[str, str], str]:
    """(raw file, column) -> why the policy does not publish it (its rule type and reason)."""
    from release.config import load_policy

    policy = load_policy(ROOT / "redaction_rules" / policy_file)
    return {(fp.raw_file, name): f"{rule.type}: {getattr(rule, 'reason', '') or getattr(rule, 'term', '')}"
            for fp in policy.files.values() for name, rule in fp.columns.items() if rule.type in ("drop", "raw_only")}


def run(data: Path, work: Path) -> dict[str, object]:
    raw, out = work / "raw", work / "out"
    raw.mkdir(parents=True)
    for contract, city in FILES.items():
        shutil.copyfile(data / city, raw / contract)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASE_")}
    env.update(HOME=str(work / "home"), RELEASE_HMAC_KEY=secrets.token_hex(32))
    command = [sys.executable, "-c", "import cli; cli.main()", "fioe", "2019", "--input", str(raw),
               "--out", str(out), "--json"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"exit_code": done.returncode, "error": done.stderr.strip()[-500:], "seconds": round(seconds, 1)}
    bundle = Path(str(result.get("bundle") or out / "fioe" / "2019"))
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    report: dict[str, object] = {
        "exit_code": done.returncode, "status": result.get("status"), "seconds": round(seconds, 1),
        "generation": manifest.get("generation"), "packet": (bundle / "review" / "index.html").is_file(),
        "findings": result.get("findings"),
        "blocking": [{"check": g["stage"], "code": g["code"], "findings": g["findings"]} for g in result["blocking"]],
    }
    columns = {}
    generation_policy = str((manifest.get("generation") or {}).get("policy", "fioe.yaml"))
    rules = _policy_rules(generation_policy)
    for contract, public_name in PUBLIC.items():
        city = list(_rows(raw / contract)[0])
        public_path = bundle / "public" / public_name
        published = list(_rows(public_path)[0]) if public_path.is_file() else []
        columns[contract] = {"city": len(city), "kept": sum(c in published for c in city),
                             "missing": {c: rules.get((contract, c), "not in the policy") for c in city
                                         if c not in published},
                             "added": [c for c in published if c not in city]}
    report["policy"] = generation_policy
    report["columns"] = columns
    city_contacts = _rows(raw / "fieldcontact.csv")
    public_path = bundle / "public" / PUBLIC["fieldcontact.csv"]
    public = _rows(public_path) if public_path.is_file() else []
    blanked = sum(int(w.get("count") or 0) for w in result.get("warnings", []) if w.get("column") == "stop_duration")
    report["stop_duration"] = {"city_filled": _filled(city_contacts, "stop_duration"),
                               "public_filled": _filled(public, "stop_duration") if public else None,
                               "blanked_by_findings": blanked}
    report["flags"] = {flag: {"city_Y": sum(r[flag].strip() == "Y" for r in city_contacts),
                              "public": dict(Counter(r[flag] for r in public)) if public else None}
                       for flag in FLAGS}
    return report


def show(report: dict[str, object]) -> str:
    if "error" in report:
        return f"release exited {report['exit_code']}: {report['error']}"
    generation = report["generation"] or {}
    lines = [f"release fioe 2019 on the City's 2019 RMS files: exit {report['exit_code']}, status {report['status']}, "
             f"packet {'written' if report['packet'] else 'MISSING'}, {report['seconds']} s",
             f"generation: {generation.get('name')} ({generation.get('policy')}, chosen by {generation.get('chosen_by')})",
             f"findings: {report['findings']}"]
    for group in report["blocking"]:  # type: ignore[attr-defined]
        lines.append(f"  blocking: {group['check']} {group['code']}: {group['findings']}")
    for file, c in report["columns"].items():  # type: ignore[attr-defined]
        missing = "; ".join(f"{name} ({why})" for name, why in c["missing"].items()) or "none"
        lines.append(f"{file}: {c['kept']} of the City's {c['city']} columns kept; not published: {missing}; "
                     f"added {', '.join(c['added']) or 'none'}")
    stop = report["stop_duration"]
    lines.append(f"stop_duration: City {stop['city_filled']:,} filled, public {stop['public_filled']}, "  # type: ignore[index]
                 f"blanked by findings {stop['blanked_by_findings']}")  # type: ignore[index]
    for flag, counts in report["flags"].items():  # type: ignore[attr-defined]
        lines.append(f"{flag}: City Y {counts['city_Y']:,}; public {counts['public']}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="folder with the City's files")
    parser.add_argument("--keep", type=Path, help="keep the export and the bundle here (outside the project)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    args = parser.parse_args()
    if not all((args.data / name).is_file() for name in FILES.values()):
        print(f"the City's 2019 RMS files are not in {args.data}", file=sys.stderr)
        return 4
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        report = run(args.data, args.keep)
    else:
        with tempfile.TemporaryDirectory() as work:
            report = run(args.data, Path(work))
    print(json.dumps(report, indent=2) if args.json else show(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
