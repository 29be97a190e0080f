"""The witness service's scene, shared by every module here: ``base``, a small FIOE build whose rules
pin a ``release witness serve`` subprocess (once per module), and ``world``, a test's copy of it with
a copy of the witness's store served by a process of its own (``witnesskit``).

``Base`` and ``World`` stay in test_witness_service.py, whose attacks they were written for. These
tests grew up in tests/governance, whose bundles use a fixed HMAC key: ``_release_key`` keeps that
folder's environment for them (``world`` drops it again: the module's build used the session's key
file).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from bundlekit import KEY
from conftest import invoke, new_signer, trusted_rules
from witness.witnesskit import new_account, pin_service

if TYPE_CHECKING:
    from witness.test_witness_service import Base, World


@pytest.fixture(autouse=True)
def _release_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in tests/governance: ``RELEASE_HMAC_KEY`` is that folder's fixed ``KEY``."""
    monkeypatch.setenv("RELEASE_HMAC_KEY", KEY.decode())


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Base]:
    """A small FIOE build with rules pinning a witness service, in a home of its own (the session
    ledger stays unanchored)."""
    from witness.test_witness_service import YEAR, Base

    from release.synth.fioe import generate_fioe, write_fioe

    tmp = tmp_path_factory.mktemp("witness-base")
    witness = new_account(tmp / "witness-account")
    rules = trusted_rules(tmp)
    pin_service(rules, witness.address, witness.public_key)
    witness.start(rules=rules)
    raw, out = tmp / "raw", tmp / "out"
    write_fioe(generate_fioe(2020, seed=11, n_reports=40), raw)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HOME", str(tmp / "home"))
            code, stdout, stderr = invoke("fioe", YEAR, "--input", str(raw), "--out", str(out), "--rules", str(rules),
                                          "--json")
            assert code == 0, stdout + stderr
    finally:
        witness.stop()
    yield Base(raw, out, tmp / "home", witness)
    witness.close()


@pytest.fixture()
def world(base: Base, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from witness.test_witness_service import World

    monkeypatch.delenv("RELEASE_HMAC_KEY")  # the module's build used the session's key file
    out = tmp_path / "out"
    shutil.copytree(base.out, out)
    shutil.copytree(base.home, tmp_path / "home")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    witness = base.witness.copy(tmp_path / "witness-account")
    counsel = new_signer(tmp_path, "A. Counsel")  # trusted in tmp_path/rules, the organisation's rules
    rules = pin_service(tmp_path / "rules", witness.address, witness.public_key).parent
    witness.start(rules=rules)
    yield World(tmp_path, base.raw, out, rules, counsel, witness, monkeypatch)
    witness.close()
