"""The gate between a draft bundle and the world: integrity, approval and publication.

``approve`` signs only a bundle whose checks passed and whose files still match its
manifest; ``publish`` copies ``public/`` out only when enough valid approvals cover the
CURRENT manifest hash and every file, re-hashed, still matches. Both re-hash everything
every time: a bundle is a folder anyone can edit, so nothing about it is trusted from an
earlier run. The copy is staged beside the destination, re-hashed there, and renamed
into place, so a reader never sees a half-published year.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from release.approvals import append_approval, check_approvals, load_private_key, sign_approval, utc_now
from release.errors import ApprovalError, InputError, ReleaseError
from release.log import verify_log
from release.ledger import Ledger
from release.stages.publish import LOG, MANIFEST, sha256_file, swap_into_place

PUBLIC = "public"


def bundle_dir(dataset: str, year: int, out_dir: Path) -> Path:
    return out_dir / dataset / str(year)


def read_manifest(bundle: Path, error: type[ReleaseError] = ApprovalError) -> dict[str, object]:
    path = bundle / MANIFEST
    if not path.is_file():
        raise error("no manifest: not a release bundle", file=str(path), rule="manifest")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise error("manifest is not valid JSON", file=str(path), rule="manifest") from None
    if not isinstance(manifest, dict):
        raise error("manifest is not a JSON object", file=str(path), rule="manifest")
    return manifest


def manifest_sha256(bundle: Path) -> str:
    return sha256_file(bundle / MANIFEST)


def read_public_csv(source: Path | str) -> pd.DataFrame:
    """A published CSV (a path, or its text) as strings, an empty cell as None. A file that
    is not UTF-8 CSV is an InputError naming it (the bundle was altered or damaged)."""
    name = str(source) if isinstance(source, Path) else None
    try:
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"published file is not readable UTF-8 CSV ({type(exc).__name__})", file=name,
                         rule="public-file") from None
    return pd.DataFrame({c: pd.Series([v if v != "" else None for v in frame[c].tolist()], dtype=object)
                         for c in frame.columns}, columns=frame.columns)


@dataclass(frozen=True)
class Integrity:
    """Outputs re-hashed against the manifest. Lists hold relative paths only."""

    checked: int
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    unlisted: tuple[str, ...]      # files under public/ the manifest does not name
    malformed: tuple[str, ...]     # output entries without a usable path or hash

    @property
    def ok(self) -> bool:
        return self.checked > 0 and not (self.changed or self.missing or self.unlisted or self.malformed)

    def problems(self) -> list[str]:
        found = ([f"{p}: content differs from the manifest" for p in self.changed]
                 + [f"{p}: listed in the manifest but missing" for p in self.missing]
                 + [f"{p}: in public/ but not listed in the manifest" for p in self.unlisted]
                 + [f"manifest output {p}: no usable path or hash" for p in self.malformed])
        return found if self.checked else ["the manifest lists no outputs", *found]


def _safe_relpath(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value:
        return None
    return str(path)


def listed_outputs(manifest: dict[str, object]) -> dict[str, dict[str, object]]:
    outputs = manifest.get("outputs")
    listed: dict[str, dict[str, object]] = {}
    for item in outputs if isinstance(outputs, list) else []:
        if isinstance(item, dict) and (relpath := _safe_relpath(item.get("path"))):
            listed[relpath] = item
    return listed


def verify_outputs(bundle: Path, manifest: dict[str, object]) -> Integrity:
    outputs = manifest.get("outputs")
    entries = outputs if isinstance(outputs, list) else []
    listed = listed_outputs(manifest)
    malformed = [str(i) for i, item in enumerate(entries)
                 if not isinstance(item, dict) or _safe_relpath(item.get("path")) is None
                 or not isinstance(item.get("sha256"), str)]
    changed, missing = [], []
    for relpath, item in listed.items():
        path = bundle / relpath
        if not path.is_file():
            missing.append(relpath)
        elif path.stat().st_size != item.get("bytes", path.stat().st_size) or sha256_file(path) != item.get("sha256"):
            changed.append(relpath)
    public = bundle / PUBLIC
    present = ({p.relative_to(bundle).as_posix() for p in public.rglob("*") if p.is_file() or p.is_symlink()}
               if public.is_dir() else set())
    unlisted = sorted(present - set(listed))
    return Integrity(len(listed), tuple(changed), tuple(missing), tuple(unlisted), tuple(malformed))


def blocking_count(manifest: dict[str, object]) -> int:
    checks = manifest.get("checks")
    recorded = checks.get("blocking_findings", 0) if isinstance(checks, dict) else 0
    findings = manifest.get("findings")
    listed = sum(1 for f in findings if isinstance(f, dict) and f.get("severity") == "blocking") \
        if isinstance(findings, list) else 0
    return max(int(recorded) if isinstance(recorded, int) else 1, listed)


def approvals_required(manifest: dict[str, object]) -> int:
    """The policy's value as recorded in the manifest; never fewer than one (fail closed)."""
    parameters = manifest.get("parameters")
    value = parameters.get("approvals_required") if isinstance(parameters, dict) else None
    return max(1, value) if isinstance(value, int) else 1


def _require_intact(bundle: Path, manifest: dict[str, object]) -> None:
    integrity = verify_outputs(bundle, manifest)
    if not integrity.ok:
        problems = integrity.problems()
        raise ApprovalError(f"the bundle's files do not match its manifest ({len(problems)} problem(s)); "
                            f"first: {problems[0]}", file=str(bundle / MANIFEST), rule="integrity",
                            details=[{"problem": p} for p in problems])
    log = bundle / LOG
    check = verify_log(log.read_text(encoding="utf-8").splitlines() if log.is_file() else [])
    if not check.ok:
        raise ApprovalError(f"the redaction log does not verify: {check.problems[0]}",
                            file=str(log), rule="log-chain")


def approve(dataset: str, year: int, out_dir: Path, reviewer: str, key_path: Path, note: str = "",
            passphrase: bytes | None = None) -> dict[str, object]:
    """Sign the current manifest hash; refuse a blocked, changed or already-signed bundle."""
    bundle = bundle_dir(dataset, year, out_dir)
    manifest = read_manifest(bundle)
    if manifest.get("dataset") != dataset or manifest.get("year") != year:
        raise ApprovalError("manifest is for another dataset or year", file=str(bundle / MANIFEST),
                            rule="manifest")
    if not reviewer.strip():
        raise ApprovalError("a reviewer name is required", rule="reviewer")
    blocking = blocking_count(manifest)
    if blocking:
        raise ApprovalError(f"the bundle has {blocking} blocking finding(s); it cannot be approved",
                            file=str(bundle / MANIFEST), rule="blocking-findings")
    _require_intact(bundle, manifest)
    private = load_private_key(key_path, passphrase)
    digest = manifest_sha256(bundle)
    approval = sign_approval(private, dataset=dataset, year=year, manifest_sha256=digest,
                             reviewer=reviewer.strip(), note=note, timestamp=utc_now())
    earlier = check_approvals(bundle, dataset=dataset, year=year, manifest_sha256=digest)
    if any(c.ok and c.key_id == approval.key_id for c in earlier):
        raise ApprovalError("this key has already approved this manifest", file=str(key_path),
                            rule="duplicate-approval")
    append_approval(bundle, approval)
    valid = {c.key_id for c in earlier if c.ok} | {approval.key_id}
    return {"dataset": dataset, "year": year, "bundle": str(bundle), "manifest_sha256": digest,
            "reviewer": reviewer.strip(), "key_id": approval.key_id,
            "timestamp": approval.payload["timestamp"], "valid_approvals": len(valid),
            "approvals_required": approvals_required(manifest)}


def _copy_verified(bundle: Path, listed: dict[str, dict[str, object]], staging: Path) -> list[str]:
    copied = []
    for relpath, item in sorted(listed.items()):
        if not relpath.startswith(f"{PUBLIC}/"):
            continue
        inside = PurePosixPath(relpath).relative_to(PUBLIC)
        destination = staging.joinpath(*inside.parts)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle / relpath, destination)
        if sha256_file(destination) != item.get("sha256"):  # changed while being copied
            raise ApprovalError("file changed while it was being published", file=relpath, rule="integrity")
        copied.append(inside.as_posix())
    return copied


def _spent_run(manifest: dict[str, object], bundle: Path, explicit: Path | None) -> tuple[Ledger, str] | None:
    """The authoritative ledger holding this release's measurements, bound to this very manifest;
    None for a release without noisy tables."""
    from release import paths
    from release.keys import Tokenizer, existing_key
    from release.privacy_policy import checked_ledger

    privacy = manifest.get("privacy") or {}
    if not isinstance(privacy, dict) or not privacy.get("spends"):
        return None
    path = checked_ledger(paths.default_dir("redaction_rules")[0], explicit)
    run_id = str(privacy.get("run_id", ""))
    if not path.is_file():
        raise ApprovalError("the privacy ledger this release spent from is missing; it cannot be published",
                            file=str(path), rule="ledger")
    key = existing_key()
    ledger = Ledger(path, Tokenizer(key).mac if key else None)
    if ledger.bundle(run_id, manifest_sha256(bundle)) is None:
        raise ApprovalError("the privacy ledger does not hold this release's measurements bound to this "
                            "manifest; rebuild the release", file=str(path), rule="ledger")
    return ledger, run_id


def publish(dataset: str, year: int, out_dir: Path, to_dir: Path,
            ledger: Path | None = None) -> dict[str, object]:
    """Copy ``public/`` to ``to_dir/<dataset>/<year>/`` once approved and unchanged. A release with
    noisy tables goes out only if the authoritative ledger binds its measurements to this
    manifest; once the files are in place, a ``publish`` entry records which manifest went out
    (the charges were permanent from the moment of the draw). ``ledger`` may only name the
    authoritative ledger (``privacy_policy.checked_ledger``)."""
    bundle = bundle_dir(dataset, year, out_dir)
    manifest = read_manifest(bundle)
    _require_intact(bundle, manifest)
    if blocking_count(manifest):  # an approval can be signed outside ``approve``: check again
        raise ApprovalError("the bundle has blocking findings; it cannot be published",
                            file=str(bundle / MANIFEST), rule="blocking-findings")
    digest = manifest_sha256(bundle)
    checks = check_approvals(bundle, dataset=dataset, year=year, manifest_sha256=digest)
    valid = sorted({c.key_id for c in checks if c.ok})
    required = approvals_required(manifest)
    if len(valid) < required:
        stale = sum(1 for c in checks if not c.ok)
        raise ApprovalError(
            f"{len(valid)} valid approval(s) of the current manifest, {required} required"
            + (f"; {stale} approval line(s) do not verify for it" if stale else ""),
            file=str(bundle / "approvals.jsonl"), rule="approvals-required")
    spent = _spent_run(manifest, bundle, ledger)
    target = to_dir / dataset / str(year)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{year}.publishing-", dir=target.parent))
    try:
        copied = _copy_verified(bundle, listed_outputs(manifest), staging)
        swap_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if spent is not None:  # the charges were permanent already; this records which manifest went out
        spent[0].mark_published(dataset=dataset, year=year, run_id=spent[1], manifest_sha256=digest)
    return {"dataset": dataset, "year": year, "destination": str(target), "files": copied,
            "manifest_sha256": digest, "approvals": len(valid), "approvals_required": required,
            "key_ids": valid, "ledger_run": spent[1] if spent else None}
