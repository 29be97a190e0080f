"""Putting one text's candidates together, before merging and placeholders.

Two phases, so that a text shared by many records is analysed once: ``prepare`` builds
what does not depend on the record (NER results trimmed to names, the YAML recognizers,
uncommon capitalised words, and the per-text name and address completers); ``final``
adds one record's terms, the officer roster, name completion, address-block completion
and later mentions of every name found, at the caller's threshold (the second scan uses
a lower one), plus the spans a later check forces (never trimmed, never thresholded). Pure Python: the
Presidio results are read only through their ``entity_type``, ``start``, ``end`` and ``score`` attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from release.pii.addresses import AddressCompleter
from release.pii.detect import NAME_LABELS, NameFilter
from release.pii.lexicon import Lexicon
from release.pii.neighbours import NameNeighbours
from release.pii.recognizers import NameRuleSpec, PatternRule
from release.pii.roster import Roster
from release.pii.spans import Candidate, TextViews
from release.pii.terms import RecordTerms, TermMatcher

NAME_CANDIDATE_SCORE = 0.6
UNCOMMON_WORD_SCORE = 0.4


@dataclass(frozen=True)
class Prepared:
    """Everything about one distinct text that does not depend on its record."""

    views: TextViews
    names: NameFilter
    completer: NameNeighbours
    addresses: AddressCompleter
    base: list[Candidate]


class Assembler:
    """Builds the candidate list of a text: ``prepare`` once, ``final`` per record."""

    def __init__(self, lexicon: Lexicon, rules: Sequence[PatternRule], roster: Roster,
                 presidio_labels: Mapping[str, str]) -> None:
        self.lexicon = lexicon
        self.rules = rules
        self.roster = roster
        self.presidio_labels = presidio_labels

    def prepare(self, views: TextViews, results: list[Any]) -> Prepared:
        names = NameFilter(views, self.lexicon, self.roster.mask(views))
        completer = NameNeighbours(views, self.lexicon, names, roster_surnames=self.roster.surnames)
        base = self._base_candidates(views, results, names) + completer.fixed()
        return Prepared(views, names, completer, AddressCompleter(views, self.lexicon), base)

    def _base_candidates(self, views: TextViews, results: list[Any], names: NameFilter) -> list[Candidate]:
        """Everything that does not depend on the record: NER, recognizers, uncommon words."""
        found: list[Candidate] = []
        for result in results:
            label = self.presidio_labels.get(result.entity_type)
            if label is None:
                continue
            if label in NAME_LABELS:
                score = result.score if label == "PERSON" else NAME_CANDIDATE_SCORE
                raw = Candidate(result.start, result.end, label, "ner", score, f"spacy_{result.entity_type.lower()}")
                found += names.trim(raw)
            else:
                found.append(Candidate(result.start, result.end, label, "presidio", result.score,
                                       f"presidio_{result.entity_type.lower()}"))
        for rule in self.rules:
            spec = rule.spec
            if isinstance(spec, NameRuleSpec) and spec.trim:
                for candidate in rule.find(views):
                    trimmed = names.trim(candidate, strip_lowercase=spec.strip_lowercase, places=spec.reject_places)
                    if spec.reject_common == "all":  # judged on what is left: "Way, FIO'd" -> "Way" is no name
                        trimmed = [c for c in trimmed if not self._all_common(views, c)]
                    elif views.mode != "mixed":
                        trimmed = [c for c in trimmed if not self._common_after_stop_word(views, candidate, c)]
                    found += trimmed
            else:
                found += rule.find(views)
        found += names.uncommon_words(UNCOMMON_WORD_SCORE)
        return found

    def final(self, prepared: Prepared, terms: RecordTerms | None, threshold: float,
              forced: Sequence[Candidate] = ()) -> list[Candidate]:
        """``forced``: spans a later check found; they join as they are, whatever the threshold."""
        views, names, base = prepared.views, prepared.names, prepared.base
        found = [c for c in base if c.score >= threshold] + list(forced)
        if terms is not None:
            matcher = TermMatcher(terms, self._usable_alone)
            found += [
                Candidate(start, end, variant.entity_type, "record_term", 1.0, variant.rule_id, variant.identity)
                for start, end, variant in matcher.find(views.skeleton)
                if self._plausible_term(views, start, end, variant.rule_id)
                and not inside_kept_compound(views, names.kept, start, end, variant.rule_id)
                and not self._street_part(prepared, start, end, variant.rule_id)
            ]
        found += self.roster.candidates(views)
        found += [c for c in prepared.completer.complete(found) if c.score >= threshold]
        found += [c for c in prepared.addresses.complete(found) if c.score >= threshold]
        return found + self._names_are_people(prepared, found)

    @staticmethod
    def _names_are_people(prepared: Prepared, found: list[Candidate]) -> list[Candidate]:
        """A name part redacted once is redacted everywhere in the text, with the name-shaped
        words next to it (and next to our own [PERSON n] placeholders); two rounds, so the
        neighbours of a later mention and the later mentions of a neighbour are found too."""
        seen: set[str] = set()
        names = [c for c in found if c.entity_type in NAME_LABELS and c.detector != "roster"]
        out = prepared.completer.around(names, placeholders=True)
        frontier = names + out
        for _ in range(2):
            mentions = prepared.names.later_mentions(frontier, seen)
            grown = prepared.completer.around(mentions)
            out += mentions + grown
            frontier = grown  # only new neighbours bring words not yet propagated
            if not frontier:
                break
        return out

    def _plausible_term(self, views: TextViews, start: int, end: int, rule_id: str) -> bool:
        """Weak variants (initials, names that are also ordinary words) must look like names."""
        if rule_id == "term_name_initials":
            found = views.base.text[start:end]
            letters = [c for c in found if c.isalpha()]
            initials = "".join(letters).lower()
            if initials in self.lexicon.acronyms:
                return False
            if not all(c.isupper() for c in letters):
                return "." in found and views.mode == "lower"  # "t. d." in all-lower text
            # "J.S." always; "JS" in mixed-case text; in ALL-CAPS text only if not a word ("GO").
            return "." in found or views.mode == "mixed" or not self.lexicon.is_common(initials)
        if rule_id in ("term_name_part_weak", "term_alias_weak"):
            if views.restored[start].isupper():
                return True
            word = views.base.text[start:end].lower()
            return views.mode == "upper" and word not in self.lexicon.stop_words
        return True

    def _common_after_stop_word(self, views: TextViews, cued: Candidate, part: Candidate) -> bool:
        """One-case text: "STOPPED NEAR THE STORE". The cue reached over a stop word to ordinary
        words; a name stands right after the cue ("STOPPED DANTE DAY"), a title, an initial
        ("AUTUMN H. LIRA") or a copula ("PASSENGER WAS MONTENEGRO")."""
        if part.start == cued.start or not self._all_common(views, part) \
                or "." in views.base.text[part.start : part.end]:  # "FRISKED TO NO AVAIL. LIRA`S LICENSE"
            return False
        before = [w.lower().rstrip(".") for w in views.base.text[cued.start : part.start].split()]
        last = before[-1] if before else ""
        return len(last) > 1 and last in self.lexicon.stop_words and last not in self.lexicon.titles \
            and last not in _COPULAS

    def _all_common(self, views: TextViews, candidate: Candidate) -> bool:
        words = views.words(candidate.start, candidate.end)
        return all(self.lexicon.is_common(views.base.text[s:e].lower()) for s, e in words)

    @staticmethod
    def _street_part(prepared: Prepared, start: int, end: int, rule_id: str) -> bool:
        """A record's name part used as a street or place name: "Savin Hill Ave", "Hamilton Pl".

        Only for one name part (a subject named Hill); the full name always counts.
        """
        if rule_id not in ("term_name_part", "term_name_part_weak"):
            return False
        return prepared.views.inside_public_phrase(start, end) or prepared.names.part_of_place(start, end)

    def _usable_alone(self, word: str) -> bool:
        """A first or last name alone is searched only when it is not a stop or public word."""
        return not self.lexicon.is_stop_or_title(word) and word not in self.lexicon.allow_words



_COPULAS = frozenset({"is", "was", "were", "are", "be", "been", "being", "am", "as", "named", "called"})


def inside_kept_compound(views: TextViews, kept: bytearray, start: int, end: int, rule_id: str) -> bool:
    """A record's name part found as one half of a kept officer's hyphenated name.

    "Saint" (from a subject named Saint-Fleur) inside "Saint-Hilaire" (a kept officer) is
    not the subject: redacting it would leave "[PERSON 1]-Hilaire".
    """
    if rule_id not in ("term_name_part", "term_name_part_weak"):
        return False
    text = views.base.text
    left, right = start, end
    while left >= 2 and text[left - 1] == "-" and text[left - 2].isalpha():
        left -= 2
        while left > 0 and text[left - 1].isalpha():
            left -= 1
    while right + 1 < len(text) and text[right] == "-" and text[right + 1].isalpha():
        right += 2
        while right < len(text) and text[right].isalpha():
            right += 1
    return (left, right) != (start, end) and all(kept[left:right])
