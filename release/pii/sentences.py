"""Sentence windows for NER, and the cache that keeps each distinct window tagged once.

A narrative is tagged sentence by sentence and each distinct sentence once: a sentence
repeated across reports costs one pass, and the second scan of a redacted narrative re-tags
only the sentences the redaction changed (the rest are the same strings as in the first
pass, already in the cache). Sentence-level NER is common practice; it is not identical to
whole-text NER, and ``benchmarks/bench_sentence_ner.py`` measures by how much:

- entities: sentences tagged bare agree exactly with whole-text tagging in 54.7% of the
  bundled sample's narratives and 62.1% of the City's 2020 narratives (names at sentence
  starts change label or extent); with four words of real context either side, 99.1% and
  99.5%;
- what the engine finds with every detector together: of 53,821 detections on the sample,
  128 only with sentences and 119 only whole; of 31,759 on the City's narratives, 195 and
  233 (0.6-0.7% each way); on the labelled synthetic export the leak rate and the words
  kept are the same (``benchmarks/bench_leak.py --whole-text-ner`` for the A/B run);
- cost, both passes over 1,000 narratives: 131k words tagged bare, about 165k whole, 205k
  with four words of context.

So the engine tags bare sentences (``CONTEXT_WORDS = 0``); ``windows`` can add context, and
then an entity is kept when it overlaps its window's sentence, so a name across a cut is
found whole.

Cuts are made only where a sentence clearly ends: after ``.``/``!``/``?`` closing a word
of three or more lower-case letters ("Street.", "area.") or one of our placeholders
("[PERSON 1].") and before a capital, digit, quote or placeholder, or at a blank line;
never after "St.", "Ave.", "Mr.", "Det." or an initial. The text given here is the
case-restored copy, where ALL-CAPS and lower-case narratives have sentence case. This module has no
spaCy import; the engine runs the model on the windows.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Sequence

# (label, start, end) of one entity, offsets relative to the window it was tagged in.
Entity = tuple[str, int, int]
# A window's text and the span of its sentence inside it: the cache key.
WindowKey = tuple[str, int, int]

CONTEXT_WORDS = 0  # the measured trade-off is in the module docstring
# A placeholder ending a sentence ("... with [PERSON 1]. He ...") or starting one cuts as the
# name it replaced did, so the second scan re-tags the sentence it changed and finds the
# unchanged sentences around it in the cache (measured: 7% less second-scan time on the sample).
_BOUNDARY = re.compile(r"(?:(?<=[a-z]{3}[.!?])|(?<=\d\][.!?]))[ \t]+(?=[A-Z0-9\"'(\[])|[ \t]*\n[ \t]*\n\s*")
_WORD = re.compile(r"\S+")


def pieces(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) for each sentence-like piece; the whitespace between them is left out."""
    found: list[tuple[int, str]] = []
    start = 0
    for cut in _BOUNDARY.finditer(text):
        if text[start : cut.start()].strip():
            found.append((start, text[start : cut.start()]))
        start = cut.end()
    if text[start:].strip():
        found.append((start, text[start:]))
    return found


def windows(text: str, context_words: int = CONTEXT_WORDS) -> list[tuple[int, WindowKey]]:
    """(offset of the window in ``text``, (window, sentence start, sentence end)) per sentence."""
    starts, ends = [], []
    for word in _WORD.finditer(text):
        starts.append(word.start())
        ends.append(word.end())
    found = []
    for offset, piece in pieces(text):
        end = offset + len(piece)
        first = bisect.bisect_left(starts, offset)  # the sentence's first word
        after = bisect.bisect_left(starts, end)  # the first word after it
        left = starts[max(first - context_words, 0)] if first > 0 else offset
        right = ends[min(after + context_words, len(ends)) - 1] if after < len(starts) else end
        found.append((left, (text[left:right], offset - left, end - left)))
    return found


class EntityCache:
    """Entities per distinct window. ``fresh`` holds what was added since the last ``drain``,
    so forked workers can send their additions back to the parent process. ``context_words``
    and ``whole_text`` (tag each text in one piece) exist for the measurements above."""

    def __init__(self, context_words: int = CONTEXT_WORDS, whole_text: bool = False) -> None:
        self.context_words = context_words
        self.whole_text = whole_text
        self._known: dict[WindowKey, tuple[Entity, ...]] = {}
        self._fresh: dict[WindowKey, tuple[Entity, ...]] = {}

    def __len__(self) -> int:
        return len(self._known)

    def clear(self) -> None:
        """Forget every window: a memo, so nothing tagged later changes; what a run of many years
        calls between years, so the memo holds one year's windows, not every year's."""
        self._known.clear()
        self._fresh.clear()

    def entities(self, texts: Sequence[str],
                 tag: Callable[[list[str]], Iterable[tuple[Entity, ...]]]) -> list[list[Entity]]:
        """Entities of each text in its own offsets; ``tag`` runs the model on new windows only."""
        split = [self._windows(text) for text in texts]
        missing = list(dict.fromkeys(key for parts in split for _, key in parts if key not in self._known))
        if missing:
            texts_to_tag = list(dict.fromkeys(window for window, _, _ in missing))
            tagged = dict(zip(texts_to_tag, tag(texts_to_tag), strict=True))
            for key in missing:
                window, start, end = key
                overlapping = tuple(e for e in tagged[window] if e[1] < end and e[2] > start)
                self._known[key] = self._fresh[key] = overlapping
        return [
            list(dict.fromkeys((label, left + start, left + end) for left, key in parts
                               for label, start, end in self._known[key]))
            for parts in split
        ]

    def _windows(self, text: str) -> list[tuple[int, WindowKey]]:
        if self.whole_text:
            return [(0, (text, 0, len(text)))] if text.strip() else []
        return windows(text, self.context_words)

    def drain(self) -> dict[WindowKey, tuple[Entity, ...]]:
        fresh, self._fresh = self._fresh, {}
        return fresh

    def merge(self, entries: dict[WindowKey, tuple[Entity, ...]]) -> None:
        self._known.update(entries)
