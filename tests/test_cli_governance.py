"""Review, approve, publish and audit through the CLI on a real (small) build."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import cli
from release.synth.fioe import generate_fioe, write_fioe

pytestmark = pytest.mark.shared_ledger  # the module's bundle spent on the session ledger; audits read it


def _invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli.main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    raw = tmp_path_factory.mktemp("raw") / "export"
    write_fioe(generate_fioe(2020, seed=11, n_reports=40), raw)
    out = tmp_path_factory.mktemp("out")
    code, _, stderr = _invoke("fioe", "2020", "--input", str(raw), "--out", str(out), "--json")
    assert code == 0, stderr
    return raw, out


def _fresh_copy(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    return copy


def test_approve_then_publish(built: tuple[Path, Path], tmp_path: Path) -> None:
    _, original = built
    out = _fresh_copy(original, tmp_path)
    code, _, stderr = _invoke("publish", "fioe", "2020", "--out", str(out), "--to", str(tmp_path / "pub"))
    assert code == 7 and "approval" in stderr
    assert not (tmp_path / "pub" / "fioe" / "2020").exists()
    assert _invoke("keygen", "--out", str(tmp_path / "reviewer.key"))[0] == 0
    code, _, stderr = _invoke("approve", "fioe", "2020", "--out", str(out), "--reviewer", "A. Counsel",
                              "--key", str(tmp_path / "reviewer.key"), "--note", "ok to publish")
    assert code == 0, stderr
    code, _, stderr = _invoke("publish", "fioe", "2020", "--out", str(out), "--to", str(tmp_path / "pub"))
    assert code == 0, stderr
    published = sorted(p.name for p in (tmp_path / "pub" / "fioe" / "2020").rglob("*") if p.is_file())
    assert "fioe_2020_contacts.csv" in published and "manifest.json" not in published
    code, stdout, _ = _invoke("audit", "fioe", "2020", "--out", str(out), "--json", "--no-scan")
    assert code == 0 and json.loads(stdout)["ok"]


def test_edited_public_file_blocks_publish_and_audit(built: tuple[Path, Path], tmp_path: Path) -> None:
    _, original = built
    out = _fresh_copy(original, tmp_path)
    _invoke("keygen", "--out", str(tmp_path / "k"))
    assert _invoke("approve", "fioe", "2020", "--out", str(out), "--reviewer", "R", "--key", str(tmp_path / "k"))[0] == 0
    persons = out / "fioe" / "2020" / "public" / "fioe_2020_persons.csv"
    persons.write_text(persons.read_text(encoding="utf-8") + "FC20999999,2020-01-01 00:00,,,,,,,,,,,\n", encoding="utf-8")
    assert _invoke("publish", "fioe", "2020", "--out", str(out), "--to", str(tmp_path / "pub"))[0] == 7
    code, _, stderr = _invoke("audit", "fioe", "2020", "--out", str(out), "--no-scan")
    assert code == 8 and "outputs_match_manifest" in stderr


def test_audit_raw_passes_clean_and_names_slipped_value(built: tuple[Path, Path], tmp_path: Path) -> None:
    raw, original = built
    out = _fresh_copy(original, tmp_path)
    code, stdout, stderr = _invoke("audit", "fioe", "2020", "--out", str(out), "--raw", str(raw), "--json")
    assert code == 0, stdout + stderr
    report = json.loads(stdout)
    assert {c["name"]: c["status"] for c in report["checks"]}["raw_values_absent"] == "pass"
    with (raw / "fieldcontact_name.csv").open(encoding="utf-8") as handle:
        person = next(p for p in csv.DictReader(handle) if p["first_name"] and p["last_name"])
    name = f"{person['first_name']} {person['last_name']}"
    contacts = out / "fioe" / "2020" / "public" / "fioe_2020_contacts.csv"
    with contacts.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    target = next(i for i, r in enumerate(rows) if r["fc_num"] == person["fc_num"])
    rows[target]["weather"] = name
    with contacts.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    code, stdout, stderr = _invoke("audit", "fioe", "2020", "--out", str(out), "--raw", str(raw), "--no-scan")
    assert code == 8
    assert f"fioe_2020_contacts.csv, row {person['fc_num']}, column weather" in stderr
    assert name not in stdout + stderr


def test_public_privacy_statement_says_what_protects_each_table(built: tuple[Path, Path]) -> None:
    """issue #12: public/ states mechanism, unit, rho and epsilon, sigma, post-processing, and what is exact."""
    _, out = built
    public = out / "fioe" / "2020" / "public"
    statement = json.loads((public / "privacy.json").read_text(encoding="utf-8"))
    tables = {t["table"]: t for t in statement["tables"]}
    summaries = [t for t in tables.values() if t["protection"] == "summary"]
    assert len(summaries) == 4 and all(t["exact"] and t["rho"] == 0.0 for t in summaries)
    assert all("no differential-privacy or suppression claim" in t["meaning"] for t in summaries)
    person = tables["fioe_people_by_contacts_neighbourhood"]
    assert (person["protection"], person["mechanism"], person["privacy_unit"], person["exact"]) == (
        "differential privacy", "discrete_gaussian", "person", False)
    assert person["rho"] == 0.05 and 0 < person["epsilon_at_delta"] < 3 and person["noise_scale"] > 0
    assert "top-down" in person["post_processing"]
    unit = statement["differential_privacy"]["units"]["person"]
    assert unit["cap_rho_over_every_release"] == 1.0 and "fioe" in unit["datasets_that_can_hold_the_same_person"]
    assert statement["record_level_risk"] and "Summary tables are exact" in statement["what_is_exact"]
    text = (public / "privacy.md").read_text(encoding="utf-8")
    assert "fioe_people_by_contacts_neighbourhood (differential privacy)" in text and "rho" in text


def test_packet_summary_shows_the_record_level_verdict(built: tuple[Path, Path]) -> None:
    _, out = built
    manifest = json.loads((out / "fioe" / "2020" / "manifest.json").read_text(encoding="utf-8"))
    risks = manifest["record_risk"]
    assert [r["quasi_identifiers"] for r in risks][0] == ["contact_date", "sex", "race", "age"]
    summary = (out / "fioe" / "2020" / "review" / "index.html").read_text(encoding="utf-8").split(
        'id="summary"')[1].split("</section>")[0]
    assert "Record-level risk" in summary
    assert any(f"{r['verdict'].upper()}</span>" in summary and f"{r['unique_share']:.1%}" in summary for r in risks)
