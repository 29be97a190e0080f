"""The HMAC master key and the keys derived from it (issue #11, "Keys").

Created once, atomically, with mode 0600 outside any bundle, or taken from the environment;
never shorter than 32 bytes of key material; never used directly: one derived key per
purpose, with a keyed key id."""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from pathlib import Path

import pytest

from release.errors import EnvironmentProblem
from release.keys.hmac import (
    Tokenizer,
    derive_keys,
    keys_for_manifest,
    legacy_keys,
    load_or_create_key,
    master_key,
    purpose_labels,
)
from release.keys.signing import hkdf_sha256


def test_key_file_created_once_with_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k" / "hmac.key"
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(path))
    first = load_or_create_key()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key() == first


def test_first_use_says_a_key_was_made_and_to_back_it_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k" / "hmac.key"
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(path))
    created = master_key(create=True)
    assert created is not None and created.created
    notice = created.notice() or ""
    assert str(path) in notice and "Back it up" in notice
    again = master_key(create=True)
    assert again is not None and not again.created and again.notice() is None


def test_concurrent_first_use_never_sees_an_empty_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(tmp_path / "hmac.key"))
    keys: list[bytes] = []
    errors: list[Exception] = []

    def run() -> None:
        try:
            keys.append(load_or_create_key())
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and len(set(keys)) == 1 and len(keys[0]) == 64
    assert [p.name for p in tmp_path.iterdir()] == ["hmac.key"]  # no temporary file left behind


def test_the_key_appears_only_when_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "hmac.key"
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(path))
    seen: list[bytes] = []
    link = os.link

    def checking_link(source: str, target: str) -> None:
        seen.append(Path(source).read_bytes())
        link(source, target)

    monkeypatch.setattr(os, "link", checking_link)
    load_or_create_key()
    assert len(seen) == 1 and len(seen[0].strip()) == 64


def test_environment_key_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = "pX7vQ2mZ9tL4wR8kB3nH6yD1sF5gJ0cV-aE_uT"  # 38 random characters, not hex
    monkeypatch.setenv("RELEASE_HMAC_KEY", key)
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(tmp_path / "unused.key"))
    assert load_or_create_key() == key.encode()
    assert not (tmp_path / "unused.key").exists()


@pytest.mark.parametrize("key", ["summer2020", "a" * 31, "0123456789abcdef" * 3],
                         ids=["a-word", "31-bytes", "48-hex-digits-are-24-bytes"])
def test_a_weak_environment_key_is_refused(monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    monkeypatch.setenv("RELEASE_HMAC_KEY", key)
    with pytest.raises(EnvironmentProblem) as caught:
        load_or_create_key()
    assert caught.value.exit_code == 9 and "at least 32" in caught.value.message
    assert "secrets.token_hex(32)" in caught.value.message and key not in caught.value.one_line()


@pytest.mark.parametrize("content", [b"short", b"", b"\n"], ids=["short", "empty", "newline-only"])
def test_short_or_empty_key_file_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes) -> None:
    path = tmp_path / "short.key"
    path.write_bytes(content)
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(path))
    with pytest.raises(EnvironmentProblem, match="at least 32"):
        load_or_create_key()


@pytest.mark.parametrize(("a", "b"), [("Smith", "SMITH"), ("John  Smith", "john smith"), ("１２３", "123")],
                         ids=["case", "spaces", "fullwidth"])
def test_tokens_of_normalized_values(a: str, b: str) -> None:
    tokenizer = Tokenizer(b"t" * 64)
    assert tokenizer.token(a) == tokenizer.token(b)
    assert Tokenizer(b"u" * 64).token(a) != tokenizer.token(a)


def test_hkdf_is_rfc_5869() -> None:
    """Test case 3 of RFC 5869 (no salt, no info): the derivation an audit relies on years later."""
    okm = hkdf_sha256(bytes([0x0B] * 22), b"", 42)
    assert okm.hex() == ("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f"
                         "3c738d2d9d201395faa4b61a96c8")


MASTER = b"m" * 64


def test_one_key_per_purpose_and_per_dataset_year() -> None:
    keys = derive_keys(MASTER, "fioe", 2020)
    assert len({keys.tokens.key, keys.trailer.key, MASTER}) == 3
    assert keys.tokens.token("Zebulon") != Tokenizer(MASTER).token("Zebulon")
    other_year = derive_keys(MASTER, "fioe", 2021)
    other_dataset = derive_keys(MASTER, "shootings", 2020)
    assert len({keys.tokens.token("Zebulon"), other_year.tokens.token("Zebulon"),
                other_dataset.tokens.token("Zebulon")}) == 3  # the same person is not linkable
    linked = [derive_keys(MASTER, "fioe", year, linkable=True) for year in (2020, 2021)]
    assert linked[0].tokens.token("Zebulon") == linked[1].tokens.token("Zebulon")
    assert linked[0].trailer.key != linked[1].trailer.key


def test_the_key_id_is_keyed() -> None:
    """The old id (a bare hash of the key) let a word list recover a weak key offline."""
    keys = derive_keys(MASTER, "fioe", 2020)
    bare = {hashlib.sha256(MASTER).hexdigest(), hashlib.sha256(b"release-key-id:" + MASTER).hexdigest()}
    assert not any(h.startswith(keys.key_id[:16]) for h in bare)
    assert keys.key_id == hkdf_sha256(MASTER, b"release/v2/key-id", 16).hex()
    assert keys.key_id == derive_keys(MASTER, "fioe", 2021).key_id  # one master key, one id


def test_manifest_records_labels_never_keys_and_an_audit_rederives_them() -> None:
    keys = derive_keys(MASTER, "fioe", 2020, linkable=True)
    manifest = {"dataset": "fioe", "year": 2020, "hmac": dict(keys.derivation)}
    assert MASTER.decode() not in repr(manifest) and keys.tokens.key.hex() not in repr(manifest)
    again = keys_for_manifest(MASTER, manifest)
    assert again.tokens == keys.tokens and again.trailer == keys.trailer
    assert keys_for_manifest(MASTER, {"dataset": "fioe", "year": 2020}) == legacy_keys(MASTER)


def test_an_edited_manifest_cannot_make_two_purposes_share_a_key() -> None:
    labels = purpose_labels("fioe", 2020)
    labels["log_trailer"] = labels["value_tokens"]
    manifest = {"dataset": "fioe", "year": 2020, "hmac": {**derive_keys(MASTER, "fioe", 2020).derivation,
                                                          "purposes": labels}}
    with pytest.raises(EnvironmentProblem, match="purposes"):
        keys_for_manifest(MASTER, manifest)


@pytest.mark.parametrize("weak", ["summer2020summer2020summer2020!!", "0" * 64, "a" * 64,
                                  "correct horse battery staple correct horse"],
                         ids=["repeated-word", "zeros", "one-hex-digit", "passphrase"])
def test_a_chosen_key_is_refused_whatever_its_length(weak: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Red team: such keys passed the length check, and the manifest's key id then confirmed a
    guess from a five-word list; a key must look random, and the message never holds it."""
    monkeypatch.setenv("RELEASE_HMAC_KEY", weak)
    with pytest.raises(EnvironmentProblem, match="does not look random") as refused:
        load_or_create_key()
    assert weak not in refused.value.one_line()
