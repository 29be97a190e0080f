"""Fictitious identifying values (dates of birth, phones, licences, plates, VINs, SSNs,
e-mail addresses, handles, incident numbers, addresses) in the shapes officers type them.

Every value is drawn at random, so it names no one. Phones use the 555-01XX block that
the North American numbering plan reserves for fiction; e-mail addresses use the
``example.*`` domains reserved for documentation. Each function takes the caller's
``random.Random`` so that a seed fixes every value.
"""

from __future__ import annotations

import random
import unicodedata
from datetime import date

from release.synth.places import SUFFIX_LONG

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)
AREA_CODES = ("617", "617", "617", "857", "857", "781", "339", "508", "774", "978", "401", "603")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_VALUES = dict(
    zip("ABCDEFGHJKLMNPRSTUVWXYZ", (1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9), strict=True)
)
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def ascii_fold(text: str) -> str:
    """Drop accents and anything that is not a letter or digit (for handles and e-mails)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isascii() and ch.isalnum())


def dob_column(rng: random.Random, dob: date) -> str:
    """A date of birth as the persons table stores it: mixed formats across rows."""
    shape = rng.random()
    if shape < 0.45:
        return dob.isoformat()
    if shape < 0.75:
        return f"{dob.month:02d}/{dob.day:02d}/{dob.year}"
    if shape < 0.9:
        return f"{dob.month}/{dob.day}/{dob.year}"
    if shape < 0.97:
        return f"{dob.isoformat()} 00:00:00"
    return f"{dob.year}{dob.month:02d}{dob.day:02d}"


def dob_text(rng: random.Random, dob: date) -> str:
    """A date of birth as written inside a narrative."""
    shape = rng.random()
    yy = f"{dob.year % 100:02d}"
    if shape < 0.5:
        return f"{dob.month:02d}/{dob.day:02d}/{dob.year}"
    if shape < 0.7:
        return f"{dob.month}/{dob.day}/{dob.year}"
    if shape < 0.8:
        return f"{dob.month}-{dob.day}-{yy}"
    if shape < 0.88:
        return f"{dob.month:02d}/{dob.day:02d}/{yy}"
    if shape < 0.96:
        return f"{MONTHS[dob.month - 1]} {dob.day}, {dob.year}"
    return dob.isoformat()


def phone_digits(rng: random.Random) -> str:
    """Ten digits in a fictional 555-01XX block."""
    return f"{rng.choice(AREA_CODES)}5550{rng.randint(100, 199)}"


def phone_format(rng: random.Random, digits: str) -> str:
    """One of the ways a US phone number is typed."""
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    shapes = (
        f"({area}) {exchange}-{line}", f"{area}-{exchange}-{line}", f"{area}.{exchange}.{line}",
        f"{area}{exchange}{line}", f"+1 {area} {exchange} {line}", f"1-{area}-{exchange}-{line}",
        f"{area} {exchange} {line}", f"({area}){exchange}-{line}", f"+1 ({area}) {exchange}-{line}",
    )
    weights = (30, 30, 6, 10, 4, 4, 8, 6, 2)
    return rng.choices(shapes, weights)[0]


def licence_number(rng: random.Random, state: str) -> str:
    """A driver's licence or ID number in the issuing state's shape."""
    if state == "MA":
        return "S" + "".join(str(rng.randint(0, 9)) for _ in range(8))
    if state == "NH":
        letters = "".join(rng.choice(_LETTERS) for _ in range(3))
        return f"{rng.randint(1, 12):02d}{letters}{rng.randint(10000, 99999)}"
    if state == "FL":
        digits = "".join(str(rng.randint(0, 9)) for _ in range(12))
        return f"{rng.choice(_LETTERS)}{digits[:3]}-{digits[3:6]}-{digits[6:8]}-{digits[8:11]}-{digits[11]}"
    if state == "NY":
        return "".join(str(rng.randint(0, 9)) for _ in range(9))
    return rng.choice(_LETTERS) + "".join(str(rng.randint(0, 9)) for _ in range(7))


def plate(rng: random.Random, state: str, vanity_from: str = "") -> str:
    """A registration plate: MA shapes ("1AB234", "7TX-K92", vanity) or another state's."""
    def digit() -> str:
        return str(rng.randint(0, 9))

    def letter() -> str:
        return rng.choice(_LETTERS)

    if state != "MA":
        shape = rng.random()
        if shape < 0.5:
            return letter() + letter() + letter() + digit() + digit() + digit() + digit()
        if shape < 0.8:
            return digit() + digit() + digit() + digit() + letter() + letter()
        return letter() + letter() + letter() + "-" + digit() + digit() + digit() + digit()
    shape = rng.random()
    if shape < 0.55:
        return digit() + letter() + letter() + digit() + digit() + digit()
    if shape < 0.7:
        return digit() + letter() + letter() + "-" + letter() + digit() + digit()
    if shape < 0.85:
        return digit() + digit() + digit() + letter() + letter() + digit()
    if shape < 0.96 or not vanity_from:
        return digit() + letter() + letter() + letter() + digit() + digit()
    stem = ascii_fold(vanity_from).upper()[:5]
    return stem + str(rng.randint(1, 99))


def plate_compact(value: str) -> str:
    return value.replace("-", "").replace(" ", "")


def vin(rng: random.Random) -> str:
    """A 17-character VIN with a correct check digit (position 9)."""
    chars = [rng.choice(_VIN_CHARS) for _ in range(17)]
    chars[9] = rng.choice("ABCDEFGHJKLMNPRSTVWXY123456789")  # model year code
    total = 0
    for position, ch in enumerate(chars):
        value = int(ch) if ch.isdigit() else _VIN_VALUES[ch]
        total += value * _VIN_WEIGHTS[position]
    remainder = total % 11
    chars[8] = "X" if remainder == 10 else str(remainder)
    return "".join(chars)


def ssn(rng: random.Random) -> str:
    """A random SSN shape outside the never-issued areas (000, 666, 900-999)."""
    area = rng.randint(1, 899)
    while area == 666:
        area = rng.randint(1, 899)
    group, serial = rng.randint(1, 99), rng.randint(1, 9999)
    sep = rng.choices(("-", " ", ""), (8, 1, 1))[0]
    return f"{area:03d}{sep}{group:02d}{sep}{serial:04d}"


def email(rng: random.Random, first: str, last: str) -> str:
    first_a, last_a = ascii_fold(first).lower(), ascii_fold(last).lower()
    local = rng.choice((f"{first_a}.{last_a}", f"{first_a}{last_a}{rng.randint(1, 99)}",
                        f"{first_a[:1]}{last_a}{rng.randint(80, 9999)}", f"{last_a}_{first_a}"))
    return f"{local}@{rng.choice(EMAIL_DOMAINS)}"


def handle(rng: random.Random, first: str, nickname: str) -> str:
    """A social-media handle as written after "IG" or "SC" (without the leading @)."""
    stem = ascii_fold(nickname or first).lower() or "user"
    return rng.choice((f"{stem}{rng.randint(1, 999)}", f"lil_{stem}", f"{stem}_617",
                       f"its{stem}", f"{stem}.{rng.choice(('official', 'x', 'tv', 'bx'))}"))


def incident_number(rng: random.Random, year: int) -> str:
    """A BPD incident number: I + 2-digit year + 7 digits, sometimes with "-00"."""
    base = f"I{year % 100:02d}{rng.randint(0, 9999999):07d}"
    return base + "-00" if rng.random() < 0.12 else base


def house_number(rng: random.Random) -> int:
    return rng.choice((rng.randint(1, 60), rng.randint(1, 200), rng.randint(1, 1200)))


def incident_address(rng: random.Random, street: str) -> tuple[str, str]:
    """(raw incident_address with house number, the numbered part a narrative would use)."""
    number = house_number(rng)
    shape = rng.random()
    if shape < 0.68:
        text = f"{number} {street}"
        return text, text
    if shape < 0.78:
        text = f"{number}-{number + 2 * rng.randint(1, 3)} {street}"
        return text, text
    if shape < 0.86:
        text = f"{number} {street}"
        return f"rear of {text}", text
    if shape < 0.94:
        text = f"{number} {street} Apt {rng.randint(1, 12)}"
        return text, text
    text = f"{number} {long_suffix(street)}"
    return text.upper(), text


def long_suffix(street: str) -> str:
    head, _, suffix = street.rpartition(" ")
    return f"{head} {SUFFIX_LONG[suffix]}" if head and suffix in SUFFIX_LONG else street


def home_address(rng: random.Random, street: str, city: str, zip_code: str) -> tuple[str, str]:
    """(home_address column value, the street part a narrative would quote)."""
    number = house_number(rng)
    unit = rng.choice(("", "", "", f" Apt {rng.randint(1, 9)}", f" #{rng.randint(1, 3)}",
                       f" Unit {rng.choice('123ABC')}"))
    street_part = f"{number} {street}{unit}"
    town = city.title()
    shape = rng.random()
    if shape < 0.5:
        column = f"{street_part}, {town}, MA {zip_code}"
    elif shape < 0.8:
        column = f"{street_part} {town} MA {zip_code}".upper()
    else:
        column = f"{street_part}, {town}"
    return column, street_part
