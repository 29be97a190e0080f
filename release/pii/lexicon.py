"""Word knowledge: what is common English, what is a name, what is public.

Built from ``lexicon.yaml``, ``allow_list.yaml``, ``names.yaml`` and ``addresses.yaml``
plus the English vocabulary the engine passes in (the spaCy model's lemma index split
into nouns and other words, and its stop words; this module never imports spaCy). It
answers the detectors' questions: is a word ordinary English (case restoration, the
uncommon-word layer), is it a name (given names and surnames are never "common", even
though the vocabulary's noun list holds many people's names), is a word a title that is
never part of a name, which characters of a text are covered by public phrases
(neighbourhoods, street names without a house number, districts, agencies, ...), and
which words build addresses (street types, unit words, countries).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from release.pii.rulefiles import Model, load_rule_file
from release.pii.skeleton import PhraseMatcher, Skeleton


class LexiconFile(BaseModel):
    """``lexicon.yaml``: what the spaCy vocabulary gets wrong for us (common words it lacks, names it holds as
    English), acronyms kept upper case, and titles."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    acronyms: list[str] = Field(default_factory=list)
    titles: list[str] = Field(default_factory=list)
    common_words: list[str] = Field(default_factory=list)
    name_words: list[str] = Field(default_factory=list)
    place_words: list[str] = Field(default_factory=list)


class AllowListFile(BaseModel):
    """``allow_list.yaml``: public phrases (streets, neighbourhoods, districts, agencies, ...); a detection made
    only of them is kept."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    street_suffixes: dict[str, list[str]] = Field(default_factory=dict)
    streets: list[str] = Field(default_factory=list)
    neighbourhoods: list[str] = Field(default_factory=list)
    districts: list[str] = Field(default_factory=list)
    agencies: list[str] = Field(default_factory=list)
    police_terms: list[str] = Field(default_factory=list)
    vehicles: list[str] = Field(default_factory=list)
    colours: list[str] = Field(default_factory=list)
    calendar: list[str] = Field(default_factory=list)
    other: list[str] = Field(default_factory=list)


class NamesFile(BaseModel):
    """``names.yaml``: given names, surnames and the pieces of a name (particles, suffixes, surname endings) the
    name detectors know."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    given_names: list[str] = Field(default_factory=list)
    ambiguous_given_names: list[str] = Field(default_factory=list)
    surnames: list[str] = Field(default_factory=list)
    word_surnames: list[str] = Field(default_factory=list)
    surname_endings: list[str] = Field(default_factory=list)
    ending_exceptions: list[str] = Field(default_factory=list)
    particles: list[str] = Field(default_factory=list)
    suffixes: list[str] = Field(default_factory=list)


class AddressesFile(BaseModel):
    """``addresses.yaml``: street types, unit words and countries, for the address patterns and address-block
    completion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    street_types_after: list[str] = Field(default_factory=list)
    street_types_before: list[str] = Field(default_factory=list)
    street_types_foreign: list[str] = Field(default_factory=list)
    street_type_endings: list[str] = Field(default_factory=list)
    unit_words: list[str] = Field(default_factory=list)
    countries: list[str] = Field(default_factory=list)


_SUFFIXES_TO_STRIP = (
    ("ies", "y"), ("ied", "y"), ("ves", "f"), ("ing", ""), ("ing", "e"), ("ed", ""),
    ("ed", "e"), ("es", ""), ("s", ""), ("ly", ""), ("er", ""), ("er", "e"), ("est", ""),
    ("'s", ""), ("s'", ""), ("'d", ""), ("n't", ""), ("'ll", ""), ("'re", ""), ("'ve", ""),
)


def _stems(word: str) -> Iterator[tuple[str, str]]:
    """(suffix, stem) for each inflection ending ``word`` may carry, leaving 3+ letters."""
    for suffix, replacement in _SUFFIXES_TO_STRIP:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            yield suffix, word[: len(word) - len(suffix)] + replacement


def street_phrases(allow: AllowListFile) -> list[str]:
    """Every public spelling of every street: with each suffix form, and multi-word bare names."""
    suffix_forms = {key.lower(): forms for key, forms in allow.street_suffixes.items()}
    phrases: list[str] = []
    for street in allow.streets:
        words = street.split()
        last = words[-1].lower().rstrip(".")
        if len(words) > 1 and last in suffix_forms:
            base = words[:-1]
            phrases.extend(" ".join(base + [form]) for form in suffix_forms[last])
            if len(base) > 1:
                phrases.append(" ".join(base))
        else:
            phrases.append(street)
    return phrases


def street_base_names(allow: AllowListFile) -> list[str]:
    """Street names without their suffix, for 'house number + street name' addresses."""
    suffix_forms = {key.lower() for key in allow.street_suffixes}
    names = []
    for street in allow.streets:
        words = street.split()
        if len(words) > 1 and words[-1].lower().rstrip(".") in suffix_forms:
            words = words[:-1]
        names.append(" ".join(words))
    return names


@dataclass(frozen=True)
class Lexicon:
    """Immutable word sets plus the public-phrase automaton."""

    dictionary: frozenset[str]
    stop_words: frozenset[str]
    name_words: frozenset[str]
    acronyms: frozenset[str]
    titles: frozenset[str]
    allow_words: frozenset[str]
    jargon: frozenset[str]  # curated common words: never part of a name
    allow_matcher: PhraseMatcher[str]
    streets: tuple[str, ...]
    place_words: frozenset[str] = frozenset()
    given_names: frozenset[str] = frozenset()  # not ordinary English: also in name_words
    ambiguous_given_names: frozenset[str] = frozenset()  # Will, Mark, Grace: names only in pairs
    particles: frozenset[str] = frozenset()
    name_suffixes: frozenset[str] = frozenset()
    non_noun: frozenset[str] = frozenset()  # verbs, adjectives, adverbs and their irregular forms
    surname_ending: re.Pattern[str] | None = None
    ending_exceptions: frozenset[str] = frozenset()
    address_words: dict[str, tuple[str, ...]] = field(default_factory=dict)
    unit_words: frozenset[str] = frozenset()
    country_matcher: PhraseMatcher[str] | None = None
    calendar_words: frozenset[str] = frozenset()  # months and weekdays: never half of a name
    word_surnames: frozenset[str] = frozenset()  # "brown", "price": names only where the position says so
    nouns: frozenset[str] = frozenset()  # noun lemmas that are no irregular verb/adjective form

    def has_surname_ending(self, word: str) -> bool:
        """'jespersen', 'ivanova': a family-name ending on a word that is not a verb/adjective."""
        return (
            self.surname_ending is not None and len(word) >= 6 and self.surname_ending.search(word) is not None
            and word not in self.ending_exceptions and word not in self.non_noun and word not in self.stop_words
        )

    def is_name_word(self, word: str) -> bool:
        """A known given name or surname, or a word with a family-name ending (lower-case input)."""
        return word in self.name_words or (word in self.dictionary and self.has_surname_ending(word))

    def is_given_name(self, word: str) -> bool:
        return word in self.given_names or word in self.ambiguous_given_names

    def is_non_noun(self, word: str) -> bool:
        """A verb, adjective or adverb, inflected or not ('stated', 'ran', 'quickly')."""
        if word in self.non_noun or word in self.stop_words:
            return True
        return any(stem in self.non_noun for _, stem in _stems(word))

    def is_common(self, word: str) -> bool:
        """True for an ordinary English word (lower-case input); names are never common."""
        if word.endswith(("'s", "’s")) and len(word) > 4:
            word = word[:-2]  # "montez's" is as common as "montez"
        if word in self.name_words:
            return False
        if word in self.stop_words:
            return True
        if word in self.dictionary:
            return not self.has_surname_ending(word)
        for suffix, stem in _stems(word):
            if stem in self.dictionary and stem not in self.name_words:
                return True
            if suffix in ("ing", "ed", "er", "est") and len(stem) >= 4 and stem[-1] == stem[-2]:
                if stem[:-1] in self.dictionary:  # stopped -> stop
                    return True
        return False

    def is_stop_or_title(self, word: str) -> bool:
        return word in self.stop_words or word in self.titles

    def public_mask(self, text: str, skeleton: Skeleton | None = None) -> bytearray:
        """1 for every character of ``text`` inside a public phrase, else 0."""
        mask = bytearray(len(text))
        for start, end, _ in self.allow_matcher.find(skeleton or Skeleton.build(text)):
            mask[start:end] = b"\x01" * (end - start)
        return mask


def _lower(words: Iterable[str]) -> frozenset[str]:
    return frozenset(w.lower().rstrip(".") for w in words)


def _read(rules_dir: Path, name: str, model: type[Model]) -> Model:
    return load_rule_file(model, rules_dir / name)


def load_lexicon(
    rules_dir: Path,
    *,
    english_words: Iterable[str],
    stop_words: Iterable[str],
    non_noun_words: Iterable[str] = (),
    noun_words: Iterable[str] = (),
) -> Lexicon:
    """Read and validate the four word files, then build the lexicon."""
    lexicon_file = _read(rules_dir, "lexicon.yaml", LexiconFile)
    allow_file = _read(rules_dir, "allow_list.yaml", AllowListFile)
    names_file = _read(rules_dir, "names.yaml", NamesFile)
    address_file = _read(rules_dir, "addresses.yaml", AddressesFile)

    phrases = street_phrases(allow_file)
    for section in ("neighbourhoods", "districts", "agencies", "police_terms", "vehicles",
                    "colours", "calendar", "other"):
        phrases.extend(getattr(allow_file, section))
    allow_words = frozenset(p.lower() for p in phrases if " " not in p)
    stops = frozenset(w.lower() for w in stop_words)
    jargon = _lower(lexicon_file.common_words)
    titles = _lower(lexicon_file.titles)
    acronyms = _lower(lexicon_file.acronyms)
    # A name list can never make a stop word, title, acronym or public word a name.
    never_names = stops | titles | acronyms | allow_words
    given = _lower(names_file.given_names) - never_names - jargon
    names = (_lower(lexicon_file.name_words) | given | (_lower(names_file.surnames) - jargon)) - never_names
    dictionary = frozenset(w.lower() for w in english_words) | jargon
    endings = sorted(_lower(names_file.surname_endings), key=len, reverse=True)
    return Lexicon(
        dictionary=dictionary,
        stop_words=stops,
        name_words=names,
        acronyms=acronyms,
        titles=titles,
        allow_words=allow_words,
        # "West", "Guy" can be half of a name (next to one, neighbours.py); never on their own
        jargon=jargon - names - _lower(names_file.word_surnames) - _lower(names_file.ambiguous_given_names),
        allow_matcher=PhraseMatcher((p, "public") for p in phrases),
        streets=tuple(street_base_names(allow_file)),
        place_words=_lower(lexicon_file.place_words),
        given_names=given,
        ambiguous_given_names=(_lower(names_file.ambiguous_given_names) | _lower(names_file.given_names)) - given - titles,
        particles=_lower(names_file.particles),
        name_suffixes=_lower(names_file.suffixes),
        non_noun=frozenset(w.lower() for w in non_noun_words),
        nouns=frozenset(w.lower() for w in noun_words),
        surname_ending=re.compile("(?:" + "|".join(map(re.escape, endings)) + ")$") if endings else None,
        ending_exceptions=_lower(names_file.ending_exceptions),
        address_words={
            key: tuple(sorted(_lower(getattr(address_file, key)), key=len, reverse=True))
            for key in ("street_types_after", "street_types_before", "street_types_foreign", "street_type_endings")
        },
        unit_words=_lower(address_file.unit_words),
        country_matcher=PhraseMatcher((c, "country") for c in address_file.countries),
        calendar_words=_lower(allow_file.calendar),
        word_surnames=_lower(names_file.word_surnames),
    )
