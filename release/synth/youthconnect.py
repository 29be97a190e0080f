"""Seeded synthetic YouthConnect partner export: ``youthconnect_referrals.csv`` (month,
referral_reason, referrals), ``youthconnect_referral_totals.csv`` (month, youth_referred)
and ``youthconnect_demographics.csv`` (year, age_band, sex, race, ethnicity, clients).

Why: the YouthConnect release must be built and tested on files shaped like the partner's,
which are aggregated under HIPAA and juvenile protections and may not be shared. The three
files are aggregated from one simulated roster of fictitious youth, so they agree the way
real ones must: every referred youth carries one to three reasons (at most
``MAX_REASONS``, the bound the policy declares), is referred in at most two months of a
year, and clients who stay past a year are counted again in the next year's demographics.
Magnitudes: tens of referrals a month, a school-year rhythm, slow growth. Spellings vary as
typed (``Substance abuse``, ``M``/``F``, blank ethnicity) because the policy must map them.
The same ``(year, seed, first_year, youth_per_month)`` gives byte-identical files.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from release.synth.people import weighted
from release.synth.shootings import write_csv

REFERRAL_COLUMNS: tuple[str, ...] = ("month", "referral_reason", "referrals")
TOTAL_COLUMNS: tuple[str, ...] = ("month", "youth_referred")
DEMOGRAPHIC_COLUMNS: tuple[str, ...] = ("year", "age_band", "sex", "race", "ethnicity", "clients")
FILES = ("youthconnect_referrals.csv", "youthconnect_referral_totals.csv", "youthconnect_demographics.csv")
FIRST_YEAR = 2016
MAX_REASONS = 3
MAX_MONTHS_PER_YEAR = 2
REASONS: tuple[tuple[str, float], ...] = (
    ("Family conflict", 30.0), ("School issues", 25.0), ("Mental health", 20.0), ("Substance use", 10.0),
    ("Violence exposure", 10.0), ("Other", 5.0))
SPELLINGS = {"Family conflict": ("Family conflict", "Family conflict", "family conflict", "Family"),
             "School issues": ("School issues", "School issues", "School"),
             "Substance use": ("Substance use", "Substance use", "Substance abuse"),
             "Mental health": ("Mental health", "Mental health", "Behavioral health"),
             "Violence exposure": ("Violence exposure", "Violence exposure", "Exposure to violence"),
             "Other": ("Other",)}
SEXES: tuple[tuple[str, float], ...] = (("Male", 54.0), ("Female", 44.0), ("Another gender", 1.0),
                                        ("Unknown", 1.0))
RACES: tuple[tuple[str, float], ...] = (("Black", 52.0), ("White", 14.0), ("Asian", 4.0),
                                        ("Multiracial", 8.0), ("Other", 12.0), ("Unknown", 10.0))
# ages at first referral; YouthConnect works with children and young adults
AGES: tuple[tuple[str, float], ...] = tuple((str(age), weight) for age, weight in (
    (9, 2.0), (10, 4.0), (11, 6.0), (12, 9.0), (13, 12.0), (14, 14.0), (15, 14.0), (16, 13.0), (17, 11.0),
    (18, 6.0), (19, 4.0), (20, 3.0), (21, 2.0)))
# school-year rhythm: fewer referrals in summer
SEASON = (1.05, 1.05, 1.1, 1.05, 1.05, 0.85, 0.7, 0.75, 1.05, 1.15, 1.1, 1.0)


@dataclass(eq=False)   # two youth with the same attributes are still two youth
class Youth:
    """One fictitious youth of the simulated roster: attributes, and the months referred in each year."""

    age_at_first: int
    first_year: int
    sex: str
    race: str
    hispanic: bool | None
    months_by_year: Counter[int] = field(default_factory=Counter)

    def age_band(self, year: int) -> str:
        age = self.age_at_first + (year - self.first_year)
        return "Under 12" if age < 12 else "12-14" if age <= 14 else "15-17" if age <= 17 else "18-24"


@dataclass(frozen=True)
class YouthConnectExport:
    """The three partner files, aggregated from one roster (rows as the CSVs hold them)."""

    referrals: list[dict[str, str]]
    referral_totals: list[dict[str, str]]
    demographics: list[dict[str, str]]

    def __len__(self) -> int:
        return len(self.referrals) + len(self.referral_totals) + len(self.demographics)


def _youth(rng: random.Random, year: int) -> Youth:
    roll = rng.random()
    hispanic = None if roll < 0.06 else roll < 0.06 + 0.3
    return Youth(int(weighted(rng, AGES)), year, weighted(rng, SEXES), weighted(rng, RACES), hispanic)


def _reasons(rng: random.Random) -> list[str]:
    wanted = rng.choices((1, 2, 3), (55, 33, 12))[0]
    chosen: list[str] = []
    while len(chosen) < min(wanted, MAX_REASONS):
        reason = weighted(rng, REASONS)
        if reason not in chosen:
            chosen.append(reason)
    return chosen


def _demographic_cell(youth: Youth, year: int) -> tuple[str, str, str, str]:
    """The partner's spellings changed over the years: older files use M/F, the long race
    name and plain ``Hispanic`` (one spelling per file year, so cells never repeat)."""
    older = year <= FIRST_YEAR + 1
    sex = {"Male": "M", "Female": "F"}.get(youth.sex, youth.sex) if older else youth.sex
    race = "Black or African American" if older and youth.race == "Black" else youth.race
    ethnicity = ("" if youth.hispanic is None else
                 ("Hispanic" if older else "Hispanic or Latino") if youth.hispanic else "Not Hispanic or Latino")
    return youth.age_band(year), sex, race, ethnicity


def generate_youthconnect(year: int = 2020, *, seed: int = 2020, first_year: int = FIRST_YEAR,
                          youth_per_month: int = 30) -> YouthConnectExport:
    """The three files for every month and year from ``first_year`` to ``year``."""
    rng = random.Random(f"youthconnect/{year}/{seed}/{first_year}/{youth_per_month}")
    roster: list[Youth] = []
    referrals: list[dict[str, str]] = []
    totals: list[dict[str, str]] = []
    demographics: list[dict[str, str]] = []
    clients_before: list[Youth] = []
    for in_year in range(first_year, year + 1):
        growth = 1.0 + 0.05 * (in_year - first_year)
        referred_in_year: dict[Youth, None] = {}   # ordered set
        for month in range(1, 13):
            label = f"{in_year:04d}-{month:02d}"
            new = max(1, round(rng.gauss(youth_per_month * SEASON[month - 1] * growth, 4)))
            referred = [_youth(rng, in_year) for _ in range(new)]
            roster += referred
            # some youth come back for another referral (at most two months a year)
            again = [y for y in rng.sample(roster[:-new], k=min(len(roster) - new, max(1, new // 8)))
                     if y.months_by_year[in_year] < MAX_MONTHS_PER_YEAR]
            referred += again
            reasons: Counter[str] = Counter()
            for youth in referred:
                youth.months_by_year[in_year] += 1
                reasons.update(_reasons(rng))
            referred_in_year.update(dict.fromkeys(referred))
            totals.append({"month": label, "youth_referred": str(len(referred))})
            for reason, _ in REASONS:
                if reasons[reason]:
                    referrals.append({"month": label, "referral_reason": rng.choice(SPELLINGS[reason]),
                                      "referrals": str(reasons[reason])})
        staying = [y for y in clients_before if in_year - y.first_year < 3 and rng.random() < 0.35]
        clients = list(referred_in_year) + [y for y in staying if y not in referred_in_year]
        cells = Counter(_demographic_cell(youth, in_year) for youth in clients)
        demographics += [{"year": str(in_year), "age_band": a, "sex": s, "race": r, "ethnicity": e,
                          "clients": str(n)} for (a, s, r, e), n in sorted(cells.items())]
        clients_before = clients
    return YouthConnectExport(referrals, totals, demographics)


def write_youthconnect(data: YouthConnectExport, out_dir: Path, *, encoding: str = "utf-8",
                       line_terminator: str = "\n") -> list[Path]:
    folder = Path(out_dir)
    return [write_csv(folder / name, columns, rows, encoding=encoding, line_terminator=line_terminator)
            for name, columns, rows in zip(FILES, (REFERRAL_COLUMNS, TOTAL_COLUMNS, DEMOGRAPHIC_COLUMNS),
                                           (data.referrals, data.referral_totals, data.demographics), strict=True)]


def write_sample(out_dir: Path) -> list[Path]:
    """The bundled sample: ``release/samples/youthconnect/2020/`` (2016-2020, seed 2020)."""
    return write_youthconnect(generate_youthconnect(2020, seed=2020), out_dir)
