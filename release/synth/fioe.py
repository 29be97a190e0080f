"""Seeded synthetic raw FIOE export (``fieldcontact.csv`` + ``fieldcontact_name.csv``) with
a labelled PII corpus: the ground truth of every identifying value planted in the
narratives.

Why: the toolkit must be built, tested and benchmarked on raw exports (names, DOBs,
plates, unredacted narratives) that nobody may share. This module makes one that is
shaped like the City's (same columns, value spellings, defects and narrative style) but
where every person, officer, address, phone, plate and sentence is invented. The same
``(year, seed, n_reports, evasions, case_mix)`` gives byte-identical files: all
randomness flows from ``random.Random`` instances seeded from those arguments.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

from release.synth import rows
from release.synth.people import roster
from release.synth.reports import CONTACT_COLUMNS, DrawnReport, draw_crew, draw_report, draw_when

PERSON_COLUMNS: tuple[str, ...] = (
    "person_id", "fc_num", "contact_date", "first_name", "middle_name", "last_name", "alias",
    "dob", "home_address", "phone", "license_number", "sex", "race", "age", "ethnicity", "build",
    "hair_style", "skin_tone", "otherclothing", "deceased", "license_state", "license_type",
    "was_frisked",
)
ENTITY_TYPES: tuple[str, ...] = (
    "PERSON", "NICKNAME", "DATE_OF_BIRTH", "PHONE_NUMBER", "STREET_ADDRESS", "LICENSE_PLATE",
    "US_DRIVER_LICENSE", "US_SSN", "EMAIL_ADDRESS", "SOCIAL_HANDLE", "AGE", "INCIDENT_NUMBER", "VIN",
)


@dataclass(frozen=True)
class PiiMention:
    """One PII value planted in a narrative: ``contact_reason[start:end] == value``.

    ``source`` is ``subject`` when the value belongs to the record's structured fields
    (a person of the persons table, the report's plate or incident address, so record
    linkage can find it), ``associate`` when it appears only in the text (people named
    only in the narrative, incident numbers, handles, e-mails, SSNs, VINs), and
    ``officer`` for roster names, which are not redacted by default.
    """

    fc_num: str
    start: int
    end: int
    entity_type: str
    value: str
    source: str


@dataclass(frozen=True)
class SyntheticFioe:
    """A generated export: both files' rows, the ground truth of every PII value planted in the narratives,
    and the officer roster."""

    contacts: list[dict[str, str]]
    persons: list[dict[str, str]]
    mentions: list[PiiMention]
    officers: list[str]  # "LAST, FIRST" of every officer and supervisor on the roster


def generate_fioe(
    year: int,
    *,
    seed: int = 2020,
    n_reports: int = 5600,
    evasions: bool = False,
    case_mix: bool = True,
) -> SyntheticFioe:
    """A full raw FIOE export for ``year``: ``n_reports`` reports, ~1.8 persons each."""
    rng = random.Random(f"fioe/{year}/{seed}")
    officers = roster(rng, max(12, n_reports // 8))
    supervisors = roster(rng, max(4, n_reports // 90), prefix_supervisor=True)
    officer_weights = [1.0 / (rank + 15) ** 0.9 for rank in range(len(officers))]
    supervisor_weights = [1.0 / (rank + 2) ** 1.1 for rank in range(len(supervisors))]
    drawn: list[DrawnReport] = []
    for _ in range(n_reports):
        report_seed = f"{year}/{seed}/{rng.getrandbits(64)}"
        crew = draw_crew(random.Random(report_seed + "/crew"), officers, officer_weights)
        supervisor = random.Random(report_seed + "/sup").choices(supervisors, supervisor_weights)[0]
        drawn.append(draw_report(report_seed, year, crew, supervisor, evasions, case_mix))
    drawn.sort(key=lambda report: report.entered)
    return _number(rng, year, drawn, [officer.roster_name for officer in officers + supervisors])


def _number(rng: random.Random, year: int, drawn: list[DrawnReport], officers: list[str]) -> SyntheticFioe:
    """Assign fc_num in entry order (with gaps), person ids, and orphan person rows."""
    contacts: list[dict[str, str]] = []
    persons: list[dict[str, str]] = []
    mentions: list[PiiMention] = []
    gaps: list[str] = []
    serial = rng.randint(1, 5)
    person_id = rng.randint(10_000_000_000, 19_000_000_000)
    prefix = f"FC{year % 100:02d}"
    for report in drawn:
        while rng.random() < 0.025:
            gaps.append(f"{prefix}{serial:06d}")
            serial += 1
        fc_num = f"{prefix}{serial:06d}"
        serial += 1
        for row in report.contact_rows:
            contacts.append({column: (fc_num if column == "fc_num" else row[column]) for column in CONTACT_COLUMNS})
        for row in report.person_rows:
            person_id += rng.randint(1, 40)
            persons.append(_person_cells(row, str(person_id), fc_num))
        mentions.extend(PiiMention(fc_num, *span) for span in report.spans)
    orphan_count = max(1, round(len(persons) * 0.0125))
    orphan_rng = random.Random(f"fioe/{year}/orphans/{rng.getrandbits(64)}")
    for _ in range(orphan_count if gaps else 0):
        fc_num = orphan_rng.choice(gaps)
        when, when_text = draw_when(orphan_rng, year)
        draw = rows.person_row(orphan_rng, when, "pedestrian", 1.0)
        person_id += orphan_rng.randint(1, 40)
        row = dict(draw.row, contact_date=when_text)
        persons.append(_person_cells(row, str(person_id), fc_num))
    persons.sort(key=lambda row: (row["fc_num"], row["person_id"]))
    return SyntheticFioe(contacts=contacts, persons=persons, mentions=mentions, officers=officers)


def _person_cells(row: dict[str, str], person_id: str, fc_num: str) -> dict[str, str]:
    filled = dict(row, person_id=person_id, fc_num=fc_num)
    return {column: filled[column] for column in PERSON_COLUMNS}


def write_fioe(
    data: SyntheticFioe, out_dir: Path, *, encoding: str = "utf-8", line_terminator: str = "\n"
) -> list[Path]:
    """Write ``fieldcontact.csv`` and ``fieldcontact_name.csv``; return their paths.

    ``encoding`` may be ``utf-8``, ``utf-8-sig`` (with BOM) or ``cp1252`` like the City's
    exports; cp1252 cannot hold the characters ``evasions=True`` plants (it raises
    ``UnicodeEncodeError``). Line breaks inside narratives stay ``\n`` whatever
    ``line_terminator`` is, so mention offsets hold after a round trip.
    """
    return write_tables(out_dir, (("fieldcontact.csv", CONTACT_COLUMNS, data.contacts),
                                  ("fieldcontact_name.csv", PERSON_COLUMNS, data.persons)),
                        encoding=encoding, line_terminator=line_terminator)


def write_tables(out_dir: Path, files: tuple[tuple[str, tuple[str, ...], list[dict[str, str]]], ...], *,
                 encoding: str = "utf-8", line_terminator: str = "\n") -> list[Path]:
    """Write each (file name, columns, rows) as a CSV in ``out_dir``; return the paths (every
    generation's export is written this way)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, columns, table in files:
        path = out_dir / name
        with path.open("w", encoding=encoding, newline="") as handle:
            writer = csv.writer(handle, lineterminator=line_terminator)
            writer.writerow(columns)
            writer.writerows([row[column] for column in columns] for row in table)
        written.append(path)
    return written


def write_sample(out_dir: Path) -> list[Path]:
    """The bundled sample: ``generate_fioe(2020, seed=2020)`` written as UTF-8 with LF."""
    return write_fioe(generate_fioe(2020, seed=2020), out_dir)
