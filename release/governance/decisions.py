"""Reviewer decisions: signed "redact" or "keep" records on a redaction or a blocking finding.

A decision is a signed record of kind ``decision``, in the same format as an approval
(``release.keys.signing``), appended to ``<out>/<dataset>/<year>.decisions.jsonl`` outside
the bundle so a rebuild keeps it. A log entry's ``seq`` and ``hash`` change on every
rebuild, so a decision stores the span itself: file, row key, column, offsets in the
original text and the HMAC token of the removed value, which lets the build check that the
raw text is still the same.

A decision applies only when its signature verifies, it is for this dataset and year, and
its key is a trusted signer whose role the policy lets decide (``approvals.decide``); any
other line is ignored and reported. Each signer's latest decision on a span is theirs; when
trusted signers disagree, the conflict is reported and "redact" applies, since "not
published" is the default answer.

"Latest" is never the line's place in the file, which the analyst can write (round 30, R3: a
reviewer's later "redact" moved above their "keep", or deleted, published the name). ``decide``
also records each line's hash on the privacy ledger the trusted policy names
(``release.privacy.decision_anchors``), and the ledger's order is the decisions' order; a decision the
ledger records that the file lacks blocks the build and is refused by approve, publish and the
raw-export audit ("restore the decisions file from its backup"). A line the ledger does not
record (a decide that crashed between the file and the ledger, a line from elsewhere) is reported;
a "keep" in it does not apply, a "redact" does: a redact only withholds text, a trusted reviewer
signed it, and when it stands beside the same span's "keep" "redact" wins, as between two
reviewers. Dropping such a line is not seen, but it was never the decisive word: ``decide``
failed visibly when its ledger write did not happen. Without a ledger (no ``privacy.yaml``),
decisions are ordered by their signed ``recorded_at``, then line, and a deleted line cannot be
detected.

A reviewer who kept a span can reverse it on the rebuilt bundle: ``decide --log-id`` on the log's
kept entry (``action`` "keep", ``detector`` "reviewer") records a decision on the same span, and the
later decision wins (round 30, M2). Which decisions a rebuild applies is ``release.bundle.decisions``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from release.bundle.decisions import _SIGNED, _decision, decisions_path
from release.bundle.jsonl import text_lines, utc_now
from release.bundle.layout import BLOCKING_FILE, LOG, MANIFEST, sha256_file
from release.bundle.log import read_entries
from release.bundle.places import bundle_dir
from release.bundle.read import read_manifest
from release.bundle.trust import trust_for, trusted_signer
from release.errors import ConfigError
from release.keys.signing import (
    SignedRecord,
    load_private_key,
    one_line,
    private_key_id,
    sign_record,
)
from release.privacy.decision_anchors import anchor_line

DECISIONS: tuple[str, ...] = ("redact", "keep")


def _bundle(dataset: str, year: int, out_dir: Path, needs: str, what: str, generation: str | None) -> Path:
    bundle = bundle_dir(dataset, year, out_dir, generation=generation)
    if not (bundle / needs).is_file() or not (bundle / MANIFEST).is_file():
        raise ConfigError(f"no {what} for this dataset and year", file=str(bundle), rule="decision")
    return bundle


def _find_entry(log_path: Path, log_id: str) -> dict[str, Any]:
    """The redaction-log entry ``log_id`` names, as JSON: its values are checked where they are used."""
    wanted = log_id.strip().lower()
    by_seq = wanted.isdigit() and len(wanted) < 8  # longer ids are hash prefixes
    if not by_seq and len(wanted) < 8:
        raise ConfigError("a log id is an entry's seq or at least 8 characters of its hash",
                          file=str(log_path), rule="decision")
    def not_json(number: int) -> NoReturn:
        raise ConfigError(f"line {number} of the redaction log is not JSON", file=str(log_path), rule="decision")

    matches = []
    for entry in read_entries(text_lines(log_path), not_json=not_json):
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
        start, end, seq = int(entry["start"]), int(entry["end"]), int(entry["seq"])
    except (KeyError, TypeError, ValueError):
        raise ConfigError("log entry has no usable offsets", rule="decision", file=where["file"],
                          row_key=where["row_key"], column=where["column"]) from None
    kept = entry.get("action") == "keep" and entry.get("detector") == "reviewer"  # a reviewer's keep: reversible
    if not (entry.get("action") == "redact" or kept) or start < 0:
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
    signed: list[SignedRecord] = []

    def sign(ledger_prev: str) -> str:
        signed.append(sign_record(private, "decision",
                                  {name: values[name] for name in _SIGNED if name not in ("kind", "ledger_prev")}
                                  | {"decision_kind": values["kind"], "ledger_prev": ledger_prev}))
        return signed[-1].to_line()
    path = decisions_path(dataset, year, out_dir)
    ledger_entry = anchor_line(trust.rules_dir, dataset, year, path, sign)
    decision = _decision(signed[-1], signer)
    return {"decisions_file": str(path), "ledger_entry": ledger_entry, "signer": signer.to_dict(),
            **decision.to_dict()}


