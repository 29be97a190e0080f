"""Put fictitious PII back where the City wrote `XXX`, and label every value put in.

The City's public narratives carry `XXX` where a name, plate, house number and the like
stood, and `XX/XX/XXXX` (or `XX/XX/XX`) for dates of birth, often glued to the
neighbouring word (`observedXXX`, `XXXstated`, `XXX XX/XX/XXXXwas`). For each report:

1. `find_marks` splits every run of `X` and `/` into `XXX` marks and date masks (a run
   that does not split cleanly is left alone as an unknown mark).
2. Marks separated only by spaces (`XXX XXX`, `XXXXXX`) form one slot (one person's
   first and last name) unless context says otherwise.
3. `classify` decides each slot's type from the words around it (see README).
4. `inject_report` walks the slots in order, keeps a cast of people (the report's
   persons rows, "record persons", and associates who are in no structured field,
   "outsiders"), writes a fictitious value of the right type into each slot and
   records a `Label` per value: type, record-linked or not, the exact string and its
   offsets in the injected narrative.

Spacing: where the City glued a mark to a letter or digit, a single space is put
between the value and that word (`observedXXX` -> `observed Jane Roe`); where it is glued
to punctuation it stays glued (`Ms.XXX` -> `Ms.Roe`, `DOB:XX/XX/XXXX` -> `DOB:3/4/99`).
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from dataclasses import dataclass, field

from . import values as V

# --------------------------------------------------------------------------- marks

_RUN = re.compile(r"X[X/]*X")
_PIECES = [("DATE", "XX/XX/XXXX", 1.0), ("DATE", "XX/XX/XX", 1.2), ("MARK", "XXX", 1.0),
           ("SEP", "/", 0.5)]


@dataclass
class Mark:
    start: int
    end: int
    kind: str  # "MARK" (XXX) or "DATE" (XX/XX/XXXX)


def _split_run(run: str) -> list[tuple[str, int, int]] | None:
    """Cheapest split of a run of X and / into date masks, XXX marks and slashes."""
    n = len(run)
    best: list[tuple[float, list] | None] = [None] * (n + 1)
    best[0] = (0.0, [])
    for i in range(n):
        if best[i] is None:
            continue
        cost, path = best[i]
        for kind, piece, price in _PIECES:
            if run.startswith(piece, i):
                j = i + len(piece)
                if best[j] is None or cost + price < best[j][0]:
                    best[j] = (cost + price, path + [(kind, i, j)])
    return None if best[n] is None else best[n][1]


def find_marks(text: str) -> tuple[list[Mark], list[tuple[int, int]]]:
    """(marks, unknown runs): every `XXX` and date mask, and runs that do not split."""
    marks: list[Mark] = []
    unknown: list[tuple[int, int]] = []
    for match in _RUN.finditer(text):
        run, base = match.group(), match.start()
        if "XXX" not in run and not re.search(r"XX/XX/XX", run):
            continue
        after = text[match.end():match.end() + 2]
        if after[:1] in {"L", "l"} and not after[1:2].isalpha() and run.endswith("XXX"):
            unknown.append((match.start(), match.end()))  # XXXL: a clothing size
            continue
        pieces = _split_run(run)
        if pieces is None:
            unknown.append((match.start(), match.end()))
            continue
        for kind, i, j in pieces:
            if kind != "SEP":
                marks.append(Mark(base + i, base + j, kind))
    return marks, unknown


# ------------------------------------------------------------------------ classify

NAME, ALIAS, DOB, PLATE, PHONE, HOUSE, UNKNOWN = (
    "NAME", "ALIAS", "DOB", "PLATE", "PHONE", "HOUSE_NUMBER", "UNKNOWN")
TYPES = [NAME, ALIAS, DOB, PLATE, PHONE, HOUSE]

STREET_SUFFIXES = {
    "ST": "ST", "STREET": "ST", "AVE": "AVE", "AV": "AVE", "AVENUE": "AVE", "RD": "RD",
    "ROAD": "RD", "BLVD": "BLVD", "BOULEVARD": "BLVD", "PL": "PL", "PLACE": "PL", "TER": "TER",
    "TERR": "TER", "TERRACE": "TER", "WAY": "WAY", "CT": "CT", "COURT": "CT", "SQ": "SQ",
    "SQUARE": "SQ", "PKWY": "PKWY", "PARKWAY": "PKWY", "HWY": "HWY", "HIGHWAY": "HWY",
    "DR": "DR", "DRIVE": "DR", "LN": "LN", "LANE": "LN", "CIR": "CIR", "CIRCLE": "CIR",
    "ROW": "ROW", "WHARF": "WHARF", "MALL": "MALL", "PLAZA": "PLZ", "PLZ": "PLZ", "PK": "PK",
}
_STOP = {
    "A", "AN", "THE", "AND", "OR", "OF", "ON", "AT", "IN", "TO", "FROM", "BY", "WITH", "FOR",
    "WAS", "IS", "ARE", "WERE", "BE", "BEEN", "HAS", "HAD", "HAVE", "HE", "SHE", "THEY", "HIS",
    "HER", "WHO", "THAT", "THIS", "NEAR", "STATED", "SAID", "TOLD", "LEFT", "WENT", "WALKED",
    "RAN", "DROVE", "NOT", "NO", "ALSO", "THEN", "WHILE", "AS", "INTO", "ONTO", "OUT", "UP",
    "DOWN", "OVER", "IT", "WE", "I", "YOU", "HIM", "THEM", "OFFICERS", "OFFICER", "AREA",
    "CORNER", "FRONT", "REAR", "SIDE", "VEHICLE", "MALE", "FEMALE", "DRIVER", "OPERATOR",
    "ACTIVE", "INACTIVE", "KNOWN", "MEMBER", "MEMBERS", "ASSOCIATE", "ASSOCIATES", "GANG",
    "AFFILIATE", "PRIOR", "VERIFIED", "SUSPECTED", "FORMER", "WALKING", "STANDING",
    "SITTING", "RUNNING", "CROSSING", "DRIVING", "LOITERING", "HANGING", "EXITING",
    "ENTERING", "LEAVING", "WAITING", "RIDING", "HEADING", "TRAVELING", "TRAVELLING",
    "FLEEING", "APPROACHING", "OPERATING", "PARKED", "SEEN", "OBSERVED", "STOPPED",
}
_SAINT = {"ST", "SAINT", "MT", "MOUNT", "FT", "FORT"}
# A mark right before one of these stood for the name of a street or square.
_NAMED_PLACE = (r"st|street|ave|avenue|rd|road|blvd|boulevard|ter|terr|terrace|hwy|highway|"
                r"pkwy|parkway|sq|square|development|housing|projects|apartments|apts|"
                r"playground")
# Suffixes that make a lower-case street (`annunciation rd`) credible; the others
# (way, court, place, square, ...) are ordinary words too often.
_PLAIN_SUFFIXES = {"ST", "STREET", "AVE", "AVENUE", "RD", "ROAD", "BLVD", "HWY"}
_ROLE_WORDS = (
    r"operator|driver|passenger|owner|associate|member|suspect|victim|witness|subject|"
    r"individual|male|female|juvenile|party|person|occupant|brother|sister|mother|father|"
    r"cousin|girlfriend|boyfriend|friend|son|daughter|uncle|aunt|caller|complainant"
)
_STATE_NAMES = (
    r"massachusetts|mass|new york|new hampshire|rhode island|connecticut|vermont|maine|"
    r"new jersey|florida|pennsylvania|california|texas|georgia|north carolina|virginia|"
    r"maryland|ohio|michigan|illinois|puerto rico"
)
# State codes that are also ordinary words are not taken as a plate cue on their own.
_STATE_CODES = "|".join(c for c in V.US_STATE_CODES if c not in {"IN", "OR", "ME", "OK", "HI",
                                                                  "OH", "DE", "AL", "LA", "CO",
                                                                  "ID", "MS", "PA", "MO", "WA"})
VEHICLE_MAKES = {
    "HONDA", "TOYOTA", "NISSAN", "CHEVY", "CHEVROLET", "FORD", "DODGE", "BMW", "ACURA",
    "INFINITI", "LEXUS", "MERCEDES", "BENZ", "JEEP", "HYUNDAI", "KIA", "AUDI", "VOLKSWAGEN",
    "VW", "MAZDA", "SUBARU", "CHRYSLER", "CADILLAC", "GMC", "BUICK", "VOLVO", "MITSUBISHI",
    "PONTIAC", "TESLA", "RAM", "SEDAN", "SUV", "MINIVAN", "COUPE", "TRUCK", "MOPED", "SCOOTER",
}

_RE_OFFICIAL = re.compile(
    r"(?i)\b(?:officer|ofc|p\.?\s?o|sgt|sergeant|det|detective|lt|lieutenant|capt|captain|"
    r"trooper|tpr|deputy|supt|superintendent|commissioner|judge|atty|attorney)\.?\s*$")
_RE_ALIAS = re.compile(
    r"(?i)(?:\ba\s?/\s?k\s?/\s?a\b\.?|\ba\.k\.a\.?|\baka\b|\bknown as|\bgoes by|"
    r"\bstreet name(?: of| is)?|\bnick\s?name(?:d| of| is)?)\s*[:\"“']?\s*$")
_RE_PLATE_WORD = re.compile(
    r"(?i)(?:(?:\b|(?<=\b[a-z]{2}))reg(?:istration)?|\bplates?|\btag|\bregistered\s+plate)\.?\s*"
    r"(?:#|no\.?|number|num\.?)?\s*[:#\-]?\s*$")
_RE_PLATE_STATE = re.compile(
    r"(?:(?<![,\w])(?:" + _STATE_CODES + r")|(?i:\b(?:" + _STATE_NAMES + r")))\s*[-#:]?\s*$")
_RE_PHONE = re.compile(
    r"(?i)(?:(?:\b(?:tele)?phone|\bcell(?:\s?phone)?|\btel|\bmobile)(?:\s+(?:number|no\.?|#))?"
    r"|\bcontact\s+(?:number|no\.?|#|info))\s*(?:is|was|of|listed as|:|#|-)?\s*$")
_RE_NAME_GIVEN = re.compile(
    r"(?i)(?:\bname\s*(?:was|is|of|as|:)?|\bnamed|identified\s+(?:him|her|them)?"
    r"(?:sel(?:f|ves))?\s*as)\s*[\"“]$")
_RE_NUMBERISH = re.compile(
    r"(?i)(?:#|\bno\.|\bnumber|\bnum|\bcitation|\bvin|\bincident|\bcc|\bdocket|\bcase|"
    r"\bssn|\blicen[cs]e|\blic|\bid|\bwarrant|\bticket|\bcomplaint|\bunit|\bapt|"
    r"\bapartment|\bsuite|\broom|\bresides?\s+(?:at|on)|\bliving\s+(?:at|on)|\blives\s+(?:at|on)|"
    r"\bresiding\s+(?:at|on)|\baddress(?:\s+of|\s+is)?)\s*[:#]?\s*$")
_RE_IDENTIFIED = re.compile(
    r"(?i)(?:identified\s+(?:him|her|them)?(?:sel(?:f|ves))?\s*as|\bnamed|\bname\s+(?:is|was|of)|"
    r"true\s+name|\bknown\s+to\s+be|\bconfirmed\s+to\s+be)\s*[:;,(\"]?\s*$")
_RE_ROLE = re.compile(r"(?i)(?:\b(?:" + _ROLE_WORDS + r")s?|\band|,|;|:|\d[.)-]|-)\s*[:,]?\s*$")
_RE_TITLE = re.compile(r"(?i)\b(mr|ms|mrs|miss|dr)\.?\s*$")
_RE_DOB_BETWEEN = re.compile(r"(?i)^[\s(:\-,#/]*(?:d\.?\s?o\.?\s?b\.?|born|date of birth)?[\s(:\-,#/]*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z'.]*")


def norm_street(value: str) -> str:
    """`Blue Hill Avenue` and `BLUE HILL AVE.` -> `BLUE HILL AVE`."""
    words = re.findall(r"[A-Za-z0-9']+", value.upper())
    return " ".join(STREET_SUFFIXES.get(w, w) for w in words)


def street_stems(streets) -> set[str]:
    """Street names without their suffix (`MAGAZINE ST` -> `MAGAZINE`), from a column."""
    stems = set()
    for street in streets:
        words = norm_street(street or "").split()
        if words and words[-1] in STREET_SUFFIXES.values():
            words = words[:-1]
        if words and len(" ".join(words)) >= 4:
            stems.add(" ".join(words))
    return stems


def _stem(street: str) -> str:
    words = norm_street(street).split()
    if len(words) > 1 and words[-1] in STREET_SUFFIXES.values():
        words = words[:-1]
    return " ".join(words)


def street_after(right: str, stems: set[str], report_stem: str) -> str | None:
    """The street a house number stands before, read from the text right of a mark.

    Either up to two capitalised words (no stop words) then a street suffix
    (`XXX Blue Hill Ave`, `XXXMAGAZINE STREET`), or a street of the year's `street`
    column without its suffix (`XXX GENEVA`), when that street has two words or is the
    report's own street.
    """
    rest = re.sub(r"X{3,}", "|", re.sub(r"^[ \t]*", "", right[:60]))  # a mark ends it
    words: list[re.Match] = []
    prev_end = 0
    for word in _WORD.finditer(rest):
        if rest[prev_end:word.start()].strip(" \t"):
            break  # punctuation ends the street
        words.append(word)
        prev_end = word.end()
        if len(words) == 4:
            break
    names = [w.group().rstrip(".").upper() for w in words]
    for k in range(1, min(len(names), 3)):
        if names[k] in STREET_SUFFIXES and all(
                n not in _STOP and (n not in STREET_SUFFIXES or (i == 0 and n in _SAINT))
                and (words[i].group()[0].isupper() or names[k] in _PLAIN_SUFFIXES)
                for i, n in enumerate(names[:k])):
            return " ".join(w.group() for w in words[:k + 1]).rstrip(".")
    if not names or not words[0].group()[0].isupper():
        return None
    joined = " ".join(names) + " "
    for stem in sorted(stems, key=len, reverse=True):
        if joined.startswith(stem + " ") and (" " in stem or stem == report_stem):
            n = len(stem.split())
            if n < len(names) and names[n] in STREET_SUFFIXES:
                n += 1
            return " ".join(w.group() for w in words[:n]).rstrip(".")
    return None


@dataclass
class Slot:
    start: int
    end: int
    parts: list[tuple[int, int]]
    type: str = UNKNOWN
    cue: str = ""
    title: str = ""       # a title the City left before the mark ("Mr. XXX")
    street: str = ""      # for house numbers: the street written after
    intro: str = ""       # for names: "strong", "weak" or ""


def _group(text: str, marks: list[Mark]) -> list[Slot]:
    slots: list[Slot] = []
    for mark in marks:
        if mark.kind == "DATE":
            slots.append(Slot(mark.start, mark.end, [(mark.start, mark.end)], type=DOB))
            continue
        prev = slots[-1] if slots else None
        if (prev is not None and prev.type != DOB and len(prev.parts) < 3
                and re.fullmatch(r"[ \t]?", text[prev.end:mark.start])):
            prev.parts.append((mark.start, mark.end))
            prev.end = mark.end
        else:
            slots.append(Slot(mark.start, mark.end, [(mark.start, mark.end)]))
    return slots


_TWO_LETTER_WORDS = {"OF", "AS", "TO", "BY", "AT", "ON", "IN", "IS", "OR", "AN", "IT", "HE",
                     "WE", "ME", "MY", "NO", "SO", "UP", "US", "DO", "GO", "BE", "IF", "MR",
                     "MS", "DR", "JR", "SR"}


def _word_piece(text: str, mark: Mark) -> bool:
    """A mark glued to a one-letter (or odd two-letter) fragment: `SXXXAXXXED`, `prXXXvided`
    (not the possessive `XXXS`)."""
    left = re.search(r"[A-Za-z]+$", text[:mark.start])
    right = re.match(r"[A-Za-z]+", text[mark.end:])
    if right and right.group() in {"S", "s"}:
        right = None
    return any(m and (len(m.group()) == 1 or (len(m.group()) == 2
                                              and m.group().upper() not in _TWO_LETTER_WORDS))
               for m in (left, right))


def vocabulary(texts) -> Counter:
    """Lower-case word counts over a year's narratives (for `letter_mask`)."""
    counts: Counter = Counter()
    for text in texts:
        counts.update(w.lower() for w in re.findall(r"[A-Za-z]+", re.sub(r"X{3,}", " ", text)))
    return counts


def letter_mask(text: str, mark: Mark, vocab: Counter) -> bool:
    """The City masked one letter, not a value: `XXXednesday`, `prXXXvided`, `XXXhen`.

    True when a fragment glued to the mark is a rare word in the year's narratives but
    becomes a common one with one letter added in the mark's place."""
    if not vocab:
        return False
    left = re.search(r"[A-Za-z]+$", text[:mark.start])
    right = re.match(r"[A-Za-z]+", text[mark.end:])
    lw = left.group().lower() if left else ""
    rw = right.group().lower() if right else ""
    letters = "abcdefghijklmnopqrstuvwxyz"
    if lw and rw and max(vocab[lw + c + rw] for c in letters) >= 20:
        return True
    if rw and len(rw) >= 2 and vocab[rw] < 3 and max(vocab[c + rw] for c in letters) >= 20:
        return True
    return bool(lw and len(lw) >= 2 and vocab[lw] < 3
                and max(vocab[lw + c] for c in letters) >= 20)


def classify(text: str, marks: list[Mark], stems: set[str] = frozenset(),
             report_street: str = "", vehicle_words: set[str] = frozenset(),
             vocab: Counter | None = None) -> list[Slot]:
    """Group marks into slots and give each a type from the words around it.

    Where the City's redaction hit letters inside words (a person known by a letter,
    masked everywhere), the marks are left alone (unknown): a mark that `letter_mask`
    finds in the year's vocabulary (`XXXednesday`), and marks of a report with three or
    more glued to one- or two-letter fragments (`SXXXAXXXED XXXHAXXX`)."""
    report_stem = _stem(report_street)
    pieces = [m for m in marks if m.kind == "MARK" and _word_piece(text, m)]
    garbled = {(m.start, m.end) for m in pieces} if len(pieces) >= 3 else set()
    garbled |= {(m.start, m.end) for m in marks
                if m.kind == "MARK" and letter_mask(text, m, vocab or Counter())}
    out: list[Slot] = []
    for slot in _group(text, marks):
        if slot.type == DOB:
            out.append(slot)
            continue
        if garbled & set(slot.parts):
            for start, end in slot.parts:
                out.append(Slot(start, end, [(start, end)], type=UNKNOWN))
            continue
        if len(slot.parts) > 1:
            first = _classify_one(text, Slot(slot.parts[0][0], slot.parts[0][1],
                                             slot.parts[:1]), stems, report_stem, vehicle_words)
            last = _classify_one(text, Slot(slot.parts[-1][0], slot.parts[-1][1],
                                            slot.parts[-1:]), stems, report_stem, vehicle_words)
            if first.type == NAME and last.type == NAME:
                slot.type, slot.title = NAME, first.title
                slot.intro = "strong"
                out.append(slot)
                continue
            for start, end in slot.parts:  # not one name: each mark on its own
                out.append(_classify_one(text, Slot(start, end, [(start, end)]), stems,
                                         report_stem, vehicle_words))
            continue
        out.append(_classify_one(text, slot, stems, report_stem, vehicle_words))
    return out


def _classify_one(text: str, slot: Slot, stems, report_stem, vehicle_words) -> Slot:
    left = text[max(0, slot.start - 60):slot.start]
    right = text[slot.end:slot.end + 60]
    before = left[-1:] if left else ""
    after = right[:1]
    if before.isdigit() or after.isdigit():
        slot.type = UNKNOWN
        return slot
    if _RE_OFFICIAL.search(left):
        slot.type = UNKNOWN
        return slot
    quoted = left.rstrip(" ")[-1:] in {'"', "“"} and after in {'"', "”", ","}
    if quoted and _RE_NAME_GIVEN.search(left.rstrip(" ")):
        slot.type, slot.intro = NAME, "strong"  # `gave the name "XXX"`: a (false) name
        return slot
    if _RE_ALIAS.search(left) or quoted:
        slot.type = ALIAS
        return slot
    if _RE_PLATE_WORD.search(left):
        slot.type, slot.cue = PLATE, "reg word"
        return slot
    if _RE_PLATE_STATE.search(left):
        slot.type, slot.cue = PLATE, "state"
        return slot
    prev_word = re.search(r"([A-Za-z0-9-]+)\s*[#:]?\s*$", left)
    if prev_word and (prev_word.group(1).upper() in VEHICLE_MAKES
                      or prev_word.group(1).upper() in vehicle_words):
        slot.type, slot.cue = PLATE, "vehicle"
        return slot
    if _RE_PHONE.search(left):
        slot.type = PHONE
        return slot
    street = street_after(right, stems, report_stem)
    if street and not left.rstrip().endswith("#"):
        slot.type, slot.street = HOUSE, street
        return slot
    if re.match(r"[ \t]*(?:" + _NAMED_PLACE + r")\b", right, re.I):
        slot.type = UNKNOWN  # `XXX ST MEMBER`, `XXX SQUARE`: the City masked a place name
        return slot
    if _RE_NUMBERISH.search(left):
        slot.type = UNKNOWN
        return slot
    slot.type = NAME
    title = _RE_TITLE.search(left)
    slot.title = title.group(1).lower() if title else ""
    if _RE_IDENTIFIED.search(left):
        slot.intro = "strong"
    elif _RE_ROLE.search(left):
        slot.intro = "weak"
    return slot


# -------------------------------------------------------------------------- inject

OUTSIDER = "outsider-"  # key prefix of people who are in no structured field


@dataclass
class Label:
    report: str
    type: str
    linked: bool
    text: str
    start: int
    end: int
    form: str = ""
    person: str = ""  # names, nicknames, DOBs: the person's key (OUTSIDER + n for outsiders)

    @property
    def outsider(self) -> bool:
        return self.person.startswith(OUTSIDER)


@dataclass
class ReportInput:
    fc_num: str
    narrative: str
    contact_date: dt.date
    street: str = ""
    person_rows: list[tuple[str, str]] = field(default_factory=list)  # (sex, age)
    vehicle_words: set[str] = field(default_factory=set)
    has_vehicle: bool = False
    # words of the report's public columns (officer, supervisor, street, city): no
    # injected name uses them, so a name in the text is never also an officer's
    public_words: set[str] = field(default_factory=set)


@dataclass
class InjectedReport:
    fc_num: str
    narrative: str
    labels: list[Label]
    city_marks: list[tuple[int, int]]   # City marks left as they were (unknown type)
    injected: list[tuple[int, int]]     # every span of inserted text (values, connectors)
    person_fields: list[dict]           # raw-only columns for each persons row
    incident_address: str
    vehicle_plate: str
    slot_types: dict[str, int]


_INTRO_FORMS = [(0.30, "full"), (0.13, "last_first"), (0.08, "full_middle"), (0.14, "aka"),
                (0.07, "last"), (0.07, "first"), (0.07, "title_last"), (0.05, "initial_last"),
                (0.04, "caps_full"), (0.05, "lower_full")]
_LATER_FORMS = [(0.30, "last"), (0.19, "title_last"), (0.22, "first"), (0.12, "full"),
                (0.04, "initial_last"), (0.08, "nick"), (0.05, "last_first")]


def is_all_caps(text: str) -> bool:
    letters = [c for c in re.sub(r"X{2,}", "", text) if c.isalpha()]
    return len(letters) >= 20 and sum(c.isupper() for c in letters) / len(letters) > 0.8


def _words(person: V.Person, *more: str) -> set[str]:
    """Lower-case word tokens of a person's first name, surname, nickname (and `more`)."""
    text = " ".join((person.first, person.last, person.nick, *more))
    return {w.lower() for w in re.findall(r"[^\W_]+", text) if len(w) >= 2}


class _Cast:
    """The people of one report, in order of first mention."""

    def __init__(self, report: ReportInput, rng: random.Random):
        self.rng = rng
        self.public = {w.lower() for w in report.public_words}
        self.record: list[V.Person] = []
        for i, (sex, age) in enumerate(report.person_rows):
            try:
                years = int(float(age))
            except (TypeError, ValueError):
                years = None
            person = V.new_person(rng, f"{report.fc_num}/r{i}", V.sex_code(sex, rng),
                                  report.contact_date, years, record=True)
            taken = set().union(self.public, *(_words(p, p.middle) for p in self.record))
            while _words(person, person.middle) & taken:
                person = V.new_person(rng, f"{report.fc_num}/r{i}", V.sex_code(sex, rng),
                                      report.contact_date, years, record=True)
            person.row = i
            person.alias_in_record = rng.random() < 0.75
            self.record.append(person)
        self.unused = list(self.record)
        self.outsiders = 0
        self.mentioned: list[V.Person] = []
        self.contact_date = report.contact_date

    def new(self, strong: bool = False, sex: str = "") -> V.Person:
        """A person not mentioned yet: one of the report's persons rows, more likely for
        a strong introduction (first name of the report, a DOB after it, "identified
        as"), or an outsider who is in no structured field. `sex` ("M", "F") comes from
        a title the City left (`Mr. XXX`)."""
        fits = [p for p in self.unused if not sex or p.sex == sex]
        if fits and self.rng.random() < (0.85 if strong else 0.5):
            person = fits[0]
            self.unused.remove(person)
        else:
            self.outsiders += 1
            taken = set().union(self.public, *(_words(p, p.middle)
                                               for p in self.record + self.mentioned))
            while True:  # an outsider shares no name or nickname with the cast
                person = V.new_person(self.rng, f"{OUTSIDER}{self.outsiders}",
                                      sex or self.rng.choice("MMMF"), self.contact_date, None,
                                      record=False)
                if not _words(person, person.middle) & taken:
                    break
        self.mentioned.append(person)
        return person

    def again(self, sex: str = "") -> V.Person:
        """Someone already named (the most recent with probability 0.6)."""
        fits = [p for p in self.mentioned if not sex or p.sex == sex]
        if not fits:
            return self.new(sex=sex)
        if self.rng.random() < 0.6:
            return fits[-1]
        return self.rng.choice(fits)

    def recent(self) -> V.Person:
        return self.mentioned[-1] if self.mentioned else self.new()

    def pick(self, slot: Slot, first_name_slot: bool, dob_follows: bool) -> tuple[V.Person, bool]:
        """(person, is introduction)."""
        sex = {"mr": "M", "ms": "F", "mrs": "F", "miss": "F"}.get(slot.title, "")
        if first_name_slot or not self.mentioned or dob_follows or slot.intro == "strong":
            return self.new(strong=True, sex=sex), True
        if slot.intro == "weak":
            if self.rng.random() < 0.7:
                return self.new(sex=sex), True
            return self.again(sex), False
        if self.rng.random() < 0.1:
            return self.new(sex=sex), True
        person = self.again(sex)
        return person, person.mentioned == 0


def _title(person: V.Person, rng: random.Random) -> str:
    if rng.random() < 0.05:
        return rng.choice(V.DOCTOR_TITLES)
    return rng.choice(V.TITLES[person.sex])


def render_name(person: V.Person, form: str, rng: random.Random, city_title: str = "",
                ) -> list[tuple[str, str | None]]:
    """Pieces of text, each with the label type it carries (None: connector)."""
    f, m, last = person.first, person.middle, person.last
    if city_title:
        return [(last, NAME)] if rng.random() < 0.85 else [(f"{f} {last}", NAME)]
    if form == "full":
        return [(f"{f} {last}", NAME)]
    if form == "caps_full":
        return [(rng.choice([f"{f} {last}", f"{last}, {f}"]).upper(), NAME)]
    if form == "lower_full":
        return [(f"{f} {last}".lower(), NAME)]
    if form == "full_middle":
        person.extra["middle_used"] = True
        return [(rng.choice([f"{f} {m} {last}", f"{f} {m[0]}. {last}"]), NAME)]
    if form == "last_first":
        return [(rng.choice([f"{last.upper()}, {f.upper()}", f"{last}, {f}",
                             f"{last.upper()}, {f}"]), NAME)]
    if form == "last":
        return [(last, NAME)]
    if form == "first":
        return [(f, NAME)]
    if form == "title_last":
        return [(f"{_title(person, rng)} {last}", NAME)]
    if form == "initial_last":
        return [(rng.choice([f"{f[0]}. {last}", f"{f[0]} {last}", f"{last}, {f[0]}."]), NAME)]
    if form == "nick":
        person.nick_used = True
        return [(person.nick, ALIAS)]
    if form == "aka":
        person.nick_used = True
        name = rng.choice([f"{f} {last}", f"{last.upper()}, {f.upper()}", f"{f} {last}"])
        template = rng.choice(V.AKA_FORMS)
        head, tail = template.split("{name}")
        mid, end = tail.split("{nick}")
        pieces = [(head, None)] if head else []
        pieces += [(name, NAME), (mid, None), (person.nick, ALIAS)]
        if end:
            pieces.append((end, None))
        return pieces
    raise ValueError(form)


def inject_report(report: ReportInput, rng: random.Random, stems: set[str] = frozenset(),
                  vocab: Counter | None = None) -> InjectedReport:
    text = report.narrative
    marks, unknown_runs = find_marks(text)
    slots = classify(text, marks, stems, report.street, report.vehicle_words, vocab)
    caps = is_all_caps(text)
    cast = _Cast(report, rng)
    incident_address = ""
    plate_linked: str | None = None
    plates_seen: list[tuple[str, bool]] = []
    streets_seen: dict[str, tuple[str, bool]] = {}
    home_addresses: dict[int, str] = {}
    phones: dict[int, str] = {}
    report_street = norm_street(report.street)

    # values[i]: pieces for slot i, or None to leave the City's mark
    rendered: list[list[tuple[str, str | None, bool, str, str]] | None] = []
    seen_name = False
    for i, slot in enumerate(slots):
        nxt = slots[i + 1] if i + 1 < len(slots) else None
        if slot.type == NAME:
            dob_follows = bool(nxt and nxt.type == DOB
                               and _RE_DOB_BETWEEN.match(text[slot.end:nxt.start]))
            person, intro = cast.pick(slot, not seen_name, dob_follows)
            seen_name = True
            person.mentioned += 1
            if len(slot.parts) > 1:
                words = [person.first, person.last] if len(slot.parts) == 2 else \
                    [person.first, person.middle, person.last]
                if len(slot.parts) == 3:
                    person.extra["middle_used"] = True
                if caps:
                    words = [w.upper() for w in words]
                rendered.append([(w, NAME, person.record, "parts", person.key) for w in words])
                continue
            forms = _INTRO_FORMS if intro else _LATER_FORMS
            form = V._pick(rng, forms)
            if form == "nick" and not person.nick_used:
                form = "last"
            pieces = render_name(person, form, rng, slot.title)
            form = "city_title" if slot.title else form
            rendered.append([(t.upper() if caps else t, kind,
                              person.record and (kind != ALIAS or person.alias_in_record),
                              form, person.key) for t, kind in pieces])
        elif slot.type == ALIAS:
            person = cast.recent()
            person.nick_used = True
            value = person.nick.upper() if caps else person.nick
            rendered.append([(value, ALIAS, person.record and person.alias_in_record, "quoted",
                              person.key)])
        elif slot.type == DOB:
            prev = slots[i - 1] if i else None
            attached = prev is not None and prev.type == NAME and _RE_DOB_BETWEEN.match(
                text[prev.end:slot.start])
            person = cast.recent()
            value = V.format_dob(rng, person.dob)
            rendered.append([(value.upper() if caps else value, DOB, person.record,
                              "after name" if attached else "alone", person.key)])
        elif slot.type == PLATE:
            if plates_seen and rng.random() < 0.25:
                value, linked = plates_seen[-1]
            else:
                value = V.plate(rng)
                linked = plate_linked is None and rng.random() < 0.7
                if linked:
                    plate_linked = value
                plates_seen.append((value, linked))
            rendered.append([(value, PLATE, linked, slot.cue, "")])
        elif slot.type == PHONE:
            digits = V.phone_digits(rng)
            linked = bool(cast.record) and rng.random() < 0.5
            if linked:
                holder = next((p for p in reversed(cast.mentioned) if p.record), cast.record[0])
                phones[holder.row] = digits
            rendered.append([(V.format_phone(rng, digits), PHONE, linked, "", "")])
        elif slot.type == HOUSE:
            street_key = norm_street(slot.street)
            if street_key in streets_seen:
                number, linked = streets_seen[street_key]
            else:
                number = V.house_number(rng)
                linked = False
                same_street = bool(report_street) and _stem(slot.street) == _stem(report_street)
                if same_street and not incident_address and rng.random() < 0.8:
                    incident_address = f"{number} {report.street.strip().title()}"
                    linked = True
                elif cast.record and rng.random() < 0.35:
                    holder = rng.choice(cast.record)
                    if holder.row not in home_addresses:
                        home_addresses[holder.row] = f"{number} {slot.street}, Boston, MA"
                        linked = True
                streets_seen[street_key] = (number, linked)
            rendered.append([(number, HOUSE, linked, "", "")])
        else:
            rendered.append(None)

    # -- write the new narrative
    out: list[str] = []
    labels: list[Label] = []
    injected: list[tuple[int, int]] = []
    city_marks: list[tuple[int, int]] = []
    pos = length = 0
    starts = {s.start for s in slots}
    rendered_ends = {s.end for k, s in enumerate(slots) if rendered[k] is not None}
    all_ends = {s.end for s in slots}
    events = sorted([(s.start, s.end, k) for k, s in enumerate(slots)] +
                    [(a, b, None) for a, b in unknown_runs])

    def emit(piece: str) -> None:
        nonlocal length
        out.append(piece)
        length += len(piece)

    for start, end, k in events:
        emit(text[pos:start])
        pos = end
        if k is None or rendered[k] is None:  # the City's mark stays as it is
            if start in rendered_ends:
                emit(" ")
            city_marks.append((length, length + end - start))
            emit(text[start:end])
            continue
        slot, pieces = slots[k], rendered[k]
        if start > 0 and (text[start - 1].isalnum() or start in all_ends):
            emit(" ")
        if len(slot.parts) > 1:  # one word per mark, keeping the City's spacing
            begin = length
            for n, ((a, _), (value, *_)) in enumerate(zip(slot.parts, pieces, strict=True)):
                if n:
                    emit(text[slot.parts[n - 1][1]:a] or " ")
                injected.append((length, length + len(value)))
                emit(value)
            _, kind, linked, form, key = pieces[0]
            labels.append(Label(report.fc_num, kind, linked, "", begin, length, form, key))
        else:
            for value, kind, linked, form, key in pieces:
                if not value:
                    continue
                injected.append((length, length + len(value)))
                if kind is not None:
                    labels.append(Label(report.fc_num, kind, linked, "", length,
                                        length + len(value), form, key))
                emit(value)
        if end < len(text) and text[end].isalnum() and end not in starts:
            emit(" ")
    emit(text[pos:])
    narrative = "".join(out)
    for label in labels:
        label.text = narrative[label.start:label.end]

    # -- the raw-only fields of each persons row; numbers written in the narrative but
    # not linked are never reused in a field (they would be linked by accident)
    in_text = {number for number, _ in streets_seen.values()}

    def free_number() -> str:
        number = V.house_number(rng)
        while number in in_text:
            number = V.house_number(rng)
        return number

    person_fields = []
    for person in cast.record:
        middle = person.middle if (person.extra.get("middle_used") or rng.random() < 0.45) else ""
        digits = phones.get(person.row) or (V.phone_digits(rng) if rng.random() < 0.6 else "")
        person_fields.append({
            "first_name": person.first,
            "middle_name": middle,
            "last_name": person.last,
            "alias": person.nick if person.alias_in_record else "",
            "dob": person.dob.isoformat(),
            "home_address": home_addresses.get(person.row) or
            f"{free_number()} {V.last_name(rng)} {rng.choice(['St', 'Ave', 'Rd', 'Ter'])}"
            f", Boston, MA",
            "phone": f"{digits[:3]}-{digits[3:6]}-{digits[6:]}" if digits else "",
            "license_number": V.licence_number(rng) if rng.random() < 0.7 else "",
        })
    if not incident_address:
        street = report.street.strip().title() or \
            f"{V.last_name(rng)} {rng.choice(['St', 'Ave', 'Rd'])}"
        incident_address = f"{free_number()} {street}"
    if plate_linked:
        vehicle_plate = plate_linked
    elif report.has_vehicle or plates_seen:
        vehicle_plate = V.plate(rng)
        while any(vehicle_plate == p for p, _ in plates_seen):
            vehicle_plate = V.plate(rng)
    else:
        vehicle_plate = ""
    counts: dict[str, int] = {}
    for slot in slots:
        counts[slot.type] = counts.get(slot.type, 0) + 1
    counts["UNPARSED"] = len(unknown_runs)
    return InjectedReport(report.fc_num, narrative, labels, city_marks, injected, person_fields,
                          incident_address, vehicle_plate, counts)


