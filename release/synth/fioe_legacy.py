"""Seeded synthetic raw FIOE export in the legacy FIO shape (2011 - Apr 2015): ``fio.csv``, one
row per person in a report, with the report's fields on each row and no narrative.

As for the RMS (``release.synth.fioe_rms``), the reports are the Mark43 generator's (same
people, officers, places, vehicles); this module writes each person's row as the legacy
system did (``raw-exports.md``, "Older FIOE generations"): upper-case headers and values,
``LOCATION`` with its house number, the system's codes beside their words (``DIST_ID``,
``RACE_ID``), system timestamps and accounts, ``NO DATA ENTERED`` for an empty field, and the
person's identifiers (names, date of birth, address, phone, licence) the export holds and no
public file may carry. The contract does not name the legacy vocabularies, so the values
below are the ones ``redaction_rules/fioe_legacy.yaml`` declares; every value is fictitious,
and each report's legacy fields come from a ``random.Random`` seeded by year, seed and report.
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from release.synth.fioe import generate_fioe, write_tables
from release.synth.fioe_rms import MAKE_OF_MODEL
from release.synth.people import weighted
from release.synth.vocab import CLOTHING

COLUMNS: tuple[str, ...] = (
    "SEQ_NUM", "FIO_ID", "SEX", "LOCATION", "DIST", "DIST_ID", "FIO_DATE", "FIO_TIME", "PRIORS", "DESCRIPTION",
    "CLOTHING", "COMPLEXION", "FIOFS_TYPE", "TERRORISM", "SEARCH", "BASIS", "STOP_REASONS", "ENTEREDBY",
    "FIOFS_REASONS", "OUTCOME", "VEH_MAKE", "VEH_YEAR_NUM", "VEH_COLOR", "VEH_MODEL", "VEH_OCCUPANT", "VEH_STATE",
    "SUPERVISOR_ID", "OFFICER_ID", "SUPERVISOR", "OFF_DIST_ID", "OFF_DIST", "OFFICER", "SUP_ENTRYDATE",
    "LAST_UPDATEBY", "LAST_UPDATETIME", "ETHNICITY", "FIRST_INSERTTIME", "ACTIVE_ID", "RACE_ID", "RACE_DESC",
    "FIO_DATE_CORRECTED", "AGE_AT_FIO_CORRECTED", "STREET_ID", "CITY",
    "FIRST_NAME", "MIDDLE_NAME", "LAST_NAME", "ALIAS", "DOB", "HOME_ADDRESS", "PHONE", "LICENSE_NUMBER",
)
NONE = "NO DATA ENTERED"
DISTRICT_OF_ZIP = {
    "02108": "A1", "02109": "A1", "02110": "A1", "02111": "A1", "02113": "A1", "02114": "A1", "02128": "A7",
    "02129": "A15", "02119": "B2", "02120": "B2", "02121": "B3", "02126": "B3", "02127": "C6", "02210": "C6",
    "02122": "C11", "02124": "C11", "02125": "C11", "02115": "D4", "02116": "D4", "02118": "D4", "02215": "D4",
    "02134": "D14", "02135": "D14", "02131": "E5", "02132": "E5", "02130": "E13", "02136": "E18",
}
DISTRICT_ID = {d: str(i) for i, d in enumerate(("A1", "A7", "A15", "B2", "B3", "C6", "C11", "D4", "D14",
                                                 "E5", "E13", "E18"), start=1)}
RACE = {  # Mark43 race (and Hispanic origin) -> (RACE_ID, RACE_DESC, DESCRIPTION)
    "Black": ("2", "BLACK", "B(Black)"), "White": ("4", "WHITE", "W(White)"),
    "Asian": ("1", "ASIAN OR PACIFIC ISLANDER", "A(Asian)"), "Hispanic": ("3", "HISPANIC", "H(Hispanic)"),
    "Native Hawaiian or Other Pacific Islander": ("1", "ASIAN OR PACIFIC ISLANDER", "A(Asian)"),
    "Other": ("6", "MIDDLE EASTERN OR EAST INDIAN", "M(Middle Eastern)"), "Unknown": ("9999", "UNKNOWN", "U(Unknown)"),
}
ETHNICITY = {"Hispanic Origin": "HISPANIC", "Not of Hispanic Origin": "NOT HISPANIC", "Unknown": "UNKNOWN"}
SEX = {"Male": "MALE", "Female": "FEMALE", "Unknown": "UNKNOWN", "Male to Female Transgender": "UNKNOWN",
       "Female to Male Transgender": "UNKNOWN"}
BASIS = {"Probable Cause": "PROBABLE CAUSE", "Reasonable Suspicion": "REASONABLE SUSPICION",
         "Encounter": "ENCOUNTER", "Intel": "INTEL"}
STOP_REASONS = (("INVESTIGATE PERSON", 40.0), ("SUSPICIOUS ACTIVITY", 15.0), ("INVESTIGATE VEHICLE", 12.0),
                ("DRUGS", 8.0), ("TRESPASSING", 5.0), ("TRAFFIC VIOLATION", 8.0), ("GANG ACTIVITY", 4.0),
                ("FIREARMS", 2.0), ("WARRANT", 2.0), ("CALL FOR SERVICE", 3.0), ("OTHER", 1.0))
FIOFS_REASONS = (("INVESTIGATION", 55.0), ("INTELLIGENCE", 25.0), ("ENCOUNTER", 18.0), ("OTHER", 2.0),
                 ("INVESTIGATE", 3.0))
OUTCOME = (("FIO ONLY", 70.0), ("WARNING", 12.0), ("SUMMONS", 8.0), ("ARREST", 8.0), ("OTHER", 2.0))


@dataclass(frozen=True)
class SyntheticFioLegacy:
    """A generated legacy export: its rows and the officer roster (the legacy file has no narrative, so nothing
    is planted)."""

    rows: list[dict[str, str]]   # one per person in a report, in COLUMNS
    officers: list[str]          # "LAST, FIRST" of every officer and supervisor on the roster


def legacy_number(fc_num: str) -> str:
    """``FC13000123`` -> ``FIO13000123``: the same report in the legacy numbering."""
    return f"FIO{fc_num[2:]}"


def generate_fioe_legacy(year: int, *, seed: int = 2013, n_reports: int = 5600) -> SyntheticFioLegacy:
    """A raw legacy FIO export for ``year``: one row per person of ``n_reports`` reports."""
    mark43 = generate_fioe(year, seed=seed, n_reports=n_reports, case_mix=False)
    reports: dict[str, dict[str, str]] = {}
    for row in mark43.contacts:
        reports.setdefault(row["fc_num"], row)  # a report's first basis row carries its fields
    rng = random.Random(f"fioe-legacy/{year}/{seed}")
    sequence = rng.randint(300_000, 900_000)
    rows = []
    seen: dict[str, int] = {}
    for person in mark43.persons:
        report = reports.get(person["fc_num"])
        if report is None:  # a person row without a report: the legacy file has none (one file)
            continue
        seen[person["fc_num"]] = seen.get(person["fc_num"], 0) + 1
        sequence += 1
        # the report's fields repeat on each of its persons' rows; the person's own are drawn apart
        of_report = random.Random(f"fioe-legacy/{year}/{seed}/{person['fc_num']}")
        of_person = random.Random(f"fioe-legacy/{year}/{seed}/{person['fc_num']}/{seen[person['fc_num']]}")
        cells = {**_report_cells(report, of_report), **_person_cells(report, person, of_person, sequence,
                                                                           seen[person["fc_num"]])}
        rows.append({column: cells[column] for column in COLUMNS})
    return SyntheticFioLegacy(rows=rows, officers=list(mark43.officers))


def _blank(value: str) -> str:
    return value if value not in ("", "NULL") else ""


def _report_cells(report: dict[str, str], rng: random.Random) -> dict[str, str]:
    when = datetime.fromisoformat(report["contact_date"].split(".")[0])
    district = DISTRICT_OF_ZIP.get(report["zip"], "")
    vehicle = _blank(report["vehicle_model"]) != ""
    entered = when + timedelta(hours=rng.randint(1, 30))
    supervisor = report["supervisor_name"].split(" ")
    return {
        "FIO_ID": legacy_number(report["fc_num"]),
        "LOCATION": (_blank(report["incident_address"]) or _blank(report["street"])).upper(),
        "DIST": district or NONE,
        "DIST_ID": DISTRICT_ID.get(district, "9999"),
        "FIO_DATE": when.strftime("%Y-%m-%d 00:00:00"),
        "FIO_TIME": when.strftime("%H:%M"),
        "TERRORISM": "N" if rng.random() < 0.9 else "",
        "BASIS": BASIS.get(report["basis"].strip(), ""),
        "STOP_REASONS": weighted(rng, STOP_REASONS),
        "ENTEREDBY": report["contact_officer"],
        "FIOFS_REASONS": weighted(rng, FIOFS_REASONS),
        "VEH_MAKE": MAKE_OF_MODEL.get(report["vehicle_model"], "").upper() if vehicle else "",
        "VEH_YEAR_NUM": _blank(report["vehicle_year"]) or ("0" if vehicle else ""),
        "VEH_COLOR": _blank(report["vehicle_color"]).upper() or (NONE if vehicle else ""),
        "VEH_MODEL": _blank(report["vehicle_model"]).upper(),
        "VEH_STATE": _blank(report["vehicle_state"]),
        "SUPERVISOR_ID": report["supervisor"],
        "OFFICER_ID": report["contact_officer"],
        "SUPERVISOR": f"{supervisor[-1]}, {' '.join(supervisor[:-1])}" if len(supervisor) > 1 else supervisor[0],
        "OFF_DIST_ID": DISTRICT_ID.get(district, "9999"),
        "OFF_DIST": district or NONE,
        "OFFICER": report["contact_officer_name"],
        "SUP_ENTRYDATE": (entered + timedelta(hours=rng.randint(1, 48))).strftime("%Y-%m-%d %H:%M:%S"),
        "LAST_UPDATEBY": report["supervisor"],
        "LAST_UPDATETIME": (entered + timedelta(days=rng.randint(1, 60))).strftime("%Y-%m-%d %H:%M:%S"),
        "FIRST_INSERTTIME": entered.strftime("%Y-%m-%d %H:%M:%S"),
        "ACTIVE_ID": "1",
        "FIO_DATE_CORRECTED": when.strftime("%Y-%m-%d %H:%M:%S"),
        "STREET_ID": str(zlib.crc32(report["street"].encode()) % 90000 + 10000),
        "CITY": _blank(report["city"]).strip().upper() or NONE,
    }


def _person_cells(report: dict[str, str], person: dict[str, str], rng: random.Random, sequence: int,
                  position: int) -> dict[str, str]:
    race = _blank(person["race"].strip()) or "Unknown"  # the Mark43 generator writes some as NULL
    hispanic = person["ethnicity"] == "Hispanic Origin"
    race_id, race_desc, description = RACE["Hispanic" if hispanic and race in ("White", "Other") else race]
    frisked = person["was_frisked"] == "1"
    searched = frisked and rng.random() < 0.4
    vehicle = _blank(report["vehicle_model"]) != ""
    stopped = report["circumstance"].strip() == "Stopped"
    letters = "".join(letter for letter, on in (("F", frisked), ("I", stopped), ("O", not stopped), ("S", searched))
                      if on)
    clothing = _blank(person["otherclothing"]) or (rng.choice(CLOTHING) if rng.random() < 0.5 else "")
    return {
        "SEQ_NUM": str(sequence),
        "SEX": SEX.get(person["sex"].strip(), NONE),
        "PRIORS": rng.choice(("YES", "NO", "NO", "")),
        "DESCRIPTION": description,
        "CLOTHING": clothing,
        "COMPLEXION": _blank(person["skin_tone"]).upper() or NONE,
        "FIOFS_TYPE": letters,
        "SEARCH": ("PERSON AND VEHICLE" if vehicle else "PERSON") if searched else "NONE",
        "OUTCOME": weighted(rng, OUTCOME),
        "VEH_OCCUPANT": ("DRIVER" if position == 1 else "PASSENGER") if vehicle else "",
        "ETHNICITY": ETHNICITY.get(person["ethnicity"], NONE),
        "RACE_ID": race_id,
        "RACE_DESC": race_desc,
        "AGE_AT_FIO_CORRECTED": _blank(person["age"]),
        **{column.upper(): _blank(person[column]) for column in ("first_name", "middle_name", "last_name", "alias",
                                                                 "dob", "home_address", "phone", "license_number")},
    }


def write_fioe_legacy(data: SyntheticFioLegacy, out_dir: Path, *, encoding: str = "utf-8",
                      line_terminator: str = "\n") -> list[Path]:
    """Write ``fio.csv``."""
    return write_tables(out_dir, (("fio.csv", COLUMNS, data.rows),), encoding=encoding,
                        line_terminator=line_terminator)
