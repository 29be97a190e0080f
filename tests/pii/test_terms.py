"""Record-term expansion and whole-word, separator-blind matching."""

from __future__ import annotations

import pytest

from release.pii.skeleton import Skeleton
from release.pii.terms import RecordTerms, TermMatcher, address_variants, date_variants, expand, parse_date

PUBLIC = {"the", "will", "brown", "blue", "hill"}


def usable(word: str) -> bool:
    return word not in PUBLIC


@pytest.mark.parametrize(
    ("terms", "text", "found"),
    [
        (RecordTerms(names=("SMITH, JOHN",)), "saw smith, john today", "smith, john"),
        (RecordTerms(name_parts=(("John", "", "Smith"),)), "J. Smith left", "J. Smith"),
        (RecordTerms(name_parts=(("John", "", "Smith"),)), "Smith's car", "Smith"),
        (RecordTerms(phones=("(617) 555-0199",)), "call 617.555.0199 now", "617.555.0199"),
        (RecordTerms(dobs=("03/14/1999",)), "born 14 March 1999.", "14 March 1999"),
        (RecordTerms(addresses=("45 Blue Hill Ave, Apt 3",)), "at 45 Blue Hill Avenue today", "45 Blue Hill Avenue"),
        (RecordTerms(plates=("1AB 234",)), "reg 1AB-234 seen", "1AB-234"),
        (RecordTerms(aliases=("Boogie",)), "aka BOOGIE was", "BOOGIE"),
    ],
    ids=["last-first", "initial", "possessive", "phone-separators", "dob-written", "address-suffix",
         "plate-separator", "alias-any-case"],
)
def test_matcher_finds_variants(terms: RecordTerms, text: str, found: str) -> None:
    matcher = TermMatcher(terms, usable)
    spans = {text[s:e] for s, e, _ in matcher.find(Skeleton.build(text))}
    assert found in spans


@pytest.mark.parametrize(
    ("terms", "text"),
    [
        (RecordTerms(names=("John Smith",)), "Johnson and Smithers"),
        (RecordTerms(phones=("617-555-0199",)), "617-555-01990"),
        (RecordTerms(names=("Will Brown",)), "a brown jacket"),
    ],
    ids=["word-boundaries", "digit-boundaries", "public-part-not-alone"],
)
def test_matcher_respects_word_boundaries(terms: RecordTerms, text: str) -> None:
    matcher = TermMatcher(terms, usable)
    strong = [v for s, e, v in matcher.find(Skeleton.build(text)) if not v.rule_id.endswith("_weak")]
    assert strong == []


def test_all_variants_of_one_person_share_an_identity() -> None:
    terms = RecordTerms(names=("SMITH, JOHN A",), name_parts=(("John", "A", "Smith"),))
    identities = {v.identity for v in expand(terms, usable) if v.entity_type == "PERSON"}
    assert identities == {"person:0"}


@pytest.mark.parametrize("raw", ["1999-03-14", "03/14/1999", "3/14/99", "1999-03-14 00:00:00", "March 14, 1999"])
def test_dates_parse_in_every_common_format(raw: str) -> None:
    day = parse_date(raw)
    assert day is not None and (day.year, day.month, day.day) == (1999, 3, 14)


def test_date_variants_cover_the_usual_spellings() -> None:
    day = parse_date("1999-03-14")
    assert day is not None
    variants = set(date_variants(day))
    assert {"03/14/1999", "3/14/99", "1999-03-14", "march 14 1999", "14 mar 1999"} <= variants


def test_street_name_alone_is_never_an_address_variant() -> None:
    assert all(v[0].isdigit() for v in address_variants("45 Blue Hill Ave, Apt 3"))
