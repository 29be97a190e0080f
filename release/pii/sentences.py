"""Sentence pieces for NER, and the cache that keeps each distinct piece analysed once.

The NER model's view of a token reaches only a few tokens either side, so a narrative can
be tagged sentence by sentence with the same entities as in one pass. Cutting it up buys
two things: a sentence repeated across reports is tagged once, and the second scan of a
redacted narrative re-tags only the sentences the redaction changed (the rest are the
same strings as in the first pass, already in the cache).

Cuts are made only where a sentence clearly ends: after ``.``/``!``/``?`` closing a word
of three or more lower-case letters ("Street.", "area.") and before a capital, digit or
quote, or at a blank line. Never after "St.", "Ave.", "Mr.", "Det." or an initial, so
"Mr. Tyrone Davis" or "45 Blue Hill Ave. Apt 3" stay in one piece. The text given here is
the case-restored copy, where ALL-CAPS and lower-case narratives have sentence case.
This module has no spaCy import; the engine runs the model on the pieces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence

# (label, start, end) of one entity, offsets relative to its piece.
Entity = tuple[str, int, int]

_BOUNDARY = re.compile(r"(?<=[a-z]{3}[.!?])[ \t]+(?=[A-Z0-9\"'(])|[ \t]*\n[ \t]*\n\s*")


def pieces(text: str) -> list[tuple[int, str]]:
    """(offset, piece) for each sentence-like piece; the whitespace between pieces is left out."""
    found: list[tuple[int, str]] = []
    start = 0
    for cut in _BOUNDARY.finditer(text):
        if text[start : cut.start()].strip():
            found.append((start, text[start : cut.start()]))
        start = cut.end()
    if text[start:].strip():
        found.append((start, text[start:]))
    return found


class EntityCache:
    """Entities per distinct piece. ``fresh`` holds what was added since the last ``drain``,
    so forked workers can send their additions back to the parent process."""

    def __init__(self) -> None:
        self._known: dict[str, tuple[Entity, ...]] = {}
        self._fresh: dict[str, tuple[Entity, ...]] = {}

    def __len__(self) -> int:
        return len(self._known)

    def entities(self, texts: Sequence[str],
                 tag: Callable[[list[str]], Iterable[tuple[Entity, ...]]]) -> list[list[Entity]]:
        """Entities of each text in its own offsets; ``tag`` runs the model on the new pieces only."""
        split = [pieces(text) for text in texts]
        missing = list(dict.fromkeys(p for parts in split for _, p in parts if p not in self._known))
        if missing:
            for piece, found in zip(missing, tag(missing), strict=True):
                self._known[piece] = self._fresh[piece] = tuple(found)
        return [
            [(label, offset + start, offset + end) for offset, p in parts for label, start, end in self._known[p]]
            for parts in split
        ]

    def drain(self) -> dict[str, tuple[Entity, ...]]:
        fresh, self._fresh = self._fresh, {}
        return fresh

    def merge(self, entries: dict[str, tuple[Entity, ...]]) -> None:
        self._known.update(entries)
