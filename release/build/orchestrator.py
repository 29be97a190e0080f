"""Orchestration of one build: the only place that knows the order of the stages.

``build_release`` runs load → validate(raw) → redact → generalize → derive → verify →
validate(public) → tables → publish. Verify is rounds of "detect, redact once, verify":
the second PII scan and the leak checks read the public files, and what they find in a
free-text column goes back to the redactor as a forced span (``release.stages.verify``)
until a round finds nothing new. Only what redaction cannot fix blocks: a raw value in a
structured column, a failed critical expectation, a table finding, a budget refusal. A
blocked build still writes its bundle (status ``blocked``, no ``public/``) with every
finding in its packet, so a reviewer can decide and the next build applies the decision.
Nothing here prints; the CLI renders what it returns.

Where the work runs (two cores are the design point): the expectation suites in a process
forked after the load (``release.build.validation_process``: Great Expectations' import overlaps the
model's); redaction and each round's second scan in ``--jobs`` forked workers
(``release.pii.parallel``) or Ray actors (``--engine ray``, ``release.execution.workers``), with the
round's public frames and leak checks in this process meanwhile (``alongside``); under Ray the
leak checks' rows go to the actors too (``workers.leak_check``: the driver computes only what
they share across rows, and merges), and so do the tables' group-bys (``workers.count``: rows cut
by privacy unit and bounded there, counted here from the rows each unit keeps). Results come back in order either way:
the outputs do not depend on where the work ran.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, TypedDict

import pandas as pd

from release import datasets
from release.build import heap
from release.build import tables as tables_api
from release.build.assemble import BlockedEvidence, BundleParts, assemble_bundle
from release.build.budget import RunPrivacy, open_run
from release.build.lock import build_lock
from release.build.options import BuildOptions, Resolved, resolve
from release.build.validation_process import Validator
from release.bundle import layout, public_form
from release.bundle.manifest_recorded import Recorded
from release.config.codebooks import vocabulary_view
from release.config.policy import FREE_TEXT_TYPES
from release.config.privacy import RiskSpec
from release.errors import BudgetError
from release.execution import workers
from release.execution.workers import execution_section, open_engine
from release.keys.hmac import ReleaseKeys, Tokenizer, derive_keys, ledger_mac, master_key
from release.model import ROW_KEY, Finding, RedactionEvent, Report, ReviewerDecision, Tables
from release.pii.placeholders import Detection
from release.pii.residual import ResidualText, scan_residual
from release.stages import juvenile, leakcheck, load, publish, redact
from release.stages.verify import MAX_VERIFY_ROUNDS, Hit, finding_id, to_raw_span
from release.witness.counts import CountsKey, from_master

if TYPE_CHECKING:
    from release.build.tables import TablesResult
    from release.bundle.decisions import Decision
    from release.config.tables import TableSpec
    from release.privacy.record_risk import RiskResult
    from release.stages.suppress import PublishedTable
    from release.stages.validate import SuiteResult, TableData

CONTEXT_CHARS = 80


class _Engine(redact.Engine, workers.Running, Protocol):
    """What the build needs of the PII engine (``release.pii.engine.PiiEngine``, as ``open_engine`` gives it)
    beyond the redaction stage's ``Engine``: where its work runs, so that the verify rounds' leak checks and
    the tables' group-bys run there too (``release.execution.workers``: on its actors under ``--engine ray``)."""


@dataclass
class _Run:
    """What one build carries from stage to stage."""

    options: BuildOptions
    resolved: Resolved
    keys: ReleaseKeys
    loaded: load.Loaded
    raw_results: list[SuiteResult]
    base: Report          # findings of load and raw validation
    report: Report        # ... plus every later stage's (recomputed with each round)
    engine: _Engine | None = None
    redaction: redact.Redaction | None = None
    public: Tables = field(default_factory=Tables)
    events: list[RedactionEvent] = field(default_factory=list)
    derived: datasets.Derived = field(default_factory=datasets.Derived)
    decisions: list[Decision] = field(default_factory=list)
    evidence: list[BlockedEvidence] = field(default_factory=list)
    rounds: int = 0
    rows: dict[tuple[str, str], Hashable] = field(default_factory=dict)  # (table, row key) -> public index
    risk: list[RiskResult] = field(default_factory=list)  # record-level risk of the files as published (record_risk)
    minor_keys: frozenset[str] | None = None  # of the raw tables, which a build never changes: read once
    coarsening: dict[str, dict[str, str]] = field(default_factory=dict)  # linkage.coarsening, read before load
    checker: leakcheck.LeakChecker | None = None  # built in the first verify round, used by every round
    validator: Validator | None = None  # the suites' process, forked after the load (validation_process)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)  # the PII workers, stopped at the end

    @property
    def tokenizer(self) -> Tokenizer:
        return self.keys.tokens


def build_release(options: BuildOptions) -> dict[str, object]:
    """Build the bundle: a draft, or a blocked bundle whose packet lists what to fix.

    Raises only for what is not a finding about the data: bad options, an export that
    breaks the contract, a broken environment."""
    resolved = resolve(options)
    master = master_key(create=True)
    assert master is not None
    keys = derive_keys(master.material, options.dataset, options.year, resolved.policy.linkable_tokens)
    with build_lock(options.out_dir, options.dataset, options.year), heap.settled():
        result = _build(options, resolved, keys, ledger_mac(master.material), from_master(master.material))
    return {**result, "notices": [n for n in (master.notice(),) if n]}


def _build(options: BuildOptions, resolved: Resolved, keys: ReleaseKeys, mac: Callable[[str], str],
           counts: CountsKey) -> dict[str, object]:
    progress = options.progress
    coarsening = _linkage_coarsening(resolved)  # a broken tables policy stops the build before the first stage
    with progress.stage("load"):
        loaded = load.load_export(resolved.input_dir, resolved.policy, options.year)
    heap.settle()  # the raw tables live until the build ends
    report = Report(loaded.findings).extend(_generation_findings(options, resolved))
    run = _Run(options, resolved, keys, loaded, [], report, report, coarsening=coarsening)
    run.validator = Validator(functools.partial(_raw_request, run))  # imports GE while the model loads
    with run.stack:
        try:
            return _checked(run, mac, counts)
        finally:
            run.validator.close()


def _checked(run: _Run, mac: Callable[[str], str], counts: CountsKey) -> dict[str, object]:
    """Transform, verify, check and write: the bundle of a loaded export (``mac``: the ledger's key,
    which keys the truncation too; ``counts``: the key the witness commits to the counts under)."""
    options, resolved, progress = run.options, run.resolved, run.options.progress
    _transform(run)
    _verify(run)
    with progress.stage("check public"):
        public_results = _check_public(run)
    if run.report.ok:
        try:
            privacy = open_run(options, resolved, mac, counts)
            tables = None
            if privacy.specs:
                with progress.stage("aggregate tables"):
                    tables = tables_api.build_tables(
                        run.derived.table_frames, privacy.specs, dataset=options.dataset, year=options.year,
                        prior=_prior_tables(options, resolved, privacy.specs), delta=privacy.delta,
                        measure=privacy.measure, precheck=privacy.precheck, mac=mac,
                        model=privacy.tables.frames if privacy.tables else None,
                        public_files=public_form.linkage_files(run.resolved.policy, run.public),
                        counter=functools.partial(workers.count, run.engine) if run.engine is not None else None)
                run.report = run.report.extend([*tables.findings, *privacy.findings()])
            if run.report.ok:
                manifest, target = _write(run, public_results, tables, privacy, "draft")
                if tables is not None:  # the ledger entry that binds this manifest to its measurements
                    privacy.bind(layout.sha256_file(target / layout.MANIFEST), tables.spends, tables.measurements)
        except BudgetError as refused:
            run.report = run.report.extend([Finding(
                stage="budget", code="budget_refused", severity="blocking", message=refused.message,
                file=refused.file, rule=refused.rule or "budget")])
    if not run.report.ok:
        manifest, target = _write(run, public_results, None, None, "blocked")
    return _result(run, manifest, target)


def _write(run: _Run, public_results: list[SuiteResult], tables: TablesResult | None, budget: RunPrivacy | None,
           status: str) -> tuple[dict[str, object], Path]:
    options = run.options
    target = run.resolved.target.bundle
    with options.progress.stage("publish" if status == "draft" else "write blocked bundle"):
        bundle = assemble_bundle(BundleParts(
            options, run.resolved, run.loaded, run.public, run.events, run.report,
            run.keys, run.engine.versions() if run.engine else {},
            run.raw_results, public_results, run.decisions, run.derived, tables, budget,
            status=status, evidence=run.evidence, verify_rounds=run.rounds,
            record_risk=[r.to_dict() for r in run.risk],
            risk_specs=_risk_specs(run.resolved),
            minors=_minors(run),
            execution=execution_section(run.engine, options.execution)))
        manifest = publish.write_bundle(bundle, target)
    return manifest, target


def _result(run: _Run, manifest: dict[str, object], target: Path) -> dict[str, object]:
    report = run.report
    recorded = Recorded.of(manifest)
    checked = recorded.checked()  # the build's own manifest, written through the model (``bundle.manifest.written``)
    status = checked.status
    budget_only = bool(report.blocking) and all(f.stage == "budget" for f in report.blocking)
    return {
        "status": status, "dataset": run.options.dataset, "year": run.options.year,
        "bundle": str(target), "manifest_sha256": layout.sha256_file(target / layout.MANIFEST),
        "exit_code": 0 if status == "draft" else (6 if budget_only else 5),
        "packet": str(target / "review" / "index.html"),
        "outputs": [*recorded.listed("outputs"), *recorded.listed("bundle_files")],  # each as written, in its key order
        "redactions": len(run.events), "verify_rounds": run.rounds,
        "findings": {s: sum(1 for f in report.findings if f.severity == s) for s in ("blocking", "warning", "info")},
        "warnings": [f.to_dict() for f in report.findings if f.severity == "warning"],
        "publication_notes": list(checked.publication_notes),
        "blocking": _grouped(report.blocking, run.evidence),
        "error": _error_line(report.blocking, target) if report.blocking else None,
    }


def _error_line(blocking: Sequence[Finding], target: Path) -> str:
    """One line for stderr, as every refusal has: the first finding by name, never a value."""
    first = blocking[0]
    where = ", ".join(f"{label} {value}" for label, value in (
        ("file", first.file), ("row", first.row_key or (first.row_keys[0] if first.row_keys else None)),
        ("column", first.column), ("rule", first.rule)) if value)
    return (f"{where + ': ' if where else ''}release blocked by {len(blocking)} blocking finding(s); first: "
            f"{first.message}; the blocked bundle and its packet are in {target}")


class _Group(TypedDict):
    """One entry of the result's ``blocking``: a check's findings under one rule (JSON, in this key order)."""

    stage: str
    code: str
    rule: str | None
    message: str
    findings: int
    rows: int
    items: list[dict[str, str | None]]


def _grouped(blocking: Sequence[Finding], evidence: Sequence[BlockedEvidence]) -> list[_Group]:
    """Blocking findings grouped by check and rule: how many, where, and their ids."""
    # keyed as a finding names its place (its file, row, column and rule may be None; evidence's never are)
    ids: dict[tuple[str, str | None, str | None, str | None, str | None], str] = {
        (e.stage, e.file, e.row_key, e.column, e.rule): e.finding_id for e in evidence}
    groups: dict[tuple[str, str, str], _Group] = {}
    for finding in blocking:
        key = (finding.stage, finding.code, finding.rule or "")
        group = groups.setdefault(key, {"stage": finding.stage, "code": finding.code, "rule": finding.rule,
                                        "message": finding.message, "findings": 0, "rows": 0, "items": []})
        group["findings"] += 1
        group["rows"] += finding.count or 1
        group["items"].append({"finding_id": ids.get((finding.stage, finding.file, finding.row_key, finding.column,
                                                      finding.rule), ""),
                               "file": finding.file,
                               "row_key": finding.row_key or (finding.row_keys[0] if finding.row_keys else None),
                               "column": finding.column})
    return list(groups.values())


def validate_table(name: str, file: str, frame: pd.DataFrame) -> TableData:
    from release.stages.validate import TableData
    return TableData(name=name, file=file, frame=frame, key_column=ROW_KEY)


def _raw_request(run: _Run) -> tuple[list[TableData], Path, str]:
    """The raw expectation suite's request: the loaded tables with their closed columns as the
    policy reads them (see suite_domains). Made in the validation process, from its memory."""
    resolved, policy = run.resolved, run.resolved.policy
    return ([validate_table(name, fp.raw_file, vocabulary_view(run.loaded.tables[name], fp))
             for name, fp in policy.files.items()],
            resolved.expectations_dir / f"{resolved.policy_name}_raw.json", "validate_raw")


def _validate_raw(run: _Run) -> None:
    """The raw expectation suite's answer (``run.validator``); its findings follow the loader's."""
    assert run.validator is not None
    with run.options.progress.stage("validate raw"):
        run.raw_results, found = run.validator.result()
    run.base = run.base.extend(found)


def _generation_findings(options: BuildOptions, resolved: Resolved) -> list[Finding]:
    """A generation named with --generation for a year its system did not hold is built as asked,
    and said: the headers fitted it (the load checked), the calendar does not, and the trusted rules
    judge a bundle by its year's system (``generations.of_manifest``: round 22, gen-exact)."""
    choice = resolved.generation
    if choice is None or choice.chosen_by != "option" or choice.generation.holds(options.year):
        return []
    return [Finding(stage="load", code="generation_outside_years", severity="warning",
                    message=f"generation {choice.generation.name} held {choice.generation.years}, not "
                            f"{options.year}: built as --generation asked, as a draft that cannot be approved (approve, "
                            "publish, the audit and verify judge a bundle by the system that held its year)",
                    rule="generation")]


def _transform(run: _Run) -> None:
    """Validate the raw tables and redact free text (first round); the public frames are
    derived from the redaction in ``_verify``. The raw validation needs nothing from the
    engine, so it runs in this process while the workers redact (``alongside``)."""
    from release.pii.engine import EngineSettings

    policy, raw, progress = run.resolved.policy, run.loaded.tables, run.options.progress
    run.decisions, decided = _reviewer_decisions(run)
    validate_raw = functools.partial(_validate_raw, run)
    narrative = policy.narrative
    if narrative is not None:
        with progress.stage("load PII model"):
            run.engine = run.stack.enter_context(open_engine(EngineSettings(
                rules_dir=run.resolved.rules_dir / narrative.rules_dir,
                officers=redact.officer_roster(raw, policy),
                officer_policy=narrative.officer_policy, threshold=narrative.threshold), run.options.execution))
            heap.settle()
        with progress.stage("redact free text", total=redact.texts_to_redact(raw, policy, _withheld(run))) as advance:
            run.redaction = redact.redact(raw, policy, run.engine, run.tokenizer, _withheld(run),
                                          progress=advance, decisions=_span_decisions(run.decisions),
                                          alongside=validate_raw)
    else:
        validate_raw()
    run.base = run.base.extend(decided)  # after the raw validation's findings


def _minors(run: _Run) -> frozenset[str]:
    if run.minor_keys is None:
        run.minor_keys = juvenile.minor_keys(run.loaded.tables, run.resolved.policy)
    return run.minor_keys


def _withheld(run: _Run) -> frozenset[str]:
    policy = run.resolved.policy
    minors = _minors(run)
    return minors if policy.juvenile and any(
        policy.files[f].columns[c].type in FREE_TEXT_TYPES
        for f, c in map(policy.column_ref, policy.juvenile.withhold)) else frozenset()


def _public_frames(run: _Run) -> None:
    """Generalize the redacted tables and run the dataset's derive step (fast; re-run per round)."""
    options, policy = run.options, run.resolved.policy
    redacted = run.redaction.tables if run.redaction is not None else run.loaded.tables
    made = datasets.derive_public(options.dataset, options.year, policy, run.loaded.tables, redacted, _minors(run),
                                  run.tokenizer, functools.partial(_apply_cell_decisions, run))
    public, derived = made.public, made.derived
    findings = list(run.redaction.findings if run.redaction else ()) + made.findings
    events = list(run.redaction.events if run.redaction else ()) + made.events
    # coarsened, generalized for record risk, then ISO dates and derived columns (public_form)
    public, risk_events, run.risk, risk_findings = public_form.finish(
        public, policy, run.coarsening, _risk_specs(run.resolved),
        dataset=options.dataset, tokenizer=run.tokenizer)
    events, findings = events + risk_events, findings + risk_findings
    run.public, run.events, run.derived = public, events, derived
    run.rows = {(name, str(key)): index for name in policy.files
                for index, key in zip(public[name].index, public[name][ROW_KEY], strict=True)}
    run.report = run.base.extend(findings)
    heap.settle()  # this round's redaction and public files live until the next round


# ---- verify ---------------------------------------------------------------------------

def _verify(run: _Run) -> None:
    """Rounds of checks; each fixable hit is redacted by the next round, until none is new.

    A round derives the public frames of the latest redaction and leak-checks them in this
    process while the workers run its second scan (``alongside``): both read the same
    redaction, neither needs the other's result, and the scan keeps both cores busy."""
    policy, progress = run.resolved.policy, run.options.progress
    forced: dict[redact.TextJob, tuple[Detection, ...]] = {}
    changed = set(run.redaction.rendered) if run.redaction is not None else set()
    kept = _kept_spans(run)
    unfixable: list[Hit] = []
    for round_number in range(1, MAX_VERIFY_ROUNDS + 1):
        run.rounds = round_number
        leaks: list[Hit] = []
        checks = functools.partial(_public_checks, run, round_number, leaks)
        scanned: list[Hit] = []
        if run.engine is not None and changed:
            with progress.stage(f"verify (round {round_number}): second scan", total=len(changed)) as advance:
                scanned = _scan_hits(run, changed, kept, advance, alongside=checks)
        else:
            checks()
        hits = leaks + scanned
        added, unfixable = _force(run, hits, forced, kept)
        if not added:
            break
        if round_number == MAX_VERIFY_ROUNDS:
            unfixable += [h for h in hits if h.detector == "second_scan"]
            break
        previous = run.redaction
        assert previous is not None and run.engine is not None  # a hit is forced only into a redacted text
        retouched = sum(1 for job, spans in forced.items() if previous.rendered[job].forced != spans)
        with progress.stage("redact what the checks found", total=retouched) as advance:
            run.redaction = redact.redact(run.loaded.tables, policy, run.engine, run.tokenizer,
                                          _withheld(run), progress=advance,
                                          decisions=_span_decisions(run.decisions), forced=forced, previous=previous)
        changed = {job for job, rendered in run.redaction.rendered.items()
                   if previous.rendered.get(job) != rendered}
    _report_unfixable(run, unfixable)


def _public_checks(run: _Run, round_number: int, leaks: list[Hit]) -> None:
    """The round's public frames, then the leak checks over them (into ``leaks``)."""
    _public_frames(run)
    if run.checker is None:
        # one checker for every round: the raw data does not change, so a cell whose text did
        # not change since an earlier round is looked up, not searched again (see LeakChecker)
        run.checker = leakcheck.LeakChecker(run.loaded.tables.frames, run.resolved.policy, run.options.year)
        heap.settle()
    with run.options.progress.stage(f"verify (round {round_number}): leak checks"):
        leaks.extend(_leak_hits(run, run.checker))


def _leak_hits(run: _Run, checker: leakcheck.LeakChecker) -> list[Hit]:
    """Both leak checks over the record files: every raw-only value found, with its spans."""
    policy, year = run.resolved.policy, run.options.year
    frames = {name: run.public[name] for name in policy.files}
    # where the engine's work runs (with --engine ray, in row partitions on its actors): the same leaks
    leaks = workers.leak_check(run.engine, checker, frames)
    tables = {file_policy.public_file.format(year=year): name for name, file_policy in policy.files.items()}
    hits: list[Hit] = []
    for leak in dict.fromkeys(leaks):
        table = tables.get(leak.file, "")
        if not leak.spans:
            hits.append(Hit(leak.file, table, leak.row_key, leak.column, "VALUE", "leak_check", "raw-only"))
        hits += [Hit(leak.file, table, leak.row_key, leak.column, label, "leak_check", "raw-only", start, end)
                 for start, end, label in leak.spans]
    return hits


def _scan_hits(run: _Run, changed: set[redact.TextJob], kept: dict[redact.TextJob, list[tuple[int, int]]],
               advance: Callable[[int], None], alongside: Callable[[], None]) -> list[Hit]:
    """The second PII scan of the free texts that changed, at the policy's lower threshold, outside the
    placeholders redaction wrote and the spans a reviewer kept (``release.pii.residual``, which the audit's
    residual-PII check shares); ``advance`` gets increments of texts scanned as the engine finishes them.
    ``alongside`` (the round's public frames and leak checks) runs while the workers scan: the hits are
    kept only where the public frames it derives publish the cell."""
    assert run.engine is not None and run.redaction is not None
    policy, year = run.resolved.policy, run.options.year
    assert policy.narrative is not None
    jobs = sorted(changed, key=lambda j: (j.table, j.column, j.key, j.text))
    rendered = [run.redaction.rendered[job] for job in jobs]
    found = scan_residual(run.engine, [
        ResidualText(r.text, tuple((p.out_start, p.out_end) for p in r.replacements),
                     tuple((o_s, o_e) for span, o_s, o_e in r.placed if span.kept)) for r in rendered],
        threshold=policy.narrative.second_scan_threshold, progress=advance, alongside=alongside)
    hits: list[Hit] = []
    for job, detections in zip(jobs, found, strict=True):
        first_row = run.redaction.positions[job][0]
        row_key = str(run.redaction.tables[job.table][ROW_KEY].iat[first_row])
        if not _cell(run, job.table, row_key, job.column):
            continue  # not published (withheld, or blanked by a reviewer's decision)
        file = policy.files[job.table].public_file.format(year=year)
        hits += [Hit(file, job.table, row_key, job.column, hit.entity_type, "second_scan",
                     hit.rule_id, hit.start, hit.end, hit.score) for hit in detections]
    return hits


def _force(run: _Run, hits: list[Hit], forced: dict[redact.TextJob, tuple[Detection, ...]],
           kept: dict[redact.TextJob, list[tuple[int, int]]]) -> tuple[int, list[Hit]]:
    """Add each fixable hit to ``forced`` (raw offsets); return how many are new and the rest."""
    redaction = run.redaction
    by_position = redaction.jobs_by_position() if redaction is not None else {}
    position_of = {(name, str(key)): i for name in run.resolved.policy.files
                   for i, key in enumerate(run.loaded.tables[name][ROW_KEY])}
    added = 0
    unfixable: list[Hit] = []
    for hit in hits:
        position = position_of.get((hit.table, hit.row_key))
        job = by_position.get((hit.table, hit.column, position)) if position is not None else None
        if job is None or hit.start is None or hit.end is None or redaction is None:
            unfixable.append(hit)
            continue
        rendered = redaction.rendered[job]
        span = to_raw_span(job.text, rendered.text, rendered.replacements, hit.start, hit.end)
        if span is None:
            unfixable.append(hit)
            continue
        if any(s < span[1] and span[0] < e for s, e in kept.get(job, [])):
            continue  # a reviewer kept this text
        detection = Detection(span[0], span[1], _label(hit.entity_type), hit.detector, hit.score, hit.rule_id)
        current = forced.get(job, ())
        if any(d.start == detection.start and d.end == detection.end for d in current):
            unfixable.append(hit)  # forced already and still found: the redactor cannot remove it
            continue
        forced[job] = (*current, detection)
        added += 1
    return added, unfixable


def _label(entity_type: str) -> str:
    return entity_type if entity_type and entity_type != "VALUE" else "REDACTED"


def _report_unfixable(run: _Run, hits: list[Hit]) -> None:
    """What redaction could not fix blocks, each finding with its id and masked context."""
    findings: list[Finding] = []
    for hit in dict.fromkeys(hits):
        waived = _waived(run, hit)
        code = ("raw_value_in_public" if hit.detector == "leak_check" else "residual_pii")
        message = ("a raw-only value of a record appears in a public column" if hit.detector == "leak_check"
                   else f"possible {hit.entity_type} still in the public text after {MAX_VERIFY_ROUNDS} rounds")
        if waived:
            findings.append(Finding(stage=hit.detector, code=f"{code}_kept", severity="info",
                                    message="kept by a reviewer's decision", file=hit.file,
                                    row_key=hit.row_key, column=hit.column, rule=hit.rule_id))
            continue
        findings.append(Finding(stage=hit.detector, code=code, severity="blocking", message=message,
                                file=hit.file, row_key=hit.row_key, column=hit.column, rule=hit.rule_id, count=1))
        run.evidence.append(_evidence(run, hit))
    run.report = run.report.extend(findings)


def _cell(run: _Run, table: str, row_key: str, column: str) -> str:
    """The public cell's text ("" when blank, or when the row or column is not published)."""
    index = run.rows.get((table, row_key))
    frame = run.public[table] if table else None
    if index is None or frame is None or column not in frame.columns:
        return ""
    value = frame.at[index, column]
    return value if isinstance(value, str) else ""


def _evidence(run: _Run, hit: Hit) -> BlockedEvidence:
    cell = _cell(run, hit.table, hit.row_key, hit.column)
    context = None
    if hit.start is not None and hit.end is not None and hit.column in _free_text(run, hit.table):
        before = cell[max(0, hit.start - CONTEXT_CHARS):hit.start]
        after = cell[hit.end:hit.end + CONTEXT_CHARS]
        context = f"{before}⟦{hit.entity_type}, {hit.end - hit.start} characters, withheld here⟧{after}"
    return BlockedEvidence(
        finding_id=finding_id(hit.detector, hit.file, hit.row_key, hit.column, hit.rule_id),
        stage=hit.detector, code="raw_value_in_public" if hit.detector == "leak_check" else "residual_pii",
        file=hit.file, row_key=hit.row_key, column=hit.column, rule=hit.rule_id,
        entity_type=hit.entity_type, context=context, token=run.tokenizer.token(cell),
        decidable=True)


def _free_text(run: _Run, table: str) -> set[str]:
    return set(run.resolved.policy.files[table].free_text_columns()) if table else set()


# ---- reviewer decisions ---------------------------------------------------------------

def _reviewer_decisions(run: _Run) -> tuple[list[Decision], list[Finding]]:
    """Signed decisions recorded with ``release decide`` (kept outside the bundle, so rebuilds
    see them) by trusted signers the policy lets decide; the rest are reported (the findings
    returned), not applied."""
    from release.bundle.decisions import decisions_in_force
    from release.bundle.trust import Trust, load_signers

    options, resolved = run.options, run.resolved
    trust = Trust(resolved.rules_dir, resolved.policy.approvals, load_signers(resolved.rules_dir))
    force = decisions_in_force(options.dataset, options.year, options.out_dir, trust)
    return list(force.decisions), list(force.findings())


def _span_decisions(decisions: list[Decision]) -> list[ReviewerDecision]:
    from release.bundle.decisions import span_rulings
    return span_rulings(decisions)


def _kept_spans(run: _Run) -> dict[redact.TextJob, list[tuple[int, int]]]:
    """Raw spans a reviewer ruled "keep": never forced, never reported."""
    kept: dict[redact.TextJob, list[tuple[int, int]]] = {}
    if run.redaction is None:
        return kept
    for job, rendered in run.redaction.rendered.items():
        spans = [(span.start, span.end) for span, _, _ in rendered.placed if span.kept]
        if spans:
            kept[job] = spans
    return kept


def _waived(run: _Run, hit: Hit) -> bool:
    """A reviewer kept this finding, and the cell still holds what they saw."""
    fid = finding_id(hit.detector, hit.file, hit.row_key, hit.column, hit.rule_id)
    token = run.tokenizer.token(_cell(run, hit.table, hit.row_key, hit.column))
    return any(d.kind == "finding" and d.finding_id == fid and d.decision == "keep" and d.token == token
               for d in run.decisions)


def _apply_cell_decisions(run: _Run, public: Tables) -> tuple[Tables, list[RedactionEvent], list[Finding]]:
    """A reviewer's "redact" on a blocking finding blanks that public cell (while it holds
    what the reviewer saw)."""
    wanted = [d for d in run.decisions if d.kind == "finding" and d.decision == "redact"]
    if not wanted:
        return public, [], []
    policy, year = run.resolved.policy, run.options.year
    tables = {fp.public_file.format(year=year): name for name, fp in policy.files.items()}
    frames = dict(public.frames)
    events: list[RedactionEvent] = []
    stale: list[str] = []
    for decision in wanted:
        table = tables.get(decision.file)
        if table is None or decision.column not in frames[table].columns:
            stale.append(decision.row_key)
            continue
        frame = frames[table] = frames[table].copy()
        rows = frame.index[frame[ROW_KEY] == decision.row_key]
        value = frame.at[rows[0], decision.column] if len(rows) else None
        if not isinstance(value, str) or run.tokenizer.token(value) != decision.token:
            stale.append(decision.row_key)
            continue
        frame.loc[rows, decision.column] = None
        events.append(RedactionEvent(
            dataset=policy.dataset, file=policy.files[table].raw_file, row_key=decision.row_key,
            column=decision.column, action="drop_value", entity_type="VALUE", detector="reviewer",
            detector_version="reviewer decision", rule_id="reviewer.redact", score=1.0, start=-1, end=-1,
            out_start=-1, out_end=-1, removed_length=len(value), token=decision.token))
    findings = [Finding(stage="review", code="reviewer_decisions_applied", severity="info",
                        message="reviewer decisions on blocking findings applied", rule="review",
                        count=len(events))] if events else []
    if stale:
        findings.append(Finding(stage="review", code="reviewer_decisions_stale", severity="warning",
                                message="reviewer decisions not applied: the cell changed since review",
                                rule="review", count=len(stale), row_keys=tuple(stale[:20])))
    return Tables(frames), events, findings


# ---- public checks --------------------------------------------------------------------

def _prior_tables(options: BuildOptions, resolved: Resolved, specs: Sequence[TableSpec]) -> list[PublishedTable]:
    """Tables this dataset published in every other year (later ones too, on a rebuild): the
    suppression audit must hold over all of them together (of a split year, this system's part)."""
    return tables_api.published_tables(options.out_dir, options.dataset, specs, exclude=options.year,
                                       generation=resolved.generation.generation.name if resolved.generation else None)


def _risk_specs(resolved: Resolved) -> tuple[RiskSpec, ...]:
    """The record-level files of this policy whose re-identification risk the privacy policy measures."""
    privacy = resolved.configuration.privacy
    return privacy.record_risk.get(resolved.policy_name, ()) if privacy is not None else ()


def _linkage_coarsening(resolved: Resolved) -> dict[str, dict[str, str]]:
    """A person-level protected table goes out only with a record-level file that cannot link one
    person's reports: the columns its linkage spec names are coarsened (``release.privacy.linkage``)."""
    from release.privacy import linkage

    tables = resolved.configuration.tables
    return linkage.coarsening(tables) if tables is not None else {}


def _check_public(run: _Run) -> list[SuiteResult]:
    """The public expectation suite over the record files and the derived files."""
    policy, year, public = run.resolved.policy, run.options.year, run.public
    blocked_rows = {(f.file, f.row_key) for f in run.report.blocking if f.stage == "leak_check"}
    public_tables = []
    for name, file_policy in policy.files.items():
        frame = public[name].copy()
        public_file = file_policy.public_file.format(year=year)
        frame["_raw_value_leak"] = [(public_file, str(k)) in blocked_rows for k in frame[ROW_KEY]]
        public_tables.append(validate_table(name, public_file, frame))
    for extra in run.derived.files:
        frame = extra.frame.copy()
        frame[ROW_KEY] = [str(i) for i in range(1, len(frame) + 1)]
        public_tables.append(validate_table(extra.name, Path(extra.relpath).name, frame))
    assert run.validator is not None
    public_results, found = run.validator.validate(
        public_tables, run.resolved.expectations_dir / f"{run.resolved.policy_name}_public.json", stage="validate_public")
    run.report = run.report.extend(found)
    return public_results

