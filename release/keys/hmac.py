"""The HMAC master key, and the keys derived from it, one per purpose.

The master key never enters a bundle. It comes from ``RELEASE_HMAC_KEY`` (the key itself),
or from a key file (``RELEASE_HMAC_KEY_FILE``, default ``~/.config/release/hmac.key``)
created on first use: written whole to a private temporary file, then linked into place,
so no run ever reads a half-written or empty key. Every source must hold at least
``MIN_KEY_BYTES`` of key material that looks random (``key_weakness``), because the key is
all that stands between a log token and a dictionary of names or dates of birth, and the
manifest's key id lets anyone confirm a guessed key.

Nothing is keyed with the master key itself. HKDF-SHA256 derives one key per purpose, each
under its own label: value tokens (one key per dataset and year, so the same person's
tokens cannot be linked across releases, unless the policy asks for ``linkable_tokens``),
the redaction log's trailer MAC (so a value token can never stand in for a trailer MAC),
the privacy ledger's MAC, the witness service's commitment to the counts it draws on
(``counts_key``), and the key id. The manifest records the derivation and the labels, never a key, so an
auditor holding the master key re-derives the same keys years later. The key id is
itself a derived value: it tells an auditor they hold the right key, and a guessed key
cannot be checked against it without the HKDF work per guess on 32 bytes of material.
Bundles written before labels existed (no ``hmac`` section) keep their single-key scheme
(``legacy``), whose trailer MAC is reported as unverifiable.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tempfile
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from release.errors import EnvironmentProblem

DEFAULT_KEY_FILE = Path("~/.config/release/hmac.key")
MIN_KEY_BYTES = 32
DERIVATION = "HKDF-SHA256"
DERIVATION_VERSION = 2
TRAILER_LABEL = "release-log-trailer/v2"
_HEX = re.compile(rb"(?:[0-9a-fA-F]{2})+")
MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_hex(32))'"


def key_file() -> Path:
    return Path(os.environ.get("RELEASE_HMAC_KEY_FILE", str(DEFAULT_KEY_FILE))).expanduser()


def key_material_bytes(key: bytes) -> int:
    """Bytes of key material: a hex string counts half its length (64 hex digits = 32 bytes)."""
    return len(key) // 2 if _HEX.fullmatch(key) else len(key)


@dataclass(frozen=True)
class MasterKey:
    """The master key's material and where it came from; ``created`` when this run made it, so the user is told
    to back it up."""

    material: bytes
    origin: str            # "RELEASE_HMAC_KEY" or the key file's path
    created: bool = False  # made by this run: the caller tells the user to back it up

    def notice(self) -> str | None:
        if not self.created:
            return None
        return (f"created a new HMAC key at {self.origin} (mode 0600). Back it up now, apart from the "
                "releases (a password manager or a sealed offline copy): every audit with --raw needs it to "
                "recompute the redaction log's tokens, and anyone holding it can test guesses against them.")


MIN_DISTINCT_SYMBOLS = 16  # 32 random bytes hold about 30 distinct values; a word or a pattern far fewer


def _material(key: bytes) -> bytes:
    return bytes.fromhex(key.decode("ascii")) if _HEX.fullmatch(key) else key


def _repeats(data: bytes) -> bool:
    """``data`` is a shorter unit written again and again ("summer2020summer2020...")."""
    return any(len(data) % n == 0 and data == data[:n] * (len(data) // n) for n in range(1, len(data) // 2 + 1))


def key_weakness(key: bytes) -> str | None:
    """Why ``key`` is not a usable master key, or None. The length is not enough: the key is all
    that stands between a log token and a dictionary of names or dates of birth, so a key a
    person chose ("summer2020summer2020summer2020!!", 64 zeros) is refused, never the value said."""
    if key_material_bytes(key) < MIN_KEY_BYTES:
        return f"holds {key_material_bytes(key)} bytes of key material; at least {MIN_KEY_BYTES} are needed"
    material = _material(key)
    distinct = len(set(material))
    if distinct < MIN_DISTINCT_SYMBOLS or _repeats(material):
        return (f"does not look random ({distinct} distinct symbols in {len(material)}"
                + (", a repeated pattern" if _repeats(material) else "") + ")")
    return None


def _checked(key: bytes, origin: str) -> bytes:
    weakness = key_weakness(key)
    if weakness is not None:
        where = "RELEASE_HMAC_KEY" if origin == "RELEASE_HMAC_KEY" else "the HMAC key file"
        raise EnvironmentProblem(
            f"{where} {weakness}. Use a random key ({MAKE_A_KEY}); if releases were built with this key, "
            "keep it for auditing them and build new ones with a new key",
            file=None if origin == "RELEASE_HMAC_KEY" else origin, rule="hmac-key")
    return key


def _create_key_file(path: Path) -> bool:
    """Write a new random key to ``path`` atomically; False when another run made it first."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(prefix=".hmac-key-", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_hex(MIN_KEY_BYTES).encode("ascii") + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # atomic, and never replaces an existing key
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)


def master_key(create: bool = False) -> MasterKey | None:
    """The configured master key; with ``create``, a new key file when none exists yet."""
    direct = os.environ.get("RELEASE_HMAC_KEY")
    if direct:
        return MasterKey(_checked(direct.encode("utf-8"), "RELEASE_HMAC_KEY"), "RELEASE_HMAC_KEY")
    path = key_file()
    created = False
    if not path.exists():
        if not create:
            return None
        try:
            created = _create_key_file(path)
        except OSError as exc:
            raise EnvironmentProblem(f"cannot create the HMAC key file ({exc.strerror})", file=str(path),
                                     rule="hmac-key") from None
    try:
        data = path.read_bytes().strip()
    except OSError as exc:
        raise EnvironmentProblem(f"cannot read the HMAC key file ({exc.strerror})", file=str(path),
                                 rule="hmac-key") from None
    return MasterKey(_checked(data, str(path)), str(path), created)


def load_or_create_key() -> bytes:
    key = master_key(create=True)
    assert key is not None
    return key.material


def existing_key() -> bytes | None:
    """The key if one is configured, without creating one (for auditors, approve and publish)."""
    key = master_key(create=False)
    return key.material if key else None


def normalize_value(value: str) -> str:
    """The form a value is tokenized in: NFKC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


@dataclass(frozen=True)
class Tokenizer:
    """HMAC tokens of removed values, under the value-token key."""

    key: bytes

    def token(self, value: str) -> str:
        return hmac.new(self.key, normalize_value(value).encode("utf-8"), hashlib.sha256).hexdigest()

    def mac(self, message: str) -> str:
        return hmac.new(self.key, message.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class TrailerKey:
    """The redaction log trailer's MAC. ``legacy``: the single-key scheme of log format 1,
    whose MAC used the token key and can be forged from a token; it is never trusted."""

    key: bytes
    key_id: str
    legacy: bool = False

    def mac(self, log_version: object, count: object, head: object) -> str:
        message = (f"{log_version}:{count}:{head}" if self.legacy
                   else f"{TRAILER_LABEL}\n{log_version}\n{count}\n{head}")
        return hmac.new(self.key, message.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class ReleaseKeys:
    """The keys one build uses, derived from the master for its dataset and year, and the derivation the
    manifest records (labels, never a key)."""

    tokens: Tokenizer
    trailer: TrailerKey
    key_id: str
    derivation: Mapping[str, object] = field(default_factory=dict)  # the manifest's ``hmac`` section

    @property
    def legacy(self) -> bool:
        return self.trailer.legacy


KEY_ID_LABEL = "release/v2/key-id"  # one for every dataset and year: it names the master key


def purpose_labels(dataset: str, year: int, linkable: bool = False) -> dict[str, str]:
    scope = f"{dataset}/all-years" if linkable else f"{dataset}/{year}"
    return {"value_tokens": f"release/v2/value-tokens/{scope}",
            "log_trailer": f"release/v2/log-trailer/{dataset}/{year}",
            "key_id": KEY_ID_LABEL}


def master_key_id(master: bytes) -> str:
    """The key id a manifest records (``hmac_key_id``): derived from the key, never the key, so
    it can be shown to tell keys apart (``release doctor``)."""
    return _derive(master, KEY_ID_LABEL, 16).hex()


LEDGER_LABEL = "release/v2/privacy-ledger"  # one for the one ledger: its entry MACs and measurement keys


def ledger_mac(master: bytes) -> Callable[[str], str]:
    """The privacy ledger's MAC (entries, and the keys of stored measurements): its own key,
    the same for every dataset and year, since one ledger holds them all."""
    return Tokenizer(_derive(master, LEDGER_LABEL)).mac


COUNTS_LABEL = "release/v2/witness-counts"  # the witness service's commitment to the counts it drew on


def counts_key(master: bytes) -> bytes:
    """The witness service's counts key (``release.witness.counts``): its own label, never the
    ledger's or a token key, so holding it lets the service commit to counts and nothing else."""
    return _derive(master, COUNTS_LABEL)


def _derive(master: bytes, label: str, length: int = 32) -> bytes:
    from release.keys.signing import (
        hkdf_sha256,  # the one module importing ``cryptography``
    )
    return hkdf_sha256(master, label.encode("ascii"), length)


def derive_keys(master: bytes, dataset: str, year: int, linkable: bool = False) -> ReleaseKeys:
    labels = purpose_labels(dataset, year, linkable)
    key_id = master_key_id(master)
    derivation = {"derivation": DERIVATION, "version": DERIVATION_VERSION, "key_id": key_id,
                  "linkable_tokens": linkable, "purposes": labels}
    return ReleaseKeys(Tokenizer(_derive(master, labels["value_tokens"])),
                       TrailerKey(_derive(master, labels["log_trailer"]), key_id), key_id, derivation)


def legacy_keys(master: bytes) -> ReleaseKeys:
    key_id = hashlib.sha256(b"release-key-id:" + master).hexdigest()[:16]
    return ReleaseKeys(Tokenizer(master), TrailerKey(master, key_id, legacy=True), key_id)


def keys_for_manifest(master: bytes, manifest: Mapping[str, object]) -> ReleaseKeys:
    """The keys a bundle was built with, re-derived from the labels its manifest records.

    Only the labels this version's scheme allows for the bundle's dataset and year are
    accepted, so an edited manifest cannot make two purposes share a key."""
    from release.bundle.manifest_recorded import Recorded

    recorded = Recorded.of(manifest)
    section = recorded.hmac
    if section is None:
        return legacy_keys(master)
    dataset, year = recorded.dataset_name, recorded.year
    if section.get("version") != DERIVATION_VERSION or year is None:
        raise EnvironmentProblem("the manifest names a key derivation this version does not know",
                                 rule="hmac-key")
    linkable = section.get("purposes") == purpose_labels(dataset, year, True)
    if section.get("purposes") != purpose_labels(dataset, year, linkable):
        raise EnvironmentProblem("the manifest's key purposes are not this release's", rule="hmac-key")
    return derive_keys(master, dataset, year, linkable)
def keyed_digest(tokenizer: Tokenizer, purpose: str, *parts: str) -> str:
    """HMAC of ``parts`` under the release key, separated by a purpose label (``person-key/v1``,
    ...), so a digest made for one use never equals one made for another or a log token.
    Such digests never leave the process that makes them (the FIOE person key is one)."""
    return tokenizer.mac("\x1f".join((f"purpose:{purpose}", *parts)))
