"""`release scan`: findings by type, row key and offsets; never the text."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import invoke, write_csv

ROWS = [
    {"fc_num": "FC20000001", "officer": "KOWALCZYK, ODO",
     "contact_reason": "Off. Odo Kowalczyk stopped Zebulon Quartermaine (DOB 03/14/1999) at 45 Blue Hill Ave. "
                       "Call 617-555-0142."},
    {"fc_num": "FC20000002", "officer": "KOWALCZYK, ODO",
     "contact_reason": "Officers observed Tyrone XXX near the store. FIO'd and released."},
    {"fc_num": "FC20000003", "officer": "KOWALCZYK, ODO", "contact_reason": "Observed a group. Released."},
]


def test_scan_reports_types_and_offsets_never_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "public.csv", ROWS)
    code, stdout, stderr = invoke("scan", str(path), "--column", "contact_reason", "--key", "fc_num",
                                  "--roster-column", "officer", "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["rows"] == 3 and report["rows_with_findings"] == 1
    assert {"PERSON", "DOB", "ADDRESS", "PHONE"} <= set(report["by_type"])
    assert {f["row_key"] for f in report["findings"]} == {"FC20000001"}
    # the City's own marker: a hit touching it is listed apart, not counted
    assert report["touching_earlier_redaction"] == len(report["touching_findings"]) >= 1
    assert {f["row_key"] for f in report["touching_findings"]} == {"FC20000002"}
    assert sum(report["touching_by_type"].values()) == report["touching_earlier_redaction"]
    text = ROWS[0]["contact_reason"]
    found = {text[f["start"]:f["end"]] for f in report["findings"]}
    assert "Zebulon Quartermaine" in " ".join(found) and not any("Kowalczyk" in f for f in found)
    for secret in ("Quartermaine", "617-555-0142", "Blue Hill", "03/14/1999"):
        assert secret not in stdout + stderr


def test_scan_names_missing_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "public.csv", ROWS)
    code, _, stderr = invoke("scan", str(path), "--column", "narrative")
    assert code == 4
    assert stderr.strip() == "error: file public.csv, column narrative, rule scan: column not found"


def test_scan_never_prints_a_key_that_is_not_a_report_number(tmp_path: Path) -> None:
    """A key column is raw input too: a value typed there that does not read as a report
    number (a name and a date of birth) is named by its row number instead."""
    rows = [dict(ROWS[0], fc_num="Ottoline Vandersnoot 01/02/2003"), ROWS[1], ROWS[2]]
    path = write_csv(tmp_path / "public.csv", rows)
    code, stdout, stderr = invoke("scan", str(path), "--column", "contact_reason", "--key", "fc_num", "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert {f["row_key"] for f in report["findings"]} == {"row 1"}
    assert "Vandersnoot" not in stdout + stderr and "2003" not in stdout
