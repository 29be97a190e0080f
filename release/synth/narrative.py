"""Officer narratives for synthetic FIO reports, written in the style of Boston FIOE
narratives (patrol shorthand, "FIO'd and released", CJIS queries, DOBs in parentheses,
unit-and-surname sign-offs) from templates composed for this project.

One function per scenario; each writes into a ``Narrative`` so every planted value is
typed and located. Nothing here was taken from a City narrative.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime

from release.synth import phrases as say
from release.synth import values
from release.synth.facts import associates, person_facts
from release.synth.people import Officer
from release.synth.phrases import Person
from release.synth.places import LANDMARKS
from release.synth.prose import CLOSINGS, CONTEXT, OUTCOMES
from release.synth.text import Narrative, Phrase, Pii
from release.synth.vocab import CALLS, VIOLATIONS


@dataclass(frozen=True)
class Vehicle:
    """A fictitious vehicle a narrative may describe; its plate is planted PII."""

    year: str
    color: str
    make: str
    model: str
    state: str
    plate: str


@dataclass(frozen=True)
class Scene:
    """Everything a narrative may draw on for one report."""

    year: int
    when: datetime
    scenario: str
    officers: tuple[Officer, ...]
    unit: str
    streets: tuple[str, ...]
    address: str  # numbered incident address as written, or ""
    crossing: tuple[str, str] | None  # the two streets of a stop recorded at an intersection
    vehicle: Vehicle | None
    subjects: tuple[Person, ...]
    detail: float = 1.0  # how wordy this officer is today; drawn by ``write``


def write(rng: random.Random, scene: Scene) -> Narrative:
    story = Narrative()
    if scene.scenario == "short":
        _short(rng, story, scene)
        return story
    scene = replace(scene, detail=min(8.0, rng.lognormvariate(0.05, 0.7)))
    if rng.random() < 0.18:
        _header(rng, story, scene)
    if rng.random() < 0.3:
        _context(rng, story, scene)
    {"traffic": _traffic, "pedestrian": _pedestrian, "call": _call, "intel": _intel,
     "homeless": _homeless, "drugs": _drugs}[scene.scenario](rng, story, scene)
    if rng.random() < 0.35:
        _context(rng, story, scene)
    associates(rng, story, scene)
    _references(rng, story, scene)
    _closing(rng, story, scene)
    return story


def _count(rng: random.Random, scene: Scene, mean: float) -> int:
    """How many optional sentences to write: scaled by the narrative's detail level."""
    return min(7, int(rng.expovariate(1.0 / (mean * scene.detail)) + 0.5))


def _context(rng: random.Random, story: Narrative, scene: Scene) -> None:
    if len(story) and not story.ends_with((" ", "\n")):
        story.add(" ")
    for sentence in rng.sample(CONTEXT, min(len(CONTEXT), max(1, _count(rng, scene, 1.0)))):
        story.add(sentence + " ", s=rng.choice(scene.streets), l=rng.choice(LANDMARKS))
    story.add(_gap(rng))


# -- shared pieces ---------------------------------------------------------------------

def _when(rng: random.Random, when: datetime) -> str:
    hour12 = when.hour % 12 or 12
    ampm = "am" if when.hour < 12 else "pm"
    day = when.strftime("%A")
    shape = rng.random()
    if shape < 0.35:
        return f"About {hour12}:{when.minute:02d} {ampm} on {day}, {when.month:02d}/{when.day:02d}/{when.year}, "
    if shape < 0.5:
        month = values.MONTHS[when.month - 1]
        return f"On {day}, {month} {when.day}, {when.year} at approximately {when.hour:02d}{when.minute:02d} hours, "
    if shape < 0.62:
        return f"At about {hour12}:{when.minute:02d}{ampm.upper()} on {when.month}/{when.day}/{when.year % 100:02d}, "
    if shape < 0.7:
        return f"On {when.month}/{when.day}/{when.year}, "
    return ""


def _crossing(rng: random.Random, scene: Scene) -> tuple[str, str]:
    first = rng.choice(scene.streets)
    second = rng.choice(scene.streets)
    while second == first and len(scene.streets) > 1:
        second = rng.choice(scene.streets)
    return first, second


def _where(rng: random.Random, scene: Scene) -> Phrase:
    """The place of the stop: the numbered address if known, else an intersection."""
    if scene.address and rng.random() < 0.8:
        lead = rng.choice(("at ", "in front of ", "in the area of ", "outside "))
        return (lead, Pii(scene.address, "STREET_ADDRESS", "subject"))
    first, second = scene.crossing if scene.crossing and rng.random() < 0.85 else _crossing(rng, scene)
    return (rng.choice((f"at {first} and {second}", f"in the area of {first} and {second}",
                        f"at {first}/{second}", f"near {rng.choice(LANDMARKS)}")),)


def _gap(rng: random.Random) -> str:
    return rng.choices((" ", "\n\n", "\n", "\n\n\n", "\n \n"), (42, 38, 12, 4, 4))[0]


def _intro(rng: random.Random, person: Person) -> Phrase:
    if person.age < 18 and rng.random() < 0.35:
        return say.minor_intro(rng, person)
    return say.intro(rng, person)


def _roll_call(rng: random.Random, story: Narrative, scene: Scene, roles: tuple[str, ...]) -> None:
    """One line per person: 'Operator: Name (DOB ...)' and a few facts."""
    for index, person in enumerate(scene.subjects):
        role = roles[index] if index < len(roles) else f"Passenger {index}"
        separator = rng.choice((": ", " - ", " "))
        story.add("{r}{s}{p}", r=role, s=separator, p=_intro(rng, person))
        story.add(rng.choices((". ", "\n", ".\n", " "), (60, 20, 15, 5))[0])
        person_facts(rng, story, scene, person, _count(rng, scene, 0.9))
        story.add("\n" if rng.random() < 0.6 else "")


def _group(rng: random.Random, story: Narrative, scene: Scene) -> None:
    """Large groups: a numbered list of everyone identified."""
    story.add(rng.choice(("Officers identified the following individuals:\n", "Parties identified:\n",
                          "The following were FIO'd:\n")))
    for index, person in enumerate(scene.subjects, start=1):
        story.add("{i}. {p}\n", i=str(index), p=say.full_name(rng, person) + say.dob(rng, person))
    for person in scene.subjects[:2]:
        person_facts(rng, story, scene, person, 1)


def _people(rng: random.Random, story: Narrative, scene: Scene, lead: str, **slots: str | Phrase) -> None:
    """Mention every subject: the first in the ``lead`` sentence, the others after it."""
    subjects = scene.subjects
    if not subjects:
        story.add(lead, p=("an unknown party",), w=_where(rng, scene), **slots)
        story.add(rng.choice((" The party refused to identify.", " Party left the area before ID.")))
        return
    if len(subjects) >= 5:
        story.add(lead, p=(f"a group of {len(subjects)}",), w=_where(rng, scene), **slots)
        story.add(_gap(rng))
        _group(rng, story, scene)
        return
    story.add(lead, p=_intro(rng, subjects[0]), w=_where(rng, scene), **slots)
    story.add(" ")
    person_facts(rng, story, scene, subjects[0], _count(rng, scene, 1.6))
    for person in subjects[1:]:
        story.add(rng.choice(("{q} was with {p}. ", "{q} was accompanied by {p}. ",
                              "Also present was {p}. ", "{p} was also FIO'd. ")),
                  q=say.ref(rng, subjects[0], sentence_start=True), p=_intro(rng, person))
        person_facts(rng, story, scene, person, _count(rng, scene, 1.0))


# -- scenarios ------------------------------------------------------------------------

def _header(rng: random.Random, story: Narrative, scene: Scene) -> None:
    first, second = _crossing(rng, scene)
    label = rng.choice(("Invest person", "T/S", "Intel", "Suspicious activity", "FIO"))
    story.add(f"{scene.unit} - {label} @ {first}/{second}" + rng.choice(("\n", "\n\n", "\n\n", " - ")))


def _traffic(rng: random.Random, story: Narrative, scene: Scene) -> None:
    vehicle = scene.vehicle
    if vehicle is None:
        _pedestrian(rng, story, scene)
        return
    model_year = f"{vehicle.year} " if vehicle.year and rng.random() < 0.5 else ""
    car = f"{model_year}{vehicle.color.lower()} {vehicle.make} {vehicle.model}"
    plate = say.plate(rng, vehicle.state, vehicle.plate)
    violation = rng.choice(VIOLATIONS)
    shape = rng.random()
    if shape < 0.45:
        story.add("{t}{o} pulled over a {c} {r} for {v} {w}.",
                  t=_when(rng, scene.when), o=say.officers_in_text(rng, scene.officers, scene.unit),
                  c=car, r=plate, v=violation, w=_where(rng, scene))
    elif shape < 0.75:
        story.add("{t}{o} observed a {c} ({r}) {v}. The vehicle was stopped {w}.",
                  t=_when(rng, scene.when), o=say.officers_in_text(rng, scene.officers, scene.unit), c=car, r=plate,
                  v=rng.choice(("weaving between lanes", "double parked and idling", "with heavily tinted windows",
                                "pull away without headlights on", "circling the block several times")),
                  w=_where(rng, scene))
    else:
        story.add("T/S for {v} {w}. {c} {r}.", v=violation, w=_where(rng, scene), c=car[:1].upper() + car[1:], r=plate)
    if rng.random() < 0.04:
        story.add(" CJIS inquiry on VIN {n} showed the registration was revoked.",
                  n=Pii(values.vin(rng), "VIN", "associate"))
    story.add(_gap(rng))
    _roll_call(rng, story, scene, ("Operator", "Front passenger", "Rear passenger (driver side)",
                                   "Rear passenger (passenger side)"))


def _pedestrian(rng: random.Random, story: Narrative, scene: Scene) -> None:
    lead = rng.choice((
        "{t}{o} observed {p} walking {w}.",
        "While on patrol, {o} stopped {p} {w} after observing the party look into parked cars.",
        "{t}{o} encountered {p} {w}.",
        "{o} observed {p} standing {w}; the party fit the description given by dispatch.",
        "{t}{o} spoke with {p} {w} after a neighbor complained about loitering.",
    ))
    _people(rng, story, scene, lead, t=_when(rng, scene.when),
            o=say.officers_in_text(rng, scene.officers, scene.unit))


def _call(rng: random.Random, story: Narrative, scene: Scene) -> None:
    story.add("{t}{o} responded {w} for a report of {c}. ", t=_when(rng, scene.when),
              o=say.officers_in_text(rng, scene.officers, scene.unit), c=rng.choice(CALLS), w=_where(rng, scene))
    story.add(_gap(rng))
    _people(rng, story, scene, rng.choice(("On arrival officers spoke with {p} {w}.",
                                           "Officers located {p} {w}, who matched the description.",
                                           "The caller pointed out {p} {w}.")))


def _intel(rng: random.Random, story: Narrative, scene: Scene) -> None:
    if scene.vehicle is not None and rng.random() < 0.5:
        vehicle = scene.vehicle
        story.add("Officers observed a {c} {m} {r} parked {w}. ", c=vehicle.color.lower(), m=vehicle.model,
                  r=say.plate(rng, vehicle.state, vehicle.plate), w=_where(rng, scene))
    _people(rng, story, scene, rng.choice(("Officers observed {p} hanging out {w}.",
                                           "{p} was observed {w} with known associates.",
                                           "Intel: {p} seen {w}.")))
    story.add(rng.choice((" Intel purposes only.", " FIO for intelligence.", "")))


def _homeless(rng: random.Random, story: Narrative, scene: Scene) -> None:
    _people(rng, story, scene, rng.choice((
        "Officers encountered {p} sleeping {w}.",
        "Officers checked on the well-being of {p} {w}.",
        "{p} was found in a tent {w}.")))
    story.add(rng.choice((" Services were offered and declined.", " Offered a ride to a shelter bed.",
                          " Street outreach notified.")))


def _drugs(rng: random.Random, story: Narrative, scene: Scene) -> None:
    _people(rng, story, scene, rng.choice((
        "Officers watched {p} make a suspected hand-to-hand exchange with another party {w}.",
        "{p} was observed {w} in an area known for open air drug sales.")))
    story.add(rng.choice((" Nothing recovered.", " Officers recovered a small amount of crack cocaine.",
                          " Needles disposed of.")))


def _short(rng: random.Random, story: Narrative, scene: Scene) -> None:
    if not scene.subjects or rng.random() < 0.3:
        story.add(rng.choice(("FIO - intel only", "Intel.", "FIO", "See report.")))
    else:
        story.add(rng.choice(("Encountered {p} {w}. FIO'd and released.", "Intel FIO - {p} observed {w}.",
                              "{p} stopped {w}, FIO'd.")), p=say.intro(rng, scene.subjects[0]), w=_where(rng, scene))
    if rng.random() < 0.5:
        story.add("\n\n{s}", s=say.sign_off(rng, scene.officers, scene.unit))


def _references(rng: random.Random, story: Narrative, scene: Scene) -> None:
    if rng.random() > 0.15:
        return
    number = Pii(values.incident_number(rng, scene.year), "INCIDENT_NUMBER", "associate")
    story.add(rng.choice((" See {n}.", " (see {n} narrative)", " Related to {n}.",
                          " Refer to incident report {n} for details.")), n=number)


def _closing(rng: random.Random, story: Narrative, scene: Scene) -> None:
    story.add(_gap(rng))
    outcomes = min(3, _count(rng, scene, 0.7))
    for sentence in rng.sample(OUTCOMES, min(outcomes, len(OUTCOMES))):
        story.add(sentence + " ")
    story.add(rng.choice(CLOSINGS))
    if rng.random() < 0.8:
        story.add(_gap(rng) + "{s}", s=say.sign_off(rng, scene.officers, scene.unit))
