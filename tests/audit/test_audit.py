"""The independent audit: each check fails on the tampering it exists for, and says where."""

from __future__ import annotations

import base64
import json
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from bundlekit import KEY, RAW_VALUES, RULES, TABLE, Built, new_key, release_keys
from conftest import invoke, trust, trusted_rules

from release.audit.checks import _kept_spans
from release.audit.run import AuditReport, audit, audit_or_raise
from release.errors import AuditFailure
from release.governance.gate import approve
from release.keys.signing import load_private_key, one_line


def _run(built: Built, raw: bool = True, key: bytes | None = KEY, **options) -> AuditReport:
    """The audit with the rules folder the test's signers are trusted in (a copy of RULES)."""
    return audit("fioe", built.year, built.out_dir, built.raw_dir if raw else None, key,
                 rules_dir=trusted_rules(built.out_dir.parent), **options)


def _spend(rho: float, unit: str = "person") -> dict[str, object]:
    return {"table": "stops", "privacy_unit": unit, "mechanism": "gaussian", "rho": rho, "epsilon": None}


def _status(report: AuditReport) -> dict[str, str]:
    return {c.name: c.status for c in report.checks}


def _problems(report: AuditReport, name: str) -> list[str]:
    return next(list(c.problems) for c in report.checks if c.name == name)


def _no_values(report: AuditReport) -> None:
    text = json.dumps(report.to_dict())
    assert not [v for v in RAW_VALUES if v.lower() in text.lower()]


def test_clean_bundle_passes_every_check(built: Built, signing_key: Path) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "", rules_dir=trusted_rules(built.out_dir.parent))
    report = _run(built, scan=lambda texts, placeholders: [[] for _ in texts], require_approval=True,
                  suppression_audit=lambda bundle, manifest: (True, {"exact_tables": 0}, []))
    assert report.ok, report.to_dict()
    assert _status(report) == {
        "outputs_match_manifest": "pass", "redaction_log": "pass", "log_trailer_mac": "pass", "approvals": "pass",
        "public_columns_allowed": "pass", "residual_pii": "pass", "table_cells": "pass",
        "suppression_audit": "pass", "privacy_ledger": "pass", "raw_values_absent": "pass", "log_tokens": "pass",
        "identifier_pseudonyms": "pass", "record_cells_replayed": "pass", "redactions_redetected": "pass",
        "pii_engine_as_built": "pass"}
    pseudonyms = next(c for c in report.checks if c.name == "identifier_pseudonyms").detail
    assert pseudonyms["cells"] == 3 and pseudonyms["mismatched"] == 0  # person_id of 3 persons, recomputed
    tokens = next(c for c in report.checks if c.name == "log_tokens").detail
    assert tokens["matched"] == 8 and tokens["mismatched"] == 0
    assert audit_or_raise("fioe", 2020, built.out_dir, built.raw_dir, KEY, rules_dir=trusted_rules(built.out_dir.parent),
                          allow_unverified=True).unverified == ["residual_pii", "suppression_audit"]


def test_without_raw_key_or_scanner_those_checks_are_not_run_and_do_not_pass(built: Built) -> None:
    """Issue #11: "A check that did not run is not a pass"; --allow-unverified names each one."""
    report = _run(built, raw=False, key=None)
    assert report.failed == [] and not report.ok
    assert report.unverified == ["log_trailer_mac", "residual_pii", "suppression_audit", "raw_values_absent",
                                 "log_tokens", "identifier_pseudonyms", "record_cells_replayed",
                                 "redactions_redetected"]
    with pytest.raises(AuditFailure, match="8 check.s. could not run: log_trailer_mac, residual_pii"):
        audit_or_raise("fioe", 2020, built.out_dir, None, None, rules_dir=trusted_rules(built.out_dir.parent))
    allowed = _run(built, raw=False, key=None, allow_unverified=True)
    assert allowed.ok and [s["name"] for s in allowed.to_dict()["unverified"]] == report.unverified
    status = _status(report)
    assert [status[n] for n in ("residual_pii", "raw_values_absent", "log_tokens", "log_trailer_mac")] == \
        ["not run"] * 4
    mac = next(c for c in report.checks if c.name == "log_trailer_mac")
    assert mac.detail["reason"].startswith("no HMAC key given")


def _edit_public(built: Built) -> None:
    built.public_file.write_text(built.public_file.read_text().replace("Sunny", "Rainy"))


def _add_public(built: Built) -> None:
    (built.bundle / "public" / "tables").mkdir(exist_ok=True)
    (built.bundle / "public" / "tables" / "extra.csv").write_text("value,status\n3,noisy\n")


def _mangle_public(built: Built) -> None:
    built.public_file.write_bytes(b"\xff\xfe\x00garbage\n")


def _drop_last_log_line(built: Built) -> None:
    log = built.bundle / "redaction_log.jsonl"
    log.write_text("\n".join(log.read_text().splitlines()[:-1]) + "\n")


def _alter_approval(field: str) -> Callable[[Built], None]:
    def alter(built: Built) -> None:
        path = built.bundle / "approvals.jsonl"
        line = json.loads(path.read_text())
        if field == "signature":
            raw = bytearray(base64.b64decode(line["signature"]))
            raw[-1] ^= 1
            line["signature"] = base64.b64encode(bytes(raw)).decode()
        else:
            line["payload"][field] = "changed"
        path.write_text(json.dumps(line) + "\n")
    return alter


@dataclass(frozen=True)
class Tamper:
    change: Callable[[Built], None]
    failing: tuple[str, ...]
    where: str


TAMPERING = {
    "public-file-edited": Tamper(_edit_public, ("outputs_match_manifest", "record_cells_replayed"),
                                 "public/fioe_2020_contacts.csv"),
    "unlisted-public-file": Tamper(_add_public, ("outputs_match_manifest", "privacy_ledger"), "public/tables/extra.csv"),
    "public-file-mangled": Tamper(_mangle_public, ("outputs_match_manifest", "public_columns_allowed",
                                                   "raw_values_absent", "record_cells_replayed"),
                                  "not a readable UTF-8 CSV"),
    "log-last-line-removed": Tamper(_drop_last_log_line, ("outputs_match_manifest", "redaction_log"), "truncated"),
    "approval-text-altered": Tamper(_alter_approval("note"), ("approvals",), "approvals.jsonl line 1"),
    "approval-signature-altered": Tamper(_alter_approval("signature"), ("approvals",), "signature does not verify"),
}


@pytest.mark.parametrize("case", list(TAMPERING.values()), ids=list(TAMPERING))
def test_tampering_fails_the_audit(built: Built, signing_key: Path, case: Tamper) -> None:
    approve("fioe", 2020, built.out_dir, "A. Reviewer", signing_key, "note", rules_dir=trusted_rules(built.out_dir.parent))
    case.change(built)
    report = _run(built)
    assert report.failed == list(case.failing)
    assert any(case.where in p for name in case.failing for p in _problems(report, name))
    with pytest.raises(AuditFailure) as caught:
        audit_or_raise("fioe", 2020, built.out_dir, built.raw_dir, KEY, rules_dir=trusted_rules(built.out_dir.parent))
    assert caught.value.exit_code == 8
    _no_values(report)


@pytest.mark.parametrize(
    ("slip", "when", "where"),
    [(("contacts", "weather", "Sunny, Zebulon Quartermaine"), "built-in",
      ("fioe_2020_contacts.csv", "FC20000001", "weather")),
     (("contacts", "contact_reason", "Spoke with QUARTERMAINE."), "built-in",
      ("fioe_2020_contacts.csv", "FC20000001", "contact_reason")),
     (("persons", "build", "617-555-0142"), "built-in", ("fioe_2020_persons.csv", "FC20000001/p1", "build")),
     (("contacts", "weather", "zebulon quartermaine"), "edited-after",
      ("fioe_2020_contacts.csv", "FC20000001", "weather"))],
    ids=["full-name-in-category-column", "surname-in-narrative", "phone-in-persons-file", "edited-after-build"])
def test_raw_value_in_a_public_file_is_found(make_bundle, slip: tuple[str, str, str], when: str,
                                             where: tuple[str, str, str]) -> None:
    built: Built = make_bundle(slip=slip if when == "built-in" else None)
    if when == "edited-after":  # the first row of the first report, under its pseudonym
        from release.stages.juvenile import public_report_key
        frame = pd.read_csv(built.public_file, dtype=str, keep_default_na=False)
        first = frame.index[frame["fc_num"] == public_report_key("FC20000001", "fioe", release_keys().tokens)][0]
        frame.loc[first, slip[1]] = slip[2]
        frame.to_csv(built.public_file, index=False, lineterminator="\n")
    report = _run(built)
    # the replay from the raw export finds the cell too (record_cells_replayed)
    expected = ["raw_values_absent", "record_cells_replayed"] if when == "built-in" \
        else ["outputs_match_manifest", "raw_values_absent", "record_cells_replayed"]
    assert report.failed == expected
    file, row_key, column = where
    assert any(f"{file}, row {row_key}, column {column}:" in p for p in _problems(report, "raw_values_absent"))
    _no_values(report)
    with pytest.raises(AuditFailure) as caught:
        audit_or_raise("fioe", 2020, built.out_dir, built.raw_dir, KEY, rules_dir=RULES)
    assert slip[2].lower() not in json.dumps(caught.value.to_dict()).lower()


def test_wrong_key_fails_trailer_tokens_and_pseudonyms(built: Built) -> None:
    report = _run(built, key=b"w" * 64)
    # the report keys are pseudonyms under the release key: under another key no public row is a raw record's
    assert report.failed == ["log_trailer_mac", "raw_values_absent", "log_tokens", "identifier_pseudonyms",
                             "record_cells_replayed"]
    pseudonyms = next(c for c in report.checks if c.name == "identifier_pseudonyms").detail
    assert pseudonyms["recomputed"] == 0 and pseudonyms["row_not_found"] == 6, pseudonyms  # 2 columns, 3 rows
    assert next(c for c in report.checks if c.name == "log_tokens").detail["mismatched"] == 8


def test_changed_raw_export_is_reported(built: Built) -> None:
    raw = built.raw_dir / "fieldcontact.csv"
    raw.write_text(raw.read_text().replace("Spoke with", "Spoke to"))
    report = _run(built)
    # the log's spans no longer fall on what the engine finds in the changed text (redactions_redetected)
    assert report.failed == ["raw_values_absent", "log_tokens", "record_cells_replayed", "redactions_redetected"]
    assert any("differs from the input recorded" in p for p in _problems(report, "raw_values_absent"))


@pytest.mark.parametrize(
    ("rows", "failing"),
    [({"value": "3", "status": "exact"}, ["table_cells"]),
     ({"value": "3", "status": "exact", "threshold": "3"}, []),
     ({"value": "12", "status": "exact", "threshold": "20"}, ["table_cells"]),
     ({"value": "0", "status": "exact"}, []),
     ({"value": "3", "status": "noisy"}, [])],
    ids=["exact-under-default-11", "exact-at-own-threshold", "exact-under-own-threshold", "zero-is-allowed",
         "noisy-small-cell-allowed"])
def test_table_cells_under_threshold(make_bundle, rows: dict[str, str], failing: list[str]) -> None:
    table = pd.DataFrame([{"race": "Other", "sex": "Male", "lower": "", "upper": "", "threshold": "", **rows}])
    built: Built = make_bundle(tables={"small": table}, privacy={"spends": [_spend(0.1)], "rho_spent": 0.1})
    report = _run(built)
    assert report.failed == failing
    if failing:
        assert _problems(report, "table_cells") == ["public/tables/small.csv, row 1: exact cell under its threshold"]


@pytest.mark.parametrize(
    ("privacy", "ok"),
    [(None, False), ({"spends": []}, False),
     ({"spends": [_spend(0.1), _spend(0.2)], "rho_spent": 0.3, "rho_cap": 1.0}, True),
     ({"spends": [_spend(0.6), _spend(0.6, "report")], "rho_spent": {"person": 0.6, "report": 0.6},
       "rho_cap": 1.0}, True),
     ({"spends": [_spend(0.5)], "rho_spent": 0.5, "rho_before": {"person": 0.6}, "rho_cap": 1.0}, False),
     ({"spends": [_spend(0.1)], "rho_spent": 0.2}, False), ({"spends": [_spend(-0.1)]}, False)],
    ids=["noisy-cells-without-privacy-section", "noisy-cells-without-spends", "within-cap",
         "cap-is-per-privacy-unit", "over-cap-with-earlier-years", "total-differs", "negative-spend"])
def test_privacy_ledger_from_the_manifest(make_bundle, privacy: dict | None, ok: bool) -> None:
    built: Built = make_bundle(tables={"stops": TABLE}, privacy=privacy)
    report = _run(built, raw=False)
    assert report.failed == ([] if ok else ["privacy_ledger"])


def test_injected_checks_decide(built: Built) -> None:
    failing = _run(built, raw=False, suppression_audit=lambda b, m: (False, {"cells": 3}, ["table t: cell 2 recoverable"]),
                   ledger_check=lambda b, m: (True, {"entries": 1}, []))
    assert failing.failed == ["suppression_audit"]
    assert _problems(failing, "suppression_audit") == ["table t: cell 2 recoverable"]


def test_residual_pii_hits_are_located_not_quoted(built: Built) -> None:
    @dataclass(frozen=True)
    class Hit:
        entity_type: str
        start: int
        end: int

    report = _run(built, raw=False,
                  scan=lambda texts, placeholders: [[Hit("PERSON", 0, 5)] if "park" in t else [] for t in texts])
    assert report.failed == ["residual_pii"]
    assert _problems(report, "residual_pii") == [
        "fioe_2020_contacts.csv, row FC20000001, column contact_reason: possible PERSON at offsets 0-5",
        "fioe_2020_contacts.csv, row FC20000001#2, column contact_reason: possible PERSON at offsets 0-5"]


def test_residual_pii_scanner_gets_the_logged_placeholders(built: Built) -> None:
    given: list[tuple[str, tuple[tuple[int, int], ...]]] = []

    def scan(texts: list[str], placeholders: list[tuple[tuple[int, int], ...]]) -> list[list[object]]:
        given.extend(zip(texts, placeholders, strict=True))
        return [[] for _ in texts]

    assert _run(built, raw=False, scan=scan).failed == []
    spans = [(text, span) for text, placed in given for span in placed]
    assert spans and all(re.fullmatch(r"\[[A-Z]+ \d+\]", text[a:b]) for text, (a, b) in spans)


def test_public_column_outside_the_allow_list(make_bundle) -> None:
    built: Built = make_bundle(extra_column=("persons", "entered_by"))
    report = _run(built, raw=False)
    assert report.failed == ["public_columns_allowed"]
    assert _problems(report, "public_columns_allowed") == [
        "public/fioe_2020_persons.csv, column entered_by: not on the policy's allow-list"]


def test_rules_that_differ_from_the_manifest_fail(built: Built, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "fioe.yaml").write_text((rules / "fioe.yaml").read_text() + "\n# edited\n")
    report = audit("fioe", 2020, built.out_dir, None, None, rules_dir=rules)
    assert report.failed == ["public_columns_allowed"]


def test_required_approvals_are_counted_when_asked(built: Built, tmp_path: Path) -> None:
    assert _run(built, raw=False, require_approval=True).failed == ["approvals"]
    approve("fioe", 2020, built.out_dir, None, new_key(tmp_path, "a"), "", rules_dir=trusted_rules(tmp_path))
    assert _run(built, raw=False, require_approval=True).failed == []


@pytest.mark.parametrize("how", ["untrusted-key", "approvals-deleted"], ids=["approved-by-an-untrusted-key",
                                                                           "approvals-file-deleted"])
def test_no_trusted_approval_fails_the_audit(built: Built, tmp_path: Path, how: str) -> None:
    """Issue #11: a bundle with approvals.jsonl deleted audited PASS ({'valid': 0, 'required': 1})."""
    rules = trusted_rules(tmp_path)
    key = new_key(tmp_path, "Anyone", trusted=how != "untrusted-key")
    if how == "untrusted-key":
        new_key(tmp_path, "A. Reviewer")
        trust(rules, one_line(load_private_key(key).public_key()), "Anyone")  # trusted while signing ...
    approve("fioe", 2020, built.out_dir, None, key, "", rules_dir=rules)
    if how == "untrusted-key":
        text = (rules / "trusted_signers.yaml").read_text()  # ... then no longer
        (rules / "trusted_signers.yaml").write_text(text[:text.rindex("- name: Anyone")])
    else:
        (built.bundle / "approvals.jsonl").unlink()
    report = _run(built, raw=False, require_approval=True)
    assert report.failed == ["approvals"]
    assert any("legal 0 of 1" in p for p in _problems(report, "approvals"))


# ---- a damaged bundle: named, never an internal error ------------------------------------------------

def test_keep_entries_without_integer_offsets_are_ignored(tmp_path: Path) -> None:
    lines = [{"action": "keep", "row_key": "FC1", "column": "c", "out_start": None, "out_end": 4},
             {"action": "keep", "row_key": "FC1", "column": "c", "out_start": 2, "out_end": 6}]
    (tmp_path / "redaction_log.jsonl").write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    assert _kept_spans(tmp_path) == {("FC1", "c", 2, 6)}


def test_audit_with_a_rules_folder_lacking_the_policy_reports_it(built: Built, tmp_path: Path) -> None:
    empty = tmp_path / "rules"
    empty.mkdir()
    code, stdout, stderr = invoke("audit", "fioe", "2020", "--out", str(built.out_dir), "--rules", str(empty), "--no-scan")
    assert code == 8 and "public_columns_allowed" in stderr and "rule file not found" in stdout
