"""``release audit --raw``: every redaction the log records is one the build's detectors make from the
raw export, and every redaction the engine makes is in the log (check ``redactions_redetected``; issue
#12, round 27 F-span).

``record_cells_replayed`` proves the public text is the raw text with the log's spans rendered, and
that each span is well formed (its token the HMAC of the removed text, its placeholder one the build
writes). It cannot tell a span the build's detectors made from one an analyst holding the release key
wrote at a chosen offset, re-chained and bound again: a forged span hides published text (a word of an
officer's account) or, placed by a rule only its writer knows, carries a signal. Nor can it see a span
taken out of the log together with its placeholder (a name published again).

Here the trusted rules' engine, the one the build runs, reads the raw free text again and makes the
redactions the build makes:

1. **exact**: every text must carry exactly the redactions the build makes of it: the engine's first
   round with the record's terms, then the build's verify rounds replayed (each round's second scan
   at the policy's lower threshold, and the leak check's raw-only values it still shows, forced into
   the next round's redaction, whose later mentions of a forced name are redacted too), then the
   reviewer's signed decisions the log records, applied as ``redact.apply_decisions`` applies them:
   the same spans, entity types and placeholders. With the HMAC key, the log's reviewer and kept
   spans must be exactly those the signed decisions in force make (``decisions.decisions_in_force``,
   ordered by the privacy ledger; round 30, M1: a keep in force left out of the log, or a reviewer's
   redaction dropped, passed when only the log's own decisions were applied). Round 28 showed why
   "inside some detection" is not enough: a span over a space has no letter or digit to check, and a
   real redaction could be relabelled, renumbered, split or widened, each carrying a value's digits.
   Round 29: the rounds are replayed for every text, so a text they changed cannot go back to its
   first round (a name a round forced published again), and a text a reviewer touched is held as
   exactly as any other;
2. **coverage**: every letter and digit the engine's first round redacts must be inside a logged
   span (a redaction, a reviewer's or a kept one), or the log dropped a redaction.

On the City's honest builds the check finds nothing (``benchmarks/bench_redetect.py``); a false alarm
would be reported, never waved through. It needs no HMAC key but for the decisions in force (without
it the log's own decisions are applied): without the raw export or the trusted rules it is "not
run"; a dataset with no free text has nothing to check. It costs about one redaction pass and one
scan pass of the export.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from release.audit.report import AuditCheck, from_problems, not_run
from release.bundle.manifest_recorded import Recorded
from release.config.policy import DatasetPolicy
from release.errors import ReleaseError
from release.keys.hmac import Tokenizer
from release.model import ROW_KEY
from release.pii.terms import RecordTerms
from release.stages.load import Loaded

NAME = "redactions_redetected"
RULE = "rule span-redetected"
MAX_LISTED = 20  # problems listed per direction; the rest are counted
Span = tuple[int, int]
NOT_MADE = "a redaction the build's engine does not make from the raw export (its span, type or placeholder)"
NOT_LOGGED = "a redaction the build's engine makes that the log does not hold"
NOT_DECIDED = ("the log's reviewer spans are not those the reviewers' signed decisions in force make (a decision "
               "left out, or one not in force)")


def check_redetected(loaded: Loaded, manifest: Mapping[str, Any], bundle: Path, rules_dir: Path | None,
                     tokenizer: Tokenizer | None = None) -> AuditCheck:
    """The check over a draft bundle's redaction log and the raw export it was built from; with the
    ``tokenizer`` (the HMAC key), the reviewers' signed decisions in force are applied as the build
    applies them (``_in_force``)."""
    from release.audit.record_replay import logged_spans, trusted_or_not_run

    trusted = trusted_or_not_run(NAME, manifest, bundle, rules_dir, None, None)  # needs no key
    if isinstance(trusted, AuditCheck):
        return trusted
    assert rules_dir is not None
    policy: DatasetPolicy = trusted.policy
    if policy.narrative is None:
        return not_run(NAME, "the dataset has no free text the engine redacts")
    spans, _, _ = logged_spans(bundle)  # an entry not of its types: record_cells_replayed names it
    try:
        engine = _engine(policy, loaded, rules_dir)
    except ReleaseError as exc:
        return from_problems(NAME, [f"the trusted PII engine cannot be loaded: {exc.one_line()}"], {})
    rulings = _in_force(policy, manifest, bundle, rules_dir) if tokenizer is not None else None
    if isinstance(rulings, str):
        return from_problems(NAME, [f"the reviewers' decisions cannot be read: {rulings} ({RULE})"], {})
    unsupported, uncovered, counts = _compare(policy, loaded, trusted.year, engine, spans,
                                              (rulings, tokenizer) if rulings is not None and tokenizer else None)
    problems = _listed(unsupported) + _listed([f"{where}: text the build's engine redacts that the log leaves "
                                               "published" for where in uncovered])
    return from_problems(NAME, problems, counts)


def _in_force(policy: DatasetPolicy, manifest: Mapping[str, Any], bundle: Path, rules_dir: Path) -> Any:
    """The span decisions in force, by (record key, column), read with the trusted policy's ledger
    (``decisions.decisions_in_force``), or why they cannot be read."""
    from release.bundle.decisions import decisions_in_force, span_rulings
    from release.bundle.trust import trust_for
    from release.stages.redact import decisions_by_record

    year = Recorded.of(manifest).year_number
    try:
        force = None if year is None else decisions_in_force(policy.dataset, year, bundle.parent.parent,
                                                             trust_for(policy.dataset, rules_dir, manifest))
    except (ReleaseError, KeyError, TypeError, ValueError) as exc:
        return exc.one_line() if isinstance(exc, ReleaseError) else "the manifest names no year"
    if force is None:
        return "the manifest names no year"
    return decisions_by_record(span_rulings(force.decisions))


def _listed(found: Sequence[str]) -> list[str]:
    return [f"{problem} ({RULE})" for problem in found[:MAX_LISTED]] + (
        [f"{len(found) - MAX_LISTED} more ({RULE})"] if len(found) > MAX_LISTED else [])


def _engine(policy: DatasetPolicy, loaded: Loaded, rules_dir: Path) -> Any:
    """The engine the build runs for this export (the trusted recognizers, threshold and officer roster):
    this process's loaded one when it has it (``workers.warm_engine``)."""
    from release.execution.workers import warm_engine
    from release.pii.engine import EngineSettings
    from release.stages.redact import officer_roster

    narrative = policy.narrative
    assert narrative is not None
    return warm_engine(EngineSettings(rules_dir=rules_dir / narrative.rules_dir,
                                      officers=officer_roster(loaded.tables, policy),
                                      officer_policy=narrative.officer_policy, threshold=narrative.threshold))


Made = tuple[int, int, str, str]  # raw start, end, entity type, placeholder


def _compare(policy: DatasetPolicy, loaded: Loaded, year: int, engine: Any,
             spans: Mapping[tuple[str, str, str], list[dict[str, Any]]], rulings: tuple[Any, Tokenizer] | None = None
             ) -> tuple[list[str], list[str], dict[str, int]]:
    """The cells whose logged redactions are not the ones the build makes, and the cells where the first
    round redacts text the log leaves. Every text must carry exactly the redactions of the build's
    verify rounds replayed from its first round (``_rounds``; most texts: the first round itself), with
    the reviewer's signed decisions the log records applied as ``redact.apply_decisions`` applies them
    (a kept span leaves the redaction it keeps out; a reviewer's own span adds one, unnumbered): the
    same spans, types and placeholders. With ``rulings`` (the span decisions in force by record, and the
    tokenizer), the log's reviewer and kept spans must be exactly those ``redact.apply_decisions`` places
    from them (round 30, M1: a signed keep in force left out of the log passed)."""
    from release.stages import juvenile
    from release.stages.redact import record_terms, text_jobs
    narrative = policy.narrative
    assert narrative is not None
    jobs = text_jobs(loaded.tables, policy, juvenile.minor_keys(loaded.tables, policy))
    ordered = sorted(jobs, key=lambda j: (j.table, j.column, j.key, j.text))
    terms = record_terms(loaded.tables, policy)
    made = engine.redact_many([job.text for job in ordered],
                              [terms.get(job.key, RecordTerms()) for job in ordered]) if ordered else []
    labelled = _leak_spans(policy, loaded, year)
    first = dict(zip(ordered, made, strict=True))
    cells = {job: [_cell(policy, loaded, job, position) for position in jobs[job]] for job in ordered}
    signed = {job: [e for _, cell in cells[job] for e in spans.get(cell, []) if _signed_kind(e)] for job in ordered}
    # a reviewer's span or kept span: its text is not what a round scans or leak-checks (build._force)
    decided = {job: [(e["start"], e["end"]) for e in signed[job]] for job in ordered}
    final = _rounds(engine, [(job, first[job]) for job in ordered], terms, labelled, cells, decided,
                    narrative.second_scan_threshold) if ordered else {}
    counts = {"texts": len(ordered), "spans_checked": sum(len(spans.get(c, [])) for j in ordered for _, c in cells[j]),
              "texts_as_first_round": 0, "texts_as_verify_rounds": 0, "texts_reviewed": 0}
    uncovered = [where for job in ordered for where, cell in cells[job]
                 if not all(_covered(job.text, r.start, r.end, [(e["start"], e["end"]) for e in spans.get(cell, [])])
                            for r in first[job].replacements)]
    missing: list[str] = []
    for job in ordered:
        kept = {(e["start"], e["end"]) for e in signed[job] if e.get("action") == "keep"}
        want = [(r.start, r.end, r.entity_type, r.placeholder) for r in final[job].replacements
                if (r.start, r.end) not in kept]
        wrong = []
        for where, cell in cells[job]:
            if rulings is not None and _reviewed(_signed_in(spans.get(cell, [])), job, final[job], *rulings):
                wrong.append(f"{where}: {NOT_DECIDED}")
            entries = [e for e in spans.get(cell, []) if not _signed_kind(e)]
            if _made(entries) == want:
                continue
            extra = [e for e in entries if _made([e])[0] not in want]
            wrong += [f"{where}, log seq {e.get('seq')}: {NOT_MADE}" for e in extra]
            wrong += [f"{where}: {NOT_LOGGED}"] if not extra and where not in uncovered else []
        if not wrong and not any(where in uncovered for where, _ in cells[job]):
            counts["texts_reviewed" if signed[job] else "texts_as_first_round" if final[job] is first[job]
                   else "texts_as_verify_rounds"] += 1
        missing += wrong
    return missing, uncovered, counts


def _signed_in(entries: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [e for e in entries if _signed_kind(e)]


def _reviewed(logged: Sequence[Mapping[str, Any]], job: Any, final: Any, by_record: Mapping[tuple[str, str], Any],
              tokenizer: Tokenizer) -> bool:
    """The log's reviewer and kept spans of one cell differ from those the decisions in force place
    on the replayed redaction (``redact.apply_decisions``, as the build applies them; a decision the
    raw text no longer holds is stale there and here)."""
    from release.stages.redact import apply_decisions

    mine = by_record.get((job.key, job.column), [])
    if not mine:
        return bool(logged)
    _, placed, _, _ = apply_decisions(job.text, final.replacements, mine, tokenizer)
    return _made(logged) != sorted((s.start, s.end, s.entity_type, s.placeholder)
                                   for s, _, _ in placed if s.detector == "reviewer")


def _signed_kind(entry: Mapping[str, Any]) -> bool:
    """A reviewer's span or a kept one: a signed decision (``record_cells_replayed`` checks that)."""
    return entry.get("detector") == "reviewer" or entry.get("action") == "keep"


def _made(entries: Sequence[Mapping[str, Any]]) -> list[Made]:
    return sorted((e["start"], e["end"], str(e.get("entity_type")), str(e.get("placeholder"))) for e in entries)


def _rounds(engine: Any, pending: list[tuple[Any, Any]], terms: Mapping[str, Any],
            leaks: Mapping[tuple[str, str, str], list[tuple[int, int, str]]],
            cells: Mapping[Any, list[tuple[str, tuple[str, str, str]]]], decided: Mapping[Any, list[Span]],
            threshold: float) -> dict[Any, Any]:
    """The build's verify rounds (``build._verify``) for ``pending`` (each job with its first round):
    the second scan of each round's text and the leak check's values it still shows become forced spans
    of the next round's redaction (a name a round forced is redacted again at its later mentions), until
    a round adds none or ``MAX_VERIFY_ROUNDS``. A hit on text a reviewer decided (``decided``) is not
    forced, as in the build. Returns each job's last redaction: the first round when no round changed it."""
    from release.pii.placeholders import Detection
    from release.pii.residual import ResidualText, scan_residual
    from release.stages.verify import MAX_VERIFY_ROUNDS, to_raw_span

    forced: dict[Any, tuple[Any, ...]] = {job: () for job, _ in pending}
    final = dict(pending)
    current = dict(pending)
    for round_number in range(1, MAX_VERIFY_ROUNDS + 1):
        jobs = list(current)
        # the build's second scan, as the build runs it (``release.pii.residual``)
        scanned = scan_residual(engine, [ResidualText(current[j].text, tuple((p.out_start, p.out_end)
                                                                             for p in current[j].replacements))
                                         for j in jobs], threshold=threshold)
        added = []
        for job, hits in zip(jobs, scanned, strict=True):
            result = current[job]
            redacted = [(r.start, r.end) for r in result.replacements] + list(decided[job])
            new = [Detection(*span, h.entity_type, "second_scan", h.score, h.rule_id) for h in hits
                   if (span := to_raw_span(job.text, result.text, result.replacements, h.start, h.end))
                   and not any(s < span[1] and span[0] < e for s, e in decided[job])]
            new += [Detection(start, end, label if label != "VALUE" else "REDACTED", "leak_check", 1.0, "raw-only")
                    for _, cell in cells[job][:1] for start, end, label in leaks.get(cell, [])
                    if not _covered(job.text, start, end, redacted)]
            have = {(d.start, d.end) for d in forced[job]}
            new = [d for d in new if (d.start, d.end) not in have]
            if new:
                forced[job] = (*forced[job], *new)
                added.append(job)
        if not added or round_number == MAX_VERIFY_ROUNDS:
            break
        redone = engine.redact_many([j.text for j in added], [terms.get(j.key, RecordTerms()) for j in added],
                                    forced=[forced[j] for j in added])
        current = dict(zip(added, redone, strict=True))
        final.update(current)
    return final


def _cell(policy: DatasetPolicy, loaded: Loaded, job: Any, position: int) -> tuple[str, tuple[str, str, str]]:
    """Where a job's text sits (as messages name it: file, row key, column) and its log cell."""
    raw_file = policy.files[job.table].raw_file
    row_key = str(loaded.tables[job.table][ROW_KEY].iat[position])
    return f"{raw_file}, row {row_key}, column {job.column}", (raw_file, row_key, job.column)


def _leak_spans(policy: DatasetPolicy, loaded: Loaded, year: int
                ) -> dict[tuple[str, str, str], list[tuple[int, int, str]]]:
    """The leak check's spans in the raw free text: raw-only values of the record and of every record,
    as the build's verify rounds find them in public text (the raw text holds all of them)."""
    from release.stages.leakcheck import LeakChecker

    frames = {}
    for name, file_policy in policy.files.items():
        frame = loaded.tables[name]
        columns = [c for c in file_policy.free_text_columns() if c in frame.columns]
        frames[name] = frame[list(dict.fromkeys([file_policy.link_column, ROW_KEY, *columns]))]
    checker = LeakChecker(dict(loaded.tables.frames), policy, year)
    raw_files = {fp.public_file.format(year=year): fp.raw_file for fp in policy.files.values()}
    found: dict[tuple[str, str, str], list[tuple[int, int, str]]] = {}
    for leak in [*checker.find_leaks(frames)[1], *checker.find_global_leaks(frames)]:
        key = (raw_files.get(leak.file, ""), leak.row_key, leak.column)
        found.setdefault(key, []).extend(leak.spans)
    return found


def _covered(text: str, start: int, end: int, spans: Iterable[Span]) -> bool:
    """Every letter and digit of ``text[start:end]`` lies inside one of ``spans``."""
    inside: set[int] = set()
    for s, e in spans:
        if s < end and start < e:
            inside.update(range(max(s, start), min(e, end)))
    return all(i in inside for i in range(start, end) if text[i].isalnum())

