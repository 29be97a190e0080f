"""Name completion, coordination and address-block completion, with hard negatives.

All names, streets and numbers are invented for these tests.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from release.pii.engine import Redacted

# (text, value that must be redacted whole, expected label of the replacement covering it)
NAMES = [
    ("Marja K. Lindholm chaired the meeting.", "Marja K. Lindholm", "PERSON"),
    ("Tonight Dylan R Quarrington will speak.", "Dylan R Quarrington", "PERSON"),
    ("the report came from oskar t brennan yesterday", "oskar t brennan", "PERSON"),
    ("the band: benedikt a ruhland on drums", "benedikt a ruhland", "PERSON"),
    ("Please welcome Willemijn ten Broeke to the board.", "Willemijn ten Broeke", "PERSON"),
    ("My grandfather was Aurelio Castellanos II, a baker.", "Aurelio Castellanos II", "PERSON"),
    ("Her dentist is Rosalind Ashcombe DDS in town.", "Rosalind Ashcombe DDS", "PERSON"),
    ("The account holder is Ingrid Weatherby now.", "Ingrid Weatherby", "PERSON"),
    ("I met eva kowalczyk at the market.", "eva kowalczyk", "PERSON"),
    ("He saw Will Fenwick leave early.", "Will Fenwick", "PERSON"),
    ("Songs by Okafor and Bishop were played.", "Bishop", "PERSON"),
    ("Pictures by Tavares and Wood hang here.", "Wood", "PERSON"),
    ("The founders were Okonkwo, Ferreira and Brown.", "Brown", "PERSON"),
    ("Jade: I told you so.\nMarcus: You did.", "Jade", "PERSON"),
    ("Why is Solveig always late?", "Solveig", "PERSON"),
]

NAME_NEGATIVES = [
    ("Honesty and Discipline are virtues.", ["Honesty"]),
    ("Officers stopped Tyrone Davis and Warren St was closed.", ["Warren", "St"]),
    ("Officers met Tyrone Davis and a Black male at the corner.", ["Black", "male"]),
    ("Later T. Davis left with a friend.", ["Later", "left", "friend"]),
    ("LATER T. DAVIS LEFT THE AREA WITH A FRIEND.", ["LATER", "LEFT", "FRIEND"]),
    ("TYRONE STATED HE WAS WAITING FOR A RIDE.", ["STATED", "WAITING"]),
    ("I will mark the spot and grant the request.", ["will", "mark", "grant"]),
    ("Note: the vehicle was towed.", ["Note", "vehicle"]),
    ("Officers Quillfeather and Vantassel observed the area.", ["Quillfeather", "Vantassel"]),
]

ADDRESSES = [
    ("Send it to 27 Wexford Close\n Suite 12\n Whitby\n United Kingdom 40291 please.",
     "27 Wexford Close\n Suite 12\n Whitby\n United Kingdom 40291"),
    ("Please ship to 5512 Norrbacka 17 Apt. 402\nSolberga, VG 41318 today.",
     "5512 Norrbacka 17 Apt. 402\nSolberga, VG 41318"),
    ("The office:\n> 118 Tamsin Road\n> Flat 3\n> Penhallow\n> Cornwall TR1 4XY\nMobile: none",
     "118 Tamsin Road\n> Flat 3\n> Penhallow\n> Cornwall TR1 4XY"),
    ("They stopped at 45 Warren St, Roxbury, MA 02119 at noon.", "45 Warren St, Roxbury, MA 02119"),
    ("Write to 702 44 Harbour Lane, Kingsbridge, Australia soon.", "702 44 Harbour Lane, Kingsbridge, Australia"),
    ("Our office is at 88 Calle Mayor Suite 5, Toledo, Spain 45001 last I heard.",
     "88 Calle Mayor Suite 5, Toledo, Spain 45001"),
    ("Ship to PSC 4120, Box 2231\nAPO AE 09140 now.", "PSC 4120, Box 2231\nAPO AE 09140"),
    ("Mail for USNS Halvorsen\nFPO AP 96601 is late.", "USNS Halvorsen\nFPO AP 96601"),
    ("We meet at the corner of Lindholmsvej 41 and Tamsin Road tonight.",
     "the corner of Lindholmsvej 41 and Tamsin Road"),
    ("meet me at 14 rua das flores, braga, portugal tomorrow", "14 rua das flores, braga, portugal"),
]

ADDRESS_NEGATIVES = [
    ("Officers observed him at 45 Warren St. Davis left on foot.", ["left", "foot"]),
    ("AT 45 WARREN ST, SUSPECT FLED ON FOOT.", ["SUSPECT", "FLED"]),
    ("They stopped at 45 Warren St, he said, around noon.", ["he", "said", "around", "noon"]),
    ("He lives at 45 Warren St\nOfficers observed him later.", ["Officers", "observed", "later"]),
    ("Officers walked between Warren St and Quincy St twice.", ["Warren", "Quincy"]),
    ("The group met at the corner of Warren St and Quincy St.", ["corner", "Warren", "Quincy"]),
    ("She was born in Canada and moved to Portugal.", ["Canada", "Portugal"]),
    ("He stopped at 45 Warren St. BPD responded.", ["BPD", "responded"]),
]


def _label_covering(result: Redacted, original: str, value: str) -> set[str]:
    start = original.index(value)
    return {r.entity_type for r in result.replacements if r.start < start + len(value) and r.end > start}


@pytest.mark.parametrize(("text", "value", "label"), NAMES, ids=[f"name:{i}" for i in range(len(NAMES))])
def test_names_are_completed(redact: Callable[..., Redacted], survives: Callable[..., bool],
                             text: str, value: str, label: str) -> None:
    result = redact(text)
    assert not survives(result, text, value)
    assert label in _label_covering(result, text, value)


@pytest.mark.parametrize(("text", "kept"), NAME_NEGATIVES, ids=[f"name-negative:{i}" for i in range(len(NAME_NEGATIVES))])
def test_name_completion_stops_at_ordinary_words(redact: Callable[..., Redacted], survives: Callable[..., bool],
                                                 text: str, kept: list[str]) -> None:
    result = redact(text)
    for word in kept:
        assert survives(result, text, word), word


@pytest.mark.parametrize(("text", "value"), ADDRESSES, ids=[f"address:{i}" for i in range(len(ADDRESSES))])
def test_address_blocks_are_redacted_whole(redact: Callable[..., Redacted], survives: Callable[..., bool],
                                           text: str, value: str) -> None:
    result = redact(text)
    assert not survives(result, text, value)
    assert "ADDRESS" in _label_covering(result, text, value)
    tail = text[text.index(value) + len(value):].split()
    for word in tail[-2:]:  # the prose after the block is kept
        if word.strip(".").isalpha() and word.strip(".").lower() not in ("none",):
            assert survives(result, text, word.strip(".")), word


@pytest.mark.parametrize(("text", "kept"), ADDRESS_NEGATIVES,
                         ids=[f"address-negative:{i}" for i in range(len(ADDRESS_NEGATIVES))])
def test_address_completion_keeps_the_sentence(redact: Callable[..., Redacted], survives: Callable[..., bool],
                                               text: str, kept: list[str]) -> None:
    result = redact(text)
    for word in kept:
        assert survives(result, text, word), word


@pytest.mark.parametrize(
    "text",
    ["Visitors toured the USS Constitution in Charlestown.", "Gate 23 closed at 1530 hours.",
     "Officers observed 2 dark green vehicles.", "The boarding gate 23 was moved."],
    ids=["ship-without-fpo", "gate-number", "count-and-colour", "ordinary-gate"],
)
def test_no_address_without_an_address_shape(redact: Callable[..., Redacted], text: str) -> None:
    assert all(r.entity_type != "ADDRESS" for r in redact(text).replacements)


@pytest.mark.parametrize(
    "text",
    ["He lives at 530 Quincy St.  Needles were found.", "Officers met Tyrone Davis Jr. He left.",
     "Tell them, says Lindqvist. Then leave."],
    ids=["address", "name-suffix", "name-cue"],
)
def test_a_sentence_keeps_its_full_stop(redact: Callable[..., Redacted], text: str) -> None:
    """The placeholder never swallows the full stop: NER reading the output must see the sentence end."""
    result = redact(text)
    assert result.text.count(".") == text.count(".") - sum(text[r.start:r.end].count(".") for r in result.replacements)
    assert all(not text[r.start:r.end].endswith(".") for r in result.replacements)
