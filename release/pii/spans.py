"""The shared shapes of detection: the views of one text and a candidate span.

Every detector works on ``TextViews`` and returns ``Candidate`` spans in the offsets of
the folded text (``views.base.text``); the engine maps them to the original string only
once, when it builds placeholders. ``identity`` says which value a span stands for, so
the same person gets the same placeholder number everywhere in a record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from release.pii.lexicon import Lexicon
from release.pii.normalize import (
    PLACEHOLDER,
    NormalizedText,
    collapse_spaced_digits,
    letter_case_mode,
    letter_o_as_zero,
    normalize,
    restore_case,
)
from release.pii.skeleton import Skeleton

# PLACEHOLDER: the shape of a placeholder ("[PERSON 2]"). Only the spans the caller says this
# engine wrote are protected (``TextViews.build``'s ``placeholders``); a look-alike in raw text
# ("[BRUXMEYER 1]") is ordinary text.
__all__ = ["PLACEHOLDER", "WORD", "Candidate", "Span", "TextViews"]
Span = tuple[int, int]
WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# On ASCII text Python's re matches the same in ASCII mode as in its default Unicode mode,
# except that Unicode \s also takes these four separators (see ``recognizers.ascii_twin``).
_UNICODE_ONLY_SPACES = re.compile(r"[\x1c-\x1f]")


@dataclass(frozen=True)
class Candidate:
    """One detector's span in the folded text's offsets; ``identity`` says which value it stands for, so one
    value keeps one placeholder number."""

    start: int  # offsets in views.base.text
    end: int
    entity_type: str  # placeholder label: PERSON, ADDRESS, PHONE, ...
    detector: str  # ner | regex | presidio | record_term | roster | rare_word | propagation
    score: float
    rule_id: str
    identity: str = ""  # record-term identity ("term:PERSON:0"); empty: derive from value


@dataclass(frozen=True)
class TextViews:
    """One text, folded (``base``), with spaced digits collapsed, and case-restored."""

    base: NormalizedText
    digits: NormalizedText  # original=base.text; spaced digits collapsed, O in digit runs read as 0
    restored: str  # same length and offsets as base.text
    skeleton: Skeleton  # of base.text
    public: bytearray  # 1 where base.text is inside an allow-listed phrase
    placeholders: bytearray  # 1 where base.text holds a placeholder this engine wrote earlier
    mode: str  # letter case of the text: upper | lower | mixed
    lower: str  # base.text lower-cased, for cheap "does the text mention X" checks
    digits_lower: str
    plain_ascii: bool = False  # every view is ASCII without \x1c-\x1f: re.ASCII matches it the same

    @classmethod
    def build(cls, text: str, lexicon: Lexicon, placeholders: Iterable[Span] = ()) -> TextViews:
        """``placeholders``: spans of ``text`` (original offsets) holding our own placeholders."""
        base = normalize(text)
        skeleton = Skeleton.build(base.text)
        digits = letter_o_as_zero(collapse_spaced_digits(base))
        marks = bytearray(len(base.text))
        for original_start, original_end in placeholders:
            start, end = base.from_original(max(original_start, 0), min(original_end, len(text)))
            if end <= start:
                continue
            marks[start:end] = b"\x01" * (end - start)
        restored = restore_case(base.text, lexicon.is_common, lexicon.acronyms)
        return cls(
            base=base,
            digits=digits,
            restored=restored,
            skeleton=skeleton,
            public=lexicon.public_mask(base.text, skeleton),
            placeholders=marks,
            mode=letter_case_mode(base.text),
            lower=base.text.lower(),
            digits_lower=digits.text.lower(),
            plain_ascii=all(view.isascii() and not _UNICODE_ONLY_SPACES.search(view)
                            for view in (base.text, digits.text, restored)),
        )

    def words(self, start: int, end: int) -> list[tuple[int, int]]:
        """Word spans (letters only) inside [start, end) of the base text."""
        return [
            (start + m.start(), start + m.end())
            for m in WORD.finditer(self.base.text[start:end])
        ]

    def is_public(self, start: int, end: int) -> bool:
        """True when every character of the span lies inside an allow-listed phrase."""
        return all(self.public[start:end]) if end > start else True

    def inside_public_phrase(self, start: int, end: int) -> bool:
        """The span is part of a longer allow-listed phrase ("Hill" in "Savin Hill Ave"), not a public word alone."""
        if not self.is_public(start, end):
            return False
        return (start > 0 and bool(self.public[start - 1])) or (end < len(self.public) and bool(self.public[end]))

    def touches_placeholder(self, start: int, end: int) -> bool:
        return any(self.placeholders[start:end])
