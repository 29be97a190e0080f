"""Read a year of the City's public FIO files and write an injected raw export.

The City's files are read at run time from `../shared/data/boston/` and never copied
into the project. The export has the contract's shape (`fieldcontact.csv`,
`fieldcontact_name.csv`, Mark43 column names for every year): the City's public columns
as published, the narrative with fictitious PII injected, and the raw-only identifier
columns filled with the fictitious values of each report's people (see README).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import re
from dataclasses import dataclass
from pathlib import Path

from . import inject as I

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT.parent / "shared" / "data" / "boston"
DEV_YEARS = (2019, 2020)
HELD_OUT_YEARS = (2022,)
FILES = {
    2019: ("fieldcontact_2019_rms.csv", "fieldcontact_name_2019_rms.csv", "rms"),
    2020: ("fieldcontact_2020_mark43.csv", "fieldcontact_name_2020_mark43.csv", "mark43"),
    2022: ("fieldcontact_2022_mark43.csv", "fieldcontact_name_2022_mark43.csv", "mark43"),
}

CONTACT_COLUMNS = [
    "fc_num", "contact_date", "contact_officer", "contact_officer_name", "supervisor",
    "supervisor_name", "street", "city", "state", "zip", "incident_address", "stop_duration",
    "circumstance", "basis", "vehicle_year", "vehicle_state", "vehicle_model", "vehicle_color",
    "vehicle_style", "vehicle_type", "vehicle_plate", "key_situations", "contact_reason", "weather",
]
PERSON_COLUMNS = [
    "person_id", "fc_num", "contact_date", "first_name", "middle_name", "last_name", "alias", "dob",
    "home_address", "phone", "license_number", "sex", "race", "age", "ethnicity", "build",
    "hair_style", "skin_tone", "otherclothing", "deceased", "license_state", "license_type",
    "was_frisked",
]
RAW_ONLY_PERSON = ["first_name", "middle_name", "last_name", "alias", "dob", "home_address",
                   "phone", "license_number"]

# The older RMS `stop_duration` categories, as minutes (Mark43 holds minutes).
RMS_DURATION = {
    "less than five minutes": "3", "five to ten minutes": "8", "ten to fifteen minutes": "12",
    "fifteen to twenty minutes": "17", "twenty to twenty-five minutes": "22",
    "twenty-five to thirty minutes": "27", "thirty to forty-five minutes": "37",
    "forty-five to sixty minutes": "52", "one to two hours": "90",
    "longer than two hours": "150",
}
_MISSING = {"", "NULL", "NONE", "N/A"}
_GENERIC_VEHICLE_WORDS = {"OTHER", "UNKNOWN", "NULL", "NONE", "CAR", "AND", "THE"}


class DataMissing(Exception):
    pass


def blank(value: str | None) -> str:
    value = (value or "").strip()
    return "" if value.upper() in _MISSING else value


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def load_year(year: int, data_dir: Path = DATA_DIR) -> tuple[list[dict], list[dict], str]:
    if year not in FILES:
        raise DataMissing(f"no City files known for {year}")
    contacts_name, persons_name, generation = FILES[year]
    missing = [n for n in (contacts_name, persons_name) if not (data_dir / n).is_file()]
    if missing:
        raise DataMissing(f"{data_dir} lacks {', '.join(missing)}")
    return read_csv(data_dir / contacts_name), read_csv(data_dir / persons_name), generation


def to_mark43(contacts: list[dict], persons: list[dict], generation: str, year: int,
              ) -> tuple[list[dict], list[dict]]:
    """The City's rows under Mark43 column names (raw-only columns still empty)."""
    if generation == "rms" or any(not _fits_mark43(r["fc_num"], year) for r in contacts):
        numbers = sorted({r["fc_num"] for r in contacts} | {r["fc_num"] for r in persons})
        mapping = {old: f"FC{year % 100:02d}{i:06d}" for i, old in enumerate(numbers, 1)}
    else:
        mapping = None
    out_contacts = []
    for row in contacts:
        new = {c: row.get(c, "") for c in CONTACT_COLUMNS}
        new["_city_fc_num"] = row["fc_num"]
        if mapping:
            new["fc_num"] = mapping[row["fc_num"]]
        if generation == "rms":
            name = row.get("contact_officer_name", "")
            if "," in name and ", " not in name:
                new["contact_officer_name"] = name.replace(",", ", ", 1)
            duration = row.get("stop_duration", "")
            new["stop_duration"] = RMS_DURATION.get(duration.strip().lower(), duration)
            new["vehicle_style"], new["vehicle_type"] = row.get("vehicle_type", ""), \
                row.get("vehicle_style", "")
            new["_vehicle_make"] = row.get("vehicle_make", "")
        out_contacts.append(new)
    out_persons = []
    for i, row in enumerate(persons, 1):
        new = {c: row.get(c, "") for c in PERSON_COLUMNS}
        if mapping:
            new["fc_num"] = mapping[row["fc_num"]]
        if not blank(new["person_id"]):
            new["person_id"] = blank(row.get("recnum")) or f"{year}{i:07d}"
        out_persons.append(new)
    return out_contacts, out_persons


def _fits_mark43(fc_num: str, year: int) -> bool:
    return (len(fc_num) == 10 and fc_num.startswith(f"FC{year % 100:02d}")
            and fc_num[4:].isdigit())


@dataclass
class Export:
    year: int
    generation: str
    reports: dict[str, I.InjectedReport]  # by export fc_num
    contacts: list[dict]
    persons: list[dict]


def build(year: int, seed: int, reports: int | None = None, data_dir: Path = DATA_DIR) -> Export:
    contacts, persons, generation = load_year(year, data_dir)
    contacts, persons = to_mark43(contacts, persons, generation, year)
    order: list[str] = []
    first_row: dict[str, dict] = {}
    for row in contacts:
        if row["fc_num"] not in first_row:
            order.append(row["fc_num"])
            first_row[row["fc_num"]] = row
    if reports is not None and reports < len(order):
        chosen = set(random.Random(seed).sample(order, reports))
        order = [fc for fc in order if fc in chosen]
    selected = set(order)
    people: dict[str, list[dict]] = {}
    for row in persons:
        if row["fc_num"] in selected:
            people.setdefault(row["fc_num"], []).append(row)
    stems = I.street_stems(blank(r["street"]) for r in contacts)
    vocab = I.vocabulary(first_row[fc]["contact_reason"] for fc in first_row)
    injected: dict[str, I.InjectedReport] = {}
    for fc in order:
        row = first_row[fc]
        words = set()
        for column in ("vehicle_model", "_vehicle_make"):
            for word in blank(row.get(column)).upper().replace("-", " ").split():
                if len(word) >= 3 and word.isalpha() and word not in _GENERIC_VEHICLE_WORDS:
                    words.add(word)
        report = I.ReportInput(
            fc_num=fc,
            narrative=row["contact_reason"] if blank(row["contact_reason"]) else "",
            contact_date=_date(row["contact_date"], year),
            street=blank(row["street"]),
            person_rows=[(blank(p["sex"]), blank(p["age"])) for p in people.get(fc, [])],
            vehicle_words=words,
            has_vehicle=any(blank(row.get(c)) for c in ("vehicle_model", "vehicle_color",
                                                        "vehicle_year", "_vehicle_make")),
            public_words=set(re.findall(r"[^\W_]+", " ".join(
                blank(row.get(c)) for c in ("contact_officer_name", "supervisor_name",
                                            "street", "city")))),
        )
        rng = random.Random(f"realtext:{seed}:{row['_city_fc_num']}")
        injected[fc] = I.inject_report(report, rng, stems, vocab)
    out_contacts = []
    for row in contacts:
        if row["fc_num"] not in selected:
            continue
        done = injected[row["fc_num"]]
        new = {c: row[c] for c in CONTACT_COLUMNS}
        if blank(row["contact_reason"]):
            new["contact_reason"] = done.narrative
        new["incident_address"] = done.incident_address
        new["vehicle_plate"] = done.vehicle_plate
        out_contacts.append(new)
    out_persons = []
    for fc in order:
        for row, fields in zip(people.get(fc, []), injected[fc].person_fields, strict=True):
            new = dict(row)
            new.update(fields)
            out_persons.append(new)
    return Export(year, generation, injected, out_contacts, out_persons)


def _date(value: str, year: int) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip()[:10])
    except ValueError:
        return dt.date(year, 7, 1)


def write(export: Export, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, columns, rows in (("fieldcontact.csv", CONTACT_COLUMNS, export.contacts),
                                ("fieldcontact_name.csv", PERSON_COLUMNS, export.persons)):
        if "weather" in columns:
            # The City's 2022 weather column holds other columns' values (a shifted export), which
            # blocks the real build, as it should (exit 5, a packet naming the column). This
            # benchmark measures the narratives: the export it writes leaves weather blank.
            rows = [{**row, "weather": ""} for row in rows]
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, columns, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
