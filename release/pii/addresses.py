"""Address blocks: growing a detected street address over the rest of its address.

A recognizer finds the street line ("5512 Norrbacka 17 Apt. 402", "PSC 4120, Box 2231"),
but a written address goes on: a second number before it, the unit, the city, a region
code, the postcode and the country, on the same line after commas or on the next lines
of a block::

    5512 Norrbacka 17 Apt. 402
    Solberga
    , VG
     Sweden 41318

``AddressCompleter`` extends every ADDRESS candidate (pure Python, on ``TextViews``):
backwards over one house number ("12 408 Tamsin Road"), forwards over segments made
only of address parts, and down the following lines (at most five) while each line is
made only of address parts. A segment ends cleanly at a comma, the end of the line or a
full stop; where prose follows ("Norway 41318 last night"), only what ends with a
postcode, region code or country is taken. So the block is redacted as one address,
and the sentence around it is kept.

An intersection that names a house-numbered address ("the corner of Lindholmsvej 41
and Tamsin Road", "Tamsin Road and 12 Quay Street") is one location: the whole phrase becomes
the address. Intersections of streets without a house number stay public, like street
names alone.
"""

from __future__ import annotations

import re

from release.pii.address_parts import CLEAN_END, SEPARATOR, AddressParts
from release.pii.spans import Candidate

_HOUSE_NUMBER_BEFORE = re.compile(r"(?<![\w/.:,\-])\d{1,6}[A-Za-z]?[ \t]+$")
_LINE_PREFIX = re.compile(r"[ \t>|*?]*")
_CORNER_BEFORE = re.compile(r"(?:\bthe[ \t]+)?\b(?:corner|intersection|junction|crossing)[ \t]+of[ \t]+$", re.IGNORECASE)
_JOIN = re.compile(r"\.?[ \t]+(?:and|&)[ \t]+", re.IGNORECASE)
_STREET_WORD = r"(?:\d{1,5}[A-Za-z]?|[A-Z][\w'’\-]*\.?|(?:de|du|des|la|le|del|di|da|do|van|von|ten|ter|ul|al)\.?)"
_STREET_AFTER = re.compile(rf"{_STREET_WORD}(?:[ \t]+{_STREET_WORD}){{0,4}}")
_STREET_BEFORE = re.compile(rf"(?:{_STREET_WORD}[ \t]+){{0,3}}{_STREET_WORD}$")
_JOIN_BEFORE = re.compile(r"[ \t]+(?:and|&)[ \t]+$", re.IGNORECASE)
_LOWER_STREET = re.compile(r"[a-z][\w'’\-]*(?:[ \t]+[a-z][\w'’\-]*){0,2}[ \t]+([a-z]+)\b")
_MAX_WORDS = 5
_MAX_LINES = 5
_SCORE = 0.6


class AddressCompleter(AddressParts):
    """Address-block completion for one text."""

    def complete(self, found: list[Candidate]) -> list[Candidate]:
        """New ADDRESS candidates covering the rest of each detected address."""
        out = []
        for candidate in found:
            if candidate.entity_type != "ADDRESS":
                continue
            start, end = self._grow_left(candidate.start), self._grow_right(candidate.end)
            start, end = self._intersection(start, end)
            if (start, end) != (candidate.start, candidate.end):
                out.append(Candidate(start, end, "ADDRESS", "completion", _SCORE, "address_block"))
        return out

    # ------------------------------------------------------------------ intersections
    def _other_street(self, position: int, *, forwards: bool) -> int | None:
        """Start (backwards) or end (forwards) of a street name next to ``position``, if any."""
        if forwards:
            limit = self._line_end(position)
            match = _STREET_AFTER.match(self.text, position, limit)
            if match is not None and self._capitalised_street(match.group(0)):
                return self._trim_street(match.start(), match.end())
            lower = _LOWER_STREET.match(self.text, position, limit)  # "alder courts"
            if lower and lower.group(1).lower() in self.lexicon.address_words.get("street_types_after", ()):
                return lower.end()
            return None
        line_start = self.text.rfind("\n", 0, position) + 1
        match = _STREET_BEFORE.search(self.text, line_start, position)
        if match is None or not self._capitalised_street(match.group(0)):
            return None
        return match.start()

    def _capitalised_street(self, words: str) -> bool:
        return self.views.mode != "mixed" or any(word[:1].isupper() for word in words.split())

    def _trim_street(self, start: int, end: int) -> int:
        """Drop trailing words that belong to the sentence, not to the street ("... St. I am")."""
        words = [m for m in re.finditer(r"\S+", self.text[start:end])]
        while len(words) > 1 and words[-1].group(0).rstrip(".").lower() in self.lexicon.stop_words:
            words.pop()
        stop = start + words[-1].end() if words else end
        return stop - 1 if self.text[stop - 1] == "." else stop  # the full stop stays in the sentence

    def _intersection(self, start: int, end: int) -> tuple[int, int]:
        """'the corner of <address> and <street>' or '<street> and <address>': one location."""
        line_start = self.text.rfind("\n", 0, start) + 1
        before = self.text[line_start:start]
        corner = _CORNER_BEFORE.search(before)
        if corner is not None:
            join = _JOIN.match(self.text, end)
            other_end = self._other_street(join.end(), forwards=True) if join else None
            if other_end is not None:
                return line_start + corner.start(), other_end
            if _JOIN.search(self.text, start, end):
                return line_start + corner.start(), end  # the detection already holds both streets
            return start, end
        join = _JOIN_BEFORE.search(before)
        if join is None:
            return start, end
        other_start = self._other_street(line_start + join.start(), forwards=False)
        if other_start is None or self.views.touches_placeholder(other_start, start):
            return start, end
        corner = _CORNER_BEFORE.search(self.text[line_start:other_start])
        if corner is not None:
            return line_start + corner.start(), end
        if self._street_like(other_start, line_start + join.start()):
            return other_start, end  # "Warren St and 45 Quincy St"
        return start, end

    def _street_like(self, start: int, end: int) -> bool:
        """Words with a number or a street word: a street, not a person ("Davis and 45 Quincy St")."""
        words = [w.rstrip(".").lower() for w in self.text[start:end].split()]
        types = self.lexicon.address_words
        return any(any(ch.isdigit() for ch in w) for w in words) or bool(words) and (
            words[-1] in types.get("street_types_after", ()) or words[0] in types.get("street_types_before", ())
        )

    # ------------------------------------------------------------------ backwards
    def _grow_left(self, start: int) -> int:
        line_start = self.text.rfind("\n", 0, start) + 1
        match = _HOUSE_NUMBER_BEFORE.search(self.text, line_start, start)
        if match is None or self.views.touches_placeholder(match.start(), start):
            return start
        return match.start()

    # ------------------------------------------------------------------ forwards
    def _line_end(self, position: int) -> int:
        end = self.text.find("\n", position)
        return len(self.text) if end < 0 else end

    def _grow_right(self, end: int) -> int:
        limit = self._line_end(end)
        position = self._scan(end, limit, fresh=False)
        for _ in range(_MAX_LINES):
            if self.text[position:limit].strip() or limit >= len(self.text):
                break  # prose follows on the line, or the text ends
            start = limit + 1
            limit = self._line_end(start)
            prefix = _LINE_PREFIX.match(self.text, start, limit)
            assert prefix is not None  # it matches the empty string
            content = prefix.end()
            if content >= limit:
                break  # a blank line ends the block
            reached = self._scan(content, limit, fresh=True)
            if reached == content:
                break
            position = reached
        return position

    def _scan(self, position: int, limit: int, *, fresh: bool) -> int:
        """End of the address parts from ``position`` on one line (``position`` if none).

        ``fresh``: the segment starts after a comma or at a line start, where ordinary
        capitalised words ("Mill Valley", "Elm Bay") can be place names.
        """
        committed = position
        tentative = position
        words = 0
        cursor = position
        while cursor < limit:
            separator = SEPARATOR.match(self.text, cursor, limit)
            assert separator is not None  # every part of it is optional: it matches wherever cursor < limit
            if separator.group(1):
                committed = tentative  # a comma closes the segment cleanly
                fresh, words = True, 0
            at = separator.end()
            if at >= limit or self.views.touches_placeholder(at, at + 1):
                break
            kind, stop = self._part(at, limit, fresh=fresh, words=words)
            if kind is None or (kind == "word" and words >= _MAX_WORDS):
                break
            tentative = stop
            if kind == "word":
                words += 1
            else:
                committed = stop  # a unit, postcode, code or country ends an address well
                words += kind == "terminal"
            cursor = stop
        if CLEAN_END.match(self.text, tentative):
            committed = tentative
        return committed
