"""Issue #10, item 4: a name typed into any published column of contacts or persons never
leaves a build: a closed column blanks it (and reports count and row keys), a free-text
column redacts it. Checked through the CLI, in every file of the bundle and in its output."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, contact, invoke, person, write_export

from release.config.policy import load_policy

_POLICY = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
# Published as the City publishes them, so a name there is published by design: officers'
# names (the roster). A street must read as one (its last word a street type), so a name is blanked.
BY_DESIGN = {"contacts.contact_officer_name", "contacts.supervisor_name"}
# A report number not of its format is refused at load (exit 4, no bundle; issue #11 item 6),
# so it is planted in a build of its own (its error line must not carry it either).
BLOCKING = {"contacts.fc_num", "persons.fc_num"}
COLUMNS = [f"{file}.{column}" for file in ("contacts", "persons")
           for column in _POLICY.files[file].public_columns()
           if f"{file}.{column}" not in BY_DESIGN and column in _POLICY.files[file].raw_columns()]  # read from the export
_FIRST = [
    "Ottoline", "Barnaby", "Griselda", "Thaddeus", "Philippa", "Leopold", "Mirabel", "Casimir",
    "Eudora", "Florian", "Honoria", "Ignatius", "Jessamy", "Lysander", "Marisol", "Octavius",
    "Perpetua", "Quentin", "Rosalind", "Sebastian", "Tamsin", "Ulysses", "Verity", "Wilhelmina",
    "Xavier", "Yolanda", "Zephyrine", "Ambrose", "Beatrix", "Cornelius", "Delphine", "Erasmus",
    "Fenella", "Gideon", "Hyacinth", "Isidore",
]
_LAST = [
    "Vandersnoot", "Pemberton", "Quackenbush", "Featherstonehaugh", "Winterbottom", "Oddfellow",
    "Blatherwick", "Cholmondeley", "Dunwoody", "Ellingboe", "Fothergill", "Gallimore",
    "Hasselhoff", "Ingleby", "Jorgensen", "Kittredge", "Lumley", "Mabberley", "Nethercott",
    "Ormerod", "Pettigrew", "Quigley", "Rudkin", "Sallowby", "Throckmorton", "Underhill",
    "Venables", "Wigglesworth", "Yardley", "Zellweger", "Abernethy", "Bickerstaff",
    "Crumbleholme", "Dimbleby", "Eggleston", "Frobisher",
]
NAMES = {column: f"{_FIRST[i]} {_LAST[i]}" for i, column in enumerate(COLUMNS)}  # all fictitious


def _planted(column: str) -> str:
    """The cell as an officer might type it: free text around the name, else the name alone."""
    name = NAMES[column]
    if column == "contacts.contact_reason":
        return f"Officers spoke with {name} near the park. FIO for intel."
    if column == "persons.otherclothing":
        return f"BLACK HOODIE, BLUE JEANS. JACKET SAYS {name.upper()} ON THE BACK"
    return name


@dataclass(frozen=True)
class Build:
    code: int
    result: dict
    texts: dict[str, str]   # every file of the bundle (and the ledger), stdout and stderr


def _build(tmp_path: Path, columns: list[str]) -> Build:
    contacts, persons = [], []
    for number, where in enumerate(columns, start=100):
        file, column = where.split(".")
        fc_num = f"FC20{number:06d}"
        # a different person in every report (one person in all of them would be one linked
        # combination of the persons file, which the linkage check rightly blocks)
        dob = f"{1 + number % 12:02d}/{1 + number % 28:02d}/1999"
        row, people = contact(fc_num), person(fc_num, first_name="Zed", last_name="Quill", dob=dob)
        (row if file == "contacts" else people)[column] = _planted(where)
        contacts.append(row)
        persons.append(people)
    folder = write_export(tmp_path / "raw", contacts, persons)
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(folder), "--out", str(out), "--json")
    texts = {str(p.relative_to(out)): p.read_bytes().decode("utf-8", "replace") for p in out.rglob("*") if p.is_file()}
    texts |= {"stdout": stdout, "stderr": stderr}
    return Build(code, json.loads(stdout) if stdout else {}, texts)


@pytest.fixture(scope="module")
def draft(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return _build(tmp_path_factory.mktemp("planted"), [c for c in COLUMNS if c not in BLOCKING])


@pytest.fixture(scope="module")
def blocked(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return _build(tmp_path_factory.mktemp("planted_key"), sorted(BLOCKING))


def test_builds_end_as_expected(draft: Build, blocked: Build) -> None:
    assert (draft.code, draft.result["status"]) == (0, "draft")
    assert any(path.endswith("fioe_2020_persons.csv") for path in draft.texts)
    assert (blocked.code, blocked.result["error"], blocked.result["rule"]) == (4, "InputError", "key-format")
    assert not any(path.startswith("fioe") for path in blocked.texts)  # refused at load: no bundle
    closed = {(w["code"], w["column"]) for w in draft.result["warnings"]}
    assert ("value_outside_domain", "weather") in closed and ("value_outside_domain", "vehicle_model") in closed


@pytest.mark.parametrize("column", COLUMNS, ids=COLUMNS)
def test_planted_name_is_redacted_or_blanked_everywhere(column: str, draft: Build, blocked: Build) -> None:
    build = blocked if column in BLOCKING else draft
    name = NAMES[column]
    surname = name.split()[1]
    found = [where for where, text in build.texts.items() if surname.casefold() in text.casefold()]
    assert found == [], f"{name} ({column}) is in {found}"
