"""Growing detected names to the whole name, and names that stand next to a name.

The detectors often find a name only in part: NER returns "Marja" but not "K. Lindholm",
the uncommon-word layer finds "Quarrington" but not "Dylan R.", a list "Lennon and Bird"
has one name NER knows. ``NameCompleter`` works on the words of one text (pure Python, on
``TextViews``) and adds PERSON candidates for:

- initials inside a name ("Marja K. Lindholm", "Dylan R Quarrington", lower-case
  "oskar t brennan"), particles ("Willemijn ten Broeke") and suffixes ("Castellanos II",
  "Ashcombe DDS");
- a known given name followed by a capitalised word ("Ingrid Weatherby") or, in text
  written in one case, by a word that is not a stop word, verb, adjective or adverb
  ("eva kowalczyk");
  an ambiguous given name ("Will", "Grace") only before a word that is a name;
- coordination: a capitalised word joined to a name by "and"/"&"/"or" or in a comma list
  ("Lennon and Bird", "founders: Okonkwo, Ferreira and Brown");
- a given name opening a line before a colon (a speaker label, "Jade: ...").

Words that are never part of a name (stop words, titles, acronyms, kept officers,
placeholders, public phrases) stop every extension.
"""

from __future__ import annotations

import re
from typing import Any

from release.pii.namewords import NameWords
from release.pii.normalize import at_sentence_start
from release.pii.spans import Candidate

_SPACE = re.compile(r"[ \t]{1,3}")
_INITIAL_GAP = re.compile(r"\.?[ \t]{1,3}")
_HYPHEN = re.compile(r"-")
_SUFFIX_GAP = re.compile(r",?[ \t]{1,3}")
_COORDINATION = re.compile(r"[ \t]*(?:,[ \t]*(?:and[ \t]+|&[ \t]*)?|[ \t]+(?:and|&|or)[ \t]+)", re.IGNORECASE)
_LINE_LABEL = re.compile(r"(?m)^[ \t>*]*([^\W\d_]+)[ \t]*:")
_AFTER_LABEL = re.compile(r"[ \t]*(?:[.,;:!?)\"”]|$|\n)")
_COMPLETION_SCORE = 0.6
_COORDINATION_SCORE = 0.5


class NameCompleter(NameWords):
    """Name completion for one text; ``complete`` is called with each record's candidates."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._grown: dict[tuple[int, int], tuple[int, int]] = {}
        self._fixed: tuple[list[tuple[int, int]], list[Candidate]] | None = None

    def _grow_right(self, first: int, last: int) -> int:
        """Token index where a name running over tokens [first, last] really ends."""
        n = len(self.tokens)
        for _ in range(4):
            k = last + 1
            if k >= n:
                break
            gap = self._gap(last, k)
            if _SUFFIX_GAP.fullmatch(gap) and self._suffix(k):
                return k
            if last > first and self._initial(last, bridge=True) and _INITIAL_GAP.fullmatch(gap) \
                    and self._looks_like_name(k, after_name=True, lower=self._lower_name(last - 1)):
                last = k  # the span ended on an initial: "Marja K." + "Lindholm"
                continue
            if not (_SPACE.fullmatch(gap) or _HYPHEN.fullmatch(gap)):
                break
            if k + 1 < n and self._initial(k, bridge=True) and _INITIAL_GAP.fullmatch(self._gap(k, k + 1)) \
                    and self._after_initial(k, lower=self._lower_name(last)):
                last = k + 1
                continue
            if k + 1 < n and self.tokens[k].low in self.lexicon.particles and self.text[self.tokens[k].start].islower() \
                    and _SPACE.fullmatch(self._gap(k, k + 1)) and self._looks_like_name(k + 1, after_name=True):
                last = k + 1
                continue
            if self._given(last) and self._next_is_surname(last, k):
                last = k
                continue
            break
        return last

    def _after_initial(self, k: int, *, lower: bool) -> bool:
        """Does the word after the initial at token ``k`` end the name ("devonte a. jefferson")?

        After "a"/"i" without a full stop (an article, a pronoun) the word must be a name or
        not English; after an initial with a full stop, in text written in one case, any
        word that is not a stop word ("tiara n. strong").
        """
        dotted = self.text.startswith(".", self.tokens[k].end)
        word_ok = self._looks_like_name(k + 1, after_name=dotted or self.tokens[k].low not in ("a", "i"), lower=lower)
        if word_ok or not dotted or not (self.one_case or lower):
            return word_ok
        following = self.tokens[k + 1]
        return len(following.low) >= 2 and not self._blocked(k + 1) and following.low not in self.lexicon.allow_words

    def _next_is_surname(self, given: int, k: int) -> bool:
        low = self.tokens[k].low
        if low in self.lexicon.place_words and low not in self.lexicon.word_surnames:
            return False  # "Teresa Hotel": the first name, not the hotel
        if self.views.mode == "mixed" and not self.text[self.tokens[given].start].islower():
            return self._looks_like_name(k, after_name=True) and self._written_capitalised(k)
        return self._surname_shaped(k) and not self._written_capitalised(k) or self._looks_like_name(k, after_name=True)

    def _grow_left(self, first: int) -> int:
        """Token index where a name starting at token ``first`` really starts."""
        for _ in range(3):
            j = first - 1
            if j < 0:
                break
            gap = self._gap(j, first)
            if _INITIAL_GAP.fullmatch(gap) and self._initial(j):
                if j >= 1 and _SPACE.fullmatch(self._gap(j - 1, j)) and self._looks_like_name(j - 1, after_name=True) \
                        and not self._sentence_opener(j - 1):
                    first = j - 1
                    continue
                if self.text.startswith(".", self.tokens[j].end):
                    first = j  # "T. Davis"
                break
            if not _SPACE.fullmatch(gap):
                break
            low = self.tokens[j].low
            if low in self.lexicon.particles and j >= 1 and _SPACE.fullmatch(self._gap(j - 1, j)) \
                    and self._looks_like_name(j - 1, after_name=True) and self.text[self.tokens[j].start].islower():
                first = j - 1
                continue
            given = low in self.lexicon.given_names and not self._blocked(j) \
                and not self.views.is_public(self.tokens[j].start, self.tokens[j].end)
            if given or self._ambiguous_given_here(j):
                first = j
                continue
            break
        return first

    def _candidate(self, first: int, last: int, score: float, rule: str) -> Candidate:
        # Never the full stop after the last word: it may end the sentence, and NER reading the
        # redacted text must still see the sentence boundary.
        return Candidate(self.tokens[first].start, self.tokens[last].end, "PERSON", "completion", score, rule)

    # ------------------------------------------------------------------ API
    def complete(self, found: list[Candidate]) -> list[Candidate]:
        """New PERSON candidates around the PERSON candidates in ``found``."""
        if not any(c.entity_type == "PERSON" for c in found) and not self._may_hold_names():
            return []
        if self._fixed is None:  # what does not depend on the record, once per text
            self._fixed = (self._ambiguous_pairs(), self._speaker_labels())
        pairs, labels = self._fixed
        seeds = sorted({span for c in found if c.entity_type == "PERSON" for span in [self._span_tokens(c)] if span})
        out: list[Candidate] = list(labels)
        grown: list[tuple[int, int]] = []
        for first, last in seeds + pairs:
            if (first, last) not in self._grown:
                self._grown[first, last] = (self._grow_left(first), self._grow_right(first, last))
            new_first, new_last = self._grown[first, last]
            if (new_first, new_last) != (first, last):
                out.append(self._candidate(new_first, new_last, _COMPLETION_SCORE, "name_completion"))
            grown.append((new_first, new_last))
        out += self._coordinated([span for span in grown if self._strong_seed(*span)])
        return out

    def _may_hold_names(self) -> bool:
        """Without any PERSON candidate, only an ambiguous pair or a speaker label can add one."""
        return ":" in self.text or any(t.low in self.lexicon.ambiguous_given_names for t in self.tokens)

    def _strong_seed(self, first: int, last: int) -> bool:
        """A name worth listing others with: several words, or a word that is a name or not English.

        NER's lone "Discipline" in "Honesty and Discipline" is not.
        """
        return last > first or not self.lexicon.is_common(self.tokens[first].low)

    def _ambiguous_pairs(self) -> list[tuple[int, int]]:
        """'Will Davis', 'Grace O'Neil': an ambiguous given name written before a name word."""
        pairs = []
        for i, token in enumerate(self.tokens[:-1]):
            if self._ambiguous_given_here(i) and _SPACE.fullmatch(self._gap(i, i + 1)) \
                    and self.lexicon.is_name_word(self.tokens[i + 1].low) and self._written_capitalised(i + 1) \
                    and not self.views.is_public(token.start, self.tokens[i + 1].end):
                pairs.append((i, i + 1))
        return pairs

    def _ambiguous_given_here(self, i: int) -> bool:
        """'Will', 'Grace' written capitalised inside a sentence (even a stop word: "saw Will Fenwick")."""
        token = self.tokens[i]
        if token.low not in self.lexicon.ambiguous_given_names or not self._written_capitalised(i):
            return False
        if at_sentence_start(self.text, token.start) or self.views.is_public(token.start, token.end):
            return False
        return not (self.views.touches_placeholder(token.start, token.end) or any(self.names.kept[token.start:token.end])
                    or token.low in self.lexicon.titles or token.low in self.lexicon.acronyms)

    def _coordinated(self, spans: list[tuple[int, int]]) -> list[Candidate]:
        """Capitalised words listed with a name: 'Lennon and Bird', 'Okonkwo, Ferreira and Brown'; in
        text of one case only words that are names or surnames ("DEAN AND [PERSON 2]")."""
        out = []
        for first, last in spans:
            k = last
            while True:
                link = _COORDINATION.match(self.text, self.tokens[k].end)
                nxt = self.by_start.get(link.end()) if link else None
                if link is None or nxt is None or not self._coordinate(nxt, comma=self._comma_only(link.group(0))):
                    break
                out.append(self._candidate(nxt, nxt, _COORDINATION_SCORE, "name_coordination"))
                k = nxt
            j = first
            while True:
                prev = self._coordinated_before(j)
                if prev is None:
                    break
                out.append(self._candidate(prev, prev, _COORDINATION_SCORE, "name_coordination"))
                j = prev
        return out

    @staticmethod
    def _comma_only(link: str) -> bool:
        return "," in link and not re.search(r"and|&", link, re.IGNORECASE)

    def _coordinated_before(self, j: int) -> int | None:
        """The token listed just before token ``j`` ("Park and" before "Brown"), if any."""
        for back in (1, 2):  # "Lennon, Bird" or "Lennon and Bird"
            prev = j - back
            if prev < 0:
                return None
            link = _COORDINATION.fullmatch(self.text, self.tokens[prev].end, self.tokens[j].start)
            if link is not None:
                return prev if self._coordinate(prev, comma=self._comma_only(link.group(0))) else None
        return None

    def _coordinate(self, i: int, *, comma: bool) -> bool:
        token = self.tokens[i]
        if len(token.low) < 2 or not self.text[token.start].isupper() or self._blocked(i):
            return False
        if self.one_case:  # every word is capitalised: only a name, a surname or a first name that is a word
            return (self.lexicon.is_name_word(token.low) or token.low in self.lexicon.word_surnames
                    or token.low in self.lexicon.ambiguous_given_names) and token.low not in self.lexicon.calendar_words \
                and not self.names.is_place([(token.start, token.end)]) and not self.views.is_public(token.start, token.end)
        if self.names.is_place([(token.start, token.end)]) or self.views.is_public(token.start, token.end) \
                and token.low not in self.lexicon.allow_words:
            return False  # "Davis and Warren St", "Davis and Blue Hill Ave"
        if self.lexicon.is_name_word(token.low):
            return True
        if comma and self.lexicon.is_common(token.low):
            return False  # "Davis, Age 23": a comma list of ordinary words is not a list of names
        public = self.names.soft_public(token.start, token.end, common_is_public=False)
        if public or (self.lexicon.is_common(token.low) and at_sentence_start(self.text, token.start)):
            # "... and White were": an ordinary or public word is a name only where the clause ends.
            return bool(_AFTER_LABEL.match(self.text, token.end)) or self._followed_by_stop_word(i)
        return True

    def _followed_by_stop_word(self, i: int) -> bool:
        k = i + 1
        return k < len(self.tokens) and _SPACE.fullmatch(self._gap(i, k)) is not None \
            and self.tokens[k].low in self.lexicon.stop_words and self.text[self.tokens[k].start].islower()

    def _speaker_labels(self) -> list[Candidate]:
        """'Jade: I told you...': a given name opening a line before a colon."""
        if ":" not in self.text:
            return []
        out = []
        for match in _LINE_LABEL.finditer(self.text):
            i = self.by_start.get(match.start(1))
            if i is not None and self.lexicon.is_given_name(self.tokens[i].low) and not self._blocked(i):
                out.append(self._candidate(i, i, _COMPLETION_SCORE, "speaker_label"))
        return out
