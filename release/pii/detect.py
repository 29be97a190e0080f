"""Turning raw hits into candidates: name filtering, uncommon words, later mentions.

Pure Python on ``TextViews``; the engine feeds it NER spans and rule hits. Decisions:

- A name candidate is cut into runs of words that are not public: stop words, titles,
  allow-listed phrases and (for ORG/GPE/LOC/FAC/NORP spans, which are only *possible*
  names) ordinary English words are trimmed; a kept officer's name is trimmed too.
- An uncommon capitalised word (not English, not public, not an officer) is a
  low-score PERSON candidate: the small NER model misses many names, and police prose
  has few capitalised words that are neither names nor public places.
- Later mentions: every other occurrence of a redacted name word in the same text is
  redacted too, also where digits or ``_`` glue it to something ("Bruxmeyer123"); ordinary
  words only where capitalised, except in one-case text, where a part of a person's name
  (three letters or more, no month or public word) goes everywhere once the redaction
  itself says "a person". One dictionary of the text's words, no regex per record.
"""

from __future__ import annotations

import re

from release.pii.lexicon import Lexicon
from release.pii.normalize import at_sentence_start
from release.pii.spans import Candidate, TextViews

NAME_LABELS = frozenset({"PERSON", "NAME", "OFFICER"})
_NEXT_WORD = re.compile(r"[ ]([A-Za-z]+)\b")
_PREVIOUS_WORD = re.compile(r"\b([A-Za-z]+)[ ]$")
_POSSESSIVE = re.compile(r"['’]s$")
_DETERMINERS = frozenset({"the", "a", "an", "his", "her", "their", "its", "this", "that", "same", "each", "every", "any",
                          "no", "some", "our", "your", "my", "open", "one", "next", "last", "first", "new", "old"})
# Words that open a sentence before a comma and are no surname: "Later, Dante", "Yes, Will".
_OPENERS = frozenset({"later", "then", "yes", "no", "okay", "ok", "well", "also", "however", "again", "additionally",
                      "subsequently", "eventually", "meanwhile", "finally", "afterwards", "now", "so", "sir", "hey"})
# Position cues that also catch ordinary words: "OBSERVED <name>", "<name> STATED".
_WEAK_NAME_CUES = frozenset({"name_after_relation", "name_before_verb"})
_LETTERS = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")


def _letter_at(text: str, index: int, step: int) -> bool:
    """A letter at ``index``, or an apostrophe joining letters there ("d'Angelo"); a possessive
    "'s" after a word does not join it."""
    if index < 0 or index >= len(text):
        return False
    if text[index].isalpha():
        return True
    if text[index] in "'’":
        beyond = text[index + step : index + step + 1] if step > 0 else text[index - 1 : index]
        if step > 0 and text[index + 1 : index + 2] == "s" and not text[index + 2 : index + 3].isalpha():
            return False
        return beyond.isalpha()
    return False
# A shop or shelter after a name is that person's ("Teresa Hotel", "Quarrelli Market"): the name goes,
# the word stays.
SHOP_WORDS = frozenset({"market", "supermarket", "pizza", "liquor", "liquors", "store", "cafe", "restaurant", "bar",
                        "lounge", "hotel", "motel", "shelter", "pharmacy", "laundromat", "deli", "bakery", "barbershop",
                        "salon", "gym"})
_STREET_ABBREVIATIONS = frozenset({"st", "ave", "av", "rd", "blvd", "pl", "ct", "ter", "terr", "pkwy", "hwy", "ln", "sq",
                                   "cir", "hl", "pk", "xing", "expy"})
_DOTTED = re.compile(r"(?<![^\W_])(?:[A-Za-z]\.){2,}[A-Za-z]?(?![^\W_])")  # "A.K.A", "D.O.B."
# Digits and "_" do not join a word: "TORVALD_BRUXMEYER", "Bruxmeyer123" hold names.
_CAPITALISED = re.compile(r"(?<![A-Za-z'’])[A-Z][A-Za-z]*(?:['’][A-Za-z]+)?(?![A-Za-z])")


class NameFilter:
    """Word-level decisions about name candidates for one text."""

    def __init__(self, views: TextViews, lexicon: Lexicon, kept_officers: bytearray) -> None:
        self.views = views
        self.lexicon = lexicon
        self.kept = kept_officers

    def hard_public(self, start: int, end: int) -> bool:
        """Never part of a name: digits, stop words, titles, acronyms, police jargon, kept officers."""
        word = self.views.base.text[start:end]
        if any(self.kept[start:end]):
            return True
        if len(word) == 1 and word.isupper() and word != "I":
            # a middle initial, unless it is a letter of a dotted abbreviation ("A.K.A. BIGGIE")
            return self.in_dotted_abbreviation(start)
        low = word.lower().rstrip(".")
        if not word.isalpha() and any(ch.isdigit() for ch in word) or self.lexicon.is_stop_or_title(low):
            return True
        return low in self.lexicon.acronyms or low in self.lexicon.jargon

    def in_dotted_abbreviation(self, start: int) -> bool:
        """The letter at ``start`` belongs to a dotted abbreviation that is public ("A.K.A.", "D.O.B.")."""
        text = self.views.base.text
        match = _DOTTED.search(text, max(0, start - 12), start + 12)
        while match is not None and match.end() <= start:
            match = _DOTTED.search(text, match.end(), start + 12)
        if match is None or match.start() > start:
            return False
        letters = match.group(0).replace(".", "").lower()
        return letters in self.lexicon.acronyms or self.lexicon.is_stop_or_title(letters)

    def soft_public(self, start: int, end: int, *, common_is_public: bool) -> bool:
        """Public on its own (allow-listed, or ordinary English when asked) but can be a name."""
        low = self.views.base.text[start:end].lower()
        if low in self.lexicon.allow_words or self.views.is_public(start, end):
            return True
        return common_is_public and self.lexicon.is_common(low)

    def is_public_word(self, start: int, end: int, *, common_is_public: bool) -> bool:
        return self.hard_public(start, end) or self.soft_public(start, end, common_is_public=common_is_public)

    def trim(self, candidate: Candidate, *, strip_lowercase: bool = False, places: bool = True) -> list[Candidate]:
        """Split a name candidate at never-name words; drop runs made only of public words.

        With ``strip_lowercase``, edge words that the case-restored copy shows in lower
        case (ordinary English) are dropped too: "observed Kevin Walsh walking" -> "Kevin Walsh".
        ``places=False`` (a rule's cue already says "person") keeps "registered to Liam Lane".
        """
        common_is_public = candidate.entity_type == "NAME"
        runs: list[list[tuple[int, int]]] = [[]]
        for start, end in self.views.words(candidate.start, candidate.end):
            if self.hard_public(start, end):
                if runs[-1]:
                    runs.append([])
            else:
                runs[-1].append((start, end))
        text = self.views.base.text
        for run in runs:
            # "Later T. Davis", "Later, Dante": an ordinary word opening the sentence is not part of the name.
            while len(run) >= 2 and at_sentence_start(text, run[0][0]) and (
                    len(run) > 2 and self.lexicon.is_common(text[run[0][0] : run[0][1]].lower())
                    or text.startswith(",", run[0][1]) and text[run[0][0] : run[0][1]].lower() in _OPENERS):
                run.pop(0)
        if strip_lowercase and self.views.mode == "mixed":
            restored = self.views.restored
            for run in runs:
                while run and not restored[run[-1][0]].isupper():
                    run.pop()
                while run and not restored[run[0][0]].isupper():
                    run.pop(0)
        return [
            Candidate(run[0][0], run[-1][1], candidate.entity_type, candidate.detector,
                      candidate.score, candidate.rule_id, candidate.identity)
            for run in runs
            if run
            and not (len(run) == 1 and run[0][1] - run[0][0] == 1)  # an initial left alone: "J." of a kept "J. Ortiz"
            and not all(self.soft_public(s, e, common_is_public=common_is_public) for s, e in run)
            and not (places and (self.is_place(run) or self._holds_place_word(run)))
            and not self._ends_with_street_abbreviation(run)
            and not (candidate.detector == "ner" and self._ordinary_single_word(run))
        ]

    def _holds_place_word(self, run: list[tuple[int, int]]) -> bool:
        """'Logan Way/W': a place word inside the run, after its first word."""
        text = self.views.base.text
        return any(text[s].isupper() and text[s:e].lower() in self.lexicon.place_words for s, e in run[1:])

    def _ends_with_street_abbreviation(self, run: list[tuple[int, int]]) -> bool:
        """'observed at Temple Pl': a run ending in "St", "Ave", "Pl" is a street, even after a cue."""
        if len(run) < 2:
            return False
        start, end = run[-1]
        return self.views.base.text[start:end].lower() in _STREET_ABBREVIATIONS

    def is_place(self, run: list[tuple[int, int]]) -> bool:
        """'Harambee Park', 'Maverick Station': a name followed by a capitalised place word."""
        text = self.views.base.text
        place_words = self.lexicon.place_words
        if len(run) >= 2 and text[run[-1][0]].isupper() and text[run[-1][0] : run[-1][1]].lower() in place_words:
            # "Theresa Park", "Jonathan Church", "MARK CHURCH": a first name and a surname that is
            # also a place word, unless the pair is a known public place ("Franklin Park")
            first = text[run[0][0] : run[0][1]].lower()
            return not (len(run) == 2 and (first in self.lexicon.given_names or self.lexicon.is_given_name(first)
                                           and not self.views.inside_public_phrase(run[0][0], run[-1][1])))
        following = _NEXT_WORD.match(text, run[-1][1])
        if not (following and following.group(1)[0].isupper() and following.group(1).lower() in place_words):
            return False
        # in one-case text a place word before a determiner is a verb: "HAD FERGUSON DRIVE THE VEHICLE"
        after = _NEXT_WORD.match(text, following.end(1))
        return not (self.views.mode != "mixed" and after and after.group(1).lower() in _DETERMINERS
                    and following.group(1).lower() not in _STREET_ABBREVIATIONS)

    def part_of_place(self, start: int, end: int) -> bool:
        """One word of a capitalised "Name + place word" pair: "Logan" or "Way" in "Logan Way"."""
        if self.is_place([(start, end)]):
            return True
        text = self.views.base.text
        # In ALL-CAPS text every word is capitalised; judge by the case-restored copy
        # ("SHOWED LANE HAS": "showed" is an ordinary word, so LANE is not a street here).
        cased = self.views.restored if self.views.mode == "upper" else text
        if not cased[start].isupper() or text[start:end].lower() not in self.lexicon.place_words:
            return False
        previous = _PREVIOUS_WORD.search(cased, max(0, start - 40), start)
        return bool(previous and previous.group(1)[0].isupper() and not self.hard_public(*previous.span(1)))

    def _ordinary_single_word(self, run: list[tuple[int, int]]) -> bool:
        """NER's lone 'Vehicle' at a sentence start (or in lower case) is not a name."""
        if len(run) != 1:
            return False
        start, end = run[0]
        word = self.views.base.text[start:end]
        if not self.lexicon.is_common(word.lower()):
            return False
        return word.islower() or at_sentence_start(self.views.base.text, start)

    def uncommon_words(self, score: float) -> list[Candidate]:
        """Capitalised words (in the case-restored copy) that are not English or public.

        In mixed-case text a flagged word grows over capitalised neighbours that are not
        never-name words ("Major Adams", "Cody Green"), unless they belong to a public
        multi-word phrase ("Blue Hill Ave").
        """
        base = self.views.base.text
        restored = self.views.restored
        tokens = [m.span() for m in _CAPITALISED.finditer(restored)]
        if self.views.base.source is not None:  # accented words the case-restored copy wrote in lower case
            tokens = sorted(set(tokens) | {m.span() for m in _LETTERS.finditer(base)
                                           if base[m.start()].isupper() and self._accented(*m.span())})
        flagged = []
        for index, (start, end) in enumerate(tokens):
            word = base[start:end]
            if end - start < (3 if word.isupper() else 2):
                continue
            # a word written with an accent ("VÍCTOR", "CARRIÓN") is no English word, whatever its folded form
            common_is_public = not self._accented(start, end) or word.lower() in self.lexicon.place_words  # "CAFÉ"
            if word.lower() in self.lexicon.acronyms or self.is_public_word(start, end, common_is_public=common_is_public):
                continue
            flagged.append(index)
        runs: list[tuple[int, int]] = []
        for index in flagged:
            low = high = index
            if self.views.mode == "mixed":
                while low > 0 and self._extends(tokens[low - 1], tokens[low]):
                    low -= 1
                while high + 1 < len(tokens) and self._extends(tokens[high + 1], tokens[high]):
                    high += 1
            if runs and low <= runs[-1][1] + 1 and tokens[low][0] - tokens[runs[-1][1]][1] <= 1:
                runs[-1] = (runs[-1][0], max(high, runs[-1][1]))
            else:
                runs.append((low, high))
        base_lower = self.views.lower
        out = []
        for low, high in runs:
            if high > low and base_lower[tokens[high][0] : tokens[high][1]] in SHOP_WORDS \
                    and not self.views.is_public(tokens[low][0], tokens[high][1]):
                high -= 1  # "Quarrelli Supermarket": the name, not the shop word
            elif self.is_place(tokens[low : high + 1]) and not self._before_shop(tokens[high]):
                continue
            out.append(Candidate(tokens[low][0], tokens[high][1], "PERSON", "rare_word", score, "uncommon_capitalised_word"))
        return out

    def _before_shop(self, token: tuple[int, int]) -> bool:
        """'Quarrelli Market', 'LOPEZ PIZZA': a shop named after a person; the name goes, the word stays."""
        following = _NEXT_WORD.match(self.views.base.text, token[1])
        return bool(following and following.group(1).lower() in SHOP_WORDS
                    and not self.views.is_public(token[0], following.end(1)))

    def _accented(self, start: int, end: int) -> bool:
        """The original text of this folded span holds a letter outside ASCII."""
        base = self.views.base
        if base.source is None:
            return False
        first, last = base.to_original(start, end)
        return any(ord(ch) > 127 and ch.isalpha() for ch in base.original[first:last])

    def _extends(self, token: tuple[int, int], neighbour: tuple[int, int]) -> bool:
        """May a name grow from ``neighbour`` over the adjacent capitalised ``token``?"""
        start, end = token
        gap = self.views.base.text[min(end, neighbour[1]) : max(start, neighbour[0])]
        if gap not in (" ", "-"):
            return False
        if self.hard_public(start, end):
            return False
        low = self.views.base.text[start:end].lower()
        if self.lexicon.is_common(low) and at_sentence_start(self.views.base.text, start):
            return False  # "Encountered Frank Santoro": the sentence's first word is not his name
        return not (self.views.is_public(start, end) and low not in self.lexicon.allow_words)

    @staticmethod
    def _inside(start: int, names: list[Candidate]) -> bool:
        return any(c.start <= start < c.end for c in names)

    def _caps_name_word(self, start: int, end: int, low: str, surname: bool = False) -> bool:
        """An ordinary word that was half of a name, written in capitals ("MS. CONRAD ... CONRAD
        SAID"): the name again, unless it reads as the word there, after a determiner ("THE SAME
        DAY", "AN OPEN CASE") or before a place word ("PARK ST"), or as a verb or adjective.
        ``surname``: the word was redacted as a surname (after a known first name, or as a
        record's name part: "DANTE QUARRELS"), so even a verb or adjective form is the name again
        ("OFFICERS ADVISED QUARRELS TO LEAVE")."""
        text = self.views.base.text
        if not text[start:end].isupper() or len(low) < 4 or self.part_of_place(start, end):
            return False
        if low not in self.lexicon.word_surnames and self.lexicon.is_non_noun(low) and not surname:
            return False
        previous = _PREVIOUS_WORD.search(text, max(0, start - 20), start)
        return not (previous and previous.group(1).lower() in _DETERMINERS)

    def _strict_part(self, low: str) -> bool:
        """In one-case text a word redacted as part of a person's name is that person wherever it
        stands ("MANNING ... MANNING SAID", "DAY ... DAY STATED"), unless it can never be a name
        part: one or two letters, a month or weekday, a public word of the allow list ("BROWN"
        the colour keeps the older rule). Stop words, titles and police words never reach here."""
        return len(low) >= 3 and low not in self.lexicon.calendar_words and low not in self.lexicon.allow_words

    def _name_evidence(self, candidate: Candidate, parts: list[tuple[tuple[int, int], str]]) -> bool:
        """The redaction itself says "a person": a record's name, a name-shaped rule ("WARE, M.",
        'AKA "WIZ"'), a known first name or a word that is no ordinary English in it, or a title
        before it ("MR DAY"). Ordinary words that only NER or a weak position cue took ("OBSERVED
        MOTOR VEHICLE", "THE ABOVE GROUP STANDING") do not make every "MOTOR" a name."""
        if candidate.detector != "ner" and candidate.rule_id not in _WEAK_NAME_CUES:
            return True
        if any(not self.lexicon.is_common(low) or self.lexicon.is_given_name(low)
               for (start, end), low in parts if len(low) > 1 and not self.hard_public(start, end)):
            return True
        previous = _PREVIOUS_WORD.search(self.views.base.text, max(0, candidate.start - 20), candidate.start)
        if previous is None:
            previous = re.search(r"\b([A-Za-z]+)\.[ ]$", self.views.base.text[max(0, candidate.start - 20) : candidate.start])
        return bool(previous and previous.group(1).lower() in self.lexicon.titles)

    def _occurrences(self, low: str) -> list[tuple[int, int]]:
        """Where the word ``low`` stands in the text as a whole word, also where digits or "_"
        glue it to something ("Bruxmeyer123", "TORVALD_BRUXMEYER"); found with str.find."""
        lower = self.views.lower
        if len(lower) != len(self.views.base.text):  # a letter whose lower case is longer: keep offsets
            lower = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in self.views.base.text)
        found = []
        position = lower.find(low)
        while position >= 0:
            end = position + len(low)
            if not _letter_at(lower, position - 1, -1) and not _letter_at(lower, end, 1):
                found.append((position, end))
            position = lower.find(low, position + 1)
        return found

    def later_mentions(self, names: list[Candidate], seen: set[str] | None = None) -> list[Candidate]:
        """Every other occurrence of a redacted name word in this text, glued or not.

        ``seen``: words already propagated (updated), so a caller can call again with new names.
        """
        base = self.views.base.text
        seen = set() if seen is None else seen
        sources: dict[str, Candidate] = {}
        surnames: set[str] = set()
        strict: set[str] = set()  # parts of a name redacted as a person: every occurrence goes
        one_case = self.views.mode != "mixed"
        for candidate in names:
            parts = [(m.span(), _POSSESSIVE.sub("", m.group(0).lower()))
                     for m in _LETTERS.finditer(base, candidate.start, candidate.end)]
            for index, ((start, end), low) in enumerate(parts):
                if len(low) < 2 or low in seen or self.hard_public(start, end):
                    continue
                if candidate.detector == "record_term" or index and not low.endswith(("ing", "ed")) \
                        and self.lexicon.is_given_name(parts[index - 1][1]):
                    surnames.add(low)  # "DANTE QUARRELS": the word after a first name is a surname
                sources.setdefault(low, candidate)
                if one_case and candidate.entity_type == "PERSON" and self._strict_part(low) \
                        and self._name_evidence(candidate, parts):
                    strict.add(low)
        seen.update(sources)
        found = []
        for low, source in sources.items():
            for start, end in self._occurrences(low):
                ordinary = self.lexicon.is_common(low) or self.soft_public(start, end, common_is_public=False)
                if ordinary and low not in strict and not self.views.restored[start].isupper() \
                        and not self._caps_name_word(start, end, low, low in surnames):
                    continue
                if any(self.kept[start:end]) or self.views.touches_placeholder(start, end):
                    continue
                if (self.views.inside_public_phrase(start, end) or self.part_of_place(start, end)) \
                        and not self._inside(start, names):
                    continue  # "Hill" of a subject named Hill inside "Savin Hill Ave" is the street
                single = len(self.views.words(source.start, source.end)) == 1
                found.append(Candidate(start, end, source.entity_type, "propagation", source.score,
                                       "later_mention", source.identity if single else ""))
        return found
