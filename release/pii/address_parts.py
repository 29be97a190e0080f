"""The parts an address is made of, for address-block completion.

``AddressParts`` classifies what stands at one position of a text: a unit ("Apt. 864",
"Suite 019", "#3"), a second street name ("Heron Point"), a compass word after the
street ("West"), a terminal that can end an address (postcode, region code, country or
region name, a missing-value marker such as "nan", "(Flemish)"), or a city word
(capitalised and not prose; an ordinary capitalised word only after a comma, at a line
start or right before a terminal). ``release.pii.addresses`` walks blocks with it.
"""

from __future__ import annotations

import functools
import re

from release.pii.lexicon import Lexicon
from release.pii.spans import TextViews

SEPARATOR = re.compile(r"[ \t]*(,)?[ \t]*")
_UNIT_WORD = re.compile(r"([^\W\d_]+)\.?[ \t]*(?:#|no\.?)?[ \t]*[A-Z0-9][A-Z0-9\-]{0,5}\b", re.IGNORECASE)
_HASH_UNIT = re.compile(r"#[ \t]*[A-Z0-9][A-Z0-9\-]{0,5}\b", re.IGNORECASE)
_POSTCODE = re.compile(
    r"(?:\d{3,6}(?:[ \-]\d{2,4})?(?:[ ][A-Z]{2})?"  # 12345, 12345-6789, 394 13, 53-320, 7412 SL
    r"|[A-Z]\d[A-Z][ ]?\d[A-Z]\d"  # B0J 2H0
    r"|[A-Z]{1,2}\d[A-Z\d]?[ ]?\d[A-Z]{2})"  # SW1A 1AA
    r"(?![\w\-/])"
)
_CODE = re.compile(r"[A-Z]{1,3}(?![\w\-/])")
_CODE_AND_ZIP = re.compile(r"[A-Z]{2,3}[ \t]+\d{5}(?:-\d{4})?(?![\w\-/])")  # "MA 02119" (MA is also an acronym)
_MISSING = re.compile(r"(?:nan|n/a|none|null)(?![\w/])", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")  # never a full stop: it may end the sentence
_PARENTHESIS = re.compile(r"\([^\W\d_]+\)")
CLEAN_END = re.compile(r"[ \t]*(?:[.?!;)\]\"']|$|\n)")
_PLACE_PARTICLES = frozenset({"de", "du", "des", "la", "le", "les", "del", "della", "di", "da", "do", "dos", "das",
                              "na", "nad", "pod", "u", "v", "z", "sur", "am", "im", "an", "bei", "upon", "y", "en",
                              "van", "von", "der", "den", "ten", "ter", "al", "el"})
_COMPASS = re.compile(r"(?:north|south|east|west|N|S|E|W|NE|NW|SE|SW)(?![\w\-/])", re.IGNORECASE)
_SHORT_NUMBER = re.compile(r"\d{1,2}(?=[ \t]*(?:$|\n|\d{3}))")  # ", 32" before a line end or a postcode


class AddressParts:
    """Classifies address parts in one text (country names found once, lazily)."""

    def __init__(self, views: TextViews, lexicon: Lexicon) -> None:
        self.views = views
        self.lexicon = lexicon
        self.text = views.base.text
        self._countries: dict[int, int] | None = None

    @property
    def countries(self) -> dict[int, int]:
        """Start -> end of every country or region name in the text (found once, lazily)."""
        if self._countries is None:
            matcher = self.lexicon.country_matcher
            found: dict[int, int] = {}
            if matcher is not None:
                for start, end, _ in matcher.find(self.views.skeleton):
                    found[start] = max(end, found.get(start, end))
            self._countries = found
        return self._countries

    def _part(self, at: int, limit: int, *, fresh: bool, words: int) -> tuple[str | None, int]:
        """Classify the address part starting at ``at``: unit, terminal, word, or None."""
        text = self.text
        unit = _UNIT_WORD.match(text, at, limit)
        if unit and unit.group(1).lower() in self.lexicon.unit_words and any(ch.isdigit() for ch in unit.group(0)):
            return "unit", unit.end()
        hashed = _HASH_UNIT.match(text, at, limit)
        if hashed:
            return "unit", hashed.end()
        street = self._street_name(at, limit)
        if street:
            return "unit", street  # a second street name on the line: "... 17 van Dorp Summit"
        if not fresh and words == 0:
            compass = _COMPASS.match(text, at, limit)
            if compass and CLEAN_END.match(text, compass.end()):
                return "unit", compass.end()  # "Quay Street West"
        terminal = self._terminal(at, limit, fresh=fresh, words=words)
        if terminal:
            return "terminal", terminal
        parenthesis = _PARENTHESIS.match(text, at, limit)
        if parenthesis and words:
            return "terminal", parenthesis.end()  # "Belgium (Flemish)"
        word = _WORD.match(text, at, limit)
        if word and self._place_word(word.start(), word.end(), fresh=fresh, words=words, limit=limit):
            return "word", word.end()
        return None, at

    def _terminal(self, at: int, limit: int, *, fresh: bool, words: int) -> int:
        """End of a postcode, region code, country or missing value at ``at`` (0 if none)."""
        text = self.text
        if at in self.countries and self.countries[at] <= limit:
            return self.countries[at]
        context = fresh or words > 0
        for pattern in (_POSTCODE, _MISSING):
            match = pattern.match(text, at, limit)
            if match and context:
                return match.end()
        if fresh:
            short = _SHORT_NUMBER.match(text, at, limit)
            if short:
                return short.end()
        code_zip = _CODE_AND_ZIP.match(text, at, limit)
        if code_zip and (context or self.views.mode == "mixed"):
            return code_zip.end()
        code = _CODE.match(text, at, limit)
        if code and self._code(code.group(0), fresh=fresh):
            return code.end()
        return 0

    def _street_name(self, at: int, limit: int) -> int:
        """End of a capitalised street name ending in a street type at ``at`` (0 if none)."""
        if self.views.mode != "mixed" or not (self.text[at].isupper() or self.text[at:at + 4].rstrip().lower()
                                              in _PLACE_PARTICLES):
            return 0
        match = _street_name_pattern(self.lexicon.address_words.get("street_types_after", ())).match(
            self.text, at, limit)
        return match.end() if match else 0

    def _code(self, code: str, *, fresh: bool) -> bool:
        """'CO', 'ON', 'VIC': a region code (capitals), not an acronym or a stop word."""
        low = code.lower()
        if low in self.lexicon.acronyms or low in self.lexicon.titles:
            return False
        if self.views.mode == "mixed":
            return len(code) >= 2 or fresh
        return fresh and low not in self.lexicon.stop_words  # ALL-CAPS text: only after a comma or line start

    def _place_word(self, start: int, end: int, *, fresh: bool, words: int, limit: int) -> bool:
        """A city or region word: capitalised and not prose."""
        word = self.text[start:end].rstrip(".")
        low = word.lower()
        if low in _PLACE_PARTICLES:
            following = _WORD.match(self.text, end + 1, limit) if self.text.startswith(" ", end) else None
            return word.islower() and (words > 0 or bool(following and following.group(0)[0].isupper()))
        if low in self.lexicon.stop_words or low in self.lexicon.jargon or low in self.lexicon.titles \
                or low in self.lexicon.acronyms or self.views.touches_placeholder(start, end):
            return False
        common = self.lexicon.is_common(low)
        if self.views.mode == "mixed":
            if not word[0].isupper():
                return False
            return not common or word.isupper() or fresh or self._before_terminal(end, limit)
        return not common or self.views.restored[start].isupper() or self._before_terminal(end, limit)

    def _before_terminal(self, end: int, limit: int) -> bool:
        """'Lower Saxony', 'Tartu nan': a word directly before a country, code or postcode."""
        separator = SEPARATOR.match(self.text, end, limit)
        assert separator is not None  # every part of it is optional: it matches wherever end <= limit
        at = separator.end()
        return at < limit and self._terminal(at, limit, fresh=bool(separator.group(1)), words=1) > 0


@functools.lru_cache(maxsize=4)
def _street_name_pattern(types: tuple[str, ...]) -> re.Pattern[str]:
    """1-3 capitalised words (or particles) ending in a street type: 'Heron Point', 'van Dorp Summit'."""
    alternation = "|".join(re.escape(t) for t in types) or "(?!)"
    return re.compile(
        rf"(?:(?:[A-Z][\w'’\-]*|van|von|de|la|le|ten|ter|del|di|da)[ \t]+){{1,3}}(?=[A-Z])(?i:{alternation})\b"
    )
