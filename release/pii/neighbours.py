"""Words next to a name: the word after a title, and the other half of a half-redacted name.

An outside evaluation put fictitious names back where the City's ``XXX`` marks stood in
real narratives and found names half redacted. ``NameNeighbours`` extends the name patterns
and slots (``release.pii.namepatterns``, ``release.pii.nameslots``, one tokenisation per text) with two rules:

- **titles**: the word after Mr, Mrs, Ms, Miss, Mister, Mx or Dr, with or without a full
  stop, glued or not ("Mr.Quarrel"), in any letter case, is a name whatever the word
  ("Mr. Quarrel", "DR QUARREL"); a stop word or another title after it is skipped ("Mr. and
  Mrs. Quarrel"), a middle initial carries on to the next word ("Ms. T. Quarrel"). "Miss" in
  mixed-case text counts only capitalised (lower case it is the verb), and "Dr" is not a
  title where it ends a street ("45 Elm Dr", "Elm Dr", "Dr. Martin Luther King Blvd").
- **neighbours**: a word right next to a name part that is redacted, or to a ``[PERSON n]``
  placeholder this engine wrote, goes with it when it is written like a name: capitalised
  in mixed-case text (not an ordinary word opening a sentence), not an ordinary or public
  word in text written in one case; never a stop word, title, acronym, police word, kept
  officer, month or weekday, place word or part of a public place. Before a name the word
  may stand before a comma ("Quarrel, [PERSON 3]": Last, First); after it, only a space.
  It fixes "Quarrel, [PERSON 3]" and "[PERSON 2] Quarrel". Next to a known first name a
  surname that is also a word or a place word goes too ("Linda West", "Theresa Park"), and
  in capitals any surname-shaped word ("WILLIAM CANNON", "JESSICA GRAY"); next to any
  redacted name part, in capitals, a word that is no verb, adjective or adverb form (the
  English vocabulary's noun list holds many surnames: "OSWIN TANNERY").
- **by position alone**, whatever the word (found on the City's 2019 narratives): a word
  between two redacted name parts ("[PERSON 1] PRICE [PERSON 2]" in a list of names), the
  half of a hyphenated surname glued to a redacted one ("[PERSON 1]-SEVILLA", not an
  ordinary word), a noun ending a line of capitals after a name ("- [PERSON 1] HOLDER"),
  and a first name before a middle initial and a name ("AUTUMN H. [PERSON 5]"). Never a
  stop word, verb form, police word or public phrase ("[PERSON 1] MET [PERSON 2]").
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from release.pii.namepatterns import _VERBS
from release.pii.nameslots import NameSlots
from release.pii.normalize import at_sentence_start
from release.pii.spans import Candidate

TITLES = frozenset({"mr", "mrs", "ms", "miss", "mister", "mx", "dr"})
_TITLE_GAP = re.compile(r"\.[ \t]{0,3}|[ \t]{1,3}")
_INITIAL_GAP = re.compile(r"\.?[ \t]{1,3}|\.")
_AFTER_GAP = re.compile(r"[ \t]{1,3}")
_BEFORE_GAP = re.compile(r"[ \t]{1,3}|[ \t]*,[ \t]{0,3}")
_STREET_BEFORE = re.compile(r"\b\d{1,5}[A-Za-z]?[ \t]+(?:[^\W\d_][\w'’.\-]*[ \t]+){1,3}$")
_INITIAL_BEFORE = re.compile(r"\.?[ \t]{1,3}")
_LINE_END = re.compile(r"[ \t]*(?:\r?\n|\Z)")
_OUR_PERSON = re.compile(r"\[(?:PERSON|NAME) \d+\]")
_DATE_PREPOSITIONS = frozenset({"in", "on", "of", "since", "until", "till", "during", "by", "from", "to", "through",
                                 "early", "late", "mid", "last", "next", "this", "before", "after"})
_TITLE_SCORE = 0.8
_NEIGHBOUR_SCORE = 0.6
_MAX_STEPS = 2


class NameNeighbours(NameSlots):
    """Name completion plus the title, neighbour and verb rules, for one text."""

    def fixed(self) -> list[Candidate]:
        """The rules that do not depend on the record: titles and the name patterns."""
        return self.titles() + self.patterns()

    # ------------------------------------------------------------------ titles
    def titles(self) -> list[Candidate]:
        """The word (or initial + word) after every title in the text."""
        out = []
        tokens = self.tokens
        for i, token in enumerate(tokens[:-1]):
            if token.low not in TITLES or not self._title_here(i):
                continue
            j = i + 1
            if not _TITLE_GAP.fullmatch(self._gap(i, j)) or tokens[j].low in TITLES \
                    or tokens[j].low in self.lexicon.stop_words and len(tokens[j].low) > 1:
                continue
            last = j
            if tokens[j].end - tokens[j].start == 1 and j + 1 < len(tokens) \
                    and _INITIAL_GAP.fullmatch(self._gap(j, j + 1)) and not self._blocked(j + 1):
                last = j + 1  # "Ms. T. Quarrel"
            if token.low == "dr" and self._street_follows(j):
                continue  # "Dr. Martin Luther King Blvd"
            out.append(Candidate(tokens[j].start, tokens[last].end, "PERSON", "regex", _TITLE_SCORE,
                                 "name_after_title"))
        return out

    def _title_here(self, i: int) -> bool:
        token = self.tokens[i]
        if self.views.touches_placeholder(token.start, token.end):
            return False
        if token.low == "miss" and not self.one_case and not self.text[token.start].isupper():
            return False  # "did not miss the bus"
        if token.low != "dr":
            return True
        line_start = self.text.rfind("\n", 0, token.start) + 1
        if _STREET_BEFORE.search(self.text, line_start, token.start):
            return False  # "45 Elm Dr"
        if i == 0 or self.one_case or not _AFTER_GAP.fullmatch(self._gap(i - 1, i)):
            return True
        previous = self.tokens[i - 1]
        capitalised = self.text[previous.start].isupper() and not at_sentence_start(self.text, previous.start)
        return not capitalised or self._blocked(i - 1)  # "on Elm Dr" is a street; "Officer Dr" is not

    def _street_follows(self, j: int) -> bool:
        """Words from token ``j`` on run into a place word within four words ("Martin Luther King Blvd")."""
        for k in range(j, min(j + 5, len(self.tokens))):
            if k > j and not _AFTER_GAP.fullmatch(self._gap(k - 1, k)):
                return False
            if k > j and self.tokens[k].low in self.lexicon.place_words:
                return True
        return False

    # ------------------------------------------------------------------ neighbours
    def around(self, names: Iterable[Candidate], placeholders: bool = False) -> list[Candidate]:
        """Name-shaped words next to each PERSON candidate (and, if asked, next to our
        ``[PERSON n]`` placeholders), grown at most two words either way."""
        spans = [(c.start, c.end) for c in names if c.entity_type == "PERSON" and c.detector != "roster"]
        if placeholders and any(self.views.placeholders):
            spans += [m.span() for m in _OUR_PERSON.finditer(self.text)
                      if all(self.views.placeholders[m.start() : m.end()])]
        out: list[Candidate] = []
        starts = self.starts
        edges = ({s for s, _ in spans}, {e for _, e in spans})
        for start, end in spans:
            k = bisect.bisect_left(starts, end)  # first token after the name
            for _ in range(_MAX_STEPS):
                gap = self.text[end : self.tokens[k].start] if k < len(self.tokens) else ""
                if k >= len(self.tokens) or not (_AFTER_GAP.fullmatch(gap) or gap == "-") \
                        or not (self._name_shaped(k, next_to_given=k > 0 and self.lexicon.is_given_name(self.tokens[k - 1].low),
                                                  lower_name=k > 0 and self._lower_name(k - 1))
                                or self._between_names(k, edges) or self._ends_list_line(k)
                                or gap == "-" and self._glued_surname(k)):
                    break
                out.append(self._neighbour(k))
                end, k = self.tokens[k].end, k + 1
            k = bisect.bisect_left(starts, start) - 1  # last token before the name
            for _ in range(_MAX_STEPS):
                gap = self.text[self.tokens[k].end : start] if k >= 0 else ""
                if k >= 1 and _INITIAL_BEFORE.fullmatch(gap) and self._initial(k) \
                        and _AFTER_GAP.fullmatch(self._gap(k - 1, k)) and self._first_name_before(k - 1):
                    out += [self._neighbour(k - 1), self._neighbour(k)]  # "AUTUMN H. [PERSON 5]"
                    break
                if k < 0 or not (_BEFORE_GAP.fullmatch(gap) or gap == "-") \
                        or not self._name_shaped(  # Last, First: a surname before a first name only across a comma
                            k, next_to_given="," in gap and self.lexicon.is_given_name(self.tokens[k + 1].low),
                            before_name=True) and not ("," not in gap and self._first_name_before(k)) \
                        and not ("," not in gap and self._between_names(k, edges)) \
                        and not (gap == "-" and self._glued_surname(k)):
                    break
                out.append(self._neighbour(k))
                if "," in gap:
                    break  # "Quarrel, Dante": the surname before a comma, nothing further
                start, k = self.tokens[k].start, k - 1
        return out

    def _plain_word(self, k: int) -> bool:
        """No stop word, title, verb form, police word, month, place word, acronym, placeholder
        or public phrase: a word that could be part of a name by its position alone."""
        token = self.tokens[k]
        low = token.low
        lexicon = self.lexicon
        return len(low) >= 2 and not (
            low in lexicon.stop_words or low in lexicon.titles or low in lexicon.calendar_words
            or low in lexicon.place_words or low in lexicon.acronyms or low in lexicon.jargon
            or low in lexicon.allow_words or low in _VERBS or low.endswith(("ed", "ing"))
            or self._blocked(k) or self.views.inside_public_phrase(token.start, token.end)
            or any(self.names.kept[token.start : token.end]))

    def _between_names(self, k: int, edges: tuple[set[int], set[int]]) -> bool:
        """A word between two redacted name parts is a middle name: "[PERSON 1] PRICE [PERSON 2]"
        in a list of names, "[PERSON 6]\nROYAL [PERSON 7]". One side is a space, the other any
        white space. A stop word, verb, adjective or adverb between them is not, unless it is a
        known name ("[PERSON 1] AND [PERSON 2]", "[PERSON 1] MET [PERSON 2]")."""
        token = self.tokens[k]
        starts, ends = edges
        before = self.text[:token.start].rstrip()
        after = self.text[token.end:]
        right = len(self.text) - len(after.lstrip())
        if len(before) not in ends or right not in starts:
            return False
        gaps = (self.text[len(before) : token.start], self.text[token.end : right])
        return any(_AFTER_GAP.fullmatch(g) for g in gaps) and self._plain_word(k) \
            and not (self.lexicon.is_non_noun(token.low) and token.low not in self.lexicon.word_surnames
                     and not self.lexicon.is_name_word(token.low))  # "[PERSON 1] met [PERSON 2]"

    def _ends_list_line(self, k: int) -> bool:
        """In one-case text, a noun ending the line after a redacted name is its surname: a list
        of people, one a line ("- [PERSON 1] HOLDER"). Not a verb, adjective or adverb form."""
        token = self.tokens[k]
        return (self.one_case or self.text[token.start : token.end].isupper()) \
            and bool(_LINE_END.match(self.text, token.end)) and len(token.low) >= 3 \
            and self._plain_word(k) and token.low not in self.lexicon.non_noun \
            and not self.names.soft_public(token.start, token.end, common_is_public=False)

    def _glued_surname(self, k: int) -> bool:
        """The other half of a hyphenated surname ("[PERSON 1]-SEVILLA"): a word glued to a
        redacted name part by a hyphen, unless it is an ordinary word ("[PERSON 1]-ACTIVE")."""
        return self._plain_word(k) and not self.lexicon.is_common(self.tokens[k].low)

    def _neighbour(self, k: int) -> Candidate:
        token = self.tokens[k]
        return Candidate(token.start, token.end, "PERSON", "propagation", _NEIGHBOUR_SCORE, "name_neighbour")

    def _word_surname_follows(self, k: int) -> bool:
        return k + 1 < len(self.tokens) and self.tokens[k + 1].low in self.lexicon.word_surnames

    def _first_name_before(self, k: int) -> bool:
        """A first name right before a redacted name part is that person's, even where the word
        has another public reading: "TERRY [PERSON 1]" (a Terry stop), "WILL [PERSON 2]",
        "APRIL [PERSON 3]" (not after a preposition: "IN APRIL [PERSON 3] WAS")."""
        token = self.tokens[k]
        if not self.lexicon.is_given_name(token.low) or len(token.low) < 3:
            return False
        if not (self.one_case or self.text[token.start].isupper()) or at_sentence_start(self.text, token.start) \
                and not self.one_case and token.low not in self.lexicon.given_names:
            return False
        if self.views.touches_placeholder(token.start, token.end) or any(self.names.kept[token.start : token.end]) \
                or token.low in self.lexicon.titles or token.low in self.lexicon.acronyms \
                or self.views.inside_public_phrase(token.start, token.end):
            return False
        if token.low in self.lexicon.given_names and self.views.is_public(token.start, token.end):
            return False  # "QUINCY": a town; an ambiguous one ("TERRY", "GEORGIA") is a name before a name
        if token.low in self.lexicon.calendar_words:
            return k == 0 or self.tokens[k - 1].low not in _DATE_PREPOSITIONS
        return True

    def _name_shaped(self, k: int, *, next_to_given: bool = False, lower_name: bool = False,
                     before_name: bool = False) -> bool:
        """Written like a name. Next to a known first name, a surname that is also a word or a
        place word ("Theresa Park", "Linda West"), and in text of one case (or an ALL-CAPS word)
        any word shaped like a surname ("AURELIO HARDING", not "AURELIO TAKING"). Next to a name
        written in lower case in mixed-case text, a lower-case surname ("heather glover")."""
        token = self.tokens[k]
        start, end, low = token.start, token.end, token.low.removesuffix("'s")
        surname_word = next_to_given and low in self.lexicon.word_surnames
        if len(low) < 2 or self._blocked(k) or low in self.lexicon.calendar_words \
                or low in self.lexicon.place_words and not surname_word:
            return False
        # before a redacted name that is also a place word, that word is the name: "DANTE [LANE]"
        place = self.names.part_of_place(start, end) and not (
            before_name and self.lexicon.is_given_name(low) and low not in self.lexicon.place_words
            and self._word_surname_follows(k))
        if self.views.inside_public_phrase(start, end) or place and not surname_word:
            return False  # "Dante near Blue Hill Ave", "Dante Harambee Park"
        public = self.names.soft_public(start, end, common_is_public=False)
        if self.views.mode == "lower" and self.text[start].isupper() and not at_sentence_start(self.text, start):
            return True  # lower-case text: the writer capitalised it
        if self.one_case or self.text[start:end].isupper():  # ALL-CAPS words in mixed text too
            if surname_word or next_to_given and (self._surname_shaped(k) or self._before_finite_verb(k)) and not public:
                return True  # "ALAN LITTLE", "JESSICA GRAY", "FREY, SONNY", "WILLIAM CANNON", "ROSA BATES WAS"
            if not public and not self.lexicon.is_non_noun(low) and self._surname_shaped(k):
                return True  # "DANTE QUARRELSON" where the lemma list knows the name as a noun

            if low in self.lexicon.ambiguous_given_names and not public:
                return True  # "GRANT HART": a first name that is also a word, next to a name
            return not self.lexicon.is_common(low) and not public
        if not self.text[start].isupper():  # "heather glover", "richard cannon", "elias mota"
            return lower_name and (low in self.lexicon.word_surnames or self._surname_shaped(k)
                                   or self.lexicon.is_name_word(low) or not self.lexicon.is_common(low))
        if low in self.lexicon.ambiguous_given_names or low in self.lexicon.word_surnames:
            return True  # "Justice Davis", "Linda West": a name word next to a name, even opening a sentence
        return not (self.lexicon.is_common(low) and at_sentence_start(self.text, start))
