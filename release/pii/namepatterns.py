"""Names found by their shape and place, before any record: surnames before a verb, Last, First,
initials in capitals, first names written in lower case.

An outside evaluation put fictitious names back where the City's ``XXX`` marks stood in real
narratives; many that survived were ordinary words used as names ("Price has an open case",
"GRAY, ART", "M HOLMES", "heather glover"). ``NamePatterns`` extends the name completer (one
tokenisation per text) with rules that need the word lists but no record:

- a surname that is also a word, an officer's surname written bare, or a first name that is
  also a word, directly before a verb or a date of birth ("Price has", "BROWN RECENTLY
  RELEASED", "Grace stated", "Green(DOB 2/10/74"), not after a determiner ("the Park is");
- Last, First however ordinary both words are, when the first name is a known one or a
  verb, bracket or date follows ("GRAY, ART", "CARTER, MAGDALENA has");
- an initial before a surname in capitals ("M HOLMES", "G. ANAYA"; not "A CAR", "B STREET");
- a first name written in lower case in mixed-case text ("thomas", "joy ramirez").
"""

from __future__ import annotations

import re
from typing import Any

from release.pii.detect import SHOP_WORDS
from release.pii.names import NameCompleter
from release.pii.spans import Candidate

_INITIAL_GAP = re.compile(r"\.?[ \t]{1,3}|\.")
_AFTER_GAP = re.compile(r"[ \t]{1,3}")
_COMMA_GAP = re.compile(r",[ \t]{0,2}")
_BORN_AFTER = re.compile(r"[ \t]*[(,]?[ \t]*(?:(?i:d\.?[ ]?o\.?[ ]?b\b|born\b)|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b|(?:19|20)\d\d-\d\d-\d\d\b)")
_PERSON_AFTER = re.compile(
    r"[ \t]*(?:\(|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}|(?i:was|is|has|had|stated|said|told|who|and|were|did|does)\b)")
_INTERJECTIONS = frozenset({"yes", "no", "okay", "ok", "well", "sir", "maam", "hey", "hi", "hello", "thanks", "please",
                            "sorry", "yeah", "nah", "oh", "so", "now", "then", "later", "again", "also"})
_DETERMINERS = frozenset({"the", "a", "an", "his", "her", "their", "its", "this", "our", "my", "your", "some", "any",
                          "no", "each", "every"})
_ADVERBS = frozenset({"also", "then", "later", "recently", "initially", "immediately", "quickly", "again", "never",
                      "still", "just", "previously", "subsequently", "eventually", "allegedly", "currently"})
_VERBS = frozenset({
    "was", "is", "has", "had", "have", "were", "are", "stated", "states", "said", "says", "told", "tells", "ran",
    "fled", "refused", "admitted", "denied", "advised", "appeared", "became", "would", "will", "could", "did",
    "does", "lives", "lived", "resides", "resided", "provided", "gave", "walked", "exited", "entered", "left",
    "got", "went", "came", "returned", "claimed", "reported", "showed", "declined", "agreed", "wore",
    "released", "summonsed", "arrested", "frisked", "approached", "yelled", "asked", "explained", "indicated",
    "informed", "responded", "replied", "attempted", "began", "continued", "drove", "operated", "owns",
    "identified", "admits", "denies", "can", "may", "might", "should", "must"})
_VERB_SCORE = 0.5
_CLAUSE_END = re.compile(r"[ \t]*[,:;)]")
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


class NamePatterns(NameCompleter):
    """Record-independent name rules for one text (``release.pii.neighbours`` adds the rest)."""

    def __init__(self, *args: Any, roster_surnames: frozenset[str] = frozenset(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.roster_surnames = roster_surnames

    def patterns(self) -> list[Candidate]:
        return self.before_verbs() + self.lower_case_given_names() + self.last_comma_given() + self.caps_initials() \
            + self.given_names_alone() + self.single_words_in_person_slots() + self.ambiguous_pairs_in_capitals()

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

    def _next_is_surname(self, given: int, k: int) -> bool:
        return super()._next_is_surname(given, k) or (self.one_case or self._written_capitalised(k)) \
            and self._before_finite_verb(k)

    def _before_finite_verb(self, i: int) -> bool:
        """After a first name, any word before a finite verb or a bracket is the surname: "ROSA
        BATES WAS", "DAVID BRIGHT DID", "ROSA BATES (DOB". A verb's -s form or an adjective
        cannot stand there ("ROSA WALKS WAS" is no English); a past form can ("ROSA LOST HAD"
        is rare, but "ROSA ADMITTED WAS" is not a name either), so none is taken."""
        token = self.tokens[i]
        low = token.low
        if len(low) < 3 or low in _VERBS or low in _ADVERBS or low in self.lexicon.stop_words \
                or low in self.lexicon.jargon or low in self.lexicon.allow_words or low in self.lexicon.acronyms \
                or low in self.lexicon.calendar_words or low.endswith(("ed", "ing")) \
                or low.endswith("ly") and self.lexicon.is_non_noun(low) and not self.lexicon.is_name_word(low):
            return False
        if self._blocked(i) or self.views.is_public(token.start, token.end):
            return False
        if _BORN_AFTER.match(self.text, token.end) or self.text.startswith(" (", token.end):
            return True
        if _CLAUSE_END.match(self.text, token.end) and low not in self.lexicon.non_noun:
            return True  # "PETER BRIDGES: NO LICENSE", "CHARLES CHAMBERS, ACTIVE": a noun, not "JOHN OUTSIDE,"
        k = i + 1
        return k < len(self.tokens) and bool(_AFTER_GAP.fullmatch(self._gap(i, k))) and self.tokens[k].low in _VERBS

    def _initial_surname_verb(self, i: int) -> bool:
        """'C NEWMAN IS', 'U. BRAVO IDENTIFIED': an initial standing alone (not "B&E", "M/V",
        "CLASS B"), a word, a finite verb."""
        initial = self.tokens[i]
        before = self.text[max(0, initial.start - 1) : initial.start]
        if before and not before.isspace() or i > 0 and self.tokens[i - 1].low in ("class", "type", "section", "unit"):
            return False
        k = i + 2
        return k < len(self.tokens) and self.tokens[k].low in _VERBS and bool(_AFTER_GAP.fullmatch(self._gap(i + 1, k))) \
            and self._before_finite_verb(i + 1)

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
                    or following.low in self.lexicon.place_words and (k > i + 1 or following.low not in self.lexicon.word_surnames):
                return True  # "Clifford Park" may be a person; "Betty Quarrel Park" is a park
        return False

    def _after_house_number(self, i: int) -> bool:
        before = self.text[max(0, self.tokens[i].start - 12) : self.tokens[i].start]
        return bool(re.search(r"\d[A-Za-z]?[ \t]+$", before))

    def caps_initials(self) -> list[Candidate]:
        """'M HOLMES', 'G. ANAYA' in text written in capitals: an initial before a surname
        that is a name or no ordinary word (not "A CAR", "B STREET", "H BLOCK")."""
        out = []
        tokens = self.tokens
        for i in range(len(tokens) - 1):
            initial, name = tokens[i], tokens[i + 1]
            if initial.end - initial.start != 1 or not self.text[initial.start].isupper():
                continue
            if not (self.one_case or self.text[name.start : name.end].isupper()) or len(name.low) < 2:
                continue
            gap = self._gap(i, i + 1)
            if not _INITIAL_GAP.fullmatch(gap) or (initial.low in ("a", "i") and "." not in gap):
                continue
            if self.names.in_dotted_abbreviation(initial.start) or self._blocked(i + 1) \
                    or self.views.is_public(name.start, name.end) or self.names.part_of_place(name.start, name.end):
                continue
            if self.lexicon.is_name_word(name.low) or name.low in self.lexicon.word_surnames \
                    or not self.lexicon.is_common(name.low) or self._initial_surname_verb(i):  # "C NEWMAN IS"
                out.append(Candidate(initial.start, name.end, "PERSON", "regex", _VERB_SCORE, "initial_then_surname"))
        return out

    def last_comma_given(self) -> list[Candidate]:
        """Last, First however ordinary both words are, when the first name is a known given
        name ("GRAY, ART", "Hicks, Guy", "JOHNSTON, WILL") or the pair is followed by a verb,
        a bracket or a date ("CARTER, MAGDALENA has", "HULL, JOHN 05.07.1971")."""
        out = []
        tokens = self.tokens
        for i in range(len(tokens) - 1):
            j = i + 1
            if not _COMMA_GAP.fullmatch(self._gap(i, j)) or not self._comma_name_pair(i, j):
                continue
            out.append(Candidate(tokens[i].start, tokens[j].end, "PERSON", "regex", _VERB_SCORE, "last_comma_given_name"))
        return out

    def _comma_name_pair(self, i: int, j: int) -> bool:
        tokens, text = self.tokens, self.text
        last, first = tokens[i], tokens[j]
        if not self.one_case and not (text[last.start].isupper() and text[first.start].isupper()):
            return False
        if len(last.low) < 2 or len(first.low) < 2 or last.low in self.lexicon.calendar_words:
            return False
        if self._blocked(i) or self._blocked_first(j) or last.low in _INTERJECTIONS:
            return False  # "Yes, Will", "Okay, Grace"
        if self.views.is_public(last.start, last.end) and last.low not in self.lexicon.word_surnames:
            return False
        if self.lexicon.is_given_name(first.low):
            return True
        return bool(_PERSON_AFTER.match(text, first.end)) and (self._surname_shaped(j) or not self.lexicon.is_common(first.low))

    def _blocked_first(self, j: int) -> bool:
        """A first name may be a stop word ("WILL", "MAY"): only placeholders, kept officers,
        titles and acronyms block it."""
        token = self.tokens[j]
        if token.low in self.lexicon.ambiguous_given_names and token.low in self.lexicon.stop_words:
            return self.views.touches_placeholder(token.start, token.end) or any(self.names.kept[token.start : token.end])
        return self._blocked(j)

    # ------------------------------------------------------------------ surnames before a verb
    def before_verbs(self) -> list[Candidate]:
        """A known surname (also an ordinary word: "Price", "BROWN"; or an officer's surname
        written bare) or a given name that is also a word ("Grace") directly before a verb:
        "Price has two open cases", "BROWN RECENTLY RELEASED", "Grace stated"."""
        out = []
        tokens = self.tokens
        for i, token in enumerate(tokens[:-1]):
            low = token.low.removesuffix("'s")
            if not (low in self.lexicon.word_surnames or low in self.roster_surnames
                    or low in self.lexicon.ambiguous_given_names):
                continue
            if (not self.one_case and not self.text[token.start].isupper()) or self._blocked(i) \
                    or low in self.lexicon.calendar_words or self.views.inside_public_phrase(token.start, token.end):
                continue
            if i > 0 and tokens[i - 1].low in _DETERMINERS and _AFTER_GAP.fullmatch(self._gap(i - 1, i)):
                continue  # "the Park is closed", "his Brown jacket was"
            if _BORN_AFTER.match(self.text, token.end):  # "Green(DOB 2/10/74", "Park 09/26/2000"
                out.append(Candidate(token.start, token.end, "PERSON", "regex", _VERB_SCORE, "name_before_verb"))
                continue
            j = i + 1
            if _AFTER_GAP.fullmatch(self._gap(i, j)) and tokens[j].low in _ADVERBS and j + 1 < len(tokens):
                j += 1
            if _AFTER_GAP.fullmatch(self._gap(j - 1, j)) and tokens[j].low in _VERBS:
                out.append(Candidate(token.start, token.end, "PERSON", "regex", _VERB_SCORE, "name_before_verb"))
        return out

    def lower_case_given_names(self) -> list[Candidate]:
        """'observed thomas brown exit': a first name written in lower case inside mixed-case
        text (not an ordinary word) seeds name completion; a first name that is also a word
        counts before a lower-case name ("joy ramirez", "chase mcfarland")."""
        if self.one_case:
            return []
        out = []
        tokens = self.tokens
        for i, token in enumerate(tokens):
            if len(token.low) < 3 or not self.text[token.start].islower() or self._blocked(i) \
                    or self.views.is_public(token.start, token.end):
                continue
            if token.low in self.lexicon.given_names:
                out.append(Candidate(token.start, token.end, "PERSON", "regex", _VERB_SCORE, "lower_case_given_name"))
            elif token.low in self.lexicon.ambiguous_given_names and i + 1 < len(tokens) \
                    and _AFTER_GAP.fullmatch(self._gap(i, i + 1)) and self.text[tokens[i + 1].start].islower() \
                    and (self.lexicon.is_name_word(tokens[i + 1].low) or not self.lexicon.is_common(tokens[i + 1].low)) \
                    and not self._blocked(i + 1):
                out.append(Candidate(token.start, tokens[i + 1].end, "PERSON", "regex", _VERB_SCORE,
                                     "lower_case_given_name"))
        return out
