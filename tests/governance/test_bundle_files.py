"""Issue #12, attack round 31 (C1), through the CLI: the files that stay with the bundle carry nothing to the portal.

Before the fix the published ``manifest.json`` listed the SHA-256 and size of the redaction log, the review
files and the private part. Their bytes are the analyst's (trailing spaces in a JSON or HTML file, the private
part's run id), so padding a file to a size, or grinding its hash, published any value, and every check
passed. Now ``manifest.json`` lists the public files only; the bundle's private part lists the others with
their hashes, and each approval carries a second signature, its seal, over the manifest's hash and the
private part's, which stays with the bundle (``approvals_bundle.jsonl``).

The analyst holds the release key and can rewrite any file of the bundle; they cannot sign as the trusted
reviewer. Fictitious values only (``SECRET``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from bundlekit import YEAR, World, _honest, _org, _rebind
from conftest import invoke, rehash_kept

from release.bundle.layout import sha256_file
from release.bundle.manifest_parts import BUNDLE_FILES, PRIVATE_FILE
from release.bundle.trust import SEALS

SECRET = 4242  # the fictitious value the analyst pads each kept file's size to carry
KEPT = ("redaction_log.jsonl", "review/findings.json", "review/index.html", "review/validation_public.json",
        "review/validation_raw.json")


def _pad(bundle: Path) -> None:
    """Each kept file (and the private part) padded with trailing spaces to a size that is SECRET mod 65536."""
    for relpath in (*KEPT, PRIVATE_FILE):
        path = bundle / relpath
        text = path.read_text(encoding="utf-8").removesuffix("\n")
        size = len((text + "\n").encode("utf-8"))
        path.write_text(text + " " * ((SECRET - size) % 65536) + "\n", encoding="utf-8")
        if relpath != PRIVATE_FILE:
            rehash_kept(bundle)


def _copy(world: World, honest: Path, name: str) -> tuple[Path, Path]:
    out = world.tmp / f"rel-{name}"
    shutil.copytree(honest, out)
    return out, out / "fioe" / YEAR


def _outputs_refused(world: World, honest: Path, name: str, change: Callable[[list, Path], list]) -> str:
    """A copy of the honest bundle whose manifest's outputs ``change`` rewrote, bound again on the ledger:
    approve refuses it (7, trusted-policy); what it said."""
    out, bundle = _copy(world, honest, name)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["outputs"] = change(manifest["outputs"], bundle)
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=True) + "\n",
                                          encoding="utf-8")
    _rebind(world, bundle)
    org = _org(out, world)
    return world.refused(7, "rule trusted-policy", "approve", *org[:2], "--key", str(world.counsel), *org[2:])


@pytest.mark.slow
def test_kept_files_reach_no_portal_and_the_seal_holds_the_private_part(world: World) -> None:  # noqa: F811
    honest = _honest(world)
    bundle = honest / "fioe" / YEAR
    public = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    private = json.loads((bundle / PRIVATE_FILE).read_text(encoding="utf-8"))
    assert all(o["path"].startswith("public/") for o in public["outputs"]) and BUNDLE_FILES not in public
    assert {o["path"] for o in private[BUNDLE_FILES]} >= set(KEPT)
    assert PRIVATE_FILE not in {o["path"] for o in private[BUNDLE_FILES]}  # the seals hold it
    honest_manifest = sha256_file(bundle / "manifest.json")

    # the size channel of round 31: every kept file padded, re-hashed into the private part. The trusted
    # reviewer approves what they are shown and it is published; the portal's manifest is byte for byte the
    # honest one, and no published file holds a kept file's hash or size
    out, padded = _copy(world, honest, "padded")
    _pad(padded)
    assert sha256_file(padded / "manifest.json") == honest_manifest
    org = _org(out, world)
    world.ok("approve", *org[:2], "--key", str(world.counsel), *org[2:])
    assert (padded / SEALS).is_file()
    world.ok("publish", *org[:2], "--to", str(world.site), *org[2:])
    copy = world.site / "fioe" / YEAR
    assert sha256_file(copy / "manifest.json") == honest_manifest
    published = " ".join(p.read_text(encoding="utf-8") for p in copy.rglob("*") if p.is_file())
    for relpath in (*KEPT, PRIVATE_FILE):
        assert sha256_file(padded / relpath) not in published and str((padded / relpath).stat().st_size) not in published
    assert not (copy / SEALS).exists()
    code, stdout, stderr = invoke("verify", str(copy), "--rules", str(world.rules))
    assert code == 0, stdout + stderr

    # after the approval, the private part changed (its kept files re-hashed into it): the seal no longer
    # holds it, so the approval counts for nothing. Publish 7, the audit 8, naming the seal and no value
    out, sealed = _copy(world, honest, "after-approval")
    org = _org(out, world)
    world.ok("approve", *org[:2], "--key", str(world.counsel), *org[2:])
    log = sealed / "redaction_log.jsonl"
    log.write_text(log.read_text(encoding="utf-8").removesuffix("\n") + " " * SECRET + "\n", encoding="utf-8")
    rehash_kept(sealed)
    refusal = world.refused(7, "rule approvals-required", "publish", *org[:2], "--to", str(world.tmp / "site-2"),
                            *org[2:])
    assert "no seal by the same key" in refusal and str(SECRET) not in refusal, refusal
    code, stdout, stderr = invoke("audit", *org, "--no-scan", "--allow-unverified", "--json")
    checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
    assert code == 8 and checks["approvals"]["status"] == "fail", stdout + stderr
    assert any("no seal by the same key" in p for p in checks["approvals"]["problems"])
    # an approval with its seal copied from the honest bundle's approval does not move to another private part
    shutil.copy(sealed / SEALS, padded / SEALS)
    assert world.refused(7, "rule approvals-required", "publish", *_org(world.tmp / "rel-padded", world)[:2], "--to",
                         str(world.tmp / "site-3"), *_org(world.tmp / "rel-padded", world)[2:])

    # the old form: the kept files listed again in manifest.json with their hashes, bound again on the
    # ledger. approve refuses it (7, manifest-keys), and a hand-made portal copy fails verify (8)
    refusal = _outputs_refused(world, honest, "listed", lambda outputs, bundle: outputs + [
        {"path": relpath, "sha256": sha256_file(bundle / relpath), "bytes": (bundle / relpath).stat().st_size}
        for relpath in KEPT])
    assert "stay with the bundle" in refusal and "rule manifest-keys" in refusal, refusal


@pytest.mark.slow
def test_one_approval_per_key_in_key_order_and_each_output_once(world: World) -> None:  # noqa: F811
    """Round 32. D1: once the private part changed after an approval (publish refuses it: no seal), the
    reviewer could be asked to approve the same manifest again, and the analyst published any subset of
    the lines, in any order. Now a key approves a manifest once (approve refuses a second time, 7, and
    says to rebuild), and approvals.jsonl holds one line per key in key-id order (a line added by hand,
    or lines reordered, fail publish 7 and the audit 8). M1: an output listed twice turned the outputs'
    order check off (about 22 bits in the order); now it is refused (7, manifest-text)."""
    from conftest import new_signer, sign_outside_approve

    honest = _honest(world)
    out, bundle = _copy(world, honest, "twice")
    org = _org(out, world)
    world.ok("approve", *org[:2], "--key", str(world.counsel), *org[2:])
    packet = bundle / "review" / "index.html"
    packet.write_text(packet.read_text(encoding="utf-8") + " ", encoding="utf-8")
    rehash_kept(bundle)
    refusal = world.refused(7, "rule duplicate-approval", "approve", *org[:2], "--key", str(world.counsel), *org[2:])
    assert "rebuild the release" in refusal, refusal
    sign_outside_approve(bundle, world.counsel, "fioe", int(YEAR))  # the second line, signed by hand
    refusal = world.refused(7, "rule approvals-required", "publish", *org[:2], "--to", str(world.tmp / "site-twice"),
                            *org[2:])
    assert "not one line per key in key-id order" in refusal, refusal
    code, stdout, stderr = invoke("audit", *org, "--no-scan", "--allow-unverified", "--json")
    assert code == 8 and "not one line per key in key-id order" in stdout, stdout + stderr

    # two trusted reviewers' lines, swapped: the order carried a bit
    out, bundle = _copy(world, honest, "swapped")
    other = new_signer(world.tmp, "B. Counsel", trusted=False)  # the order is checked before who signed
    sign_outside_approve(bundle, world.counsel, "fioe", int(YEAR))
    sign_outside_approve(bundle, other, "fioe", int(YEAR), reviewer="B. Counsel")
    approvals = bundle / "approvals.jsonl"
    lines = approvals.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    approvals.write_text("\n".join(lines[::-1]) + "\n", encoding="utf-8")
    org = _org(out, world)
    refusal = world.refused(7, "rule approvals-required", "publish", *org[:2], "--to", str(world.tmp / "site-swap"),
                            *org[2:])
    assert "not one line per key in key-id order" in refusal, refusal

    # an output listed twice, its order chosen, bound again
    refusal = _outputs_refused(world, honest, "dup-output", lambda outputs, bundle: outputs[::-1] + outputs[:1])
    assert "lists a file more than once" in refusal or "not in the order the build lists them" in refusal, refusal

    # approvals.jsonl with a byte that is not UTF-8: a refusal naming the file, never an internal error
    out, bundle = _copy(world, honest, "bytes")
    sign_outside_approve(bundle, world.counsel, "fioe", int(YEAR))
    approvals = bundle / "approvals.jsonl"
    approvals.write_bytes(approvals.read_bytes().replace(b'"', b'\xff', 1))
    org = _org(out, world)
    refusal = world.refused(7, "rule trusted-policy", "approve", *org[:2], "--key", str(world.counsel), *org[2:])
    assert "approvals.jsonl: not UTF-8 text" in refusal and "internal error" not in refusal, refusal
    refusal = world.refused(7, "approvals.jsonl line 1", "publish", *org[:2], "--to",
                            str(world.tmp / "site-bytes"), *org[2:])
    assert "internal error" not in refusal, refusal
    code, stdout, stderr = invoke("audit", *org, "--no-scan", "--allow-unverified", "--json")
    assert code == 8 and "approvals.jsonl line 1" in stdout and "internal error" not in stdout + stderr, stdout + stderr

    # round 36: the approval line's bytes outside what is signed carried any value to the portal (H1: spaces
    # before the public key, one per digit; H2: a key beside the signed ones, behind a byte that is not UTF-8;
    # L1: the unused low bits of the signature's last base64 character). Each is refused: publish 7, audit 8.
    approved, approved_bundle = _copy(world, honest, "approved")
    org = _org(approved, world)
    world.ok("approve", *org[:2], "--key", str(world.counsel), *org[2:])
    line = json.loads((approved_bundle / "approvals.jsonl").read_text(encoding="utf-8"))
    spare = line["signature"][:-3] + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".index(line["signature"][-3]) ^ 1] + "=="
    edits = {
        "spaces": json.dumps({**line, "public_key": " " * 7 + line["public_key"]}, sort_keys=True,
                             separators=(",", ":")).encode("utf-8"),
        "extra-key": json.dumps({**line, "note": "x"}, sort_keys=True, separators=(",", ":")).encode("utf-8")
        .replace(b'"x"', b'"\xff1975"'),
        "base64-bits": json.dumps({**line, "signature": spare}, sort_keys=True, separators=(",", ":")).encode("utf-8"),
    }
    for name, edited in edits.items():
        out, bundle = _copy(world, approved, f"line-{name}")
        (bundle / "approvals.jsonl").write_bytes(edited + b"\n")
        org = _org(out, world)
        refusal = world.refused(7, "rule ", "publish", *org[:2], "--to", str(world.tmp / f"site-{name}"), *org[2:])
        assert "1975" not in refusal and "internal error" not in refusal, (name, refusal)
        assert not (world.tmp / f"site-{name}" / "fioe" / YEAR).exists()
        code, stdout, stderr = invoke("audit", *org, "--no-scan", "--allow-unverified", "--json")
        assert code == 8 and "approvals" in stdout and "1975" not in stdout + stderr, (name, stdout + stderr)
