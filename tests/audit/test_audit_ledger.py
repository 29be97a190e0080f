"""``release audit`` checks the privacy ledger against the bundles: a tampered ledger, a raised
cap and a measurement that does not replay all fail it (issue #12), while an honest build and
its free rebuild pass. Guarantees, never noisy values."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import authoritative_ledger, invoke

from release.privacy.ledger import Ledger

YEAR = "2020"


def _ledger_check(out: Path) -> dict[str, object]:
    """The audit's privacy_ledger check. The bundle is unapproved and the scan skipped, so the
    audit as a whole fails on those (8); ``code`` is 0 when the ledger check passes."""
    _, stdout, _ = invoke("audit", "best", YEAR, "--out", str(out), "--no-scan", "--allow-unverified", "--json")
    report = json.loads(stdout)
    check = next(c for c in report["checks"] if c["name"] == "privacy_ledger")
    problems = " ".join(str(p) for p in check.get("problems") or []) + " " + str(check.get("detail", ""))
    return {"code": 0 if check["status"] == "pass" else 8, "status": check["status"], "problems": problems}


@pytest.fixture()
def built(tmp_path: Path) -> tuple[Path, Path]:
    out = tmp_path / "out"
    code, stdout, stderr = invoke("best", YEAR, "--out", str(out), "--json")
    assert code == 0, stdout + stderr
    return out, authoritative_ledger()  # the per-test authoritative ledger (the policy's, in the test's home)


def test_an_honest_ledger_and_a_free_rebuild_pass(built: tuple[Path, Path]) -> None:
    out, _ = built
    assert invoke("best", YEAR, "--out", str(out), "--json")[0] == 0
    result = _ledger_check(out)
    assert (result["code"], result["status"]) == (0, "pass")


def test_rho_edited_on_the_ledger_fails(built: tuple[Path, Path]) -> None:
    out, ledger = built
    with sqlite3.connect(ledger) as db:  # the attack: every rho to 1e-6, the cap to 100
        db.execute("DROP TRIGGER entries_no_update")
        db.execute("UPDATE entries SET body = replace(replace(body, '\"rho\":0.025', '\"rho\":1e-06'), "
                   "'\"cap_rho\":1.0', '\"cap_rho\":100.0')")
    result = _ledger_check(out)
    assert result["code"] == 8 and result["status"] == "fail" and "edited" in str(result["problems"])


def test_a_raised_cap_fails(built: tuple[Path, Path]) -> None:
    out, ledger = built
    honest = Ledger(ledger)
    with honest._transaction() as db:  # a well-formed entry, appended the way a hand-written client would
        honest._append(db, "cap", {"unit": "person", "cap_rho": 100.0, "delta": 1e-9})
    result = _ledger_check(out)
    assert result["code"] == 8 and "raises the cap" in str(result["problems"])


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("serialized", {"broken": True}, "does not replay"),
    ("scale", 0.5, "differs from the measurement the ledger stored"),  # claims another draw than the stored one
], ids=["does-not-replay", "not-the-stored-draw"])
def test_a_measurement_edited_in_the_manifest_fails(built: tuple[Path, Path], field: str, value: object,
                                                    problem: str) -> None:
    out, _ = built
    path = out / "best" / YEAR / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["privacy"]["measurements"][0][field] = value
    path.write_text(json.dumps(manifest), encoding="utf-8")
    result = _ledger_check(out)
    assert result["code"] == 8 and problem in str(result["problems"])


def test_a_bundle_built_on_another_ledger_fails(built: tuple[Path, Path], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    out, _ = built
    monkeypatch.setenv("HOME", str(tmp_path / "elsewhere"))  # another machine's ledger: a new budget
    result = _ledger_check(out)
    assert result["code"] == 8 and result["status"] == "fail"


def test_ledger_option_may_only_name_the_authoritative_ledger(tmp_path: Path) -> None:
    code, _, stderr = invoke("best", YEAR, "--out", str(tmp_path / "o"), "--ledger", str(tmp_path / "mine.sqlite"))
    assert code == 3 and "may only name that file" in stderr


def test_a_stored_draw_swapped_for_other_values_fails_the_audit_and_the_rebuild(built: tuple[Path, Path]) -> None:
    """Red team: with write access to the ledger file and no key, the stored noisy values were
    replaced (the true counts would do) while the store's hash column stayed; a rebuild re-used
    them as a draw. The audit recomputes the hash, and a rebuild refuses the edited store."""
    out, ledger = built
    with sqlite3.connect(ledger) as db:
        key, record = db.execute("SELECT key, record FROM measurements LIMIT 1").fetchone()
        body = json.loads(record)
        body["noisy_values"] = [0 for _ in body["noisy_values"]]
        db.execute("DROP TRIGGER IF EXISTS measurements_no_update")
        db.execute("UPDATE measurements SET record = ? WHERE key = ?", (json.dumps(body), key))
    result = _ledger_check(out)
    assert result["code"] == 8 and "do not hash to what was charged" in str(result["problems"])
    code, stdout, stderr = invoke("best", YEAR, "--out", str(out / "again"), "--json")
    assert code == 6 and "measurement store was edited" in stdout + stderr


def test_without_the_key_the_ledger_macs_are_a_check_that_did_not_run(built: tuple[Path, Path],
                                                                         monkeypatch: pytest.MonkeyPatch,
                                                                         tmp_path: Path) -> None:
    out, _ = built
    monkeypatch.delenv("RELEASE_HMAC_KEY", raising=False)
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(tmp_path / "no.key"))
    _, stdout, _ = invoke("audit", "best", YEAR, "--out", str(out), "--no-scan", "--allow-unverified", "--json")
    report = json.loads(stdout)
    assert {"name": "privacy_ledger_mac", "reason": "no HMAC key: the ledger entries' MACs were not checked"} \
        in report["unverified"]
