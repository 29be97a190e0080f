"""Mapping a hit in the public text back to the raw text (release.stages.verify)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from release.stages.verify import finding_id, new_spans, to_raw_span


@dataclass(frozen=True)
class Placed:
    start: int
    end: int
    out_start: int
    out_end: int


def _render(original: str, spans: list[tuple[int, int]]) -> tuple[str, list[Placed]]:
    """The redactor's rendering rule: a placeholder never glues to a word."""
    out, placed, position = "", [], 0
    for number, (start, end) in enumerate(sorted(spans), start=1):
        out += original[position:start]
        if start > 0 and (original[start - 1].isalnum() or (start == position and placed)):
            out += " "
        placeholder = f"[PERSON {number}]"
        placed.append(Placed(start, end, len(out), len(out) + len(placeholder)))
        out += placeholder
        if end < len(original) and original[end].isalnum():
            out += " "
        position = end
    return out + original[position:], placed


TEXT = "Officers spoke with Quarrel near Blue Hill Ave; Quarrel said nothing."


@pytest.mark.parametrize(("spans", "hit", "expected"), [
    ([], "Quarrel near", (20, 32)),
    ([(20, 27)], "Quarrel said", (48, 60)),
    ([(20, 27)], "[PERSON 1] near", (20, 32)),          # a placeholder it touches is taken whole
    ([(20, 27), (48, 55)], "Ave; [PERSON 2]", (43, 55)),
], ids=["no-replacement", "after-a-replacement", "touching-a-placeholder", "two-replacements"])
def test_hit_maps_to_the_raw_span(spans: list[tuple[int, int]], hit: str, expected: tuple[int, int]) -> None:
    output, placed = _render(TEXT, spans)
    start = output.index(hit)
    assert to_raw_span(TEXT, output, placed, start, start + len(hit)) == expected


def test_glued_placeholder_spaces_map_to_nothing_raw() -> None:
    original = "metXXXQuarrel"
    output, placed = _render(original, [(6, 13)])
    assert output == "metXXX [PERSON 1]"
    assert to_raw_span(original, output, placed, 6, 7) is None          # only the added space
    assert to_raw_span(original, output, placed, 3, 7) == (3, 6)


def test_output_that_is_not_a_rendering_is_not_guessed() -> None:
    assert to_raw_span("abc def", "something else entirely", [], 0, 4) is None


@given(st.text(alphabet="ab .", min_size=1, max_size=40), st.data())
def test_every_raw_character_outside_placeholders_maps_to_itself(original: str, data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.sets(st.integers(0, len(original)), max_size=6)))
    spans = [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=False) if a < b]
    output, placed = _render(original, spans)
    covered = {i for a, b in spans for i in range(a, b)}
    for index in range(len(original)):
        if index in covered:
            continue
        found = [to_raw_span(original, output, placed, o, o + 1) for o in range(len(output))
                 if output[o] == original[index]]
        assert (index, index + 1) in found


def test_new_spans_skips_what_is_covered() -> None:
    assert new_spans([(1, 3), (5, 9), (5, 9)], [(0, 4)]) == [(5, 9)]


def test_finding_ids_are_stable_and_name_no_value() -> None:
    one = finding_id("leak_check", "fioe_2020_contacts.csv", "FC20000001", "street", "raw-only")
    assert one == finding_id("leak_check", "fioe_2020_contacts.csv", "FC20000001", "street", "raw-only")
    assert one != finding_id("leak_check", "fioe_2020_contacts.csv", "FC20000002", "street", "raw-only")
    assert one.startswith("F") and len(one) == 11
