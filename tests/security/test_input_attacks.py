"""Issue #11's input attacks, each end to end through the CLI, each refused by a named check.

One table (``ATTACKS``): every row is an attack on the raw export, reproduced with
fictitious values only on a small hand-written FIOE export; the build that must now refuse
it (``release fioe 2020 --json``); the exit code; and the text the refusal must contain
(the rule or finding code that caught it). ``README.md`` beside this file explains the
format. Hostile sizes are small multiples of the limits (the shipped ``limits`` of
``redaction_rules/fioe.yaml``); that parsing stays linear at 1 MB is shown by
``benchmarks/bench_parse.py``, not timed here.

Every row also asserts: no traceback; the planted value (``secret``) in no output and no
file the build wrote; an input error (exit 4) is one stderr line naming file and line, and
writes no bundle; no public CSV cell a spreadsheet would run as a formula, and no
invisible character in any public file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import CONTACT_COLUMNS, contact, invoke, person, public_key, write_csv

from release.stages.cells import INVISIBLE, is_formula
from release.stages.juvenile import PUBLIC_KEY_PATTERN

REPORTS = 12  # enough values in a closed column for the raw suite to judge a shift


@dataclass
class Export:
    """The raw export an attacker edits: a dozen reports a day apart in March 2020, one adult each."""

    folder: Path
    contacts: list[dict[str, str]] = field(default_factory=list)
    persons: list[dict[str, str]] = field(default_factory=list)
    contact_columns: list[str] = field(default_factory=lambda: list(CONTACT_COLUMNS))
    edits: list[Callable[[Path], None]] = field(default_factory=list)  # byte-level edits after writing

    def write(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_csv(self.folder / "fieldcontact.csv", self.contacts, self.contact_columns)
        write_csv(self.folder / "fieldcontact_name.csv", self.persons)
        for edit in self.edits:
            edit(self.folder)
        return self.folder


def _export(folder: Path) -> Export:
    export = Export(folder)
    for day in range(1, REPORTS + 1):
        fc_num = f"FC2000{day:04d}"
        when = f"2020-03-{day:02d} 17:25:00"
        export.contacts.append(contact(fc_num, contact_date=when))
        export.persons.append(person(fc_num, contact_date=when, person_id=f"3000000{day:04d}", dob="", age="30"))
    return export


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str
    out: Path

    def public(self, name: str) -> list[dict[str, str]]:
        path = self.out / "fioe" / "2020" / "public" / f"fioe_2020_{name}.csv"
        return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


@dataclass(frozen=True)
class Attack:
    attack: str                                 # what the attacker (or a careless exporter) does
    plant: Callable[[Export], None]             # edits the raw export
    exit_code: int                              # what README's table promises
    refusal: str                                # the named rule or finding code, in stdout or stderr
    secret: str = ""                            # a planted value that must reach no output or file
    then: Callable[[Outcome], bool] = lambda outcome: True  # and what must still hold afterwards


# ---- what the attacker plants ---------------------------------------------------------------

NAME_AND_DOB = "Ottoline Vandersnoot 01/02/2003"


def _set(rows: list[dict[str, str]], index: int, **values: str) -> None:
    rows[index].update(values)


def _append_to_file(name: str, text: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        with (folder / name).open("a", encoding="utf-8", newline="") as handle:
            handle.write(text)
    return edit


def _replace_bytes(name: str, old: bytes, new: bytes) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / name
        path.write_bytes(path.read_bytes().replace(old, new, 1))
    return edit


def _header_only(name: str) -> Callable[[Path], None]:
    def edit(folder: Path) -> None:
        path = folder / name
        path.write_text(path.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    return edit


def _extra_columns(export: Export, names: list[str]) -> None:
    export.contact_columns += names
    for row in export.contacts:
        row.update({name: "x" for name in names})


def _drop_column(export: Export, name: str) -> None:
    export.contact_columns.remove(name)


def _minor_between_neighbours(export: Export) -> None:
    _set(export.persons, 5, age="16", dob="2004-01-02")


FORMULAS = {"contact_officer_name": '=HYPERLINK("http://example.invalid/x","open")',
            "supervisor_name": "@SUM(1+1)*cmd|' /C calc'!A0", "contact_reason": "+cmd|' /C calc'!A0 then released"}


def _formulas(export: Export) -> None:
    _set(export.contacts, 0, **FORMULAS)
    _set(export.contacts, 1, contact_reason="-2+3 units responded. Released.")


# ---- what must still hold ------------------------------------------------------------------

def _withheld(report: str) -> Callable[[Outcome], bool]:
    """The minor's report: narrative and street withheld, month only, under a pseudonym."""
    def check(outcome: Outcome) -> bool:
        contacts = outcome.public("contacts")
        juvenile = [row for row in contacts if row["fc_num"] == public_key(report)]
        return len(juvenile) == 1 and juvenile[0]["contact_reason"] == "[WITHHELD: JUVENILE]" and \
            juvenile[0]["street"] == "[WITHHELD: JUVENILE]" and juvenile[0]["contact_date"] == "2020-03-01T00:00:00" \
            and juvenile[0]["contact_date_precision"] == "month" and \
            [row for row in contacts if row["contact_date_precision"] == "month"] == juvenile
    return check


def _apart(outcome: Outcome) -> bool:
    """The juvenile report's key is its pseudonym, its row sorts by its month (before every
    dated row of March), and its person still links to it."""
    contacts, persons = outcome.public("contacts"), outcome.public("persons")
    pseudonym = public_key("FC20000006")
    return ([row["fc_num"] for row in contacts][0] == pseudonym and contacts[0]["contact_date"] == "2020-03-01T00:00:00"
            and contacts[0]["contact_date_precision"] == "month"
            and [row["fc_num"] for row in persons][0] == pseudonym
            and (persons[0]["age"], persons[0]["age_band"]) == ("", "16-17")
            and len(contacts) == len(persons) == REPORTS)


def _no_source_keys(outcome: Outcome) -> bool:
    """No public key is a report number; every key is a pseudonym of this release's; rows sort by
    (published date, key); persons link to contacts: no gap and no place brackets the minor."""
    contacts, persons = outcome.public("contacts"), outcome.public("persons")
    keys = [row["fc_num"] for row in contacts]
    return (all(re.fullmatch(PUBLIC_KEY_PATTERN, key) for key in keys + [row["fc_num"] for row in persons])
            and sorted(keys) == sorted(public_key(f"FC2000{day:04d}") for day in range(1, REPORTS + 1))
            and [(row["contact_date"], row["fc_num"]) for row in contacts]
            == sorted((row["contact_date"], row["fc_num"]) for row in contacts)
            and {row["fc_num"] for row in persons} == set(keys)
            and [(row["age"], row["age_band"]) for row in persons  # adults are banded too (linkage)
                 if row["age_band"] in ("under 14", "14-15", "16-17")] == [("", "16-17")])


def _formulas_neutral(outcome: Outcome) -> bool:
    contacts = outcome.public("contacts")
    return contacts[0]["contact_officer_name"] == "'" + FORMULAS["contact_officer_name"] and \
        contacts[0]["contact_reason"].startswith("'+") and contacts[1]["contact_reason"].startswith("'-2+3")


def _excluded(report: str) -> Callable[[Outcome], bool]:
    return lambda outcome: [row for row in outcome.public("contacts") if row["fc_num"] == public_key(report)] == [] \
        and len(outcome.public("contacts")) == REPORTS - 1


def _vehicle_year_blank(outcome: Outcome) -> bool:
    return outcome.public("contacts")[0]["vehicle_year"] == ""


def _weather_blank(outcome: Outcome) -> bool:
    return all(row["weather"] == "" for row in outcome.public("contacts"))


ATTACKS: dict[str, Attack] = {
    # raw values in row keys (item 6)
    "persons-key-holds-name-and-dob": Attack(
        "a persons row's fc_num holds a name and a date of birth",
        lambda e: _set(e.persons, 1, fc_num=NAME_AND_DOB), 4,
        "file fieldcontact_name.csv, line 3, column fc_num, rule key-format", NAME_AND_DOB),
    "contacts-key-holds-name-and-dob": Attack(
        "a contacts row's fc_num holds a name and a date of birth (and its person follows it)",
        lambda e: (_set(e.contacts, 2, fc_num=NAME_AND_DOB), _set(e.persons, 2, fc_num=NAME_AND_DOB)), 4,
        "file fieldcontact.csv, line 4, column fc_num, rule key-format", NAME_AND_DOB),
    "header-holds-name-and-dob": Attack(
        "an extra column whose header is a name and a date of birth",
        lambda e: _extra_columns(e, [NAME_AND_DOB]), 0,
        '"code": "column_not_in_policy"', NAME_AND_DOB,
        lambda o: '"column": "#25"' in o.stdout),
    # minors (item 7)
    "age-with-decimal": Attack(
        "age typed as 16.0, no date of birth", lambda e: _set(e.persons, 3, age="16.0"), 0,
        '"code": "age_unknown_minor"', then=_withheld("FC20000004")),
    "age-with-unit": Attack(
        "age typed as 17 yrs, no date of birth", lambda e: _set(e.persons, 3, age="17 yrs"), 0,
        '"code": "age_unknown_minor"', then=_withheld("FC20000004")),
    "blank-age-dob-says-16": Attack(
        "age left blank, the date of birth makes the person 16", lambda e: _set(e.persons, 3, age="", dob="2004-01-02"),
        0, '"code": "age_from_dob"', then=_withheld("FC20000004")),
    "adult-age-dob-says-16": Attack(
        "age typed as 25, the date of birth makes the person 16", lambda e: _set(e.persons, 3, age="25",
                                                                                  dob="01/02/2004"),
        0, '"code": "age_from_dob"', then=_withheld("FC20000004")),
    "juvenile-key-between-neighbours": Attack(
        "a minor's report FC20000006 published between FC20000005 and FC20000007, whose full dates are public",
        _minor_between_neighbours, 0, "keyed pseudonymous report number", then=_apart),
    "juvenile-date-from-key-gaps": Attack(
        "a minor's report FC20000006 between adult neighbours: the gap in the public FC sequence, bracketed "
        "by FC20000005's and FC20000007's published hours, would give its day back",
        _minor_between_neighbours, 0, "not the source's sequential number", then=_no_source_keys),
    # public CSV hygiene (item 8)
    "formula-cells": Attack(
        "=HYPERLINK, @SUM/DDE, +cmd and -2+3 typed at the start of published cells", _formulas, 0,
        "written with a leading '", then=_formulas_neutral),
    "nul-and-bidi": Attack(
        "a NUL and a right-to-left override inside a narrative and a weather cell",
        lambda e: _set(e.contacts, 0, contact_reason="Officers\x00 observed \u202efdp.exe near the park.",
                       weather="Sun\u202eny"), 0,
        '"code": "invisible_characters_removed"', "\u202e"),
    "impossible-date-feb-30": Attack(
        "contact_date 2020-02-30", lambda e: _set(e.contacts, 4, contact_date="2020-02-30 10:00:00"), 0,
        '"code": "date_unreadable"', "2020-02-30", _excluded("FC20000005")),
    "impossible-date-month-13": Attack(
        "contact_date 2020-13-01", lambda e: _set(e.contacts, 4, contact_date="2020-13-01 10:00:00"), 0,
        '"code": "date_unreadable"', "2020-13", _excluded("FC20000005")),
    "cp1252-byte-in-utf8-file": Attack(
        "one cp1252 byte (0xE9) in a UTF-8 file that also holds UTF-8 text",
        lambda e: (_set(e.contacts, 0, contact_reason="Caf\u00e9 visit"),
                   e.edits.append(_replace_bytes("fieldcontact.csv", b"FC20000003,", b"FC20000003,\xe9"))), 4,
        "file fieldcontact.csv, line 4, rule encoding"),
    # hostile sizes (item 9): small multiples of the shipped limits
    "many-unknown-columns": Attack(
        "500 unknown columns (the attack used 100,000)",
        lambda e: _extra_columns(e, [f"extra_{i}" for i in range(500)]), 4,
        "file fieldcontact.csv, line 1, rule limits: the header has 524 columns"),
    "huge-cell": Attack(
        "a narrative of 25,000 characters (the attack used 50 MB)",
        lambda e: _set(e.contacts, 6, contact_reason="word " * 5_000), 4,
        "file fieldcontact.csv, line 8, column contact_reason, rule limits: a cell is longer"),
    "long-line": Attack(
        "a line of 110,000 characters, every cell under the cell limit",
        lambda e: _set(e.contacts, 6, **{c: "ab " * 6_000 for c in ("contact_reason", "vehicle_model", "vehicle_color",
                                                                     "key_situations", "weather", "street")}), 4,
        "file fieldcontact.csv, line 8, rule limits: the line is longer"),
    "run-of-quotes": Attack(
        "a narrative holding a run of 5,000 quote characters (the attack used 40,000)",
        lambda e: _set(e.contacts, 6, contact_reason='"' * 5_000), 4,
        "file fieldcontact.csv, line 8, column contact_reason, rule limits: a cell holds a word"),
    "thirty-digit-vehicle-year": Attack(
        "vehicle_year of 30 digits", lambda e: _set(e.contacts, 0, vehicle_year="1" * 30), 0,
        '"code": "integer_invalid"', "1" * 30, _vehicle_year_blank),
    "header-only-export": Attack(
        "fieldcontact_name.csv cut off after its header", lambda e: e.edits.append(_header_only("fieldcontact_name.csv")),
        4, "file fieldcontact_name.csv, rule non-empty: the file has a header but no rows"),
    "short-row": Attack(
        "a row with 2 fields appended to fieldcontact.csv",
        lambda e: e.edits.append(_append_to_file("fieldcontact.csv", "FC20009999,2020-03-30 10:00\n")), 4,
        "file fieldcontact.csv, line 14, rule csv: malformed CSV: 2 fields where the header has 24"),
    # expectations that can fail (item 11)
    # a subject's own name typed into a structured column of the same report (found by the attacker role)
    "subject-name-as-supervisor": Attack(
        "the report's own subject typed as its supervisor, in the records form LAST, FIRST",
        lambda e: _set(e.contacts, 2, supervisor_name="QUARTERMAINE, ZEBULON"), 5, "leak_check",
        then=lambda o: not (o.out / "fioe" / "2020" / "public").exists()),
    "subject-name-as-street": Attack(
        "the subject (who has a middle name) typed as the report's street: first and last name + ST",
        lambda e: (_set(e.persons, 2, middle_name="D."), _set(e.contacts, 2, street="ZEBULON QUARTERMAINE ST")),
        5, "leak_check", then=lambda o: not (o.out / "fioe" / "2020" / "public").exists()),
    "export-without-weather": Attack(
        "the export lacks the weather column", lambda e: _drop_column(e, "weather"), 0,
        '"code": "optional_column_absent"', then=lambda o: '"column": "weather"' in o.stdout),
    "export-without-supervisor": Attack(
        "the export lacks the supervisor column", lambda e: _drop_column(e, "supervisor"), 0,
        '"code": "optional_column_absent"', then=lambda o: '"column": "supervisor"' in o.stdout),
    "export-without-required-basis": Attack(
        "the export lacks the required basis column", lambda e: _drop_column(e, "basis"), 4,
        "file fieldcontact.csv, line 1, column basis, rule required"),
    "weather-holds-shifted-values": Attack(
        "every weather value is a key situation or a basis (the City's 2022 file)",
        lambda e: [row.update(weather=("Body Worn Camera", "Intel")[i % 2]) for i, row in enumerate(e.contacts)], 5,
        "expect_column_values_to_be_in_set failed (critical)",
        then=lambda o: '"column": "weather"' in o.stdout and "Fix: compare the export's column" in o.stdout),
}


@pytest.mark.parametrize("case", list(ATTACKS.values()), ids=list(ATTACKS))
def test_input_attack_is_refused(tmp_path: Path, case: Attack) -> None:
    export = _export(tmp_path / "raw")
    case.plant(export)
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(export.write()), "--out", str(out), "--json")
    outcome = Outcome(code, stdout, stderr, out)
    assert code == case.exit_code, stdout[-3000:] + stderr
    assert case.refusal in stdout + stderr, stdout[-3000:] + stderr
    assert "Traceback" not in stdout + stderr
    written = {p: p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.is_file()}
    if case.secret:
        assert case.secret not in stdout + stderr
        assert [p.name for p, text in written.items() if case.secret in text] == []
    if code == 4:
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and re.match(r"error: file [\w.]+\.csv, (line \d+, )?", lines[0]), stderr
        assert json.loads(stdout)["error"] == "InputError"
        assert not (out / "fioe" / "2020").exists()
    for path, text in written.items():
        if path.parent.name == "public":
            assert not set(map(ord, text)) & INVISIBLE, path.name
            if path.suffix == ".csv":
                cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
                assert not [cell for cell in cells if is_formula(cell)], path.name
    assert case.then(outcome), case.attack


@pytest.mark.slow
def test_a_juvenile_reports_place_does_not_depend_on_its_date(tmp_path: Path) -> None:
    """The minor's report FC20000006 dated 6, 9 or 20 March: the public files are the same,
    byte for byte. So neither its key, nor its row order, nor its neighbours' keys narrow the
    month the public file gives."""
    published = set()
    for day in (6, 9, 20):
        export = _export(tmp_path / f"raw-{day}")
        _set(export.persons, 5, age="16", dob="2004-01-02", contact_date=f"2020-03-{day:02d} 17:25:00")
        _set(export.contacts, 5, contact_date=f"2020-03-{day:02d} 17:25:00")
        out = tmp_path / f"out-{day}"
        code, stdout, stderr = invoke("fioe", "2020", "--input", str(export.write()), "--out", str(out), "--json")
        assert code == 0, stderr
        public = out / "fioe" / "2020" / "public"
        published.add(tuple((public / f"fioe_2020_{name}.csv").read_bytes() for name in ("contacts", "persons")))
        assert _no_source_keys(Outcome(code, stdout, stderr, out))
    assert len(published) == 1
