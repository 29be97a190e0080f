"""`release doctor` (issue #13, item 4): one line per check, offline, never a secret; exit 0
when all is well, 9 when the model or key is broken, 3 for rules, 6 for the ledger."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from conftest import authoritative_ledger, invoke, new_signer, trusted_rules

from release import doctor
from release.keys.hmac import master_key_id

KEY = "15983391c81a361132291c6edd8e40bcd22071b0ea77ae06231dbefb26b99081"  # 32 random bytes, as hex
CHECKS = ["model", "pii engine", "hmac key", "rules", "expectations", "ledger", "ray", "browser"]


def _doctor(tmp_path: Path, *more: str, key: str = KEY) -> tuple[int, str, str]:
    rules = trusted_rules(tmp_path)
    if not (tmp_path / "keys").is_dir():
        new_signer(tmp_path, "A. Counsel")
    args = ["doctor", "--out", str(tmp_path / "releases"), "--rules", str(rules), *more]
    return invoke(*args, env={"RELEASE_HMAC_KEY": key})


@pytest.fixture(autouse=True)
def _offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to reach the network fails the test."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("release doctor tried to open a network connection")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_all_well_is_one_line_per_check_and_shows_the_key_id_never_the_key(tmp_path: Path) -> None:
    code, stdout, stderr = _doctor(tmp_path)
    lines = stdout.splitlines()
    assert code == 0, stdout + stderr
    assert lines[0].startswith("release doctor: ready")
    assert [line.split(None, 1)[1].split("  ")[0].strip() for line in lines[1:]] == CHECKS
    assert f"key id {master_key_id(KEY.encode())[:16]} from RELEASE_HMAC_KEY" in stdout
    assert KEY not in stdout + stderr and KEY[:16] not in stdout + stderr
    assert "1 trusted signer(s)" in stdout
    code, stdout, stderr = _doctor(tmp_path, "--json")
    result = json.loads(stdout)
    assert code == result["exit_code"] == 0 and stderr == ""
    assert [c["name"] for c in result["checks"]] == CHECKS and KEY not in stdout


@pytest.mark.parametrize(("key", "expected"), [("summer2020", "holds 10 bytes of key material"),
                                               ("", "none yet")], ids=["weak-key", "no-key"])
def test_a_broken_key_exits_9_a_missing_one_only_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key: str,
                                                       expected: str) -> None:
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(tmp_path / "no-such.key"))
    code, stdout, stderr = _doctor(tmp_path, key=key)
    line = next(line for line in stdout.splitlines() if "hmac key" in line)
    assert expected in line and code == (9 if key else 0), stdout + stderr
    assert line.split()[0] == ("fail" if key else "warn")
    assert "summer2020" not in stdout + stderr


def test_a_missing_model_exits_9(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from release.pii import engine
    monkeypatch.setattr(doctor, "MODEL_PACKAGE", "en_core_web_sm_not_installed")
    monkeypatch.setattr(engine, "MODEL_PACKAGE", "en_core_web_sm_not_installed")
    code, stdout, stderr = _doctor(tmp_path)
    assert code == 9 and stderr.startswith("error: model: spaCy model package en_core_web_sm_not_installed")
    assert [line.split()[0] for line in stdout.splitlines()[1:3]] == ["fail", "fail"]


def test_a_broken_rules_folder_exits_3_and_an_unreadable_ledger_6(tmp_path: Path) -> None:
    rules = trusted_rules(tmp_path)
    policy = rules / "shootings.yaml"
    policy.write_text(policy.read_text(encoding="utf-8") + "\nnot_a_key: 1\n", encoding="utf-8")
    code, stdout, _ = _doctor(tmp_path)
    assert code == 3 and "shootings.yaml" in next(line for line in stdout.splitlines() if " rules " in line)
    policy.write_text(policy.read_text(encoding="utf-8").replace("\nnot_a_key: 1\n", ""), encoding="utf-8")
    ledger = authoritative_ledger()
    ledger.parent.mkdir(parents=True, exist_ok=True)
    ledger.write_bytes(b"not a database" * 100)
    code, stdout, stderr = _doctor(tmp_path, "--ledger", str(ledger))
    assert code == 6 and "fail  ledger" in stdout and f"file {ledger}" in stderr


def test_ray_not_installed_only_warns_without_an_address_and_fails_9_with_one(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Local runs need no Ray: its absence is a warning, unless a cluster is to be checked."""
    from importlib import metadata
    version = metadata.version

    def without_ray(name: str) -> str:
        if name == "ray":
            raise metadata.PackageNotFoundError(name)
        return version(name)
    monkeypatch.setattr(doctor.metadata, "version", without_ray)
    code, stdout, stderr = _doctor(tmp_path)
    line = next(line for line in stdout.splitlines() if line.split()[1:2] == ["ray"])
    assert code == 0 and line.split()[0] == "warn" and "pip install 'release[ray]'" in line
    code, stdout, stderr = _doctor(tmp_path, "--address", "head.example:6379")
    line = next(line for line in stdout.splitlines() if line.split()[1:2] == ["ray"])
    assert code == 9 and line.split()[0] == "fail" and "Ray is not installed" in line, stdout + stderr
