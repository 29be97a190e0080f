"""Publish copies public/ out only when approved and unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from governance.conftest import Built, new_key

from release.approvals import append_approval, load_private_key, sign_approval
from release.errors import ApprovalError
from release.gate import approve, publish, read_manifest
from release.stages.publish import sha256_file


def _published(to_dir: Path) -> dict[str, str]:
    root = to_dir / "fioe" / "2020"
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def test_approve_then_publish_copies_exactly_public(built: Built, signing_key: Path, tmp_path: Path) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "")
    result = publish("fioe", 2020, built.out_dir, tmp_path / "site")
    expected = {p.relative_to(built.bundle / "public").as_posix(): sha256_file(p)
                for p in sorted((built.bundle / "public").rglob("*")) if p.is_file()}
    assert _published(tmp_path / "site") == expected
    assert sorted(result["files"]) == sorted(expected)
    assert not list((tmp_path / "site" / "fioe").glob(".*"))  # no staging folder left behind


def test_republish_replaces_the_previous_copy(built: Built, signing_key: Path, tmp_path: Path) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "")
    site = tmp_path / "site"
    (site / "fioe" / "2020").mkdir(parents=True)
    (site / "fioe" / "2020" / "stale.csv").write_text("old")
    publish("fioe", 2020, built.out_dir, site)
    assert "stale.csv" not in _published(site)


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
                                                          change, message: str) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "")
    change(built)
    with pytest.raises(ApprovalError, match=message):
        publish("fioe", 2020, built.out_dir, tmp_path / "site")
    assert not (tmp_path / "site" / "fioe" / "2020").exists()


def test_publish_before_approval_fails(built: Built, tmp_path: Path) -> None:
    with pytest.raises(ApprovalError, match="0 valid approval") as caught:
        publish("fioe", 2020, built.out_dir, tmp_path / "site")
    assert caught.value.exit_code == 7
    assert not (tmp_path / "site" / "fioe" / "2020").exists()


def test_publish_refuses_blocking_findings_even_when_signed(make_bundle, signing_key: Path, tmp_path: Path) -> None:
    built: Built = make_bundle(blocking=True)
    digest = sha256_file(built.bundle / "manifest.json")
    approval = sign_approval(load_private_key(signing_key), dataset="fioe", year=2020, manifest_sha256=digest,
                             reviewer="A. Reviewer", note="", timestamp="2021-01-01T00:00:00+00:00")
    append_approval(built.bundle, approval)  # signed by hand, bypassing approve()
    with pytest.raises(ApprovalError, match="blocking findings"):
        publish("fioe", 2020, built.out_dir, tmp_path / "site")


@pytest.mark.parametrize(("required", "signers", "ok"), [(2, 1, False), (2, 2, True), (0, 1, True)],
                         ids=["two-required-one-given", "two-required-two-given", "zero-recorded-means-one"])
def test_publish_counts_distinct_valid_keys(make_bundle, tmp_path: Path, required: int, signers: int,
                                            ok: bool) -> None:
    built: Built = make_bundle(approvals_required=required)
    for n in range(signers):
        approve("fioe", 2020, built.out_dir, f"reviewer {n}", new_key(tmp_path, f"k{n}"), "")
    if ok:
        publish("fioe", 2020, built.out_dir, tmp_path / "site")
        assert (tmp_path / "site" / "fioe" / "2020" / "fioe_2020_contacts.csv").is_file()
    else:
        with pytest.raises(ApprovalError, match=f"{signers} valid approval"):
            publish("fioe", 2020, built.out_dir, tmp_path / "site")
