"""A build never ends in a dead end: blocked → packet → decide → rebuild, through the CLI.

Redaction fixes what it can (a record's value found in its free text is redacted by the
verify rounds); what it cannot fix (a record's value in a structured column) leaves a
blocked bundle: exit 5, no public/ folder, every finding listed in the packet with an id, and
``release decide --finding`` plus a rebuild clears it. No raw value appears in any output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import contact, invoke, new_signer, person, trusted_rules, write_export

NAME = "Zebulon Quartermaine"  # a fictitious subject (conftest.person)


@pytest.fixture()
def export(tmp_path: Path) -> Path:
    """The subject's own name typed into the officer column of one report: a raw value in a
    structured column, which redaction cannot fix."""
    contacts = [contact("FC20000001", contact_officer_name=NAME.upper()),
                contact("FC20000002", contact_reason="Officers observed a group. Released.")]
    persons = [person("FC20000001"), person("FC20000002", first_name="Hortensia", last_name="Bramblewood",
                                             alias="", dob="1990-01-02", age="30")]
    return write_export(tmp_path / "raw", contacts, persons)


def _everything(folder: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in folder.rglob("*") if p.is_file())


def test_blocked_build_leaves_a_bundle_a_reviewer_can_work_through(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(export), "--out", str(out))
    bundle = out / "fioe" / "2020"
    assert code == 5, stderr
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["status"] == "blocked"
    assert not (bundle / "public").exists()                      # nothing publishable was written
    evidence = json.loads((bundle / "review" / "blocking.json").read_text())
    assert [(e["stage"], e["row_key"], e["column"]) for e in evidence] == [
        ("leak_check", "FC20000001", "contact_officer_name")]
    finding = evidence[0]["finding_id"]
    assert evidence[0]["context"] is None                        # a structured cell's value is never shown
    packet = (bundle / "review" / "index.html").read_text()
    assert finding in packet and "release decide fioe 2020 --finding" in packet
    assert "leak_check / raw-only" in stdout and finding in stdout and "FC20000001" in stdout
    for text in (stdout, stderr, _everything(bundle)):
        assert "quartermaine" not in text.lower()

    code, stdout, stderr = invoke("approve", "fioe", "2020", "--out", str(out), "--reviewer", "A. Counsel",
                                  "--key", str(tmp_path / "none.key"))
    assert code == 7                                             # a blocked bundle cannot be approved

    key, rules = new_signer(tmp_path, "A. Counsel"), str(trusted_rules(tmp_path))
    code, stdout, stderr = invoke("decide", "fioe", "2020", "--out", str(out), "--finding", finding,
                                  "--decision", "redact", "--reviewer", "A. Counsel", "--note", "subject, not officer",
                                  "--key", str(key), "--rules", rules)
    assert code == 0, stderr
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(export), "--out", str(out), "--json",
                                  "--rules", rules)
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["status"] == "draft" and result["findings"]["blocking"] == 0
    contacts = (bundle / "public" / "fioe_2020_contacts.csv").read_text()
    assert "quartermaine" not in contacts.lower()
    log = [json.loads(line) for line in (bundle / "redaction_log.jsonl").read_text().splitlines()]
    assert any(e.get("detector") == "reviewer" and e.get("column") == "contact_officer_name" for e in log)


def test_keep_decision_waives_the_finding(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("fioe", "2020", "--input", str(export), "--out", str(out))[0] == 5
    evidence = json.loads((out / "fioe" / "2020" / "review" / "blocking.json").read_text())
    key, rules = new_signer(tmp_path, "A. Counsel"), str(trusted_rules(tmp_path))
    code, _, stderr = invoke("decide", "fioe", "2020", "--out", str(out), "--finding", evidence[0]["finding_id"],
                             "--decision", "keep", "--reviewer", "A. Counsel", "--key", str(key), "--rules", rules)
    assert code == 0, stderr
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(export), "--out", str(out), "--json",
                                  "--rules", rules)
    assert code == 0, stderr
    findings = json.loads((out / "fioe" / "2020" / "review" / "findings.json").read_text())
    assert any(f["code"] == "raw_value_in_public_kept" for f in findings)


def test_decision_on_an_unknown_finding_is_refused(export: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert invoke("fioe", "2020", "--input", str(export), "--out", str(out))[0] == 5
    code, _, stderr = invoke("decide", "fioe", "2020", "--out", str(out), "--finding", "F0000000000",
                             "--decision", "keep", "--reviewer", "A. Counsel",
                             "--key", str(new_signer(tmp_path, "A. Counsel")), "--rules", str(trusted_rules(tmp_path)))
    assert code == 3
    assert "matches 0 findings" in stderr


def test_decide_needs_exactly_one_target(tmp_path: Path) -> None:
    code, _, stderr = invoke("decide", "fioe", "2020", "--out", str(tmp_path), "--decision", "keep",
                             "--reviewer", "A. Counsel", "--key", str(tmp_path / "k.pem"))
    assert code == 2 and "exactly one of --log-id and --finding" in stderr


def test_value_in_free_text_is_redacted_by_the_verify_rounds(tmp_path: Path) -> None:
    """A record's own value the detectors missed (glued to a digit) is found by the leak
    check's matcher and redacted in the next round, logged with that detector; no block."""
    contacts = [contact("FC20000001", contact_reason="Officers spoke to Zebulon Quartermaine#2 near the park.")]
    folder = write_export(tmp_path / "raw", contacts, [person("FC20000001")])
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(folder), "--out", str(out), "--json")
    assert code == 0, stderr
    text = (out / "fioe" / "2020" / "public" / "fioe_2020_contacts.csv").read_text()
    assert "quartermaine" not in text.lower()
