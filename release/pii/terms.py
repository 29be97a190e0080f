"""Record-linked terms: the record's own raw-only values, found in its narrative.

The strongest evidence that a word is PII is that it *is* one of the record's own
values: the people's names and aliases, dates of birth, home addresses, phones,
licences, plates, the incident address. ``RecordTerms`` carries them; ``expand``
turns each into the spellings a narrative uses (first or last name alone, "Last,
First", initials, every date format, phone digits with any separators, house number +
street) and ``TermMatcher`` finds all of them with one Aho-Corasick automaton per
record, on whole words, in any case. Every variant of one value shares an
``identity``, so all mentions of one person get the same placeholder number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from release.pii.skeleton import PhraseMatcher, Skeleton, skeleton_of

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%m-%d-%y", "%Y/%m/%d",
                 "%m.%d.%Y", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y",
                 "%b %d %Y", "%Y%m%d", "%m%d%Y")
_SUFFIXES = {
    "st": ("st", "street"), "street": ("st", "street"), "ave": ("ave", "avenue", "av"),
    "avenue": ("ave", "avenue", "av"), "av": ("ave", "avenue", "av"), "rd": ("rd", "road"),
    "road": ("rd", "road"), "blvd": ("blvd", "boulevard"), "boulevard": ("blvd", "boulevard"),
    "sq": ("sq", "square"), "square": ("sq", "square"), "pl": ("pl", "place"),
    "place": ("pl", "place"), "ct": ("ct", "court"), "court": ("ct", "court"),
    "ter": ("ter", "terrace"), "terrace": ("ter", "terrace"), "dr": ("dr", "drive"),
    "drive": ("dr", "drive"), "ln": ("ln", "lane"), "lane": ("ln", "lane"),
    "hwy": ("hwy", "highway"), "highway": ("hwy", "highway"), "pkwy": ("pkwy", "parkway"),
    "parkway": ("pkwy", "parkway"), "way": ("way",), "park": ("park",), "row": ("row",),
}
_NAME_SPLIT = re.compile(r"[\s\-]+")
_NON_DIGIT = re.compile(r"\D")
_SHORT_OK = frozenset({"term_name_initials", "term_name_part", "term_name_part_weak"})  # "Do", "Vu", "JS"
_UNIT = re.compile(r"\s*(?:,|\b(?:apt|apartment|unit|suite|ste|fl|floor|#)\b|#).*$", re.IGNORECASE)
_TIME_TAIL = re.compile(r"[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


@dataclass(frozen=True)
class RecordTerms:
    """Raw-only values of one record (its people, vehicle and incident address)."""

    names: tuple[str, ...] = ()  # full names as given (first/middle/last joined, or "LAST, FIRST")
    name_parts: tuple[tuple[str, ...], ...] = ()  # per person: (first, middle, last), may be empty
    aliases: tuple[str, ...] = ()
    dobs: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    licenses: tuple[str, ...] = ()
    plates: tuple[str, ...] = ()
    other: tuple[str, ...] = ()


@dataclass(frozen=True)
class TermVariant:
    """One spelling of a record's value as a narrative may write it; every spelling of one value shares its
    ``identity``."""

    text: str
    entity_type: str
    identity: str
    rule_id: str


def _clean(value: str) -> str:
    return " ".join(value.replace("\u00a0", " ").split())


def split_name(full: str) -> tuple[list[str], str]:
    """('LAST, FIRST MIDDLE') or ('First Middle Last') -> (given names, last name)."""
    full = _clean(full)
    if "," in full:
        last, _, given = full.partition(",")
        return given.split(), last.strip()
    words = full.split()
    if len(words) <= 1:
        return [], full
    return words[:-1], words[-1]


def name_variants(given: list[str], last: str, usable_alone: Callable[[str], bool]) -> list[tuple[str, str]]:
    """Every spelling of one person's name: (variant, rule id).

    ``term_name_part_weak`` marks a single name that is also a stop or public word
    ("Will", "Brown"), and ``term_name_initials`` the person's initials ("J.S.", "JS");
    the engine accepts those only where they look like a name (capitalised).
    """
    given = [g for g in given if g]
    first = given[0] if given else ""
    middles = given[1:]
    out: list[tuple[str, str]] = []
    if first and last:
        out += [
            (f"{first} {last}", "term_name_full"),
            (f"{last} {first}", "term_name_last_first"),
            (f"{first[0]} {last}", "term_name_initial"),
            (f"{last} {first[0]}", "term_name_initial"),
            (f"{first[0]} {last[0]}", "term_name_initials"),
        ]
        if middles:
            middle = " ".join(middles)
            out += [
                (f"{first} {middle} {last}", "term_name_full"),
                (f"{last} {first} {middle}", "term_name_last_first"),
                (f"{first} {middles[0][0]} {last}", "term_name_full"),
                (f"{first[0]} {middles[0][0]} {last}", "term_name_initial"),
                (f"{first[0]} {middles[0][0]} {last[0]}", "term_name_initials"),
            ]
    pieces = [first, *middles] + [last]
    for piece in pieces:
        for part in dict.fromkeys(_NAME_SPLIT.split(piece) + [piece]):
            if len(skeleton_of(part)) < 2:
                continue
            out.append((part, "term_name_part" if usable_alone(part.lower()) else "term_name_part_weak"))
    if not out and (first or last):
        out.append(((first + " " + last).strip(), "term_name_full"))
    return out


def parse_date(value: str) -> date | None:
    text = _TIME_TAIL.sub("", _clean(value))
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def date_variants(day: date) -> list[str]:
    """A date in every common written form."""
    m, d, y = day.month, day.day, day.year
    yy = y % 100
    month = _MONTHS[m - 1]
    short = month[:3]
    suffix = "th" if 11 <= d <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(d % 10, "th")
    numeric = {
        f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}", f"{m:02d}/{d:02d}/{yy:02d}", f"{m}/{d}/{yy:02d}",
        f"{y}-{m:02d}-{d:02d}", f"{y}-{m}-{d}", f"{d:02d}/{m:02d}/{y}", f"{d}/{m}/{y}",
    }
    written = set()
    for name in (month, short, "sept" if m == 9 else short):
        for day_text in (str(d), f"{d}{suffix}"):
            written |= {f"{name} {day_text} {y}", f"{day_text} {name} {y}", f"{day_text} of {name} {y}",
                        f"{name} {day_text} {yy:02d}"}
    return sorted(numeric | written)


def address_variants(address: str) -> list[str]:
    """Full address, the street line, and house number + street with each suffix spelling."""
    full = _clean(address)
    line = _UNIT.sub("", full)
    out = {full, line}
    words = line.split()
    if len(words) >= 2 and re.match(r"^\d", words[0]):
        suffix = words[-1].lower().rstrip(".")
        if suffix in _SUFFIXES and len(words) >= 3:
            base = words[:-1]
            out.add(" ".join(base))
            out |= {" ".join(base + [form]) for form in _SUFFIXES[suffix]}
    return sorted(v for v in out if v)


def phone_variants(phone: str) -> list[str]:
    digits = _NON_DIGIT.sub("", phone)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) < 7:
        return [phone] if len(skeleton_of(phone)) >= 4 else []
    out = {digits}
    if len(digits) == 10:
        out.add(digits[3:])  # the local seven digits
        out.add("1" + digits)
    return sorted(out)


def expand(terms: RecordTerms, usable_alone: Callable[[str], bool]) -> list[TermVariant]:
    """Every searchable spelling of every value in ``terms``, with shared identities."""
    variants: list[TermVariant] = []
    people: list[tuple[list[str], str]] = []
    for parts in terms.name_parts:
        people.append(([p for p in parts[:-1] if p], parts[-1] if parts else ""))
    people += [split_name(full) for full in terms.names]
    identities: dict[tuple[str, str], str] = {}
    for given, last in people:
        # One identity per (first, last), so "SMITH, JOHN" and ("John", "", "Smith") agree.
        key = (skeleton_of(given[0]) if given else "", skeleton_of(last))
        identity = identities.setdefault(key, f"person:{len(identities)}")
        variants += [
            TermVariant(v, "PERSON", identity, rule) for v, rule in name_variants(given, last, usable_alone)
        ]
    for index, alias in enumerate(terms.aliases):
        identity = f"alias:{index}"
        words = _clean(alias).split()
        whole = "term_alias" if len(words) > 1 or usable_alone(alias.lower().strip()) else "term_alias_weak"
        variants.append(TermVariant(_clean(alias), "PERSON", identity, whole))
        for word in words if len(words) > 1 else []:
            if len(skeleton_of(word)) >= 3:
                rule = "term_alias" if usable_alone(word.lower()) else "term_alias_weak"
                variants.append(TermVariant(word, "PERSON", identity, rule))
    for index, dob in enumerate(terms.dobs):
        parsed = parse_date(dob)
        forms = date_variants(parsed) if parsed else [dob]
        variants += [TermVariant(v, "DOB", f"dob:{index}", "term_dob") for v in forms]
    for index, address in enumerate(terms.addresses):
        variants += [
            TermVariant(v, "ADDRESS", f"address:{index}", "term_address") for v in address_variants(address)
        ]
    for index, phone in enumerate(terms.phones):
        variants += [TermVariant(v, "PHONE", f"phone:{index}", "term_phone") for v in phone_variants(phone)]
    for field, label in (("licenses", "ID"), ("plates", "PLATE"), ("other", "ID")):
        for index, value in enumerate(getattr(terms, field)):
            variants.append(TermVariant(_clean(value), label, f"{field}:{index}", f"term_{field}"))
    return [
        v for v in variants
        if len(skeleton_of(v.text)) >= 3 or (v.rule_id in _SHORT_OK and len(skeleton_of(v.text)) >= 2)
    ]


class TermMatcher:
    """One automaton over every variant of one record's terms."""

    def __init__(self, terms: RecordTerms, usable_alone: Callable[[str], bool]) -> None:
        variants = expand(terms, usable_alone)
        self._matcher: PhraseMatcher[TermVariant] = PhraseMatcher((v.text, v) for v in variants)

    def find(self, skeleton: Skeleton) -> Iterator[tuple[int, int, TermVariant]]:
        for start, end, payloads in self._matcher.find(skeleton):
            # Several values can share a spelling; the first (a full name before a part) wins.
            yield start, end, payloads[0]
