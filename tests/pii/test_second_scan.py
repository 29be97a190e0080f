"""The release's second scan must find nothing in text the engine itself redacted.

The release blocks on any hit of ``scan_many`` at the lower threshold, so a detector
that fires on the engine's own output (a name half left beside a placeholder, a
sentence end swallowed by a placeholder so NER reads the next word as a name) would
stop every release. A small seeded synthetic FIOE corpus (ALL-CAPS, lower-case and
evasive narratives; all people invented) is redacted with each record's terms and
scanned again.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

from release.pii.engine import EngineSettings, PiiEngine
from release.pii.terms import RecordTerms
from release.synth.engine_inputs import engine_inputs
from release.synth.fioe import generate_fioe
from tests.pii.conftest import ours

SCAN_THRESHOLD = 0.25
RULES = Path(__file__).resolve().parents[2] / "redaction_rules" / "pii"


def _corpus(seed: int, reports: int) -> tuple[list[str], list[RecordTerms], tuple[str, ...]]:
    inputs = engine_inputs(generate_fioe(2020, seed=seed, n_reports=reports, evasions=True), 2020)
    return inputs.texts, inputs.terms, inputs.officers


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["keep", "redact"], ids=["officers-kept", "officers-redacted"])
def test_second_scan_finds_nothing_in_redacted_narratives(policy: str) -> None:
    texts, terms, officers = _corpus(7, 80)
    engine = PiiEngine(EngineSettings(rules_dir=RULES, officers=officers, officer_policy=policy, n_process=1))
    results = engine.redact_many(texts, terms)
    hits = engine.scan_many([r.text for r in results], threshold=SCAN_THRESHOLD,
                            placeholders=[ours(r) for r in results])
    found = collections.Counter(d.rule_id for text_hits in hits for d in text_hits)
    assert not found, dict(found)  # rule ids and counts only: never the text


@pytest.mark.parametrize(
    "text",
    ["Send it to 27 Wexford Close\n Suite 12\n Whitby\n United Kingdom 40291 please.",
     "He lives at 530 Quincy St.  Needles were found nearby.",
     "Marja K. Lindholm and Bowers met Will Fenwick at 9 Rue des Lilas.",
     "FRONT PASSENGER FROST, LIAM A.K.A. BIGGIE. FROST IS ON PROBATION.",
     "Call me on 4471 2290 or at the corner of Lindholmsvej 41 and Tamsin Road.",
     "Units went to Logan Way/W Broadway first. Later the group was at Logan Way and W Broadway."],
    ids=["address-block", "sentence-end", "names", "dotted-aka", "phone-and-corner", "street-named-like-a-person"],
)
def test_second_scan_finds_nothing_after_new_detectors(engine: PiiEngine, text: str) -> None:
    redacted = engine.redact_many([text], [RecordTerms()])[0]
    assert engine.scan_many([redacted.text], threshold=SCAN_THRESHOLD, placeholders=[ours(redacted)]) == [[]]


def test_build_treats_a_placeholder_look_alike_as_text(tmp_path: Path) -> None:
    """The build protects only the placeholders its redaction wrote: "[BRUXMEYER 2]" in the raw
    narrative is text, and it does not reach the public file."""
    from conftest import contact, person, write_export

    from release import api

    narrative = "Officers observed [BRUXMEYER 2] near Blue Hill Ave. FIO'd and released."
    folder = write_export(tmp_path / "raw", [contact("FC20000001", contact_reason=narrative)],
                          [person("FC20000001")])
    result = api.build_release(api.BuildOptions(dataset="fioe", year=2020, input_dir=folder,
                                                out_dir=tmp_path / "out"))
    assert result["status"] == "draft"
    public = (tmp_path / "out" / "fioe" / "2020" / "public" / "fioe_2020_contacts.csv").read_text()
    assert "BRUXMEYER" not in public.upper()
