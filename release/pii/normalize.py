"""Unicode-safe views of a narrative, each with a map back to the original offsets.

Detection never runs on the raw string: zero-width characters, bidi controls,
full-width or Arabic-Indic digits, Cyrillic/Greek look-alike letters and accents are
all ways a value slips past a regex or a name list. ``normalize`` builds a folded copy
(NFKC, controls removed, confusables mapped to Latin, digits to ASCII, accents dropped)
whose every character remembers which original character it came from, so a span found
on the copy redacts exactly the right characters of the original. ``collapse_spaced_digits``
is a second view for number recognizers ("6 1 7 5 5 5 1 2 1 2" -> "6175551212", and with
``letter_o_as_zero`` "617-555-O199" -> "617-555-0199"), and
``restore_case`` gives NER a same-length copy of ALL-CAPS or lower-case text with
names title-cased, because the small spaCy model misses most names in upper case.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

# Cyrillic and Greek letters that render like Latin ones (Unicode confusables, the
# subset that matters for names, plates and numbers).
_CONFUSABLES: dict[str, str] = {
    # Cyrillic lower / upper
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o",
    "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j",
    "ѕ": "s", "ԁ": "d", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ɡ": "g", "ү": "y",
    "А": "A", "В": "B", "Е": "E", "Ё": "E", "К": "K", "М": "M", "Н": "H", "О": "O",
    "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "І": "I", "Ї": "I", "Ј": "J",
    "Ѕ": "S", "Ԁ": "D", "Һ": "H", "Ӏ": "I", "Ԛ": "Q", "Ԝ": "W", "Ү": "Y",
    # Greek lower / upper
    "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
    # Latin look-alikes outside ASCII that NFKC keeps
    "ı": "i", "ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "đ": "d", "Đ": "D", "ß": "ss",
    "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "Th",
    # quotes and dashes that NFKC leaves alone
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
}

_LINE_BREAKS = {"\u2028", "\u2029", "\x85"}


@dataclass(frozen=True)
class NormalizedText:
    """A folded copy of ``original``; ``source[i]`` is the original index of ``text[i]``."""

    original: str
    text: str
    source: tuple[int, ...] | None  # None means identity (the common ASCII case)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of ``text`` to the original characters it came from."""
        if self.source is None:
            return start, end
        if start >= end:
            pos = self.source[start] if start < len(self.source) else len(self.original)
            return pos, pos
        return self.source[start], self.source[end - 1] + 1

    def from_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of ``original`` to the folded characters made from it."""
        if self.source is None:
            return start, end
        return bisect.bisect_left(self.source, start), bisect.bisect_left(self.source, end)


def _fold_char(ch: str) -> str:
    """Fold one original character to zero or more ASCII-leaning characters."""
    if ch in _CONFUSABLES:
        return _CONFUSABLES[ch]
    if ch in _LINE_BREAKS:
        return "\n"
    category = unicodedata.category(ch)
    if category == "Cf" or category == "Mn" or category == "Me":
        return ""  # zero-width, bidi controls, soft hyphen, BOM, combining marks
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    if category == "Zs":
        return " "
    decomposed = unicodedata.normalize("NFKD", ch)
    kept = "".join(c for c in decomposed if unicodedata.category(c) not in ("Mn", "Me", "Cf"))
    folded = unicodedata.normalize("NFKC", kept)
    return "".join(_CONFUSABLES.get(c, c) for c in folded)


_FOLD_CACHE: dict[str, str] = {}


def normalize(text: str) -> NormalizedText:
    """Return the folded detection copy of ``text`` with its offset map."""
    if text.isascii():
        return NormalizedText(original=text, text=text, source=None)
    out: list[str] = []
    source: list[int] = []
    for index, ch in enumerate(text):
        if ch.isascii():
            out.append(ch)
            source.append(index)
            continue
        folded = _FOLD_CACHE.get(ch)
        if folded is None:
            folded = _fold_char(ch)
            _FOLD_CACHE[ch] = folded
        for piece in folded:
            out.append(piece)
            source.append(index)
    return NormalizedText(original=text, text="".join(out), source=tuple(source))


# Letter-spaced evasions: four or more single characters separated by single spaces
# ("3 / 2 9 / 1 9 9 2", "A p r i l"), or two or more single spaced digits ("2 8 yoa").
_SPACED_DIGITS = re.compile(r"(?<!\S)\S(?: \S(?![^\W_])){3,}|(?<![\w])\d(?:[ \t]\d(?![\w])){1,}")


def collapse_spaced_digits(view: NormalizedText) -> NormalizedText:
    """Remove the spaces inside letter-spaced runs ("6 1 7 5" -> "6175", "2 8 yoa" -> "28 yoa").

    The result's ``original`` is ``view.text``: its offsets map back to ``view``'s
    folded text, and from there ``view.to_original`` reaches the raw string.
    """
    if not _SPACED_DIGITS.search(view.text):
        return NormalizedText(original=view.text, text=view.text, source=None)
    out: list[str] = []
    source: list[int] = []
    last = 0
    for match in _SPACED_DIGITS.finditer(view.text):
        out.append(view.text[last : match.start()])
        source.extend(range(last, match.start()))
        for i in range(match.start(), match.end()):
            if not view.text[i].isspace():
                out.append(view.text[i])
                source.append(i)
        last = match.end()
    out.append(view.text[last:])
    source.extend(range(last, len(view.text)))
    return NormalizedText(original=view.text, text="".join(out), source=tuple(source))


# "617-555-O199": a letter O typed for a zero inside a run of digits and separators.
_DIGIT_RUN = re.compile(r"(?<![A-Za-z])[\dOo](?:[\dOo]|[ .\-/()](?=[\dOo(])){5,}(?![A-Za-z])")


def letter_o_as_zero(view: NormalizedText) -> NormalizedText:
    """Same length and offsets as ``view``, with O/o read as 0 in runs of five or more digits."""
    if "o" not in view.text and "O" not in view.text:
        return view
    text = view.text
    pieces: list[str] = []
    last = 0
    for match in _DIGIT_RUN.finditer(text):
        run = match.group(0)
        if ("o" in run or "O" in run) and sum(ch.isdigit() for ch in run) >= 5:
            pieces += [text[last : match.start()], run.replace("O", "0").replace("o", "0")]
            last = match.end()
    if not pieces:
        return view
    pieces.append(text[last:])
    return NormalizedText(original=view.original, text="".join(pieces), source=view.source)


_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
_SENTENCE_MARKS = frozenset('.!?\n:;"(')


def at_sentence_start(text: str, index: int) -> bool:
    """True when only spaces separate ``index`` from a sentence mark or the start."""
    i = index - 1
    while i >= 0 and text[i] in " \t\r":
        i -= 1
    return i < 0 or text[i] in _SENTENCE_MARKS


# A placeholder this engine wrote ("[PERSON 2]"): not the writer's letter case.
PLACEHOLDER = re.compile(r"\[([A-Z]+) (\d+)\]")
_UPPER = re.compile(r"[^\W\d_a-z]")  # letters that are not lower-case ASCII (approximation)
_LOWER = re.compile(r"[a-z]")


def letter_case_mode(text: str) -> str:
    """'upper', 'lower' or 'mixed', from the share of lower-case letters. Placeholders do
    not count, so a redacted lower-case narrative is still read as lower-case."""
    text = PLACEHOLDER.sub(" ", text)
    upper = len(text) - len(_UPPER.sub("", text))
    lower = len(text) - len(_LOWER.sub("", text))
    letters = upper + lower
    if letters == 0:
        return "mixed"
    if lower <= 0.15 * letters:
        return "upper"
    if upper <= 0.01 * letters + 1:
        return "lower"
    return "mixed"


def restore_case(
    text: str,
    is_common: Callable[[str], bool],
    acronyms: frozenset[str] = frozenset(),
) -> str:
    """Same-length copy of ``text`` with plausible English capitalisation.

    In ALL-CAPS or all-lower text every word is re-cased: acronyms upper, common
    English words lower (capitalised at a sentence start), anything else title-cased
    so the NER model sees it as a possible name. In mixed-case text only ALL-CAPS words
    and lower-case uncommon words are touched. Offsets stay valid because only case
    changes; a word whose case change would alter its length is left alone.
    """
    mode = letter_case_mode(text)

    def recase(match: re.Match[str]) -> str:
        word = match.group(0)
        if mode == "mixed":
            all_caps = word.isupper() and len(word) >= 2
            all_lower = word.islower()
            if not (all_caps or all_lower):
                return word
        low = word.lower()
        if low in acronyms:
            new = word.upper()
        elif is_common(low):
            if mode == "mixed" and word.islower():
                return word
            new = low.capitalize() if at_sentence_start(text, match.start()) else low
        else:
            new = "'".join(part.capitalize() for part in low.split("'"))
        return new if len(new) == len(word) else word

    return _WORD.sub(recase, text)
