"""Publish copies public/ out only when approved and unchanged."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from bundlekit import Built, build_bundle, new_key
from conftest import rehash_kept, sign_outside_approve, trusted_rules

from release.bundle.layout import sha256_file
from release.bundle.log import build_log
from release.bundle.read import read_manifest
from release.errors import ApprovalError, EnvironmentProblem
from release.governance.gate import approve
from release.governance.publication import publish
from release.governance.verify_copy import verify
from release.keys.hmac import derive_keys
from release.model import RedactionEvent


def _published(to_dir: Path) -> dict[str, str]:
    root = to_dir / "fioe" / "2020"
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_approve_then_publish_copies_exactly_public(built: Built, signing_key: Path, tmp_path: Path,
                                                   rules: Path) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)
    result = publish("fioe", 2020, built.out_dir, tmp_path / "site", rules_dir=rules)
    expected = {p.relative_to(built.bundle / "public").as_posix(): sha256_file(p)
                for p in sorted((built.bundle / "public").rglob("*")) if p.is_file()}
    published = _published(tmp_path / "site")
    metadata = {name: published.pop(name) for name in ("manifest.json", "approvals.jsonl", "SHA256SUMS")}
    assert published == expected  # exactly public/, plus what verifies it
    assert metadata["manifest.json"] == sha256_file(built.bundle / "manifest.json")
    assert metadata["approvals.jsonl"] == sha256_file(built.bundle / "approvals.jsonl")
    assert sorted(result["files"]) == sorted(expected)
    assert not list((tmp_path / "site" / "fioe").glob(".*"))  # no staging folder left behind
    assert verify(tmp_path / "site" / "fioe" / "2020", rules).ok
    # round 31: a folder naming a part of a year one record system held (its name carried what it liked)
    (tmp_path / "site" / "fioe" / "2020").rename(tmp_path / "site" / "fioe" / "2020-qxbjzz")
    report = verify(tmp_path / "site" / "fioe" / "2020-qxbjzz", rules)
    said = json.dumps([p for check in report.to_dict()["checks"] for p in check["problems"]])
    assert not report.ok and "which one record system held: its folder is the year's alone" in said
    assert "qxbjzz" not in said


def test_republishing_the_same_release_repairs_its_copy(built: Built, signing_key: Path, tmp_path: Path,
                                                        rules: Path) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)
    site = tmp_path / "site"
    publish("fioe", 2020, built.out_dir, site, rules_dir=rules)
    (site / "fioe" / "2020" / "stale.csv").write_text("old")
    publish("fioe", 2020, built.out_dir, site, rules_dir=rules)
    assert "stale.csv" not in _published(site)


@pytest.mark.parametrize("existing", ["not-ours", "another-release"])
def test_publish_never_replaces_what_it_did_not_publish(built: Built, signing_key: Path, tmp_path: Path,
                                                        rules: Path, existing: str) -> None:
    """Issue #11: publish deleted what was in the destination."""
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)
    target = tmp_path / "site" / "fioe" / "2020"
    target.mkdir(parents=True)
    (target / "keep.csv").write_text("someone's file")
    if existing == "another-release":
        (target / "manifest.json").write_text("{}")
    with pytest.raises(ApprovalError, match="not a copy this tool published" if existing == "not-ours"
                       else "another published release"):
        publish("fioe", 2020, built.out_dir, tmp_path / "site", rules_dir=rules)
    assert (target / "keep.csv").read_text() == "someone's file"


@pytest.mark.parametrize("where", ["out", "inside-out", "bundle", "inside-bundle", "parent-of-out"])
def test_publish_refuses_a_destination_overlapping_the_releases(built: Built, signing_key: Path, tmp_path: Path,
                                                               rules: Path, where: str) -> None:
    """Issue #11: --to equal to --out replaced the bundle with its public files."""
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)
    to = {"out": built.out_dir, "inside-out": built.out_dir / "site", "bundle": built.bundle,
          "inside-bundle": built.bundle / "public", "parent-of-out": tmp_path}[where]
    before = _published(built.out_dir)
    with pytest.raises(ApprovalError, match="--to overlaps") as caught:
        publish("fioe", 2020, built.out_dir, to, rules_dir=rules)
    assert caught.value.exit_code == 7 and _published(built.out_dir) == before


def test_published_folders_get_the_umasks_permissions(built: Built, signing_key: Path, tmp_path: Path,
                                                      rules: Path) -> None:
    """Issue #11: bundle and published folders were 0700, unreadable to a web server."""
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)
    old = os.umask(0o022)
    try:
        publish("fioe", 2020, built.out_dir, tmp_path / "site", rules_dir=rules)
        rebuilt = build_bundle(tmp_path / "again")
    finally:
        os.umask(old)
    for folder in (tmp_path / "site" / "fioe" / "2020", rebuilt.bundle, rebuilt.bundle / "public"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755, folder


def _edit_public(built: Built) -> None:
    built.public_file.write_text(built.public_file.read_text().replace("Sunny", "Rainy"))


def _edit_packet(built: Built) -> None:
    packet = built.bundle / "review" / "index.html"
    packet.write_text(packet.read_text().replace("Summary", "Sumary"))


def _add_public_file(built: Built) -> None:
    (built.bundle / "public" / "extra.csv").write_text("a\n1\n")


def _edit_manifest(built: Built) -> None:
    manifest = read_manifest(built.bundle)
    manifest["status"] = "final"
    (built.bundle / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("change", "message"),
    [(_edit_public, "do not match its manifest"), (_edit_packet, "do not match its manifest"),
     (_add_public_file, "do not match its manifest"), (_edit_manifest, "0 valid approval")],
    ids=["public-file-edited", "review-packet-edited", "unlisted-public-file", "manifest-edited"])
def test_publish_refuses_a_bundle_changed_after_approval(built: Built, signing_key: Path, tmp_path: Path,
                                                          rules: Path, change, message: str) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)
    change(built)
    with pytest.raises(ApprovalError, match=message):
        publish("fioe", 2020, built.out_dir, tmp_path / "site", rules_dir=rules)
    assert not (tmp_path / "site" / "fioe" / "2020").exists()


def test_publish_before_approval_fails(built: Built, tmp_path: Path, rules: Path) -> None:
    with pytest.raises(ApprovalError, match="0 valid approval") as caught:
        publish("fioe", 2020, built.out_dir, tmp_path / "site", rules_dir=rules)
    assert caught.value.exit_code == 7
    assert not (tmp_path / "site" / "fioe" / "2020").exists()


def test_publish_refuses_blocking_findings_even_when_signed(make_bundle, signing_key: Path, tmp_path: Path,
                                                            rules: Path) -> None:
    built: Built = make_bundle(blocking=True)
    sign_outside_approve(built.bundle, signing_key, "fioe", 2020, "A. Reviewer")  # bypassing approve()
    with pytest.raises(ApprovalError, match="blocking findings"):
        publish("fioe", 2020, built.out_dir, tmp_path / "site", rules_dir=rules)


@pytest.mark.parametrize(("required", "signers", "ok"),
                         [("{legal: 2}", ["legal"], False), ("{legal: 2}", ["legal", "legal"], True),
                          ("{legal: 1, records: 1}", ["legal", "legal"], False),
                          ("{legal: 1, records: 1}", ["legal", "records"], True)],
                         ids=["two-required-one-given", "two-required-two-given", "a-role-missing", "every-role-given"])
def test_publish_counts_distinct_trusted_keys_per_role_from_the_policy(tmp_path: Path, required: str,
                                                                       signers: list[str], ok: bool) -> None:
    rules = trusted_rules(tmp_path)
    policy = rules / "fioe.yaml"
    policy.write_text(policy.read_text().replace("required: {legal: 1}", f"required: {required}"))
    built = build_bundle(tmp_path, rules=rules)
    for n, role in enumerate(signers):
        approve("fioe", 2020, built.out_dir, None, new_key(tmp_path, f"reviewer {n}", role), "", rules_dir=rules)
    if ok:
        publish("fioe", 2020, built.out_dir, tmp_path / "site", rules_dir=rules)
        assert (tmp_path / "site" / "fioe" / "2020" / "fioe_2020_contacts.csv").is_file()
    else:
        with pytest.raises(ApprovalError, match=f"{len(signers) if required == '{legal: 2}' else 2} valid "
                                                "approval.*missing: 1 more"):
            publish("fioe", 2020, built.out_dir, tmp_path / "site", rules_dir=rules)


def test_the_manifest_cannot_lower_the_requirement(built: Built, tmp_path: Path, rules: Path) -> None:
    """Issue #11: approvals_required was read from the manifest, which the attacker can edit."""
    manifest = read_manifest(built.bundle)
    manifest["parameters"] = {"approvals": {"required": {}}, "approvals_required": 0}
    (built.bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ApprovalError, match="0 valid approval.*legal 0 of 1"):
        publish("fioe", 2020, built.out_dir, tmp_path / "site", rules_dir=rules)


def _rechain_without_last_report(built: Built) -> None:
    """Remove the log's last entry and re-chain it, as one without the key can (issue #11)."""
    log = built.bundle / "redaction_log.jsonl"
    lines = log.read_text().splitlines()
    entries = [json.loads(line) for line in lines[:-2]]
    forged = build_log([RedactionEvent(**{k: v for k, v in e.items() if k not in ("seq", "prev", "hash")})
                        for e in entries], derive_keys(b"n" * 64, "fioe", 2020).trailer)
    log.write_text("\n".join(forged) + "\n")
    manifest = read_manifest(built.bundle)  # and re-hash the manifest, as the attacker would
    trailer = json.loads(forged[-1])
    manifest["redaction_log"] = {"entries": trailer["count"], "head": trailer["head"]}
    (built.bundle / "manifest.json").write_text(json.dumps(manifest))
    rehash_kept(built.bundle)


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [("rechained-log", ApprovalError, "trailer MAC does not verify"),
     ("no-hmac-key", EnvironmentProblem, "no HMAC key"),
     ("another-hmac-key", ApprovalError, "trailer MAC does not verify"),
     ("log-format-1", ApprovalError, "format 1")],
    ids=["rechained-log", "no-hmac-key", "another-hmac-key", "log-format-1"])
@pytest.mark.parametrize("command", ["approve", "publish"])
def test_approve_and_publish_verify_the_trailer_mac(built: Built, signing_key: Path, tmp_path: Path, rules: Path,
                                                    monkeypatch: pytest.MonkeyPatch, case: str, error: type,
                                                    message: str, command: str) -> None:
    if command == "publish":
        approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=rules)
    if case == "rechained-log":
        _rechain_without_last_report(built)
    elif case == "no-hmac-key":
        monkeypatch.delenv("RELEASE_HMAC_KEY")
        monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(tmp_path / "none.key"))
    elif case == "another-hmac-key":
        monkeypatch.setenv("RELEASE_HMAC_KEY", "f2257ec7c265703bc1c7d8a02c9505251e4a34a498b1fc71d574a89ff6ba8710")
    else:
        manifest = read_manifest(built.bundle)
        del manifest["hmac"]
        (built.bundle / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(error, match=message):
        if command == "approve":
            approve("fioe", 2020, built.out_dir, "A. Reviewer", new_key(tmp_path, "B. Reviewer"), "",
                    rules_dir=rules)
        else:
            publish("fioe", 2020, built.out_dir, tmp_path / "site", rules_dir=rules)
    assert not (tmp_path / "site" / "fioe" / "2020").exists()
