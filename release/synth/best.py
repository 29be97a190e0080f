"""Seeded synthetic BEST partner export (``best_monthly.csv``: month, district,
co_responded_incidents, proactive_engagements_followups).

Why: the BEST release must be built and tested on a file shaped like the partner's, which
is aggregated under HIPAA and may not be shared. Magnitudes are plausible for a city
co-response programme (dozens to a few hundred incidents per district and month, more in
the busiest districts, a mild summer peak, slow growth year on year; follow-ups a little
more numerous than incidents); every number is drawn at random. District spellings vary
as typed (``B-2``, stray spaces) because the policy must map them. The same ``(year, seed,
first_year, mean_incidents_per_district_month)`` gives byte-identical files.
"""

from __future__ import annotations

import math
import random
from pathlib import Path

from release.synth.shootings import write_csv

COLUMNS: tuple[str, ...] = ("month", "district", "co_responded_incidents", "proactive_engagements_followups")
FIRST_YEAR = 2016
# Relative volume of behavioural-health calls by district (downtown and Roxbury/Dorchester busiest).
DISTRICTS: tuple[tuple[str, float], ...] = (
    ("A1", 1.6), ("A7", 0.6), ("A15", 0.4), ("B2", 1.8), ("B3", 1.3), ("C6", 0.9), ("C11", 1.5),
    ("D4", 1.7), ("D14", 0.8), ("E5", 0.5), ("E13", 0.8), ("E18", 0.6),
)
# Month factors: a mild summer peak and a winter dip.
SEASON = (0.88, 0.86, 0.95, 0.98, 1.04, 1.10, 1.14, 1.12, 1.04, 1.00, 0.95, 0.94)


def _count(rng: random.Random, mean: float) -> int:
    """Roughly Poisson(mean) for the means used here (normal approximation, never negative)."""
    return max(0, round(rng.gauss(mean, math.sqrt(max(mean, 1.0)))))


def _spelling(rng: random.Random, district: str) -> str:
    roll = rng.random()
    if roll < 0.04:
        return f"{district[0]}-{district[1:]}"
    if roll < 0.06:
        return f" {district} "
    return district


def generate_best(year: int = 2020, *, seed: int = 2020, first_year: int = FIRST_YEAR,
                  mean_incidents_per_district_month: int = 60) -> list[dict[str, str]]:
    """One row per month and district, every month from ``first_year`` to ``year``."""
    rng = random.Random(f"best/{year}/{seed}/{first_year}/{mean_incidents_per_district_month}")
    rows: list[dict[str, str]] = []
    for in_year in range(first_year, year + 1):
        growth = 1.0 + 0.06 * (in_year - first_year)
        for month in range(1, 13):
            for district, weight in DISTRICTS:
                mean = mean_incidents_per_district_month * weight * SEASON[month - 1] * growth
                incidents = _count(rng, mean)
                followups = _count(rng, incidents * rng.uniform(1.05, 1.6))
                rows.append({"month": f"{in_year:04d}-{month:02d}", "district": _spelling(rng, district),
                             "co_responded_incidents": str(incidents),
                             "proactive_engagements_followups": str(followups)})
    return rows


def write_best(rows: list[dict[str, str]], out_dir: Path, *, encoding: str = "utf-8",
               line_terminator: str = "\n") -> list[Path]:
    return [write_csv(Path(out_dir) / "best_monthly.csv", COLUMNS, rows, encoding=encoding,
                      line_terminator=line_terminator)]


def write_sample(out_dir: Path) -> list[Path]:
    """The bundled sample: ``release/samples/best/2020/`` (2016-2020, seed 2020)."""
    return write_best(generate_best(2020, seed=2020), out_dir)
