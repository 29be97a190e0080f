"""Categorical value domains of the raw FIOE export, with the spellings and rough shares of
the City's exports (trailing space in ``Reasonable Suspicion ``, ``Other: ...`` free
entries, leading space in ``key_situations``).

Only value domains and approximate frequencies are kept here; no row, narrative or name
of a real file is. Weights are relative and need not sum to one.
"""

from __future__ import annotations

Weighted = tuple[tuple[str, float], ...]

CIRCUMSTANCE: Weighted = (("Stopped", 60.0), ("Encountered", 25.5), ("Observed", 14.5))
BASIS: Weighted = (
    ("Probable Cause", 32.0),
    ("Reasonable Suspicion ", 28.7),
    ("Encounter", 20.7),
    ("Intel", 18.5),
)

# Independent chance of each key situation; "Juvenile" is added when a minor is listed.
KEY_SITUATIONS: Weighted = (
    ("Body Worn Camera", 0.43),
    ("Gang", 0.19),
    ("Homeless", 0.10),
    ("Drugs", 0.073),
    ("Warrant Arrest", 0.035),
    ("Gun", 0.03),
    ("Shots Fired", 0.018),
    ("Other Agency/Unit Notified", 0.017),
    ("Bicycle", 0.013),
    ("Victim Shot", 0.005),
    ("Elderly", 0.003),
    ("Victim Stabbed", 0.002),
    ("Sex Offender", 0.002),
    ("Homeland Security", 0.002),
    ("Search Warrant", 0.0006),
    ("School", 0.0004),
)

WEATHER_DAY: Weighted = (
    ("Sunny", 50.0), ("Cloudy/Partly Cloudy", 18.0), ("Raining", 13.0), ("Overcast", 6.0),
    ("Snowing", 1.0), ("Other", 0.6), ("Severe Cross Wind", 0.6), ("Fog/Smog/Smoke", 0.4),
    ("Blowing Sand/Dirt/Snow", 0.3), ("Sleet/Hail/Freezing Rain", 0.3), ("Unknown", 0.15),
)
WEATHER_NIGHT: Weighted = (
    ("Clear (Night)", 80.0), ("Raining", 9.0), ("Overcast", 3.0), ("Cloudy/Partly Cloudy", 4.0),
    ("Snowing", 0.7), ("Fog/Smog/Smoke", 0.3), ("Other", 0.4), ("Unknown", 0.1),
)

# (make, model, vehicle_type) as an officer would write them.
VEHICLES: tuple[tuple[str, str, str, float], ...] = (
    ("Honda", "Accord", "Passenger Car/ Automobile", 23.0),
    ("Nissan", "Altima", "Passenger Car/ Automobile", 14.0),
    ("Honda", "Civic", "Passenger Car/ Automobile", 10.0),
    ("Ford", "Fusion", "Passenger Car/ Automobile", 6.6),
    ("Toyota", "Camry", "Passenger Car/ Automobile", 5.6),
    ("Toyota", "Corolla", "Passenger Car/ Automobile", 4.6),
    ("Chevrolet", "Malibu", "Passenger Car/ Automobile", 4.4),
    ("Infiniti", "G35", "Passenger Car/ Automobile", 3.5),
    ("Acura", "Tl", "Passenger Car/ Automobile", 3.4),
    ("Hyundai", "Sonata", "Passenger Car/ Automobile", 3.3),
    ("Infiniti", "G37", "Passenger Car/ Automobile", 3.0),
    ("Jeep", "Grand Cherokee", "Suv (sport Utility Vehicle)", 2.9),
    ("Chevrolet", "Impala", "Passenger Car/ Automobile", 2.6),
    ("BMW", "328Xi", "Passenger Car/ Automobile", 2.6),
    ("Hyundai", "Elantra", "Passenger Car/ Automobile", 2.5),
    ("Nissan", "Sentra", "Passenger Car/ Automobile", 2.4),
    ("Dodge", "Charger", "Passenger Car/ Automobile", 2.3),
    ("Nissan", "Rogue Sports", "Suv (sport Utility Vehicle)", 2.3),
    ("Ford", "Focus", "Passenger Car/ Automobile", 2.2),
    ("Mercedes-Benz", "C-Class", "Passenger Car/ Automobile", 2.2),
    ("Volkswagen", "Passat", "Passenger Car/ Automobile", 2.1),
    ("Audi", "A4", "Passenger Car/ Automobile", 2.1),
    ("Acura", "Tsx", "Passenger Car/ Automobile", 2.0),
    ("Infiniti", "Q50", "Passenger Car/ Automobile", 2.0),
    ("Nissan", "Maxima", "Passenger Car/ Automobile", 1.9),
    ("Honda", "Cr-V", "Suv (sport Utility Vehicle)", 1.1),
    ("BMW", "X5", "Suv (sport Utility Vehicle)", 1.1),
    ("Toyota", "Sienna", "Passenger Van", 1.0),
    ("Ford", "F-150", "Pickup Truck", 0.9),
    ("Dodge", "Grand Caravan", "Passenger Van", 0.8),
    ("Kia", "Optima", "Passenger Car/ Automobile", 1.3),
    ("Volkswagen", "Jetta", "Passenger Car/ Automobile", 1.1),
    ("Mazda", "Mazda3", "Passenger Car/ Automobile", 1.0),
    ("Lexus", "Is", "Passenger Car/ Automobile", 1.4),
    ("Yamaha", "Zuma", "Moped", 0.4),
    ("Honda", "CBR600", "Motorcycle", 0.4),
    ("Ford", "Transit", "Cargo Van", 0.2),
    ("Honda", "OTHER", "Other Vehicle", 0.5),
)
VEHICLE_COLOR: Weighted = (
    ("Gray", 27.0), ("Black", 24.0), ("White", 17.0), ("BLUE", 9.4), ("Red", 6.2),
    ("Silver", 3.7), ("Brown", 2.1), ("Green", 1.5), ("GRA", 1.4), ("Blue", 1.1),
    ("Gold", 0.6), ("BLA", 0.5), ("GRE", 0.3), ("Tan", 0.3), ("Purple", 0.2),
    ("Beige", 0.2), ("Maroon", 0.2), ("Light Blue", 0.2), ("Dark Blue", 0.2),
)
VEHICLE_STYLE_CAR: Weighted = (
    ("4 Door, Sedan", 65.0), ("Sedan", 8.0), ("Sedan, 4 Door", 5.2), ("Other", 4.1),
    ("Coupe", 2.9), ("Hatchback, 4 Door", 2.9), ("Sedan, 2 Door", 1.5), ("Wagon", 1.5),
    ("Hardtop, 4 Door", 0.7), ("Other: 4 dr ", 0.15), ("Other: 4 door", 0.15),
    ("Convertible", 0.25), ("Other: Sedan", 0.05),
)
VEHICLE_STYLE_OTHER: Weighted = (
    ("Other: SUV", 40.0), ("Other: suv", 8.0), ("Van", 20.0), ("Other: Utility ", 3.0),
    ("Station Wagon", 8.0), ("Chassis And Cab", 5.0), ("Other: pick up", 2.0), ("Other", 10.0),
)
US_STATES: Weighted = (
    ("MA", 84.0), ("FL", 3.1), ("NY", 3.0), ("NJ", 1.7), ("PA", 1.5), ("NH", 1.2),
    ("RI", 1.1), ("CT", 0.9), ("TX", 0.9), ("TN", 0.8), ("ME", 0.7), ("GA", 0.6),
    ("VA", 0.6), ("MD", 0.5), ("IL", 0.4), ("CA", 0.3), ("NC", 0.25), ("VT", 0.25),
    ("OTH", 0.15),
)

SEX: Weighted = (
    ("Male", 85.5), ("Female", 13.95), ("", 0.25), ("Unknown", 0.15),
    ("Male to Female Transgender", 0.13), ("Female to Male Transgender", 0.03),
)
RACE: Weighted = (
    ("Black", 62.3), ("White", 30.5), ("Unknown", 2.8), ("", 2.2), ("Other", 1.3),
    ("Asian", 0.85), ("Native Hawaiian or Other Pacific Islander", 0.03),
)
BUILD: Weighted = (
    ("", 34.5), ("Medium", 29.4), ("Thin", 25.3), ("Heavy", 5.2), ("Stocky", 2.1),
    ("Muscular", 1.6), ("Unknown", 1.0), ("Obese", 0.5), ("Average", 0.3), ("Small", 0.13),
)
HAIR_STYLE: Weighted = (
    ("", 76.5), ("Short", 9.5), ("Braided", 3.5), ("Dreadlocks", 1.9), ("Curly", 1.45),
    ("Bald or Balding", 1.4), ("Straight", 1.4), ("Afro", 1.15), ("Unkempt", 1.05),
    ("Wavy", 0.64), ("Bushy", 0.34), ("Corn Rows", 0.27), ("Pony Tail", 0.2),
    ("Receding or Slightly Receding", 0.15), ("Crew Cut", 0.13), ("Other", 0.1),
    ("Shaved Head", 0.07), ("Fade", 0.07), ("Combed Back", 0.06), ("Wig/hair Piece", 0.05),
)
SKIN_TONE_DARK: Weighted = (
    ("", 76.0), ("Medium Brown", 8.0), ("Dark Brown", 6.5), ("Dark", 3.2), ("Light Brown", 3.5),
    ("Brown", 1.0), ("Black", 0.4), ("OTHER", 0.2), ("Medium", 1.2),
)
SKIN_TONE_LIGHT: Weighted = (
    ("", 77.0), ("Light", 13.0), ("Medium", 5.0), ("Fair", 1.3), ("Light Brown", 2.0),
    ("Pale", 0.4), ("Olive", 0.1), ("Freckled", 0.05), ("OTHER", 0.15),
)
LICENSE_TYPE: Weighted = (
    ("", 69.2), ("Class D", 20.2), ("ID Only - Never had Personal Driver License", 5.1),
    ("ID - Had a License, now has ID", 2.5), ("Personal Driver License", 0.72),
    ("No License - Record Only", 0.72), ("None", 0.52), ("Instruction Permit", 0.2),
    ("CDL Class A", 0.17), ("CDL Class B", 0.15), ("Other: M", 0.1),
    ("Other: Suspended", 0.05), ("CDL Class C", 0.04), ("Other: Permit", 0.04),
    ("Other: Mass ID ", 0.02), ("Other: Learners Permit ", 0.01), ("Other: expired", 0.01),
)
# Persons per report (orphan person rows come on top), including a few large groups.
PERSONS_PER_REPORT: tuple[tuple[int, float], ...] = (
    (0, 0.1), (1, 55.6), (2, 26.9), (3, 10.1), (4, 4.2), (5, 1.6), (6, 0.8), (7, 0.33),
    (8, 0.37), (9, 0.2), (10, 0.14), (12, 0.09), (14, 0.05), (17, 0.04), (22, 0.02),
)
# Age at contact: (low, high, weight) bands, minors included.
AGE_BANDS: tuple[tuple[int, int, float], ...] = (
    (10, 12, 0.25), (13, 15, 2.4), (16, 17, 4.1), (18, 21, 15.5), (22, 25, 16.0),
    (26, 30, 18.5), (31, 35, 13.0), (36, 40, 9.6), (41, 45, 6.0), (46, 50, 4.0),
    (51, 55, 3.9), (56, 60, 2.3), (61, 66, 1.3), (67, 76, 0.3), (77, 86, 0.05),
)
STOP_MINUTES: Weighted = (
    ("0", 16.0), ("15", 10.7), ("10", 8.8), ("5", 7.0), ("30", 4.6), ("20", 4.4), ("25", 1.9),
    ("1", 1.6), ("8", 1.4), ("12", 1.4), ("7", 1.3), ("60", 1.3), ("45", 1.2), ("3", 1.0),
    ("2", 1.1), ("35", 0.8), ("40", 0.5), ("90", 0.2), ("120", 0.15), ("240", 0.05),
)

VIOLATIONS: tuple[str, ...] = (
    "VALs", "a red light violation", "window tint", "an expired inspection sticker",
    "rolling through a stop sign", "a headlight out", "speeding", "no rear plate light",
    "unsafe lane change", "an unregistered vehicle", "a marked lanes violation",
    "operating without headlights", "a crosswalk violation",
)
CALLS: tuple[str, ...] = (
    "a person showing a gun", "a fight in progress", "an unwanted guest", "a B&E in progress",
    "shots fired", "people drinking in a stairwell", "a disturbance", "a larceny",
    "a suspicious person", "an armed robbery", "a vandalism", "a drug sale in progress",
    "a person breaking into cars", "a sick/injured person", "youths throwing rocks",
)
CHARGES: tuple[str, ...] = (
    "firearm charges", "prior firearm and drug charges", "PWID Class B", "armed robbery",
    "A&B with a dangerous weapon", "B&E in the nighttime", "receiving stolen property",
    "trespassing", "a lengthy record for larceny", "an open gun case out of Roxbury court",
    "an open case out of Dorchester court", "a default warrant out of BMC",
    "a prior carjacking", "domestic A&B", "possession Class A", "shoplifting",
)
CLOTHING: tuple[str, ...] = (
    "BLACK JACKET, BLUE JEANS", "GRAY HOODIE, BLACK SWEATPANTS", "RED JACKET, BLACK PANTS",
    "WHITE T-SHIRT, GRAY JOGGERS", "BLK NORTH FACE, BLK PANTS", "CAMO JACKET, TAN PANTS",
    "BLUE HOODIE, BLUE JEANS, WHITE SNEAKERS", "GREEN JACKET, BLACK JEANS",
)
CLOTHING_TEXT: tuple[str, ...] = (
    "a black hooded sweatshirt and gray sweatpants", "a red puffer jacket and blue jeans",
    "a white tee, black basketball shorts and slides", "all black clothing and a black ski mask",
    "a camouflage jacket and tan work pants", "a gray North Face jacket and black jeans",
    "a green hoodie with the hood up", "a dark blue jacket, black pants and white sneakers",
)
UNIT_LETTERS: tuple[str, ...] = ("A", "B", "C", "D", "E", "H", "J", "K")
UNIT_SUFFIX: tuple[str, ...] = ("A", "D", "F")
