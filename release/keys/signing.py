"""Signing keys and signed records, and key derivation: the only module importing ``cryptography``.

Approvals and reviewer decisions are one kind of thing, a signed record: a canonical JSON
payload (with its ``kind``), an Ed25519 signature over a fixed context string followed by
that payload, and the signer's public key and key id (SHA-256 of the raw key), so anyone
can check the signature years later without a key server. A signature says only which key
signed; whether that key counts, and whose it is, is the trusted-signers list's answer
(``release.bundle.trust``), never the record's own. The context string keeps a signature made for
one kind from being read as another; approval lines of format 1 (no context, no kind) are
still read as approvals.

Private keys are PKCS8 PEM, mode 0600, optionally encrypted with a passphrase. HKDF (for
``release.keys.hmac``) lives here too, so the library is imported in one place.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from release.bundle.jsonl import canonical_json, is_text, text_lines
from release.errors import ApprovalError

RECORD_VERSION = 2
SIGNING_CONTEXT = b"release signed record v2\n"
PUBLIC_KEY_PREFIX = "ed25519:"
RecordKind = Literal["approval", "decision", "seal"]  # seal: an approval's second signature (trust.SEALS)


# ---- key derivation ----------------------------------------------------------------

def hkdf_sha256(master: bytes, info: bytes, length: int = 32) -> bytes:
    """RFC 5869 HKDF-SHA256 without salt: one key per ``info`` label (``release.keys.hmac``)."""
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(master)


# ---- keys --------------------------------------------------------------------------

def public_key_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".pub")


def _raw(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(public)).hexdigest()


def short_id(full_key_id: str) -> str:
    """The key id as messages show it (like ssh's fingerprints: enough to tell keys apart)."""
    return full_key_id[:16] or "?"


def one_line(public: Ed25519PublicKey) -> str:
    """``ed25519:<base64 of the raw key>``: the form the trusted-signers list holds."""
    return PUBLIC_KEY_PREFIX + base64.b64encode(_raw(public)).decode("ascii")


def _public_pem(public: Ed25519PublicKey) -> str:
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key as ``ed25519:<base64>`` or PEM; ValueError when it is neither."""
    try:
        if text.strip().startswith(PUBLIC_KEY_PREFIX):
            raw = base64.b64decode(text.strip()[len(PUBLIC_KEY_PREFIX):], validate=True)
            return Ed25519PublicKey.from_public_bytes(raw)
        public = serialization.load_pem_public_key(text.encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError, UnsupportedAlgorithm, binascii.Error):
        raise ValueError("not an Ed25519 public key (ed25519:<base64> or PEM)") from None
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return public


def public_key_id(text: str) -> str:
    return key_id(parse_public_key(text))


def create_exclusive(path: Path, data: bytes, mode: int) -> None:
    """A new file with ``mode`` (O_EXCL: FileExistsError when the path exists; never overwrites)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def keygen(path: Path, passphrase: bytes | None = None) -> dict[str, str]:
    """Write a new private key (PEM, PKCS8, mode 0600, encrypted when a passphrase is given)
    and ``<path>.pub``; never overwrite. Returns the key id and its one-line public key."""
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
        create_exclusive(path, pem, 0o600)
        create_exclusive(public_path, _public_pem(private.public_key()).encode("ascii"), 0o644)
    except FileExistsError:  # created concurrently
        raise ApprovalError("key file already exists; refusing to overwrite it",
                            file=str(path), rule="keygen") from None
    return {"private_key": str(path), "public_key_file": str(public_path),
            "key_id": key_id(private.public_key()), "public_key": one_line(private.public_key()),
            "passphrase": "yes" if passphrase else "no"}


def key_is_encrypted(path: Path) -> bool:
    """Whether the private key file needs a passphrase (so the CLI knows to ask for one)."""
    try:
        return b"ENCRYPTED" in path.read_bytes()[:64]
    except OSError:
        return False


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


def private_key_id(private: Ed25519PrivateKey) -> str:
    return key_id(private.public_key())


def sign_bytes(private: Ed25519PrivateKey, message: bytes) -> str:
    """A base64 Ed25519 signature over ``message`` (the witness service's statements)."""
    return base64.b64encode(private.sign(message)).decode("ascii")


def signature_bytes(text: object) -> bytes:
    """A base64 signature's bytes; ValueError unless ``text`` is a string in the one form ``b64encode``
    writes. Round 36 (L1): the decoder ignores the unused low bits of the last character, so a published
    signature (an approval's, a witness statement's in the manifest) carried 2 to 4 bits of any value."""
    if not isinstance(text, str):
        raise ValueError("not a base64 string")
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("not in the base64 form the signer writes")
    return raw


def verify_bytes(public_key: str, message: bytes, signature: object) -> bool:
    """Whether ``signature`` (base64, in the form the signer writes) is ``public_key``'s
    (``ed25519:<base64>``) over ``message``."""
    try:
        parse_public_key(public_key).verify(signature_bytes(signature), message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


# ---- signed records ------------------------------------------------------------------

def canonical(payload: dict[str, object]) -> bytes:
    return canonical_json(payload).encode("utf-8")


RECORD_KEYS = frozenset({"payload", "signature", "public_key", "key_id"})  # a signed line's keys, no other


@dataclass(frozen=True)
class SignedRecord:
    """One signed line (an approval or a reviewer decision): the payload, and all anyone needs to check its
    signature without a key server."""

    payload: dict[str, object]   # kind, record_version and the kind's own fields
    signature: str               # base64 of the Ed25519 signature
    public_key: str              # ed25519:<base64> (format 2) or PEM (format-1 approvals)
    key_id: str                  # sha256 of the raw public key, hex

    def to_line(self) -> str:
        return canonical_json(asdict(self))

    @classmethod
    def from_line(cls, line: str) -> SignedRecord:
        """ValueError when the line is not a signed record at all (e.g. an unsigned decision)."""
        try:
            data = json.loads(line)
            # exactly its four keys (round 36, H2: a key beside them was read past, carrying any text)
            if not isinstance(data, dict) or set(data) != RECORD_KEYS or not isinstance(data["payload"], dict):
                raise ValueError("not a signed record")
            return cls(payload=dict(data["payload"]), signature=str(data["signature"]),
                       public_key=str(data["public_key"]), key_id=str(data["key_id"]))
        except (json.JSONDecodeError, KeyError, TypeError):
            raise ValueError("not a signed record") from None


def _message(payload: dict[str, object]) -> bytes:
    legacy = payload.get("approval_version") == 1 and "kind" not in payload
    return canonical(payload) if legacy else SIGNING_CONTEXT + canonical(payload)


def sign_record(private: Ed25519PrivateKey, kind: RecordKind, fields: dict[str, object]) -> SignedRecord:
    payload: dict[str, object] = {**fields, "kind": kind, "record_version": RECORD_VERSION}
    signature = base64.b64encode(private.sign(_message(payload))).decode("ascii")
    public = private.public_key()
    return SignedRecord(payload, signature, one_line(public), key_id(public))


def verify_record(record: SignedRecord, kind: RecordKind) -> list[str]:
    """Problems with the record's signature and kind (empty when ``record`` is a genuine ``kind``
    signed by the key it names). Who that key belongs to is not decided here."""
    try:
        public = parse_public_key(record.public_key)
    except ValueError:
        return ["public key is not a readable Ed25519 key"]
    problems: list[str] = []
    if key_id(public) != record.key_id:
        problems.append("key id does not match the public key")
    # round 36 (H1): the key's text was read with its spaces stripped and only its id compared, so spaces
    # before it (one per digit) carried any value in a published approval whose signature still verified
    legacy_approval = kind == "approval" and record.payload.get("approval_version") == 1 \
        and "kind" not in record.payload
    # round 37 (R1): PEM only where format-1 approvals wrote it, else the choice of form was a bit a line
    if record.public_key != (_public_pem(public) if legacy_approval else one_line(public)):
        problems.append("public key not written as the signer writes it (spaces or another encoding added)")
    try:
        public.verify(signature_bytes(record.signature), _message(record.payload))
    except (InvalidSignature, ValueError, binascii.Error):
        problems.append("signature does not verify (record text or signature altered)")
    if not legacy_approval and (record.payload.get("kind") != kind
                                or record.payload.get("record_version") != RECORD_VERSION):
        problems.append(f"not a {kind} record of a known version")
    return problems


def append_record(path: Path, record: SignedRecord) -> None:
    append_line(path, record.to_line())


def insert_record(path: Path, record: SignedRecord) -> None:
    """``record`` added to a file of signed lines kept in key-id order (``approvals.jsonl``: its lines'
    order is the keys', never the order they came in, so it carries nothing: round 32, D1), written to a
    temporary file and renamed into place, on disk before this returns."""
    if not is_text(path):  # rewritten line by line, a damaged file would lose the evidence of its damage
        raise ApprovalError(f"{path.name} is not UTF-8 text: it was altered or damaged; restore it from the bundle's "
                            "copy, or rebuild", file=path.name, rule="approvals-file")
    lines = [line for line in text_lines(path) if line]
    keyed = []
    for line in lines:
        try:
            keyed.append((SignedRecord.from_line(line).key_id, line))
        except ValueError:
            keyed.append(("", line))  # the checks name it; it stays where it sorts
    keyed.append((record.key_id, record.to_line()))
    staging = path.with_name(f".{path.name}.{os.getpid()}-{os.urandom(4).hex()}.writing")  # one per writer
    with staging.open("x", encoding="utf-8", newline="\n") as handle:
        handle.write("".join(f"{line}\n" for _, line in sorted(keyed, key=lambda pair: pair[0])))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staging, path)


def append_line(path: Path, line: str) -> None:
    """One line appended and on disk before this returns."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())

