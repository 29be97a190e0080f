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
- an initial before a surname in capitals ("M HOLMES", "G. ANAYA"; not "A CAR", "B STREET"), or
  before any word and a verb ("C BARROWS IS"; not "B&E CHARGES", "CLASS B DRUGS WERE");
- a first name written in lower case in mixed-case text ("thomas", "joy ramirez");
- after a first name, any word before a finite verb, a bracket or the end of a clause is the
  surname ("ROSA BATES WAS", "PETER QUARRELS:").

``release.pii.nameslots`` adds the rules that go by the slot a word stands in.
"""

from __future__ import annotations

import re
from typing import Any

from release.pii.names import NameCompleter
from release.pii.spans import Candidate

_INITIAL_GAP = re.compile(r"\.?[ \t]{1,3}|\.")
_AFTER_GAP = re.compile(r"[ \t]{1,3}")
_COMMA_GAP = re.compile(r",[ \t]{0,2}")
_BORN_AFTER = re.compile(r"[ \t]*[(,]?[ \t]*(?:(?i:d\.?[ ]?o\.?[ ]?b\b|born\b)"
                         r"|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}\b|(?:19|20)\d\d-\d\d-\d\d\b)")
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
_BRACKET_AFTER = re.compile(r"[ \t]?\(")


class NamePatterns(NameCompleter):
    """Record-independent name rules for one text (``release.pii.nameslots`` adds more)."""

    def __init__(self, *args: Any, roster_surnames: frozenset[str] = frozenset(), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.roster_surnames = roster_surnames

    def patterns(self) -> list[Candidate]:
        return self.before_verbs() + self.lower_case_given_names() + self.last_comma_given() + self.caps_initials()

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
        if _BORN_AFTER.match(self.text, token.end) or _BRACKET_AFTER.match(self.text, token.end):
            return True
        if _CLAUSE_END.match(self.text, token.end) and low not in self.lexicon.non_noun:
            return True  # "PETER BRIDGES: NO LICENSE", "CHARLES CHAMBERS, ACTIVE": a noun, not "JOHN OUTSIDE,"
        k = i + 1
        if k >= len(self.tokens) or not _AFTER_GAP.fullmatch(self._gap(i, k)):
            return False
        verb = self.tokens[k].low
        # before a participle only a word that is no verb or adjective form ("HECTOR BRIDGES OPERATING";
        # not "DANTE KEPT SAYING")
        return verb in _VERBS or len(verb) > 5 and verb.endswith("ing") and low not in self.lexicon.non_noun \
            and self.lexicon.is_non_noun(verb)

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
