"""Reviewer decisions: signed "redact" or "keep" records on a redaction or a blocking finding.

A decision is a signed record of kind ``decision``, in the same format as an approval
(``release.approvals``), appended to ``<out>/<dataset>/<year>.decisions.jsonl`` outside
the bundle so a rebuild keeps it. A log entry's ``seq`` and ``hash`` change on every
rebuild, so a decision stores the span itself: file, row key, column, offsets in the
original text and the HMAC token of the removed value, which lets the build check that the
raw text is still the same.

A decision applies only when its signature verifies, it is for this dataset and year, and
its key is a trusted signer whose role the policy lets decide (``approvals.decide``); any
other line is ignored and reported. Each signer's latest decision on a span is theirs; when
trusted signers disagree, the conflict is reported and "redact" applies, since "not
published" is the default answer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Literal

from release.approvals import (SignedRecord, append_record, load_private_key, one_line, private_key_id, short_id,
                               sign_record, utc_now, verify_record)
from release.bundles import bundle_dir
from release.errors import ConfigError
from release.gate import read_manifest
from release.model import Finding
from release.stages.publish import BLOCKING_FILE, LOG, MANIFEST, sha256_file
from release.trust import Signer, Trust, trust_for, trusted_signer

DecisionKind = Literal["redact", "keep"]
DECISIONS: tuple[str, ...] = ("redact", "keep")


@dataclass(frozen=True)
class Decision:
    decision: DecisionKind
    reviewer: str          # the trusted signer's name (the list's, at signing time)
    note: str
    recorded_at: str
    manifest_sha256: str   # the bundle the reviewer was looking at
    log_seq: int
    log_hash: str
    file: str              # raw file name, as in the log
    row_key: str
    column: str
    start: int             # offsets in the original text
    end: int
    entity_type: str
    rule_id: str
    token: str             # HMAC of the normalized removed value: the span must still hold it
    kind: str = "span"     # "span": a redaction-log entry; "finding": a blocking finding (a public cell)
    finding_id: str = ""   # for kind "finding": the id the packet and ``release decide --finding`` show
    dataset: str = ""
    year: int = 0
    signer_role: str = ""  # filled from the trusted signers when the decision is loaded, never signed
    key_id: str = ""

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def span(self) -> tuple[str, str, str, int, int]:
        if self.kind == "finding":
            return (self.finding_id, self.row_key, self.column, -1, -1)
        return (self.file, self.row_key, self.column, self.start, self.end)


_SIGNED = tuple(f.name for f in fields(Decision) if f.name not in ("signer_role", "key_id"))


def decisions_path(dataset: str, year: int, out_dir: Path) -> Path:
    """One file per year, beside its bundles: in a split year both parts' decisions, which never
    apply across them (a decision names its row keys, and the systems' report numbers differ)."""
    return out_dir / dataset / f"{year}.decisions.jsonl"


def _bundle(dataset: str, year: int, out_dir: Path, needs: str, what: str, generation: str | None) -> Path:
    bundle = bundle_dir(dataset, year, out_dir, generation=generation)
    if not (bundle / needs).is_file() or not (bundle / MANIFEST).is_file():
        raise ConfigError(f"no {what} for this dataset and year", file=str(bundle), rule="decision")
    return bundle


def _find_entry(log_path: Path, log_id: str) -> dict[str, object]:
    wanted = log_id.strip().lower()
    by_seq = wanted.isdigit() and len(wanted) < 8  # longer ids are hash prefixes
    if not by_seq and len(wanted) < 8:
        raise ConfigError("a log id is an entry's seq or at least 8 characters of its hash",
                          file=str(log_path), rule="decision")
    matches = []
    for number, line in enumerate(log_path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            raise ConfigError(f"line {number} of the redaction log is not JSON", file=str(log_path),
                              rule="decision") from None
        if not isinstance(entry, dict) or entry.get("trailer"):
            continue
        if entry.get("seq") == int(wanted) if by_seq else str(entry.get("hash", "")).startswith(wanted):
            matches.append(entry)
    if len(matches) != 1:
        raise ConfigError(f"log id matches {len(matches)} entries; expected exactly one",
                          file=str(log_path), rule="decision")
    return matches[0]


@dataclass(frozen=True)
class Signing:
    """Who signs a decision: the private key file, its passphrase, the rules folder to trust."""

    key_path: Path
    passphrase: bytes | None = None
    rules_dir: Path | None = None


def record_decision(dataset: str, year: int, out_dir: Path, log_id: str, decision: str, reviewer: str | None,
                    note: str = "", *, signing: Signing, generation: str | None = None) -> dict[str, object]:
    """Sign and record a "redact" or "keep" on one redaction-log entry (by seq or hash)."""
    _check_kind(decision)
    bundle = _bundle(dataset, year, out_dir, LOG, "bundle with a redaction log", generation)
    entry = _find_entry(bundle / LOG, log_id)
    where = {"file": str(entry.get("file")), "row_key": str(entry.get("row_key")),
             "column": str(entry.get("column"))}
    try:
        start, end, seq = int(entry["start"]), int(entry["end"]), int(entry["seq"])  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        raise ConfigError("log entry has no usable offsets", rule="decision", file=where["file"],
                          row_key=where["row_key"], column=where["column"]) from None
    if entry.get("action") != "redact" or start < 0:
        raise ConfigError("only text redactions can be decided; withheld and generalized values "
                          "follow the policy", rule="decision", file=where["file"], row_key=where["row_key"],
                          column=where["column"])
    return _sign_and_append(bundle, dataset, year, out_dir, signing, reviewer, {
        "decision": decision, "note": note, "log_seq": seq, "log_hash": str(entry.get("hash")),
        "start": start, "end": end, "entity_type": str(entry.get("entity_type", "")),
        "rule_id": str(entry.get("rule_id", "")), "token": str(entry.get("token", "")), **where})


def record_finding_decision(dataset: str, year: int, out_dir: Path, finding: str, decision: str,
                            reviewer: str | None, note: str = "", *, signing: Signing,
                            generation: str | None = None) -> dict[str, object]:
    """Sign and record a "redact" (blank the public cell) or "keep" (publish it) on one
    blocking finding of a blocked bundle, by the id its packet shows."""
    _check_kind(decision)
    bundle = _bundle(dataset, year, out_dir, f"review/{BLOCKING_FILE}", "blocked bundle with findings to decide",
                     generation)
    evidence = bundle / "review" / BLOCKING_FILE
    try:
        items = json.loads(evidence.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise ConfigError("the bundle's list of blocking findings is not JSON", file=str(evidence),
                          rule="decision") from None
    wanted = finding.strip().upper()
    matches = [i for i in items if isinstance(i, dict) and str(i.get("finding_id", "")).upper() == wanted]
    if len(matches) != 1:
        raise ConfigError(f"finding id matches {len(matches)} findings; expected exactly one "
                          "(the ids are listed in the review packet)", file=str(evidence), rule="decision")
    item = matches[0]
    if not item.get("decidable", True):
        raise ConfigError("this finding cannot be decided; fix the export or the policy",
                          file=str(evidence), rule="decision")
    return _sign_and_append(bundle, dataset, year, out_dir, signing, reviewer, {
        "decision": decision, "note": note, "log_seq": -1, "log_hash": "", "file": str(item.get("file", "")),
        "row_key": str(item.get("row_key", "")), "column": str(item.get("column", "")), "start": -1, "end": -1,
        "entity_type": str(item.get("entity_type", "")), "rule_id": str(item.get("rule", "")),
        "token": str(item.get("token", "")), "kind": "finding", "finding_id": str(item.get("finding_id"))})


def _check_kind(decision: str) -> None:
    if decision not in DECISIONS:
        raise ConfigError(f"decision must be one of: {', '.join(DECISIONS)}", rule="decision")


def _sign_and_append(bundle: Path, dataset: str, year: int, out_dir: Path, signing: Signing,
                     reviewer: str | None, span: dict[str, object]) -> dict[str, object]:
    trust = trust_for(dataset, signing.rules_dir, read_manifest(bundle, ConfigError))
    private = load_private_key(signing.key_path, signing.passphrase)
    signer = trusted_signer(trust, private_key_id(private), one_line(private.public_key()),
                            trust.approvals.decide, reviewer)
    values = {"kind": "span", "finding_id": "", **span, "reviewer": signer.name, "recorded_at": utc_now(),
              "manifest_sha256": sha256_file(bundle / MANIFEST), "dataset": dataset, "year": year}
    record = sign_record(private, "decision", {name: values[name] for name in _SIGNED if name != "kind"}
                         | {"decision_kind": values["kind"]})
    path = decisions_path(dataset, year, out_dir)
    append_record(path, record)
    decision = _decision(record, signer)
    return {"decisions_file": str(path), "signer": signer.to_dict(), **decision.to_dict()}


def _decision(record: SignedRecord, signer: Signer) -> Decision:
    payload = dict(record.payload)
    values = {name: payload[name] for name in _SIGNED if name in payload}
    values["kind"] = payload.get("decision_kind", "span")
    return Decision(**values, signer_role=signer.role, key_id=signer.key_id)  # type: ignore[arg-type]


# ---- what a rebuild applies ------------------------------------------------------------

@dataclass(frozen=True)
class DecisionsInForce:
    decisions: tuple[Decision, ...]
    ignored: tuple[str, ...]           # lines that do not count, and why (no values)
    conflicts: tuple[Decision, ...]    # spans on which trusted signers disagree ("redact" applies)

    def findings(self) -> list[Finding]:
        found = [Finding(stage="review", code="reviewer_decision_ignored", severity="warning",
                         message=f"reviewer decision not applied: {why}", rule="review") for why in self.ignored]
        found += [Finding(stage="review", code="reviewer_decisions_conflict", severity="warning",
                          message="trusted signers disagree on this decision; redact applies", file=d.file,
                          row_key=d.row_key, column=d.column, rule="review") for d in self.conflicts]
        return found


def decisions_in_force(dataset: str, year: int, out_dir: Path, trust: Trust) -> DecisionsInForce:
    """The decisions a rebuild applies: signed, trusted, allowed to decide, for this release."""
    path = decisions_path(dataset, year, out_dir)
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    ignored: list[str] = []
    latest: dict[tuple[tuple[str, str, str, int, int], str], Decision] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name} line {number}"
        try:
            record = SignedRecord.from_line(line)
        except ValueError:
            ignored.append(f"{where}: not signed (record decisions with release decide --key)")
            continue
        signer = trust.signers.get(record.key_id)
        problems = verify_record(record, "decision")
        if record.payload.get("dataset") != dataset or record.payload.get("year") != year:
            problems.append("for another dataset or year")
        if signer is None:
            problems.append(f"key {short_id(record.key_id)} is not a trusted signer")
        elif signer.role not in trust.approvals.decide:
            problems.append(f"{signer.label()} has a role the policy does not let decide")
        if problems or signer is None:
            ignored.append(f"{where}: {'; '.join(problems)}")
            continue
        try:
            decision = _decision(record, signer)
        except TypeError:
            ignored.append(f"{where}: not a decision record")
            continue
        latest[(decision.span, signer.key_id)] = decision  # a signer's later decision replaces theirs
    return _resolve(list(latest.values()), tuple(ignored))


def _resolve(decisions: Sequence[Decision], ignored: tuple[str, ...]) -> DecisionsInForce:
    by_span: dict[tuple[str, str, str, int, int], list[Decision]] = {}
    for decision in decisions:
        by_span.setdefault(decision.span, []).append(decision)
    in_force, conflicts = [], []
    for same_span in by_span.values():
        if len({d.decision for d in same_span}) > 1:
            conflicts.append(same_span[-1])
            in_force.append([d for d in same_span if d.decision == "redact"][-1])
        else:
            in_force.append(same_span[-1])
    return DecisionsInForce(tuple(in_force), ignored, tuple(conflicts))
