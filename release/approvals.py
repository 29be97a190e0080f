"""What reviewers put on record: Ed25519 keys, signed approvals, redact/keep decisions.

An approval binds a reviewer to one exact bundle: the signature covers a canonical JSON
payload holding the SHA-256 of ``manifest.json`` (which in turn hashes every output),
the dataset, year, reviewer, note and time. Each line of ``approvals.jsonl`` carries the
signer's public key and its id (SHA-256 of the raw key), so anyone can verify it years
later without a key server; which keys a publisher trusts is a question for the
publisher, not for this file. This is the only module importing ``cryptography``.

Decisions ("redact" or "keep" a flagged span of the redaction log) live beside the
bundle, in ``<out>/<dataset>/<year>.decisions.jsonl``, so a rebuild keeps them. A log
entry's ``seq`` and ``hash`` change on every rebuild, so a decision stores the span
itself: file, row key, column, offsets in the original text and the HMAC token of the
removed value, which lets the redact stage check that the raw text is still the same.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from release.errors import ApprovalError, ConfigError
from release.stages.publish import BLOCKING_FILE, LOG, MANIFEST, sha256_file

APPROVALS = "approvals.jsonl"
APPROVAL_VERSION = 1
DecisionKind = Literal["redact", "keep"]
DECISIONS: tuple[str, ...] = ("redact", "keep")


# ---- key derivation ----------------------------------------------------------------

def hkdf_sha256(master: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 HKDF-SHA256 without salt: one key per ``info`` label (``release.keys``)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(master)


# ---- keys --------------------------------------------------------------------------

def public_key_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".pub")


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(public)).hexdigest()


def _public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def _create_exclusive(path: Path, data: bytes, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def keygen(path: Path, passphrase: bytes | None = None) -> dict[str, str]:
    """Write a new private key (PEM, PKCS8, mode 0600) and ``<path>.pub``; never overwrite."""
    public_path = public_key_path(path)
    for existing in (path, public_path):
        if existing.exists():
            raise ApprovalError("key file already exists; refusing to overwrite it",
                                file=str(existing), rule="keygen")
    path.parent.mkdir(parents=True, exist_ok=True)
    private = Ed25519PrivateKey.generate()
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption())
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    try:
        _create_exclusive(path, pem, 0o600)
        _create_exclusive(public_path, _public_pem(private.public_key()).encode("ascii"), 0o644)
    except FileExistsError:  # created concurrently
        raise ApprovalError("key file already exists; refusing to overwrite it",
                            file=str(path), rule="keygen") from None
    return {"private_key": str(path), "public_key": str(public_path),
            "key_id": key_id(private.public_key())}


def load_private_key(path: Path, passphrase: bytes | None = None) -> Ed25519PrivateKey:
    if not path.is_file():
        raise ApprovalError("signing key not found", file=str(path), rule="signing-key")
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise ApprovalError("signing key is readable by other users; chmod 600 it",
                            file=str(path), rule="signing-key")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ApprovalError("not a readable PEM private key (wrong passphrase?)",
                            file=str(path), rule="signing-key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ApprovalError("signing key is not an Ed25519 key", file=str(path), rule="signing-key")
    return key


# ---- approvals ---------------------------------------------------------------------

def canonical(payload: dict[str, object]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")


@dataclass(frozen=True)
class Approval:
    payload: dict[str, object]   # approval_version, dataset, year, manifest_sha256, reviewer, note, timestamp
    signature: str               # base64 of the Ed25519 signature over canonical(payload)
    public_key: str              # PEM (SubjectPublicKeyInfo)
    key_id: str                  # sha256 of the raw public key, hex

    def to_line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sign_approval(private: Ed25519PrivateKey, *, dataset: str, year: int, manifest_sha256: str,
                  reviewer: str, note: str, timestamp: str) -> Approval:
    payload: dict[str, object] = {
        "approval_version": APPROVAL_VERSION, "dataset": dataset, "year": year,
        "manifest_sha256": manifest_sha256, "reviewer": reviewer, "note": note, "timestamp": timestamp}
    signature = base64.b64encode(private.sign(canonical(payload))).decode("ascii")
    public = private.public_key()
    return Approval(payload, signature, _public_pem(public), key_id(public))


def verify_approval(approval: Approval, *, dataset: str, year: int, manifest_sha256: str) -> list[str]:
    """Problems with one approval (empty when it is valid for this manifest)."""
    try:
        public = serialization.load_pem_public_key(approval.public_key.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm):
        return ["public key is not a readable PEM key"]
    if not isinstance(public, Ed25519PublicKey):
        return ["public key is not an Ed25519 key"]
    problems: list[str] = []
    if key_id(public) != approval.key_id:
        problems.append("key id does not match the public key")
    try:
        public.verify(base64.b64decode(approval.signature, validate=True), canonical(approval.payload))
    except (InvalidSignature, ValueError):
        problems.append("signature does not verify (approval text or signature altered)")
    if approval.payload.get("approval_version") != APPROVAL_VERSION:
        problems.append("unknown approval version")
    if approval.payload.get("dataset") != dataset or approval.payload.get("year") != year:
        problems.append("approval is for another dataset or year")
    if approval.payload.get("manifest_sha256") != manifest_sha256:
        problems.append("approval is for another manifest (the bundle changed since it was approved)")
    return problems


@dataclass(frozen=True)
class ApprovalCheck:
    line: int
    key_id: str
    reviewer: str
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def check_approvals(bundle: Path, *, dataset: str, year: int, manifest_sha256: str) -> list[ApprovalCheck]:
    """Every line of ``approvals.jsonl``, checked against the current manifest hash."""
    path = bundle / APPROVALS
    if not path.is_file():
        return []
    checks: list[ApprovalCheck] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            approval = Approval(payload=dict(data["payload"]), signature=str(data["signature"]),
                                public_key=str(data["public_key"]), key_id=str(data["key_id"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            checks.append(ApprovalCheck(number, "", "", ("not a well-formed approval line",)))
            continue
        problems = verify_approval(approval, dataset=dataset, year=year, manifest_sha256=manifest_sha256)
        checks.append(ApprovalCheck(number, approval.key_id, str(approval.payload.get("reviewer", "")),
                                    tuple(problems)))
    return checks


def append_approval(bundle: Path, approval: Approval) -> None:
    with (bundle / APPROVALS).open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(approval.to_line() + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# ---- reviewer decisions --------------------------------------------------------------

@dataclass(frozen=True)
class Decision:
    decision: DecisionKind
    reviewer: str
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

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def span(self) -> tuple[str, str, str, int, int]:
        if self.kind == "finding":
            return (self.finding_id, self.row_key, self.column, -1, -1)
        return (self.file, self.row_key, self.column, self.start, self.end)


def decisions_path(dataset: str, year: int, out_dir: Path) -> Path:
    return out_dir / dataset / f"{year}.decisions.jsonl"


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


def record_decision(dataset: str, year: int, out_dir: Path, log_id: str, decision: str,
                    reviewer: str, note: str = "") -> dict[str, object]:
    """Record a reviewer's "redact" or "keep" on one redaction-log entry (by seq or hash)."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision must be one of: {', '.join(DECISIONS)}", rule="decision")
    bundle = out_dir / dataset / str(year)
    log_path = bundle / LOG
    if not log_path.is_file() or not (bundle / MANIFEST).is_file():
        raise ConfigError("no bundle with a redaction log for this dataset and year",
                          file=str(bundle), rule="decision")
    entry = _find_entry(log_path, log_id)
    where = {"file": str(entry.get("file")), "row_key": str(entry.get("row_key")),
             "column": str(entry.get("column"))}
    try:
        start, end, seq = int(entry["start"]), int(entry["end"]), int(entry["seq"])  # type: ignore[call-overload]
    except (KeyError, TypeError, ValueError):
        raise ConfigError("log entry has no usable offsets", rule="decision", **where) from None
    if entry.get("action") != "redact" or start < 0:
        raise ConfigError("only text redactions can be decided; withheld and generalized values "
                          "follow the policy", rule="decision", **where)
    record = Decision(
        decision=decision, reviewer=reviewer, note=note, recorded_at=utc_now(),  # type: ignore[arg-type]
        manifest_sha256=sha256_file(bundle / MANIFEST), log_seq=seq, log_hash=str(entry.get("hash")),
        start=start, end=end, entity_type=str(entry.get("entity_type", "")),
        rule_id=str(entry.get("rule_id", "")), token=str(entry.get("token", "")), **where)
    return _append_decision(dataset, year, out_dir, record)


def record_finding_decision(dataset: str, year: int, out_dir: Path, finding: str, decision: str,
                            reviewer: str, note: str = "") -> dict[str, object]:
    """Record a reviewer's "redact" (blank the public cell) or "keep" (publish it) on one
    blocking finding of a blocked bundle, by the id its packet shows."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision must be one of: {', '.join(DECISIONS)}", rule="decision")
    bundle = out_dir / dataset / str(year)
    evidence = bundle / "review" / BLOCKING_FILE
    if not evidence.is_file() or not (bundle / MANIFEST).is_file():
        raise ConfigError("no blocked bundle with findings to decide for this dataset and year",
                          file=str(bundle), rule="decision")
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
    record = Decision(
        decision=decision, reviewer=reviewer, note=note, recorded_at=utc_now(),  # type: ignore[arg-type]
        manifest_sha256=sha256_file(bundle / MANIFEST), log_seq=-1, log_hash="",
        file=str(item.get("file", "")), row_key=str(item.get("row_key", "")), column=str(item.get("column", "")),
        start=-1, end=-1, entity_type=str(item.get("entity_type", "")), rule_id=str(item.get("rule", "")),
        token=str(item.get("token", "")), kind="finding", finding_id=str(item.get("finding_id")))
    return _append_decision(dataset, year, out_dir, record)


def _append_decision(dataset: str, year: int, out_dir: Path, record: Decision) -> dict[str, object]:
    path = decisions_path(dataset, year, out_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(json.dumps(record.to_dict(), sort_keys=True, ensure_ascii=True) + "\n")
    return {"decisions_file": str(path), **record.to_dict()}


def load_decisions(dataset: str, year: int, out_dir: Path) -> list[Decision]:
    """Every recorded decision, oldest first; the latest one on a span is the one in force."""
    path = decisions_path(dataset, year, out_dir)
    if not path.is_file():
        return []
    decisions: list[Decision] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            decisions.append(Decision(**json.loads(line)))
        except (json.JSONDecodeError, TypeError):
            raise ConfigError(f"line {number} is not a decision record", file=str(path),
                              rule="decision") from None
    return decisions


def decisions_in_force(decisions: list[Decision]) -> dict[tuple[str, str, str, int, int], Decision]:
    """The latest decision per span: what a rebuild applies."""
    return {d.span: d for d in decisions}
