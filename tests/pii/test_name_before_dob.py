"""A name directly before a date of birth is a person, even when its words are ordinary."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.pii.engine import EngineSettings, PiiEngine
from release.pii.terms import RecordTerms

RULES = Path(__file__).resolve().parents[2] / "redaction_rules" / "pii"


@pytest.fixture(scope="module")
def engine() -> PiiEngine:
    return PiiEngine(EngineSettings(rules_dir=RULES, n_process=1))


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [("Officers spoke with Hope Green (DOB: 01/02/1990) near the store.", "Hope Green", "near the store"),
     ("CRYSTAL BOONE, DOB: 01/02/1990 HAS AN OPEN CASE.", "CRYSTAL BOONE", "OPEN CASE"),
     ("Matthew Church (DOB 3/4/99) was stopped on Blue Hill Ave.", "Church", "Blue Hill Ave"),
     ("Stopped Rose T. King, 19 yoa, on Warren St.", "Rose T. King", "Warren St")],
    ids=["word-names-mixed-case", "all-caps", "surname-is-a-word", "middle-initial-and-age"])
def test_name_before_dob_or_age(engine: PiiEngine, text: str, gone: str, kept: str) -> None:
    redacted = engine.redact_many([text], [RecordTerms()])[0].text
    assert gone not in redacted
    assert kept in redacted
