"""The audit's report (issue #13, item 3): one JSON shape for pass and failure with the exit
code in it, a table of checks with counts, signers and key ids, and a note when problems
were cut off. Through the CLI on a real build: ``tests/cli/test_cli_audit.py``."""

from __future__ import annotations

import pytest

from release.audit.report import MAX_PROBLEMS, AuditCheck, AuditReport, from_problems, not_run
from release.terminal import render as cli_render

SIGNER = {"name": "A. Counsel", "role": "legal", "key_id": "0123456789abcdef" * 4}


def _report(*checks: AuditCheck, allow_unverified: bool = False) -> AuditReport:
    return AuditReport("fioe", 2020, "releases/fioe/2020", "f" * 64, checks, allow_unverified)


def _approvals(signers: list[dict[str, str]]) -> AuditCheck:
    return from_problems("approvals", [], {"approvals": "legal 1 of 1", "signers": signers})


@pytest.mark.parametrize("failing", [False, True], ids=["pass", "fail"])
def test_pass_and_failure_serialize_to_one_shape_with_the_exit_code(failing: bool) -> None:
    passed = _report(_approvals([SIGNER]), from_problems("redaction_log", [], {"entries": 3}))
    other = _report(_approvals([SIGNER]), from_problems("redaction_log", ["redaction_log.jsonl: line 2 edited"] if
                                                        failing else [], {"entries": 3}))
    assert set(passed.to_dict()) == set(other.to_dict())
    result = other.to_dict()
    assert result["exit_code"] == (8 if failing else 0) and result["ok"] is not failing
    assert (result["error"] is None) is not failing
    assert result["signers"] == [SIGNER]
    assert result["summary"] == {"pass": 1 if failing else 2, "fail": 1 if failing else 0, "not run": 0}
    assert all({"problem_count", "problems_omitted"} <= set(check) for check in result["checks"])


def test_problems_past_the_cap_are_counted_and_said_to_be_cut_off() -> None:
    problems = [f"fioe_2020_contacts.csv, row FC{i:08d}, column contact_reason: possible PERSON" for i in range(120)]
    report = _report(from_problems("residual_pii", problems, {"texts_scanned": 5498, "hits": 120}))
    check = report.to_dict()["checks"][0]
    assert len(check["problems"]) == MAX_PROBLEMS and check["problem_count"] == 120
    assert check["problems_omitted"] == 120 - MAX_PROBLEMS
    text = cli_render.report(report.to_dict())
    assert f"residual_pii: ... and {120 - MAX_PROBLEMS} more (120 in all;" in text
    assert text.count("residual_pii: fioe_2020_contacts.csv, row FC") == MAX_PROBLEMS


def test_the_text_report_is_a_table_with_counts_signers_and_key_ids() -> None:
    report = _report(from_problems("log_trailer_mac", [], {"key_id": "48edfcef0713fccc1234", "derivation": "HKDF"}),
                     _approvals([SIGNER]), from_problems("table_cells", [], {"tables": 4, "exact_cells": 58}),
                     not_run("raw_values_absent", "no raw folder given"))
    lines = cli_render.report(report.to_dict()).splitlines()
    assert lines[0] == ("audit of releases/fioe/2020 (fioe 2020): FAIL: 3 passed, 0 failed, 1 not run")
    header = next(i for i, line in enumerate(lines) if line.split() == ["status", "check", "problems", "counts"])
    rows = [line.split(None, 3) for line in lines[header + 1:header + 5]]
    assert [row[:3] for row in rows] == [["pass", "log_trailer_mac", "0"], ["pass", "approvals", "0"],
                                         ["pass", "table_cells", "0"], ["not", "run", "raw_values_absent"]]
    assert "key id 48edfcef0713fccc," in lines[header + 1] and "tables 4, exact cells 58" in lines[header + 3]
    assert "  signed by A. Counsel (legal, key 0123456789abcdef)" in lines
    assert "  raw_values_absent: not run (no raw folder given)" in lines
    allowed = cli_render.report(_report(not_run("log_tokens", "no HMAC key given"), allow_unverified=True).to_dict())
    assert "PASS" in allowed.splitlines()[0] and "  UNVERIFIED: log_tokens: no HMAC key given" in allowed
