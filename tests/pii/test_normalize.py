"""Unicode folding, offset maps, spaced-digit collapsing and case restoration."""

from __future__ import annotations

import pytest

from release.pii.normalize import collapse_spaced_digits, letter_case_mode, normalize, restore_case


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("John Smith", "John Smith"),
        ("J\u200bohn S\u200dmith", "John Smith"),  # zero-width space / joiner
        ("\u202eJohn\u202c", "John"),  # bidi controls
        ("\uff16\uff11\uff17", "617"),  # full-width digits
        ("\u0666\u0661\u0667", "617"),  # Arabic-Indic digits
        ("\u0421\u043c\u0456\u0442\u04bb", "Cmith"),  # Cyrillic look-alikes -> Latin
        ("\u0391\u03bd\u03bd\u03b1", "Avva"),  # Greek look-alikes
        ("Jos\u00e9 Pe\u00f1a", "Jose Pena"),  # accents dropped
        ("Jose\u0301", "Jose"),  # combining accent dropped
        ("O\u2019Brien", "O'Brien"),
    ],
    ids=["ascii", "zero-width", "bidi", "fullwidth", "arabic-indic", "cyrillic", "greek",
         "accents", "combining", "curly-quote"],
)
def test_normalize_folds(raw: str, folded: str) -> None:
    assert normalize(raw).text == folded


@pytest.mark.parametrize(
    ("raw", "needle"),
    [("Call \uff16\uff11\uff17 now", "617"), ("x J\u200bohn y", "John"), ("\u0421mith!", "Cmith")],
    ids=["fullwidth", "zero-width", "cyrillic"],
)
def test_offsets_map_back_to_the_original_characters(raw: str, needle: str) -> None:
    view = normalize(raw)
    start = view.text.index(needle)
    o_start, o_end = view.to_original(start, start + len(needle))
    assert normalize(raw[o_start:o_end]).text == needle


@pytest.mark.parametrize(
    ("raw", "collapsed"),
    [
        ("ph 6 1 7 5 5 5 0 1 9 9 ok", "ph 6175550199 ok"),
        ("DOB 3 / 2 9 / 1 9 9 2)", "DOB 3/29/1992)"),
        ("(2 8 yoa)", "(28 yoa)"),
        ("call 617 555 0199", "call 617 555 0199"),
    ],
    ids=["phone", "date", "two-digit-age", "normal-groups-untouched"],
)
def test_collapse_spaced_digits(raw: str, collapsed: str) -> None:
    view = collapse_spaced_digits(normalize(raw))
    assert view.text == collapsed
    start, end = view.to_original(0, len(view.text))
    assert (start, end) == (0, len(raw))


COMMON = {"officers", "observed", "at", "the", "he", "stated", "with", "near", "and"}.__contains__


@pytest.mark.parametrize(
    ("raw", "restored"),
    [
        ("OFFICERS OBSERVED TYRONE DAVIS AT THE BPD", "Officers observed Tyrone Davis at the BPD"),
        ("officers observed tyrone davis. he stated", "Officers observed Tyrone Davis. He stated"),
        ("Officers observed TYRONE DAVIS near tyrone", "Officers observed Tyrone Davis near Tyrone"),
    ],
    ids=["all-caps", "lower-case", "mixed"],
)
def test_restore_case_title_cases_uncommon_words(raw: str, restored: str) -> None:
    out = restore_case(raw, COMMON, frozenset({"bpd"}))
    assert out == restored and len(out) == len(raw)


@pytest.mark.parametrize(
    ("text", "mode"),
    [("OFFICERS OBSERVED A MALE", "upper"), ("officers observed a male", "lower"),
     ("Officers observed John Smith near Warren St", "mixed"),
     ("officers spoke with [PERSON 1] and [PERSON 2] at [ADDRESS 1]", "lower")],
    ids=["upper", "lower", "mixed", "redacted-lower"],
)
def test_letter_case_mode(text: str, mode: str) -> None:
    assert letter_case_mode(text) == mode
