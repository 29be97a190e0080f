"""The RMS and legacy synthetic exports (issue #16): the contract's shape for each generation,
the Mark43 generator's reports underneath, and byte-identical output for the same arguments."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest

from release.synth.fioe import generate_fioe
from release.synth.fioe_legacy import COLUMNS as LEGACY_COLUMNS
from release.synth.fioe_legacy import generate_fioe_legacy, write_fioe_legacy
from release.synth.fioe_rms import CONTACT_COLUMNS, PERSON_COLUMNS, STOP_BANDS, generate_fioe_rms, write_fioe_rms

# raw-exports.md, "Older FIOE generations": the legacy file's columns
CONTRACT_LEGACY = (
    "SEQ_NUM, FIO_ID, SEX, LOCATION, DIST, DIST_ID, FIO_DATE, FIO_TIME, PRIORS, DESCRIPTION, CLOTHING, COMPLEXION, "
    "FIOFS_TYPE, TERRORISM, SEARCH, BASIS, STOP_REASONS, ENTEREDBY, FIOFS_REASONS, OUTCOME, VEH_MAKE, VEH_YEAR_NUM, "
    "VEH_COLOR, VEH_MODEL, VEH_OCCUPANT, VEH_STATE, SUPERVISOR_ID, OFFICER_ID, SUPERVISOR, OFF_DIST_ID, OFF_DIST, "
    "OFFICER, SUP_ENTRYDATE, LAST_UPDATEBY, LAST_UPDATETIME, ETHNICITY, FIRST_INSERTTIME, ACTIVE_ID, RACE_ID, "
    "RACE_DESC, FIO_DATE_CORRECTED, AGE_AT_FIO_CORRECTED, STREET_ID, CITY").split(", ")


@pytest.fixture(scope="module")
def rms():  # type: ignore[no-untyped-def]
    return generate_fioe_rms(2017, seed=9, n_reports=80)


def test_rms_shape(rms) -> None:  # type: ignore[no-untyped-def]
    assert {"frisked", "searchperson", "searchvehicle", "summonsissued", "vehicle_make"} <= set(CONTACT_COLUMNS)
    assert not {"key_situations", "weather"} & set(CONTACT_COLUMNS)
    assert "recnum" in PERSON_COLUMNS and not {"was_frisked", "license_state", "license_type"} & set(PERSON_COLUMNS)
    assert all(re.fullmatch(r"F17\d{7}", row["fc_num"]) for row in rms.contacts + rms.persons)
    for flag in ("frisked", "searchperson", "searchvehicle", "summonsissued"):
        assert {row[flag] for row in rms.contacts} == {"Y", ""}, flag
    assert {row["stop_duration"] for row in rms.contacts} <= {band for band, _ in STOP_BANDS} | {""}
    assert all(re.fullmatch(r"[A-Z'\- ]+,[A-Z\u00C0-\u017F'\- ]+?( [A-Z]\.?)?", row["contact_officer_name"])
               for row in rms.contacts)
    assert {row["vehicle_style"] for row in rms.contacts} <= {"PASSENGER CAR", "PICKUP", ""}


def test_rms_rows_of_one_report_share_its_fields(rms) -> None:  # type: ignore[no-untyped-def]
    fields: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for row in rms.contacts:
        fields[row["fc_num"]].add(tuple(row[c] for c in ("frisked", "searchperson", "stop_duration", "vehicle_make")))
    assert all(len(values) == 1 for values in fields.values())


def test_rms_reports_are_the_mark43_generators(rms) -> None:  # type: ignore[no-untyped-def]
    mark43 = generate_fioe(2017, seed=9, n_reports=80)
    assert [row["contact_reason"] for row in rms.contacts] == [row["contact_reason"] for row in mark43.contacts]
    assert [row["last_name"] for row in rms.persons] == [row["last_name"] for row in mark43.persons]
    assert [(m.start, m.value) for m in rms.mentions] == [(m.start, m.value) for m in mark43.mentions]


def test_legacy_shape_one_row_per_person_report_fields_repeated() -> None:
    legacy = generate_fioe_legacy(2013, seed=9, n_reports=80)
    assert set(CONTRACT_LEGACY) <= set(LEGACY_COLUMNS)
    assert {"FIRST_NAME", "LAST_NAME", "DOB", "HOME_ADDRESS", "PHONE", "LICENSE_NUMBER"} <= set(LEGACY_COLUMNS)
    mark43 = generate_fioe(2013, seed=9, n_reports=80)
    reported = {row["fc_num"] for row in mark43.contacts}
    assert len(legacy.rows) == sum(1 for p in mark43.persons if p["fc_num"] in reported)
    report_fields: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for row in legacy.rows:
        report_fields[row["FIO_ID"]].add(tuple(row[c] for c in ("LOCATION", "FIO_DATE_CORRECTED", "STOP_REASONS",
                                                                "OFFICER", "SUP_ENTRYDATE")))
    assert all(len(values) == 1 for values in report_fields.values())
    assert any(len([r for r in legacy.rows if r["FIO_ID"] == fio]) > 1 for fio in report_fields)
    assert not any("contact_reason" in column.lower() or "narrative" in column.lower() for column in LEGACY_COLUMNS)


@pytest.mark.parametrize("generation", ["rms", "legacy"])
def test_same_arguments_same_bytes(tmp_path: Path, generation: str) -> None:
    def write(folder: Path) -> dict[str, bytes]:
        if generation == "rms":
            paths = write_fioe_rms(generate_fioe_rms(2016, seed=1, n_reports=30), folder)
        else:
            paths = write_fioe_legacy(generate_fioe_legacy(2012, seed=1, n_reports=30), folder)
        return {p.name: p.read_bytes() for p in paths}
    assert write(tmp_path / "a") == write(tmp_path / "b")


def test_a_race_the_mark43_generator_wrote_as_null_is_unknown_in_the_legacy_file() -> None:
    """A year-sized `release sample fioe 2013` once stopped on a Mark43 person whose race is NULL."""
    mark43 = generate_fioe(2013, seed=1, n_reports=200, case_mix=False)  # the reports the legacy file is made of
    assert any(p["race"].strip() == "NULL" for p in mark43.persons)
    legacy = generate_fioe_legacy(2013, seed=1, n_reports=200)
    assert {row["RACE_DESC"] for row in legacy.rows} <= {"ASIAN OR PACIFIC ISLANDER", "BLACK", "HISPANIC", "WHITE",
                                                          "MIDDLE EASTERN OR EAST INDIAN", "UNKNOWN"}
