"""datapackage.json: typed fields, keys, license, sources, created date, privacy statement and
change note, validated by frictionless on the public folder of small builds."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import small_fioe_build, valid_typed_package

from release.bundle.portal import iso_date
from release.privacy.linkage import ADULT_BAND_LABELS


@pytest.fixture(scope="module")
def fioe_public(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, out = small_fioe_build(tmp_path_factory)
    return out / "fioe" / "2020" / "public"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_fioe_package_validates_typed_with_keys(fioe_public: Path) -> None:
    package = valid_typed_package(fioe_public)
    resources = {r["name"]: r for r in package["resources"]}
    contacts, persons = resources["fioe_2020_contacts"], resources["fioe_2020_persons"]
    assert contacts["schema"]["primaryKey"] == ["fc_num", "row_in_report"]
    assert persons["schema"]["primaryKey"] == ["fc_num", "person_in_report"]
    assert persons["schema"]["foreignKeys"] == [
        {"fields": ["fc_num"], "reference": {"resource": "fioe_2020_contacts", "fields": ["fc_num"]}}]
    assert contacts["schema"]["missingValues"] == ["", "[WITHHELD: JUVENILE]"]
    types = {f["name"]: f["type"] for f in persons["schema"]["fields"]}
    assert (types["contact_date"], types["age"], types["age_band"], types["was_frisked"]) == (
        "datetime", "integer", "string", "boolean")
    types = {f["name"]: f["type"] for f in contacts["schema"]["fields"]}
    assert (types["stop_duration"], types["vehicle_year"], types["contact_date"]) == ("integer", "integer", "datetime")
    assert "ODC-PDDL" in package["licenses"][0]["name"] and "fieldcontact.csv" in package["sources"][0]["title"]
    assert "contact_date_precision (new)" in package["changes"] and "age_band (new)" in package["changes"]


def test_foreign_key_resolves_and_breaks_when_a_parent_is_missing(fioe_public: Path, tmp_path: Path) -> None:
    import shutil

    import frictionless
    contacts = _rows(fioe_public / "fioe_2020_contacts.csv")
    persons = _rows(fioe_public / "fioe_2020_persons.csv")
    assert {p["fc_num"] for p in persons} <= {c["fc_num"] for c in contacts}
    copy = tmp_path / "public"
    shutil.copytree(fioe_public, copy)
    orphan = persons[0]["fc_num"]
    kept = [c for c in contacts if c["fc_num"] != orphan]
    with (copy / "fioe_2020_contacts.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(contacts[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    report = frictionless.validate(str(copy / "datapackage.json"))
    assert not report.valid and "foreign-key" in {e[0] for e in report.flatten(["type"])}


def test_dates_iso_with_precision_ages_integers_bands_apart(fioe_public: Path) -> None:
    persons = _rows(fioe_public / "fioe_2020_persons.csv")
    contacts = _rows(fioe_public / "fioe_2020_contacts.csv")
    # every report is under a pseudonym: a juvenile report is the one whose narrative is withheld
    minors = {c["fc_num"] for c in contacts if c["contact_reason"] == "[WITHHELD: JUVENILE]"}
    assert minors, "the sample holds juvenile reports"
    for row in contacts + persons:
        juvenile = row["fc_num"] in minors
        assert row["contact_date_precision"] == ("month" if juvenile else "hour")
        assert row["contact_date"].endswith(":00:00") and "T" in row["contact_date"]
        if juvenile:
            assert row["contact_date"][8:] == "01T00:00:00"   # the start of the month: nothing finer
    for row in persons:
        assert row["age"] == "" or row["age"].isdigit()
        assert row["age_band"] in ("", "under 14", "14-15", "16-17", *ADULT_BAND_LABELS)  # adults: linkage
        assert not (row["age"] and row["age_band"])
        if row["age_band"] in ("under 14", "14-15", "16-17"):
            assert row["fc_num"] in minors
    juvenile_streets = {c["street"] for c in contacts if c["fc_num"] in minors}
    assert juvenile_streets <= {"[WITHHELD: JUVENILE]", ""}


@pytest.mark.parametrize(("value", "precision", "expected"), [
    ("2020-03-04 17:00", "hour", ("2020-03-04T17:00:00", "hour")),
    ("2020-03", "hour", ("2020-03-01T00:00:00", "month")),
    ("2020-03-04", "hour", ("2020-03-04T00:00:00", "day")),
    ("2020-03-04", "day", ("2020-03-04", "day")),
    ("2020-03", "day", ("2020-03-01", "month")),
    ("2020-03", "month", ("2020-03", "month")),
    (None, "hour", (None, None)), ("not a date", "day", (None, None))])
def test_iso_date(value: object, precision: str, expected: tuple) -> None:
    assert iso_date(value, precision) == expected


def test_a_file_checked_but_never_written_is_checked_in_portal_form() -> None:
    """``publish: false`` (a shootings release of tables only): the public suite still checks the
    victims frame, so it gets the form it would be written in. A date k-anonymity coarsened to a
    month reads as the first of that month with precision ``month``, as in a published file."""
    import pandas as pd

    from release.bundle.portal import portal_form
    from release.config.policy import load_policy
    from release.model import Tables

    shipped = load_policy(Path(__file__).resolve().parents[2] / "redaction_rules" / "shootings.yaml")
    victims = shipped.files["victims"].model_copy(update={"publish": False})
    policy = shipped.model_copy(update={"files": {**shipped.files, "victims": victims}})
    frame = pd.DataFrame({"incident_num": ["I201", "I201"], "shooting_date": ["2020-03", "2020-04-05"]})
    out = portal_form(Tables({"victims": frame}), policy)["victims"]
    assert out["shooting_date"].tolist() == ["2020-03-01", "2020-04-05"]
    assert out["shooting_date_precision"].tolist() == ["month", "day"]
    assert out["victim_in_incident"].tolist() == ["1", "2"]
