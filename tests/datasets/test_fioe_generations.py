"""Every FIOE generation end to end through the CLI (issue #16): ``release sample fioe YEAR`` ->
``release fioe YEAR --input DIR`` -> a draft bundle naming its generation -> approved by a
trusted signer -> ``release audit --raw`` passes. Then what each generation must publish: the
RMS keeps the City's RMS columns (stop-duration bands, the frisk and search flags, the make,
the style/type swap undone), the legacy file its street-only location and the juvenile rule."""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, invoke, new_signer, trusted_rules

from release.config.policy import load_policy
from release.stages.leakcheck import has_house_number

pytestmark = pytest.mark.slow  # its module builds (one per generation) take ~90 s

YEARS = {"mark43": "2020", "rms": "2017", "legacy": "2013"}
PUBLIC = {"mark43": ["fioe_{y}_contacts.csv", "fioe_{y}_persons.csv"], "rms": ["fioe_{y}_contacts.csv", "fioe_{y}_persons.csv"],
          "legacy": ["fioe_{y}_fio.csv"]}
POLICY = {"mark43": "fioe", "rms": "fioe_rms", "legacy": "fioe_legacy"}
# the columns of the City's published RMS-era files (raw-exports.md, "Older FIOE generations")
CITY_RMS_CONTACTS = ["fc_num", "contact_date", "contact_officer", "contact_officer_name", "supervisor",
                     "supervisor_name", "street", "city", "state", "zip", "frisked", "searchperson", "searchvehicle",
                     "summonsissued", "stop_duration", "circumstance", "basis", "vehicle_year", "vehicle_state",
                     "vehicle_make", "vehicle_model", "vehicle_color", "vehicle_style", "vehicle_type", "contact_reason"]
CITY_RMS_PERSONS = ["recnum", "person_id", "fc_num", "contact_date", "sex", "race", "age", "build", "hair_style",
                    "skin_tone", "ethnicity", "otherclothing", "deceased", "license_state", "license_type",
                    "was_frisked"]  # all 16: recnum and person_id as keyed pseudonyms
FLAGS = ("frisked", "searchperson", "searchvehicle", "summonsissued")
WITHHELD = "[WITHHELD: JUVENILE]"


@dataclass(frozen=True)
class Built:
    generation: str
    year: str
    raw: Path
    bundle: Path
    result: dict
    audit: dict

    def public(self, index: int = 0) -> list[dict[str, str]]:
        return _rows(self.bundle / "public" / PUBLIC[self.generation][index].format(y=self.year))

    def raw_rows(self, name: str) -> list[dict[str, str]]:
        return _rows(self.raw / name)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Each generation's sample built, approved and audited with its raw export, through the CLI,
    each on a ledger of its own: approving with a witness anchors the ledger to it, and the
    session's ledger stays unanchored for the modules that build with the installed rules."""
    out = {}
    for generation, year in YEARS.items():
        with pytest.MonkeyPatch.context() as patch:  # a home, so a ledger, per generation
            patch.setenv("HOME", str(tmp_path_factory.mktemp(f"{generation}-home")))
            out[generation] = _build_approve_audit(tmp_path_factory, generation, year)
    return out


def _build_approve_audit(tmp_path_factory: pytest.TempPathFactory, generation: str, year: str) -> Built:
    tmp = tmp_path_factory.mktemp(generation)
    raw, releases = tmp / "raw", tmp / "out"
    assert invoke("sample", "fioe", year, "--out", str(raw), "--reports", "50", "--seed", "3")[0] == 0
    code, stdout, stderr = invoke("fioe", year, "--input", str(raw), "--out", str(releases), "--json")
    assert code == 0, stderr
    rules = str(trusted_rules(tmp))
    code, _, stderr = invoke("approve", "fioe", year, "--out", str(releases), "--rules", rules,
                             "--key", str(new_signer(tmp, "A. Counsel")))
    assert code == 0, stderr
    code, audit, _ = invoke("audit", "fioe", year, "--out", str(releases), "--rules", rules, "--raw", str(raw),
                            "--json")
    return Built(generation, year, raw, releases / "fioe" / year, json.loads(stdout),
                 {**json.loads(audit), "process_exit": code})


@pytest.mark.shared_ledger
@pytest.mark.parametrize("generation", list(YEARS))
def test_audit_with_the_raw_export_passes(built: dict[str, Built], generation: str) -> None:
    audit = built[generation].audit
    assert audit["process_exit"] == 0 and audit["ok"], [(c["name"], c["problems"]) for c in audit["checks"]
                                                       if c["status"] != "pass"]
    passed = {c["name"] for c in audit["checks"] if c["status"] == "pass"}
    assert {"raw_values_absent", "log_tokens", "residual_pii", "public_columns_allowed", "approvals"} <= passed


@pytest.mark.parametrize("generation", list(YEARS))
def test_manifest_and_packet_name_the_generation(built: dict[str, Built], generation: str) -> None:
    bundle = built[generation].bundle
    section = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))["generation"]
    assert section["name"] == generation and section["policy"] == f"{POLICY[generation]}.yaml"
    assert section["chosen_by"] == "year"
    packet = (bundle / "review" / "index.html").read_text(encoding="utf-8")
    assert f'<p id="generation"><strong>Record system:</strong> {generation}: ' in packet
    assert f"built with the policy {POLICY[generation]}.yaml" in packet


@pytest.mark.parametrize("generation", list(YEARS))
def test_public_files_hold_exactly_the_generation_policys_columns(built: dict[str, Built], generation: str) -> None:
    policy = load_policy(ROOT / "redaction_rules" / f"{POLICY[generation]}.yaml")
    for index, file_policy in enumerate(policy.files.values()):
        rows = built[generation].public(index)
        assert list(rows[0]) == file_policy.public_columns()
        assert not set(rows[0]) & set(file_policy.raw_only_columns())


def test_rms_keeps_every_column_the_city_publishes(built: dict[str, Built]) -> None:
    rms = built["rms"]
    contacts, persons = rms.public(0), rms.public(1)
    assert [c for c in contacts[0] if c in CITY_RMS_CONTACTS] == CITY_RMS_CONTACTS
    assert set(CITY_RMS_PERSONS) <= set(persons[0])
    assert {r["recnum"][:4] for r in persons} == {"REC-"}  # every row had a record number: its pseudonym


def test_rms_stop_duration_bands_are_published_as_recorded(built: dict[str, Built]) -> None:
    rms = built["rms"]
    raw = Counter(r["stop_duration"] for r in rms.raw_rows("fieldcontact.csv") if r["stop_duration"])
    public = Counter(r["stop_duration"] for r in rms.public() if r["stop_duration"])
    assert public == raw and len(raw) >= 4
    assert not [f for f in rms.result["warnings"] if f["column"] == "stop_duration"]


@pytest.mark.parametrize("flag", FLAGS)
def test_rms_flags_are_booleans_y_one_blank_zero(built: dict[str, Built], flag: str) -> None:
    rms = built["rms"]
    raw = [r[flag] for r in rms.raw_rows("fieldcontact.csv")]
    public = [r[flag] for r in rms.public()]
    assert set(raw) <= {"Y", ""} and set(public) <= {"0", "1"}
    assert public.count("1") == raw.count("Y") and public.count("0") == raw.count("")
    package = json.loads((rms.bundle / "public" / "datapackage.json").read_text(encoding="utf-8"))
    field = next(f for r in package["resources"] for f in r["schema"]["fields"] if f["name"] == flag)
    assert (field["type"], field["trueValues"], field["falseValues"]) == ("boolean", ["1"], ["0"])


def test_rms_vehicle_style_and_type_are_swapped_back(built: dict[str, Built]) -> None:
    rms = built["rms"]
    raw, public = rms.raw_rows("fieldcontact.csv"), rms.public()

    def counted(rows: list[dict[str, str]], column: str) -> Counter[str]:
        return Counter(r[column] for r in rows if r[column])
    assert counted(public, "vehicle_style") == counted(raw, "vehicle_type")   # the body: Sedan, ...
    assert counted(public, "vehicle_type") == counted(raw, "vehicle_style")   # PASSENGER CAR, PICKUP
    assert set(counted(public, "vehicle_type")) <= {"PASSENGER CAR", "PICKUP"}
    assert counted(public, "vehicle_make").total() == counted(raw, "vehicle_make").total() > 0
    changes = json.loads((rms.bundle / "public" / "datapackage.json").read_text(encoding="utf-8"))["changes"]
    assert "- contacts.vehicle_style: read from the export's vehicle_type column" in changes
    assert "- contacts.frisked: the City's Y/YES as 1, and its blank (an unticked box) as 0; declared boolean." in changes


def test_rms_officer_names_are_published_as_the_rms_writes_them(built: dict[str, Built]) -> None:
    rms = built["rms"]
    raw = {r["contact_officer_name"] for r in rms.raw_rows("fieldcontact.csv")}
    assert {r["contact_officer_name"] for r in rms.public()} == raw
    assert all("," in name and ", " not in name for name in raw)


def test_legacy_location_is_the_street_only(built: dict[str, Built]) -> None:
    legacy = built["legacy"]
    raw = [r["LOCATION"] for r in legacy.raw_rows("fio.csv")]
    assert sum(has_house_number(v.lower()) for v in raw) > 10
    public = [r["location"] for r in legacy.public() if r["location"] not in ("", WITHHELD)]
    assert public and not [v for v in public if has_house_number(v.lower())]


def test_legacy_applies_the_juvenile_rule_to_every_row_of_a_minors_report(built: dict[str, Built]) -> None:
    legacy = built["legacy"]
    rows = legacy.public()
    minors = [r for r in rows if r["age_band"]]
    assert minors and all(r["age_at_fio_corrected"] == "" for r in minors)
    assert {r["age_band"] for r in minors} <= {"under 14", "14-15", "16-17"}
    involved = {r["fio_id"] for r in minors}
    for row in (r for r in rows if r["fio_id"] in involved):
        assert row["fio_date_corrected_precision"] == "month" and row["fio_date_corrected"].endswith("-01T00:00:00")
        assert row["location"] in (WITHHELD, "") and row["clothing"] in (WITHHELD, "")
    assert all(r["fio_date_corrected_precision"] == "hour" for r in rows if r["fio_id"] not in involved)
    adults = [int(r["age_at_fio_corrected"]) for r in rows if r["age_at_fio_corrected"]]
    assert adults and min(adults) >= 18


def test_legacy_publishes_no_identifier_system_field_or_criminal_history(built: dict[str, Built]) -> None:
    legacy = built["legacy"]
    columns = set(legacy.public()[0])
    assert not columns & {"first_name", "last_name", "dob", "home_address", "phone", "license_number", "alias",
                          "priors", "seq_num", "fio_date", "fio_time", "sup_entrydate", "first_inserttime",
                          "last_updatetime", "enteredby", "last_updateby", "street_id"}
    text = (legacy.bundle / "public" / "fioe_2013_fio.csv").read_text(encoding="utf-8").casefold()
    raw = legacy.raw_rows("fio.csv")
    values = {f"{r['FIRST_NAME']} {r['LAST_NAME']}" for r in raw if r["FIRST_NAME"] and r["LAST_NAME"]}
    values |= {r[c] for r in raw for c in ("DOB", "PHONE", "LICENSE_NUMBER") if r[c]}
    values |= {r["HOME_ADDRESS"] for r in raw if has_house_number(r["HOME_ADDRESS"].lower())}
    values |= {r["LOCATION"] for r in raw if has_house_number(r["LOCATION"].lower())}
    assert len(values) > 50 and sorted(v for v in values if v.casefold() in text) == []


def test_generation_named_outside_its_years_is_built_and_said(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    assert invoke("sample", "fioe", "2020", "--out", str(raw), "--reports", "8", "--generation", "rms")[0] == 0
    code, _, stderr = invoke("fioe", "2020", "--input", str(raw), "--out", str(tmp_path / "out"))
    assert code == 4 and "columns of another fioe generation (fieldcontact.csv:frisked, " in stderr
    assert "not of mark43, the only one that held 2020: --generation rms reads it as New RMS" in stderr
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(raw), "--out", str(tmp_path / "out"),
                                  "--generation", "rms", "--json")
    assert code == 0, stderr
    result = json.loads(stdout)
    assert [w["message"] for w in result["warnings"] if w["code"] == "generation_outside_years"] == [
        "generation rms held 2015-2019, not 2020: built as --generation asked, as a draft that cannot be approved "
        "(approve, publish, the audit and verify judge a bundle by the system that held its year)"]
    manifest = json.loads((tmp_path / "out" / "fioe" / "2020" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["generation"]["chosen_by"] == "option"
