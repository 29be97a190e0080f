"""Review, approve, publish and audit through the CLI on a real (small) build."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import invoke, ledger_copy_for_test, new_signer, public_key, small_fioe_build, trust, trusted_rules


@pytest.fixture(autouse=True)
def _ledger_copy(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The module's bundle spent on the session ledger: each test works on a copy of it (audits read
    it), which the test's own rules folder anchors in its own witness."""
    ledger_copy_for_test(tmp_path_factory, monkeypatch, tmp_path)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return small_fioe_build(tmp_path_factory)


def _fresh_copy(out: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    return copy


@pytest.mark.slow
def test_approve_then_publish(built: tuple[Path, Path], tmp_path: Path) -> None:
    _, original = built
    out = _fresh_copy(original, tmp_path)
    rules = str(trusted_rules(tmp_path))
    code, _, stderr = invoke("publish", "fioe", "2020", "--out", str(out), "--to", str(tmp_path / "pub"))
    assert code == 7 and "approval" in stderr
    assert not (tmp_path / "pub" / "fioe" / "2020").exists()
    code, stdout, _ = invoke("keygen", "--out", str(tmp_path / "reviewer.key"), "--name", "A. Counsel",
                             "--role", "legal", "--json")
    assert code == 0
    made = json.loads(stdout)
    assert made["trusted_signers_entry"] == f'- {{name: "A. Counsel", role: legal, public_key: "{made["public_key"]}"}}'
    code, _, stderr = invoke("approve", "fioe", "2020", "--out", str(out), "--reviewer", "A. Counsel",
                             "--key", str(tmp_path / "reviewer.key"), "--note", "ok to publish", "--rules", rules)
    assert code == 7 and "trusted_signers.yaml" in stderr and made["public_key"] in stderr  # not trusted yet
    signers = Path(rules) / "trusted_signers.yaml"  # the administrator adds the printed line
    signers.write_text(signers.read_text().replace("signers: []", "signers:\n  " + made["trusted_signers_entry"]))
    code, stdout, stderr = invoke("approve", "fioe", "2020", "--out", str(out), "--reviewer", "A. Counsel",
                                  "--key", str(tmp_path / "reviewer.key"), "--note", "ok to publish", "--rules", rules)
    assert code == 0, stderr
    assert f"approved by A. Counsel (legal, key {made['key_id'][:16]})" in stdout
    code, stdout, stderr = invoke("publish", "fioe", "2020", "--out", str(out), "--to", str(tmp_path / "pub"),
                                  "--rules", rules)
    assert code == 0, stderr
    assert f"signed by A. Counsel (legal, key {made['key_id'][:16]})" in stdout
    published = sorted(p.name for p in (tmp_path / "pub" / "fioe" / "2020").rglob("*") if p.is_file())
    assert "fioe_2020_contacts.csv" in published and "redaction_log.jsonl" not in published
    assert {"manifest.json", "approvals.jsonl", "SHA256SUMS"} <= set(published)  # the copy can be verified
    code, stdout, stderr = invoke("verify", str(tmp_path / "pub" / "fioe" / "2020"), "--rules", rules)
    assert code == 0 and "PASS" in stdout and "signed by A. Counsel (legal" in stdout, stderr
    code, stdout, stderr = invoke("audit", "fioe", "2020", "--out", str(out), "--no-scan", "--rules", rules)
    assert code == 8 and "could not run: residual_pii, raw_values_absent, log_tokens, identifier_pseudonyms" in stderr
    assert "residual_pii: not run (no PII scanner supplied)" in stdout  # a check that did not run is no pass
    code, stdout, _ = invoke("audit", "fioe", "2020", "--out", str(out), "--no-scan", "--rules", rules,
                             "--allow-unverified")
    assert code == 0 and "UNVERIFIED: raw_values_absent: no raw folder given" in stdout, stdout
    assert "signed by A. Counsel (legal, key" in stdout
    code, stdout, _ = invoke("audit", "fioe", "2020", "--out", str(out), "--json", "--no-scan", "--rules", rules,
                             "--allow-unverified")
    assert code == 0 and json.loads(stdout)["ok"]
    assert [u["name"] for u in json.loads(stdout)["unverified"]] == ["residual_pii", "raw_values_absent", "log_tokens",
                                                                    "identifier_pseudonyms",  # person_id: form only
                                                                    "record_cells_replayed", "redactions_redetected"]


def test_edited_public_file_blocks_publish_and_audit(built: tuple[Path, Path], tmp_path: Path) -> None:
    _, original = built
    out = _fresh_copy(original, tmp_path)
    key = new_signer(tmp_path, "R")
    rules = str(trusted_rules(tmp_path))
    assert invoke("approve", "fioe", "2020", "--out", str(out), "--reviewer", "R", "--key", str(key),
                  "--rules", rules)[0] == 0
    persons = out / "fioe" / "2020" / "public" / "fioe_2020_persons.csv"
    persons.write_text(persons.read_text(encoding="utf-8") + "FC20999999,2020-01-01 00:00,,,,,,,,,,,\n", encoding="utf-8")
    assert invoke("publish", "fioe", "2020", "--out", str(out), "--to", str(tmp_path / "pub"), "--rules", rules)[0] == 7
    code, _, stderr = invoke("audit", "fioe", "2020", "--out", str(out), "--no-scan", "--rules", rules)
    assert code == 8 and "outputs_match_manifest" in stderr


@pytest.mark.slow
def test_audit_raw_passes_clean_and_names_slipped_value(built: tuple[Path, Path], tmp_path: Path) -> None:
    raw, original = built
    out = _fresh_copy(original, tmp_path)
    rules = str(trusted_rules(tmp_path))
    code, stdout, stderr = invoke("audit", "fioe", "2020", "--out", str(out), "--raw", str(raw), "--json",
                                  "--rules", rules)
    failed = [c["name"] for c in json.loads(stdout)["checks"] if c["status"] == "fail"]
    assert code == 8 and failed == ["approvals"]  # not approved yet
    assert invoke("approve", "fioe", "2020", "--out", str(out), "--key", str(new_signer(tmp_path, "A. Counsel")),
                  "--rules", rules)[0] == 0
    code, stdout, stderr = invoke("audit", "fioe", "2020", "--out", str(out), "--raw", str(raw), "--json",
                                  "--rules", rules)
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
    target = next(i for i, r in enumerate(rows) if r["fc_num"] == public_key(person["fc_num"]))
    rows[target]["weather"] = name
    with contacts.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    code, stdout, stderr = invoke("audit", "fioe", "2020", "--out", str(out), "--raw", str(raw), "--no-scan",
                                  "--rules", rules)
    assert code == 8
    assert f"fioe_2020_contacts.csv, row {person['fc_num']}, column weather" in stdout
    assert name not in stdout + stderr


def test_a_passphrase_protected_key_is_asked_for(built: tuple[Path, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _, original = built
    out = _fresh_copy(original, tmp_path)
    rules = trusted_rules(tmp_path)
    monkeypatch.setenv("RELEASE_KEY_PASSPHRASE", "correct horse battery")
    code, stdout, _ = invoke("keygen", "--out", str(tmp_path / "counsel.pem"), "--passphrase", "--json")
    made = json.loads(stdout)
    assert code == 0 and made["passphrase"] == "yes" and "ENCRYPTED" in (tmp_path / "counsel.pem").read_text()
    trust(rules, made["public_key"], "A. Counsel")
    monkeypatch.delenv("RELEASE_KEY_PASSPHRASE")
    approve = ["approve", "fioe", "2020", "--out", str(out), "--key", str(tmp_path / "counsel.pem"), "--rules", str(rules)]
    code, _, stderr = invoke(*approve, input="wrong\n")
    assert code == 7 and "wrong passphrase" in stderr
    code, stdout, stderr = invoke(*approve, input="correct horse battery\n")
    assert code == 0 and "approved by A. Counsel (legal" in stdout
    assert "correct horse" not in stdout + stderr


@pytest.mark.slow
def test_the_first_build_says_it_made_the_hmac_key_and_to_back_it_up(tiny_export: Path, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    key = tmp_path / "new" / "hmac.key"
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(key))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # a new key: not the session's ledger
    code, _, stderr = invoke("fioe", "2020", "--input", str(tiny_export), "--out", str(tmp_path / "out"))
    assert code == 0 and f"note: created a new HMAC key at {key}" in stderr and "Back it up" in stderr
    code, _, stderr = invoke("fioe", "2020", "--input", str(tiny_export), "--out", str(tmp_path / "out"))
    assert code == 0 and "created a new HMAC key" not in stderr
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
