"""``release audit --raw``: every record-level public file replayed cell by cell from the raw export
(check ``record_cells_replayed``; issue #12, round 25 F-free-text, C-pir-age, D-counts).

An analyst holding the release key copied an honest paid bundle, wrote the protected table's exact
counts into a free-text cell (``contact_reason``, ``vehicle_model``, ``otherclothing``), adults' exact
ages into ``person_in_report`` or a derived file's counts +1, redid the hashes and bound it again:
the checks without the raw export cannot regenerate a free-text cell. Here the record files are
made again from the raw export the way the build makes them, without the PII model:

1. **the redaction log's spans** are applied to the raw text (``redact.render_logged``, the
   build's own rendering). Each span must be sound: its token the HMAC of the removed text
   (``release.keys.hmac``; the PII engine's folded form accepted, as ``log_tokens`` does), inside its
   cell, not overlapping another, in a free-text column, at the output offsets it records, its
   placeholder one the build writes (``[TYPE n]`` of its own entity type, ``n`` no larger than the
   cell's spans of that type allow; ``[TYPE]`` for a reviewer's; none for a kept span), so a
   placeholder cannot carry a value either;
2. **the build's path**: ``datasets.derive_public`` (generalization, the reviewer's cell decisions
   as the log records them, the dataset's derive step), ``public_form.finish`` (the trusted linkage
   coarsening, record risk, portal form) and ``public_form.written`` (column order, report
   pseudonyms, row order), every cell spreadsheet-safe (``cells.safe_frame``);
3. **every cell** of every published record file, and every derived file (the firearms daily
   counts), compared with the CSV the build would write.

A difference fails naming the file, row key (the load's, as the log names rows), column and rule,
never a value. Without the raw export, the HMAC key or the trusted rules the check is "not run".
The log cannot show a span the build should have redacted and did not: the leak checks
(``raw_values_absent``) and the PII scan (``residual_pii``) look for that.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from release.audit.report import AuditCheck, from_problems, not_run
from release.bundle.manifest_recorded import Recorded
from release.bundle.read import manifest_privacy
from release.config.policy import DatasetPolicy
from release.errors import ReleaseError
from release.keys.hmac import Tokenizer
from release.model import ROW_KEY, Finding, RedactionEvent, Tables
from release.stages.load import Loaded

if TYPE_CHECKING:
    from release.datasets import CellDecisions

NAME = "record_cells_replayed"
RULE = "rule record-replay"
MAX_LISTED = 20  # cell problems listed per file; the rest are counted
Cell = tuple[str, str, str]  # (raw file, row key, column)


def not_run_replay(reason: str) -> AuditCheck:
    return not_run(NAME, reason)


def check_replayed(policy: DatasetPolicy, loaded: Loaded, manifest: Mapping[str, Any], bundle: Path,
                   rules_dir: Path | None, tokenizer: Tokenizer | None) -> AuditCheck:
    """The check over a draft bundle's public record files and derived files."""
    trusted = trusted_or_not_run(NAME, manifest, bundle, rules_dir, tokenizer,
                                 "the log's tokens and the report pseudonyms need it")
    if isinstance(trusted, AuditCheck):
        return trusted
    assert rules_dir is not None and tokenizer is not None
    from release.pii.placeholders import engine_labels

    try:
        known = engine_labels(rules_dir / "pii")
    except ReleaseError as exc:
        return from_problems(NAME, [f"the trusted recognizers cannot be read: {exc.one_line()}"], {})
    spans, decisions, problems = logged_spans(bundle)
    problems += _unsigned(policy, manifest, bundle, rules_dir, [e for es in spans.values() for e in es] + decisions)
    redacted, span_problems, counts = _redacted(policy, loaded.tables, spans, tokenizer, known)
    problems += span_problems
    try:
        expected, notes, withheld = _expected(policy, trusted, loaded, redacted, decisions, tokenizer)
    except ReleaseError as exc:
        return from_problems(NAME, problems + [f"the record files cannot be made again from the raw export: "
                                               f"{exc.one_line()}"], counts)
    for relpath, (frame, keys, rules) in expected.items():
        problems += _compared(bundle / relpath, relpath, frame, keys, rules)
    # compared as written: a template's number slot is a channel without the raw export
    if Recorded.of(manifest).value("dataset_notes") != list(notes):
        problems.append(f"manifest.json dataset_notes: not the notes the build writes from this export ({RULE})")
    problems += _tables_left_out(trusted, bundle, withheld, bool(manifest_privacy(manifest).get("tables")))
    counts.update(files=len(expected), cells=sum(f.size for f, _, _ in expected.values()))
    return from_problems(NAME, problems, counts)


def _tables_left_out(trusted: Any, bundle: Path, withheld: set[str], stated: bool) -> list[str]:
    """The declared tables a release publishes are those the build publishes from this export: every one
    but those linking the public files withholds (``tables.withheld_tables``, replayed here). Round 35 (F1):
    a declared table left out (its file, resource and statement entry), or a withheld one put back,
    passed every check without the raw export: which tables go out was the analyst's choice."""
    from release.audit.trusted_release import TABLES

    declared = [spec.name for spec in (trusted.tables.tables if trusted.tables else ())]
    folder = bundle / "public" / TABLES
    published = {p.stem for p in folder.glob("*.csv") if p.is_file()} if folder.is_dir() else set()
    if not published or not stated:
        return []  # a bundle written without its tables' statement: one bit, which the other checks leave open too
    problems = [f"public table {name}: the build publishes it from this export and the bundle leaves it out "
                f"(rule tables; {RULE})" for name in declared if name not in withheld and name not in published]
    return problems + [f"public table {name}: linking the public files of this export withholds it, and the bundle "
                       f"publishes it (rule tables; {RULE})" for name in declared if name in withheld and name in published]


def trusted_or_not_run(name: str, manifest: Mapping[str, Any], bundle: Path, rules_dir: Path | None,
                       tokenizer: Tokenizer | None, key_use: str | None) -> Any:
    """The trusted declarations a check that replays the raw export judges by, or the check ``name``
    not run (no HMAC key, when ``key_use`` says what needs it; no trusted rules; a blocked build) or
    failed (trusted rules that cannot be read)."""
    if tokenizer is None and key_use is not None:
        return not_run(name, f"no HMAC key given: {key_use}")
    if rules_dir is None:
        return not_run(name, "no trusted rules given")
    if not (bundle / "public").is_dir():
        return not_run(name, "the bundle has no public files (a blocked build)")
    from release.audit.trusted_release import trusted_for

    trusted = trusted_for(Recorded.of(manifest).dataset_name, rules_dir, manifest)
    return from_problems(name, [f"the trusted rules cannot be read: {trusted}"], {}) if isinstance(trusted, str) \
        else trusted


_TEXT_FIELDS = ("file", "row_key", "column", "action", "detector", "entity_type", "placeholder", "token")


def logged_spans(bundle: Path) -> tuple[dict[Cell, list[dict[str, Any]]], list[dict[str, Any]], list[str]]:
    """The log's spans in text (by cell) and its reviewer cell decisions; an entry whose fields are
    not of their type (a list for a token: a value no set holds) is named, not used. The log's own
    integrity is ``check_log``'s (hash chain, trailer)."""
    from release.audit.checks import log_entries

    spans: dict[Cell, list[dict[str, Any]]] = defaultdict(list)
    decisions: list[dict[str, Any]] = []
    problems: list[str] = []
    for entry in log_entries(bundle):
        if entry.get("trailer"):
            continue
        if not (all(isinstance(entry.get(f, ""), str) for f in _TEXT_FIELDS)
                and all(type(entry.get(f)) is int for f in ("seq", "start", "end"))):
            problems.append(f"log seq {_seq(entry)}: a field is not of the type the build writes ({RULE})")
            continue
        cell = (str(entry["file"]), str(entry["row_key"]), str(entry["column"]))
        if entry.get("detector") == "reviewer" and entry.get("action") == "drop_value":
            decisions.append(entry)
        elif entry["start"] >= 0:
            spans[cell].append(entry)
    return spans, decisions, problems


def _seq(entry: Mapping[str, Any]) -> str:
    return str(entry["seq"]) if type(entry.get("seq")) is int else "(unnumbered)"


DECISIONS = "reviewer_decisions"


def check_decisions(policy: DatasetPolicy, manifest: Mapping[str, Any], bundle: Path, rules_dir: Path) -> AuditCheck:
    """What the reviewers' signed decisions hold without the raw export (plain ``audit``; with ``--raw``
    ``check_replayed`` reports the same among its cells): every reviewer entry of the log made by a signed
    decision of a trusted reviewer in force, and every decision the privacy ledger records in the
    decisions file (round 30, R3: before, only ``audit --raw`` saw a deleted decision)."""
    spans, decisions, problems = logged_spans(bundle)
    reviewed = [e for es in spans.values() for e in es] + decisions
    problems += _unsigned(policy, manifest, bundle, rules_dir, reviewed)
    return from_problems(DECISIONS, problems, {"reviewer_entries": sum(
        1 for e in reviewed if e.get("detector") == "reviewer" or e.get("action") == "keep")})


def _unsigned(policy: DatasetPolicy, manifest: Mapping[str, Any], bundle: Path, rules_dir: Path,
              entries: list[dict[str, Any]]) -> list[str]:
    """The log's reviewer entries (a kept span, a reviewer's span or cell redaction) that no signed
    decision of a trusted reviewer in force makes (round 26, F-decision: forged reviewer ``drop_value``
    entries re-chained with the release key blanked chosen cells, and the replay applied them), and
    each decision the privacy ledger records that the decisions file lacks (round 30, R3: the
    reviewer's later "redact" deleted, their "keep" was in force). Which decisions are in force is
    read with the trusted policy's ledger (``decisions.decisions_in_force``), never by line order."""
    from release.bundle.decisions import decisions_in_force
    from release.bundle.trust import trust_for

    reviewed = [e for e in entries if e.get("detector") == "reviewer" or e.get("action") == "keep"]
    year = Recorded.of(manifest).year_number
    try:
        force = None if year is None else decisions_in_force(policy.dataset, year, bundle.parent.parent,
                                                             trust_for(policy.dataset, rules_dir, manifest))
    except (ReleaseError, KeyError, TypeError, ValueError) as exc:
        why = exc.one_line() if isinstance(exc, ReleaseError) else "the manifest names no year"
        return [f"the reviewers' decisions cannot be read: {why} ({RULE})"] if reviewed else []
    if force is None:
        return [f"the reviewers' decisions cannot be read: the manifest names no year ({RULE})"] if reviewed else []
    problems = [f"{missing} ({RULE})" for missing in force.missing]
    # the span check holds its token; its type is the decision's (round 29, M3: a reviewer's [TYPE] was free)
    spans = {(*d.span, d.decision, d.entity_type) for d in force.decisions if d.kind == "span"}
    cells = {(d.row_key, d.column, d.decision, d.token) for d in force.decisions if d.kind == "finding"}
    for e in reviewed:
        made = (e.get("row_key"), e.get("column"), "redact", e.get("token")) in cells \
            if e.get("action") == "drop_value" else \
            (e.get("file"), e.get("row_key"), e.get("column"), e.get("start"), e.get("end"),
             "keep" if e.get("action") == "keep" else "redact", e.get("entity_type")) in spans
        if not made or e.get("detector") != "reviewer":
            problems.append(f"{_where(str(e.get('file')), str(e.get('row_key')), str(e.get('column')), e.get('seq'))}: "
                            f"a reviewer's entry no signed decision of a trusted reviewer in force makes ({RULE})")
    return problems


def _placeholder_ok(entry: Mapping[str, Any], text: str, labels: Mapping[str, int]) -> bool:
    """A kept span's placeholder is empty; a reviewer's redaction writes ``[TYPE]``; the engine writes
    ``[TYPE n]``, numbered per type from 1 after any number the text already holds, so ``n`` is at most
    that number plus the cell's spans of the type (``labels``): no placeholder carries another value."""
    from release.pii.normalize import PLACEHOLDER

    action, placeholder, kind = entry.get("action"), entry.get("placeholder"), str(entry.get("entity_type"))
    if action == "keep":
        return placeholder == ""
    if action != "redact" or not isinstance(placeholder, str):
        return False
    if entry.get("detector") == "reviewer":
        return placeholder == f"[{kind}]" and PLACEHOLDER.fullmatch(f"[{kind} 1]") is not None
    match = PLACEHOLDER.fullmatch(placeholder)
    if match is None or match.group(1) != kind:
        return False
    existing = max((int(m.group(2)) for m in PLACEHOLDER.finditer(text) if m.group(1) == kind), default=0)
    return 1 <= int(match.group(2)) <= existing + labels.get(kind, 0)


def _span_problem(entry: Mapping[str, Any], text: str, previous_end: int, tokenizer: Tokenizer,
                  labels: Mapping[str, int], known: frozenset[str]) -> str | None:
    from release.audit.raw import token_matches

    # an int: ``logged_spans`` passes only entries whose seq, start and end are ints
    start, end = cast(int, entry.get("start")), entry.get("end")
    if not isinstance(end, int) or isinstance(end, bool) or not start < end <= len(text):
        return "its span is not inside the cell"
    if start < previous_end:
        return "its span overlaps another span of the cell"
    if entry.get("entity_type") not in known:  # a placeholder's word is one the build can write: it carries nothing
        return "its entity type is not one the build's engine, its leak check or the trusted recognizers write"
    if not _placeholder_ok(entry, text, labels):
        return "its placeholder is not one the build writes for its entity type (numbered within the cell)"
    if entry.get("removed_length") != end - start:
        return "its removed length is not its span's"
    if not token_matches(tokenizer, entry.get("token"), text[start:end]):
        return "its token does not match the raw text of its span"
    return None


def _where(file: str, row_key: str, column: str, seq: object = None) -> str:
    return f"{file}, row {row_key}, column {column}" + (f", log seq {seq}" if seq is not None else "")


def _redacted(policy: DatasetPolicy, raw: Tables, spans: Mapping[Cell, list[dict[str, Any]]],
              tokenizer: Tokenizer, known: frozenset[str]) -> tuple[Tables, list[str], dict[str, int]]:
    """The raw tables with every logged span rendered in its free-text cell, as the build's redaction
    left them; and each span that is not sound (``_span_problem``) or not in a free-text cell."""
    from release.stages.redact import render_logged

    frames = dict(raw.frames)
    problems: list[str] = []
    used: set[Cell] = set()
    replayed = 0
    for name, file_policy in policy.files.items():
        columns = file_policy.free_text_columns()
        if not columns:
            continue
        frame = frames[name] = raw[name].copy()
        keys = frame[ROW_KEY].astype(str).tolist()
        for column in columns:
            values = frame[column].tolist()
            for position, (key, text) in enumerate(zip(keys, values, strict=True)):
                cell = (file_policy.raw_file, key, column)
                logged = sorted(spans.get(cell, []), key=lambda e: (e.get("start"), e.get("seq") or 0))
                if not logged:
                    continue
                used.add(cell)
                text = text if isinstance(text, str) else ""
                labels = Counter(str(e.get("entity_type")) for e in logged)
                # each span with the end of the one before it (the last end follows no span: left out)
                found = [(e, why) for e, previous in zip(logged, [0] + [e.get("end") for e in logged], strict=False)
                         if (why := _span_problem(e, text, previous if isinstance(previous, int) else 0, tokenizer,
                                                  labels, known))]
                if found:
                    problems += [f"{_where(*cell, e.get('seq'))}: {why} ({RULE})" for e, why in found]
                    continue
                rendered, placed = render_logged(text, [(e["start"], e["end"], e["placeholder"], e["action"] == "keep")
                                                        for e in logged])
                problems += [f"{_where(*cell, e.get('seq'))}: its output offsets are not where the build places "
                             f"its span ({RULE})" for e, (o_s, o_e) in zip(logged, placed, strict=True)
                             if (e.get("out_start"), e.get("out_end")) != (o_s, o_e)]
                values[position] = rendered
                replayed += 1
            frame[column] = pd.Series(values, index=frame.index, dtype=object)
    problems += [f"{_where(*cell)}: a logged span in no free-text cell of the raw export ({RULE})"
                 for cell in sorted(set(spans) - used)]
    return Tables(frames), problems, {"spans": sum(len(v) for v in spans.values()), "cells_redacted": replayed}


def _cell_decisions(policy: DatasetPolicy, decisions: list[dict[str, Any]], tokenizer: Tokenizer) -> CellDecisions:
    """The reviewer's cell decisions as the log records them (``build._apply_cell_decisions`` blanks a
    published cell while it holds what the reviewer saw, and logs it)."""
    by_raw_file = {fp.raw_file: name for name, fp in policy.files.items()}

    def apply(public: Tables) -> tuple[Tables, list[RedactionEvent], list[Finding]]:
        frames = dict(public.frames)
        for entry in decisions:
            name, column, row_key = by_raw_file.get(str(entry.get("file"))), str(entry.get("column")), \
                str(entry.get("row_key"))
            if name is None or column not in frames[name].columns:
                raise ReleaseError("a reviewer's cell decision in the log names no public column", file=str(
                    entry.get("file")), column=column, rule="record-replay")
            frame = frames[name] = frames[name].copy()
            rows = frame.index[frame[ROW_KEY] == row_key]
            value = frame.at[rows[0], column] if len(rows) else None
            if not isinstance(value, str) or tokenizer.token(value) != entry.get("token"):
                raise ReleaseError(f"row {row_key}: a reviewer's cell decision in the log does not match the "
                                   "replayed cell", file=str(entry.get("file")), column=column, rule="record-replay")
            frame.loc[rows, column] = None
        return Tables(frames), [], []
    return apply


def _expected(policy: DatasetPolicy, trusted: Any, loaded: Loaded, redacted: Tables,
              decisions: list[dict[str, Any]], tokenizer: Tokenizer
              ) -> tuple[dict[str, tuple[pd.DataFrame, list[str], Mapping[str, str]]], tuple[str, ...], set[str]]:
    """Each public record and derived file as the build writes it from this export and log: by
    path in the bundle, its frame, each row's name (a load row key, or the row's number) and the
    rule of each column; the dataset's notes as the build writes them; and the declared tables the
    build withholds (``tables.withheld_tables``)."""
    from release import datasets
    from release.bundle import public_form
    from release.privacy import linkage
    from release.stages import juvenile
    from release.stages.cells import safe_frame

    dataset, year = policy.dataset, trusted.year
    minors = juvenile.minor_keys(loaded.tables, policy)
    made = datasets.derive_public(dataset, year, policy, loaded.tables, redacted, minors, tokenizer,
                                  _cell_decisions(policy, decisions, tokenizer))
    public, _, _, _ = public_form.finish(
        made.public, policy, linkage.coarsening(trusted.tables),
        trusted.privacy.record_risk.get(trusted.policy_name, ()), dataset=dataset, tokenizer=tokenizer)
    frames, _ = public_form.written(policy, public, minors, dataset=dataset, tokenizer=tokenizer)
    expected: dict[str, tuple[pd.DataFrame, list[str], Mapping[str, str]]] = {}
    for name, frame in frames.items():
        keys = public[name][ROW_KEY].astype(str).loc[frame.index].tolist()
        rules = {c: f"column rule {policy.files[name].columns[c].type}" for c in frame.columns}
        expected[f"public/{policy.files[name].public_file.format(year=year)}"] = (safe_frame(frame)[0], keys, rules)
    for extra in made.derived.files:
        rows = [f"#{i}" for i in range(1, len(extra.frame) + 1)]
        expected[extra.relpath] = (safe_frame(extra.frame)[0], rows, {c: "derived file" for c in extra.frame.columns})
    withheld: set[str] = set()
    if trusted.tables is not None:
        from release.build.tables import withheld_tables

        withheld = withheld_tables(trusted.tables.tables, made.derived.table_frames, trusted.tables.frames,
                                   public_form.linkage_files(policy, public))
    return expected, made.derived.notes, withheld


def _compared(path: Path, relpath: str, frame: pd.DataFrame, keys: list[str], rules: Mapping[str, str]) -> list[str]:
    """Why the published file is not the one the build writes (empty: it is, byte for byte)."""
    from release.bundle import record_parts
    from release.errors import InputError

    file = relpath.removeprefix("public/")
    wanted = frame.to_csv(index=False, lineterminator="\n")
    try:  # the file whole, its CSV parts joined (their layout is the trusted check's, ``public_content``)
        text = record_parts.read_text(path.parent, path.name)
    except InputError as exc:
        return [f"{file}: {exc.message} ({RULE})"]
    if text is None:
        return [f"{file}: the build writes it and it is not in the bundle ({RULE})"]
    if text == wanted:
        return []
    published = list(csv.reader(io.StringIO(text)))
    made = list(csv.reader(io.StringIO(wanted)))
    if not published or published[0] != made[0]:
        return [f"{file}: its header is not the one the build writes ({RULE})"]
    header = made[0]
    cells = []
    # the rows both have; a row count that differs is named below
    for number, (ours, theirs) in enumerate(zip(made[1:], published[1:], strict=False), start=0):
        if ours == theirs:
            continue
        if len(ours) != len(theirs):
            cells.append(f"{file}, row {keys[number]}: {len(theirs)} field(s) where the build writes {len(ours)} ({RULE})")
            continue
        cells += [f"{file}, row {keys[number]}, column {column}: not the cell the build writes from the raw export "
                  f"and the redaction log ({rules.get(column, '')}; {RULE})"
                  for column, a, b in zip(header, ours, theirs, strict=True) if a != b]
    problems = cells[:MAX_LISTED] + ([f"{file}: {len(cells) - MAX_LISTED} more cell(s) differ ({RULE})"]
                                     if len(cells) > MAX_LISTED else [])
    if len(published) != len(made):
        problems.append(f"{file}: {len(published) - 1} row(s) where the build writes {len(made) - 1} ({RULE})")
    return problems or [f"{file}: not written as the build writes it (line endings or quoting) ({RULE})"]
