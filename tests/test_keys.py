"""The HMAC key: created once with mode 0600 outside any bundle, or taken from the environment."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from release.errors import EnvironmentProblem
from release.keys import Tokenizer, load_or_create_key


def test_key_file_created_once_with_mode_0600(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "k" / "hmac.key"
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(path))
    first = load_or_create_key()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load_or_create_key() == first


def test_environment_key_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RELEASE_HMAC_KEY", "x" * 40)
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(tmp_path / "unused.key"))
    assert load_or_create_key() == b"x" * 40
    assert not (tmp_path / "unused.key").exists()


def test_short_key_file_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "short.key"
    path.write_bytes(b"short")
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(path))
    with pytest.raises(EnvironmentProblem):
        load_or_create_key()


@pytest.mark.parametrize(("a", "b"), [("Smith", "SMITH"), ("John  Smith", "john smith"), ("１２３", "123")],
                         ids=["case", "spaces", "fullwidth"])
def test_tokens_of_normalized_values(a: str, b: str) -> None:
    tokenizer = Tokenizer(b"t" * 64)
    assert tokenizer.token(a) == tokenizer.token(b)
    assert Tokenizer(b"u" * 64).token(a) != tokenizer.token(a)
