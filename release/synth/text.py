"""Narrative text with exact ground truth: templates whose slots carry PII, rendered with a
case style and optional evasions, returning the text and the offsets of every PII value.

Why pieces and not regexes afterwards: the generator knows what it planted, so offsets are
computed while the text is joined, after every transformation (upper-casing, homoglyphs,
zero-width characters) has been applied to each piece. ``text[start:end] == value`` holds
by construction.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Literal

CaseStyle = Literal["as_written", "upper", "lower"]

_FORMATTER = string.Formatter()
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060")
HOMOGLYPHS = {
    "a": "\u0430", "e": "\u0435", "o": "\u043e", "p": "\u0440", "c": "\u0441",
    "A": "\u0410", "E": "\u0415", "O": "\u041e", "P": "\u0420", "C": "\u0421",
}
FULLWIDTH_DIGITS = str.maketrans("0123456789", "".join(chr(0xFF10 + d) for d in range(10)))
ARABIC_INDIC_DIGITS = str.maketrans("0123456789", "".join(chr(0x0660 + d) for d in range(10)))
_NAME_LIKE = frozenset({"PERSON", "NICKNAME", "EMAIL_ADDRESS", "SOCIAL_HANDLE"})


@dataclass(frozen=True)
class Pii:
    """A PII value placed in a template slot, before rendering."""

    value: str
    entity_type: str
    source: str


Phrase = tuple["str | Pii", ...]


@dataclass(frozen=True)
class Span:
    """A rendered PII value: offsets into the final text and the value as it appears."""

    start: int
    end: int
    entity_type: str
    value: str
    source: str


class Narrative:
    """An officer's narrative under construction: literal text and PII pieces, in order."""

    def __init__(self) -> None:
        self._parts: list[str | Pii] = []

    def add(self, template: str, **slots: str | Pii | Phrase) -> None:
        """Append ``template`` with ``{slot}`` fields filled from ``slots``.

        A slot holds literal text, one PII value, or a phrase (a tuple of both).
        """
        for literal, field, _spec, _conversion in _FORMATTER.parse(template):
            if literal:
                self._parts.append(literal)
            if field is not None:
                value = slots[field]
                pieces = value if isinstance(value, tuple) else (value,)
                self._parts.extend(piece for piece in pieces if isinstance(piece, Pii) or piece)

    def ends_with(self, suffix: str | tuple[str, ...]) -> bool:
        last = self._parts[-1] if self._parts else ""
        return isinstance(last, str) and last.endswith(suffix)

    def __len__(self) -> int:
        return sum(len(part.value if isinstance(part, Pii) else part) for part in self._parts)

    def render(
        self,
        case: CaseStyle = "as_written",
        evasion_rng: random.Random | None = None,
        evasion_rate: float = 0.0,
    ) -> tuple[str, list[Span]]:
        pieces: list[str] = []
        spans: list[Span] = []
        offset = 0
        for part in self._parts:
            if isinstance(part, Pii):
                surface = part.value
                if evasion_rng is not None and part.source != "officer" and evasion_rng.random() < evasion_rate:
                    surface = evade(evasion_rng, surface, part.entity_type)
                surface = _apply_case(surface, case)
                spans.append(Span(offset, offset + len(surface), part.entity_type, surface, part.source))
            else:
                surface = _apply_case(part, case)
            pieces.append(surface)
            offset += len(surface)
        return "".join(pieces), spans


def _apply_case(text: str, case: CaseStyle) -> str:
    if case == "upper":
        return text.upper()
    if case == "lower":
        return text.lower()
    return text


def evade(rng: random.Random, value: str, entity_type: str) -> str:
    """Rewrite one value the way someone hiding it from a detector might."""
    has_digits = any(ch.isdigit() for ch in value)
    has_homoglyph = any(ch in HOMOGLYPHS for ch in value)
    letters = sum(ch.isalpha() for ch in value)
    options: list[str] = []
    if entity_type in _NAME_LIKE or not has_digits:
        if letters >= 2:
            options.append("zero_width")
        if has_homoglyph:
            options.append("homoglyph")
    else:
        options.extend(("fullwidth", "arabic_indic", "spaced"))
        if has_homoglyph and entity_type in {"LICENSE_PLATE", "VIN", "STREET_ADDRESS", "US_DRIVER_LICENSE"}:
            options.append("homoglyph")
    if not options:
        return value
    return _EVASIONS[rng.choice(options)](rng, value, entity_type)


def _zero_width(rng: random.Random, value: str, _entity_type: str) -> str:
    gaps = [i for i in range(1, len(value)) if value[i - 1].isalpha() and value[i].isalpha()]
    if not gaps:
        return value
    chosen = sorted(rng.sample(gaps, min(len(gaps), rng.randint(1, 2))))
    out: list[str] = []
    previous = 0
    for gap in chosen:
        out.append(value[previous:gap])
        out.append(rng.choice(ZERO_WIDTH))
        previous = gap
    out.append(value[previous:])
    return "".join(out)


def _homoglyph(rng: random.Random, value: str, _entity_type: str) -> str:
    positions = [i for i, ch in enumerate(value) if ch in HOMOGLYPHS]
    chosen = set(rng.sample(positions, min(len(positions), rng.randint(1, 3))))
    return "".join(HOMOGLYPHS[ch] if i in chosen else ch for i, ch in enumerate(value))


def _fullwidth(_rng: random.Random, value: str, _entity_type: str) -> str:
    return value.translate(FULLWIDTH_DIGITS)


def _arabic_indic(_rng: random.Random, value: str, _entity_type: str) -> str:
    return value.translate(ARABIC_INDIC_DIGITS)


def _spaced(_rng: random.Random, value: str, entity_type: str) -> str:
    if entity_type in {"PHONE_NUMBER", "US_SSN"}:
        return " ".join(ch for ch in value if ch.isdigit())
    return " ".join(ch for ch in value if not ch.isspace())


_EVASIONS = {
    "zero_width": _zero_width,
    "homoglyph": _homoglyph,
    "fullwidth": _fullwidth,
    "arabic_indic": _arabic_indic,
    "spaced": _spaced,
}
