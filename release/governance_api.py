"""After the build: listing, review, decisions, approval, publication and audit.

Owns the thin entry points the CLI reaches through ``release.api`` for a bundle that
already exists, and the wiring ``audit_release`` hands to ``release.audit``: the PII
scanner over the published roster, the suppression audit across years and the ledger
check. The work itself lives in ``review``, ``approvals``, ``gate`` and ``audit``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from release import paths
from release import tables as tables_api
from release.budget_run import budget_report
from release.config import DatasetPolicy, load_policy
from release.errors import ReleaseError
from release.stages import publish


def list_releases(out_dir: Path, ledger: Path | None = None) -> dict[str, object]:
    """Every dataset with the years it has bundles for, their status and budget."""
    from release.approvals import check_approvals
    from release.errors import InputError
    from release.gate import approvals_required, read_manifest

    rows = []
    for folder in sorted(out_dir.glob("*/[0-9][0-9][0-9][0-9]")):
        manifest_path = folder / publish.MANIFEST
        if not manifest_path.is_file():
            continue
        manifest = read_manifest(folder, error=InputError)
        digest = publish.sha256_file(manifest_path)
        approvals = len({c.key_id for c in check_approvals(folder, dataset=folder.parent.name,
                                                           year=int(folder.name), manifest_sha256=digest) if c.ok})
        status = ("approved" if approvals >= approvals_required(manifest) else str(manifest.get("status")))
        privacy = manifest.get("privacy") if isinstance(manifest.get("privacy"), dict) else {}
        spent = privacy.get("rho_spent") if isinstance(privacy.get("rho_spent"), dict) else {}
        rows.append({"dataset": folder.parent.name, "year": int(folder.name), "status": status,
                     "approvals": approvals, "created_at": manifest.get("created_at"),
                     "rho_spent": sum(v for v in spent.values() if isinstance(v, (int, float)))})
    budgets = {}
    for dataset in sorted({r["dataset"] for r in rows}):
        report = budget_report(dataset, out_dir, ledger)
        budgets[dataset] = report.get("units", [])
    return {"releases": rows, "budgets": budgets}


def review_release(dataset: str, year: int, out_dir: Path, open_browser: bool = False) -> dict[str, object]:
    from release import review
    return review.review(dataset, year, out_dir, open_browser=open_browser)


def record_decision(dataset: str, year: int, out_dir: Path, log_id: str, decision: str, reviewer: str,
                    note: str = "") -> dict[str, object]:
    from release import approvals
    return approvals.record_decision(dataset, year, out_dir, log_id, decision, reviewer, note)


def record_finding_decision(dataset: str, year: int, out_dir: Path, finding_id: str, decision: str,
                            reviewer: str, note: str = "") -> dict[str, object]:
    from release import approvals
    return approvals.record_finding_decision(dataset, year, out_dir, finding_id, decision, reviewer, note)


def keygen(path: Path) -> dict[str, object]:
    from release import approvals
    return dict(approvals.keygen(path))


def approve_release(dataset: str, year: int, out_dir: Path, reviewer: str, key_path: Path,
                    note: str = "") -> dict[str, object]:
    from release import gate
    return gate.approve(dataset, year, out_dir, reviewer, key_path, note)


def publish_release(dataset: str, year: int, out_dir: Path, to_dir: Path,
                    ledger: Path | None = None) -> dict[str, object]:
    """Publish, marking the spend published on the ledger (``ledger.ledger_file`` says which)."""
    from release import gate
    return gate.publish(dataset, year, out_dir, to_dir, ledger)


def _published_roster(dataset: str, year: int, out_dir: Path, policy: DatasetPolicy) -> tuple[str, ...]:
    """Officer names as the bundle publishes them: the roster the build kept."""
    from release.gate import read_public_csv

    names: set[str] = set()
    for file_policy in policy.files.values():
        path = out_dir / dataset / str(year) / "public" / file_policy.public_file.format(year=year)
        columns = [c for c, r in file_policy.columns.items() if r.type == "officer" and r.roster]
        if columns and path.is_file():
            frame = read_public_csv(path)
            names.update(v for c in columns if c in frame.columns for v in frame[c] if v)
    return tuple(sorted(names))


def audit_release(dataset: str, year: int, out_dir: Path, raw_dir: Path | None = None,
                  rules_dir: Path | None = None, scan: bool = True, ledger: Path | None = None) -> dict[str, object]:
    """Independent checks of a bundle; raises AuditFailure (exit 8) when any fails."""
    from release import audit
    from release.keys import existing_key

    rules = rules_dir or paths.default_dir("redaction_rules")[0]
    try:
        policy: DatasetPolicy | None = load_policy(rules / f"{dataset}.yaml")
    except ReleaseError:
        policy = None  # the audit's own policy check reports why, with the other checks
    scanner = None
    if scan and policy is not None:
        from release.pii.engine import EngineSettings, PiiEngine
        narrative = policy.narrative
        if narrative is not None:
            engine = PiiEngine(EngineSettings(rules_dir=rules / narrative.rules_dir,
                                              officers=_published_roster(dataset, year, out_dir, policy),
                                              officer_policy=narrative.officer_policy,
                                              threshold=narrative.threshold))
            threshold = narrative.second_scan_threshold
            scanner = lambda texts, placeholders: engine.scan_many(  # noqa: E731
                texts, threshold=threshold, placeholders=placeholders)
    tables_policy = (tables_api.load_tables_policy(rules / policy.tables_file)
                     if policy is not None and policy.tables_file else None)
    specs = list(tables_policy.tables) if tables_policy is not None else []
    thresholds = {s.name: s.suppression_rules.threshold for s in specs if s.mechanism == "exact"}
    report = audit.audit_or_raise(
        dataset, year, out_dir, raw_dir, existing_key(), rules_dir=rules, scan=scanner,
        suppression_audit=_suppression_check(dataset, year, out_dir, tables_policy, policy) if thresholds else None,
        ledger_check=_ledger_check(dataset, out_dir, ledger, rules) if any(s.is_noisy for s in specs) else None,
        thresholds=thresholds)
    return report.to_dict()


def _suppression_check(dataset: str, year: int, out_dir: Path, tables: tables_api.TablesPolicy | None,
                       policy: DatasetPolicy | None) -> Callable[..., tuple]:
    """The LP audit over this bundle's tables and every earlier year's (noisy ones as intervals),
    with each year's public record-level files recounted as known equations."""
    from release.stages.suppress import audit_suppression

    def check(bundle: Path, manifest: object) -> tuple[bool, dict[str, object], list[str]]:
        specs = list(tables.tables) if tables is not None else []
        published = tables_api.published_tables(out_dir, dataset, specs, through=year)
        if tables is not None and policy is not None:
            files = {n: fp.public_file for n, fp in policy.files.items() if fp.publish}
            published += tables_api.published_microdata(out_dir, dataset, tables, files, through=year)
        findings = audit_suppression(published)
        problems = [f"{f.file or ''} {f.message}".strip() for f in findings if f.severity == "blocking"]
        return not problems, {"tables": len(published), "findings": len(findings)}, problems
    return check


def _ledger_check(dataset: str, out_dir: Path, explicit: Path | None, rules: Path) -> Callable[..., tuple]:
    """The authoritative ledger is intact, holds this and every other bundle's measurements
    (which replay), and no unit passes its cap (``release.ledger_audit``)."""
    def check(bundle: Path, manifest: dict) -> tuple[bool, dict[str, object], list[str]]:
        from release.keys import Tokenizer, existing_key
        from release.ledger_audit import audit_ledger
        from release.privacy_policy import checked_ledger, load_privacy_policy

        privacy = manifest.get("privacy") if isinstance(manifest.get("privacy"), dict) else {}
        policy = load_privacy_policy(rules)
        path = checked_ledger(rules, explicit)
        if not path.is_file():
            return (not privacy.get("spends")), {"ledger": str(path)}, \
                (["the privacy ledger is missing"] if privacy.get("spends") else [])
        if privacy.get("ledger_id") and privacy.get("ledger") and str(path) != str(privacy.get("ledger")):
            return False, {"ledger": str(path)}, [f"the bundle spent from another ledger ({privacy.get('ledger')}), "
                                                  "not the authoritative one"]
        key = existing_key()
        caps = {u: s.cap_rho for u, s in policy.units.items() if dataset in s.datasets}
        detail, problems = audit_ledger(path, out_dir, Tokenizer(key).mac if key else None, caps)
        return not problems, detail, problems
    return check
