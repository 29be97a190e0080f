"""Audit checks that need the raw export: no raw-only value in any public file, every
redaction log token recomputed from its raw cell under the HMAC key, every identifier
published as a keyed pseudonym recomputed from its raw value (its form is checked without),
each noisy measurement's counts recounted against the witness's commitment
(``release.audit.counts``), and every record-level and derived public file replayed cell by cell
from the raw export and the redaction log (``release.audit.record_replay``).

Both read the raw folder with ``load_export``, exactly as a build does; an unreadable export
or a missing policy or key makes them fail or "not run", never pass.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from release.audit.checks import source_keys, with_source_keys
from release.audit.counts import check_noisy_counts, not_run_without
from release.audit.record_replay import check_replayed, not_run_replay
from release.audit.report import AuditCheck, from_problems, not_run
from release.audit.span_support import NAME as REDETECTED
from release.audit.span_support import check_redetected
from release.bundle.jsonl import text_lines
from release.bundle.layout import LOG
from release.bundle.log import read_entries
from release.bundle.manifest_recorded import Recorded
from release.config.policy import DatasetPolicy, FilePolicy
from release.errors import ReleaseError
from release.keys.hmac import Tokenizer
from release.model import ROW_KEY
from release.stages import leakcheck
from release.stages.load import Loaded, load_export
from release.stages.pseudonyms import pseudonym, pseudonym_columns, raw_format_ok


def _empty_public(file_policy: FilePolicy) -> pd.DataFrame:
    """The record frame of a raw file whose rows are only counted, never published."""
    return pd.DataFrame(columns=list(dict.fromkeys([file_policy.link_column, ROW_KEY, *file_policy.public_columns()])))


def _unmatched(policy: DatasetPolicy, frames: Mapping[str, pd.DataFrame], loaded: Loaded, year: int) -> list[str]:
    """Public files with rows whose report key is no raw record's: a pseudonym not recomputed
    (no HMAC key, or another key), whose row the per-record check could not have compared."""
    problems = []
    for name, frame in frames.items():
        file_policy = policy.files[name]
        link = file_policy.link_column
        known = set(loaded.tables.frames[name][link].dropna())
        count = sum(1 for v in frame[link] if isinstance(v, str) and v not in known) if link in frame.columns else 0
        if count:
            problems.append(f"{file_policy.public_file.format(year=year)}: {count} row(s) whose report key matches "
                            "no raw record (pseudonymous keys are matched under the release's HMAC key)")
    return problems


def check_raw_values(policy: DatasetPolicy, frames: Mapping[str, pd.DataFrame], loaded: Loaded,
                     manifest: Mapping[str, object], year: int,
                     public: Mapping[str, pd.DataFrame] | None = None) -> AuditCheck:
    """No raw-only value of any record in any public file: the record files (per record and
    across records) and every other public file (derived counts, tables)."""
    problems: list[str] = []
    recorded = {f.get("name"): f.get("sha256") for f in Recorded.of(manifest).input_files}
    problems += [f"raw {i.name}: differs from the input recorded in the manifest"
                 for i in loaded.inputs if recorded.get(i.name) != i.sha256]
    published = {name for name, fp in policy.files.items() if fp.publish}
    if set(frames) != published:
        problems.append("not every public data file could be read with its key column")
        return from_problems("raw_values_absent", problems, {})
    problems += _unmatched(policy, frames, loaded, year)
    record_files = {name: frames.get(name, _empty_public(fp)) for name, fp in policy.files.items()}
    record_paths = {f"public/{fp.public_file.format(year=year)}" for fp in policy.files.values()}
    others = {Path(relpath).name: frame for relpath, frame in (public or {}).items() if relpath not in record_paths}
    checker = leakcheck.LeakChecker(loaded.tables.frames, policy, year)  # the raw values read once for both
    leaks = list(dict.fromkeys(checker.find_leaks(record_files)[1] + checker.find_global_leaks(record_files, others)))
    problems += [f"{leak.file}, row {leak.row_key}, column {leak.column}: {leak.kind} in a public file"
                 for leak in leaks]
    return from_problems("raw_values_absent", problems,
                         {"leaks": len(leaks), "rows_checked": sum(len(f) for f in frames.values())})


def token_matches(tokenizer: Tokenizer, token: object, span: str) -> bool:
    """The log's token is the HMAC of ``span`` (or of the PII engine's folded view of it); a token
    that is not a string never matches."""
    return isinstance(token, str) and token in {tokenizer.token(form) for form in _token_forms(span)}


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
    for entry in read_entries(text_lines(bundle / LOG)):
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
        if token_matches(tokenizer, entry.get("token"), span):
            counts["matched"] += 1
        else:
            counts["mismatched"] += 1
            problems.append(f"{where}: token does not match the raw value")
    return from_problems("log_tokens", problems, counts)


def check_pseudonyms(policy: DatasetPolicy, frames: Mapping[str, pd.DataFrame], year: int,
                     loaded: Loaded | None = None, tokenizer: Tokenizer | None = None) -> AuditCheck:
    """Every identifier published as a keyed pseudonym (``pseudonym`` rule): of the pseudonym's
    form in every cell (a raw id or an edited cell is not); and, given the raw export and the key,
    recomputed from its row's raw value under the release key (``frames`` keyed as load keys
    them). Without both, the form is checked and the check is "not run": a forged pseudonym of
    the right form cannot be told from the real one without the key."""
    name = "identifier_pseudonyms"
    problems: list[str] = []
    counts = {"columns": 0, "cells": 0, "recomputed": 0, "mismatched": 0, "row_not_found": 0}
    recompute = loaded is not None and tokenizer is not None
    for file, column, rule in pseudonym_columns(policy):
        frame = frames.get(file)
        if frame is None or column not in frame.columns:
            continue  # the column check reports a named column that is not published
        counts["columns"] += 1
        public_file = policy.files[file].public_file.format(year=year)
        form = re.compile(rule.public_pattern)
        raw = _raw_column(loaded, file, column) if recompute else pd.Series(dtype=object)
        for row_key, value in zip(frame[ROW_KEY], frame[column], strict=True):
            published = value if isinstance(value, str) and value else None
            counts["cells"] += published is not None
            where = f"{public_file}, row {row_key}, column {column}"
            if published is not None and not form.fullmatch(published):
                problems.append(f"{where}: not of the pseudonym's form ({rule.prefix} and 16 hex digits)")
                continue
            if not recompute or tokenizer is None:  # recompute: the key was given
                continue
            if row_key not in raw.index:
                counts["row_not_found"] += 1
                problems.append(f"{where}: no raw row with this key")
                continue
            source = raw.at[row_key]
            expected = pseudonym(source, rule, policy.dataset, tokenizer) \
                if isinstance(source, str) and raw_format_ok(source, rule) else None
            if published == expected:
                counts["recomputed"] += 1
            else:
                counts["mismatched"] += 1
                problems.append(f"{where}: does not recompute from the raw identifier under the release key")
    if problems or recompute:
        return from_problems(name, problems, counts)
    why = "no HMAC key given" if loaded is not None else "no raw folder given"
    return AuditCheck(name, "not run", {**counts, "reason": f"{why}: {counts['cells']} cell(s) of the pseudonym's "
                                        "form, not recomputed (a forged pseudonym of that form needs the key to tell)"})


def _raw_column(loaded: Loaded | None, file: str, column: str) -> pd.Series:
    """A raw column by row key (a column the export lacks: every row blank)."""
    assert loaded is not None
    frame = loaded.tables.frames[file].drop_duplicates(ROW_KEY)
    values = frame[column] if column in frame.columns else pd.Series(None, index=frame.index, dtype=object)
    return pd.Series(values.to_numpy(), index=frame[ROW_KEY].to_numpy(), dtype=object)


def _not_run(manifest: Mapping[str, object], reason: str, *, failed: str | None = None,
             pseudonyms: list[AuditCheck] | None = None) -> list[AuditCheck]:
    """The raw-export checks when the export cannot be read against the policy: each not run for
    ``reason`` (``raw_values_absent`` failing with ``failed`` when an export was given but not read),
    the pseudonyms' form checked without it."""
    values = from_problems("raw_values_absent", [failed], {}) if failed else not_run("raw_values_absent", reason)
    return [values, not_run("log_tokens", reason), *(pseudonyms or []), not_run_replay(reason),
            not_run(REDETECTED, reason),
            *not_run_without(manifest, reason)]


def raw_checks(policy: DatasetPolicy | None, frames: Mapping[str, pd.DataFrame], manifest: Mapping[str, object],
               bundle: Path, year: int, raw_dir: Path | None, tokenizer: Tokenizer | None,
               public: Mapping[str, pd.DataFrame] | None = None, *, master: bytes | None = None,
               rules_dir: Path | None = None) -> list[AuditCheck]:
    """The raw-export checks, or why they could not run (no folder, no policy, unreadable);
    ``master`` and ``rules_dir``: the HMAC key and the trusted rules the noisy tables' counts are
    recounted under (``release.audit.counts``)."""
    if policy is None:
        return _not_run(manifest, "no raw folder given") if raw_dir is None else \
            _not_run(manifest, "policy not available", failed="policy not available")
    # identifiers published as pseudonyms: checked whenever the policy has any, recomputed with --raw
    pseudonyms = any(pseudonym_columns(policy))

    def form_only() -> list[AuditCheck]:  # without the export: each pseudonym's form only
        return [check_pseudonyms(policy, frames, year)] if pseudonyms else []

    if raw_dir is None:
        return _not_run(manifest, "no raw folder given", pseudonyms=form_only())
    try:
        loaded = load_export(raw_dir, policy, year)
    except ReleaseError as exc:
        return _not_run(manifest, "raw export unreadable", failed=exc.one_line(), pseudonyms=form_only())
    # every pseudonymous report key back to its source number, recomputed under the key
    sources = source_keys(policy, Recorded.of(manifest).dataset_name, tokenizer,
                          {key for name, fp in policy.files.items() for key in loaded.tables.frames[name][fp.link_column]})
    frames = {name: with_source_keys(frame, policy.files[name], sources) for name, frame in frames.items()}
    checks = [check_raw_values(policy, frames, loaded, manifest, year, public)]
    checks.append(check_tokens(policy, loaded, bundle, tokenizer) if tokenizer
                  else not_run("log_tokens", "no HMAC key given"))
    if pseudonyms:
        checks.append(check_pseudonyms(policy, frames, year, loaded, tokenizer))
    checks.append(check_replayed(policy, loaded, manifest, bundle, rules_dir, tokenizer))
    checks.append(check_redetected(loaded, manifest, bundle, rules_dir, tokenizer))
    checks += check_noisy_counts(policy, loaded, manifest, rules_dir, master, tokenizer) if rules_dir is not None \
        else not_run_without(manifest, "no trusted rules given")
    return checks
