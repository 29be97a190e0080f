"""Name and address word lists: what they may and may not make a name (no spaCy needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.pii.lexicon import Lexicon, load_lexicon

RULES = Path(__file__).resolve().parents[2] / "redaction_rules" / "pii"
ENGLISH = ["will", "mark", "grace", "park", "white", "kafka", "ivanova", "lesson", "jespersen", "car",
           "state", "quick", "chase", "lily"]
NON_NOUNS = ["will", "mark", "grace", "white", "state", "quick", "chase"]
STOP = ["the", "and", "will", "may", "an"]


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return load_lexicon(RULES, english_words=ENGLISH, stop_words=STOP, non_noun_words=NON_NOUNS)


@pytest.mark.parametrize(
    ("word", "name"),
    [("solveig", True), ("oskar", True), ("kowalczyk", True), ("jespersen", True), ("ivanova", True),
     ("will", False), ("mark", False), ("grace", False), ("park", False), ("white", False), ("lesson", False),
     ("car", False), ("the", False), ("boston", False), ("officer", False), ("bpd", False)],
    ids=lambda value: str(value),
)
def test_name_words(lexicon: Lexicon, word: str, name: bool) -> None:
    assert lexicon.is_name_word(word) is name
    if word in ENGLISH or word in STOP:
        assert lexicon.is_common(word) is not name


def test_ambiguous_given_names_are_known_but_not_name_words(lexicon: Lexicon) -> None:
    for word in ("will", "mark", "grace", "lily", "chase"):
        assert lexicon.is_given_name(word) and not lexicon.is_name_word(word), word


def test_no_stop_title_acronym_or_public_word_is_a_name(lexicon: Lexicon) -> None:
    never = lexicon.stop_words | lexicon.titles | lexicon.acronyms | lexicon.allow_words
    assert not (lexicon.name_words & never)
    assert not (lexicon.given_names & never)


@pytest.mark.parametrize(("word", "non_noun"), [("stated", True), ("quickly", True), ("chased", True),
                                                ("kafka", False), ("car", False)], ids=str)
def test_non_nouns_follow_inflections(lexicon: Lexicon, word: str, non_noun: bool) -> None:
    assert lexicon.is_non_noun(word) is non_noun


def test_address_words_are_loaded(lexicon: Lexicon) -> None:
    assert "close" in lexicon.address_words["street_types_after"]
    assert "rue" in lexicon.address_words["street_types_before"]
    assert "vej" in lexicon.address_words["street_type_endings"]
    assert {"apt", "suite", "box"} <= lexicon.unit_words
    assert lexicon.country_matcher is not None and lexicon.country_matcher.size > 150
