"""The witness service's commitment to the counts it drew on (issue #12, round 23: 4s-scale).

The service makes every draw from the bounded counts the analyst's tool sends it. It checks their
shape, never their truth: it never sees the raw export. A patched tool sent a protected table's
counts times 10 with the trusted sensitivity; the witness drew, the ledger was charged rho 0.05, and
the published cells (as drawn, or divided by 10) carried a tenth of the noise: rho 5.0 per person.
Only the raw export can tell such counts from the true ones, so the signed draw statement commits to
the counts and ``release audit --raw`` recounts them (``release.audit.counts``, check
``noisy_counts_recounted``).

The commitment is HMAC(counts key, spec hash, data year, counts). **The service computes it, not the
analyst's tool:** a tool that sends scaled counts would send the commitment of the true ones beside
them, and the audit would then check a claim instead of what the noise was added to. Computed by the
service from the very vector it hands OpenDP, and signed with the draw, it names the counts the draw
was made on. It is keyed, so the statement (in every manifest) cannot test guessed counts; the key is
a purpose key HKDF derives from the HMAC master (``keys.counts_key``), so the service holds neither
the master nor the ledger's or a token key, and an auditor with the master re-derives it.

The key file holds the key in hex, mode 0600: ``release witness counts-key --out FILE`` makes it where
the HMAC master is, ``release witness serve --counts-key FILE`` reads it, held to the rule for the
witness's private key (``witness_places.check_key_file``). A service started without it answers heads,
appends and tails, and refuses every draw: a statement without a commitment is never approved.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.errors import ApprovalError, EnvironmentProblem

COMMITMENT = "release-witness-counts/v1"
KEY_ID_LABEL = b"release-witness-counts/key-id"
RULE = "witness-counts-key"
_KEY_HEX = re.compile(r"[0-9a-f]{64}")


def commitment(key: bytes, spec_sha256: str, data_year: int, counts: Sequence[int]) -> str:
    """HMAC-SHA256 of the declaration, the data year and the bounded counts, under the counts key."""
    message = "\x1f".join((COMMITMENT, spec_sha256, str(int(data_year)), ",".join(str(int(v)) for v in counts)))
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CountsKey:
    """The key the service commits to counts under: a purpose key HKDF derives from the HMAC master."""

    key: bytes

    @property
    def key_id(self) -> str:
        """Names the key (a draw statement's ``counts_key_id``), never the key."""
        return hmac.new(self.key, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def fields(self, spec_sha256: str, data_year: int, counts: Sequence[int]) -> dict[str, str]:
        """What a draw statement adds: the commitment, and the id of the key it was made under."""
        return {"counts_commitment": commitment(self.key, spec_sha256, data_year, counts),
                "counts_key_id": self.key_id}


def from_master(master: bytes) -> CountsKey:
    from release.keys.hmac import counts_key
    return CountsKey(counts_key(master))


def make_key_file(path: Path) -> dict[str, object]:
    """``release witness counts-key --out FILE``: the counts key derived from the configured HMAC
    master, written to a new file (mode 0600, never over an existing one); its key id, never the key."""
    from release.keys.hmac import existing_key
    master = existing_key()
    if master is None:
        raise EnvironmentProblem("no HMAC key is configured: the counts key is derived from the organisation's "
                                 "HMAC key, the one its builds use (set RELEASE_HMAC_KEY or RELEASE_HMAC_KEY_FILE "
                                 "to it)", rule="hmac-key")
    key = from_master(master)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    from release.keys.signing import create_exclusive
    try:
        create_exclusive(path, (key.key.hex() + "\n").encode("ascii"), 0o600)
    except FileExistsError:
        raise ApprovalError("key file already exists; refusing to overwrite it", file=str(path), rule=RULE) from None
    return {"counts_key": str(path), "counts_key_id": key.key_id,
            "serve": f"release witness serve --dir STORE --key KEY --socket PATH --counts-key {path} --rules DIR"}


def load_key_file(path: Path) -> CountsKey:
    """The counts key the service is given: checked as its private key is (exit 3), then read;
    missing, unreadable or not a key: exit 9, naming the file."""
    from release.witness.places import check_key_file
    check_key_file(path, "the counts key", RULE)
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise EnvironmentProblem(f"the counts key cannot be read ({reason}): make it with release witness "
                                 "counts-key --out FILE", file=str(path), rule=RULE) from None
    if not _KEY_HEX.fullmatch(text):
        raise EnvironmentProblem("the counts key file does not hold a key (64 hex digits): make it with release "
                                 "witness counts-key --out FILE", file=str(path), rule=RULE)
    return CountsKey(bytes.fromhex(text))


def statement_problems(statement: Mapping[str, Any]) -> list[str]:
    """Why a verified draw statement carries no commitment to its counts (empty when it does)."""
    if isinstance(statement.get("counts_commitment"), str) and re.fullmatch(r"[0-9a-f]{64}",
                                                                            statement["counts_commitment"]) \
            and isinstance(statement.get("counts_key_id"), str) and re.fullmatch(r"[0-9a-f]{16}",
                                                                               statement["counts_key_id"]):
        return []
    return ["its draw statement carries no commitment to the counts the witness drew on (a witness started "
            "without --counts-key, or one older than counts keys): rebuild it; the measurement is drawn again "
            "and charged"]
