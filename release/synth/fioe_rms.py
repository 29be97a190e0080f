"""Seeded synthetic raw FIOE export in the "new RMS" shape (about Jun 2015 - 29 Sep 2019).

A report is a report in either system; what the RMS changed is the form (``raw-exports.md``,
"Older FIOE generations"). So this module takes the Mark43 generator's reports
(``release.synth.fioe``: same people, crews, places, narratives and planted PII) and writes
them as the RMS did: ``fc_num`` as F + year + 7 digits; the stop's frisk, person-search,
vehicle-search and summons flags as ``Y`` or blank; ``stop_duration`` as the form's band;
``vehicle_make`` beside the model; the body style in ``vehicle_type`` and PASSENGER CAR or
PICKUP in ``vehicle_style`` (the RMS swapped them); officers as ``LAST,FIRST M``; no key
situations or weather; persons with ``recnum`` and no frisk or licence columns.

The shares below (bands, flags, body styles, cities) are parameters written for this
generator after the marginals of the City's public 2019 RMS file (counts rounded to shares;
no value or row of it is copied or read). Each report's RMS fields come from a
``random.Random`` of their own, seeded by year, seed and report number: the Mark43 part of
the export is untouched, and the same arguments give byte-identical files.
"""

from __future__ import annotations

import random
from pathlib import Path

from release.synth.fioe import PiiMention, SyntheticFioe, generate_fioe, write_tables
from release.synth.people import weighted
from release.synth.vocab import VEHICLES

CONTACT_COLUMNS: tuple[str, ...] = (
    "fc_num", "contact_date", "contact_officer", "contact_officer_name", "supervisor", "supervisor_name",
    "street", "city", "state", "zip", "incident_address", "frisked", "searchperson", "searchvehicle",
    "summonsissued", "stop_duration", "circumstance", "basis", "vehicle_year", "vehicle_state", "vehicle_make",
    "vehicle_model", "vehicle_color", "vehicle_style", "vehicle_type", "vehicle_plate", "contact_reason",
)
PERSON_COLUMNS: tuple[str, ...] = (
    "recnum", "person_id", "fc_num", "contact_date", "first_name", "middle_name", "last_name", "alias", "dob",
    "home_address", "phone", "license_number", "sex", "race", "age", "build", "hair_style", "skin_tone",
    "ethnicity", "otherclothing", "deceased",
)
STOP_BANDS = (
    ("Less Than Five Minutes", 13.9), ("Five to Ten Minutes", 48.2), ("Ten to Fifteen Minutes", 18.5),
    ("Fifteen to Twenty Minutes", 10.1), ("Twenty to Twenty-Five Minutes", 1.9),
    ("Twenty-Five to Thirty Minutes", 2.4), ("Thirty to Forty-Five Minutes", 1.8),
    ("Forty-Five to Sixty Minutes", 1.0), ("One to Two Hours", 1.3), ("Longer Than Two Hours", 0.7),
)
STOP_BAND_BLANK = 0.125
FRISKED = 0.27
SEARCH_PERSON = {True: 0.38, False: 0.02}      # given frisked
SEARCH_VEHICLE = {True: 0.16, False: 0.01}     # given a vehicle
SUMMONS = {True: 0.05, False: 0.01}            # given a vehicle
CITY_AS_BSTN = 0.93                            # the RMS writes the city as BSTN
CAR_BODIES = (("Sedan", 90.0), ("Station Wagon", 2.0), ("Compact", 1.7), ("Other", 2.0), ("Convertible", 0.3),
              ("Coupe", 1.0))
BODY_OF_TYPE = {"Suv (sport Utility Vehicle)": "SUV or Utility Van", "Passenger Van": "Bus/Passenger Van",
                "Pickup Truck": "Truck", "Moped": "Motorcycle or Scooter", "Motorcycle": "Motorcycle or Scooter",
                "Cargo Van": "Van", "Other Vehicle": "Other"}
COLOR = {"Gray": "GRAY", "GRA": "GRAY", "Black": "BLACK ", "BLA": "BLACK ", "White": "WHITE", "BLUE": "BLUE",
         "Blue": "BLUE", "Red": "RED", "Silver": "SILVER", "Brown": "BROWN", "Green": "GREEN ", "GRE": "GREEN ",
         "Gold": "GOLD", "Tan": "TAN ", "Purple": "PURPLE", "Beige": "BEIGE", "Maroon": "MAROON ",
         "Light Blue": "LT. BLUE", "Dark Blue": "BLUE"}
MAKE_OF_MODEL = {model: make for make, model, _type, _weight in VEHICLES}


def rms_number(fc_num: str) -> str:
    """``FC20000123`` -> ``F200000123``: the same report (and gap) in the RMS's numbering."""
    return f"F{fc_num[2:4]}{int(fc_num[4:]):07d}"


def generate_fioe_rms(year: int, *, seed: int = 2019, n_reports: int = 5600, evasions: bool = False,
                      case_mix: bool = True) -> SyntheticFioe:
    """A raw FIOE export for ``year`` in the RMS shape: ``n_reports`` reports, ~1.8 persons each."""
    mark43 = generate_fioe(year, seed=seed, n_reports=n_reports, evasions=evasions, case_mix=case_mix)
    names = {name: _rms_officer(name, seed) for name in mark43.officers}
    contacts = []
    for row in mark43.contacts:
        report = random.Random(f"fioe-rms/{year}/{seed}/{row['fc_num']}")  # a report's rows share its fields
        contacts.append(_contact(row, report, names))
    persons = []
    recnum = random.Random(f"fioe-rms/{year}/{seed}/recnum").randint(100_000_000, 190_000_000)
    for row in mark43.persons:
        recnum += 1
        persons.append(_person(row, recnum))
    mentions = [PiiMention(rms_number(m.fc_num), m.start, m.end, m.entity_type, m.value, m.source)
                for m in mark43.mentions]
    return SyntheticFioe(contacts=contacts, persons=persons, mentions=mentions, officers=list(names.values()))


def _rms_officer(roster_name: str, seed: int) -> str:
    """``LAST, FIRST`` -> ``LAST,FIRST M``: no space after the comma, a middle initial for most."""
    last, _, first = roster_name.partition(", ")
    rng = random.Random(f"fioe-rms/officer/{seed}/{roster_name}")
    initial = f" {rng.choice('ABCDEFGHJKLMNPRSTW')}{'.' if rng.random() < 0.1 else ''}" if rng.random() < 0.65 else ""
    return f"{last},{first}{initial}"


def _rms_date(text: str) -> str:
    """The RMS writes a tenth of a second: ``2019-03-04 17:25:00.0``."""
    return text.split(".")[0] + ".0" if text and text[0].isdigit() else text


def _contact(row: dict[str, str], rng: random.Random, names: dict[str, str]) -> dict[str, str]:
    has_vehicle = row["vehicle_model"] not in ("", "NULL")
    frisked = rng.random() < FRISKED
    flag = {True: "Y", False: ""}
    supervisor = row["supervisor_name"]
    first, _, last = supervisor.rpartition(" ")
    cells = {
        **{column: row[column] for column in ("contact_officer", "supervisor", "street", "state", "zip",
                                              "incident_address", "circumstance", "basis", "vehicle_year",
                                              "vehicle_state", "vehicle_plate", "contact_reason")},
        "fc_num": rms_number(row["fc_num"]),
        "contact_date": _rms_date(row["contact_date"]),
        "contact_officer_name": names.get(row["contact_officer_name"], row["contact_officer_name"]),
        "supervisor_name": f"{last}, {first}" if first else supervisor,
        "city": "BSTN" if rng.random() < CITY_AS_BSTN else row["city"],
        "frisked": flag[frisked],
        "searchperson": flag[rng.random() < SEARCH_PERSON[frisked]],
        "searchvehicle": flag[rng.random() < SEARCH_VEHICLE[has_vehicle]],
        "summonsissued": flag[rng.random() < SUMMONS[has_vehicle]],
        "stop_duration": "" if rng.random() < STOP_BAND_BLANK else weighted(rng, STOP_BANDS),
        **_vehicle(row, rng, has_vehicle),
    }
    return {column: cells[column] for column in CONTACT_COLUMNS}


def _vehicle(row: dict[str, str], rng: random.Random, has_vehicle: bool) -> dict[str, str]:
    """Make, model and colour in capitals; the type in vehicle_style, the body in vehicle_type."""
    if not has_vehicle:
        return {"vehicle_make": "", "vehicle_model": "", "vehicle_color": "", "vehicle_style": "",
                "vehicle_type": ""}
    kind = row["vehicle_type"]
    body = BODY_OF_TYPE.get(kind) or weighted(rng, CAR_BODIES)
    return {
        "vehicle_make": MAKE_OF_MODEL.get(row["vehicle_model"], "").upper(),
        "vehicle_model": row["vehicle_model"].upper(),
        "vehicle_color": COLOR.get(row["vehicle_color"], row["vehicle_color"].upper()),
        "vehicle_style": "PICKUP" if kind == "Pickup Truck" else "PASSENGER CAR",
        "vehicle_type": body if rng.random() < 0.95 else "",
    }


def _person(row: dict[str, str], recnum: int) -> dict[str, str]:
    cells = dict(row, recnum=str(recnum), person_id="", fc_num=rms_number(row["fc_num"]),
                 contact_date=_rms_date(row["contact_date"]), deceased="")
    return {column: cells[column] for column in PERSON_COLUMNS}


def write_fioe_rms(data: SyntheticFioe, out_dir: Path, *, encoding: str = "utf-8",
                   line_terminator: str = "\n") -> list[Path]:
    """Write ``fieldcontact.csv`` and ``fieldcontact_name.csv`` in the RMS's columns."""
    return write_tables(out_dir, (("fieldcontact.csv", CONTACT_COLUMNS, data.contacts),
                                  ("fieldcontact_name.csv", PERSON_COLUMNS, data.persons)),
                        encoding=encoding, line_terminator=line_terminator)
