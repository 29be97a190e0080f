"""Sentences about one person in a narrative: record, CJIS query, home, phone, licence,
alias, social handle, e-mail, rarely an SSN, plus demeanour and what the person said.

Split from ``narrative.py`` because the person-level choices are most of the generator's
variety; each PII value written here is typed through ``Pii`` so its offsets are known.
"""

from __future__ import annotations

import random
from datetime import date
from typing import TYPE_CHECKING, Protocol

from release.synth import phrases as say
from release.synth import values
from release.synth.people import compose, group_for, nickname
from release.synth.phrases import Person
from release.synth.places import LANDMARKS
from release.synth.prose import DEMEANOR, STATEMENTS
from release.synth.text import Narrative, Pii
from release.synth.vocab import CHARGES, CLOTHING_TEXT

if TYPE_CHECKING:
    from release.synth.narrative import Scene


class HasStreets(Protocol):
    """What ``person_facts`` needs of a scene (streets to put people on); a Protocol, since ``narrative``
    imports this module."""

    @property
    def streets(self) -> tuple[str, ...]: ...


def person_facts(rng: random.Random, story: Narrative, scene: HasStreets, person: Person, count: int) -> None:
    """Up to ``count`` sentences about ``person``, each followed by a space or a line break."""
    options = ["record", "cjis", "clothing", "known", "frisk", "demeanor", "statement", "statement"]
    if person.home:
        options.append("home")
    if person.phone:
        options += ["phone"]
    if person.licence:
        options += ["licence"]
    if person.alias:
        options += ["alias"]
    if rng.random() < 0.25:
        options.append("handle")
    if rng.random() < 0.12:
        options.append("email")
    if rng.random() < 0.04:
        options.append("ssn")
    for fact in rng.sample(options, min(count, len(options))):
        _one_fact(rng, story, scene, person, fact)
        story.add(" " if rng.random() < 0.75 else rng.choice(("\n", "\n\n")))


def _one_fact(rng: random.Random, story: Narrative, scene: HasStreets, person: Person, fact: str) -> None:
    who = say.ref(rng, person, sentence_start=True)
    him = "her" if person.female else "him"
    if fact == "record":
        story.add(rng.choice(("{p} has {c}.", "A query in CJIS showed {p} has {c}.",
                              "{p} is on probation for {c}.", "{p} has an extensive BOP including {c}.")),
                  p=who, c=rng.choice(CHARGES))
    elif fact == "cjis":
        story.add(rng.choice(("{p} was queried in CJIS with negative results.",
                              "{p} was checked for wants/warrants, none found.",
                              "{p} came back clear in CJIS/WMS.",
                              "A CJIS check of {p} revealed an active warrant out of BMC.")), p=who)
    elif fact == "clothing":
        story.add("{p} was wearing {c}.", p=who, c=rng.choice(CLOTHING_TEXT))
    elif fact == "known":
        story.add(rng.choice(("{p} is a known {s} associate.", "{p} is well known to district officers.",
                              "{p} has been seen frequently in the {s} area.",
                              "{p} has been FIO'd several times this year with members of the {s} group.")),
                  p=who, s=rng.choice(scene.streets))
    elif fact == "frisk":
        story.add(rng.choice(("{p} was pat-frisked; no weapons located.",
                              "Due to {q} movements toward {x} waistband, {h} was pat frisked. Nothing found.")),
                  p=who, q=say.ref(rng, person, possessive=True), x=say.his(person), h=say.he(person))
    elif fact == "demeanor":
        story.add(rng.choice(DEMEANOR), q=who, x=say.his(person), h=say.he(person))
    elif fact == "statement":
        story.add(rng.choice(STATEMENTS), q=who, x=say.his(person), h=say.he(person),
                  s=rng.choice(scene.streets), l=rng.choice(LANDMARKS))
    elif fact == "home":
        story.add(rng.choice(("{p} stated {h} lives at {a}.", "{p} resides at {a}.",
                              "{p} gave an address of {a}.", "{p} is staying with family at {a}.")),
                  p=who, h=say.he(person), a=Pii(person.home, "STREET_ADDRESS", person.source))
    elif fact == "phone":
        story.add(rng.choice(("{p} provided a phone number of {n}.", "Contact # for {q} is {n}.",
                              "{p} gave cell {n}.", "{p} can be reached at {n}.")),
                  p=who, q=say.ref(rng, person), n=say.phone(rng, person.phone, person.source))
    elif fact == "licence":
        story.add(rng.choice(("{p} presented a {s} license ({n}).", "{p} Lic# {n}.",
                              "{p} provided {s} ID {n}.", "{p} was identified by {s} license {n}.")),
                  p=who, s=person.licence_state, n=Pii(person.licence, "US_DRIVER_LICENSE", person.source))
    elif fact == "alias":
        story.add(rng.choice(('{p} goes by "{n}" on the street.', "{p} is also known as {n}.")),
                  p=who, n=Pii(person.alias, "NICKNAME", person.source))
    elif fact == "handle":
        handle = values.handle(rng, person.name.first, person.alias)
        story.add(rng.choice(("{p} posts on IG as @{h}.", "{q} IG @{h} shows {x} posing with a firearm.",
                              "{p} has a SC account @{h}.", "{p} is active on Instagram (@{h}).")),
                  p=who, q=say.ref(rng, person, sentence_start=True, possessive=True), x=him,
                  h=Pii(handle, "SOCIAL_HANDLE", "associate"))
    elif fact == "email":
        story.add(rng.choice(("{p} provided an email of {e}.", "{p} gave email {e} for follow up.")), p=who,
                  e=Pii(values.email(rng, person.name.first, person.name.last), "EMAIL_ADDRESS", "associate"))
    else:
        story.add("{p} provided SSN {n}.", p=who, n=Pii(values.ssn(rng), "US_SSN", "associate"))


def associates(rng: random.Random, story: Narrative, scene: Scene) -> None:
    """Persons named only in the text (absent from every structured field)."""
    if not scene.subjects or rng.random() > 0.3:
        return
    anchor = scene.subjects[0]
    for _ in range(rng.choice((1, 1, 1, 2))):
        female = rng.random() < 0.25
        name = compose(rng, group_for(rng, rng.choice(("Black", "White", "Black", "Other"))), female)
        years = rng.randint(15, 45)
        born = date(scene.year - years, rng.randint(1, 12), rng.randint(1, 28))
        associate = Person(name=name, female=female, age=years, dob=born,
                           alias=nickname(rng, name.first) if rng.random() < 0.3 else "", source="associate")
        story.add(" ")
        templates = [
            "{q} was in the company of {a}, who left before officers could speak with him.",
            "{q} stated {h} was waiting for {x} cousin {a}.",
            "{q} is the associate of {a}, who was shot on {s} last month.",
            "{a} was also observed across the street.",
        ]
        if scene.vehicle is not None:
            templates += ["Vehicle comes back registered to {a} of {home}."] * 2
        story.add(rng.choice(templates), q=say.ref(rng, anchor, sentence_start=True),
                  a=say.intro(rng, associate), h=say.he(anchor),
            x=say.his(anchor), s=rng.choice(scene.streets),
            home=Pii(f"{values.house_number(rng)} {rng.choice(scene.streets)}", "STREET_ADDRESS", "associate"))
        if associate.alias and rng.random() < 0.3:
            story.add(" {a} goes by {n}.", a=say.ref(rng, associate, sentence_start=True),
                      n=Pii(associate.alias, "NICKNAME", "associate"))
