"""Shared fixtures: a tiny hand-written raw FIOE export and the shipped policy."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from release.config import DatasetPolicy, load_policy

ROOT = Path(__file__).resolve().parents[1]

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


def contact(fc_num: str, **values: str) -> dict[str, str]:
    row = {c: "" for c in CONTACT_COLUMNS}
    row.update(fc_num=fc_num, contact_date="2020-03-04 17:25:00", contact_officer="111111",
               contact_officer_name="QUILLFEATHER, ODO", supervisor="022222",
               supervisor_name="MARGUERITE VANTASSEL", street="BLUE HILL AVE", city="DORCHESTER",
               state="MA", zip="02124", incident_address="45 Blue Hill Ave", stop_duration="15",
               circumstance="Stopped", basis="Reasonable Suspicion ", vehicle_plate="7ZQ-K92",
               key_situations=" Body Worn Camera", weather="Sunny",
               contact_reason="Officers observed the operator, near Blue Hill Ave. FIO'd and released.")
    row.update(values)
    return row


def person(fc_num: str, **values: str) -> dict[str, str]:
    row = {c: "" for c in PERSON_COLUMNS}
    row.update(person_id="30000000001", fc_num=fc_num, contact_date="2020-03-04 17:25:00",
               first_name="Zebulon", last_name="Quartermaine", alias="Zeebo", dob="03/14/1999",
               home_address="12 Magazine St", phone="617-555-0142", license_number="S12345678",
               sex="Male", race="Black", age="21", ethnicity="Not of Hispanic Origin",
               build="Thin", was_frisked="0", license_state="MA", license_type="Class D")
    row.update(values)
    return row


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None,
              encoding: str = "utf-8", newline: str = "\n") -> Path:
    columns = columns or list(rows[0])
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator=newline,
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_export(folder: Path, contacts: list[dict[str, str]], persons: list[dict[str, str]],
                 **kwargs: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "fieldcontact.csv", contacts, **kwargs)  # type: ignore[arg-type]
    write_csv(folder / "fieldcontact_name.csv", persons, **kwargs)  # type: ignore[arg-type]
    return folder


@pytest.fixture(scope="session")
def policy() -> DatasetPolicy:
    return load_policy(ROOT / "redaction_rules" / "fioe.yaml")


@pytest.fixture()
def tiny_export(tmp_path: Path) -> Path:
    contacts = [contact("FC20000001"), contact("FC20000001", basis="Intel"),
                contact("FC20000002", contact_reason="Observed group. Released.")]
    persons = [person("FC20000001"), person("FC20000002", first_name="Hortensia", last_name="Bramblewood",
                                             age="16", dob="2004-01-02")]
    return write_export(tmp_path / "raw", contacts, persons)


@pytest.fixture(autouse=True, scope="session")
def _session_ledger_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The authoritative ledger (redaction_rules/privacy.yaml) is never the user's: module fixtures
    build against a session ledger; each test then gets its own (``_ledger_per_test``)."""
    saved = os.environ.get("RELEASE_LEDGER")
    os.environ["RELEASE_LEDGER"] = str(tmp_path_factory.getbasetemp() / "session-ledger.sqlite")
    yield
    if saved is None:
        os.environ.pop("RELEASE_LEDGER", None)
    else:
        os.environ["RELEASE_LEDGER"] = saved


@pytest.fixture(autouse=True)
def _ledger_per_test(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test charges a ledger of its own (tests marked ``shared_ledger`` keep the session's,
    where their module fixtures built)."""
    if request.node.get_closest_marker("shared_ledger") is None:
        monkeypatch.setenv("RELEASE_LEDGER", str(tmp_path / "ledger.sqlite"))


@pytest.fixture(autouse=True, scope="session")
def _hmac_key_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never touch the user's key file (session-wide, before any module fixture)."""
    saved = {k: os.environ.get(k) for k in ("RELEASE_HMAC_KEY", "RELEASE_HMAC_KEY_FILE")}
    os.environ.pop("RELEASE_HMAC_KEY", None)
    os.environ["RELEASE_HMAC_KEY_FILE"] = str(tmp_path_factory.getbasetemp() / "keys" / "hmac.key")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
