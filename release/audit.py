"""Independent audit of a bundle: is what is published what was approved, and is it safe?

Every check re-derives its answer from the files, never from the bundle's own claims:
outputs are re-hashed, the log chain re-walked, signatures re-verified, the public files
re-scanned, cell sizes re-counted, and — given the raw export and the HMAC key — the raw
values searched for in the public files and the log's tokens recomputed. Each check
reports counts and locations (file, column, row key, line), never a value. A check whose
input is missing (no raw folder, no key, no injected scanner) is reported as "not run",
never silently passed; any failed check makes ``audit_or_raise`` exit 8.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from release import paths
from release.approvals import check_approvals
from release.config import DatasetPolicy, load_policy
from release.errors import AuditFailure, ReleaseError
from release.gate import (approvals_required, bundle_dir, manifest_sha256, read_manifest, read_public_csv,
                          verify_outputs)
from release.keys import Tokenizer
from release.log import verify_log
from release.stages import leakcheck
from release.stages.load import ROW_KEY, Loaded, load_export
from release.stages.load import row_keys  # the one definition of a row key
from release.stages.publish import LOG, sha256_file

Status = Literal["pass", "fail", "not run"]
MAX_PROBLEMS = 50
DEFAULT_MIN_CELL_SIZE = 11
TABLES_DIR = "public/tables/"
# (bundle, manifest) -> (ok, counts, problems naming file/column/row key)
CheckFn = Callable[[Path, Mapping[str, object]], tuple[bool, Mapping[str, object], Sequence[str]]]
Scanner = Callable[[list[str]], list[list[object]]]


@dataclass(frozen=True)
class AuditCheck:
    name: str
    status: Status
    detail: Mapping[str, object] = field(default_factory=dict)   # counts and names only
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status != "fail"

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "status": self.status, "ok": self.ok, "detail": dict(self.detail),
                "problems": list(self.problems[:MAX_PROBLEMS]), "problem_count": len(self.problems)}


def _check(name: str, problems: Sequence[str], detail: Mapping[str, object]) -> AuditCheck:
    return AuditCheck(name, "fail" if problems else "pass", detail, tuple(problems))


def _not_run(name: str, reason: str) -> AuditCheck:
    return AuditCheck(name, "not run", {"reason": reason})


@dataclass(frozen=True)
class AuditReport:
    dataset: str
    year: int
    bundle: str
    manifest_sha256: str
    checks: tuple[AuditCheck, ...]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def to_dict(self) -> dict[str, object]:
        return {"dataset": self.dataset, "year": self.year, "bundle": self.bundle, "ok": self.ok,
                "manifest_sha256": self.manifest_sha256, "failed": self.failed,
                "checks": [c.to_dict() for c in self.checks]}


# ---- bundle-only checks ----------------------------------------------------------------

def check_outputs(bundle: Path, manifest: dict[str, object]) -> AuditCheck:
    integrity = verify_outputs(bundle, manifest)
    return _check("outputs_match_manifest", [] if integrity.ok else integrity.problems(), {
        "outputs": integrity.checked, "changed": len(integrity.changed), "missing": len(integrity.missing),
        "unlisted_in_public": len(integrity.unlisted)})


def check_log(bundle: Path, manifest: dict[str, object], tokenizer: Tokenizer | None) -> AuditCheck:
    path = bundle / LOG
    if not path.is_file():
        return _check("redaction_log", ["redaction_log.jsonl is missing"], {})
    result = verify_log(path.read_text(encoding="utf-8").splitlines(), tokenizer)
    problems = [f"{LOG}: {p}" for p in result.problems]
    recorded = manifest.get("redaction_log")
    if isinstance(recorded, dict):
        if recorded.get("entries") != result.entries:
            problems.append(f"{LOG}: {result.entries} entries, the manifest records {recorded.get('entries')}")
        if recorded.get("head") != result.head:
            problems.append(f"{LOG}: head hash differs from the manifest")
    else:
        problems.append("the manifest records no redaction log summary")
    if tokenizer is not None and manifest.get("hmac_key_id") != tokenizer.key_id:
        problems.append("the HMAC key given is not the release's key (key id differs from the manifest)")
    return _check("redaction_log", problems, {
        "entries": result.entries, "trailer_mac": "checked" if result.trailer_mac_checked else "not checked (no key)"})


def check_signatures(bundle: Path, manifest: dict[str, object], dataset: str, year: int,
                     require_approval: bool) -> AuditCheck:
    checks = check_approvals(bundle, dataset=dataset, year=year, manifest_sha256=manifest_sha256(bundle))
    problems = [f"approvals.jsonl line {c.line} (key {c.key_id[:16] or '?'}): {p}" for c in checks for p in c.problems]
    valid = len({c.key_id for c in checks if c.ok})
    required = approvals_required(manifest)
    if require_approval and valid < required:
        problems.append(f"{valid} valid approval(s) by distinct keys, {required} required")
    return _check("approvals", problems, {"approvals": len(checks), "valid": sum(c.ok for c in checks),
                                          "distinct_valid_keys": valid, "required": required})


def check_table_cells(tables: Mapping[str, pd.DataFrame],
                      thresholds: Mapping[str, float] | None = None) -> AuditCheck:
    """No exact cell from 1 up to its table's threshold is published (``thresholds`` by
    table name, from the policy; else a ``threshold`` column; else the default)."""
    problems: list[str] = []
    exact = 0
    for relpath, frame in sorted(tables.items()):
        if not {"value", "status"} <= set(frame.columns):
            problems.append(f"{relpath}: no value or status column")
            continue
        for number, cells in enumerate(frame.to_dict("records"), start=1):
            if cells.get("status") != "exact":
                continue
            exact += 1
            value = _number(cells.get("value"))
            declared = (thresholds or {}).get(Path(relpath).stem)
            threshold = (declared + 1 if declared is not None else None) or _number(cells.get("threshold")) \
                or DEFAULT_MIN_CELL_SIZE
            if value is not None and 0 < value < threshold:
                problems.append(f"{relpath}, row {number}: exact cell under its threshold")
    return _check("table_cells", problems, {"tables": len(tables), "exact_cells": exact,
                                             "cells_under_threshold": len(problems)})


def _number(value: object) -> float | None:
    try:
        number = float(str(value))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _per_unit(value: object, unit: str) -> float | None:
    return _number(value.get(unit)) if isinstance(value, dict) else _number(value) if value is not None else None


def check_ledger_in_manifest(manifest: Mapping[str, object], tables: Mapping[str, pd.DataFrame]) -> AuditCheck:
    """Without the ledger: the spends the manifest records are sane and within the recorded cap.

    Reads ``privacy.spends`` (ledger ``Spend`` records: privacy_unit, rho, ...), and optionally
    ``privacy.rho_spent`` (this release's total), ``privacy.rho_before`` (spent by earlier
    releases) and ``privacy.rho_cap`` (the cap per privacy unit); the last three may be a
    number or a mapping privacy unit -> number.
    """
    noisy = sum(int((t["status"] == "noisy").sum()) for t in tables.values() if "status" in t.columns)
    privacy = manifest.get("privacy")
    if not isinstance(privacy, dict):
        problems = [f"{noisy} noisy table cell(s) but no privacy section in the manifest"] if noisy else []
        return _check("privacy_ledger", problems, {"privacy_section": "absent", "noisy_cells": noisy})
    problems = []
    spends = [s for s in privacy.get("spends", []) or [] if isinstance(s, dict)]
    totals: dict[str, float] = {}
    for number, spend in enumerate(spends, start=1):
        rho, epsilon = _number(spend.get("rho")), spend.get("epsilon")
        if rho is None or rho < 0 or (epsilon is not None and ((_number(epsilon) or -1.0) < 0)):
            problems.append(f"privacy.spends[{number}]: rho or epsilon is negative or not a number")
            continue
        unit = str(spend.get("privacy_unit", ""))
        totals[unit] = totals.get(unit, 0.0) + rho
    if noisy and not spends:
        problems.append(f"{noisy} noisy table cell(s) but no spend recorded")
    for unit, total in sorted(totals.items()):
        recorded = _per_unit(privacy.get("rho_spent"), unit)
        if recorded is not None and not math.isclose(recorded, total, rel_tol=1e-9, abs_tol=1e-12):
            problems.append(f"privacy unit {unit or '(none)'}: rho_spent differs from the sum of the spends")
        cap = _per_unit(privacy.get("rho_cap"), unit)
        if cap is not None and (_per_unit(privacy.get("rho_before"), unit) or 0.0) + total > cap * (1 + 1e-9):
            problems.append(f"privacy unit {unit or '(none)'}: rho spent so far exceeds the recorded cap")
    return _check("privacy_ledger", problems, {"privacy_section": "present", "spends": len(spends),
                                               "privacy_units": len(totals), "noisy_cells": noisy,
                                               "source": "manifest only"})


def _injected(name: str, function: CheckFn | None, bundle: Path, manifest: dict[str, object]) -> AuditCheck:
    if function is None:
        return _not_run(name, "no checker supplied")
    try:
        ok, detail, problems = function(bundle, manifest)
    except ReleaseError as exc:
        return _check(name, [exc.one_line()], {})
    return AuditCheck(name, "pass" if ok and not problems else "fail", dict(detail),
                      tuple(problems) or (() if ok else ("check failed",)))


# ---- checks that need the policy ---------------------------------------------------------

def _policy(dataset: str, rules_dir: Path | None, manifest: Mapping[str, object]) -> tuple[DatasetPolicy | None, list[str]]:
    folder = rules_dir or paths.default_dir("redaction_rules")[0]
    path = folder / f"{dataset}.yaml"
    try:
        policy = load_policy(path)
    except ReleaseError as exc:
        return None, [exc.one_line()]
    rules = manifest.get("rules")
    recorded = {f.get("path"): f.get("sha256") for f in (rules.get("files") or []) if isinstance(f, dict)} \
        if isinstance(rules, dict) else {}
    if recorded.get(path.name) != sha256_file(path):
        return policy, [f"{path.name}: differs from the rule file recorded in the manifest; "
                        "audit with the archived rules folder (--rules)"]
    return policy, []


def data_frames(policy: DatasetPolicy, year: int, public: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Public data files by policy file name, with ``_row_key`` rebuilt as load builds it."""
    frames = {}
    for name, file_policy in policy.files.items():
        frame = public.get(f"public/{file_policy.public_file.format(year=year)}")
        if frame is not None and file_policy.key_column in frame.columns:
            frame = frame.copy()
            frame[ROW_KEY] = row_keys(frame, file_policy)
            frames[name] = frame
    return frames


def check_columns(policy: DatasetPolicy, year: int, public: Mapping[str, pd.DataFrame],
                  policy_problems: list[str], manifest: Mapping[str, object] | None = None) -> AuditCheck:
    """Record-level files: the policy's allow-list. Files a dataset module derives (daily
    counts, official tables): the columns the signed manifest lists for them."""
    expected: dict[str, set[str]] = {f"public/{fp.public_file.format(year=year)}": set(fp.public_columns())
                                     for fp in policy.files.values() if fp.publish}
    for item in (manifest or {}).get("derived_files", []) or []:  # type: ignore[union-attr]
        if isinstance(item, dict) and isinstance(item.get("path"), str):
            expected[item["path"]] = {str(c) for c in item.get("columns", [])}
    problems = list(policy_problems)
    for relpath in sorted(public):
        if relpath.startswith(TABLES_DIR):
            continue
        if relpath not in expected:
            problems.append(f"{relpath}: a data file the policy does not name")
            continue
        allowed = expected[relpath]
        problems += [f"{relpath}, column {c}: not on the policy's allow-list" for c in public[relpath].columns
                     if c not in allowed]
    problems += [f"{relpath}: named by the policy but not published" for relpath in expected if relpath not in public]
    return _check("public_columns_allowed", problems, {"data_files": len(expected)})


def _kept_spans(bundle: Path | None) -> set[tuple[str, str, int, int]]:
    """Output spans a reviewer ruled "keep" (logged as such): not residual PII."""
    if bundle is None or not (bundle / LOG).is_file():
        return set()
    kept = set()
    for line in (bundle / LOG).read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue  # the log check reports it
        if isinstance(entry, dict) and entry.get("action") == "keep":
            kept.add((str(entry.get("row_key")), str(entry.get("column")),
                      int(entry.get("out_start", -1)), int(entry.get("out_end", -1))))
    return kept


def check_residual_pii(policy: DatasetPolicy, year: int, frames: Mapping[str, pd.DataFrame],
                       scan: Scanner | None, bundle: Path | None = None) -> AuditCheck:
    if scan is None:
        return _not_run("residual_pii", "no PII scanner supplied")
    kept = _kept_spans(bundle)
    problems: list[str] = []
    texts_scanned = 0
    for name, frame in frames.items():
        file_policy = policy.files[name]
        for column, rule in file_policy.columns.items():
            if rule.type != "narrative" or column not in frame.columns:
                continue
            texts = [t if isinstance(t, str) else "" for t in frame[column].tolist()]
            unique = list(dict.fromkeys(texts))
            hits = dict(zip(unique, scan(unique)))
            texts_scanned += len(unique)
            for row_key, text in zip(frame[ROW_KEY], texts):
                for hit in hits.get(text, []):
                    start, end = getattr(hit, "start", -1), getattr(hit, "end", -1)
                    if any(k[0] == row_key and k[1] == column and k[2] < end and start < k[3] for k in kept):
                        continue
                    problems.append(f"{file_policy.public_file.format(year=year)}, row {row_key}, column {column}: "
                                    f"possible {getattr(hit, 'entity_type', 'PII')} at offsets "
                                    f"{getattr(hit, 'start', '?')}-{getattr(hit, 'end', '?')}")
    return _check("residual_pii", problems, {"texts_scanned": texts_scanned, "hits": len(problems)})


# ---- checks that need the raw export ------------------------------------------------------

def _empty_public(file_policy: object) -> pd.DataFrame:
    """The record frame of a raw file whose rows are only counted, never published."""
    link = file_policy.parent.column if file_policy.parent else file_policy.key_column  # type: ignore[attr-defined]
    return pd.DataFrame(columns=list(dict.fromkeys([link, ROW_KEY, *file_policy.public_columns()])))  # type: ignore[attr-defined]


def check_raw_values(policy: DatasetPolicy, frames: Mapping[str, pd.DataFrame], loaded: Loaded,
                     manifest: Mapping[str, object], year: int,
                     public: Mapping[str, pd.DataFrame] | None = None) -> AuditCheck:
    """No raw-only value of any record in any public file: the record files (per record and
    across records) and every other public file (derived counts, tables)."""
    problems: list[str] = []
    inputs = manifest.get("inputs")
    recorded = {f.get("name"): f.get("sha256") for f in (inputs.get("files") or []) if isinstance(f, dict)} \
        if isinstance(inputs, dict) else {}
    problems += [f"raw {i.name}: differs from the input recorded in the manifest"
                 for i in loaded.inputs if recorded.get(i.name) != i.sha256]
    published = {name for name, fp in policy.files.items() if fp.publish}
    if set(frames) != published:
        problems.append("not every public data file could be read with its key column")
        return _check("raw_values_absent", problems, {})
    record_files = {name: frames.get(name, _empty_public(fp)) for name, fp in policy.files.items()}
    record_paths = {f"public/{fp.public_file.format(year=year)}" for fp in policy.files.values()}
    others = {Path(relpath).name: frame for relpath, frame in (public or {}).items() if relpath not in record_paths}
    per_record = leakcheck.find_leaks(loaded.tables.frames, record_files, policy, year)[1]
    leaks = list(dict.fromkeys(per_record + leakcheck.find_global_leaks(
        loaded.tables.frames, record_files, policy, year, others)))
    problems += [f"{leak.file}, row {leak.row_key}, column {leak.column}: {leak.kind} in a public file"
                 for leak in leaks]
    return _check("raw_values_absent", problems, {"leaks": len(leaks), "rows_checked": sum(len(f) for f in frames.values())})


def _token_forms(value: str) -> list[str]:
    forms = [value]
    try:  # the PII engine tokenizes its folded view of the span; accept that form too
        from release.pii.normalize import normalize
        forms.append(normalize(value).text)
    except ImportError:
        pass
    return forms


def check_tokens(policy: DatasetPolicy, loaded: Loaded, bundle: Path, tokenizer: Tokenizer) -> AuditCheck:
    """Recompute each log entry's token from the raw cell (or its span) under the key."""
    by_raw_file = {fp.raw_file: name for name, fp in policy.files.items()}
    indexed = {name: frame.drop_duplicates(ROW_KEY).set_index(ROW_KEY) for name, frame in loaded.tables.frames.items()}
    counts = {"matched": 0, "mismatched": 0, "row_not_found": 0, "not_recomputable": 0}
    problems: list[str] = []
    for line in (bundle / LOG).read_text(encoding="utf-8").splitlines() if (bundle / LOG).is_file() else []:
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(entry, dict) or entry.get("trailer"):
            continue
        name, column, row_key = by_raw_file.get(str(entry.get("file"))), str(entry.get("column")), str(entry.get("row_key"))
        if entry.get("action") == "suppress" or name is None or column not in indexed[name].columns:
            counts["not_recomputable"] += 1  # table cells and columns the policy no longer names
            continue
        where = f"{entry.get('file')}, row {row_key}, column {column}, log seq {entry.get('seq')}"
        value = indexed[name].at[row_key, column] if row_key in indexed[name].index else None
        if not isinstance(value, str):
            counts["row_not_found"] += 1
            problems.append(f"{where}: no raw value at this row key")
            continue
        start, end = entry.get("start"), entry.get("end")
        span = value[start:end] if isinstance(start, int) and isinstance(end, int) and start >= 0 else value
        if entry.get("token") in {tokenizer.token(form) for form in _token_forms(span)}:
            counts["matched"] += 1
        else:
            counts["mismatched"] += 1
            problems.append(f"{where}: token does not match the raw value")
    return _check("log_tokens", problems, counts)


# ---- the audit ------------------------------------------------------------------------

def audit(dataset: str, year: int, out_dir: Path, raw_dir: Path | None = None, hmac_key: bytes | None = None,
          *, rules_dir: Path | None = None, scan: Scanner | None = None,
          suppression_audit: CheckFn | None = None, ledger_check: CheckFn | None = None,
          require_approval: bool = False, thresholds: Mapping[str, float] | None = None) -> AuditReport:
    bundle = bundle_dir(dataset, year, out_dir)
    manifest = read_manifest(bundle, AuditFailure)
    tokenizer = Tokenizer(hmac_key) if hmac_key else None
    public, unreadable = _read_public(bundle)
    tables = {k: v for k, v in public.items() if k.startswith(TABLES_DIR)}
    checks = [check_outputs(bundle, manifest), check_log(bundle, manifest, tokenizer),
              check_signatures(bundle, manifest, dataset, year, require_approval)]
    policy, policy_problems = _policy(dataset, rules_dir, manifest)
    policy_problems += unreadable
    frames = data_frames(policy, year, public) if policy else {}
    if policy is None:
        checks.append(_check("public_columns_allowed", policy_problems, {}))
        checks.append(_not_run("residual_pii", "policy not available"))
    else:
        checks.append(check_columns(policy, year, public, policy_problems, manifest))
        checks.append(check_residual_pii(policy, year, frames, scan, bundle))
    checks.append(check_table_cells(tables, thresholds))
    checks.append(_injected("suppression_audit", suppression_audit, bundle, manifest))
    checks.append(_injected("privacy_ledger", ledger_check, bundle, manifest) if ledger_check
                  else check_ledger_in_manifest(manifest, tables))
    checks += _raw_checks(policy, frames, manifest, bundle, year, raw_dir, tokenizer, public)
    return AuditReport(dataset, year, str(bundle), manifest_sha256(bundle), tuple(checks))


def _read_public(bundle: Path) -> tuple[dict[str, pd.DataFrame], list[str]]:
    public, unreadable = {}, []
    for path in sorted((bundle / "public").rglob("*.csv")):
        relpath = path.relative_to(bundle).as_posix()
        try:
            public[relpath] = read_public_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            unreadable.append(f"{relpath}: not a readable UTF-8 CSV")
    return public, unreadable


def _raw_checks(policy: DatasetPolicy | None, frames: Mapping[str, pd.DataFrame], manifest: Mapping[str, object],
                bundle: Path, year: int, raw_dir: Path | None, tokenizer: Tokenizer | None,
                public: Mapping[str, pd.DataFrame] | None = None) -> list[AuditCheck]:
    if raw_dir is None:
        return [_not_run("raw_values_absent", "no raw folder given"), _not_run("log_tokens", "no raw folder given")]
    if policy is None:
        return [_check("raw_values_absent", ["policy not available"], {}), _not_run("log_tokens", "policy not available")]
    try:
        loaded = load_export(raw_dir, policy, year)
    except ReleaseError as exc:
        return [_check("raw_values_absent", [exc.one_line()], {}), _not_run("log_tokens", "raw export unreadable")]
    checks = [check_raw_values(policy, frames, loaded, manifest, year, public)]
    checks.append(check_tokens(policy, loaded, bundle, tokenizer) if tokenizer
                  else _not_run("log_tokens", "no HMAC key given"))
    return checks


def audit_or_raise(dataset: str, year: int, out_dir: Path, raw_dir: Path | None = None,
                   hmac_key: bytes | None = None, *, rules_dir: Path | None = None, scan: Scanner | None = None,
                   suppression_audit: CheckFn | None = None, ledger_check: CheckFn | None = None,
                   require_approval: bool = False, thresholds: Mapping[str, float] | None = None) -> AuditReport:
    """``audit``, raising ``AuditFailure`` (exit 8) when any check failed."""
    report = audit(dataset, year, out_dir, raw_dir, hmac_key, rules_dir=rules_dir, scan=scan,
                   suppression_audit=suppression_audit, ledger_check=ledger_check,
                   require_approval=require_approval, thresholds=thresholds)
    if not report.ok:
        raise AuditFailure(f"audit failed: {len(report.failed)} check(s) failed: {', '.join(report.failed)}",
                           file=report.bundle, rule="audit", details=[c.to_dict() for c in report.checks])
    return report
