"""Each dataset's notes are declared once (``NOTES``): the build fills them, the trusted checks hold a
manifest's ``dataset_notes`` to them (issue #12, round 25 M-notes). Fictitious values only."""

from __future__ import annotations

from conftest import ROOT

from release import datasets
from release.config.policy import load_policy
from release.datasets import best, fioe, firearms, in_custody_deaths

RULES = ROOT / "redaction_rules"


def test_a_note_as_the_build_fills_it_passes_and_any_other_text_is_refused() -> None:
    policy = load_policy(RULES / "fioe.yaml")
    k = fioe.note_values(policy, 2021)["k"]
    built = [fioe.NOTES[0](), fioe.NOTES[1](k=k)]
    assert datasets.note_problems("fioe", policy, 2021, built) == []
    assert datasets.note_problems("fioe", policy, 2021, [*built, "Boston by contacts 4242"]) == [3]
    # a slot the trusted policy gives holds exactly its value: another number is refused too
    assert datasets.note_problems("fioe", policy, 2021, [fioe.NOTES[1](k=k + 1)]) == [1]
    assert datasets.note_problems("fioe", policy, 2021, [built[0] + " Boston 4242."]) == [1]


def test_a_count_slot_takes_a_number_only_and_a_word_slot_only_the_trusted_policys_words() -> None:
    policy = load_policy(RULES / "best.yaml")
    assert datasets.note_problems("best", policy, 2021, [best.NOTES[2](rows=17)]) == []
    assert datasets.note_problems("best", policy, 2021, [best.NOTES[2](rows="Boston 4242")]) == [1]
    policy = load_policy(RULES / "firearms.yaml")
    column = next(iter(firearms.note_words(policy)))
    ok = firearms.NOTES[0](count=3, year=2021, totals=f"{column} 3")
    assert datasets.note_problems("firearms", policy, 2021, [ok]) == []
    assert datasets.note_problems("firearms", policy, 2021, [firearms.NOTES[0](count=3, year=2021,
                                                                               totals="Boston 4242")]) == [1]
    assert datasets.note_problems("firearms", policy, 2021, [firearms.NOTES[0](count=3, year=2020,
                                                                               totals=f"{column} 3")]) == [1]
    policy = load_policy(RULES / "in_custody_deaths.yaml")
    first = in_custody_deaths.note_values(policy, 2021)["first"]
    for years in ("none", "2017, 2019"):
        line = in_custody_deaths.NOTES[0](first=first, year=2021, zero_years=years)
        assert datasets.note_problems("in_custody_deaths", policy, 2021, [line]) == []
    line = in_custody_deaths.NOTES[0](first=first, year=2021, zero_years="Boston")
    assert datasets.note_problems("in_custody_deaths", policy, 2021, [line]) == [1]
