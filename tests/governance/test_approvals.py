"""Signing keys, signed approvals and reviewer decisions."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest
from governance.conftest import NAME, RAW_VALUES, Built, new_key

from release.approvals import (APPROVALS, check_approvals, decisions_in_force, keygen, load_decisions,
                               load_private_key, public_key_path, record_decision)
from release.errors import ApprovalError, ConfigError
from release.gate import approve, manifest_sha256


def test_keygen_writes_private_key_0600_and_public_key(tmp_path: Path) -> None:
    path = tmp_path / "k" / "me.pem"
    result = keygen(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public_key_path(path).read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert len(result["key_id"]) == 64
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


def test_approve_appends_a_signed_line_bound_to_the_manifest(built: Built, signing_key: Path) -> None:
    result = approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "looks fine")
    line = json.loads((built.bundle / APPROVALS).read_text().splitlines()[0])
    assert line["payload"]["manifest_sha256"] == manifest_sha256(built.bundle) == result["manifest_sha256"]
    assert line["payload"]["reviewer"] == "A. Reviewer" and line["payload"]["note"] == "looks fine"
    assert line["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    assert line["key_id"] == result["key_id"]
    checks = check_approvals(built.bundle, dataset="fioe", year=2020, manifest_sha256=result["manifest_sha256"])
    assert [c.ok for c in checks] == [True]


@pytest.mark.parametrize(
    ("mode", "message"),
    [("blocking", "blocking finding"), ("edited", "do not match its manifest"),
     ("extra-file", "do not match its manifest"), ("log-truncated", "do not match its manifest")],
    ids=["blocking-finding", "public-file-edited", "unlisted-public-file", "log-truncated"])
def test_approve_refuses(make_bundle, signing_key: Path, mode: str, message: str) -> None:
    built: Built = make_bundle(blocking=mode == "blocking")
    if mode == "edited":
        built.public_file.write_text(built.public_file.read_text().replace("Sunny", "Rainy"))
    elif mode == "extra-file":
        (built.bundle / "public" / "notes.txt").write_text("draft")
    elif mode == "log-truncated":
        log = built.bundle / "redaction_log.jsonl"
        log.write_text("\n".join(log.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(ApprovalError, match=message):
        approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "")
    assert not (built.bundle / APPROVALS).exists()


def test_same_key_cannot_approve_twice(built: Built, signing_key: Path) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "")
    with pytest.raises(ApprovalError, match="already approved"):
        approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "")


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
def test_altered_approval_does_not_verify(built: Built, signing_key: Path, how: str) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "ok")
    path = built.bundle / APPROVALS
    line = json.loads(path.read_text())
    _tamper(line, how)
    path.write_text(json.dumps(line) + "\n")
    checks = check_approvals(built.bundle, dataset="fioe", year=2020, manifest_sha256=manifest_sha256(built.bundle))
    assert len(checks) == 1 and not checks[0].ok


def test_decision_stores_the_span_not_the_value(built: Built) -> None:
    entry = json.loads((built.bundle / "redaction_log.jsonl").read_text().splitlines()[0])
    first = record_decision("fioe", 2020, built.out_dir, str(entry["seq"]), "keep", "A. Reviewer", "a street name")
    second = record_decision("fioe", 2020, built.out_dir, entry["hash"][:12], "redact", "B. Reviewer", "")
    assert first["row_key"] == entry["row_key"] and first["start"] == entry["start"]
    assert (built.out_dir / "fioe" / "2020.decisions.jsonl").is_file()
    decisions = load_decisions("fioe", 2020, built.out_dir)
    assert [d.decision for d in decisions] == ["keep", "redact"]
    in_force = decisions_in_force(decisions)
    assert [d.decision for d in in_force.values()] == ["redact"]  # the latest one on the span wins
    text = (built.out_dir / "fioe" / "2020.decisions.jsonl").read_text()
    assert not any(value in text for value in RAW_VALUES) and second["token"] == entry["token"]


@pytest.mark.parametrize(
    ("log_id", "decision", "message"),
    [("999", "keep", "matches 0 entries"), ("abc", "keep", "at least 8 characters"),
     ("1", "maybe", "decision must be one of"), ("8", "keep", "only text redactions")],
    ids=["unknown-seq", "short-hash", "bad-decision", "not-a-text-redaction"])
def test_decision_refused(built: Built, log_id: str, decision: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        record_decision("fioe", 2020, built.out_dir, log_id, decision, "A. Reviewer", "")
    assert NAME not in str(caught.value)


def test_two_reviewers_two_keys(built: Built, tmp_path: Path) -> None:
    for name in ("first", "second"):
        approve("fioe", 2020, built.out_dir, name, new_key(tmp_path, name), "")
    checks = check_approvals(built.bundle, dataset="fioe", year=2020, manifest_sha256=manifest_sha256(built.bundle))
    assert len({c.key_id for c in checks if c.ok}) == 2
