"""The HMAC key that tokenizes removed values in the redaction log.

The key never enters a bundle. It comes from ``RELEASE_HMAC_KEY`` (the key itself), or
from a key file (``RELEASE_HMAC_KEY_FILE``, default ``~/.config/release/hmac.key``)
created on first use with mode 0600. The manifest records only the key's id (a hash of
the key), so an auditor holding the key can recompute tokens and one without it learns
nothing about the removed values.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from release.errors import EnvironmentProblem

DEFAULT_KEY_FILE = Path("~/.config/release/hmac.key")


def key_file() -> Path:
    return Path(os.environ.get("RELEASE_HMAC_KEY_FILE", str(DEFAULT_KEY_FILE))).expanduser()


def load_or_create_key() -> bytes:
    direct = os.environ.get("RELEASE_HMAC_KEY")
    if direct:
        return direct.encode("utf-8")
    path = key_file()
    if path.exists():
        data = path.read_bytes().strip()
        if len(data) < 32:
            raise EnvironmentProblem("HMAC key file is shorter than 32 bytes", file=str(path))
        return data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created by a concurrent run
        return path.read_bytes().strip()
    except OSError as exc:
        raise EnvironmentProblem(f"cannot create the HMAC key file ({exc.strerror})",
                                 file=str(path)) from None
    key = secrets.token_hex(32).encode("ascii")
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key)
    return key


def existing_key() -> bytes | None:
    """The key if one is configured, without creating one (for auditors)."""
    direct = os.environ.get("RELEASE_HMAC_KEY")
    if direct:
        return direct.encode("utf-8")
    path = key_file()
    return path.read_bytes().strip() if path.is_file() else None


def normalize_value(value: str) -> str:
    """The form a value is tokenized in: NFKC, case-folded, inner whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


@dataclass(frozen=True)
class Tokenizer:
    key: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"release-key-id:" + self.key).hexdigest()[:16]

    def token(self, value: str) -> str:
        return hmac.new(self.key, normalize_value(value).encode("utf-8"), hashlib.sha256).hexdigest()

    def mac(self, message: str) -> str:
        return hmac.new(self.key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def keyed_digest(tokenizer: Tokenizer, purpose: str, *parts: str) -> str:
    """HMAC of ``parts`` under the release key, separated by a purpose label (``person-key/v1``,
    ...), so a digest made for one use never equals one made for another or a log token.
    Such digests never leave the process that makes them (the FIOE person key is one)."""
    return tokenizer.mac("\x1f".join((f"purpose:{purpose}", *parts)))
