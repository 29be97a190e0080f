"""Names found by the slot they stand in: a known first name anywhere, one word where English puts
a person, a first name that is also a word before a surname.

The outside evaluation on real narratives (fictitious names put back where the City's ``XXX``
marks stood) left names that no list or NER caught, most in ALL-CAPS text: "CHARGES AGAINST
JAMES FIELD", "OFFICERS HAD CLARKE DRIVE", "PASSENGER KNIGHT (DOB", "MARK CHURCH AND".
``NameSlots`` extends the name patterns (one tokenisation per text) with rules that need no
record:

- a first name from ``names.yaml`` (no ordinary word) is a name wherever it stands, unless it
  heads a place name ("Warren Gardens", "St. James", "Theodore Glynn Way"); before a shop word
  the name goes and the word stays ("Teresa Hotel");
- one word before a date-of-birth bracket, as the object of "advised ... to" or of a causative
  "had" before a bare verb, whatever the word, unless it is a role, group or plural word;
- in text of one case, a first name that is also a word and a surname before a verb, bracket,
  comma or "and" ("MARK CHURCH AND"; not "WILL PARK AND WAIT").
"""

from __future__ import annotations

import re

from release.pii.detect import SHOP_WORDS
from release.pii.namepatterns import (
    _AFTER_GAP,
    _BORN_AFTER,
    _DETERMINERS,
    _VERB_SCORE,
    _VERBS,
    NamePatterns,
)
from release.pii.spans import Candidate

# "ADVISED <person> TO", "HAD <person> DRIVE": verbs whose object is a person who then acts.
_TELL_VERBS = frozenset({"asked", "told", "ordered", "instructed", "advised", "allowed", "directed", "reminded",
                         "warned", "requested", "revealed", "encouraged", "urged", "permitted", "forced", "convinced",
                         "instruct", "ask", "tell", "order", "advise", "allow"})
_GROUP_WORDS = frozenset({"police", "everyone", "everybody", "anyone", "anybody", "someone", "somebody", "nobody",
                          "security", "staff", "management", "dispatch", "units", "fire", "medics", "family"})
_CAUSATIVES = frozenset({"had", "have", "let", "made", "make", "helped", "help"})
_BARE_VERBS = frozenset({"drive", "operate", "exit", "leave", "step", "move", "sit", "stand", "walk", "call", "remove",
                         "park", "turn", "open", "show", "get", "put", "place", "keep", "return", "come", "go", "take",
                         "retrieve", "produce", "provide", "empty", "stay", "wait"})
# Place words that name a street: after a first name, a street ("Ellen St", "Ruth Ave"), unless
# the word is also a surname and written out ("Dante Lane"); an abbreviation never is.
_STREET_WORDS = frozenset({"street", "avenue", "road", "boulevard", "place", "terrace", "parkway", "highway", "drive",
                           "lane", "way", "square", "row"})
_STREET_ABBREVIATIONS = frozenset({"st", "ave", "av", "rd", "blvd", "pl", "ct", "ter", "terr", "pkwy", "hwy", "dr", "ln",
                                   "sq", "hl"})


class NameSlots(NamePatterns):
    """Name patterns plus the slot rules, for one text (``release.pii.neighbours`` adds the rest)."""

    def patterns(self) -> list[Candidate]:
        return super().patterns() + self.given_names_alone() + self.single_words_in_person_slots() \
            + self.ambiguous_pairs_in_capitals()

    def single_words_in_person_slots(self) -> list[Candidate]:
        """One word where English puts a person, whatever the word: before a date-of-birth
        bracket ("PASSENGER KNIGHT (DOB", "WITH HORN (12/16/91)"), the object of a verb that
        tells someone to do something ("ADVISED QUARREL TO LEAVE", "REVEALED MARKS TO HAVE") and
        of a causative "had" before a bare verb ("OFFICERS HAD CLARK DRIVE"). Role words (police
        vocabulary: "OPERATOR", "PASSENGER", "PARTIES"), stop words and words after a determiner
        or possessive ("HIS SON (DOB") are not names."""
        out = []
        tokens = self.tokens
        for i, token in enumerate(tokens):
            if not self._person_slot_word(i):
                continue
            born = _BORN_AFTER.match(self.text, token.end)
            told = i > 0 and i + 2 < len(tokens) and tokens[i - 1].low in _TELL_VERBS and tokens[i + 1].low == "to" \
                and _AFTER_GAP.fullmatch(self._gap(i - 1, i)) and _AFTER_GAP.fullmatch(self._gap(i, i + 1))
            made = i > 0 and i + 1 < len(tokens) and tokens[i - 1].low in _CAUSATIVES and tokens[i + 1].low in _BARE_VERBS \
                and _AFTER_GAP.fullmatch(self._gap(i - 1, i)) and _AFTER_GAP.fullmatch(self._gap(i, i + 1))
            if born and "(" in born.group(0) and (re.search(r"(?i)d\.?[ ]?o\.?[ ]?b|born", born.group(0))
                                                   or not self.lexicon.is_common(token.low) or self._named(token.low)) \
                    or told or made:  # before a bare date only a name word: not "TODAY'S DATE (1/4/19)"
                out.append(Candidate(token.start, token.end, "PERSON", "regex", _VERB_SCORE, "name_in_person_slot"))
        return out

    def _person_slot_word(self, i: int) -> bool:
        token = self.tokens[i]
        low = token.low
        if len(low) < 3 or low in self.lexicon.calendar_words or low in self.lexicon.jargon or low in _VERBS:
            return False
        if not self.one_case and not self.text[token.start].isupper():
            return False
        if self._blocked(i) or self.views.is_public(token.start, token.end) \
                or i > 0 and self.tokens[i - 1].low in _DETERMINERS:
            return False
        if low in _GROUP_WORDS:
            return False
        # a plural of an ordinary noun is a group of people or things ("ADVISED PARTIES TO LEAVE")
        return self._named(low) or not (low.endswith("s") and self.lexicon.is_common(low[:-1]))

    def _named(self, low: str) -> bool:
        return self.lexicon.is_name_word(low) or low in self.lexicon.word_surnames or low in self.roster_surnames

    def ambiguous_pairs_in_capitals(self) -> list[Candidate]:
        """'MARK CHURCH AND', 'GENE KNIGHT,', 'MARK NORFOLK HAS': in text of one case, a first name
        that is also a word, then a surname (a name, or a word that is a surname), then a verb, a
        bracket or the end of a clause. Not a modal ("WILL PARK AND WAIT") nor a month."""
        if not self.one_case:
            return []
        out = []
        tokens = self.tokens
        for i in range(len(tokens) - 2):
            given, surname = tokens[i], tokens[i + 1]
            if given.low not in self.lexicon.ambiguous_given_names or given.low in self.lexicon.stop_words \
                    or given.low in self.lexicon.calendar_words or not _AFTER_GAP.fullmatch(self._gap(i, i + 1)):
                continue
            if not (self.lexicon.is_name_word(surname.low) or surname.low in self.lexicon.word_surnames):
                continue
            if self._blocked(i) or self._blocked(i + 1) or self.views.is_public(given.start, surname.end) \
                    or i > 0 and tokens[i - 1].low in _DETERMINERS:
                continue
            after = self.text[surname.end : surname.end + 12]
            if re.match(r"[ \t]*(?:[,;:()]|and\b)", after, re.IGNORECASE) or _BORN_AFTER.match(after) \
                    or tokens[i + 2].low in _VERBS and _AFTER_GAP.fullmatch(self._gap(i + 1, i + 2)):
                out.append(Candidate(given.start, surname.end, "PERSON", "regex", _VERB_SCORE, "ambiguous_first_name_pair"))
        return out

    def given_names_alone(self) -> list[Candidate]:
        """A known first name is a name wherever it stands ("OFFICERS STOPPED JAMES FIELD"): the
        list holds no ordinary English word ("Will", "Mark" are ambiguous and wait for a pair), and
        in ALL-CAPS text the NER model misses most names. Name completion then grows it over the
        surname. Not in a public phrase ("St James St"), nor before a street word ("Warren St");
        before another place word only as a first name and surname ("Oswin Church") outside a
        public phrase and not after a house number ("45 Ellen Park")."""
        out = []
        for i, token in enumerate(self.tokens):
            if token.low not in self.lexicon.given_names or len(token.low) < 3:
                continue
            if not self.one_case and not self.text[token.start].isupper():
                continue  # lower-case first names in mixed text: ``lower_case_given_names``
            if self._blocked(i) or self.views.is_public(token.start, token.end) \
                    or self.views.touches_placeholder(token.start, token.end):
                continue
            if self.names.part_of_place(token.start, token.end) and not self._first_name_before_place_word(i) \
                    or self._heads_place_name(i):
                continue
            out.append(Candidate(token.start, token.end, "PERSON", "regex", _VERB_SCORE, "given_name"))
        return out

    def _first_name_before_place_word(self, i: int) -> bool:
        """'OSWIN CHURCH', 'Dante Park': a first name and a place word that is also a surname."""
        k = i + 1
        if k >= len(self.tokens) or not _AFTER_GAP.fullmatch(self._gap(i, k)):
            return False
        following = self.tokens[k]
        if following.low in SHOP_WORDS:
            return not self.views.is_public(following.start, following.end)  # "Teresa's Hotel": hers
        if following.low not in self.lexicon.word_surnames or following.low in _STREET_WORDS \
                or following.low in _STREET_ABBREVIATIONS:
            return False
        if self.views.is_public(following.start, following.end) or self._after_house_number(i):
            return False
        return not self.names.is_place([(self.tokens[i].start, self.tokens[i].end), (following.start, following.end)])

    def _heads_place_name(self, i: int) -> bool:
        """'St. James', 'Theodore Glynn Way', 'Warren Gardens': a saint, or the first word of a place
        name (up to three more words, then a place word; right after the first name, one that is
        no surname, or a street word)."""
        if i > 0 and self.tokens[i - 1].low in ("st", "saint", "ste") and re.fullmatch(r"\.?[ \t]{1,3}", self._gap(i - 1, i)):
            return True
        for k in range(i + 1, min(i + 4, len(self.tokens))):
            following = self.tokens[k]
            if not _AFTER_GAP.fullmatch(self._gap(k - 1, k)) or not self.text[following.start].isupper():
                return False
            if k == i + 1 and following.low in SHOP_WORDS:
                return False
            if following.low in _STREET_WORDS or following.low in _STREET_ABBREVIATIONS \
                    or following.low in self.lexicon.place_words \
                    and (k > i + 1 or following.low not in self.lexicon.word_surnames):
                return True  # "Clifford Park" may be a person; "Betty Quarrel Park" is a park
        return False

    def _after_house_number(self, i: int) -> bool:
        before = self.text[max(0, self.tokens[i].start - 12) : self.tokens[i].start]
        return bool(re.search(r"\d[A-Za-z]?[ \t]+$", before))
