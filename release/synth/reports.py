"""One synthetic FIO report drawn at random: its date, place, crew, vehicle, persons,
categories and narrative, before fc_num and person ids are assigned in entry order.

Every report has its own ``random.Random`` (seeded from the run's generator), plus
separate ones for its case style and evasions, so switching ``case_mix`` or
``evasions`` changes only the narrative's surface, never the rest of the export.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from release.synth import narrative, rows, values
from release.synth.narrative import Scene, Vehicle
from release.synth.people import Officer, weighted
from release.synth.places import OUTSIDE_TOWNS, STATE_SPELLINGS
from release.synth.text import CaseStyle
from release.synth.vocab import (
    BASIS,
    CIRCUMSTANCE,
    KEY_SITUATIONS,
    PERSONS_PER_REPORT,
    STOP_MINUTES,
    UNIT_LETTERS,
    UNIT_SUFFIX,
    US_STATES,
    VEHICLE_COLOR,
    VEHICLE_STYLE_CAR,
    VEHICLE_STYLE_OTHER,
    VEHICLES,
    WEATHER_DAY,
    WEATHER_NIGHT,
)

CONTACT_COLUMNS: tuple[str, ...] = (
    "fc_num", "contact_date", "contact_officer", "contact_officer_name", "supervisor",
    "supervisor_name", "street", "city", "state", "zip", "incident_address", "stop_duration",
    "circumstance", "basis", "vehicle_year", "vehicle_state", "vehicle_model", "vehicle_color",
    "vehicle_style", "vehicle_type", "vehicle_plate", "key_situations", "contact_reason", "weather",
)
SCENARIOS: tuple[tuple[str, float], ...] = (
    ("traffic", 33.0), ("pedestrian", 20.0), ("call", 12.0), ("intel", 15.0), ("homeless", 6.0),
    ("drugs", 5.0), ("short", 8.0), ("blank", 1.1),
)
EVASION_RATE = 0.10


@dataclass(frozen=True)
class DrawnReport:
    """One drawn report before numbering (fc_num is assigned in entry order)."""

    entered: datetime
    contact_rows: list[dict[str, str]]
    person_rows: list[dict[str, str]]
    spans: list[tuple[int, int, str, str, str]]


def draw_crew(rng: random.Random, officers: list[Officer], weights: list[float]) -> tuple[Officer, ...]:
    size = rng.choices((1, 2, 3), (30, 60, 10))[0]
    crew: list[Officer] = []
    for _attempt in range(50):
        if len(crew) == size:
            break
        officer = rng.choices(officers, weights)[0]
        if all(officer.last != member.last for member in crew):
            crew.append(officer)
    return tuple(crew)


def draw_when(rng: random.Random, year: int) -> tuple[datetime, str]:
    start = datetime(year, 1, 1)
    days = (datetime(year + 1, 1, 1) - start).days
    hour = rng.choices(range(24), (5, 4, 3, 2, 1, 1, 1, 1.5, 2, 3, 3, 4, 4, 4, 4, 5, 6, 6, 7, 7, 7, 7, 6, 6))[0]
    minute = rng.randint(0, 59) if rng.random() < 0.8 else rng.choice((0, 15, 30, 45))
    when = start + timedelta(days=rng.randrange(days), hours=hour, minutes=minute)
    if rng.random() < 0.015:
        when = when.replace(hour=0, minute=0)
    text = when.strftime("%Y-%m-%d %H:%M:%S")
    if rng.random() < 0.005:
        text += f".{rng.randint(0, 9999999):07d}"
    return when, text


def draw_report(
    report_seed: str, year: int, crew: tuple[Officer, ...], supervisor: Officer, evasions: bool, case_mix: bool
) -> DrawnReport:
    rng = random.Random(report_seed)
    when, when_text = draw_when(rng, year)
    scenario = weighted(rng, SCENARIOS)
    area = rows.pick_area(rng)
    # Mark43 often records "BOSTON" whatever the neighbourhood; the zip keeps the place.
    city = "BOSTON" if rng.random() < 0.35 else area.city
    zip_code = area.zip_code
    if rng.random() < 0.002:
        city, zip_code = rng.choice(OUTSIDE_TOWNS)
    main_street = rng.choice(area.streets)
    address_cell, address_text, street_cell = "", "", ""
    crossing: tuple[str, str] | None = None
    if rng.random() < 0.71:
        cross = rng.choice(area.streets)
        if rng.random() < 0.15 and cross != main_street:
            crossing = (main_street, cross)
            address_cell = f"{main_street} & {cross}"
            street_cell = address_cell.upper()
        else:
            address_cell, address_text = values.incident_address(rng, main_street)
            street_cell = (values.long_suffix(main_street) if rng.random() < 0.04 else main_street).upper()
    elif rng.random() < 0.3:
        address_cell, address_text = values.incident_address(rng, main_street)

    vehicle, vehicle_cells = _draw_vehicle(rng, year, scenario)
    count = int(weighted(rng, tuple((str(n), w) for n, w in PERSONS_PER_REPORT)))
    minor_boost = 1.2 if scenario == "pedestrian" else 1.0
    draws = [rows.person_row(rng, when, scenario, minor_boost) for _ in range(count)]
    has_minor = any(draw.person.age < 18 for draw in draws)
    unit = _unit(rng)

    circumstance = weighted(rng, CIRCUMSTANCE)
    if rng.random() < 0.6:
        usual = {"traffic": "Stopped", "homeless": "Encountered", "intel": "Observed"}
        circumstance = usual.get(scenario, circumstance)
    bases = [weighted(rng, BASIS)]
    extra = rng.random()
    if extra < 0.02:
        bases += [weighted(rng, BASIS) for _ in range(1 if extra < 0.0178 else 2)]
    situations = [name for name, share in KEY_SITUATIONS if rng.random() < share]
    if scenario == "homeless" and "Homeless" not in situations and rng.random() < 0.85:
        situations.append("Homeless")
    if scenario == "drugs" and "Drugs" not in situations and rng.random() < 0.7:
        situations.append("Drugs")
    if has_minor and rng.random() < 0.6:
        situations.append("Juvenile")
    rng.shuffle(situations)
    night = when.hour >= 19 or when.hour < 6
    weather = weighted(rng, WEATHER_NIGHT if night else WEATHER_DAY) if rng.random() < 0.79 else rows.missing(rng)

    if scenario == "blank":
        text, spans = rng.choice(("", "", "", "", "NULL")), []
    else:
        scene = Scene(year=year, when=when, scenario=scenario, officers=crew, unit=unit,
                      streets=area.streets, address=address_text, crossing=crossing, vehicle=vehicle,
                      subjects=tuple(draw.person for draw in draws))
        story = narrative.write(rng, scene)
        case_rng = random.Random(report_seed + "/case")
        case: CaseStyle = "as_written"
        if case_mix:
            case = rng_case(case_rng)
        evasion_rng = random.Random(report_seed + "/evasion") if evasions else None
        text, rendered = story.render(case, evasion_rng, EVASION_RATE)
        spans = [(s.start, s.end, s.entity_type, s.value, s.source) for s in rendered]

    lead = crew[0]
    contact = {
        "contact_date": when_text,
        "contact_officer": lead.employee_id,
        "contact_officer_name": lead.roster_name,
        "supervisor": supervisor.employee_id,
        "supervisor_name": f"{supervisor.first} {supervisor.last}".upper(),
        "street": street_cell or rows.missing(rng),
        "city": rows.stray(rng, city),
        "state": weighted(rng, STATE_SPELLINGS),
        "zip": zip_code,
        "incident_address": address_cell or rows.missing(rng),
        "stop_duration": weighted(rng, STOP_MINUTES) if rng.random() < 0.24 else rows.missing(rng),
        "circumstance": rows.stray(rng, circumstance),
        **vehicle_cells,
        "key_situations": " " + ", ".join(situations) if situations else rows.missing(rng),
        "contact_reason": text,
        "weather": weather,
    }
    contact_rows = [dict(contact, basis=basis) for basis in bases]
    person_rows = [dict(draw.row, contact_date=when_text) for draw in draws]
    entered = when + timedelta(hours=rng.randint(0, 20))
    if rng.random() < 0.03:
        entered += timedelta(days=rng.randint(2, 40))
    return DrawnReport(entered, contact_rows, person_rows, spans)


def rng_case(rng: random.Random) -> CaseStyle:
    """~7% of narratives are typed in capitals, ~2% all in lower case."""
    shape = rng.random()
    return "upper" if shape < 0.07 else "lower" if shape < 0.09 else "as_written"


def _unit(rng: random.Random) -> str:
    letter = rng.choice(UNIT_LETTERS)
    if rng.random() < 0.2:
        return f"{letter}K{rng.randint(1, 6):02d}{rng.choice(UNIT_SUFFIX)}"
    return f"{letter}{rng.randint(1, 4)}{rng.randint(1, 40):02d}{rng.choice(UNIT_SUFFIX)}"


def _draw_vehicle(rng: random.Random, year: int, scenario: str) -> tuple[Vehicle | None, dict[str, str]]:
    share = {"traffic": 1.0, "intel": 0.3, "drugs": 0.15, "short": 0.1}.get(scenario, 0.05)
    columns = ("vehicle_year", "vehicle_state", "vehicle_model", "vehicle_color", "vehicle_style",
               "vehicle_type", "vehicle_plate")
    if rng.random() >= share:
        token = rows.missing(rng)
        return None, {column: token for column in columns}
    make, model, vehicle_type, _w = rng.choices(VEHICLES, [v[3] for v in VEHICLES])[0]
    age = min(int(rng.expovariate(1 / 7.0)), year - 1989)
    model_year = str(year + 1 - age) if rng.random() < 0.96 else ""
    if rng.random() < 0.002:
        model_year = str(year + rng.randint(4, 7))
    state = weighted(rng, US_STATES)
    plate = values.plate(rng, state, vanity_from=model)
    color = weighted(rng, VEHICLE_COLOR)
    car = vehicle_type == "Passenger Car/ Automobile"
    style = weighted(rng, VEHICLE_STYLE_CAR if car else VEHICLE_STYLE_OTHER)
    cells = {
        "vehicle_year": model_year or rows.missing(rng),
        "vehicle_state": state,
        "vehicle_model": model,
        "vehicle_color": color,
        "vehicle_style": style if rng.random() < 0.95 else rows.missing(rng),
        "vehicle_type": vehicle_type,
        "vehicle_plate": plate,
    }
    spoken_color = {"GRA": "gray", "BLA": "black", "GRE": "green"}.get(color, color)
    return Vehicle(model_year, spoken_color, make, model, state, plate), cells
