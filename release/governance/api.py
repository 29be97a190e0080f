"""After the build: listing, decisions, approval, publication and audit.

Owns the thin entry points the CLI reaches through ``release.api`` for a bundle that
already exists, and the wiring ``audit_release`` hands to ``release.audit.run``: the PII
scanner over the published roster, the suppression audit across years and the ledger
check. The work itself lives in ``decisions``, ``gate``, ``publication`` and ``audit``; the
review's entry points are ``release.review.commands`` (the review uses governance, not the reverse).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from release import paths
from release.audit import table_replay
from release.build import tables as tables_api
from release.build.budget import budget_report
from release.build.options import Progress, Silent
from release.bundle.places import (
    all_bundles,
    existing_bundle,
    folder_part,
    publications,
)
from release.bundle.read import manifest_privacy
from release.config.policy import DatasetPolicy, load_policy
from release.errors import ReleaseError
from release.pii.parallel import Execution
from release.privacy import spend_evidence, spend_policy

if TYPE_CHECKING:
    from release.audit.report import CheckFn, Scanner
    from release.pii.engine import PiiEngine
    from release.pii.placeholders import Detection
    from release.pii.spans import Span


def list_releases(out_dir: Path, ledger: Path | None = None, rules_dir: Path | None = None) -> dict[str, object]:
    """Every dataset with the years it has bundles for, their status and budget. A bundle is
    "approved" only when trusted approvals meet its policy's requirement."""
    from release.bundle.read import read_manifest
    from release.bundle.trust import trust_for
    from release.errors import InputError
    from release.governance.gate import approvals_of

    rows: list[dict[str, object]] = []
    for dataset, year, version, folder in all_bundles(out_dir):
        manifest = read_manifest(folder, error=InputError)
        try:
            approvals = approvals_of(folder, dataset, year, trust_for(dataset, rules_dir, manifest))
            count, approved = len(approvals.signed), approvals.ok
        except ReleaseError:  # no policy for it, or not the one it was built with: nothing counts
            count, approved = 0, False
        status = ("published" if publications(folder) else
                  "approved" if approved and manifest.status == "draft" else manifest.shown("status", "None"))
        privacy = manifest.privacy
        spent = privacy.get("rho_spent") if privacy is not None else None
        rows.append({"dataset": dataset, "year": year, "version": version, "part": folder_part(folder.name),
                     "status": status,
                     "approvals": count, "created_at": manifest.value("created_at"),
                     "rho_spent": sum(v for v in spent.values() if isinstance(v, (int, float)))
                     if isinstance(spent, dict) else 0})
    budgets = {}
    for dataset in sorted({str(r["dataset"]) for r in rows}):
        report = budget_report(dataset, out_dir, ledger)
        budgets[dataset] = report.get("units", [])
    return {"releases": rows, "budgets": budgets}


def record_decision(dataset: str, year: int, out_dir: Path, log_id: str, decision: str, key_path: Path, *,
                    reviewer: str | None = None, note: str = "", passphrase: bytes | None = None,
                    rules_dir: Path | None = None, generation: str | None = None) -> dict[str, object]:
    from release.governance import decisions
    existing_bundle(dataset, year, out_dir, generation=generation)
    return decisions.record_decision(dataset, year, out_dir, log_id, decision, reviewer, note,
                                     signing=decisions.Signing(key_path, passphrase, rules_dir), generation=generation)


def record_finding_decision(dataset: str, year: int, out_dir: Path, finding_id: str, decision: str,
                            key_path: Path, *, reviewer: str | None = None, note: str = "",
                            passphrase: bytes | None = None, rules_dir: Path | None = None,
                            generation: str | None = None) -> dict[str, object]:
    from release.governance import decisions
    existing_bundle(dataset, year, out_dir, generation=generation)
    return decisions.record_finding_decision(dataset, year, out_dir, finding_id, decision, reviewer, note,
                                             signing=decisions.Signing(key_path, passphrase, rules_dir),
                                             generation=generation)


def keygen(path: Path, passphrase: bytes | None = None, name: str | None = None,
           role: str | None = None) -> dict[str, object]:
    """A new signing key, and the line an administrator adds to ``trusted_signers.yaml``."""
    from release.keys import signing as approvals
    made = dict(approvals.keygen(path, passphrase))
    entry = (f'- {{name: "{name or "<full name>"}", role: {role or "<role, e.g. legal>"}, '
             f'public_key: "{made["public_key"]}"}}')
    return {**made, "trusted_signers_entry": entry}


def key_is_encrypted(path: Path) -> bool:
    from release.keys import signing as approvals
    return approvals.key_is_encrypted(path)


def approve_release(dataset: str, year: int, out_dir: Path, key_path: Path, *, reviewer: str | None = None,
                    note: str = "", passphrase: bytes | None = None, rules_dir: Path | None = None,
                    version: int | None = None, generation: str | None = None,
                    raw_dir: Path | None = None) -> dict[str, object]:
    """Sign the bundle's manifest; with ``raw_dir``, only once it replays from the raw export."""
    from release.governance import gate
    existing_bundle(dataset, year, out_dir, version, generation)
    hold_to_raw(dataset, year, out_dir, raw_dir, rules_dir, version, generation, "approve")
    return gate.approve(dataset, year, out_dir, reviewer, key_path, note, passphrase, rules_dir, version,
                        generation=generation)


def publish_release(dataset: str, year: int, out_dir: Path, to_dir: Path, ledger: Path | None = None,
                    rules_dir: Path | None = None, version: int | None = None,
                    generation: str | None = None, raw_dir: Path | None = None) -> dict[str, object]:
    """Publish, recording on the authoritative privacy ledger which manifest went out; with
    ``raw_dir``, only once the bundle replays from the raw export."""
    from release.governance import publication
    existing_bundle(dataset, year, out_dir, version, generation)
    hold_to_raw(dataset, year, out_dir, raw_dir, rules_dir, version, generation, "publish")
    _require_decisions(dataset, year, out_dir, rules_dir, version, generation)
    return publication.publish(dataset, year, out_dir, to_dir, ledger, rules_dir, version, generation)


def _require_decisions(dataset: str, year: int, out_dir: Path, rules_dir: Path | None, version: int | None,
                       generation: str | None) -> None:
    """Refused (7, rule decision-ledger) when the privacy ledger records a reviewer decision the decisions
    file lacks (``decisions.require_anchored``). A bundle whose manifest or trust cannot be read is left to
    publish, which refuses it itself."""
    from release.bundle.decisions import require_anchored
    from release.bundle.places import bundle_dir
    from release.bundle.read import read_manifest
    from release.bundle.trust import trust_for
    from release.errors import ApprovalError, ReleaseError

    try:
        manifest = read_manifest(bundle_dir(dataset, year, out_dir, version, generation), ApprovalError)
        trust = trust_for(dataset, rules_dir, manifest)
    except ReleaseError:
        return
    require_anchored(dataset, year, out_dir, trust)


# the audit's checks that only the raw export can run: with approve/publish --raw, each must pass
REPLAY_CHECKS = ("raw_values_absent", "log_tokens", "identifier_pseudonyms", "record_cells_replayed",
                 "redactions_redetected", "noisy_counts_recounted")


def hold_to_raw(dataset: str, year: int, out_dir: Path, raw_dir: Path | None, rules_dir: Path | None,
                version: int | None, generation: str | None, command: str) -> None:
    """Before approve or publish (the command line's, or the review workspace's Approve): the replay from
    ``raw_dir`` when given, and a refusal without it when the trusted policy requires the replay."""
    if raw_dir is None:
        _refuse_without_raw(dataset, year, out_dir, rules_dir, version, generation, command)
    else:
        require_replay(dataset, year, out_dir, raw_dir, rules_dir, version, generation)


def _refuse_without_raw(dataset: str, year: int, out_dir: Path, rules_dir: Path | None, version: int | None,
                        generation: str | None, command: str) -> None:
    """Refused (7, rule raw-replay) when the trusted policy requires the replay (``approvals.raw_replay``)
    and no raw export was given. A bundle whose manifest or policy cannot be read is left to approve and
    publish, which refuse it themselves."""
    from release.bundle.places import bundle_dir
    from release.bundle.read import read_manifest
    from release.bundle.trust import bundle_policy
    from release.errors import ApprovalError, ReleaseError

    try:
        manifest = read_manifest(bundle_dir(dataset, year, out_dir, version, generation), ApprovalError)
    except ReleaseError:
        return
    policy, _ = bundle_policy(dataset, paths.chosen_dir("redaction_rules", rules_dir)[0], manifest)
    if policy is not None and policy.approvals.raw_replay:
        raise ApprovalError(f"the trusted policy requires the raw-export replay before {command} "
                            "(approvals.raw_replay): give --raw with the export the bundle was built from",
                            rule="raw-replay")


def require_replay(dataset: str, year: int, out_dir: Path, raw_dir: Path, rules_dir: Path | None,
                   version: int | None, generation: str | None) -> None:
    """Refuse (7) a bundle that does not replay from the raw export: the audit's checks of the raw
    export (``audit_raw.raw_checks``, as ``release audit --raw`` runs them), and none of its other
    checks (no residual scan, suppression LP or ledger audit). What a reviewer without the raw export
    cannot tell (a narrative, a vehicle model, a note's count edited after the build and bound again:
    attack rounds 25-26, F-free-text, M-slot) is then held before approval or publication, not after."""
    from release.audit import run as audit
    from release.errors import ApprovalError
    from release.keys.hmac import existing_key

    report = audit.audit(dataset, year, out_dir, raw_dir, existing_key(),
                         rules_dir=paths.chosen_dir("redaction_rules", rules_dir)[0], version=version,
                         generation=generation)
    checks = {c.name: c for c in report.checks if c.name in REPLAY_CHECKS}
    # a check that fails, or the replay itself not run (no HMAC key, no trusted rules): never a pass unseen
    held = [c for name, c in checks.items() if c.status == "fail"
            or (name in ("record_cells_replayed", "raw_values_absent") and c.status != "pass")]
    if held or "record_cells_replayed" not in checks:
        said = "; ".join(f"{c.name} {c.status}: {c.problems[0] if c.problems else c.detail.get('reason', '')}"
                         for c in held) or "record_cells_replayed did not run"
        raise ApprovalError(f"the bundle does not replay from the raw export ({said}); release audit --raw lists "
                            "every problem", rule="raw-replay")


def verify_published(folder: Path, rules_dir: Path | None = None) -> dict[str, object]:
    """Check a published copy (on a portal) against its own manifest, hashes and approvals:
    the audit's report, passed or failed (``exit_code`` 8 when anything differs)."""
    from release.governance import verify_copy
    return verify_copy.verify(folder, rules_dir).to_dict()


def _bundle_policy_name(bundle: Path, dataset: str) -> str:
    """The name of the policy a bundle was built with (a manifest that cannot be read: the dataset's;
    the audit reports the manifest itself)."""
    from release.bundle.read import read_manifest
    from release.bundle.trust import bundle_policy_name
    from release.errors import AuditFailure

    try:
        return bundle_policy_name(dataset, read_manifest(bundle, AuditFailure))
    except ReleaseError:
        return dataset


def _bundle_generation(bundle: Path, dataset: str) -> str | None:
    """The record system a bundle was built from, by name (None: a dataset with one schema, or an
    unreadable manifest, which the audit reports)."""
    from release.bundle.read import read_manifest
    from release.datasets import generations
    from release.errors import AuditFailure

    try:
        system = generations.of_manifest(dataset, read_manifest(bundle, AuditFailure))
    except ReleaseError:
        return None
    return system.name if system else None


def _published_roster(bundle: Path, year: int, policy: DatasetPolicy) -> tuple[str, ...]:
    """Officer names as the bundle publishes them: the roster the build kept."""
    from release.bundle.read import read_public_record

    names: set[str] = set()
    for file_policy in policy.files.values():
        columns = [c for c, r in file_policy.columns.items() if r.type == "officer" and r.roster]
        frame = read_public_record(bundle / "public", file_policy.public_file.format(year=year),
                                   policy.publish.csv_row_limit) if columns else None
        if frame is not None:
            names.update(v for c in columns if c in frame.columns for v in frame[c] if v)
    return tuple(sorted(names))


def audit_release(dataset: str, year: int, out_dir: Path, raw_dir: Path | None = None,
                  rules_dir: Path | None = None, scan: bool = True, ledger: Path | None = None,
                  allow_unverified: bool = False, version: int | None = None,
                  progress: Progress | None = None, generation: str | None = None,
                  execution: Execution | None = None) -> dict[str, object]:
    """Independent checks of a bundle, as one report whether it passes or fails: ``exit_code``
    8 when any check fails (the approvals its policy requires, signed by trusted signers,
    included) or did not run. A bundle that is not there is an InputError (exit 4).
    ``execution``: where the residual-PII scan runs (``--jobs``, ``--engine``)."""
    with contextlib.ExitStack() as stack:  # the scan's PII workers, stopped when the audit ends
        return _audit(dataset, year, out_dir, raw_dir, rules_dir, scan, ledger, allow_unverified, version,
                      progress, generation, execution or Execution(), stack)


def _audit(dataset: str, year: int, out_dir: Path, raw_dir: Path | None, rules_dir: Path | None, scan: bool,
           ledger: Path | None, allow_unverified: bool, version: int | None, progress: Progress | None,
           generation: str | None, execution: Execution, stack: contextlib.ExitStack) -> dict[str, object]:
    from release.audit import run as audit
    from release.keys.hmac import existing_key

    progress = progress or Silent()
    bundle = existing_bundle(dataset, year, out_dir, version, generation)
    system = _bundle_generation(bundle, dataset)  # of a split year: tables of this record system's part only
    rules = paths.chosen_dir("redaction_rules", rules_dir)[0]
    try:  # the policy the bundle names (its generation's, for a dataset with several)
        policy: DatasetPolicy | None = load_policy(rules / f"{_bundle_policy_name(bundle, dataset)}.yaml")
    except ReleaseError:
        policy = None  # the audit's own policy check reports why, with the other checks
    scanner = None
    if scan and policy is not None:
        from release.execution.workers import open_engine
        from release.pii.engine import EngineSettings
        narrative = policy.narrative
        if narrative is not None:
            with progress.stage("load PII model"):
                engine = stack.enter_context(open_engine(EngineSettings(
                    rules_dir=rules / narrative.rules_dir, officers=_published_roster(bundle, year, policy),
                    officer_policy=narrative.officer_policy, threshold=narrative.threshold), execution))
            scanner = _scanner(engine, narrative.second_scan_threshold, progress)
    tables_policy = (tables_api.load_tables_policy(rules / policy.tables_file)
                     if policy is not None and policy.tables_file else None)
    specs = list(tables_policy.tables) if tables_policy is not None else []
    thresholds = {s.name: s.suppression_rules.threshold for s in specs if s.mechanism == "exact"}
    noisy = frozenset(s.name for s in specs if s.is_noisy)
    report = audit.audit(
        dataset, year, out_dir, raw_dir, existing_key(), rules_dir=rules, scan=scanner,
        suppression_audit=_suppression_check(dataset, year, out_dir, tables_policy, policy, system)
        if thresholds else _no_exact_tables,
        ledger_check=_ledger_check(dataset, out_dir, ledger, rules, noisy) if noisy else None,
        thresholds=thresholds, require_approval=True, allow_unverified=allow_unverified, version=version,
        progress=progress, generation=generation, trusted_check=_trusted_check(rules))
    return report.to_dict()


def _trusted_check(rules: Path) -> CheckFn:
    """The bundle as the trusted rules declare it, noisy or not (``release.audit.trusted_release``, round 22)."""
    def check(bundle: Path, manifest: Mapping[str, object]) -> tuple[bool, dict[str, object], list[str]]:
        from release.audit.trusted_release import release_problems

        problems = release_problems(rules, manifest, bundle / "public", bundle.name)
        return not problems, {}, problems
    return check


def _scanner(engine: PiiEngine, threshold: float, progress: Progress) -> Scanner:
    """The residual-PII scan of the public texts, advanced per text (the audit's longest step): the check
    hands it each free-text column's distinct texts (``release.pii.residual.residual_hits``)."""
    def scan(texts: list[str], placeholders: list[tuple[Span, ...]]) -> list[list[Detection]]:
        with progress.stage("audit: residual PII scan", total=len(texts)) as advance:
            return engine.scan_many(texts, threshold=threshold, placeholders=placeholders, progress=advance)
    return scan


def _no_exact_tables(bundle: Path, manifest: object) -> tuple[bool, dict[str, object], list[str]]:
    """The policy declares no table an attacker could solve: nothing to audit."""
    return True, {"exact_tables": 0}, []


def _suppression_check(dataset: str, year: int, out_dir: Path, tables: tables_api.TablesPolicy | None,
                       policy: DatasetPolicy | None, generation: str | None = None) -> CheckFn:
    """The LP audit over this bundle's tables and every earlier year's (noisy ones as intervals),
    with each year's public record-level files recounted as known equations."""
    from release.stages.suppress import audit_suppression

    def check(bundle: Path, manifest: object) -> tuple[bool, dict[str, object], list[str]]:
        specs = list(tables.tables) if tables is not None else []
        published = tables_api.published_tables(out_dir, dataset, specs, through=year, generation=generation)
        if tables is not None and policy is not None:
            files = {n: fp.public_file for n, fp in policy.files.items() if fp.publish}
            published += tables_api.published_microdata(out_dir, dataset, tables, files, through=year,
                                                        generation=generation)
        findings = audit_suppression(published)
        problems = [f"{f.file or ''} {f.message}".strip() for f in findings if f.severity == "blocking"]
        return not problems, {"tables": len(published), "findings": len(findings)}, problems
    return check


def _ledger_check(dataset: str, out_dir: Path, explicit: Path | None, rules: Path,
                  noisy: frozenset[str]) -> CheckFn:
    """The authoritative ledger is intact, holds this and every other bundle's measurements
    (which replay), and no unit passes its cap (``release.audit.ledger``); every charge is on a unit
    the trusted policy declares, and this bundle spends as that policy says (``release.privacy.spend_policy``)."""
    def check(bundle: Path, manifest: Mapping[str, object]) -> tuple[bool, dict[str, object], list[str]]:
        from release.audit.ledger import audit_ledger
        from release.config.privacy import (
            checked_ledger,
            load_privacy_policy,
        )
        from release.keys.hmac import existing_key, ledger_mac
        from release.privacy.ledger_open import existing_ledger

        privacy = manifest_privacy(manifest)
        policy = load_privacy_policy(rules)
        key = existing_key()
        ledger = existing_ledger(rules, explicit, ledger_mac(key) if key else None)
        if ledger is None:  # which tables spend is read from public/ and the policy, not the manifest's claim
            spends = spend_evidence.spends(manifest, spend_evidence.noisy_tables(bundle / "public", noisy))
            return (not spends), {"ledger": str(checked_ledger(rules, explicit))}, \
                (["the privacy ledger is missing"] if spends else [])
        recorded = privacy.get("ledger_id")
        # a ledger is named by its first entry's hash, not by where the file sits (a deployment
        # may move it); a copy carries the same id, but a bundle charged on a copy is not bound
        # on this one, which the bundle checks below report, and a copy extended elsewhere or a
        # rolled-back file differs from what the witness holds
        if recorded and ledger.ledger_id() != recorded:
            return False, {"ledger": str(ledger.path)}, [
                "the bundle spent from another ledger (its ledger_id differs), not the authoritative one"]
        caps = {u: s.cap_rho for u, s in policy.units.items() if dataset in s.datasets}
        detail, problems = audit_ledger(ledger, out_dir, caps, {dataset: noisy}, policy, rules)
        if spend_evidence.spends(manifest, spend_evidence.noisy_tables(bundle / "public", noisy)):
            # attack 4u-unit: this bundle's spends as the trusted policy declares them (unit, mechanism, rho)
            problems += [f"{dataset} {bundle.name}: {p}" for p in spend_policy.release_problems(
                dataset, rules, manifest, bundle / "public", policy, ledger.entries())]
            # round 23, exact-rebind: the published cells are the post-processing of the stored draws
            problems += [f"{dataset} {bundle.name}: {p}" for p in table_replay.replay_problems(
                rules, manifest, bundle / "public", ledger.stored_records())]
        return not problems, detail, problems
    return check
