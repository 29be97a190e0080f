"""Reviewer decisions anchored on the organisation's privacy ledger: what orders them and what tells
that one was taken away (attack round 30, R3).

The decisions file (``<out>/<dataset>/<year>.decisions.jsonl``) sits outside the bundle, where the
analyst can write. Each line is signed, so a line cannot be forged, but the file as a whole was
bound to nothing: "a signer's latest decision" was the last line, so moving a reviewer's later
"redact" above their earlier "keep", or deleting it (or another reviewer's conflicting "redact"),
published a name against the reviewer's last signed word, and every check read the same file.

So ``release decide`` also appends a ``decision`` entry to the privacy ledger (``release.privacy.ledger``:
append-only, hash-chained, each write held by the policy's witness, each entry MACed under the
release key): dataset, year and the SHA-256 of the signed line, never a value. The ledger's order
is the decisions' order, and a line it records for this dataset and year that the file lacks is a
deletion (``DecisionAnchors.missing``). The line is written first and the ledger entry after it,
so a crash between the two leaves a line the ledger does not record (what happens to it:
``release.governance.decisions.decisions_in_force``), never a ledger entry whose line is lost; when the ledger
write fails, the line just written is taken back out.

Round 31 (C3, R2): a decision is known by what its signer signed (``decision_id``: the key and the
signed payload), never by the line's bytes, so the same decision written with other spacing and
recorded again later is the same decision, still at its first place. And ``decide`` signs the
ledger's last entry hash (``ledger_prev``) inside the decision, in the same ledger transaction that
records it: a decision counts as recorded only by the entry right after the head its signer saw, so
the analyst, who can write ledger entries with the release key, cannot record a reviewer's older
line later (a keep signed before the ledger recorded decisions, or one whose recording failed).

Round 31 (R1): with the release key the analyst could also append a ``decision`` entry of their own (for
another year, or this one) with any ``decision_sha256``: 256 bits of their choosing, which ground the
ledger's head, then published. The head is no longer published (``manifest_parts``), and the release
audit refuses a decision entry of a dataset and year whose bundle and decisions file are there that no
trusted reviewer's signed line backs at the head it signed (``unbacked``). A year with neither (1999)
orders nothing a rebuild applies and is not checked.

A rules folder whose ``privacy.yaml`` is absent names no ledger: decisions are then ordered by their
signed ``recorded_at`` and nothing can tell a deleted line (``anchors_for`` returns None).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from release.bundle.jsonl import text_lines
from release.errors import EnvironmentProblem
from release.privacy.ledger_entries import Entry

if TYPE_CHECKING:
    from release.bundle.trust import Trust
    from release.privacy.ledger import Ledger

KIND = "decision"  # the ledger entry's kind
RESTORE = "restore the decisions file from its backup"


def decision_id(line: str) -> str:
    """The hash the ledger records of one signed decision: of its signer's key id and the payload it
    signed, in canonical form, whatever the line's spacing or order of keys (round 31, C3); of the
    line's text when it is not a signed record (such a line never counts)."""
    from release.keys.signing import SignedRecord, canonical
    try:
        record = SignedRecord.from_line(line)
    except ValueError:
        return hashlib.sha256(line.encode("utf-8")).hexdigest()
    return hashlib.sha256(canonical({"key_id": record.key_id, "payload": dict(record.payload)})).hexdigest()


def names_ledger(rules_dir: Path) -> bool:
    """Whether the trusted rules' privacy policy names a ledger (every ``privacy.yaml`` does: its
    ``ledger`` has a default); a rules folder without one has none."""
    from release.config.privacy import POLICY_FILE
    return (rules_dir / POLICY_FILE).is_file()


def anchor_line(rules_dir: Path, dataset: str, year: int, path: Path, sign: Callable[[str], str]) -> int | None:
    """Sign the decision (``sign(ledger_prev)`` gives its line: ``""`` when the policy names no ledger),
    append it to the decisions file ``path`` and its ``decision`` entry to the ledger the trusted
    policy names, right after the head it signed, in one ledger transaction (its seq; None without a
    ledger). A ledger write that fails takes the line back out when nothing was appended after it,
    and re-raises."""
    from release.keys.signing import append_line
    if not names_ledger(rules_dir):
        append_line(path, sign(""))
        return None
    ledger = _ledger(rules_dir)
    size = path.stat().st_size if path.is_file() else 0
    written: list[str] = []

    def write(prev: str) -> str:
        written.append(sign(prev))
        append_line(path, written[-1])
        return decision_id(written[-1])
    try:
        return ledger.record_decision(dataset=dataset, year=year, write=write)
    except BaseException:
        if written:
            _take_back(path, size, written[-1])
        raise


def _ledger(rules_dir: Path) -> Ledger:  # imported late: the ledger module loads the witness
    from release.keys.hmac import existing_key, ledger_mac
    from release.privacy.ledger_open import open_ledger

    key = existing_key()
    if key is None:  # an entry without the release key's MAC fails the ledger audit
        raise EnvironmentProblem("a reviewer decision is recorded on the privacy ledger, whose entries carry the "
                                 "release HMAC key's MAC: set RELEASE_HMAC_KEY_FILE to the key file",
                                 rule="hmac-key")
    return open_ledger(rules_dir, None, ledger_mac(key))


def _take_back(path: Path, size: int, line: str) -> None:
    """Truncate ``path`` to ``size`` when what follows is exactly ``line`` (no one wrote after it)."""
    data = (line + "\n").encode("utf-8")
    try:
        with path.open("rb+") as handle:
            handle.seek(size)
            if handle.read() == data:
                handle.truncate(size)
    except OSError:
        pass  # the line stays, unanchored: a keep does not count, a redact still applies


@dataclass(frozen=True)
class DecisionAnchors:
    """The ledger's ``decision`` entries for one dataset and year: where each line hash first appears."""

    order: dict[str, int]   # decision_id -> the seq of the first entry recording it
    ledger: str             # the ledger's path, for messages
    prev: dict[str, str] | None = None  # decision_id -> the hash of the entry before that first one

    def recorded(self, digest: str, signed_prev: object) -> int | None:
        """The seq that orders the decision ``digest``: its first entry, when that entry follows the
        ledger head its signer signed (``ledger_prev``); None when the ledger does not record it so."""
        seq = self.order.get(digest)
        return seq if seq is not None and (self.prev or {}).get(digest) == signed_prev else None

    def missing(self, present: set[str]) -> list[str]:
        """Each recorded decision the file lacks, by ledger entry (no values), with the fix."""
        return [f"ledger entry {seq}: a decision the privacy ledger records for this dataset and year is not in "
                f"the decisions file (lines deleted or altered: {RESTORE})"
                for digest, seq in sorted(self.order.items(), key=lambda item: item[1]) if digest not in present]


def anchors_of(entries: Sequence[Entry], dataset: str, year: int, ledger: str = "") -> DecisionAnchors:
    order: dict[str, int] = {}
    prev: dict[str, str] = {}
    for entry in entries:
        if entry.kind == KIND and entry.body.get("dataset") == dataset and entry.body.get("year") == year:
            digest = str(entry.body.get("decision_sha256"))
            if digest not in order:  # a replayed anchor moves nothing
                order[digest], prev[digest] = entry.seq, entry.prev
    return DecisionAnchors(order, ledger, prev)


def anchors_for(rules_dir: Path, dataset: str, year: int) -> DecisionAnchors | None:
    """What the ledger the trusted policy names records of ``dataset`` ``year``'s decisions; None
    when the policy names no ledger. A ledger file not there yet records none."""
    from release.config.privacy import checked_ledger
    from release.privacy.ledger_open import existing_ledger
    if not names_ledger(rules_dir):
        return None
    ledger = existing_ledger(rules_dir)
    if ledger is None:
        return DecisionAnchors({}, str(checked_ledger(rules_dir, None)))
    return anchors_of(ledger.entries(), dataset, year, str(ledger.path))


def unbacked(entries: Sequence[Entry], out_dir: Path, rules_dir: Path) -> list[str]:
    """Each ``decision`` entry of a dataset and year whose bundle and decisions file are under ``out_dir``
    that no signed decision line of that file backs: a line whose ``decision_id`` the entry records, signed
    by a trusted signer the policy lets decide, for that dataset and year, over the ledger head right
    before the entry (``ledger_prev``). The release audit's ledger check (round 31, R1: the analyst wrote
    such entries with the release key, each with 256 bits of its choosing; a replayed entry, which
    follows another head, is one too). A year without its bundle or file is not checked here (its
    entries order nothing a rebuild applies). Trusted means by the rules the audit is given (a limitation:
    a reviewer later taken off the signers list, or whose role no longer decides, leaves entries this
    then refuses, and the ledger keeps them). Messages name the entry, dataset and year,
    never a value."""
    from release.bundle.decisions import decisions_path
    from release.config.datasets import DATASETS

    problems: list[str] = []
    by_year: dict[tuple[object, object], list[Entry]] = {}
    for entry in entries:
        if entry.kind == KIND:
            by_year.setdefault((entry.body.get("dataset"), entry.body.get("year")), []).append(entry)
    for (dataset, year), entered in sorted(by_year.items(), key=lambda item: str(item[0])):
        if dataset not in DATASETS or not isinstance(year, int):
            continue
        path = decisions_path(str(dataset), year, out_dir)
        trusts = _trusts(out_dir / str(dataset), year, rules_dir)
        if not path.is_file() or trusts is None:
            continue
        backed = _backed(text_lines(path), str(dataset), year, trusts)
        for entry in entered:
            if backed.get(str(entry.body.get("decision_sha256"))) != entry.prev:
                problems.append(f"ledger entry {entry.seq}: a decision entry for {dataset} {year} that no signed "
                                f"decision line of {path.name} backs (a trusted reviewer's, recorded right after the "
                                "ledger head it signed): written on the ledger by other means than release decide")
    return problems


def _trusts(folder: Path, year: int, rules_dir: Path) -> list[Trust] | None:
    """The trust of each bundle of ``year`` in ``folder`` (its part and version folders) by the trusted rules;
    None when the year has no bundle the trusted rules judge (one they refuse fails the approvals check)."""
    from release.bundle.read import read_manifest
    from release.bundle.trust import trust_for
    from release.errors import ReleaseError

    bundles = [p.parent for p in sorted(folder.glob(f"{year}*/manifest.json"))
               if p.parent.name == str(year) or p.parent.name.startswith(f"{year}-")]
    if not bundles:
        return None
    trusts = []
    for bundle in bundles:
        try:
            trusts.append(trust_for(folder.name, rules_dir, read_manifest(bundle)))
        except ReleaseError:
            continue
    return trusts or None


def _backed(lines: Sequence[str], dataset: str, year: int, trusts: Sequence[Trust]) -> dict[str, str]:
    """decision_id -> the ledger head its signer signed, of each line that is a decision a trusted signer
    may make (``decisions_applied.signed_decision``) under one of ``trusts``."""
    from release.bundle.decisions import signed_decision

    backed: dict[str, str] = {}
    for line in lines:
        if not line.strip():
            continue
        for trust in trusts:
            decision, _ = signed_decision(line, dataset, year, trust)
            if decision is not None:
                backed[decision_id(line)] = decision.ledger_prev
                break
    return backed
