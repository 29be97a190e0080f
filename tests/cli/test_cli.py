"""The CLI end to end on small generated exports: bundle, errors, fail-closed behaviour."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import invoke

from release import cli
from release.bundle.layout import sha256_file
from release.bundle.log import verify_log
from release.bundle.read import read_manifest
from release.keys.hmac import keys_for_manifest, load_or_create_key
from release.stages.leakcheck import has_house_number
from release.synth.fioe import generate_fioe, write_fioe

COMMANDS = sorted(cli.main.commands)  # every command, the eight dataset builds included


@pytest.fixture(scope="module")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("raw") / "export"
    write_fioe(generate_fioe(2020, seed=7, n_reports=60), folder)
    return folder


@pytest.mark.parametrize("command", [[], *[[c] for c in COMMANDS]], ids=["main", *COMMANDS])
def test_every_command_has_help(command: list[str]) -> None:
    code, out, _ = invoke(*command, "--help")
    assert code == 0
    assert "Usage:" in out


@pytest.fixture(scope="module")
def built(small_export: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    out = tmp_path_factory.mktemp("out")
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(small_export), "--out", str(out), "--json")
    assert code == 0, stderr
    return out / "fioe" / "2020", json.loads(stdout), stderr


def test_bundle_layout_and_hashes(built: tuple[Path, dict, str]) -> None:
    bundle, result, _ = built
    assert sorted(p.name for p in bundle.iterdir()) == ["manifest.json", "public", "redaction_log.jsonl", "review"]
    # the two record-level files, their package and privacy statement, and the shipped fioe_tables.yaml's tables
    assert sorted(p.name for p in (bundle / "public").iterdir()) == [
        "datapackage.json", "fioe_2020_contacts.csv", "fioe_2020_persons.csv", "privacy.json", "privacy.md", "tables"]
    assert sorted(p.name for p in (bundle / "public" / "tables").iterdir()) == [
        "fioe_frisks_by_race_sex.csv", "fioe_people_by_contacts_neighbourhood.csv",
        "fioe_people_by_neighbourhood_race_month.csv", "fioe_report_bases_by_basis_circumstance.csv",
        "fioe_reports_by_neighbourhood_circumstance.csv"]
    assert sorted(p.name for p in (bundle / "review").iterdir()) == [
        "findings.json", "index.html", "manifest_private.json", "validation_public.json", "validation_raw.json"]
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["status"] == "draft"
    listed = {o["path"]: o["sha256"] for o in manifest["outputs"]}
    public = sorted(str(p.relative_to(bundle)) for p in (bundle / "public").rglob("*") if p.is_file())
    assert sorted(listed) == public  # every public file, and nothing else
    for path in (bundle / "public").rglob("*"):
        if path.is_file():
            assert listed[str(path.relative_to(bundle))] == sha256_file(path)
    # what no reader of the portal can regenerate is in the private part (round 30), still recorded
    assert not {"run_id", "created_at", "components", "pii_engine", "expectations"} & set(manifest)
    private = json.loads((bundle / "review" / "manifest_private.json").read_text())
    assert private["pii_engine"]["model_fingerprint"] and private["run_id"] and private["created_at"]
    assert [f["path"] for f in manifest["rules"]["files"]] == ["fioe.yaml"]
    assert result["manifest_sha256"] == sha256_file(bundle / "manifest.json")


def test_log_verifies_with_key(built: tuple[Path, dict, str]) -> None:
    bundle, _, _ = built
    lines = (bundle / "redaction_log.jsonl").read_text().splitlines()
    manifest = json.loads((bundle / "manifest.json").read_text())
    check = verify_log(lines, keys_for_manifest(load_or_create_key(), manifest).trailer)
    assert check.ok, check.problems
    assert check.entries > 0


def test_no_raw_only_value_in_public_files(built: tuple[Path, dict, str], small_export: Path) -> None:
    bundle, _, _ = built
    text = "\n".join(p.read_text(encoding="utf-8") for p in (bundle / "public").glob("*.csv")).casefold()
    import csv
    with (small_export / "fieldcontact_name.csv").open(encoding="utf-8") as handle:
        persons = list(csv.DictReader(handle))
    with (small_export / "fieldcontact.csv").open(encoding="utf-8") as handle:
        contacts = list(csv.DictReader(handle))
    values = {f"{p['first_name']} {p['last_name']}" for p in persons if p["first_name"] and p["last_name"]}
    values |= {p[c] for p in persons for c in ("dob", "phone", "license_number") if p[c]}
    values |= {c["vehicle_plate"] for c in contacts if c["vehicle_plate"]}
    # an address identifies by its house number; one without ("homeless", an intersection)
    # is the street the City publishes
    addresses = [p["home_address"] for p in persons] + [c["incident_address"] for c in contacts]
    values |= {a for a in addresses if has_house_number(a.lower())}
    leaked = sorted(v for v in values if v.casefold() in text)
    assert leaked == []


def test_stderr_clean_in_json_mode(built: tuple[Path, dict, str]) -> None:
    _, result, stderr = built
    assert stderr == ""
    assert result["status"] == "draft"


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for path in src.iterdir():
        (dst / path.name).write_bytes(path.read_bytes())
    return dst


def _drop_column(text: str, column: str) -> str:
    import csv
    import io
    rows = list(csv.DictReader(io.StringIO(text)))
    out = io.StringIO()
    fields = [c for c in rows[0] if c != column]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@pytest.mark.parametrize(
    ("change", "message"),
    [("missing_column", r"error: file fieldcontact\.csv, line 1, column circumstance, rule required: "
                        "required column is missing"),
     ("truncated", r"error: file fieldcontact\.csv, line \d+, rule csv: the file ends inside a quoted field"),
     ("empty", r"error: file fieldcontact_name\.csv, rule non-empty: the file is empty")],
    ids=["missing-column", "truncated", "empty"])
def test_broken_export_fails_closed(small_export: Path, tmp_path: Path, change: str, message: str) -> None:
    folder = _copy(small_export, tmp_path / "raw")
    contacts = folder / "fieldcontact.csv"
    if change == "missing_column":
        contacts.write_text(_drop_column(contacts.read_text(encoding="utf-8"), "circumstance"), encoding="utf-8")
    elif change == "truncated":
        text = contacts.read_text(encoding="utf-8")
        contacts.write_text(text[: text.rindex('"') - 5], encoding="utf-8")
    else:
        (folder / "fieldcontact_name.csv").write_text("", encoding="utf-8")
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(folder), "--out", str(tmp_path / "out"))
    assert code == 4
    assert re.match(message, stderr.strip())
    assert len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "fioe" / "2020").exists()


def test_unknown_column_dropped_named_never_published(small_export: Path, tmp_path: Path) -> None:
    folder = _copy(small_export, tmp_path / "raw")
    path = folder / "fieldcontact_name.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    import csv
    import io
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    rows[0].append("mothers_maiden_name")
    for row in rows[1:]:
        row.append("Ottoline Featherstonehaugh")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(folder), "--out", str(out))
    assert code == 0, stderr
    assert "column mothers_maiden_name" in stdout
    for file in (out / "fioe" / "2020").rglob("*"):
        if file.is_file():
            text = file.read_text(encoding="utf-8")
            assert "mothers_maiden_name" not in text or file.name in ("manifest.json", "findings.json", "manifest_private.json")
            assert "Featherstonehaugh" not in text


PLANTED_FIRST, PLANTED_LAST = "Xanthippa", "Quagmirewitz"


@pytest.mark.slow
def test_planted_name_in_raw_only_fields_never_escapes(small_export: Path, tmp_path: Path) -> None:
    import csv
    folder = _copy(small_export, tmp_path / "raw")
    path = folder / "fieldcontact_name.csv"
    with path.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    for row in rows[:5]:
        row.update(first_name=PLANTED_FIRST, last_name=PLANTED_LAST, alias=f"{PLANTED_LAST}y",
                   home_address=f"7 {PLANTED_LAST} Ter")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "out"
    for args in (["--json"], []):
        code, stdout, stderr = invoke("fioe", "2020", "--input", str(folder), "--out", str(out), *args)
        assert code == 0, stderr
        assert PLANTED_LAST not in stdout + stderr and PLANTED_FIRST not in stdout + stderr
    for file in (out / "fioe" / "2020").rglob("*"):
        if file.is_file() and file.parent.name != "public":
            text = file.read_text(encoding="utf-8")
            assert PLANTED_LAST not in text and PLANTED_FIRST not in text, file.name
    for file in (out / "fioe" / "2020" / "public").rglob("*.*"):
        text = file.read_text(encoding="utf-8")
        if file.name.endswith("_persons.csv") or file.suffix == ".json":
            assert PLANTED_LAST not in text
    # and in an error: the same export with a required column removed
    contacts = folder / "fieldcontact.csv"
    contacts.write_text(_drop_column(contacts.read_text(encoding="utf-8"), "basis"), encoding="utf-8")
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(folder), "--out", str(tmp_path / "o2"))
    assert code == 4
    assert PLANTED_LAST not in stdout + stderr


def test_works_from_any_directory_with_shipped_rules(small_export: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(small_export), "--out", "rel", "--json")
    assert code == 0, stderr
    manifest = read_manifest(tmp_path / "rel" / "fioe" / "2020")  # with its private part
    assert manifest["rules"]["origin"] == "installed-package"
    assert manifest["inputs"]["origin"] == "option"
