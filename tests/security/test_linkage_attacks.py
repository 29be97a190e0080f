"""Issue #12, attack 1c: one person's reports linked through the public persons and contacts files,
each through the CLI on a small synthetic export with one fictitious person planted in existing
reports (so their reports differ in place, officers and car unless the attack says otherwise).

The build judges the link person by person with the private person key: a person is exposed when,
for a pair of their reports, the rows alike in every column the two agree on hold fewer than 5
people, or when two of their reports' narratives share a phrase found in the reports of fewer than
5 people. Then the person-level table is
withheld: the year is still a draft (exit 0), the table is neither in ``public/`` nor charged on
the ledger, and the packet's warning says why, in counts. The control: a person seen twice who
does not stand out leaves the table published and charged.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from conftest import authoritative_ledger, invoke, new_signer, trusted_rules

from release.bundle.read import read_manifest
from release.privacy.ledger import Ledger

pytestmark = pytest.mark.slow  # every row builds and attacks a release of its own: 20-45 s each

ROOT = Path(__file__).resolve().parents[2]
YEAR = "2020"
TABLE = "fioe_people_by_contacts_neighbourhood"
RARE = dict(sex="Female", race="Asian", ethnicity="Hispanic Origin", dob="1950-05-05", age="70")
COMMON = dict(sex="Male", race="Black", ethnicity="Not of Hispanic Origin", dob="1992-05-05", age="28")
NAMELESS = {**COMMON, "first_name": "", "last_name": "", "dob": ""}  # known to the export by person_id only
CAR = dict(vehicle_year="1987", vehicle_state="VT", vehicle_model="Cutlass", vehicle_color="Purple",
           vehicle_style="Convertible", vehicle_type="Passenger Car/Automobile")
STREET = dict(street="GENEVA AVE", city="DORCHESTER", zip="02121")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@dataclass(frozen=True)
class Plant:
    """One fictitious person ("Zed Quimby") added to ``reports`` existing reports of a synthetic export."""

    person: dict[str, str]
    reports: int
    on_report: dict[str, str] = field(default_factory=dict)  # contacts cells set on each of their reports
    on_person: dict[str, str] = field(default_factory=dict)  # persons cells of each of their rows
    pick: Callable[[list[dict[str, str]], int], list[dict[str, str]]] | None = None  # which reports
    # cells of the n-th report and person (contacts cells, persons cells): what differs between them
    each: Callable[[int], tuple[dict[str, str], dict[str, str]]] = lambda number: ({}, {})
    decoys: int = 0  # other people, one report each, alike on ``on_report`` but for ``decoy_time``
    decoy_time: str = "10:05:00"
    by_text: bool = False  # only their narratives link them
    one_person_id: bool = False  # the export gives them one person_id (published as its keyed pseudonym)

    def export(self, folder: Path) -> Path:
        from release.synth.fioe import generate_fioe, write_fioe

        write_fioe(generate_fioe(2020, seed=3, n_reports=120), folder)
        contacts, persons = _read(folder / "fieldcontact.csv"), _read(folder / "fieldcontact_name.csv")
        alone = [r["fc_num"] for r in persons]  # reports of one adult: no one else shares their place
        adult = {r["fc_num"] for r in persons if r["age"].isdigit() and 18 <= int(r["age"]) <= 100}
        first = list({row["fc_num"]: row for row in contacts if row["contact_date"].startswith(YEAR)
                      and alone.count(row["fc_num"]) == 1 and row["fc_num"] in adult}.values())
        first.sort(key=lambda row: row["contact_date"])
        chosen = (self.pick or _spread)(first, self.reports)
        others = [r for r in first if r not in chosen][1::7][:self.decoys]
        for number, report in enumerate([*chosen, *others]):
            cells, own = self.each(number)
            if number >= len(chosen):  # a decoy: someone else, seen once, at another time of day
                cells = {"contact_date": report["contact_date"][:11] + self.decoy_time}
                own = {"last_name": f"Decoy{number}", "dob": f"1991-02-{number:02d}"}
            for row in contacts:
                if row["fc_num"] == report["fc_num"]:
                    row.update({**self.on_report, **cells})
            persons.append({**dict.fromkeys(persons[0], ""), "first_name": "Zed", "last_name": "Quimby",
                            "deceased": "0", "was_frisked": "0", **self.person, **self.on_person, **own,
                            "person_id": str(99000000000 + (0 if self.one_person_id else number)),
                            "fc_num": report["fc_num"],
                            "contact_date": report["contact_date"]})
        _write(folder / "fieldcontact.csv", contacts)
        _write(folder / "fieldcontact_name.csv", persons)
        return folder


def _spread(reports: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    """``count`` reports spread over the year (so their places, officers and cars differ)."""
    step = len(reports) // count
    return reports[::step][:count]


def _either_side_of_a_birthday(reports: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    return [reports[len(reports) // 8], reports[-len(reports) // 8]]


def _nothing_in_common(reports: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    """Two reports that differ in every drifting group: place, officers, car and situations."""
    first = reports[len(reports) // 4]
    columns = ("street", "zip", "contact_officer", "supervisor", "vehicle_model", "key_situations")
    other = next(r for r in reports[len(reports) // 2:] if all(r[c] != first[c] for c in columns))
    return [first, other]


BIRTHDAY = date(1995, 7, 1)  # 24 in the spring, 25 in the autumn: two age bands (18-24, 25-34)

COLOURS = ("Purple", "Maroon", "Red", "Black", "Blue", "Green", "White", "Silver")
# (race, ethnicity) as six reports recorded one person's
RECORDED = (("Black", "Not of Hispanic Origin"), ("Unknown", "Not of Hispanic Origin"), ("Black", "Hispanic Origin"),
            ("Unknown", "Hispanic Origin"), ("Black", "Unknown"), ("Unknown", "Unknown"))
HOODIE = {"otherclothing": "ORANGE DRAGON HOODIE"}
PHRASE = ("Officers observed a male with a large scorpion tattoo across the left side of his neck and a gold grill. "
          "FIO'd and released.")


# one street, officer and supervisor, no car, no key situation: the reports (and the decoys') alike but for the time
NIGHT_BEAT = {**STREET, "contact_officer": "099999", "contact_officer_name": "OFFICER, FICTITIOUS", "supervisor": "099998",
              "supervisor_name": "SUPERVISOR FICTITIOUS", "key_situations": "", **dict.fromkeys(CAR, "")}


def _at_night(number: int) -> tuple[dict[str, str], dict[str, str]]:
    return {"contact_date": f"2020-{2 + number:02d}-1{number} 23:1{number}:00"}, {}


WITHHELD: dict[str, Plant] = {
    "1c-1-rare-person-in-40-reports": Plant(RARE, 40),
    "1c-2-rare-person-in-5-reports": Plant(RARE, 5),
    "1c-2-rare-person-in-10-reports": Plant(RARE, 10),
    "1c-3-common-person-with-the-same-car": Plant(COMMON, 5, on_report=CAR),
    "1c-3-common-person-with-the-same-clothing": Plant(COMMON, 5, on_person=HOODIE),
    "1c-4-age-crossing-a-band-on-one-street": Plant(
        {**COMMON, "dob": BIRTHDAY.isoformat(), "age": ""}, 2, on_report=STREET, pick=_either_side_of_a_birthday),
    # round 5: partial matches
    "1c-colour-the-same-car-in-another-colour-each-time": Plant(
        COMMON, 2, on_report=CAR, each=lambda n: ({"vehicle_color": COLOURS[n]}, {}), pick=_nothing_in_common),
    "1c-race-recorded-differently-each-time": Plant(
        COMMON, 6, on_report=CAR, on_person=HOODIE,
        each=lambda n: ({}, dict(zip(("race", "ethnicity"), RECORDED[n], strict=True)))),
    "1c-tod-one-officer-one-street-at-night-among-daytime-decoys": Plant(
        COMMON, 5, on_report=NIGHT_BEAT, each=_at_night, decoys=5),
    "1c-narr-a-rare-phrase-in-their-narratives": Plant(
        COMMON, 3, on_report={"contact_reason": PHRASE}, pick=lambda reports, n: _nothing_in_common(reports, n)
        + [reports[len(reports) // 8]], by_text=True),
    # the control below, but the City's person_id is one: its pseudonym is the same in both rows
    # within the release (as the City's own file joins them), so the files say "one person"
    "1c-id-one-person-id-pseudonym-in-two-reports-with-nothing-else-in-common": Plant(
        COMMON, 2, pick=_nothing_in_common, one_person_id=True),
    # the same, with no surname or date of birth (the City's 2022 file has neither): the build's
    # truth joins the two rows by the person id alone, so it sees the pair the pseudonym links
    "1c-id-only-a-person-id-and-no-name-or-birth-date-in-two-reports": Plant(
        NAMELESS, 2, pick=_nothing_in_common, one_person_id=True),
}


def _build(tmp_path: Path, plant: Plant, *rules: str) -> tuple[Path, dict[str, object]]:
    raw = plant.export(tmp_path / "raw")
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", YEAR, "--input", str(raw), "--out", str(out), "--json", *rules)
    assert code == 0, stdout + stderr
    assert "Quimby" not in stdout + stderr and "Traceback" not in stdout + stderr
    return out / "fioe" / YEAR, json.loads(stdout)


def _charges() -> list[dict[str, object]]:
    ledger = authoritative_ledger()
    return [e.body for e in Ledger(ledger).entries() if e.kind == "charge"] if ledger.is_file() else []


@pytest.mark.parametrize("plant", list(WITHHELD.values()), ids=list(WITHHELD))
def test_a_person_the_public_files_link_withholds_the_person_level_table(tmp_path: Path, plant: Plant) -> None:
    bundle, result = _build(tmp_path, plant)
    assert result["status"] == "draft"
    withheld = [w for w in result["warnings"] if w["code"] == "protected_table_withheld"]  # type: ignore[union-attr]
    assert [(w["file"], w["count"]) for w in withheld] == [(TABLE, 1)]
    assert "coarsen or blank what links those reports" in withheld[0]["message"]
    public = bundle / "public"
    assert public.is_dir() and not any(TABLE in p.name for p in public.rglob("*"))
    assert TABLE not in (public / "privacy.json").read_text(encoding="utf-8")
    assert not any(s.get("table") == TABLE for s in read_manifest(bundle)["privacy"].get("spends", []))
    assert _charges() == []  # nothing of it was drawn, so nothing is charged
    figure = read_manifest(bundle)["privacy"]["linkage"][TABLE]
    assert figure["exposed_people"] == 1 and figure["exposing_classes"] >= 1 and figure["pairs_compared"] >= 1
    assert not plant.by_text or figure["exposed_by_text"] == 1
    published = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    assert "linkage" not in published["privacy"]  # the figure stays with the bundle's private part


def test_a_person_seen_twice_who_does_not_stand_out_leaves_the_table_published(tmp_path: Path) -> None:
    """The control: the commonest description, in two reports with nothing else in common."""
    bundle, result = _build(tmp_path, Plant(COMMON, 2, pick=_nothing_in_common))
    assert result["status"] == "draft"
    assert not [w for w in result["warnings"] if w["code"] == "protected_table_withheld"]  # type: ignore[union-attr]
    assert (bundle / "public" / "tables" / f"{TABLE}.csv").is_file()
    figure = read_manifest(bundle)["privacy"]["linkage"][TABLE]
    assert figure["repeated_people"] >= 1 and figure["exposed_people"] == 0
    assert {c["table"] for c in _charges()} == {TABLE}


def test_a_person_known_only_by_person_id_is_one_person_of_the_published_table(tmp_path: Path) -> None:
    """A person with no surname or date of birth (as in the City's 2022 file), in two reports with
    nothing else in common, under a policy that blanks the person_id pseudonym while the table is
    published. Built twice: with two person ids they are two people seen once; with one id the
    build's truth joins the two rows by the id alone, so the linkage check sees one more person in
    two reports and compares one more pair, finds nobody exposed, and the table goes out, charged."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "redaction_rules", rules)
    tables = rules / "fioe_tables.yaml"
    tables.write_text(tables.read_text(encoding="utf-8").replace(
        "coarsen: {age: age_band,", "coarsen: {person_id: blank, age: age_band,"), encoding="utf-8")
    figures = []
    for one_id in (False, True):
        plant = Plant(NAMELESS, 2, pick=_nothing_in_common, one_person_id=one_id)
        bundle, result = _build(tmp_path / f"one-id-{one_id}", plant, "--rules", str(rules))
        assert result["status"] == "draft"
        assert not [w for w in result["warnings"] if w["code"] == "protected_table_withheld"]  # type: ignore[union-attr]
        assert (bundle / "public" / "tables" / f"{TABLE}.csv").is_file()
        persons = _read(bundle / "public" / f"fioe_{YEAR}_persons.csv")
        assert {row["person_id"] for row in persons} == {""}  # the policy's coarsening while the table is out
        manifest = read_manifest(bundle)
        assert "persons_without_person_key" not in {f["code"] for f in manifest["findings"]}  # every row has an id
        figures.append(manifest["privacy"]["linkage"][TABLE])
    two_ids, one_id = figures
    assert one_id["repeated_people"] == two_ids["repeated_people"] + 1
    assert one_id["pairs_compared"] == two_ids["pairs_compared"] + 1 and one_id["exposed_people"] == 0
    assert {c["table"] for c in _charges()} == {TABLE}


def test_a_withheld_table_needs_no_charge_to_be_approved_published_audited_and_verified(tmp_path: Path) -> None:
    """Which tables spend is read from public/ and the trusted tables policy (issue #12, 3m-strip):
    the policy declares the person-level table noisy, but a withheld one is not published, so the
    year with no charge at all goes out, through approve, publish, the audit and ``verify`` (0)."""

    bundle, _ = _build(tmp_path, WITHHELD["1c-2-rare-person-in-5-reports"])
    assert not (bundle / "public" / "tables" / f"{TABLE}.csv").exists() and _charges() == []
    rules, counsel = trusted_rules(tmp_path), new_signer(tmp_path, "A. Counsel")
    out, site = ["--out", str(bundle.parent.parent), "--rules", str(rules)], tmp_path / "site"
    for args in (["approve", "fioe", YEAR, "--key", str(counsel), *out],
                 ["publish", "fioe", YEAR, "--to", str(site), *out],
                 ["audit", "fioe", YEAR, *out, "--no-scan", "--allow-unverified"],
                 ["verify", str(site / "fioe" / YEAR), "--rules", str(rules)]):
        code, stdout, stderr = invoke(*args)
        assert code == 0, f"{args[0]}: {stdout + stderr}"
    assert _charges() == []
