"""Verify a published copy where it is served: ``release verify DIR``.

Anyone can check a folder on a portal without the bundle: its ``manifest.json`` lists every
public file with its SHA-256; each file is re-hashed, a file the manifest does not list is
reported, ``SHA256SUMS`` must agree, and ``approvals.jsonl`` must hold trusted approvals of
that exact manifest meeting the policy's roles (the trusted signers and the policy come from
``--rules`` or the installed copy, and the policy must be the one the manifest records), and
every noisy table it publishes must be matched by a measurement in the manifest
(``release.privacy.spend_evidence``: read from the files and the policy, not from the manifest's claim),
drawn, with the witness service, by the service (its signed draw statement for the ledger, the record
and the charge fields the measurement states), and the copy must hold to the trusted rules as a whole
(``release.audit.trusted_release``). The ledger's head and the charge entries' hashes stay in the bundle
(round 31, R1): the analyst sets them by what they append to the ledger, and ``release audit`` holds
them to it.
The report has the audit's shape; any failure exits 8.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from release.audit.report import AuditCheck, AuditReport, from_problems
from release.bundle.integrity import PUBLIC, listed_outputs
from release.bundle.jsonl import text_lines
from release.bundle.layout import APPROVALS, MANIFEST, METADATA, SUMS, sha256_file
from release.bundle.manifest_recorded import Recorded
from release.bundle.read import manifest_privacy, read_manifest
from release.bundle.trust import approval_status, trust_for
from release.config.datasets import DATASETS
from release.errors import AuditFailure, ConfigError, InputError, ReleaseError
from release.governance.gate import blocking_count
from release.privacy.spend_evidence import declared_noisy, noisy_tables, unpaid


def _files(folder: Path, manifest: dict[str, object]) -> AuditCheck:
    listed = {PurePosixPath(p).relative_to(PUBLIC).as_posix(): item for p, item in listed_outputs(manifest).items()
              if p.startswith(f"{PUBLIC}/")}
    problems: list[str] = []
    for name, item in sorted(listed.items()):
        path = folder / name
        if not path.is_file():
            problems.append(f"{name}: listed in the manifest but missing")
        elif sha256_file(path) != item.get("sha256"):
            problems.append(f"{name}: content differs from the manifest")
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
    problems += [f"{name}: not listed in the manifest" for name in sorted(present - set(listed) - set(METADATA))]
    if not listed:
        problems.append("the manifest lists no public file")
    return from_problems("published_files", problems, {"files": len(listed)})


def _sums(folder: Path) -> AuditCheck:
    path = folder / SUMS
    if not path.is_file():
        return from_problems("sha256sums", [f"{SUMS} is missing"], {})
    problems, checked = [], 0
    for number, line in enumerate(text_lines(path), start=1):
        digest, _, name = line.partition("  ")
        target = folder / name
        if not name or ".." in PurePosixPath(name).parts or not target.is_file():
            problems.append(f"{SUMS} line {number}: names no file of this folder")
        elif sha256_file(target) != digest:
            problems.append(f"{SUMS} line {number}: {name} differs")
        checked += 1
    return from_problems("sha256sums", problems, {"lines": checked})


def _approvals(folder: Path, manifest: dict[str, object], dataset: str, year: int,
               rules_dir: Path | None) -> AuditCheck:
    try:
        trust = trust_for(dataset, rules_dir, manifest, ConfigError)
    except ReleaseError as exc:
        return from_problems("approvals", [f"approvals cannot be judged: {exc.message}"], {})
    status = approval_status(folder / APPROVALS, dataset=dataset, year=year,
                             manifest_sha256=sha256_file(folder / MANIFEST), trust=trust)
    problems = list(status.problems)
    if status.missing():
        problems.append(f"trusted approvals {status.summary()}: the policy's requirement is not met")
    if Recorded.of(manifest).status != "draft" or blocking_count(manifest):
        problems.append("the manifest is not of a publishable bundle (status or blocking findings)")
    return from_problems("approvals", problems, {"approvals": status.summary(),
                                                 "signers": [s.to_dict() for s in status.signed],
                                                 "required": dict(status.required)})


def _charges(folder: Path, manifest: dict[str, object], dataset: str, rules_dir: Path | None) -> AuditCheck:
    """Each noisy table the copy publishes (its files, its privacy.json, the trusted policy's noisy
    tables present) has a measurement in the manifest, spent from the ledger it names and, with the
    witness service, drawn by the service: its signed draw statement for that ledger, that record and
    the measurement's own charge fields. The ledger's head and the charges' hashes are not published
    (round 31, R1: the analyst sets them by what they append to the ledger), so without the ledger
    that is all a reader can check; ``release audit`` checks the charges on it."""
    tables = noisy_tables(folder, declared_noisy(dataset, rules_dir, manifest))
    problems = unpaid(tables, manifest)
    privacy = manifest_privacy(manifest)
    if tables and not privacy.get("ledger_id"):
        problems.append("the manifest names no privacy ledger for its noisy tables")
    if tables:
        problems += _trusted_spends(folder, manifest, dataset, rules_dir)
    detail: dict[str, object] = {"noisy_tables": tables}
    if tables and privacy.get("witness_tier") == "service":
        drawn = _witness_checks(manifest, rules_dir)
        problems += drawn
        detail["witness_draws"] = "do not verify" if drawn else "verified under the pinned key"
    return from_problems("privacy_charges", problems, detail)


def _trusted_spends(folder: Path, manifest: dict[str, object], dataset: str, rules_dir: Path | None) -> list[str]:
    """Each spend the copy states (manifest, privacy.json) is the trusted policy's (attack 4u-unit)."""
    from release.config.privacy import load_privacy_policy
    from release.paths import chosen_dir
    from release.privacy.spend_policy import release_problems

    rules = chosen_dir("redaction_rules", rules_dir)[0]
    try:
        policy = load_privacy_policy(rules)
    except ReleaseError as exc:
        return [f"the spends cannot be checked against the trusted policy: {exc.message}"]
    return release_problems(dataset, rules, manifest, folder, policy, ())


def _trusted(folder: Path, manifest: dict[str, object], rules_dir: Path | None) -> AuditCheck:
    """The copy as the trusted rules declare it: generation, tables, measurements, statement and
    coarsening (``release.audit.trusted_release``, round 22)."""
    from release.audit.trusted_release import release_problems
    from release.paths import chosen_dir

    problems = release_problems(chosen_dir("redaction_rules", rules_dir)[0], manifest, folder, folder.name)
    return from_problems("trusted_policy", problems, {})


def _witness_checks(manifest: Mapping[str, Any], rules_dir: Path | None) -> list[str]:
    """The witness service's draw statement for each measurement under the key the rules pin (offline):
    for the ledger the manifest names, the measurement's record and the charge fields the measurement
    states (``charge_fields``). Nothing in a draw statement depends on other ledger entries."""
    from release.config.privacy import WitnessService, load_privacy_policy
    from release.paths import chosen_dir
    from release.witness.client import draw_problems

    privacy = manifest_privacy(manifest)
    try:
        pinned = load_privacy_policy(chosen_dir("redaction_rules", rules_dir)[0]).witness
    except ReleaseError as exc:
        return [f"the witness's draw statements cannot be checked: {exc.message}"]
    if not isinstance(pinned, WitnessService):
        return ["the release was witnessed by a witness service, but the rules pin none to check its draw statements "
                "under"]
    problems: list[str] = []
    for number, record in enumerate([m for m in privacy.get("measurements") or [] if isinstance(m, dict)], start=1):
        problems += [f"measurement {number} ({record.get('table')}): {p}" for p in draw_problems(
            record.get("witness_draw"), pinned.public_key, privacy.get("ledger_id"), record.get("measurement_sha256"),
            charge_fields(record))]
    return problems


def charge_fields(measurement: Mapping[str, Any]) -> dict[str, Any]:
    """The charge fields a draw statement signs (``witness_protocol.SIGNED_CHARGE``), as a published
    measurement states them: its dataset, release and data year, table, unit, mechanism and rho (and a
    Laplace draw's epsilon, from its declared budget)."""
    mechanism = measurement.get("mechanism")
    return {"unit": measurement.get("privacy_unit"), "dataset": measurement.get("dataset"),
            "table": measurement.get("table"), "data_year": measurement.get("data_year"),
            "release_year": measurement.get("year"), "mechanism": mechanism, "rho": measurement.get("rho"),
            "epsilon": measurement.get("declared_budget") if mechanism == "discrete_laplace" else None}


def verify(folder: Path, rules_dir: Path | None = None) -> AuditReport:
    """The copy's checks in the audit's report shape; a folder that is not there is an
    InputError (exit 4), one whose manifest cannot be read a report that fails."""
    if not folder.is_dir():
        raise InputError("no such folder: nothing to verify", file=str(folder), rule="verify")
    sha256 = sha256_file(folder / MANIFEST) if (folder / MANIFEST).is_file() else ""
    try:
        manifest = read_manifest(folder, AuditFailure)
        dataset, year = manifest.dataset, manifest.year
        if dataset is None or dataset not in DATASETS or year is None:
            raise AuditFailure("the manifest names no registered dataset and year", file=str(folder / MANIFEST),
                               rule="manifest")
    except AuditFailure as exc:
        return AuditReport(None, None, str(folder), sha256, (from_problems("manifest", [exc.one_line()], {}),),
                           subject="verify")
    checks = (_files(folder, manifest), _sums(folder), _approvals(folder, manifest, dataset, year, rules_dir),
              _charges(folder, manifest, dataset, rules_dir), _trusted(folder, manifest, rules_dir))
    return AuditReport(dataset, year, str(folder), sha256, checks, subject="verify")


def verify_or_raise(folder: Path, rules_dir: Path | None = None) -> AuditReport:
    report = verify(folder, rules_dir)
    failure = report.failure()
    if failure is not None:
        raise failure
    return report
