"""Each recognizer, table-driven, with hard negatives (public words that must stay)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from release.pii.engine import PiiEngine, Redacted

# (text, PII value that must be redacted, expected placeholder label)
POSITIVE = [
    ("Subject lives at 45 Blue Hill Ave in Dorchester.", "45 Blue Hill Ave", "ADDRESS"),
    ("Observed in the rear of 12 Magazine St last night.", "12 Magazine St", "ADDRESS"),
    ("Group gathered at 100-104 Warren St again.", "100-104 Warren St", "ADDRESS"),
    ("He resides at 7 E. Cottage St Apt 2 with family.", "7 E. Cottage St Apt 2", "ADDRESS"),
    ("She resides at 54 A St #3 in Southie.", "54 A St #3", "ADDRESS"),
    ("Stopped in front of 88 Geneva near the store.", "88 Geneva", "ADDRESS"),
    ("A black Honda with MA reg 1AB234 was stopped.", "1AB234", "PLATE"),
    ("Vehicle bearing Reg. 7KL 992 fled the scene.", "7KL 992", "PLATE"),
    ("The car (registration (NH 4411XY)) was parked.", "4411XY", "PLATE"),
    ("Plate# 5RE699 came back revoked.", "5RE699", "PLATE"),
    ("Operator provided MA license S12345678 to officers.", "S12345678", "ID"),
    ("He presented LTC # 0045512 when asked.", "0045512", "ID"),
    ("His SSN 123-45-6789 was on the form.", "123-45-6789", "SSN"),
    ("Social 123 45 6789 was given verbally.", "123 45 6789", "SSN"),
    ("Number on file 123.45.6789 per CJIS.", "123.45.6789", "SSN"),
    ("Call him at (617) 555-0199 after six.", "(617) 555-0199", "PHONE"),
    ("Cell 617.555.0199 was provided.", "617.555.0199", "PHONE"),
    ("Reached at +1 617 555 0199 later.", "+1 617 555 0199", "PHONE"),
    ("Gave number 6175550199 to officers.", "6175550199", "PHONE"),
    ("Operator (DOB 03/14/1999) was released.", "03/14/1999", "DOB"),
    ("Subject, born March 14, 1999, was advised.", "March 14, 1999", "DOB"),
    ("D.O.B. 14 Mar 1999 per the operator.", "14 Mar 1999", "DOB"),
    ("The 1999-03-14 date was checked.", "1999-03-14", "DOB"),
    ("A 19 yoa male was observed.", "19", "AGE"),
    ("The 17 y/o juvenile was sent home.", "17", "AGE"),
    ("Officers spoke with a 17 year old female.", "17", "AGE"),
    ("Encountered a male (B/M, 34) outside.", "34", "AGE"),
    ("His email is tyrone.d@example.com per him.", "tyrone.d@example.com", "EMAIL"),
    ("He posts as @boogie617 on Instagram.", "@boogie617", "HANDLE"),
    ("Known on IG: kingpin_99 by the group.", "kingpin_99", "HANDLE"),
    ("Known to officers aka Boogie in the area.", "Boogie", "PERSON"),
    ("A male a/k/a \"Little Will\" was present.", "Little Will", "PERSON"),
    ("Mr. Washington stated he was waiting.", "Washington", "PERSON"),
    ("The owner, Smith, Tyrone, was not present.", "Smith, Tyrone", "PERSON"),
    ("See incident I192012345 for details.", "I192012345", "CASE"),
    ("Report filed under CC# 192012345-00 today.", "192012345-00", "CASE"),
    ("VIN 1HGCM82633A004352 was recorded.", "1HGCM82633A004352", "VIN"),
    ("Card 4111 1111 1111 1111 was found.", "4111 1111 1111 1111", "CARD"),
    ("Officers observed Tyrone Davis walking.", "Tyrone Davis", "PERSON"),
    # international phone formats
    ("Can you call me on 4471 2290 tomorrow?", "4471 2290", "PHONE"),
    ("Nobody is answering at 88 412907 today.", "88 412907", "PHONE"),
    ("Mobile: 0412 5567890 (after six)", "0412 5567890", "PHONE"),
    ("Her number 0731-4480912 was on the form.", "0731-4480912", "PHONE"),
    ("Front desk: 655 2310 office", "655 2310", "PHONE"),
    ("Reached him on +44 20 7946 0958 yesterday.", "+44 20 7946 0958", "PHONE"),
    ("Office line (02) 9374 4000 rang.", "(02) 9374 4000", "PHONE"),
    # non-US street addresses
    ("She lives at 27 Wexford Close in the village.", "27 Wexford Close", "ADDRESS"),
    ("The shop is at 9 Rue des Lilas since May.", "9 Rue des Lilas", "ADDRESS"),
    ("Send it to Via Garibaldi 48 please.", "Via Garibaldi 48", "ADDRESS"),
    ("Their office is on Calle Mayor 12 now.", "Calle Mayor 12", "ADDRESS"),
    ("Write to ul. Lipowa 7 instead.", "ul. Lipowa 7", "ADDRESS"),
    ("He moved to Lindholmsvej 41 last year.", "Lindholmsvej 41", "ADDRESS"),
    ("The flat at Bergstrasse 5 was empty.", "Bergstrasse 5", "ADDRESS"),
    ("Parcel for Kastanjegata 19 arrived.", "Kastanjegata 19", "ADDRESS"),
    ("Meet at Ostrander gate 14 tonight.", "Ostrander gate 14", "ADDRESS"),
    ("Mail for Hunyadi u. 22. came back.", "Hunyadi u. 22", "ADDRESS"),
    ("Ship to PSC 4120, Box 2231, APO AE 09140 now.", "PSC 4120, Box 2231, APO AE 09140", "ADDRESS"),
    ("Her mail goes to Unit 3050 Box 120 by ship.", "Unit 3050 Box 120", "ADDRESS"),
    ("Deliver the parcel to 40512 Alder 77\nand call first.", "40512 Alder 77", "ADDRESS"),
    ("Send it to 14 \u039f\u03b4\u03cc\u03c2 \u0395\u03c1\u03bc\u03bf\u03cd 22 today.",
     "14 \u039f\u03b4\u03cc\u03c2 \u0395\u03c1\u03bc\u03bf\u03cd 22", "ADDRESS"),
    # names after cues, titles and in name fields
    ("For a second opinion ask Dr. Fairweather today.", "Fairweather", "PERSON"),
    ("Name:    Oskar T. Brennan", "Oskar T. Brennan", "PERSON"),
    ("What is your last name? Quarshie", "Quarshie", "PERSON"),
    ("Tell them, says Lindqvist, that we are closed.", "Lindqvist", "PERSON"),
    ("Marja K. Lindholm chaired the meeting.", "Marja K. Lindholm", "PERSON"),
    ("Nothing found. R. K. is the associate of the operator.", "R. K", "PERSON"),
    ("Frisked; no weapons. J.M. stated he was waiting.", "J.M", "PERSON"),
    ("Operator stopped. QW was queried in CJIS.", "QW", "PERSON"),
]

# (text, words that must survive)
NEGATIVE = [
    ("Officers patrolled Blue Hill Ave near Warren St.", ["Blue", "Hill", "Ave", "Warren"]),
    ("The B2 district covers Roxbury and Dorchester.", ["B2", "Roxbury", "Dorchester"]),
    ("Units from BPD, MBTA and ATF responded to Mattapan.", ["BPD", "MBTA", "ATF", "Mattapan"]),
    ("A gray Honda Accord was parked on Magazine St.", ["gray", "Honda", "Accord", "Magazine"]),
    ("On Monday, July 17, 2020 officers conducted a stop.", ["Monday", "July", "17", "2020"]),
    ("At 4:50 PM officers in the D101F observed 3 males.", ["4", "50", "D101F", "3", "males"]),
    ("The suspect fled toward Harambee Park.", ["suspect", "fled", "Harambee", "Park"]),
    # hard negatives for the phone, address and name rules added for international formats
    ("The case number 2020 1234 was noted.", ["2020", "1234"]),
    ("Officers observed 2 dark green vehicles at 1530 hours.", ["2", "dark", "green", "1530"]),
    ("He was told to wait at the boarding gate 23 by staff.", ["boarding", "gate", "23"]),
    ("Officers drove down Dr. Martin Luther King Blvd to the scene.", ["Martin", "Luther", "King"]),
    ("The group fled via Blue Hill Ave toward Grove Hall.", ["via", "Blue", "Hill", "Grove", "Hall"]),
    ("He said Monday that he called Dispatch twice.", ["Monday", "Dispatch"]),
    ("She wore a Canada Goose jacket from Italy.", ["Canada", "Goose", "Italy"]),
    ("FROST IS KNOWN A.K.A. BIGGIE ON THE STREET.", ["A.K.A."]),
    ("Later T. Davis left with a friend.", ["Later", "friend"]),
    ("The U.S. was mentioned, BPD was there and ID was checked.", ["U.S.", "BPD", "ID"]),
    ("THE CAR WAS TOWED AND THE VAN WAS SEARCHED.", ["CAR", "VAN"]),
]


@pytest.mark.parametrize(("text", "value", "label"), POSITIVE, ids=[f"{p[2]}:{i}" for i, p in enumerate(POSITIVE)])
def test_recognizer_redacts(redact: Callable[..., Redacted], survives: Callable[..., bool],
                            text: str, value: str, label: str) -> None:
    result = redact(text)
    assert not survives(result, text, value)
    start = text.index(value)
    labels = {r.entity_type for r in result.replacements if r.start < start + len(value) and r.end > start}
    assert label in labels


@pytest.mark.parametrize(("text", "kept"), NEGATIVE, ids=[f"negative:{i}" for i in range(len(NEGATIVE))])
def test_public_words_are_kept(redact: Callable[..., Redacted], survives: Callable[..., bool],
                               text: str, kept: list[str]) -> None:
    result = redact(text)
    for word in kept:
        assert survives(result, text, word), word


@pytest.mark.parametrize(
    "text",
    ["The incident on 03/14/2020 was logged at 10:15.", "Officers returned on 7/4/2020 for follow up."],
    ids=["incident-date", "short-date"],
)
def test_recent_dates_outside_dob_context_are_kept(redact: Callable[..., Redacted], text: str) -> None:
    assert redact(text).text == text


# --- ASCII mode (release.pii.recognizers.ascii_twin): a speed-up that must change nothing ---

@pytest.mark.parametrize(("pattern", "text"), [
    ("[«-’]", "s"),          # a range past ASCII holds "ſ", which folds to "s"
    ("\u017f", "S"),         # the long s itself
    ("\u212a", "k"),         # the Kelvin sign
], ids=["range-past-ascii", "long-s", "kelvin-sign"])
def test_no_ascii_twin_where_ascii_mode_would_match_differently(pattern: str, text: str) -> None:
    import re

    from release.pii.recognizers import ascii_twin

    regex = re.compile(pattern, re.IGNORECASE)
    assert regex.search(text) and not re.compile(pattern, re.IGNORECASE | re.ASCII).search(text)
    assert ascii_twin(regex) is None


def test_plain_ascii_leaves_out_text_where_unicode_spaces_differ(engine: PiiEngine) -> None:
    from release.pii.spans import TextViews

    assert TextViews.build("Officers met Tyrone Davis.", engine.lexicon).plain_ascii
    assert not TextViews.build("Officers met\x1fTyrone Davis.", engine.lexicon).plain_ascii  # Unicode \s only
    assert not TextViews.build("Officers met Ṫyrone Ďavis ☃.", engine.lexicon).plain_ascii


def test_every_rule_matches_the_same_in_ascii_mode(engine: PiiEngine) -> None:
    """On synthetic narratives (evasions, ALL-CAPS, lower case) and their redactions, every shipped
    rule finds exactly the same spans with its ASCII twins as with the Unicode patterns."""
    import dataclasses

    from release.pii.spans import TextViews
    from release.synth.engine_inputs import engine_inputs
    from release.synth.fioe import generate_fioe

    inputs = engine_inputs(generate_fioe(2020, seed=5, n_reports=80, evasions=True), 2020)
    redacted = engine.redact_many(inputs.texts, inputs.terms)
    views = [TextViews.build(text, engine.lexicon) for text in inputs.texts]
    views += [TextViews.build(r.text, engine.lexicon, [(p.out_start, p.out_end) for p in r.replacements])
              for r in redacted]
    plain = [v for v in views if v.plain_ascii]
    assert len(plain) > len(views) * 0.8
    assert any(rule.ascii_compiled[i] is not rule.compiled[i] for rule in engine.rules
               for i in range(len(rule.compiled)))  # the twins are in use (all of them, today)
    for rule in engine.rules:
        fast = [rule.matches(v) for v in plain]
        unicode_mode = [rule.matches(dataclasses.replace(v, plain_ascii=False)) for v in plain]
        assert fast == unicode_mode, rule.spec.id
    assert sum(bool(rule.matches(v)) for rule in engine.rules for v in plain) > 500
