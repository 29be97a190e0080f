"""Record-term name parts and name rules where the words name a street or an officer.

Each case used to leave half a phrase next to a placeholder ("Savin [PERSON 1] Ave",
"[PERSON 1]-Hilaire"), which the release's second scan then reports. All names invented.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from release.pii.engine import EngineSettings, PiiEngine, Redacted
from release.pii.terms import RecordTerms
from tests.pii.conftest import ours

RULES = Path(__file__).resolve().parents[2] / "redaction_rules" / "pii"
HILL = RecordTerms(names=("RASHAD HILL",))


@pytest.mark.parametrize(
    ("text", "terms", "kept", "gone"),
    [
        ("The car was stopped at Savin Hill Ave. Hill fled on foot.", HILL, ["Savin Hill Ave", "fled"], ["Hill fled"]),
        ("Checked Wellington Hill St for Rashad Hill.", HILL, ["Wellington Hill St"], ["Rashad", "for Rashad Hill"]),
        ("He was observed at Temple Pl near the school.", RecordTerms(), ["Temple Pl"], []),
        ("Davis stopped at E Broadway and Patterson Way, FIO'd.", RecordTerms(), ["Patterson Way"], []),
    ],
    ids=["public-street", "street-suffix", "cue-then-street", "comma-form-jargon"],
)
def test_street_names_are_not_person_names(redact: Callable[..., Redacted], survives: Callable[..., bool],
                                           text: str, terms: RecordTerms, kept: list[str], gone: list[str]) -> None:
    result = redact(text, terms)
    for phrase in kept:
        for word in phrase.split():
            assert survives(result, text, word), word
    for phrase in gone:
        assert phrase not in result.text


def test_name_part_inside_a_kept_officers_hyphenated_name() -> None:
    engine = PiiEngine(EngineSettings(rules_dir=RULES, officers=("SAINT-HILAIRE, AMANDA",), n_process=1))
    text = "Report by Saint-Hilaire. Emmanuel Saint-Fleur was stopped; Saint-Fleur left."
    result = engine.redact_many([text], [RecordTerms(names=("Emmanuel Saint-Fleur",))])[0]
    assert "Saint-Hilaire" in result.text
    assert "Fleur" not in result.text and "Emmanuel" not in result.text
    assert engine.scan_many([result.text], threshold=0.25, placeholders=[ours(result)]) == [[]]
