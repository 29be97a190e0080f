"""Command line for the synthetic exports: ``python -m release.synth fioe 2020 OUTDIR``.

Kept out of ``cli.py`` on purpose: this is a developer tool for making test data, not a
step of a release, so it uses only the standard library and prints file names and counts.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from release.synth.fioe import generate_fioe, write_fioe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m release.synth", description=__doc__)
    sub = parser.add_subparsers(dest="dataset", required=True)
    fioe = sub.add_parser("fioe", help="raw FIOE export: fieldcontact.csv + fieldcontact_name.csv")
    fioe.add_argument("year", type=int)
    fioe.add_argument("out_dir", type=Path)
    fioe.add_argument("--seed", type=int, default=2020, help="random seed (default 2020, the bundled sample's)")
    fioe.add_argument("--reports", type=int, default=5600, help="number of reports (default 5600, one year)")
    fioe.add_argument("--evasions", action="store_true", help="rewrite ~10%% of planted PII to evade detectors")
    fioe.add_argument("--no-case-mix", action="store_true", help="no ALL-CAPS or lower-case narratives")
    fioe.add_argument("--encoding", default="utf-8", help="utf-8 (default), utf-8-sig or cp1252")
    fioe.add_argument("--crlf", action="store_true", help="CRLF line endings")
    fioe.add_argument("--mentions", type=Path, help="also write the PII ground truth as JSON Lines here")
    args = parser.parse_args(argv)

    data = generate_fioe(args.year, seed=args.seed, n_reports=args.reports, evasions=args.evasions,
                         case_mix=not args.no_case_mix)
    paths = write_fioe(data, args.out_dir, encoding=args.encoding, line_terminator="\r\n" if args.crlf else "\n")
    if args.mentions:
        args.mentions.parent.mkdir(parents=True, exist_ok=True)
        with args.mentions.open("w", encoding="utf-8", newline="\n") as handle:
            for mention in data.mentions:
                handle.write(json.dumps(asdict(mention), ensure_ascii=False) + "\n")
    for path in paths:
        print(path)
    print(f"{len(data.contacts)} report rows, {len(data.persons)} person rows, {len(data.mentions)} PII mentions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
