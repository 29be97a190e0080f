"""Separator-blind phrase matching with one Aho-Corasick automaton.

A text's *skeleton* is its letters and digits, lower-cased, with everything else
removed, remembering where each word ("piece") starts and ends. A phrase matches when
its own skeleton occurs in the text's skeleton starting at a piece start and ending at
a piece end. So "617-555-0199", "(617) 555 0199" and "6175550199" all match one phone
term, "Smith, John" matches "smith john", and "Blue  Hill Ave." matches "blue hill ave",
while "Johnson" never matches "john" (word boundaries are kept). pyahocorasick scans a
text once for every phrase, instead of a loop of regexes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

import ahocorasick

from release.pii.normalize import normalize

_PIECE = re.compile(r"[^\W_]+")

Payload = TypeVar("Payload")


@functools.lru_cache(maxsize=65536)
def skeleton_of(phrase: str) -> str:
    """Letters and digits of the folded ``phrase``, lower-cased, nothing else."""
    folded = phrase if phrase.isascii() else normalize(phrase).text
    return "".join(piece.lower() for piece in _PIECE.findall(folded))


@dataclass(frozen=True)
class Skeleton:
    """The skeleton of one text plus the maps from skeleton to text offsets."""

    text: str
    skeleton: str
    start_of: dict[int, int]  # skeleton index of a piece start -> text offset
    end_of: dict[int, int]  # skeleton index just past a piece -> text offset

    @classmethod
    def build(cls, text: str) -> Skeleton:
        parts: list[str] = []
        start_of: dict[int, int] = {}
        end_of: dict[int, int] = {}
        position = 0
        for match in _PIECE.finditer(text):
            piece = match.group(0).lower()
            start_of[position] = match.start()
            parts.append(piece)
            position += len(piece)
            end_of[position] = match.end()
        return cls(text=text, skeleton="".join(parts), start_of=start_of, end_of=end_of)


class PhraseMatcher(Generic[Payload]):
    """An automaton over phrase skeletons; each phrase carries payloads."""

    def __init__(self, phrases: Iterable[tuple[str, Payload]], *, min_length: int = 1) -> None:
        self._automaton = ahocorasick.Automaton()
        table: dict[str, list[Payload]] = {}
        for phrase, payload in phrases:
            key = skeleton_of(phrase)
            if len(key) < min_length:
                continue
            table.setdefault(key, []).append(payload)
        for key, payloads in table.items():
            self._automaton.add_word(key, (len(key), tuple(payloads)))
        self.size = len(table)
        if self.size:
            self._automaton.make_automaton()

    def find(self, skeleton: Skeleton) -> Iterator[tuple[int, int, tuple[Payload, ...]]]:
        """Yield (text start, text end, payloads) for every whole-word match."""
        if not self.size or not skeleton.skeleton:
            return
        for last, (length, payloads) in self._automaton.iter(skeleton.skeleton):
            end = last + 1
            begin = end - length
            if begin in skeleton.start_of and end in skeleton.end_of:
                yield skeleton.start_of[begin], skeleton.end_of[end], payloads
