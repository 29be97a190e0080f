"""Publish an approved bundle: a verifiable copy in ``--to``, and nothing anywhere else.

``publish`` copies ``public/`` to ``TO/<dataset>/<year>`` (``<year>-v<N>`` for a version that
supersedes a published one) only once trusted approvals of the current manifest meet the
policy and every file still matches. The copy carries what a reader of the portal needs to
check it without the bundle: ``manifest.json``, ``approvals.jsonl`` and ``SHA256SUMS``
(``sha256sum -c`` works; ``release verify DIR`` checks all of it).

Where it writes is checked first: the dataset must be a registered name (the path is built
from it), ``--to`` must not overlap the releases folder or the bundle (``--to`` equal to
``--out`` once replaced the bundle with its public files), and an existing destination is
replaced only when it holds this very release (a repair); a different release or a folder
this tool did not write is refused. The copy is staged beside the destination, re-hashed,
and renamed into place; folders get the umask's permissions, so a web server can read them.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from release.bundle.integrity import PUBLIC, listed_outputs
from release.bundle.layout import APPROVALS, MANIFEST, METADATA, SUMS, sha256_file, staging_dir, sums_order, swap_into_place
from release.bundle.manifest_recorded import Recorded
from release.bundle.places import bundle_dir, check_dataset, record_publication
from release.bundle.read import manifest_sha256, read_manifest
from release.bundle.trust import trust_for
from release.errors import ApprovalError
from release.governance.gate import (
    blocking_count,
    require_approvals,
    require_engine_as_built,
    require_intact,
    require_on_ledger,
)
from release.privacy.ledger import Ledger


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def check_destination(to_dir: Path, out_dir: Path, bundle: Path, target: Path | None = None) -> None:
    """Refuse a ``--to`` that is, holds or lies inside the releases folder or the bundle, and a
    destination ``--to/DATASET/FOLDER`` that gets there through a link: every folder below
    ``--to`` is a real folder (or not there yet), and where the copy lands, resolved, overlaps
    neither (a ``--to/fioe`` linked to the releases' ``fioe/`` would swap the bundle for its copy)."""
    to, out, source = to_dir.resolve(), out_dir.resolve(), bundle.resolve()
    for other, what in ((out, "the releases folder (--out)"), (source, "the bundle")):
        if _overlaps(to, other):
            raise ApprovalError(f"--to overlaps {what}; publish to a folder outside both", file=str(to_dir),
                                rule="destination")
    if target is None:
        return
    step = to_dir
    for part in target.relative_to(to_dir).parts:
        step = step / part
        if step.is_symlink():
            raise ApprovalError("a folder of the destination is a link; publish to real folders only",
                                file=str(step), rule="destination")
    landing = target.resolve()
    for other, what in ((out, "the releases folder (--out)"), (source, "the bundle")):
        if _overlaps(landing, other):
            raise ApprovalError(f"the destination overlaps {what}; publish to a folder outside both",
                                file=str(target), rule="destination")


def _existing_copy(target: Path, digest: str) -> None:
    """An existing destination may be replaced only by the same release (a repair)."""
    if not target.exists() and not target.is_symlink():
        return
    manifest = target / MANIFEST
    if target.is_symlink() or not manifest.is_file():
        raise ApprovalError("the destination exists and is not a copy this tool published; refusing to replace it",
                            file=str(target), rule="destination")
    if sha256_file(manifest) != digest:
        raise ApprovalError("the destination holds another published release; a published year is never "
                            "replaced: rebuild with --supersede, which publishes to its own folder",
                            file=str(target), rule="published")


def _copy_verified(bundle: Path, listed: dict[str, dict[str, object]], staging: Path) -> list[str]:
    copied = []
    for relpath, item in sorted(listed.items()):
        if not relpath.startswith(f"{PUBLIC}/"):
            continue
        inside = PurePosixPath(relpath).relative_to(PUBLIC)
        if inside.as_posix() in METADATA:
            raise ApprovalError("a public file has the name of the copy's own metadata", file=relpath,
                                rule="integrity")
        destination = staging.joinpath(*inside.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle / relpath, destination)
        if sha256_file(destination) != item.get("sha256"):  # changed while being copied
            raise ApprovalError("file changed while it was being published", file=relpath, rule="integrity")
        copied.append(inside.as_posix())
    return copied


def _write_metadata(bundle: Path, staging: Path, digest: str, copied: list[str]) -> None:
    shutil.copyfile(bundle / MANIFEST, staging / MANIFEST)
    shutil.copyfile(bundle / APPROVALS, staging / APPROVALS)
    if sha256_file(staging / MANIFEST) != digest:
        raise ApprovalError("the manifest changed while it was being published", file=MANIFEST, rule="integrity")
    names = sums_order(copied)
    (staging / SUMS).write_text("".join(f"{sha256_file(staging / name)}  {name}\n" for name in names),
                                encoding="utf-8", newline="\n")


def _spent_run(manifest: Mapping[str, Any], bundle: Path, explicit: Path | None, rules_dir: Path | None,
               to_dir: Path, digest: str) -> tuple[Ledger, str] | None:
    """The authoritative ledger holding this release's measurements, bound to this very manifest
    (``gate.require_on_ledger``, as for approve); None for a release without noisy tables. The
    releases already published at ``to_dir`` must have spent from the same chain: this ledger records
    each of them published (its own ``publish`` entry for that copy's manifest SHA-256, written by
    ``publish`` once the copy was in place), so even an approver whose policy names another ledger
    cannot start a second budget on the same portal. A copy's manifest names no ledger head (round 31,
    R1: the analyst sets it by what they append to the ledger), so it is found by its hash, never by
    a head it states. This release's own copy (``digest``: a repair after a publication cut off before
    its mark) is this release's, checked above."""
    ledger = require_on_ledger(bundle, manifest, rules_dir, explicit)
    if ledger is None:
        return None
    marked = {str(e.body.get("manifest_sha256")) for e in ledger.entries() if e.kind == "publish"}
    for label, privacy, published in published_spends(to_dir):
        problems = (["its ledger_id differs"] if privacy.get("ledger_id") != ledger.ledger_id()
                    else [] if published in marked or published == digest
                    else ["this ledger records no publication of its manifest (publish it again from its bundle, "
                          "which records it, or restore the ledger)"])
        if problems:
            raise ApprovalError(f"the release {label} already published at the destination spent from another "
                                f"privacy ledger than this one: {problems[0]}", file=str(to_dir), rule="ledger",
                                details=[{"problem": p} for p in problems])
    section = Recorded.of(manifest).privacy
    return ledger, str(section.get("run_id", "") if section is not None else "")


def published_spends(to_dir: Path) -> list[tuple[str, dict[str, object], str]]:
    """(``dataset/folder``, privacy section, the manifest's SHA-256, by which the ledger's ``publish`` entry
    names it) of each release with noisy tables already published under ``to_dir``:
    one that claims a spend, or publishes a noisy table (``release.privacy.spend_evidence``) whatever it claims."""
    from release.privacy.spend_evidence import noisy_tables

    found: list[tuple[str, dict[str, object], str]] = []
    for path in to_dir.glob(f"*/[0-9][0-9][0-9][0-9]*/{MANIFEST}") if to_dir.is_dir() else ():
        try:
            privacy = json.loads(path.read_text(encoding="utf-8")).get("privacy")
        except (OSError, ValueError, AttributeError):
            continue
        if not isinstance(privacy, dict):
            privacy = {}
        if privacy.get("spends") or noisy_tables(path.parent):
            found.append((f"{path.parent.parent.name}/{path.parent.name}", privacy, sha256_file(path)))
    return found


def publish(dataset: str, year: int, out_dir: Path, to_dir: Path, ledger: Path | None = None,
            rules_dir: Path | None = None, version: int | None = None,
            generation: str | None = None) -> dict[str, object]:
    """Copy ``public/`` with the manifest, approvals and hashes to ``to_dir/<dataset>/<folder>``
    once approved and unchanged, marking the release's privacy spend as published on the
    ledger just before the files go out, and giving the mark back if they do not. ``ledger``
    may only name the authoritative ledger (``release.config.privacy.checked_ledger``)."""
    bundle = bundle_dir(check_dataset(dataset), year, out_dir, version, generation)
    check_destination(to_dir, out_dir, bundle)
    manifest = read_manifest(bundle)
    if not manifest.is_for(dataset, year):
        raise ApprovalError("manifest is for another dataset or year", file=str(bundle / MANIFEST), rule="manifest")
    require_intact(bundle, manifest)
    if blocking_count(manifest):  # an approval can be signed outside ``approve``: check again
        raise ApprovalError("the bundle has blocking findings; it cannot be published",
                            file=str(bundle / MANIFEST), rule="blocking-findings")
    digest = manifest_sha256(bundle)
    status = require_approvals(bundle, dataset, year, trust_for(dataset, rules_dir, manifest))
    require_engine_as_built(dataset, manifest, rules_dir)
    target = to_dir / dataset / bundle.name
    check_destination(to_dir, out_dir, bundle, target)
    _existing_copy(target, digest)
    spent = _spent_run(manifest, bundle, ledger, rules_dir, to_dir, digest)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(target.parent, f".{bundle.name}.publishing-")
    try:
        copied = _copy_verified(bundle, listed_outputs(manifest), staging)
        _write_metadata(bundle, staging, digest, copied)
        swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if spent is not None:  # the charges were permanent already; this records which manifest went out
        spent[0].mark_published(dataset=dataset, year=year, run_id=spent[1], manifest_sha256=digest)
    record_publication(bundle, target, digest)
    return {"dataset": dataset, "year": year, "version": _version(manifest), "destination": str(target),
            "files": copied, "metadata": list(METADATA), "manifest_sha256": digest, "approvals": status.summary(),
            "signers": [s.to_dict() for s in status.signed], "ledger_run": spent[1] if spent else None}


def _version(manifest: Recorded) -> int:
    """The version published (1: a first version written before versions were). The trusted checks have held
    the manifest to the model (``gate.require_on_ledger``), so it is read typed."""
    return manifest.checked().version or 1
