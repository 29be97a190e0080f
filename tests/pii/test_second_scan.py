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

import pandas as pd
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


def test_build_second_scan_protects_only_the_placeholders_redaction_logged(engine: PiiEngine) -> None:
    """The build hands the scan the output spans of its own replacements: a look-alike is text."""
    from release.build import _second_scan
    from release.config import load_policy
    from release.model import Tables
    from release.stages.load import ROW_KEY

    policy = load_policy(RULES.parent / "fioe.yaml")
    text = "[PERSON 1] was seen with [BRUXMEYER 2] near Blue Hill Ave."
    frames = {name: pd.DataFrame({ROW_KEY: [], **{c: [] for c in p.columns}}) for name, p in policy.files.items()}
    frames["contacts"] = pd.DataFrame({ROW_KEY: ["FC1", "FC2"], "contact_reason": [text, text]})
    ours_by_row = {("FC1", "contact_reason"): [(0, 10)], ("FC2", "contact_reason"): [(0, 10), (25, 38)]}
    found = _second_scan(engine, Tables(frames), policy, 2020, ours=ours_by_row)
    assert [(f.row_key, f.code) for f in found] == [("FC1", "residual_pii")]
