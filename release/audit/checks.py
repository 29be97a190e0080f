"""Audit checks that need only the bundle, or the bundle and the dataset's policy.

Bundle only: outputs re-hashed against the manifest, the redaction log chain re-walked,
exact table cells re-counted against their thresholds and the manifest's privacy spends
re-added. With the HMAC key: the log's trailer MAC. With the policy (read from the rules
folder and matched against the manifest's hash, ``release.bundle.trust.bundle_policy``): approval
signatures checked against the trusted signers and the policy's required roles, published
columns against the allow-list and narratives re-scanned for residual PII. Each returns one ``AuditCheck`` of counts and
locations, never a value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from release.audit.report import AuditCheck, Scanner, from_problems, not_run
from release.bundle import manifest_parts
from release.bundle.integrity import verify_outputs
from release.bundle.jsonl import text_lines
from release.bundle.layout import APPROVALS, LOG
from release.bundle.log import read_entries, read_trailer, trailer_mac_problems, verify_log
from release.bundle.manifest_recorded import Recorded
from release.bundle.read import manifest_sha256
from release.bundle.trust import Trust, approval_status, load_signers
from release.config.policy import FREE_TEXT_TYPES, DatasetPolicy, FilePolicy
from release.errors import ReleaseError
from release.keys.hmac import ReleaseKeys, Tokenizer
from release.model import ROW_KEY, finite_number
from release.pii.residual import ResidualText, residual_hits
from release.stages.juvenile import public_report_key
from release.stages.load import row_keys  # the one definition of a row key

DEFAULT_MIN_CELL_SIZE = 11
TABLES_DIR = "public/tables/"


# ---- bundle-only checks ----------------------------------------------------------------

def check_outputs(bundle: Path, manifest: dict[str, object], expected: tuple[str, int] | None = None) -> AuditCheck:
    """Every output re-hashed; ``expected`` (dataset, year): the manifest must say the same."""
    integrity = verify_outputs(bundle, manifest)
    problems = [] if integrity.ok else integrity.problems()
    if expected is not None and not Recorded.of(manifest).is_for(*expected):
        problems.insert(0, "manifest.json: names another dataset or year than the bundle's folder")
    return from_problems("outputs_match_manifest", problems, {
        "outputs": integrity.checked, "changed": len(integrity.changed), "missing": len(integrity.missing),
        "unlisted_in_public": len(integrity.unlisted)})


def check_log(bundle: Path, manifest: dict[str, object]) -> AuditCheck:
    """The chain, order and count of the log, and its summary in the manifest (no key needed)."""
    path = bundle / LOG
    if not path.is_file():
        return from_problems("redaction_log", ["redaction_log.jsonl is missing"], {})
    result = verify_log(text_lines(path))
    problems = [f"{LOG}: {p}" for p in result.chain_problems]
    recorded = Recorded.of(manifest).redaction_log
    if recorded is not None:
        if recorded.get("entries") != result.entries:
            problems.append(f"{LOG}: {result.entries} entries, the manifest records {recorded.get('entries')}")
        if recorded.get("head") != result.head:
            problems.append(f"{LOG}: head hash differs from the manifest")
    else:
        problems.append("the manifest records no redaction log summary")
    return from_problems("redaction_log", problems, {"entries": result.entries})


def check_trailer_mac(bundle: Path, manifest: dict[str, object], keys: ReleaseKeys | None,
                      key_problem: str | None = None) -> AuditCheck:
    """The trailer MAC under the release's trailer key: without it, a log with entries removed
    and re-chained cannot be told from the original, so no key means "not run", never a pass."""
    name = "log_trailer_mac"
    path = bundle / LOG
    lines = text_lines(path)
    trailer = _trailer(lines)
    if key_problem:
        return from_problems(name, [key_problem], {})
    if keys is None:
        return not_run(name, "no HMAC key given (RELEASE_HMAC_KEY or RELEASE_HMAC_KEY_FILE)")
    if trailer is None:
        return not_run(name, "the log has no trailer (see redaction_log)")
    problems = [f"{LOG}: {p}" for p in trailer_mac_problems(trailer, keys.trailer)]
    if Recorded.of(manifest).hmac_key_id != keys.key_id:
        problems.append("the HMAC key given is not the release's key (key id differs from the manifest)")
    if keys.legacy and not problems:
        return not_run(name, "log format 1: its trailer MAC used the token key and can be forged from a "
                             "token; rebuild the release for a verifiable log")
    return from_problems(name, problems, {"key_id": keys.key_id, "derivation": "legacy" if keys.legacy
                                          else str(keys.derivation.get("derivation"))})


def _trailer(lines: list[str]) -> dict[str, Any] | None:
    """The log's trailer, when its ``trailer`` key is ``true`` (as ``verify_log`` tells the trailer)."""
    trailer = read_trailer(lines)
    return trailer if trailer is not None and trailer.get("trailer") is True else None


def check_signatures(bundle: Path, dataset: str, year: int, policy: DatasetPolicy | None,
                     policy_problems: list[str], rules_dir: Path, require_approval: bool) -> AuditCheck:
    """Every approval line verified and matched against the trusted signers of the rules
    folder; with ``require_approval``, the policy's roles and counts met by trusted signers."""
    lines = text_lines(bundle / APPROVALS)
    if not require_approval and not any(line.strip() for line in lines):
        return from_problems("approvals", [], {"approvals": 0})
    if policy is None or policy_problems:
        return from_problems("approvals", [f"approvals cannot be judged without the bundle's policy: "
                                           f"{(policy_problems or ['policy not available'])[0]}"], {})
    try:
        trust = Trust(rules_dir, policy.approvals, load_signers(rules_dir))
    except ReleaseError as exc:
        return from_problems("approvals", [exc.one_line()], {})
    status = approval_status(bundle / APPROVALS, dataset=dataset, year=year,
                             manifest_sha256=manifest_sha256(bundle), trust=trust,
                             private_sha256=manifest_parts.private_sha256(bundle), sealed=True)
    problems = list(status.problems)
    if require_approval and status.missing():
        problems.append(f"trusted approvals {status.summary()}: the policy's requirement is not met"
                        + ("" if trust.signers.by_key_id else f" ({trust.signers.path} lists no trusted signer)"))
    return from_problems("approvals", problems, {
        "approvals": status.summary(), "signers": [s.to_dict() for s in status.signed],
        "required": dict(status.required), "counted": status.counted(), "trusted_signers": str(trust.signers.path)})


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
            value = finite_number(cells.get("value"))
            declared = (thresholds or {}).get(Path(relpath).stem)
            threshold = (declared + 1 if declared is not None else None) or finite_number(cells.get("threshold")) \
                or DEFAULT_MIN_CELL_SIZE
            if value is not None and 0 < value < threshold:
                problems.append(f"{relpath}, row {number}: exact cell under its threshold")
    return from_problems("table_cells", problems, {"tables": len(tables), "exact_cells": exact,
                                                   "cells_under_threshold": len(problems)})


def _per_unit(value: object, unit: str) -> float | None:
    return finite_number(value.get(unit)) if isinstance(value, dict) else finite_number(value) if value is not None else None


def check_ledger_in_manifest(manifest: Mapping[str, object], tables: Mapping[str, pd.DataFrame]) -> AuditCheck:
    """Without the ledger: the spends the manifest records are sane and within the recorded cap.

    Reads ``privacy.spends`` (ledger ``Spend`` records: privacy_unit, rho, ...), and optionally
    ``privacy.rho_spent`` (this release's total), ``privacy.rho_before`` (spent by earlier
    releases) and ``privacy.rho_cap`` (the cap per privacy unit); the last three may be a
    number or a mapping privacy unit -> number.
    """
    noisy = sum(int((t["status"] == "noisy").sum()) for t in tables.values() if "status" in t.columns)
    privacy = Recorded.of(manifest).privacy
    if privacy is None:
        problems = [f"{noisy} noisy table cell(s) but no privacy section in the manifest"] if noisy else []
        return from_problems("privacy_ledger", problems, {"privacy_section": "absent", "noisy_cells": noisy})
    problems = []
    spends = [s for s in privacy.get("spends", []) or [] if isinstance(s, dict)]
    totals: dict[str, float] = {}
    for number, spend in enumerate(spends, start=1):
        rho, epsilon = finite_number(spend.get("rho")), spend.get("epsilon")
        if rho is None or rho < 0 or (epsilon is not None and ((finite_number(epsilon) or -1.0) < 0)):
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
    return from_problems("privacy_ledger", problems, {"privacy_section": "present", "spends": len(spends),
                                                      "privacy_units": len(totals), "noisy_cells": noisy,
                                                      "source": "manifest only"})


# ---- checks that need the policy ---------------------------------------------------------

def log_entries(bundle: Path | None) -> list[dict[str, Any]]:
    """The redaction log's entries and its trailer (a line that is not JSON is the log check's to report)."""
    return read_entries(text_lines(bundle / LOG), trailer=True) if bundle is not None else []


def logged_reports(bundle: Path | None) -> set[str]:
    """The source report numbers the redaction log names (its row keys without ``#n`` or ``/pn``)."""
    return {re.sub(r"(?:#\d+|/p\d+)$", "", entry["row_key"]) for entry in log_entries(bundle)
            if isinstance(entry.get("row_key"), str)}


def source_keys(policy: DatasetPolicy, dataset: str, tokenizer: Tokenizer | None,
                reports: Iterable[str]) -> dict[str, str]:
    """Public pseudonym -> source report number, for the ``reports`` given, recomputed under
    the key (``juvenile.public_report_key``); empty without the key or juvenile protection."""
    if tokenizer is None or policy.juvenile is None or not policy.juvenile.enabled:
        return {}
    return {public_report_key(r, dataset, tokenizer): r for r in reports if isinstance(r, str)}


def with_source_keys(frame: pd.DataFrame, file_policy: FilePolicy, sources: Mapping[str, str]) -> pd.DataFrame:
    """A public frame with its pseudonymous report keys back to the source's numbers (those
    ``sources`` knows) and ``_row_key`` rebuilt as load builds it."""
    frame = frame.copy()
    link = file_policy.link_column
    for column in dict.fromkeys([link, file_policy.key_column]):
        if sources and column in frame.columns:
            frame[column] = frame[column].map(lambda v: sources.get(v, v) if isinstance(v, str) else v)
    frame[ROW_KEY] = row_keys(frame, file_policy)
    return frame


def data_frames(policy: DatasetPolicy, year: int, public: Mapping[str, pd.DataFrame],
                sources: Mapping[str, str] | None = None) -> dict[str, pd.DataFrame]:
    """Public data files by policy file name, with pseudonymous keys mapped back to the source's
    numbers ``sources`` holds (``source_keys``) and ``_row_key`` rebuilt as load builds it."""
    frames = {}
    for name, file_policy in policy.files.items():
        frame = public.get(f"public/{file_policy.public_file.format(year=year)}")
        if frame is not None and file_policy.key_column in frame.columns:
            frames[name] = with_source_keys(frame, file_policy, sources or {})
    return frames


def expected_columns(policy: DatasetPolicy, year: int, manifest: Mapping[str, object] | None = None
                     ) -> dict[str, list[str]]:
    """The header of each published data file outside ``tables/``, by its path in the bundle:
    record-level files, the policy's allow-list in its order (what the build writes); files a
    dataset module derives (daily counts, official tables), the columns the manifest lists."""
    expected: dict[str, list[str]] = {f"public/{fp.public_file.format(year=year)}": list(fp.public_columns())
                                      for fp in policy.files.values() if fp.publish}
    for item in Recorded.of(manifest or {}).derived_files:
        if isinstance(item.get("path"), str):
            expected[item["path"]] = [str(c) for c in item.get("columns", [])]
    return expected


def header_problems(where: str, header: Sequence[str], expected: Sequence[str], rule: str | None = None) -> list[str]:
    """A file's header against the one the build writes: every column named once (a name repeated
    or left empty is a second channel a reader keyed by name may take), none beyond the expected,
    none missing, in the build's order. A column outside the list is named by position unless its
    name is a plain identifier (a header can hold anything)."""
    from release.stages.load_csv import column_label

    allowed, ruled = set(expected), f" (rule {rule})" if rule else ""
    problems = [f"{where}, column {column_label(c, i)}: appears more than once{ruled}"
                for i, c in enumerate(header) if c in header[:i]]
    problems += [f"{where}, column {column_label(c, i)}: "
                 + ("has no name" if not c.strip() else "not on the policy's allow-list") + ruled
                 for i, c in enumerate(header) if c not in allowed and c not in header[:i]]
    problems += [f"{where}, column {c}: on the allow-list but not published{ruled}"
                 for c in expected if c not in header]
    if not problems and list(header) != list(expected):
        problems.append(f"{where}: its columns are not in the order the build writes them{ruled}")
    return problems


def check_columns(policy: DatasetPolicy, year: int, public: Mapping[str, pd.DataFrame],
                  policy_problems: list[str], manifest: Mapping[str, object] | None = None) -> AuditCheck:
    """Record-level files: the policy's allow-list. Files a dataset module derives (daily
    counts, official tables): the columns the signed manifest lists for them."""
    expected = expected_columns(policy, year, manifest)
    problems = list(policy_problems)
    for relpath in sorted(public):
        if relpath.startswith(TABLES_DIR):
            continue
        if relpath not in expected:
            problems.append(f"{relpath}: a data file the policy does not name")
            continue
        problems += header_problems(relpath, [str(c) for c in public[relpath].columns], expected[relpath])
    problems += [f"{relpath}: named by the policy but not published" for relpath in expected if relpath not in public]
    return from_problems("public_columns_allowed", problems, {"data_files": len(expected)})


def _logged_spans(bundle: Path | None, action: str) -> dict[tuple[str, str], list[tuple[int, int]]]:
    """Output spans of the log's ``action`` entries, by row key and column."""
    spans: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for entry in log_entries(bundle):
        if entry.get("action") == action \
                and isinstance(entry.get("out_start"), int) and isinstance(entry.get("out_end"), int):
            key = (str(entry.get("row_key")), str(entry.get("column")))
            spans.setdefault(key, []).append((entry["out_start"], entry["out_end"]))
    return spans


def _kept_spans(bundle: Path | None) -> set[tuple[str, str, int, int]]:
    """Output spans a reviewer ruled "keep" (logged as such): not residual PII."""
    return {(*key, start, end) for key, spans in _logged_spans(bundle, "keep").items() for start, end in spans}


def check_residual_pii(policy: DatasetPolicy, year: int, frames: Mapping[str, pd.DataFrame],
                       scan: Scanner | None, bundle: Path | None = None) -> AuditCheck:
    """Every published free text scanned again, as the build's verify rounds scan theirs
    (``release.pii.residual``): a hit outside the placeholders redaction wrote and the spans a reviewer
    kept is a problem, named by file, row key, column, type and offsets, never by its text."""
    if not any(fp.free_text_columns() for fp in policy.files.values()):
        return from_problems("residual_pii", [], {"texts_scanned": 0, "free_text_columns": 0})
    if scan is None:
        return not_run("residual_pii", "no PII scanner supplied")
    kept: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for row, kept_column, start, end in sorted(_kept_spans(bundle)):
        kept.setdefault((row, kept_column), []).append((start, end))
    ours = _logged_spans(bundle, "redact")  # the placeholders redaction wrote: only those are protected
    problems: list[str] = []
    texts_scanned = 0
    for name, frame in frames.items():
        file_policy = policy.files[name]
        for column, rule in file_policy.columns.items():
            if rule.type not in FREE_TEXT_TYPES or column not in frame.columns:
                continue
            texts = [t if isinstance(t, str) else "" for t in frame[column].tolist()]
            items = [ResidualText(text, tuple(ours.get((str(key), column), ())), tuple(kept.get((key, column), ())))
                     for key, text in zip(frame[ROW_KEY], texts, strict=True)]
            texts_scanned += len({item.key for item in items})  # each distinct text is scanned once
            for row_key, hits in zip(frame[ROW_KEY], residual_hits(items, scan), strict=True):
                problems += [f"{file_policy.public_file.format(year=year)}, row {row_key}, column {column}: "
                             f"possible {hit.entity_type} at offsets {hit.start}-{hit.end}" for hit in hits]
    return from_problems("residual_pii", problems, {"texts_scanned": texts_scanned, "hits": len(problems)})
