"""`release fioe 2019` on the City's public 2019 RMS files, renamed to the contract (issue #16).

Run: .venv/bin/python benchmarks/bench_generations.py [--data DIR] [--keep DIR] [--audit] [--json]

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
- ``recnum``/``person_id``: the City's filled cells, the public cells of the pseudonym's form,
  distinct values on both sides (equal: the same number has the same pseudonym within the
  release), and how many of the City's identifiers appear anywhere in a public file (0);
- the exit code, the bundle's status and its packet; a blocked build's findings by check;
- with ``--audit``: a throw-away signer (a copy of the rules trusting it, outside the project)
  approves a draft, and ``release audit --raw`` runs on it: each check's status and counts.

Exit status: 0 reported (whatever the build's own exit code); 4 the City's files are absent.
The build may end blocked on the narratives (residual findings in the City's partly redacted
text): that is reported, not a failure of this script; it must still end in a bundle.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
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
    from release.config.policy import load_policy

    policy = load_policy(ROOT / "redaction_rules" / policy_file)
    return {(fp.raw_file, name): f"{rule.type}: {getattr(rule, 'reason', '') or getattr(rule, 'term', '')}"
            for fp in policy.files.values() for name, rule in fp.columns.items() if rule.type in ("drop", "raw_only")}


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True)


def _identifiers(raw: Path, bundle: Path) -> dict[str, object]:
    """The City's person identifiers against the public pseudonyms (counts only, never a value)."""
    city, public = _rows(raw / "fieldcontact_name.csv"), _rows(bundle / "public" / PUBLIC["fieldcontact_name.csv"])
    texts = "\n".join(p.read_text(encoding="utf-8") for p in (bundle / "public").rglob("*") if p.is_file())
    words = set(re.findall(r"\b\w+\b", texts))
    found: dict[str, object] = {}
    for column in ("recnum", "person_id"):
        raw_values = [(r.get(column) or "").strip() for r in city]
        raw_values = [v for v in raw_values if v not in ("", "NULL")]
        published = [r.get(column) or "" for r in public]
        form = re.compile(r"[A-Z]{2,6}-[0-9A-F]{16}")
        found[column] = {"city_filled": len(raw_values), "city_distinct": len(set(raw_values)),
                         "public_pseudonyms": sum(bool(form.fullmatch(v)) for v in published),
                         "public_distinct": len({v for v in published if v}),
                         "raw_values_in_public_files": sum(v in words for v in set(raw_values))}
    return found


def _audit(raw: Path, out: Path, work: Path, env: dict[str, str]) -> dict[str, object]:
    """Approve with a throw-away trusted signer and run ``release audit --raw`` (counts per check)."""
    rules = work / "rules"
    shutil.copytree(ROOT / "redaction_rules", rules)
    made = _cli(["keygen", "--out", str(work / "keys" / "bench.key"), "--json"], env)
    public_key = json.loads(made.stdout)["public_key"]
    with (rules / "trusted_signers.yaml").open("w", encoding="utf-8") as handle:
        handle.write(f'signers:\n- {{name: "Bench Counsel", role: legal, public_key: "{public_key}"}}\n')
    where = ["fioe", "2019", "--out", str(out), "--rules", str(rules)]
    approved = _cli(["approve", *where, "--key", str(work / "keys" / "bench.key"), "--json"], env)
    started = time.perf_counter()
    done = _cli(["audit", *where, "--raw", str(raw), "--json"], env)
    seconds = time.perf_counter() - started
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"exit_code": done.returncode, "error": done.stderr.strip()[-300:], "approve_exit": approved.returncode}
    return {"exit_code": done.returncode, "approve_exit": approved.returncode, "seconds": round(seconds, 1),
            "ok": report.get("ok"), "checks": {c["name"]: {"status": c["status"], "detail": c["detail"],
                                                            "problems": c["problem_count"]}
                                               for c in report["checks"]}}


def run(data: Path, work: Path, audit: bool = False) -> dict[str, object]:
    raw, out = work / "raw", work / "out"
    raw.mkdir(parents=True)
    for contract, city in FILES.items():
        shutil.copyfile(data / city, raw / contract)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RELEASE_")}
    env.update(HOME=str(work / "home"), RELEASE_HMAC_KEY=secrets.token_hex(32))
    started = time.perf_counter()
    done = _cli(["fioe", "2019", "--input", str(raw), "--out", str(out), "--json"], env)
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
    if (bundle / "public").is_dir():
        report["identifiers"] = _identifiers(raw, bundle)
    if audit and report["status"] == "draft":
        report["audit"] = _audit(raw, out, work, env)
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
    for column, c in (report.get("identifiers") or {}).items():  # type: ignore[union-attr]
        lines.append(f"{column}: City {c['city_filled']:,} filled ({c['city_distinct']:,} distinct); public "
                     f"{c['public_pseudonyms']:,} pseudonyms ({c['public_distinct']:,} distinct); City values in "
                     f"public files: {c['raw_values_in_public_files']}")
    audit = report.get("audit")
    if isinstance(audit, dict):
        if "error" in audit:
            lines.append(f"audit --raw: exit {audit['exit_code']}: {audit['error']}")
        else:
            lines.append(f"audit --raw: exit {audit['exit_code']} (approve exit {audit['approve_exit']}), "
                         f"{audit['seconds']} s")
            lines += [f"  {name}: {c['status']} {c['detail']}" for name, c in audit["checks"].items()]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA, help="folder with the City's files")
    parser.add_argument("--keep", type=Path, help="keep the export and the bundle here (outside the project)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--audit", action="store_true", help="approve a draft with a throw-away signer and run "
                                                             "release audit --raw on it")
    args = parser.parse_args()
    if not all((args.data / name).is_file() for name in FILES.values()):
        print(f"the City's 2019 RMS files are not in {args.data}", file=sys.stderr)
        return 4
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=False)
        report = run(args.data, args.keep, args.audit)
    else:
        with tempfile.TemporaryDirectory() as work:
            report = run(args.data, Path(work), args.audit)
    print(json.dumps(report, indent=2) if args.json else show(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
