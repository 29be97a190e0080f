"""Orchestration of one build: the only place that knows the order of the stages.

``build_release`` runs load → validate(raw) → redact → generalize → derive → tables →
leak checks, second PII scan, validate(public) → publish, collects every finding, and
publishes only when none blocks. Nothing here prints; the CLI renders what it returns.
Bundle contents are ``release.assemble``; the privacy budget is ``release.budget_run``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from release import datasets
from release import tables as tables_api
from release.assemble import assemble_bundle
from release.budget_run import reserve_budget
from release.config import DatasetPolicy
from release.errors import BlockingFinding
from release.keys import Tokenizer, load_or_create_key
from release.model import Finding, Report, Tables
from release.run_options import BuildOptions, Resolved, resolve
from release.stages import generalize as generalize_stage
from release.stages import juvenile, leakcheck, load, publish, redact
from release.stages.load import ROW_KEY


def build_release(options: BuildOptions) -> dict[str, object]:
    """Build the draft bundle; raises on any blocking finding (nothing is written then)."""
    resolved = resolve(options)
    tokenizer = Tokenizer(load_or_create_key())
    progress = options.progress
    loaded, raw_results, report = _load_and_validate(options, resolved)
    public, events, engine, decisions, report = _transform(options, resolved, loaded, tokenizer, report)
    derived = datasets.Derived()
    derive = datasets.deriver(options.dataset)
    if derive is not None:
        with progress.stage("derive"):
            derived = derive(datasets.DeriveContext(options.dataset, options.year, resolved.policy,
                                                    loaded.tables, public, tokenizer))
        public = public.replace(**dict(derived.public))
        report = report.extend(derived.findings)
        events += list(derived.events)
    with reserve_budget(options, resolved) as budget:
        tables = None
        if budget.specs:
            with progress.stage("aggregate tables"):
                tables = tables_api.build_tables(
                    derived.table_frames, budget.specs, dataset=options.dataset, year=options.year,
                    prior=_prior_tables(options, budget.specs), delta=budget.delta)
            report = report.extend(tables.findings)
        with progress.stage("check public"):
            public_results, report = _check_public(options, resolved, loaded, public, events, engine,
                                                   derived, report)
        if not report.ok:
            raise _blocking_error(report)
        target = options.out_dir / options.dataset / str(options.year)
        with progress.stage("publish"):
            bundle = assemble_bundle(options, resolved, loaded, public, events, report, tokenizer,
                                     engine.versions() if engine else {}, raw_results, public_results,
                                     decisions, derived, tables, budget)
            manifest = publish.write_bundle(bundle, target)
        budget.commit()
    return {
        "status": manifest["status"], "dataset": options.dataset, "year": options.year,
        "bundle": str(target), "manifest_sha256": publish.sha256_file(target / publish.MANIFEST),
        "outputs": manifest["outputs"], "redactions": len(events),
        "findings": {s: sum(1 for f in report.findings if f.severity == s) for s in ("blocking", "warning", "info")},
        "warnings": [f.to_dict() for f in report.findings if f.severity == "warning"],
    }


def validate_table(name: str, file: str, frame: pd.DataFrame) -> object:
    from release.stages.validate import TableData
    return TableData(name=name, file=file, frame=frame, key_column=ROW_KEY)


def _blocking_error(report: Report) -> BlockingFinding:
    first = report.blocking[0]
    return BlockingFinding(
        f"release blocked by {len(report.blocking)} blocking finding(s); first: {first.message}"
        + (f" ({first.count} rows)" if first.count else ""),
        file=first.file, row_key=first.row_key or (first.row_keys[0] if first.row_keys else None),
        column=first.column, rule=first.rule, details=report.to_list())


def _load_and_validate(options: BuildOptions, resolved: Resolved) -> tuple[load.Loaded, list, Report]:
    from release.stages.validate import validate

    policy = resolved.policy
    with options.progress.stage("load"):
        loaded = load.load_export(resolved.input_dir, policy, options.year)
    report = Report(loaded.findings)
    with options.progress.stage("validate raw"):
        raw_results, found = validate(
            [validate_table(name, fp.raw_file, loaded.tables[name]) for name, fp in policy.files.items()],
            resolved.expectations_dir / f"{options.dataset}_raw.json", stage="validate_raw")
    report = report.extend(found)
    if not report.ok:
        raise _blocking_error(report)
    return loaded, raw_results, report


def _transform(options: BuildOptions, resolved: Resolved, loaded: load.Loaded, tokenizer: Tokenizer,
               report: Report) -> tuple[Tables, list, object, list, Report]:
    """Redact free text, then generalize every column: the public record-level frames."""
    from release.pii.engine import EngineSettings, PiiEngine

    policy, year, raw, progress = resolved.policy, options.year, loaded.tables, options.progress
    minors = juvenile.minor_keys(raw, policy)
    withheld_narratives = minors if policy.juvenile and any(
        policy.files[f].columns[c].type == "narrative"
        for f, c in map(policy.column_ref, policy.juvenile.withhold)) else frozenset()
    narrative = policy.narrative
    engine = None
    in_force: list = []
    events: list = []
    redacted = raw
    if narrative is not None:
        with progress.stage("load PII model"):
            engine = PiiEngine(EngineSettings(
                rules_dir=resolved.rules_dir / narrative.rules_dir,
                officers=redact.officer_roster(raw, policy),
                officer_policy=narrative.officer_policy, threshold=narrative.threshold))
        texts = sum(int(raw[n][c].notna().sum()) for n, fp in policy.files.items()
                    for c, r in fp.columns.items() if r.type == "narrative")
        in_force = _reviewer_decisions(options.dataset, year, options.out_dir)
        with progress.stage("redact narratives", total=texts) as advance:
            redacted, found, events = redact.redact(
                raw, policy, engine, tokenizer, withheld_narratives, progress=advance,
                decisions=[redact.ReviewerDecision(d.decision, d.row_key, d.column, d.start, d.end,
                                                   d.entity_type, d.token) for d in in_force])
        report = report.extend(found)
    with progress.stage("generalize"):
        public, found, more_events = generalize_stage.generalize(redacted, policy, minors, tokenizer)
    return public, list(events) + more_events, engine, in_force, report.extend(found)


def _reviewer_decisions(dataset: str, year: int, out_dir: Path) -> list:
    """Decisions recorded with ``release decide`` (kept outside the bundle, so rebuilds see them)."""
    from release.approvals import decisions_in_force, load_decisions
    return list(decisions_in_force(load_decisions(dataset, year, out_dir)).values())


def _prior_tables(options: BuildOptions, specs: list) -> list:
    """Exact tables this dataset published in earlier years: the suppression audit must
    hold over all of them together."""
    return tables_api.published_exact_tables(options.out_dir, options.dataset, specs, before=options.year)


def _public_frames(public: Tables, policy: DatasetPolicy) -> dict[str, pd.DataFrame]:
    return {name: public[name] for name in policy.files}


def _check_public(options: BuildOptions, resolved: Resolved, loaded: load.Loaded, public: Tables,
                  events: list, engine: object, derived: datasets.Derived,
                  report: Report) -> tuple[list, Report]:
    """Leak checks, the second PII scan and the public expectation suite."""
    from release.stages.validate import validate

    policy, year, raw = resolved.policy, options.year, loaded.tables
    flags, leaks = leakcheck.find_leaks(raw.frames, _public_frames(public, policy), policy, year)
    leaks += leakcheck.find_global_leaks(raw.frames, _public_frames(public, policy), policy, year)
    leaks = list(dict.fromkeys(leaks))
    for name, file_policy in policy.files.items():
        leaked_keys = {leak.row_key for leak in leaks if leak.file == file_policy.public_file.format(year=year)}
        flags[name] = flags[name] | public[name][ROW_KEY].isin(leaked_keys)
    if engine is not None:
        kept = frozenset((e.row_key, e.column, e.out_start, e.out_end) for e in events if e.action == "keep")
        ours: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for e in events:
            if e.action == "redact" and e.placeholder:
                ours[(e.row_key, e.column)].append((e.out_start, e.out_end))
        report = report.extend(_second_scan(engine, public, policy, year, kept, ours))
    public_tables = []
    for name, file_policy in policy.files.items():
        frame = public[name].copy()
        frame["_raw_value_leak"] = flags[name]
        public_tables.append(validate_table(name, file_policy.public_file.format(year=year), frame))
    for extra in derived.files:
        frame = extra.frame.copy()
        frame[ROW_KEY] = [str(i) for i in range(1, len(frame) + 1)]
        public_tables.append(validate_table(extra.name, Path(extra.relpath).name, frame))
    public_results, found = validate(
        public_tables, resolved.expectations_dir / f"{options.dataset}_public.json", stage="validate_public")
    report = report.extend(found)
    report = report.extend([Finding(
        stage="leak_check", code="raw_value_in_public", severity="blocking",
        message="a raw-only value of this record appears in a public column",
        file=leak.file, row_key=leak.row_key, column=leak.column, rule="raw-only") for leak in leaks])
    return public_results, report


def _second_scan(engine: object, public: Tables, policy: DatasetPolicy, public_year: int,
                 kept: frozenset[tuple[str, str, int, int]] = frozenset(),
                 ours: Mapping[tuple[str, str], list[tuple[int, int]]] | None = None) -> list[Finding]:
    """Scan the public narratives again at a lower threshold; any hit blocks, except text a
    reviewer ruled "keep" (``kept``: row key, column, output offsets). ``ours``: the output
    spans of the placeholders redaction wrote, by row key and column; only those are protected."""
    assert policy.narrative is not None
    findings: list[Finding] = []
    for name, file_policy in policy.files.items():
        frame = public[name]
        for column, rule in file_policy.columns.items():
            if rule.type != "narrative":
                continue
            texts = frame[column].where(frame[column].notna(), "").tolist()
            spans = [tuple(sorted((ours or {}).get((str(key), column), ()))) for key in frame[ROW_KEY]]
            unique = list(dict.fromkeys(zip(texts, spans)))
            hits = dict(zip(unique, engine.scan_many(  # type: ignore[attr-defined]
                [text for text, _ in unique], threshold=policy.narrative.second_scan_threshold,
                placeholders=[placed for _, placed in unique])))
            for row_key, text, placed in zip(frame[ROW_KEY], texts, spans):
                for hit in hits.get((text, placed), []):
                    if any(k[0] == row_key and k[1] == column and k[2] < hit.end and hit.start < k[3]
                           for k in kept):
                        continue
                    findings.append(Finding(
                        stage="second_scan", code="residual_pii", severity="blocking",
                        message=f"possible {hit.entity_type} left in the public text at offsets {hit.start}-{hit.end}",
                        file=file_policy.public_file.format(year=public_year), row_key=str(row_key), column=column,
                        rule=hit.rule_id, count=1))
    return findings
