"""The redact stage's own logic: record terms, officer roster, reviewer decisions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from release.config import DatasetPolicy
from release.keys import Tokenizer
from release.stages.load import load_export
from release.stages.redact import ReviewerDecision, apply_decisions, officer_roster, record_terms

KEY = Tokenizer(b"r" * 64)
TEXT = "Officers spoke with Zebulon near Hammond St about Bramble."


@dataclass(frozen=True)
class _Replacement:
    start: int
    end: int
    entity_type: str = "PERSON"
    detector: str = "ner"
    score: float = 0.8
    rule_id: str = "r"
    placeholder: str = "[PERSON 1]"


def _span(word: str) -> tuple[int, int]:
    start = TEXT.index(word)
    return start, start + len(word)


def test_record_terms_gather_people_and_vehicle(tiny_export: Path, policy: DatasetPolicy) -> None:
    tables = load_export(tiny_export, policy, 2020).tables
    terms = record_terms(tables, policy)
    first = terms["FC20000001"]
    assert first.names == ("Zebulon Quartermaine",)
    assert first.name_parts == (("Zebulon", "", "Quartermaine"),)
    assert "7ZQ-K92" in first.plates and "45 Blue Hill Ave" in first.addresses
    assert "12 Magazine St" in first.addresses and first.dobs == ("03/14/1999",)
    assert officer_roster(tables, policy) == ("MARGUERITE VANTASSEL", "QUILLFEATHER, ODO")


def _decision(kind: str, word: str, token_of: str | None = None) -> ReviewerDecision:
    start, end = _span(word)
    return ReviewerDecision(kind, "FC20000001", "contact_reason", start, end, "PERSON",
                            KEY.token(token_of or word))


@pytest.mark.parametrize(
    ("decisions", "expected", "applied", "stale"),
    [([], "Officers spoke with [PERSON 1] near Hammond St about Bramble.", 0, 0),
     ([("keep", "Zebulon", None)], "Officers spoke with Zebulon near Hammond St about Bramble.", 1, 0),
     ([("redact", "Bramble", None)], "Officers spoke with [PERSON 1] near Hammond St about [PERSON].", 1, 0),
     ([("keep", "Zebulon", "Someone else")], "Officers spoke with [PERSON 1] near Hammond St about Bramble.", 0, 1)],
    ids=["none", "keep", "force-redact", "stale-token"])
def test_reviewer_decisions(decisions: list, expected: str, applied: int, stale: int) -> None:
    start, end = _span("Zebulon")
    text, placed, done, old = apply_decisions(TEXT, [_Replacement(start, end)],
                                              [_decision(*d) for d in decisions], KEY)
    assert text == expected
    assert (len(done), len(old)) == (applied, stale)
    for span, out_start, out_end in placed:
        shown = text[out_start:out_end]
        assert shown == (TEXT[span.start:span.end] if span.kept else span.placeholder)


def test_placeholder_never_glues() -> None:
    text, _, _, _ = apply_decisions("byZebulon's", [_Replacement(2, 9)], [], KEY)
    assert text == "by [PERSON 1]'s"
