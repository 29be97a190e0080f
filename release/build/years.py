"""Many years in one run: ``release fioe 2011-2020 --input EXPORTS``.

A city re-releasing every year since 2011 under one policy, or a research group releasing two
decades of narratives, has one export per year. ``EXPORTS`` holds them as ``EXPORTS/<year>/``,
each folder what ``--input`` names for a single year (the raw-export contract, unchanged).

Each year is its own release: its own bundle (``OUT/<dataset>/<year>``), log, manifest, budget
charge and approvals, exactly as ``release DATASET YEAR --input EXPORTS/<year>`` builds it, so a
year's bundle does not depend on which other years shared the run. What the run adds:

- **Every year is resolved before the first is built** (``run_options.resolve``): a missing year
  folder, a wrong rule file or suite, a published year without ``--supersede``, or an export whose
  headers fit no record system stops the run in its first seconds, with nothing written, instead
  of after some years were built.
- **Streamed, one year at a time.** A year's export is read when its turn comes, and everything
  the build held of it (tables, redaction, public frames) is released before the next is read, so
  the driver's peak memory is that of its largest year, flat as the corpus grows
  (``benchmarks/bench_scale.py`` measures it). What carries over is the engine's loaded model and
  rules (``execution.workers.warm_engine``; its memo of tagged texts is cleared between years), under
  ``--engine ray`` Ray itself and its actors with their models (``execution.workers.kept``: each year sends
  its settings), and each year's small result.
- **Fail closed, per year.** A year that ends blocked (5) or refused by the budget (6) leaves its
  blocked bundle with its packet, and the run goes on to the next year: the years are
  independent releases, and a reviewer works through each packet. An error that is not a finding
  about the data (an export breaking its contract, a broken environment) stops the run at that
  year; the years before it keep their bundles (each written atomically), and the error says which.
  The run's exit code is the worst year's: 5 if a year is blocked by a finding, else 6 if a
  year's budget refused, else 0.
"""

from __future__ import annotations

import dataclasses
import gc
import re
from collections.abc import Callable
from pathlib import Path
from typing import cast

from release.build.options import BuildOptions, resolve
from release.errors import ConfigError, InputError, ReleaseError
from release.execution.workers import forget_texts, kept

_YEARS = re.compile(r"(\d{4})(?:-(\d{4}))?")
FIRST_YEAR, LAST_YEAR = 1990, 2100


def parse_years(text: str) -> tuple[int, ...]:
    """``2020`` or ``2011-2020`` (both ends included), within the years a build accepts."""
    matched = _YEARS.fullmatch(text.strip())
    if matched is None:
        raise ConfigError("YEAR is a year (2020) or a range of years (2011-2020)", rule="year")
    first = int(matched.group(1))
    last = int(matched.group(2) or first)
    if not FIRST_YEAR <= first <= last <= LAST_YEAR:
        raise ConfigError(f"years run from {FIRST_YEAR} to {LAST_YEAR}, the first not after the last", rule="year")
    return tuple(range(first, last + 1))


def year_inputs(root: Path, years: tuple[int, ...]) -> dict[int, Path]:
    """Each year's export folder, ``root/<year>``: all of them there, or the run does not start."""
    if not root.is_dir():
        raise InputError("input folder not found", file=str(root), rule="input")
    missing = [str(year) for year in years if not (root / str(year)).is_dir()]
    if missing:
        raise InputError(f"a range of years reads one export folder per year, named by the year; "
                         f"missing: {', '.join(missing)}", file=str(root), rule="input-years")
    return {year: root / str(year) for year in years}


def build_years(options: BuildOptions, years: tuple[int, ...],
                build: Callable[[BuildOptions], dict[str, object]]) -> dict[str, object]:
    """Build ``years`` one after the other from ``options.input_dir``'s year folders (``build``:
    ``build.build_release``). Returns each year's result and the run's exit code."""
    if options.input_dir is None:
        raise ConfigError("a range of years needs --input: a folder with one export folder per year "
                          "(EXPORTS/2011, EXPORTS/2012, ...)", rule="input-years")
    inputs = year_inputs(options.input_dir, years)
    plans = [dataclasses.replace(options, year=year, input_dir=inputs[year]) for year in years]
    for plan in plans:
        try:
            resolve(plan)
        except ReleaseError as error:
            error.message = f"year {plan.year}: {error.message}; no year was built"
            raise
    results: list[dict[str, object]] = []
    with kept(options.execution):  # under Ray: Ray started, and each actor's model loaded, once for all years
        for plan in plans:
            try:
                results.append(build(plan))
            except ReleaseError as error:
                built = ", ".join(str(r["year"]) for r in results)
                error.message = (f"year {plan.year}: {error.message}; "
                                 + (f"the years before it were built ({built}) and keep their bundles"
                                    if built else "no year was built"))
                raise
            forget_texts()  # the engine's memo of the year's texts, which the next year's do not repeat
            gc.collect()  # the year's tables and redaction are gone before the next export is read
    return _summary(options.dataset, years, results)


def _summary(dataset: str, years: tuple[int, ...], results: list[dict[str, object]]) -> dict[str, object]:
    codes = [cast(int, r["exit_code"]) for r in results]  # build_release gives each year an int exit code
    exit_code = 5 if 5 in codes else 6 if 6 in codes else 0
    blocked = [r["year"] for r in results if r["status"] != "draft"]
    return {
        "dataset": dataset, "years": list(years), "exit_code": exit_code,
        "drafts": sum(1 for r in results if r["status"] == "draft"), "blocked": blocked,
        "results": results, "notices": sorted({n for r in results for n in cast(list[str], r.get("notices", []))}),
        "error": (f"{len(blocked)} of {len(years)} years blocked ({', '.join(map(str, blocked))}); each blocked "
                  "bundle's packet lists what to fix") if blocked else None,
    }
