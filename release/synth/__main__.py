"""Command line for the synthetic exports: ``python -m release.synth fioe 2020 OUTDIR``
(also ``shootings``, ``shots_fired``, ``firearms``, ``homicide_clearance``, ``in_custody_deaths``,
and the partner aggregates ``best`` and ``youthconnect``).

Kept out of ``release.cli`` on purpose: this is a developer tool for making test data, not a
step of a release, so it uses only the standard library and prints file names and counts.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sized
from dataclasses import asdict
from pathlib import Path

from release.synth import best, firearms, homicide_clearance, in_custody_deaths, shootings, shots_fired, youthconnect
from release.synth.fioe import SyntheticFioe, generate_fioe, write_fioe
from release.synth.fioe_legacy import generate_fioe_legacy, write_fioe_legacy
from release.synth.fioe_rms import generate_fioe_rms, write_fioe_rms

# Incident and partner generators: dataset -> (generate, write, size option, its keyword, help).
# ``generate`` returns what ``write`` takes (rows, or youthconnect's three files in one object).
INCIDENT_GENERATORS: dict[str, tuple[Callable[..., Sized], Callable[..., list[Path]],
                                     str | None, str, str]] = {
    "shootings": (shootings.generate_shootings, shootings.write_shootings, "--incidents",
                  "incidents_per_year", "incidents per year (default 200)"),
    "shots_fired": (shots_fired.generate_shots_fired, shots_fired.write_shots_fired, "--reports",
                    "reports_per_year", "reports per year (default 1000)"),
    "firearms": (firearms.generate_firearms, firearms.write_firearms, "--crime-guns",
                 "crime_guns_per_year", "crime guns per year (default 650)"),
    "homicide_clearance": (homicide_clearance.generate_homicides, homicide_clearance.write_homicides,
                           "--cases", "cases_per_year", "cases per year (default 50)"),
    "in_custody_deaths": (in_custody_deaths.generate_custody_deaths, in_custody_deaths.write_custody_deaths,
                          None, "", ""),
    "best": (best.generate_best, best.write_best, "--incidents", "mean_incidents_per_district_month",
             "mean co-responded incidents per district and month (default 60)"),
    "youthconnect": (youthconnect.generate_youthconnect, youthconnect.write_youthconnect, "--youth",
                     "youth_per_month", "youth newly referred per month (default 30)"),
}


def write_fioe_generation(generation: str, year: int, out_dir: Path, *, seed: int, n_reports: int,
                          encoding: str = "utf-8", line_terminator: str = "\n") -> list[Path]:
    """Write a FIOE export in the shape of ``generation`` (mark43, rms or legacy; release.datasets.generations)."""
    if generation == "legacy":
        return write_fioe_legacy(generate_fioe_legacy(year, seed=seed, n_reports=n_reports), out_dir,
                                 encoding=encoding, line_terminator=line_terminator)
    if generation == "rms":
        return write_fioe_rms(generate_fioe_rms(year, seed=seed, n_reports=n_reports), out_dir,
                              encoding=encoding, line_terminator=line_terminator)
    return write_fioe(generate_fioe(year, seed=seed, n_reports=n_reports), out_dir, encoding=encoding,
                      line_terminator=line_terminator)


def _incident_export(args: argparse.Namespace) -> int:
    """Write one incident dataset's raw export (every year up to YEAR) and print its path."""
    generate, write, option, keyword, _ = INCIDENT_GENERATORS[args.dataset]
    kwargs: dict[str, int] = {"seed": args.seed}
    if args.first_year is not None:
        kwargs["first_year"] = args.first_year
    if option and args.size is not None:
        kwargs[keyword] = args.size
    rows = generate(args.year, **kwargs)
    for path in write(rows, args.out_dir):
        print(path)
    print(f"{len(rows)} rows")
    return 0


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
    fioe.add_argument("--generation", choices=("mark43", "rms", "legacy"), default="mark43",
                      help="record system whose shape to write (default mark43; legacy has no narrative, "
                           "so no mentions)")
    for dataset, (_, _, option, _, size_help) in INCIDENT_GENERATORS.items():
        command = sub.add_parser(dataset, help=f"raw {dataset} export (every year up to YEAR)")
        command.add_argument("year", type=int)
        command.add_argument("out_dir", type=Path)
        command.add_argument("--seed", type=int, default=2020, help="random seed (default 2020, the bundled sample's)")
        command.add_argument("--first-year", type=int, help="first year of rows (default: the generator's)")
        if option:
            command.add_argument(option, dest="size", type=int, help=size_help)
    args = parser.parse_args(argv)
    if args.dataset in INCIDENT_GENERATORS:
        return _incident_export(args)

    terminator = "\r\n" if args.crlf else "\n"
    if args.generation == "legacy":
        for path in write_fioe_generation("legacy", args.year, args.out_dir, seed=args.seed, n_reports=args.reports,
                                          encoding=args.encoding, line_terminator=terminator):
            print(path)
        return 0
    make = generate_fioe_rms if args.generation == "rms" else generate_fioe
    data: SyntheticFioe = make(args.year, seed=args.seed, n_reports=args.reports, evasions=args.evasions,
                               case_mix=not args.no_case_mix)
    write = write_fioe_rms if args.generation == "rms" else write_fioe
    paths = write(data, args.out_dir, encoding=args.encoding, line_terminator=terminator)
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
