"""Word-level judgements for name completion: which words of a text can join a name.

``NameWords`` tokenises one text (on first use) and answers, per word: is it blocked
(stop word, title, acronym, kept officer, placeholder, public phrase), does it look like
a name where it stands (capitalised in mixed-case text; a name or non-English word in
text written in one case), is it a middle initial, a particle or a name suffix, a given
name, or an ordinary word opening a sentence. ``release.pii.names`` grows spans with it.
"""

from __future__ import annotations

import bisect
import functools
import re
from typing import NamedTuple

from release.pii.detect import NameFilter
from release.pii.lexicon import Lexicon
from release.pii.normalize import at_sentence_start
from release.pii.spans import Candidate, TextViews

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_CASE_SENSITIVE_SUFFIXES = frozenset({"md", "dds", "dmd", "ii", "iii", "iv"})


class Token(NamedTuple):
    """One word of the text: its offsets and its lower-case form."""

    start: int
    end: int
    low: str


class NameWords:
    """The words of one text (tokenised on first use) and what each can be in a name."""

    def __init__(self, views: TextViews, lexicon: Lexicon, names: NameFilter) -> None:
        self.views = views
        self.lexicon = lexicon
        self.names = names
        self.text = views.base.text
        self.one_case = views.mode != "mixed"

    # cached_property: computed on first use, then a plain attribute (these are read millions of times)
    @functools.cached_property
    def tokens(self) -> list[Token]:
        text = self.text
        return [Token(s, e, text[s:e].lower()) for s, e in (m.span() for m in _TOKEN.finditer(text))]

    @functools.cached_property
    def by_start(self) -> dict[int, int]:
        return {t.start: i for i, t in enumerate(self.tokens)}

    @functools.cached_property
    def starts(self) -> list[int]:
        return [t.start for t in self.tokens]

    def _gap(self, left: int, right: int) -> str:
        return self.text[self.tokens[left].end : self.tokens[right].start]

    def _blocked(self, i: int) -> bool:
        token = self.tokens[i]
        if self.views.touches_placeholder(token.start, token.end):
            return True
        if token.end - token.start == 1 and token.low != "i":
            return False  # an initial: hard_public would call "I" a pronoun
        return self.names.hard_public(token.start, token.end)

    def _written_capitalised(self, i: int) -> bool:
        """Capitalised by the writer (only meaningful in mixed-case text)."""
        return not self.one_case and self.text[self.tokens[i].start].isupper()

    def _lower_name(self, i: int) -> bool:
        """A name word written in lower case inside mixed-case text ("leidy t muris")."""
        return not self.one_case and self.text[self.tokens[i].start].islower()

    def _looks_like_name(self, i: int, *, after_name: bool, lower: bool = False) -> bool:
        """Capitalised (or, in one-case text, a name or an unknown word) and never-public-free.

        ``lower``: the name being grown is written in lower case, so judge this word as in
        one-case text.
        """
        token = self.tokens[i]
        if len(token.low) < 2 or self._blocked(i) or self.views.is_public(token.start, token.end):
            return False
        if self.names.is_place([(token.start, token.end)]):
            return False  # "Kevin Warren St": a street, not a surname
        if self.lexicon.is_name_word(token.low):
            return True
        if not self.one_case and not lower:
            if not self.text[token.start].isupper():
                return False
            return after_name or not (self.lexicon.is_common(token.low) and at_sentence_start(self.text, token.start))
        return not self.lexicon.is_common(token.low) or (after_name and self._surname_shaped(i))

    def _surname_shaped(self, i: int) -> bool:
        """In one-case text: a word after a given name that is not a stop word, verb or adjective;
        a surname that is also a word ("BROWN"), or a noun that is also a verb ("CANNON",
        "CARPENTER"), but never an irregular verb form ("LEFT") or a verb's -s form ("WALKS")."""
        token = self.tokens[i]
        low = token.low
        if len(low) < 2 or low in self.lexicon.jargon or low in self.lexicon.allow_words \
                or low in self.lexicon.acronyms or self._blocked(i):
            return False
        if low in self.lexicon.word_surnames or not self.lexicon.is_non_noun(low):
            return True
        return low in self.lexicon.nouns and not (low.endswith("s") and low[:-1] in self.lexicon.non_noun)

    def _initial(self, i: int, *, bridge: bool = False) -> bool:
        """A one-letter word that can be a middle initial ("J", "J.", lower-case "m" in lower text)."""
        token = self.tokens[i]
        if token.end - token.start != 1 or self.views.touches_placeholder(token.start, token.end):
            return False
        letter = self.text[token.start]
        if self.names.in_dotted_abbreviation(token.start):
            return False  # "A.K.A. BIGGIE"
        if letter.isupper():
            if token.low in ("a", "i") and not self.text.startswith(".", token.end) and self.views.mode != "lower":
                return False  # the pronoun, or an article in ALL-CAPS text
            return True
        if not (self.views.mode == "lower" or self._lowercase_name_context(i)):
            return False
        return bridge or token.low not in ("a", "i")

    def _lowercase_name_context(self, i: int) -> bool:
        """A lower-case initial in mixed text, between lower-case name words ("oskar t brennan")."""
        return i > 0 and self.text[self.tokens[i - 1].start].islower()

    def _suffix(self, i: int) -> bool:
        token = self.tokens[i]
        if token.low not in self.lexicon.name_suffixes:
            return False
        word = self.text[token.start : token.end]
        return token.low not in _CASE_SENSITIVE_SUFFIXES or word.isupper() or word == "PhD"

    def _given(self, i: int) -> bool:
        return self.tokens[i].low in self.lexicon.given_names

    def _sentence_opener(self, i: int) -> bool:
        """'Later T. Davis': an ordinary word opening the sentence is not a first name."""
        token = self.tokens[i]
        return at_sentence_start(self.text, token.start) and self.lexicon.is_non_noun(token.low) \
            and not self.lexicon.is_given_name(token.low)

    def _span_tokens(self, candidate: Candidate) -> tuple[int, int] | None:
        first = bisect.bisect_left(self.tokens, candidate.start, key=lambda token: token.start)
        last = first
        while last < len(self.tokens) and self.tokens[last].end <= candidate.end:
            last += 1
        return (first, last - 1) if last > first else None

