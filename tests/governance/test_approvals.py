"""Signing keys, signed approvals, trusted signers and signed reviewer decisions."""

from __future__ import annotations

import base64
import json
import shutil
import stat
from pathlib import Path

import pytest
from bundlekit import NAME, RAW_VALUES, Built, new_key
from conftest import trust, trusted_rules

from release.bundle.decisions import decisions_in_force, decisions_path
from release.bundle.layout import APPROVALS
from release.bundle.read import manifest_sha256
from release.bundle.trust import Trust, load_signers, trust_for
from release.config.policy import load_policy
from release.errors import ApprovalError, ConfigError
from release.governance.decisions import Signing, record_decision
from release.governance.gate import approvals_of, approve
from release.keys.signing import keygen, load_private_key, one_line, public_key_path, sign_record


def _status(built: Built, rules: Path):  # noqa: ANN202 - ApprovalStatus
    manifest = json.loads((built.bundle / "manifest.json").read_text())
    return approvals_of(built.bundle, "fioe", 2020, trust_for("fioe", rules, manifest))


def test_keygen_writes_private_key_0600_and_public_key(tmp_path: Path) -> None:
    path = tmp_path / "k" / "me.pem"
    result = keygen(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public_key_path(path).read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert len(result["key_id"]) == 64 and result["public_key"].startswith("ed25519:")
    load_private_key(path)  # round-trips


@pytest.mark.parametrize("existing", ["private", "public"], ids=["private-exists", "public-exists"])
def test_keygen_refuses_to_overwrite(tmp_path: Path, existing: str) -> None:
    path = tmp_path / "me.pem"
    target = path if existing == "private" else public_key_path(path)
    target.write_text("keep me")
    with pytest.raises(ApprovalError, match="refusing to overwrite"):
        keygen(path)
    assert target.read_text() == "keep me"


@pytest.mark.parametrize(("given", "ok"), [(b"correct horse", True), (None, False), (b"wrong", False)],
                         ids=["right-passphrase", "no-passphrase", "wrong-passphrase"])
def test_encrypted_key_needs_its_passphrase(tmp_path: Path, given: bytes | None, ok: bool) -> None:
    path = tmp_path / "me.pem"
    keygen(path, passphrase=b"correct horse")
    assert "ENCRYPTED" in path.read_text()
    if ok:
        load_private_key(path, given)
    else:
        with pytest.raises(ApprovalError, match="not a readable PEM private key"):
            load_private_key(path, given)


def test_private_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "me.pem"
    keygen(path)
    path.chmod(0o644)
    with pytest.raises(ApprovalError, match="readable by other users"):
        load_private_key(path)


def test_approve_appends_a_signed_line_bound_to_the_manifest(built: Built, signing_key: Path, rules: Path) -> None:
    result = approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "looks fine", rules_dir=rules)
    line = json.loads((built.bundle / APPROVALS).read_text().splitlines()[0])
    assert line["payload"]["manifest_sha256"] == manifest_sha256(built.bundle) == result["manifest_sha256"]
    assert line["payload"]["reviewer"] == "A. Reviewer" and line["payload"]["note"] == "looks fine"
    assert line["payload"]["kind"] == "approval" and line["payload"]["role"] == "legal"
    assert line["public_key"].startswith("ed25519:")
    assert line["key_id"] == result["key_id"]
    assert result["approvals"] == "legal 1 of 1" and result["ready_to_publish"]
    status = _status(built, rules)
    assert status.ok and [s.name for s in status.signed] == ["A. Reviewer"]


def test_approve_with_a_passphrase_protected_key(built: Built, tmp_path: Path, rules: Path) -> None:
    encrypted = new_key(tmp_path, "C. Counsel", passphrase=b"correct horse")
    with pytest.raises(ApprovalError, match="wrong passphrase"):
        approve("fioe", 2020, built.out_dir, None, encrypted, "", rules_dir=rules)
    result = approve("fioe", 2020, built.out_dir, None, encrypted, "", b"correct horse", rules)
    assert result["reviewer"] == "C. Counsel" and result["role"] == "legal"


@pytest.mark.parametrize(
    ("mode", "message"),
    [("blocking", "blocking finding"), ("edited", "do not match its manifest"),
     ("extra-file", "do not match its manifest"), ("log-truncated", "do not match its manifest")],
    ids=["blocking-finding", "public-file-edited", "unlisted-public-file", "log-truncated"])
def test_approve_refuses(make_bundle, signing_key: Path, rules: Path, mode: str, message: str) -> None:
    built: Built = make_bundle(blocking=mode == "blocking")
    if mode == "edited":
        built.public_file.write_text(built.public_file.read_text().replace("Sunny", "Rainy"))
    elif mode == "extra-file":
        (built.bundle / "public" / "notes.txt").write_text("draft")
    elif mode == "log-truncated":
        log = built.bundle / "redaction_log.jsonl"
        log.write_text("\n".join(log.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(ApprovalError, match=message):
        approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)
    assert not (built.bundle / APPROVALS).exists()


def _untrusted(tmp_path: Path) -> Path:
    return new_key(tmp_path, "Anyone", trusted=False)


@pytest.mark.parametrize(
    ("who", "message"),
    [("untrusted-empty-list", "lists no trusted signer yet, so nothing can be approved"),
     ("untrusted", "is not in"), ("other-role", "has role analyst; this needs one of: legal"),
     ("wrong-reviewer-name", "not to the --reviewer given")],
    ids=["no-signer-trusted-yet", "key-not-on-the-list", "role-not-required", "name-not-the-lists"])
def test_approve_refuses_what_the_trusted_signers_do_not_allow(built: Built, tmp_path: Path, who: str,
                                                                message: str) -> None:
    rules = trusted_rules(tmp_path)
    reviewer = None
    if who == "untrusted-empty-list":
        key = _untrusted(tmp_path)
    elif who == "untrusted":
        new_key(tmp_path, "B. Counsel")
        key = _untrusted(tmp_path)
    elif who == "other-role":
        key = new_key(tmp_path, "D. Analyst", role="analyst")
    else:
        key, reviewer = new_key(tmp_path, "B. Counsel"), "A. Counsel"
    with pytest.raises(ApprovalError, match=message) as caught:
        approve("fioe", 2020, built.out_dir, reviewer, key, "", rules_dir=rules)
    assert caught.value.exit_code == 7 and not (built.bundle / APPROVALS).exists()
    if who.startswith("untrusted"):  # the refusal says exactly what to add, and where
        assert f"{rules / 'trusted_signers.yaml'}" in caught.value.message
        assert f'- {{name: "<full name>", role: legal, public_key: "{_public(key)}"}}' in caught.value.message


def test_approve_refuses_a_policy_other_than_the_bundles(built: Built, signing_key: Path, rules: Path) -> None:
    (rules / "fioe.yaml").write_text((rules / "fioe.yaml").read_text().replace("required: {legal: 1}",
                                                                                "required: {legal: 1, records: 1}"))
    with pytest.raises(ApprovalError, match="differs from the rule file recorded in the manifest"):
        approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)


def test_same_key_cannot_approve_twice(built: Built, signing_key: Path, rules: Path) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)
    with pytest.raises(ApprovalError, match="already approved"):
        approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)


def _tamper(line: dict, how: str) -> None:
    if how == "note":
        line["payload"]["note"] = "something else"
    elif how == "reviewer":
        line["payload"]["reviewer"] = "Somebody Else"
    elif how == "manifest-hash":
        line["payload"]["manifest_sha256"] = "0" * 64
    elif how == "signature":
        raw = bytearray(base64.b64decode(line["signature"]))
        raw[0] ^= 1
        line["signature"] = base64.b64encode(bytes(raw)).decode()
    elif how == "swapped-key":
        line["public_key"] = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA" + "A" * 43 + "=\n-----END PUBLIC KEY-----\n"


@pytest.mark.parametrize("how", ["note", "reviewer", "manifest-hash", "signature", "swapped-key"])
def test_altered_approval_does_not_verify(built: Built, signing_key: Path, rules: Path, how: str) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "ok", rules_dir=rules)
    path = built.bundle / APPROVALS
    line = json.loads(path.read_text())
    _tamper(line, how)
    path.write_text(json.dumps(line) + "\n")
    status = _status(built, rules)
    assert not status.ok and not status.signed and len(status.problems) >= 1


def test_an_untrusted_approval_does_not_count_and_is_named(built: Built, tmp_path: Path, rules: Path) -> None:
    key = _untrusted(tmp_path)
    record = sign_record(load_private_key(key), "approval", {
        "dataset": "fioe", "year": 2020, "manifest_sha256": manifest_sha256(built.bundle), "reviewer": "A. Counsel",
        "role": "legal", "note": "", "timestamp": "2021-01-01T00:00:00+00:00"})
    (built.bundle / APPROVALS).write_text(record.to_line() + "\n")  # signed by hand, bypassing approve()
    status = _status(built, rules)
    assert status.signed == () and status.missing() == {"legal": 1}
    assert status.problems == (f"approvals.jsonl line 1 (key {record.key_id[:16]}): not a trusted signer in "
                               f"{rules / 'trusted_signers.yaml'}",)


def test_a_decision_signature_is_not_an_approval(built: Built, signing_key: Path, rules: Path) -> None:
    record = sign_record(load_private_key(signing_key), "decision", {
        "dataset": "fioe", "year": 2020, "manifest_sha256": manifest_sha256(built.bundle)})
    (built.bundle / APPROVALS).write_text(record.to_line() + "\n")
    assert "not a approval record" in _status(built, rules).problems[0]


def test_two_reviewers_two_keys(built: Built, tmp_path: Path, rules: Path) -> None:
    for name in ("first", "second"):
        approve("fioe", 2020, built.out_dir, name, new_key(tmp_path, name), "", rules_dir=rules)
    assert len({s.key_id for s in _status(built, rules).signed}) == 2


# ---- signed decisions --------------------------------------------------------------------

def _trust(rules: Path) -> Trust:
    return Trust(rules, load_policy(rules / "fioe.yaml").approvals, load_signers(rules))


def _decide(built: Built, key: Path, rules: Path, log_id: str, decision: str, year: int = 2020) -> dict:
    return record_decision("fioe", year, built.out_dir, log_id, decision, None, "", signing=Signing(key, None, rules))


def test_decision_is_signed_and_stores_the_span_not_the_value(built: Built, tmp_path: Path, rules: Path) -> None:
    entry = json.loads((built.bundle / "redaction_log.jsonl").read_text().splitlines()[0])
    first = _decide(built, new_key(tmp_path, "A. Reviewer"), rules, str(entry["seq"]), "keep")
    assert first["row_key"] == entry["row_key"] and first["start"] == entry["start"]
    assert first["reviewer"] == "A. Reviewer" and first["signer"]["role"] == "legal"
    line = json.loads(decisions_path("fioe", 2020, built.out_dir).read_text().splitlines()[0])
    assert line["payload"]["kind"] == "decision" and line["payload"]["token"] == entry["token"]
    in_force = decisions_in_force("fioe", 2020, built.out_dir, _trust(rules))
    assert [(d.decision, d.reviewer) for d in in_force.decisions] == [("keep", "A. Reviewer")]
    text = decisions_path("fioe", 2020, built.out_dir).read_text()
    assert not any(value in text for value in RAW_VALUES)


def test_a_signers_later_decision_replaces_theirs(built: Built, tmp_path: Path, rules: Path) -> None:
    key = new_key(tmp_path, "A. Reviewer")
    _decide(built, key, rules, "1", "keep")
    _decide(built, key, rules, "1", "redact")
    force = decisions_in_force("fioe", 2020, built.out_dir, _trust(rules))
    assert [d.decision for d in force.decisions] == ["redact"] and force.conflicts == ()


def test_conflicting_trusted_decisions_are_reported_and_redact_applies(built: Built, tmp_path: Path,
                                                                       rules: Path) -> None:
    _decide(built, new_key(tmp_path, "B. Reviewer"), rules, "1", "redact")
    _decide(built, new_key(tmp_path, "A. Reviewer"), rules, "1", "keep")
    force = decisions_in_force("fioe", 2020, built.out_dir, _trust(rules))
    assert [d.decision for d in force.decisions] == ["redact"]
    assert [f.code for f in force.findings()] == ["reviewer_decisions_conflict"]


def _unsigned_line(built: Built) -> None:
    entry = json.loads((built.bundle / "redaction_log.jsonl").read_text().splitlines()[0])
    decision = {"decision": "keep", "reviewer": "A. Counsel", "note": "", "recorded_at": "", "manifest_sha256": "",
                "log_seq": 1, "log_hash": entry["hash"], "file": entry["file"], "row_key": entry["row_key"],
                "column": entry["column"], "start": entry["start"], "end": entry["end"], "entity_type": "PERSON",
                "rule_id": "", "token": entry["token"]}
    with decisions_path("fioe", 2020, built.out_dir).open("a") as handle:
        handle.write(json.dumps(decision) + "\n")


@pytest.mark.parametrize(
    ("how", "reason"),
    [("unsigned", "not signed"), ("untrusted", "is not a trusted signer"),
     ("role-may-not-decide", "has a role the policy does not let decide"),
     ("altered", "signature does not verify"), ("other-year", "for another dataset or year")],
    ids=["unsigned-old-format", "untrusted-key", "role-may-not-decide", "altered-after-signing",
         "copied-from-another-year"])
def test_decisions_that_do_not_count_are_ignored_and_reported(built: Built, tmp_path: Path, rules: Path, how: str,
                                                              reason: str) -> None:
    path = decisions_path("fioe", 2020, built.out_dir)
    if how == "unsigned":
        _unsigned_line(built)
    elif how in ("untrusted", "role-may-not-decide", "altered"):
        key = new_key(tmp_path, "Anyone", trusted=False) if how == "untrusted" else new_key(tmp_path, "A. Reviewer")
        if how == "untrusted":  # trusted while signing, then the administrator removes it
            shutil.copyfile(rules / "trusted_signers.yaml", tmp_path / "signers.before")
            trust(rules, _public(key), "Anyone")
        _decide(built, key, rules, "1", "keep")
        if how == "untrusted":
            shutil.copyfile(tmp_path / "signers.before", rules / "trusted_signers.yaml")
        elif how == "role-may-not-decide":
            text = (rules / "trusted_signers.yaml").read_text().replace("role: legal", "role: analyst")
            (rules / "trusted_signers.yaml").write_text(text)
        else:
            path.write_text(path.read_text().replace('"decision":"keep"', '"decision":"redact"'))
    else:  # a genuine 2019 decision copied into 2020's file
        _decide(built, new_key(tmp_path, "A. Reviewer"), rules, "1", "keep")
        record = json.loads(path.read_text())
        record["payload"]["year"] = 2019
        signed = sign_record(load_private_key(tmp_path / "keys" / "a-reviewer.pem"), "decision",
                             {k: v for k, v in record["payload"].items() if k not in ("kind", "record_version")})
        path.write_text(signed.to_line() + "\n")
    if how in ("altered", "other-year"):  # the line decide recorded on the ledger is gone: that blocks too
        missing = decisions_in_force("fioe", 2020, built.out_dir, _trust(rules)).missing
        assert len(missing) == 1 and "restore the decisions file from its backup" in missing[0], missing
    force = decisions_in_force("fioe", 2020, built.out_dir, _trust(rules), anchors=None)  # the reasons alone
    assert force.decisions == ()
    assert len(force.ignored) == 1 and reason in force.ignored[0] and "line 1" in force.ignored[0]
    assert [f.code for f in force.findings()] == ["reviewer_decision_ignored"]


def _public(key: Path) -> str:
    return one_line(load_private_key(key).public_key())


@pytest.mark.parametrize(
    ("log_id", "decision", "message"),
    [("999", "keep", "matches 0 entries"), ("abc", "keep", "at least 8 characters"),
     ("1", "maybe", "decision must be one of"), ("8", "keep", "only text redactions")],
    ids=["unknown-seq", "short-hash", "bad-decision", "not-a-text-redaction"])
def test_decision_refused(built: Built, tmp_path: Path, rules: Path, log_id: str, decision: str,
                          message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        _decide(built, new_key(tmp_path, "A. Reviewer"), rules, log_id, decision)
    assert NAME not in str(caught.value)


def test_an_untrusted_key_cannot_decide(built: Built, tmp_path: Path, rules: Path) -> None:
    with pytest.raises(ApprovalError, match="lists no trusted signer yet") as caught:
        _decide(built, new_key(tmp_path, "Anyone", trusted=False), rules, "1", "keep")
    assert caught.value.exit_code == 7
    assert not decisions_path("fioe", 2020, built.out_dir).exists()


def test_a_signature_or_key_only_in_the_form_the_signer_writes(tmp_path: Path) -> None:
    """Round 36 (L1, H1): base64 ignores the unused low bits of its last character, and the key reader
    strips spaces, so a signed line's signature, key and a witness statement's signature carried 2 to 4
    bits each (spaces: any number) while still verifying; round 37 (R1): the key as PEM, a bit a line.
    Only the signer's own form verifies now."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from release.keys.signing import SignedRecord, _public_pem, insert_record, signature_bytes, verify_bytes, verify_record

    private = Ed25519PrivateKey.generate()
    record = sign_record(private, "approval", {"dataset": "fioe", "year": 2020, "manifest_sha256": "0" * 64})
    assert verify_record(record, "approval") == []
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = record.signature[-3]
    spare = record.signature[:-3] + alphabet[alphabet.index(last) ^ 1] + "=="
    assert base64.b64decode(spare) == base64.b64decode(record.signature)  # the same bytes: the bit was free
    for altered in (SignedRecord(record.payload, spare, record.public_key, record.key_id),
                    SignedRecord(record.payload, record.signature, "  " + record.public_key, record.key_id),
                    SignedRecord(record.payload, record.signature, _public_pem(private.public_key()), record.key_id),
                    SignedRecord(record.payload, record.signature,
                                 record.public_key[:-2] + alphabet[alphabet.index(record.public_key[-2]) ^ 1] + "=",
                                 record.key_id)):
        assert verify_record(altered, "approval"), altered
    with pytest.raises(ValueError):
        signature_bytes(spare)
    message = b"a witness statement"
    signed = base64.b64encode(private.sign(message)).decode("ascii")
    assert verify_bytes(one_line(private.public_key()), message, signed)
    assert not verify_bytes(one_line(private.public_key()), message,
                            signed[:-3] + alphabet[alphabet.index(signed[-3]) ^ 1] + "==")
    line = json.loads(record.to_line())
    with pytest.raises(ValueError):
        SignedRecord.from_line(json.dumps({**line, "note": "x"}))
    damaged = tmp_path / "approvals.jsonl"
    damaged.write_bytes(record.to_line().encode("ascii").replace(b'"', b"\xff", 1) + b"\n")
    with pytest.raises(ApprovalError, match="not UTF-8 text"):
        insert_record(damaged, record)  # never rewritten over its damage
    assert damaged.read_bytes().startswith(b"{\xff")
