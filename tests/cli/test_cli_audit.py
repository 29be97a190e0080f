"""`release audit` and `release verify` through the CLI on a real (small) build: the same JSON
shape on pass and failure, the exit code in it, a missing bundle an input error, and
progress on the residual-PII scan (issue #13, item 3)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import Recorder, build_copy_for_test, invoke, new_signer, small_fioe_build, trusted_rules

from release import api


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return small_fioe_build(tmp_path_factory)


@pytest.mark.slow
def test_audit_json_has_one_shape_and_its_exit_code_is_the_processs(built: tuple[Path, Path], tmp_path: Path,
                                                                   tmp_path_factory: pytest.TempPathFactory,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _, original = built
    out = build_copy_for_test(original, tmp_path, tmp_path_factory, monkeypatch)
    rules = str(trusted_rules(tmp_path))
    audit = ["audit", "fioe", "2020", "--out", str(out), "--rules", rules, "--no-scan", "--allow-unverified", "--json"]
    code, stdout, stderr = invoke(*audit)
    failed = json.loads(stdout)
    assert code == failed["exit_code"] == 8 and failed["failed"] == ["approvals"]
    assert stderr.strip() == f"error: {failed['error']}"
    assert invoke("approve", "fioe", "2020", "--out", str(out), "--key", str(new_signer(tmp_path, "A. Counsel")),
                  "--rules", rules)[0] == 0
    code, stdout, stderr = invoke(*audit)
    passed = json.loads(stdout)
    assert code == passed["exit_code"] == 0 and passed["error"] is None and stderr == ""
    assert set(passed) == set(failed)
    assert [s["name"] for s in passed["signers"]] == ["A. Counsel"] and len(passed["signers"][0]["key_id"]) == 64


def test_a_missing_bundle_is_an_input_error_and_a_damaged_one_a_failed_report(built: tuple[Path, Path],
                                                                              tmp_path: Path) -> None:
    _, original = built
    code, _, stderr = invoke("audit", "fioe", "2019", "--out", str(original))
    assert code == 4 and "no bundle for fioe 2019" in stderr
    code, _, stderr = invoke("verify", str(tmp_path / "nowhere"))
    assert code == 4 and "no such folder" in stderr
    out = tmp_path / "out"
    shutil.copytree(original, out)
    (out / "fioe" / "2020" / "manifest.json").write_text("{not json", encoding="utf-8")
    code, stdout, _ = invoke("audit", "fioe", "2020", "--out", str(out), "--json")
    report = json.loads(stdout)
    assert code == report["exit_code"] == 8 and report["failed"] == ["manifest"]
    assert "not valid JSON" in report["checks"][0]["problems"][0]


def test_the_residual_pii_scan_reports_progress_per_text(built: tuple[Path, Path]) -> None:
    raw, out = built
    recorder = Recorder()
    result = api.audit_release("fioe", 2020, out, raw, progress=recorder)
    scanned = next(c for c in result["checks"] if c["name"] == "residual_pii")["detail"]["texts_scanned"]
    scans = recorder.named("audit: residual PII scan")  # one per free-text column
    assert scans and all(total == sum(steps) for _, total, steps in scans)
    assert sum(total or 0 for _, total, _ in scans) == scanned
    assert recorder.named("load PII model") and recorder.named("audit: raw values and log tokens")


def test_an_audit_whose_pii_rules_are_not_the_builds_fails_naming_the_rules_not_their_content(
        built: tuple[Path, Path], tmp_path: Path) -> None:
    """The audit replays the engine the manifest records: a build run with PII rules other than the trusted
    ones (here, the trusted folder's recognizers differ by one word list entry) fails
    ``pii_engine_as_built``, although the dataset policy is the same file, and without the raw export."""
    _, out = built
    rules = trusted_rules(tmp_path)
    names = rules / "pii" / "names.yaml"
    names.write_text(names.read_text(encoding="utf-8") + "\n# an edit after the build\n", encoding="utf-8")
    code, stdout, _ = invoke("audit", "fioe", "2020", "--out", str(out), "--rules", str(rules), "--no-scan",
                             "--allow-unverified", "--json")
    report = json.loads(stdout)
    engine = next(c for c in report["checks"] if c["name"] == "pii_engine_as_built")
    assert code == report["exit_code"] == 8 and "pii_engine_as_built" in report["failed"]
    assert "public_columns_allowed" not in report["failed"]  # the dataset policy is the one the build ran
    assert len(engine["problems"]) == 1 and "the PII rule files differ from those the build ran" in engine["problems"][0]
    assert engine["problems"][0].endswith("(rule engine-as-built)") and "an edit" not in stdout
    same = trusted_rules(tmp_path / "same")  # the shipped rules, as the build ran them: the engine is the build's
    code, stdout, _ = invoke("audit", "fioe", "2020", "--out", str(out), "--rules", str(same), "--no-scan",
                             "--allow-unverified", "--json")
    assert next(c for c in json.loads(stdout)["checks"] if c["name"] == "pii_engine_as_built")["status"] == "pass"
