"""Reviewer decisions as a bundle's readers read them: the ``Decision`` record, where a year's file is,
and which decisions a rebuild applies (``release.governance.decisions`` signs and records them): each
signer's latest, by the privacy ledger's order, never by line, and the decisions the ledger records
that the file lacks (attack round 30, R3).

The rules, and what happens to a line the ledger does not record, are in ``release.governance.decisions``'
docstring; the ledger's side is ``release.privacy.decision_anchors``. Approve and publish refuse a bundle
while a recorded decision is missing (``require_anchored``), and show the approver what is in force
and what is ignored (``applied_summary``); the build and the raw-export span check apply the same
span decisions (``span_rulings``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from release.bundle.jsonl import text_lines
from release.bundle.trust import Signer, Trust
from release.errors import ApprovalError
from release.keys.signing import SignedRecord, short_id, verify_record
from release.model import Finding
from release.privacy.decision_anchors import RESTORE, DecisionAnchors, anchors_for, decision_id

if TYPE_CHECKING:
    from release.model import ReviewerDecision


DecisionKind = Literal["redact", "keep"]


@dataclass(frozen=True)
class Decision:
    """One reviewer's signed ruling on a redaction-log span or a blocking finding: what a line of the
    decisions file signs, with the signer's role and key filled in from the trusted signers."""

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
    ledger_prev: str = ""  # the ledger's last entry hash when signed: recorded right after it (round 31)
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


def _decision(record: SignedRecord, signer: Signer) -> Decision:
    payload = dict(record.payload)
    # JSON values of a verified signed record, the fields as decide signed them: a missing field is a
    # TypeError ("not a decision record"); their types are not checked here
    values: dict[str, Any] = {name: payload[name] for name in _SIGNED if name in payload}
    values["kind"] = payload.get("decision_kind", "span")
    return Decision(**values, signer_role=signer.role, key_id=signer.key_id)


@dataclass(frozen=True)
class DecisionsInForce:
    """What a rebuild applies of a year's decisions file, with every line that does not count and why
    (reasons, never values): approve and publish refuse while ``missing`` is not empty."""

    decisions: tuple[Decision, ...]
    ignored: tuple[str, ...]           # lines that do not count, and why (no values)
    conflicts: tuple[Decision, ...]    # spans on which trusted signers disagree ("redact" applies)
    missing: tuple[str, ...] = ()      # decisions the ledger records that the file lacks: blocking
    unanchored: tuple[str, ...] = ()   # "redact" lines the ledger does not record, applied all the same

    def findings(self) -> list[Finding]:
        found = [Finding(stage="review", code="reviewer_decision_missing", severity="blocking",
                         message=f"reviewer decision missing: {why}", rule="decision-ledger")
                 for why in self.missing]
        found += [Finding(stage="review", code="reviewer_decision_ignored", severity="warning",
                          message=f"reviewer decision not applied: {why}", rule="review") for why in self.ignored]
        found += [Finding(stage="review", code="reviewer_decision_unanchored", severity="warning",
                          message=f"reviewer decision applied although the ledger does not record it: {why}",
                          rule="review") for why in self.unanchored]
        found += [Finding(stage="review", code="reviewer_decisions_conflict", severity="warning",
                          message="trusted signers disagree on this decision; redact applies", file=d.file,
                          row_key=d.row_key, column=d.column, rule="review") for d in self.conflicts]
        return found

    def summary(self) -> dict[str, object]:
        """What approve shows: counts and reasons, never a value."""
        return {"in_force": len(self.decisions), "ignored": list(self.ignored), "unanchored": list(self.unanchored),
                "conflicts": len(self.conflicts), "missing": list(self.missing)}


def span_rulings(decisions: Sequence[Decision]) -> list[ReviewerDecision]:
    """The span decisions as the redaction stage applies them (``redact.apply_decisions``): the build
    and the raw-export span check (``release.audit.span_support``) apply the same ones."""
    from release.model import ReviewerDecision
    return [ReviewerDecision(d.decision, d.row_key, d.column, d.start, d.end, d.entity_type, d.token)
            for d in decisions if d.kind == "span"]


FROM_POLICY: Final = "policy"


def require_anchored(dataset: str, year: int, out_dir: Path, trust: Trust) -> DecisionsInForce:
    """The decisions in force, refused (7, rule decision-ledger) when the ledger records a decision the
    file lacks: approve and publish never pass a bundle built without a reviewer's signed word."""
    force = decisions_in_force(dataset, year, out_dir, trust)
    if force.missing:
        raise ApprovalError(f"{len(force.missing)} reviewer decision(s) the privacy ledger records are not in the "
                            f"decisions file ({RESTORE}, then rebuild); first: {force.missing[0]}",
                            file=str(decisions_path(dataset, year, out_dir)), rule="decision-ledger",
                            details=[{"problem": p} for p in force.missing])
    return force


def applied_summary(force: DecisionsInForce, manifest: Mapping[str, object]) -> dict[str, object]:
    """What approve shows of the reviewers' decisions: those in force, those the build applied
    (the manifest's ``review_decisions``) and those it has not yet, the lines ignored and why."""
    from release.bundle.manifest_recorded import Recorded

    applied = {json.dumps(d, sort_keys=True) for d in Recorded.of(manifest).review_decisions}
    pending = sum(1 for d in force.decisions if json.dumps(d.to_dict(), sort_keys=True) not in applied)
    return {**force.summary(), "applied_by_build": len(applied), "not_applied_by_build": pending}


def decisions_in_force(dataset: str, year: int, out_dir: Path, trust: Trust,
                       anchors: DecisionAnchors | None | Literal["policy"] = FROM_POLICY) -> DecisionsInForce:
    """The decisions a rebuild applies: signed, trusted, allowed to decide, for this release, each
    signer's latest by the ledger's order (``anchors``: by default what the ledger the trusted
    policy of ``trust.rules_dir`` records; None: no ledger, the signed ``recorded_at`` orders them,
    and a deleted line cannot be detected)."""
    if anchors == FROM_POLICY:
        anchors = anchors_for(trust.rules_dir, dataset, year)
    path = decisions_path(dataset, year, out_dir)
    lines = text_lines(path)
    ignored: list[str] = []
    unanchored: list[str] = []
    present: set[str] = set()
    ordered: list[tuple[tuple[object, ...], Decision]] = []
    extra: list[Decision] = []  # unanchored redacts: a vote for "redact", whatever the order
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        digest = decision_id(line)
        present.add(digest)
        where = f"{path.name} line {number}"
        decision, why = signed_decision(line, dataset, year, trust)
        seq = anchors.recorded(digest, decision.ledger_prev) if anchors is not None and decision else None
        if decision is None:
            ignored.append(f"{where}: {why}")
        elif anchors is None:
            ordered.append(((decision.recorded_at, number), decision))
        elif seq is not None:
            ordered.append(((seq, number), decision))
        elif decision.decision == "keep":
            ignored.append(f"{where}: the privacy ledger does not record this decision right after the head its "
                           "signer signed (a decide that did not finish, one signed before decisions were recorded, "
                           "or a line recorded by someone else); a keep counts only as decide records it: decide "
                           "again")
        else:
            unanchored.append(f"{where}: the privacy ledger does not record this decision; a redact only withholds "
                              "text, so it applies (decide again to record it)")
            extra.append(decision)
    latest: dict[tuple[tuple[str, str, str, int, int], str], Decision] = {}
    for _, decision in sorted(ordered, key=lambda item: item[0]):
        latest[(decision.span, decision.key_id)] = decision  # a signer's later decision replaces theirs
    missing = tuple(anchors.missing(present)) if anchors is not None else ()
    return _resolve([*latest.values(), *extra], tuple(ignored), missing, tuple(unanchored))


def signed_decision(line: str, dataset: str, year: int, trust: Trust) -> tuple[Decision | None, str]:
    """The line's decision, or None and why it does not count (no values)."""
    try:
        record = SignedRecord.from_line(line)
    except ValueError:
        return None, "not signed (record decisions with release decide --key)"
    signer = trust.signers.get(record.key_id)
    problems = verify_record(record, "decision")
    if record.payload.get("dataset") != dataset or record.payload.get("year") != year:
        problems.append("for another dataset or year")
    if signer is None:
        problems.append(f"key {short_id(record.key_id)} is not a trusted signer")
    elif signer.role not in trust.approvals.decide:
        problems.append(f"{signer.label()} has a role the policy does not let decide")
    if problems or signer is None:
        return None, "; ".join(problems)
    try:
        return _decision(record, signer), ""
    except TypeError:
        return None, "not a decision record"


def _resolve(decisions: Sequence[Decision], ignored: tuple[str, ...], missing: tuple[str, ...] = (),
             unanchored: tuple[str, ...] = ()) -> DecisionsInForce:
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
    return DecisionsInForce(tuple(in_force), ignored, tuple(conflicts), missing, unanchored)
