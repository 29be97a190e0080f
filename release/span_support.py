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

1. **exact**: a text no reviewer touched must carry exactly the redactions of the engine's first
   round with its record's terms (most texts), or else of the build's verify rounds replayed (each
   round's second scan at the policy's lower threshold, and the leak check's raw-only values it still
   shows, forced into the next round's redaction, whose later mentions of a forced name are redacted
   too): the same spans, entity types and placeholders. Round 28 showed why support alone is not
   enough: a span over a space has no letter or digit to support, and a real redaction could be
   relabelled, renumbered, split or widened; each carried a value's digits in the placeholders;
2. **reviewed texts**: a reviewer's span or kept span is a signed decision (``record_cells_replayed``
   checks that); each other span must be one the detectors find (first round, leak values, the rounds
   replayed, the raw text's own scan), with its type, and the placeholders numbered as
   ``placeholders.render`` numbers them (per type, in text order, each a number seen or the next);
3. **coverage**: every letter and digit the engine's first round redacts must be inside a logged span
   (a redaction, a reviewer's or a kept one), or the log dropped a redaction.

On the City's honest builds the check finds nothing (``benchmarks/bench_redetect.py``); a false alarm
would be reported, never waved through. It needs no HMAC key: without the raw export or the trusted
rules it is "not run"; a dataset with no free text has nothing to check. It costs about one
redaction pass of the export, and a scan of the texts the verify rounds changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from release.audit_report import AuditCheck, from_problems, not_run
from release.config import DatasetPolicy
from release.errors import ReleaseError
from release.pii.terms import RecordTerms
from release.stages.load import ROW_KEY, Loaded

NAME = "redactions_redetected"
RULE = "rule span-redetected"
MAX_LISTED = 20  # problems listed per direction; the rest are counted
Span = tuple[int, int]
NOT_MADE = "a redaction the build's engine does not make from the raw export (its span, type or placeholder)"
NOT_LOGGED = "a redaction the build's engine makes that the log does not hold"

def check_redetected(loaded: Loaded, manifest: Mapping[str, Any], bundle: Path, rules_dir: Path | None
                     ) -> AuditCheck:
    """The check over a draft bundle's redaction log and the raw export it was built from."""
    from release.record_replay import logged_spans, trusted_or_not_run

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
    unsupported, uncovered, counts = _compare(policy, loaded, trusted.year, engine, spans)
    problems = _listed(unsupported) + _listed([f"{where}: text the build's engine redacts that the log leaves "
                                               "published" for where in uncovered])
    return from_problems(NAME, problems, counts)


def _listed(found: Sequence[str]) -> list[str]:
    return [f"{problem} ({RULE})" for problem in found[:MAX_LISTED]] + (
        [f"{len(found) - MAX_LISTED} more ({RULE})"] if len(found) > MAX_LISTED else [])


def _engine(policy: DatasetPolicy, loaded: Loaded, rules_dir: Path) -> Any:
    """The engine the build runs for this export (the trusted recognizers, threshold and officer roster):
    this process's loaded one when it has it (``workers.warm_engine``)."""
    from release.pii.engine import EngineSettings
    from release.pii.workers import warm_engine
    from release.stages.redact import officer_roster

    narrative = policy.narrative
    assert narrative is not None
    return warm_engine(EngineSettings(rules_dir=rules_dir / narrative.rules_dir,
                                      officers=officer_roster(loaded.tables, policy),
                                      officer_policy=narrative.officer_policy, threshold=narrative.threshold))


Typed = tuple[int, int, str]  # raw start, end, entity type
Made = tuple[int, int, str, str]  # ... and placeholder


def _compare(policy: DatasetPolicy, loaded: Loaded, year: int, engine: Any,
             spans: Mapping[tuple[str, str, str], list[dict[str, Any]]]
             ) -> tuple[list[str], list[str], dict[str, int]]:
    """The cells whose logged redactions the build's engine does not make, and the cells where the
    first round redacts text the log leaves. A cell no reviewer touched must carry exactly the
    redactions of the first round or of the verify rounds replayed (``_rounds``): the same spans,
    types and placeholders. A reviewed cell's other spans must each be a span the detectors find,
    with its type, and its placeholders numbered as the build numbers them. The rounds are replayed
    only for texts the first round does not explain (those the build's verify rounds changed: few)."""
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
    support: dict[Any, set[Typed]] = {job: {(r.start, r.end, r.entity_type) for r in first[job].replacements}
                                      for job in ordered}
    for job in ordered:
        support[job] |= {(s, e, "REDACTED" if label == "VALUE" else label)
                         for _, cell in cells[job][:1] for s, e, label in labelled.get(cell, [])}
    counts = {"texts": len(ordered), "spans_checked": sum(len(spans.get(c, [])) for j in ordered for _, c in cells[j]),
              "texts_as_first_round": 0, "texts_as_verify_rounds": 0, "texts_reviewed": 0}

    def exact(job: Any, result: Any) -> bool:
        want = [(r.start, r.end, r.entity_type, r.placeholder) for r in result.replacements]
        return all(not _reviewed(spans.get(cell, [])) and _made(spans.get(cell, [])) == want for _, cell in cells[job])

    pending = [job for job in ordered if not exact(job, first[job])]
    counts["texts_as_first_round"] = len(ordered) - len(pending)
    final = {}
    if pending:  # the build's verify rounds, replayed for these texts only
        found, final = _rounds(engine, [(job, first[job]) for job in pending], terms, labelled, cells,
                               narrative.second_scan_threshold)
        for job, typed in found.items():
            support[job] |= typed
        scanned = engine.scan_many([job.text for job in pending], threshold=narrative.second_scan_threshold)
        for job, hits in zip(pending, scanned, strict=True):  # a reviewer's decisions change what a round scans
            support[job] |= {(h.start, h.end, h.entity_type) for h in hits}
    uncovered = [where for job in ordered for where, cell in cells[job]
                 if not all(_covered(job.text, r.start, r.end, [(e["start"], e["end"]) for e in spans.get(cell, [])])
                            for r in first[job].replacements)]
    missing: list[str] = []
    for job in pending:
        reviewed = any(_reviewed(spans.get(cell, [])) for _, cell in cells[job])
        if not reviewed and exact(job, final[job]):
            counts["texts_as_verify_rounds"] += 1
            continue
        counts["texts_reviewed"] += reviewed
        want = {(r.start, r.end, r.entity_type, r.placeholder) for r in final[job].replacements}
        for where, cell in cells[job]:
            entries = sorted(spans.get(cell, []), key=lambda e: (e["start"], e["end"]))
            if reviewed:
                missing += [f"{where}, log seq {e.get('seq')}: {NOT_MADE}" for e in entries if not _signed_kind(e)
                            and (e["start"], e["end"], e.get("entity_type")) not in support[job]]
                if not _numbered(job.text, entries):
                    missing.append(f"{where}: placeholders not numbered as the build numbers them")
                continue
            extra = [e for e in entries if _made([e])[0] not in want]
            missing += [f"{where}, log seq {e.get('seq')}: {NOT_MADE}" for e in extra]
            if not extra and where not in uncovered:
                missing.append(f"{where}: {NOT_LOGGED}")
    return missing, uncovered, counts


def _signed_kind(entry: Mapping[str, Any]) -> bool:
    """A reviewer's span or a kept one: a signed decision (``record_cells_replayed`` checks that)."""
    return entry.get("detector") == "reviewer" or entry.get("action") == "keep"


def _reviewed(entries: Sequence[Mapping[str, Any]]) -> bool:
    return any(_signed_kind(e) for e in entries)


def _made(entries: Sequence[Mapping[str, Any]]) -> list[Made]:
    return sorted((e["start"], e["end"], str(e.get("entity_type")), str(e.get("placeholder"))) for e in entries)


def _numbered(text: str, entries: Sequence[Mapping[str, Any]]) -> bool:
    """Placeholders numbered as ``placeholders.render`` numbers them: per type, in text order, each
    one a number seen before or the next one after the raw text's own."""
    from release.pii.placeholders import PLACEHOLDER, _existing_numbers

    highest = _existing_numbers(text)
    for entry in entries:
        if entry.get("action") == "keep":
            continue
        match = PLACEHOLDER.fullmatch(str(entry.get("placeholder", "")))
        if match is None:
            return False  # record_cells_replayed names the form
        label, number = match.group(1), int(match.group(2))
        if number > highest[label] + 1:
            return False
        highest[label] = max(highest[label], number)
    return True


def _rounds(engine: Any, pending: list[tuple[Any, Any]], terms: Mapping[str, Any],
            leaks: Mapping[tuple[str, str, str], list[tuple[int, int, str]]],
            cells: Mapping[Any, list[tuple[str, tuple[str, str, str]]]], threshold: float
            ) -> tuple[dict[Any, set[Typed]], dict[Any, Any]]:
    """The build's verify rounds (``build._verify``) for ``pending`` (each job with its first round):
    the second scan of each round's text and the leak check's values it still shows become forced spans
    of the next round's redaction, until a round adds none or ``MAX_VERIFY_ROUNDS``. Returns every typed
    span each round redacted or found (a name a round forced is redacted again at its later mentions,
    ``propagation``; a round's scan reads text with more redacted than the first), and each job's last
    redaction: what the build logs for a text no reviewer touched."""
    from release.pii.placeholders import Detection
    from release.stages.verify import MAX_VERIFY_ROUNDS, to_raw_span

    found: dict[Any, set[Typed]] = {job: set() for job, _ in pending}
    forced: dict[Any, tuple[Any, ...]] = {job: () for job, _ in pending}
    final = dict(pending)
    current = dict(pending)
    for round_number in range(1, MAX_VERIFY_ROUNDS + 1):
        jobs = list(current)
        scanned = engine.scan_many([current[j].text for j in jobs], threshold=threshold,
                                   placeholders=[[(p.out_start, p.out_end) for p in current[j].replacements]
                                                 for j in jobs])
        added = []
        for job, hits in zip(jobs, scanned, strict=True):
            result = current[job]
            redacted = [(r.start, r.end) for r in result.replacements]
            new = [Detection(*span, h.entity_type, "second_scan", h.score, h.rule_id) for h in hits
                   if (span := to_raw_span(job.text, result.text, result.replacements, h.start, h.end))]
            new += [Detection(start, end, label if label != "VALUE" else "REDACTED", "leak_check", 1.0, "raw-only")
                    for _, cell in cells[job][:1] for start, end, label in leaks.get(cell, [])
                    if not _covered(job.text, start, end, redacted)]
            have = {(d.start, d.end) for d in forced[job]}
            new = [d for d in new if (d.start, d.end) not in have]
            found[job] |= {(d.start, d.end, d.entity_type) for d in new}
            if new:
                forced[job] = (*forced[job], *new)
                added.append(job)
        if not added or round_number == MAX_VERIFY_ROUNDS:
            break
        redone = engine.redact_many([j.text for j in added], [terms.get(j.key, RecordTerms()) for j in added],
                                    forced=[forced[j] for j in added])
        current = dict(zip(added, redone, strict=True))
        final.update(current)
        for job, result in current.items():
            found[job] |= {(r.start, r.end, r.entity_type) for r in result.replacements}
    return found, final


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
    inside = set()
    for s, e in spans:
        if s < end and start < e:
            inside.update(range(max(s, start), min(e, end)))
    return all(i in inside for i in range(start, end) if text[i].isalnum())

