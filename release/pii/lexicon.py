"""Word knowledge: what is common English, what is a name, what is public.

Built from ``lexicon.yaml`` and ``allow_list.yaml`` plus the English vocabulary the
engine passes in (the spaCy model's lemma index and stop words; this module never
imports spaCy). It answers three questions for the detectors: is a word ordinary
English (case restoration, the uncommon-word layer), is a word a title that is never
part of a name, and which characters of a text are covered by public phrases
(neighbourhoods, street names without a house number, districts, agencies, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from release.pii.rulefiles import read_yaml, validate
from release.pii.skeleton import PhraseMatcher, Skeleton


class LexiconFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    acronyms: list[str] = Field(default_factory=list)
    titles: list[str] = Field(default_factory=list)
    common_words: list[str] = Field(default_factory=list)
    name_words: list[str] = Field(default_factory=list)
    place_words: list[str] = Field(default_factory=list)


class AllowListFile(BaseModel):
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


_SUFFIXES_TO_STRIP = (
    ("ies", "y"), ("ied", "y"), ("ves", "f"), ("ing", ""), ("ing", "e"), ("ed", ""),
    ("ed", "e"), ("es", ""), ("s", ""), ("ly", ""), ("er", ""), ("er", "e"), ("est", ""),
    ("'s", ""), ("s'", ""), ("'d", ""), ("n't", ""), ("'ll", ""), ("'re", ""), ("'ve", ""),
)


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

    def is_common(self, word: str) -> bool:
        """True for an ordinary English word (lower-case input); names are never common."""
        if word in self.name_words:
            return False
        if word in self.stop_words or word in self.dictionary:
            return True
        for suffix, replacement in _SUFFIXES_TO_STRIP:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                stem = word[: len(word) - len(suffix)] + replacement
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


def load_lexicon(
    rules_dir: Path,
    *,
    english_words: Iterable[str],
    stop_words: Iterable[str],
) -> Lexicon:
    """Read and validate the two word files, then build the lexicon."""
    lexicon_path = rules_dir / "lexicon.yaml"
    allow_path = rules_dir / "allow_list.yaml"
    lexicon_file = validate(LexiconFile, read_yaml(lexicon_path) or {}, lexicon_path)
    allow_file = validate(AllowListFile, read_yaml(allow_path) or {}, allow_path)

    phrases = street_phrases(allow_file)
    for section in ("neighbourhoods", "districts", "agencies", "police_terms", "vehicles",
                    "colours", "calendar", "other"):
        phrases.extend(getattr(allow_file, section))
    allow_words = frozenset(p.lower() for p in phrases if " " not in p)
    names = frozenset(w.lower() for w in lexicon_file.name_words)
    dictionary = frozenset(w.lower() for w in english_words) | frozenset(
        w.lower() for w in lexicon_file.common_words
    )
    return Lexicon(
        dictionary=dictionary,
        stop_words=frozenset(w.lower() for w in stop_words),
        name_words=names,
        acronyms=frozenset(w.lower() for w in lexicon_file.acronyms),
        titles=frozenset(w.lower().rstrip(".") for w in lexicon_file.titles),
        allow_words=allow_words,
        jargon=frozenset(w.lower() for w in lexicon_file.common_words) - names,
        allow_matcher=PhraseMatcher((p, "public") for p in phrases),
        streets=tuple(street_base_names(allow_file)),
        place_words=frozenset(w.lower() for w in lexicon_file.place_words),
    )
