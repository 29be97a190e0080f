"""Independent audit of a bundle: is what is published what was approved, and is it safe?

Every check re-derives its answer from the files, never from the bundle's own claims:
outputs are re-hashed, the log chain re-walked, signatures re-verified, the public files
re-scanned, cell sizes re-counted, and — given the raw export and the HMAC key — the raw
values searched for in the public files, the log's tokens recomputed and each noisy
measurement's counts recounted against the witness's commitment. Each check
reports counts and locations (file, column, row key, line), never a value. A check whose
input is missing (no raw folder, no key, no injected scanner) is reported as "not run",
never silently passed; any failed check, and any check that did not run unless the auditor
allowed it (``allow_unverified``), makes ``audit_or_raise`` exit 8.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from release.audit.checks import (
    DEFAULT_MIN_CELL_SIZE,
    TABLES_DIR,
    check_columns,
    check_ledger_in_manifest,
    check_log,
    check_outputs,
    check_residual_pii,
    check_signatures,
    check_table_cells,
    check_trailer_mac,
    data_frames,
    logged_reports,
    source_keys,
)
from release.audit.engine_replay import check_engine_as_built
from release.audit.raw import check_raw_values, check_tokens, raw_checks
from release.audit.report import MAX_PROBLEMS, AuditCheck, AuditReport, CheckFn, Scanner, Status, from_problems, not_run
from release.build.options import Progress, Silent
from release.bundle.layout import MANIFEST, sha256_file
from release.bundle.manifest_recorded import Recorded
from release.bundle.places import bundle_dir
from release.bundle.read import manifest_sha256, read_manifest, read_public_csv, read_public_record
from release.bundle.trust import bundle_policy
from release.config.policy import DatasetPolicy
from release.errors import AuditFailure, InputError, ReleaseError
from release.keys.hmac import ReleaseKeys, keys_for_manifest
from release.paths import chosen_dir

__all__ = ["DEFAULT_MIN_CELL_SIZE", "MAX_PROBLEMS", "TABLES_DIR", "AuditCheck", "AuditReport", "CheckFn",
           "Scanner", "Status", "audit", "audit_or_raise", "check_columns", "check_ledger_in_manifest",
           "check_log", "check_outputs", "check_raw_values", "check_residual_pii", "check_signatures",
           "check_table_cells", "check_tokens", "check_trailer_mac", "data_frames"]


# ---- the audit ------------------------------------------------------------------------

def audit(dataset: str, year: int, out_dir: Path, raw_dir: Path | None = None, hmac_key: bytes | None = None,
          *, rules_dir: Path | None = None, scan: Scanner | None = None,
          suppression_audit: CheckFn | None = None, ledger_check: CheckFn | None = None,
          require_approval: bool = False, thresholds: Mapping[str, float] | None = None,
          allow_unverified: bool = False, version: int | None = None,
          progress: Progress | None = None, generation: str | None = None,
          trusted_check: CheckFn | None = None) -> AuditReport:
    """Every check, in one report (``progress`` shows the long ones: a scanner reports its own);
    ``trusted_check``: the release held to the trusted rules as a whole (``release.audit.trusted_release``)."""
    progress = progress or Silent()
    bundle = bundle_dir(dataset, year, out_dir, version, generation)
    try:
        manifest = read_manifest(bundle, AuditFailure)
    except AuditFailure as exc:  # nothing else can be checked: a report all the same, not an error
        return AuditReport(dataset, year, str(bundle), _sha256_or_empty(bundle / MANIFEST),
                           (from_problems("manifest", [exc.one_line()], {}),), allow_unverified)
    with progress.stage("audit: hashes, log, approvals, columns"):
        keys, key_problem = _release_keys(hmac_key, manifest)
        policy, policy_problems = bundle_policy(dataset, rules_dir, manifest)
        public, unreadable = _read_public(bundle, policy, year)
        tables = {k: v for k, v in public.items() if k.startswith(TABLES_DIR)}
        checks = [check_outputs(bundle, manifest, (dataset, year)), check_log(bundle, manifest),
                  check_trailer_mac(bundle, manifest, keys, key_problem),
                  check_signatures(bundle, dataset, year, policy, policy_problems,
                                   chosen_dir("redaction_rules", rules_dir)[0], require_approval)]
        policy_problems = policy_problems + unreadable
        # public report keys are pseudonyms: back to the source's numbers the log names, under the key
        frames = data_frames(policy, year, public, source_keys(policy, dataset, keys.tokens if keys else None,
                                                               logged_reports(bundle))) if policy else {}
        if policy is None:
            checks.append(from_problems("public_columns_allowed", policy_problems, {}))
        else:
            checks.append(check_columns(policy, year, public, policy_problems, manifest))
    checks.append(check_residual_pii(policy, year, frames, scan, bundle) if policy is not None
                  else not_run("residual_pii", "policy not available"))
    checks.append(check_engine_as_built(policy, manifest, chosen_dir("redaction_rules", rules_dir)[0]))
    with progress.stage("audit: table cells, suppression, privacy ledger"):
        checks.append(check_table_cells(tables, {**_summaries(manifest), **(thresholds or {})}))
        checks.append(_injected("suppression_audit", suppression_audit, bundle, manifest))
        checks.append(_injected("privacy_ledger", ledger_check, bundle, manifest) if ledger_check
                      else check_ledger_in_manifest(manifest, tables))
        ledger = checks[-1].detail
        if trusted_check is not None:
            checks.append(_injected("trusted_policy", trusted_check, bundle, manifest))
        if ledger.get("keyed") == "not checked (no key)":  # a re-chained ledger passes without it
            checks.append(not_run("privacy_ledger_mac", "no HMAC key: the ledger entries' MACs were not checked"))
        if ledger.get("witness") in ("none", "not anchored yet"):  # a rolled-back ledger passes without it
            checks.append(not_run("privacy_ledger_witness", f"the ledger's witness: {ledger['witness']}; a ledger "
                                  "rolled back or replaced cannot be told from the authoritative one"))
        if raw_dir is None and policy is not None:  # with the raw export, the replay checks the same
            from release.audit.record_replay import check_decisions
            checks.append(check_decisions(policy, manifest, bundle, chosen_dir("redaction_rules", rules_dir)[0]))
    with progress.stage("audit: raw values and log tokens") if raw_dir else contextlib.nullcontext():
        checks += raw_checks(policy, frames, manifest, bundle, year, raw_dir, keys.tokens if keys else None, public,
                             master=hmac_key if keys else None, rules_dir=chosen_dir("redaction_rules", rules_dir)[0])
    return AuditReport(dataset, year, str(bundle), manifest_sha256(bundle), tuple(checks), allow_unverified)


def _sha256_or_empty(path: Path) -> str:
    return sha256_file(path) if path.is_file() else ""


def _release_keys(hmac_key: bytes | None, manifest: dict[str, object]) -> tuple[ReleaseKeys | None, str | None]:
    """The bundle's keys re-derived from the master key, or why they cannot be."""
    if not hmac_key:
        return None, None
    try:
        return keys_for_manifest(hmac_key, manifest), None
    except ReleaseError as exc:
        return None, exc.one_line()


def _summaries(manifest: dict[str, object]) -> dict[str, float]:
    """Summary tables restate a public file: no cell threshold applies to them (their small counts
    are in the record-level file anyway)."""
    return {str(t.get("table")): 0.0 for t in Recorded.of(manifest).table_claims if t.get("mechanism") == "summary"}


def _read_public(bundle: Path, policy: DatasetPolicy | None, year: int) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Every public CSV by its path in the bundle; a record file of the policy read whole, under its own
    path, its CSV parts joined as the policy's row limit lays them out (``gate.read_public_record``), and
    not again part by part."""
    from release.bundle import record_parts

    public, unreadable = {}, []
    records = {fp.public_file.format(year=year) for fp in policy.files.values()} if policy is not None else set()
    limit = policy.publish.csv_row_limit if policy is not None else None
    parts = {part for name in records for part in record_parts.part_names(bundle / "public", name)}
    for name in sorted(records):
        try:
            frame = read_public_record(bundle / "public", name, limit)
        except InputError as exc:
            unreadable.append(f"public/{exc.file}: {exc.message} (rule {exc.rule})" if exc.rule == record_parts.RULE
                              else f"public/{name}: not a readable UTF-8 CSV")
            continue
        except OSError:
            unreadable.append(f"public/{name}: not a readable UTF-8 CSV")
            continue
        if frame is not None:
            public[f"public/{name}"] = frame
    for path in sorted((bundle / "public").rglob("*.csv")):
        relpath = path.relative_to(bundle).as_posix()
        inside = relpath.removeprefix("public/")
        if path.is_file() and (inside in records or inside in parts):  # read whole above
            continue
        if not path.is_file():  # a folder named like a table (round 35, L1): nothing the build writes
            unreadable.append(f"{relpath}: not a readable UTF-8 CSV")
            continue
        try:
            public[relpath] = read_public_csv(path)
        except (InputError, OSError):
            unreadable.append(f"{relpath}: not a readable UTF-8 CSV")
    return public, unreadable


def _injected(name: str, function: CheckFn | None, bundle: Path, manifest: dict[str, object]) -> AuditCheck:
    if function is None:
        return not_run(name, "no checker supplied")
    try:
        ok, detail, problems = function(bundle, manifest)
    except ReleaseError as exc:
        return from_problems(name, [exc.one_line()], {})
    return AuditCheck(name, "pass" if ok and not problems else "fail", dict(detail),
                      tuple(problems) or (() if ok else ("check failed",)))


def audit_or_raise(dataset: str, year: int, out_dir: Path, raw_dir: Path | None = None,
                   hmac_key: bytes | None = None, *, rules_dir: Path | None = None, scan: Scanner | None = None,
                   suppression_audit: CheckFn | None = None, ledger_check: CheckFn | None = None,
                   require_approval: bool = False, thresholds: Mapping[str, float] | None = None,
                   allow_unverified: bool = False, version: int | None = None,
                   progress: Progress | None = None, generation: str | None = None) -> AuditReport:
    """``audit``, raising ``AuditFailure`` (exit 8) when any check failed or, unless allowed,
    did not run."""
    report = audit(dataset, year, out_dir, raw_dir, hmac_key, rules_dir=rules_dir, scan=scan,
                   suppression_audit=suppression_audit, ledger_check=ledger_check,
                   require_approval=require_approval, thresholds=thresholds, allow_unverified=allow_unverified,
                   version=version, progress=progress, generation=generation)
    failure = report.failure()
    if failure is not None:
        raise failure
    return report
