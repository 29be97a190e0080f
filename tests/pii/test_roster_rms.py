"""The officer roster reads the RMS's ``LAST,FIRST M`` (no space after the comma, a middle
initial) as it reads Mark43's ``LAST, FIRST``: the same officer, kept in the same narrative
forms, and a subject who shares the surname still redacted (issue #16)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from release.config.policy import load_policy
from release.model import Tables
from release.pii.engine import EngineSettings, PiiEngine
from release.pii.terms import RecordTerms, split_name
from release.stages.redact import officer_roster

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "redaction_rules" / "pii"
MARK43 = ("QUILLFEATHER, ODO", "VANTASSEL, MARGUERITE")
RMS = ("QUILLFEATHER,ODO P", "VANTASSEL,MARGUERITE J.")
TEXTS = (
    "Officers Quillfeather and Vantassel observed Tyrone Davis. Ofc. Quillfeather frisked him.",
    "Odo Quillfeather wrote the report; Davis was released.",
    "D101A (Quillfeather/Vantassel) stopped the car. Tyrone Davis was the operator.",
    "Report by Vantassel M.",
)
SUBJECT = RecordTerms(names=("DAVIS, TYRONE",))


@pytest.mark.parametrize(("written", "given", "last"), [
    ("QUILLFEATHER,ODO P", ["ODO", "P"], "QUILLFEATHER"),
    ("O'BRIEN,SEAN P.", ["SEAN", "P."], "O'BRIEN"),
    ("DE LA CRUZ,JUAN C", ["JUAN", "C"], "DE LA CRUZ"),
    ("QUILLFEATHER, ODO", ["ODO"], "QUILLFEATHER"),
], ids=["rms", "rms-dotted-initial", "rms-particle", "mark43"])
def test_last_comma_first_middle_splits_into_first_and_last(written: str, given: list[str], last: str) -> None:
    assert split_name(written) == (given, last)


@pytest.fixture(scope="module")
def engines() -> tuple[PiiEngine, PiiEngine]:
    return (PiiEngine(EngineSettings(rules_dir=RULES, officers=MARK43, n_process=1)),
            PiiEngine(EngineSettings(rules_dir=RULES, officers=RMS, n_process=1)))


@pytest.mark.parametrize("text", TEXTS, ids=["rank", "full-name", "call-sign", "sign-off"])
def test_rms_roster_keeps_and_redacts_exactly_as_the_mark43_roster(engines: tuple[PiiEngine, PiiEngine],
                                                                    text: str) -> None:
    mark43, rms = engines
    as_mark43 = mark43.redact_many([text], [SUBJECT])[0].text
    as_rms = rms.redact_many([text], [SUBJECT])[0].text
    assert as_rms == as_mark43
    assert "Tyrone" not in as_rms and "Davis" not in as_rms
    assert "Quillfeather" in as_rms or "Vantassel" in as_rms


def test_the_rms_policy_builds_its_roster_from_both_officer_name_columns() -> None:
    policy = load_policy(ROOT / "redaction_rules" / "fioe_rms.yaml")
    contacts = pd.DataFrame({"contact_officer_name": ["QUILLFEATHER,ODO P", None],
                             "supervisor_name": ["VANTASSEL, MARGUERITE", "VANTASSEL, MARGUERITE"],
                             "contact_officer": ["123456", "123456"]}, dtype=object)
    roster = officer_roster(Tables({"contacts": contacts, "persons": pd.DataFrame()}), policy)
    assert roster == ("QUILLFEATHER,ODO P", "VANTASSEL, MARGUERITE")
