"""PII-bearing phrases an officer writes: how people, dates of birth, ages, plates, phones
and officers appear in a narrative, each returned as a phrase whose PII pieces are typed.

A person is introduced once in full ("Tyrone Hill (DOB 03/14/1999)", "HILL, TYRONE",
"a 17 year old later identified as ...") and then referred to the way officers do: by
surname, "Mr. Hill", "Hill's", first name, initials. Titles, "DOB" labels and the
possessive "'s" stay outside the PII span: a span covers the identifying value only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date

from release.synth import values
from release.synth.people import Name, Officer
from release.synth.text import Phrase, Pii


@dataclass(frozen=True)
class Person:
    """What a narrative may say about one person (subject or associate)."""

    name: Name
    female: bool
    age: int
    dob: date | None
    alias: str = ""
    home: str = ""
    phone: str = ""
    licence: str = ""
    licence_state: str = ""
    race_sex: str = ""
    source: str = "subject"


def he(person: Person) -> str:
    return "she" if person.female else "he"


def his(person: Person) -> str:
    return "her" if person.female else "his"


def _initials(name: Name, rng: random.Random) -> str:
    first, last = name.first[0], name.last[0]
    return rng.choice((f"{first}.{last}.", f"{first}{last}", f"{first}. {last}."))


def full_name(rng: random.Random, person: Person) -> Phrase:
    """The first, complete mention of a person."""
    name, source = person.name, person.source
    shape = rng.random()
    if shape < 0.62:
        value = f"{name.first} {name.last}"
    elif shape < 0.74 and name.middle:
        middle = name.middle if name.middle.endswith(".") else f"{name.middle[0]}."
        value = f"{name.first} {middle} {name.last}"
    elif shape < 0.8 and name.middle:
        value = f"{name.first} {name.middle} {name.last}"
    elif shape < 0.93:
        value = f"{name.last.upper()}, {name.first.upper()}"
    else:
        value = f"{name.last}, {name.first}"
    return (Pii(value, "PERSON", source),)


def ref(rng: random.Random, person: Person, *, sentence_start: bool = False, possessive: bool = False) -> Phrase:
    """A later mention: surname, title + surname, first name or initials."""
    name, source = person.name, person.source
    title = "Ms. " if person.female else "Mr. "
    shape = rng.random()
    if shape < 0.45:
        phrase: Phrase = (Pii(name.last, "PERSON", source),)
    elif shape < 0.75:
        phrase = (title, Pii(name.last, "PERSON", source))
    elif shape < 0.9:
        phrase = (Pii(name.first.split(" ")[0], "PERSON", source),)
    elif shape < 0.95 and not possessive:
        phrase = (Pii(_initials(name, rng), "PERSON", source),)
    else:
        phrase = (Pii(name.last.upper(), "PERSON", source),)
    if possessive:
        phrase = phrase + ("'s",)
    if sentence_start and phrase and isinstance(phrase[0], str):
        phrase = (phrase[0][0].upper() + phrase[0][1:],) + phrase[1:]
    return phrase


def dob(rng: random.Random, person: Person) -> Phrase:
    """A date of birth in context; empty when the person's DOB is unknown."""
    if person.dob is None:
        return ()
    value = Pii(values.dob_text(rng, person.dob), "DATE_OF_BIRTH", person.source)
    shape = rng.random()
    if shape < 0.45:
        return (" (DOB ", value, ")")
    if shape < 0.65:
        return (" (DOB: ", value, ")")
    if shape < 0.72:
        return ("(DOB: ", value)  # the missing space and paren are as officers type them
    if shape < 0.84:
        return (", dob: ", value)
    if shape < 0.92:
        return (", born ", value)
    return (" D.O.B. ", value)


def age(rng: random.Random, person: Person) -> Phrase:
    value = Pii(str(person.age), "AGE", person.source)
    shape = rng.random()
    if shape < 0.35:
        return (" (", value, " yoa)")
    if shape < 0.6:
        return (", ", value, " years old")
    if shape < 0.8:
        return (" (", value, ")")
    return (", age ", value)


def intro(rng: random.Random, person: Person) -> Phrase:
    """Name plus, usually, DOB or age and sometimes an alias."""
    phrase = full_name(rng, person)
    shape = rng.random()
    if shape < 0.62:
        phrase += dob(rng, person)
    elif shape < 0.78:
        phrase += age(rng, person)
    elif shape < 0.84 and person.race_sex:
        phrase += (f" ({person.race_sex}, ", Pii(str(person.age), "AGE", person.source), ")")
    if person.alias and rng.random() < 0.7:
        phrase += alias(rng, person)
    return phrase


def minor_intro(rng: random.Random, person: Person) -> Phrase:
    """'a 16 year old male, later identified as Jalen King (DOB ...)'."""
    noun = "female" if person.female else "male"
    lead: Phrase = ("a ", Pii(str(person.age), "AGE", person.source), f" year old {noun} later identified as ")
    return lead + full_name(rng, person) + dob(rng, person)


def alias(rng: random.Random, person: Person) -> Phrase:
    value = Pii(person.alias, "NICKNAME", person.source)
    shape = rng.random()
    if shape < 0.5:
        return (' aka "', value, '"')
    if shape < 0.7:
        return (" a.k.a. ", value)
    if shape < 0.85:
        return (" (aka ", value, ")")
    return (' (street name "', value, '")')


def phone(rng: random.Random, digits: str, source: str) -> Phrase:
    return (Pii(values.phone_format(rng, digits), "PHONE_NUMBER", source),)


def plate(rng: random.Random, state: str, value: str, source: str = "subject") -> Phrase:
    shape = rng.random()
    compact = values.plate_compact(value)
    if state != "MA":
        if shape < 0.5:
            return (f"registration ({state} ", Pii(value, "LICENSE_PLATE", source), ")")
        return (f"bearing {state} plate ", Pii(compact, "LICENSE_PLATE", source))
    if shape < 0.35:
        return ("MA Reg. ", Pii(value, "LICENSE_PLATE", source))
    if shape < 0.55:
        return ("MA Reg# ", Pii(value, "LICENSE_PLATE", source))
    if shape < 0.68:
        return ("Ma Reg:", Pii(compact, "LICENSE_PLATE", source))
    if shape < 0.82:
        return ("plate# ", Pii(compact, "LICENSE_PLATE", source))
    return ("bearing MA registration ", Pii(value, "LICENSE_PLATE", source))


def officer_surname(officer: Officer, upper: bool = False) -> Pii:
    return Pii(officer.last.upper() if upper else officer.last, "PERSON", "officer")


def officers_in_text(rng: random.Random, officers: tuple[Officer, ...], unit: str) -> Phrase:
    """'Officers Keane and Pina in the B201A' / 'Officer Dana Lopes' / 'Officers assigned to...'."""
    shape = rng.random()
    if len(officers) == 1 or shape < 0.15:
        first = officers[0]
        if rng.random() < 0.4:
            return ("Officer ", Pii(f"{first.first} {first.last}", "PERSON", "officer"))
        return ("Officer ", officer_surname(first))
    if shape < 0.75:
        phrase: Phrase = ("Officers ",)
        for index, officer in enumerate(officers[:3]):
            if index:
                phrase += (" and " if index == len(officers[:3]) - 1 else ", ",)
            phrase += (officer_surname(officer),)
        return phrase + (f" in the {unit}",)
    if shape < 0.9:
        return (f"Officers assigned to the {unit}",)
    return ("Officers",)


def sign_off(rng: random.Random, officers: tuple[Officer, ...], unit: str) -> Phrase:
    """The closing line: unit and officer surnames."""
    upper = rng.random() < 0.35
    names: Phrase = ()
    for index, officer in enumerate(officers[:3]):
        if index:
            names += (rng.choice(("/", " / ")) if index == 1 else "/",)
        names += (officer_surname(officer, upper),)
    shape = rng.random()
    if shape < 0.45:
        return (f"{unit} (",) + names + (")",)
    if shape < 0.65:
        return ("Off. ",) + names
    if shape < 0.8:
        return (officer_surname(officers[0], True), f" ({unit})")
    if shape < 0.9:
        return (f"{unit} ",) + names
    return ("- ",) + names
