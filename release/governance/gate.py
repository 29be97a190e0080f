"""The gate between a draft bundle and the world: integrity, approval and publication.

``approve`` signs only a bundle whose checks passed and whose files still match its
manifest, whose redaction log's chain and trailer MAC verify under the release's key, with
a key on the trusted-signers list. ``require_intact`` and ``require_approvals`` are what
``release.governance.publication`` checks again before anything goes out: trusted approvals of the
CURRENT manifest hash that meet the roles and counts the policy requires (``release.bundle.trust``:
read from the rules folder, never from the manifest). Everything is re-hashed every time: a
bundle is a folder anyone can edit, so nothing about it is trusted from an earlier run.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from release.bundle import manifest_parts
from release.bundle import places as bundles
from release.bundle.integrity import PUBLIC, verify_outputs
from release.bundle.jsonl import text_lines, utc_now
from release.bundle.layout import APPROVALS, LOG, MANIFEST
from release.bundle.log import verify_log
from release.bundle.manifest_recorded import Recorded
from release.bundle.read import manifest_sha256, read_manifest
from release.bundle.trust import (
    SEALS,
    ApprovalStatus,
    Trust,
    approval_keys,
    approval_status,
    seal_fields,
    trust_for,
    trusted_signer,
)
from release.errors import ApprovalError, EnvironmentProblem
from release.keys.hmac import ReleaseKeys, existing_key, keys_for_manifest
from release.keys.signing import (
    append_record,
    insert_record,
    load_private_key,
    one_line,
    private_key_id,
    sign_record,
)
from release.privacy.ledger import Ledger


def blocking_count(manifest: Mapping[str, Any]) -> int:
    """The blocking findings the manifest records (``Recorded.blocking``: an edited count never reads as clear)."""
    return Recorded.of(manifest).blocking


def approvals_of(bundle: Path, dataset: str, year: int, trust: Trust) -> ApprovalStatus:
    """The bundle's approvals of its current manifest, judged by ``trust``."""
    return approval_status(bundle / APPROVALS, dataset=dataset, year=year, manifest_sha256=manifest_sha256(bundle),
                           trust=trust, private_sha256=manifest_parts.private_sha256(bundle), sealed=True)


def require_intact(bundle: Path, manifest: Mapping[str, Any]) -> None:
    integrity = verify_outputs(bundle, manifest)
    if not integrity.ok:
        problems = integrity.problems()
        raise ApprovalError(f"the bundle's files do not match its manifest ({len(problems)} problem(s)); "
                            f"first: {problems[0]}", file=str(bundle / MANIFEST), rule="integrity",
                            details=[{"problem": p} for p in problems])
    log = bundle / LOG
    keys = _release_keys(manifest)
    check = verify_log(text_lines(log), keys.trailer)
    if check.chain_problems:
        raise ApprovalError(f"the redaction log does not verify: {check.chain_problems[0]}",
                            file=str(log), rule="log-chain")
    if check.mac_problems or Recorded.of(manifest).hmac_key_id != keys.key_id:
        first = check.mac_problems[0] if check.mac_problems else "the HMAC key's id differs from the manifest's"
        raise ApprovalError(f"the redaction log's trailer MAC does not verify under the release's key ({first}): "
                            "entries may have been removed and the log re-chained, or the key is not this "
                            "release's", file=str(log), rule="log-trailer-mac")


def _release_keys(manifest: Mapping[str, Any]) -> ReleaseKeys:
    """The bundle's derived keys: the trailer MAC is the only proof that no entry was removed
    and the log re-chained, so approve and publish need the release's HMAC key."""
    master = existing_key()
    if master is None:
        raise EnvironmentProblem(
            "no HMAC key: approve and publish verify the redaction log's trailer MAC with the key the release "
            "was built with; set RELEASE_HMAC_KEY_FILE (or RELEASE_HMAC_KEY) to it", rule="hmac-key")
    try:
        keys = keys_for_manifest(master, manifest)
    except EnvironmentProblem as exc:  # an edited or foreign manifest, not a broken environment
        raise ApprovalError(exc.message, file=MANIFEST, rule="hmac-key") from None
    if keys.legacy:
        raise ApprovalError("the redaction log is format 1, whose trailer MAC can be forged from a value token; "
                            "rebuild the release to approve or publish it", file=LOG, rule="log-trailer-mac")
    return keys


def approve(dataset: str, year: int, out_dir: Path, reviewer: str | None, key_path: Path, note: str = "",
            passphrase: bytes | None = None, rules_dir: Path | None = None,
            version: int | None = None, reviewed_manifest: str | None = None, reviewed_private: str | None = None,
            generation: str | None = None) -> dict[str, object]:
    """Sign the current manifest hash with a trusted signer's key; refuse a blocked, changed
    or already-signed bundle, an untrusted key, and a policy other than the bundle's; with
    ``reviewed_manifest`` (the hash the reviewer's screen was built from), refuse a manifest
    that has been replaced since (a rebuild while the review workspace was open), and with
    ``reviewed_private`` a private part that has (the log swapped under the workspace: round 32, W1).
    Writes the approval's seal (``trust.SEALS``) and then the approval, in key-id order."""
    bundle = bundles.bundle_dir(dataset, year, out_dir, version, generation)
    _require_reviewed(bundle, reviewed_manifest, reviewed_private)
    manifest = read_manifest(bundle)
    if not manifest.is_for(dataset, year):
        raise ApprovalError("manifest is for another dataset or year", file=str(bundle / MANIFEST),
                            rule="manifest")
    blocking = blocking_count(manifest)
    if blocking:
        raise ApprovalError(f"the bundle has {blocking} blocking finding(s); it cannot be approved",
                            file=str(bundle / MANIFEST), rule="blocking-findings")
    require_intact(bundle, manifest)
    trust = trust_for(dataset, rules_dir, manifest)
    require_engine_as_built(dataset, manifest, rules_dir)
    require_on_ledger(bundle, manifest, rules_dir)
    from release.bundle.decisions import applied_summary, require_anchored
    decided = applied_summary(require_anchored(dataset, year, out_dir, trust), manifest)
    private = load_private_key(key_path, passphrase)
    signer = trusted_signer(trust, private_key_id(private), one_line(private.public_key()),
                            tuple(trust.approvals.required), reviewer)
    digest = _require_reviewed(bundle, reviewed_manifest, reviewed_private)  # again: it may have been rebuilt
    if any(s.key_id == signer.key_id for s in approvals_of(bundle, dataset, year, trust).signed):
        raise ApprovalError("this key has already approved this manifest", file=str(key_path),
                            rule="duplicate-approval")
    if signer.key_id in approval_keys(bundle / APPROVALS):  # round 32, D1: one line per key, never a second
        raise ApprovalError("this key approved this bundle before its private part or its files changed, so that "
                            "approval no longer counts; rebuild the release, then review and approve the new "
                            "bundle", file=str(bundle / APPROVALS), rule="duplicate-approval")
    timestamp = utc_now()
    sealed = manifest_parts.private_sha256(bundle)
    if sealed is None:  # require_intact found it; it may have gone since
        raise ApprovalError("the bundle has no private part to seal", file=str(bundle / manifest_parts.PRIVATE_FILE),
                            rule="integrity")
    if reviewed_private is not None and sealed != reviewed_private:  # changed since the check above
        _require_reviewed(bundle, None, reviewed_private)
    # the seal first: an approval without its seal counts for nothing, a seal without an approval is inert
    append_record(bundle / SEALS, sign_record(private, "seal", seal_fields(dataset, year, digest, sealed)))
    insert_record(bundle / APPROVALS, sign_record(private, "approval", {
        "dataset": dataset, "year": year, "manifest_sha256": digest, "reviewer": signer.name,
        "role": signer.role, "note": note, "timestamp": timestamp}))
    status = approvals_of(bundle, dataset, year, trust)
    return {"dataset": dataset, "year": year, "bundle": str(bundle), "manifest_sha256": digest,
            "reviewer": signer.name, "role": signer.role, "key_id": signer.key_id, "timestamp": timestamp,
            "approvals": status.summary(), "ready_to_publish": status.ok, "valid_approvals": len(status.signed),
            "approvals_required": sum(status.required.values()), "signers": [s.to_dict() for s in status.signed],
            "review_decisions": decided}


def require_engine_as_built(dataset: str, manifest: Mapping[str, Any], rules_dir: Path | None) -> None:
    """The bundle's PII engine is the trusted one: the model fingerprint and PII rules digest the manifest records
    are this machine's model and the trusted rules folder's (``release.audit.engine_replay``). Without it a build
    run with weakened recognizers under an unchanged dataset policy was approved and published (attack, issue 14).
    What the build recorded is taken as recorded: a forged record is the residual scan's and ``--raw``'s to find."""
    from release.audit.engine_replay import check_engine_as_built
    from release.bundle.trust import bundle_policy
    from release.paths import chosen_dir

    rules = chosen_dir("redaction_rules", rules_dir)[0]
    policy, _ = bundle_policy(dataset, rules, manifest)  # a policy other than the recorded one: trust_for refuses
    check = check_engine_as_built(policy, manifest, rules)
    if check.status == "fail":
        raise ApprovalError(f"the release's PII engine is not the trusted one: {check.problems[0]}",
                            file=str(rules), rule="engine-as-built")


def _require_reviewed(bundle: Path, reviewed_manifest: str | None, reviewed_private: str | None = None) -> str:
    """The manifest's hash, refused when it, or the private part, is not the one the reviewer's screen was
    built from (the private part lists the log the screen showed: round 32, W1)."""
    digest = manifest_sha256(bundle)
    if reviewed_manifest is not None and digest != reviewed_manifest:
        raise ApprovalError("the bundle was rebuilt after it was reviewed: review the new bundle before approving "
                            "it", file=str(bundle / MANIFEST), rule="reviewed-manifest")
    if reviewed_private is not None and manifest_parts.private_sha256(bundle) != reviewed_private:
        raise ApprovalError("the bundle's log or review files changed after it was reviewed: review it again before "
                            "approving it", file=str(bundle / manifest_parts.PRIVATE_FILE), rule="reviewed-manifest")
    return digest


def require_on_ledger(bundle: Path, manifest: Mapping[str, Any], rules_dir: Path | None,
                      requested: Path | None = None) -> Ledger | None:
    """The authoritative ledger (with its witness) of a release with noisy tables, refused unless its
    charges are on it (``ledger_audit.release_on_ledger``, the audit's check): noise drawn on another
    ledger, or on this one before it was rolled back, was free. Which tables are noisy comes from
    ``public/`` and the trusted tables policy (``release.privacy.spend_evidence``), never from the manifest's
    claim. None for a release without noisy tables. A policy that names no witness is refused with
    what an administrator adds. Every release, noisy or not, is also held to the trusted rules as a
    whole (``require_trusted``)."""
    from release.audit import table_replay
    from release.audit.ledger import release_on_ledger
    from release.config.privacy import (
        POLICY_FILE,
        checked_ledger,
        load_privacy_policy,
        no_witness,
    )
    from release.keys.hmac import ledger_mac
    from release.paths import default_dir
    from release.privacy import spend_evidence, spend_policy
    from release.privacy.ledger_open import existing_ledger

    rules = rules_dir or default_dir("redaction_rules")[0]
    dataset = Recorded.of(manifest).dataset_name
    tables = spend_evidence.noisy_tables(bundle / PUBLIC, spend_evidence.declared_noisy(dataset, rules, manifest))
    if not spend_evidence.spends(manifest, tables):
        require_trusted(bundle, manifest, rules)
        return None
    key = existing_key()
    ledger = existing_ledger(rules, requested, ledger_mac(key) if key else None)
    if ledger is None:
        raise ApprovalError("the privacy ledger the policy names does not exist: no charge of this release is on it",
                            file=str(checked_ledger(rules, requested)), rule="ledger")
    if ledger.witness is None:
        raise ApprovalError(no_witness(rules), file=str(rules / POLICY_FILE), rule="witness")
    problems = release_on_ledger(ledger, manifest, manifest_sha256(bundle), tables)
    if problems:
        raise ApprovalError(f"the release's privacy charges are not on the authoritative ledger ({len(problems)} "
                            f"problem(s)); first: {problems[0]}", file=str(ledger.path), rule="ledger",
                            details=[{"problem": p} for p in problems])
    problems = spend_policy.release_problems(dataset, rules, manifest, bundle / PUBLIC,
                                             load_privacy_policy(rules), ledger.entries())
    if problems:  # attack 4u-unit: charged and witnessed, but not as the organisation's policy says
        raise ApprovalError(f"the release's privacy spends differ from the trusted policy ({len(problems)} "
                            f"problem(s)); first: {problems[0]}", file=str(rules), rule="privacy-policy",
                            details=[{"problem": p} for p in problems])
    require_trusted(bundle, manifest, rules)
    problems = table_replay.replay_problems(rules, manifest, bundle / PUBLIC, ledger.stored_records())
    if problems:  # round 23, exact-rebind: cells edited after the build and the manifest bound again
        raise ApprovalError(f"the release's noisy tables are not the draws its charges paid for ({len(problems)} "
                            f"problem(s)); first: {problems[0]}", file=str(bundle / PUBLIC / "tables"),
                            rule="noisy-table", details=[{"problem": p} for p in problems])
    return ledger


def require_trusted(bundle: Path, manifest: Mapping[str, Any], rules: Path) -> None:
    """The release as the trusted rules declare it, whether or not it spends: its generation, its tables,
    its measurements, its statement and its coarsening (``release.audit.trusted_release``, round 22)."""
    from release.audit.trusted_release import release_problems

    problems = release_problems(rules, manifest, bundle / PUBLIC, bundle.name)
    if problems:
        raise ApprovalError(f"the release differs from the trusted policy ({len(problems)} problem(s)); first: "
                            f"{problems[0]}", file=str(rules), rule="trusted-policy",
                            details=[{"problem": p} for p in problems])


def require_approvals(bundle: Path, dataset: str, year: int, trust: Trust) -> ApprovalStatus:
    """The trusted approvals the policy requires, or an ApprovalError saying what is missing."""
    status = approvals_of(bundle, dataset, year, trust)
    if not status.ok:
        missing = ", ".join(f"{n} more {role}" for role, n in status.missing().items())
        raise ApprovalError(
            f"{len(status.signed)} valid approval(s) by trusted signers of the current manifest; the policy "
            f"requires {status.summary()}" + (f" (missing: {missing})" if missing else "")
            + (f"; {len(status.problems)} approval line(s) do not count, first: {status.problems[0]}"
               if status.problems else ""),
            file=str(bundle / APPROVALS), rule="approvals-required",
            details=[{"problem": p} for p in status.problems])
    return status
