"""Sentence pieces for NER and the entity cache: where texts are cut, that offsets map back,
that each distinct piece is tagged once, and that the second scan re-tags only the
sentences redaction changed (also when the work ran in forked processes)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release.pii.engine import EngineSettings, PiiEngine
from release.pii.sentences import Entity, EntityCache, pieces, windows
from release.pii.terms import RecordTerms
from tests.pii.conftest import OFFICERS, RULES, ours


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Officers arrived in the area. Smith was stopped.", ["Officers arrived in the area.", "Smith was stopped."]),
        ("Spoke with Mr. Tyrone Davis near 45 Blue Hill Ave. Apt 3 was empty.",
         ["Spoke with Mr. Tyrone Davis near 45 Blue Hill Ave. Apt 3 was empty."]),
        ("Det. J. Smith and Sgt. Lee responded.", ["Det. J. Smith and Sgt. Lee responded."]),
        ("He ran away! 2 officers gave chase.", ["He ran away!", "2 officers gave chase."]),
        ("first paragraph\n\nsecond paragraph", ["first paragraph", "second paragraph"]),
        ("Name on one line\nsurname on the next", ["Name on one line\nsurname on the next"]),
        ("stopped at approx. noon", ["stopped at approx. noon"]),
        ("Spoke with [PERSON 1]. He left. [PERSON 2] stayed.",
         ["Spoke with [PERSON 1].", "He left.", "[PERSON 2] stayed."]),
        ("Near [ADDRESS 1]. Nothing found.", ["Near [ADDRESS 1].", "Nothing found."]),
        ("Saw [PERSON 1] there.", ["Saw [PERSON 1] there."]),
        ("   ", []),
        ("", []),
    ],
    ids=["sentence", "street-abbreviation", "titles-initials", "exclamation-digit", "blank-line",
         "single-newline", "lower-case-after-period", "placeholder-ends-and-starts",
         "placeholder-for-an-address", "placeholder-inside", "blank", "empty"],
)
def test_pieces_cut_only_at_clear_sentence_ends(text: str, expected: list[str]) -> None:
    assert [piece for _, piece in pieces(text)] == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcdeXYZ .!?\n\t\"'(09")), max_size=200))
def test_pieces_map_back_and_leave_out_only_whitespace(text: str) -> None:
    covered = bytearray(len(text))
    previous_end = 0
    for offset, piece in pieces(text):
        assert text[offset : offset + len(piece)] == piece and piece.strip()
        assert offset >= previous_end
        previous_end = offset + len(piece)
        covered[offset:previous_end] = b"\x01" * len(piece)
    assert all(ch.isspace() for ch, seen in zip(text, covered, strict=True) if not seen)


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        (0, [(0, ("One two three end.", 0, 18)), (19, ("Four five six.", 0, 14))]),
        (2, [(0, ("One two three end. Four five", 0, 18)), (8, ("three end. Four five six.", 11, 25))]),
        (9, [(0, ("One two three end. Four five six.", 0, 18)), (0, ("One two three end. Four five six.", 19, 33))]),
    ],
    ids=["bare", "two-words", "more-than-there-is"],
)
def test_windows_carry_words_of_real_context(context: int, expected: list[tuple[int, tuple[str, int, int]]]) -> None:
    text = "One two three end. Four five six."
    found = windows(text, context)
    assert found == expected
    for left, (window, start, end) in found:
        assert text[left : left + len(window)] == window and window[start:end].strip()


def test_an_entity_across_a_cut_is_kept_whole_by_overlap() -> None:
    text = "We saw the man. Smith left."  # pretend the model tags "man. Smith" across the cut

    def tag(new: list[str]) -> Iterable[tuple[Entity, ...]]:
        return [(("PERSON", w.index("man. Smith"), w.index("man. Smith") + 10),) if "man. Smith" in w else ()
                for w in new]

    found = EntityCache(context_words=2).entities([text], tag)
    assert found == [[("PERSON", 11, 21)]] and text[11:21] == "man. Smith"


def test_whole_text_mode_tags_each_text_in_one_piece() -> None:
    calls: list[list[str]] = []
    text = "Officers arrived in the area. Smith was stopped."
    assert EntityCache(whole_text=True).entities([text, "  "], _tagger(calls)) == [[("PERSON", 30, 35)], []]
    assert calls == [[text]]


def _tagger(calls: list[list[str]]):  # type: ignore[no-untyped-def]
    def tag(new: list[str]) -> Iterable[tuple[Entity, ...]]:
        calls.append(list(new))
        return [tuple(("PERSON", i, i + 5) for i in range(len(p)) if p.startswith("Smith", i)) for p in new]
    return tag


def test_cache_tags_each_distinct_piece_once_and_shifts_offsets() -> None:
    cache, calls = EntityCache(), []
    text = "Officers arrived in the area. Smith was stopped."
    first = cache.entities([text, text], _tagger(calls))
    assert calls == [["Officers arrived in the area.", "Smith was stopped."]]
    assert first == [[("PERSON", 30, 35)], [("PERSON", 30, 35)]] and text[30:35] == "Smith"
    again = cache.entities(["Smith was stopped. Officers cleared."], _tagger(calls))
    assert calls[1] == ["Officers cleared."] and again == [[("PERSON", 0, 5)]]


def test_cache_entries_travel_between_processes_by_drain_and_merge() -> None:
    worker, parent, calls = EntityCache(), EntityCache(), []
    worker.entities(["Smith was stopped."], _tagger(calls))
    parent.merge(worker.drain())
    assert worker.drain() == {} and len(parent) == 1
    parent.entities(["Smith was stopped."], _tagger(calls))
    assert len(calls) == 1


def _count_tagged(engine: PiiEngine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    tagged: list[str] = []
    original = engine._tag

    def counting(new: list[str]):  # type: ignore[no-untyped-def]
        tagged.extend(new)
        return original(new)

    monkeypatch.setattr(engine, "_tag", counting)
    return tagged


def test_second_scan_retags_only_the_changed_sentences(engine: PiiEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    tagged = _count_tagged(engine, monkeypatch)
    text = ("Units responded to a disturbance in the courtyard near the school. "
            "Officers spoke with Tyrone Quistgaard about the noise complaint. "
            "Nothing further was reported at this time.")
    redacted = engine.redact_many([text], [RecordTerms(names=("QUISTGAARD, TYRONE",))])[0]
    assert "Quistgaard" not in redacted.text
    tagged.clear()
    assert engine.scan_many([redacted.text], threshold=0.2, placeholders=[ours(redacted)]) == [[]]
    assert len(tagged) == 1 and tagged[0].startswith("Officers spoke with [") and "noise" in tagged[0]


def test_forked_workers_send_their_sentences_back() -> None:
    local = PiiEngine(EngineSettings(rules_dir=RULES, officers=OFFICERS, n_process=2))
    texts = [f"Report {i} was filed in the area. Officers cleared the scene at {i % 12 + 1} pm." for i in range(300)]
    local.redact_many(texts, [RecordTerms()] * len(texts))
    assert len(local.ner_cache) >= 300  # the parent holds what the two workers tagged
    tagged: list[str] = []
    original = local._tag
    local._tag = lambda new: (tagged.extend(new), original(new))[1]  # type: ignore[method-assign]
    local.scan_many(texts[:5], threshold=0.2)
    assert tagged == []
