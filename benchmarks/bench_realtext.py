"""Narrative redaction on the City of Boston's real FIO narratives with injected PII.

Run: .venv/bin/python benchmarks/bench_realtext.py [--year 2019|2020|2022] [--reports N]
     [--seed S] [--release-bin PATH] [--examples N] [--json] [--keep DIR]
     [--redactor release|presidio-default]

Where the City wrote `XXX` (or `XX/XX/XXXX`), a fictitious value of the type the context
calls for is put back; a raw export in the contract's shape is written, with some of those
values also in the report's raw-only columns (record-linked) and others in none; the
redactor runs on it and each value is scored as surviving or not, position-aware.
2019 and 2020 are development years; 2022 is held out: figures only, never examples.
Details: benchmarks/realtext/README.md. Needs ../shared/data/boston/ (says so if absent).

Exit status: 0 scored; 2 usage; 3 the redactor left no public narratives (e.g. `release`
blocked the build) or none under the export's fc_num; 4 the City's files are absent.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    from realtext import export as E  # noqa: E402
    from realtext import redactors as R  # noqa: E402
    from realtext import score as S  # noqa: E402
except ModuleNotFoundError as missing:  # Faker: the `bench` extra, pinned in requirements.lock
    sys.exit(f"bench_realtext needs {missing.name}: run it with the project's .venv/bin/python "
             "(make .venv/.installed)")

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Narrative redaction on the City's real FIO narratives with injected PII.")
    parser.add_argument("--year", type=int, choices=[2019, 2020, 2022], default=2020)
    parser.add_argument("--reports", type=int, metavar="N",
                        help="a seeded random subset of N reports (default: the whole year)")
    parser.add_argument("--seed", type=int, default=1, metavar="S")
    parser.add_argument("--release-bin", type=Path, default=ROOT / ".venv" / "bin" / "release",
                        metavar="PATH", help="the release executable to measure")
    parser.add_argument("--examples", type=int, default=0, metavar="N",
                        help="print up to N surviving values per class (2019 and 2020 only)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the export, labels and bundle in DIR")
    parser.add_argument("--redactor", choices=["release", "presidio-default"], default="release",
                        help="what to measure (default: the release CLI)")
    args = parser.parse_args(argv)
    if args.examples and args.year in E.HELD_OUT_YEARS:
        parser.error(f"--examples is refused for {args.year}: it is held out for final "
                     "figures only")
    if args.reports is not None and args.reports < 1:
        parser.error("--reports must be at least 1")
    if args.redactor == "release" and not args.release_bin.exists():
        parser.error(f"no release executable at {args.release_bin}")

    started = time.perf_counter()
    try:
        export = E.build(args.year, args.seed, args.reports)
    except E.DataMissing as missing:
        print(f"City data absent, nothing measured: {missing}", file=sys.stderr)
        return 4
    build_seconds = time.perf_counter() - started

    work = Path(tempfile.mkdtemp(prefix="bench_realtext_")) if args.keep is None else args.keep
    try:
        export_dir, out_dir = work / "export", work / "out"
        E.write(export, export_dir)
        if args.keep is not None:
            _write_labels(export, work / "labels.jsonl")
        if args.redactor == "release":
            run = R.run_release(args.release_bin, args.year, export_dir, out_dir)
        else:
            run = R.presidio_default({fc: r.narrative for fc, r in export.reports.items()})
            if args.keep is not None:
                _write_outputs(run.outputs, work / "presidio_outputs.jsonl")
        return _report(args, export, run, build_seconds, time.perf_counter() - started)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _report(args, export: E.Export, run: R.Run, build_seconds: float, total: float) -> int:
    labels = sum(len(r.labels) for r in export.reports.values())
    head = {
        "year": args.year, "held_out": args.year in E.HELD_OUT_YEARS, "seed": args.seed,
        "redactor": args.redactor,
        "release_bin": str(args.release_bin) if args.redactor == "release" else None,
        "reports": len(export.reports), "values_injected": labels,
        "city_marks_left": sum(len(r.city_marks) for r in export.reports.values()),
        "exit_status": run.exit_status,
    }
    if run.outputs is None:
        head.update(blocked=True, error=run.error, reviewer_decisions=run.decisions,
                    redactor_seconds=round(run.seconds, 1),
                    total_seconds=round(total, 1))
        if args.json:
            print(json.dumps(head, indent=2))
        else:
            print(f"{args.redactor} wrote no public narratives for {args.year}: "
                  f"exit status {run.exit_status}: {run.error}")
            print(f"({head['reports']:,} reports, {labels:,} injected values; "
                  f"{run.seconds:.1f} s)")
        return 3

    results, missing = [], 0
    for fc, report in export.reports.items():
        if fc not in run.outputs:
            missing += 1
            continue
        results.append(S.score_report(report, run.outputs[fc]))
    if not results and export.reports:
        print(f"{args.redactor} wrote public narratives, but none under an fc_num of the "
              f"export ({len(run.outputs):,} rows): nothing to score", file=sys.stderr)
        return 3
    summary = S.summarise(results)
    timing = {"build_seconds": round(build_seconds, 1),
              "redactor_seconds": round(run.seconds, 1), "total_seconds": round(total, 1)}
    if args.json:
        print(json.dumps({**head, "blocked": False, "error": run.error or None,
                          "reports_missing_from_output": missing,
                          "duplicate_rows_skipped": run.duplicate_rows,
                          "reviewer_decisions": run.decisions,
                          **S.summary_json(summary), **timing}, indent=2))
    else:
        print(f"bench_realtext: City {args.year} narratives"
              f"{' (held out)' if head['held_out'] else ''}, seed {args.seed}, "
              f"redactor {args.redactor}" + (f" (exit {run.exit_status})"
                                             if args.redactor == "release" else ""))
        print(f"{len(export.reports):,} reports, {summary.reports:,} scored "
              f"({missing:,} absent from the output), {labels:,} injected values, "
              f"{head['city_marks_left']:,} City marks left as they were (type unknown)")
        if run.decisions:
            print("the build blocked; the bench's reviewer decided through the CLI, then rebuilt: "
                  + "; ".join(f"{n} x {what}" for what, n in sorted(run.decisions.items())))
        print()
        print(S.table(summary))
        print()
        print(f"time: export {build_seconds:.1f} s, redactor {run.seconds:.1f} s, "
              f"total {total:.1f} s")
    if args.examples and args.year not in E.HELD_OUT_YEARS:
        text = S.examples(results, args.examples)
        print("\nSurviving values in the public output («…» marks what survived):",
              file=sys.stdout if not args.json else sys.stderr)
        print(text or "  none", file=sys.stdout if not args.json else sys.stderr)
    return 0


def _write_labels(export: E.Export, path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for report in export.reports.values():
            for label in report.labels:
                handle.write(json.dumps(label.__dict__) + "\n")


def _write_outputs(outputs: dict[str, str], path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for fc, text in outputs.items():
            handle.write(json.dumps({"fc_num": fc, "contact_reason": text}) + "\n")


if __name__ == "__main__":
    sys.exit(main())
