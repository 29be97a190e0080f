"""The residual-PII scan the build's verify rounds and the audit share: each distinct text scanned once, every
item answered in order, a reviewer's kept spans honoured per item, the engine's progress counted per item."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import pytest

from release.pii.placeholders import Detection
from release.pii.residual import ResidualText, residual_hits, scan_residual
from release.pii.spans import Span

NAME = re.compile(r"\b(?:Smith|Jones)\b")


def _found(text: str) -> list[Detection]:
    return [Detection(m.start(), m.end(), "PERSON", "fake", 0.9, "fake_name") for m in NAME.finditer(text)]


class FakeEngine:
    """``scan_many`` as the engine answers it: every text, in order, its progress in units of ``unit`` texts."""

    def __init__(self, unit: int = 2) -> None:
        self.unit = unit
        self.calls: list[tuple[list[str], float, list[tuple[Span, ...]] | None]] = []

    def scan_many(self, texts: Sequence[str], *, threshold: float,
                  placeholders: Sequence[Sequence[Span]] | None = None,
                  progress: Callable[[int], None] | None = None,
                  alongside: Callable[[], None] | None = None) -> list[list[Detection]]:
        given = [tuple(p) for p in placeholders] if placeholders is not None else None
        self.calls.append((list(texts), threshold, given))
        if alongside is not None:
            alongside()
        for start in range(0, len(texts), self.unit):
            if progress is not None:
                progress(len(texts[start:start + self.unit]))
        return [_found(text) for text in texts]


def _scan(items: list[ResidualText], engine: FakeEngine | None = None, **options) -> list[list[tuple[int, int]]]:
    found = scan_residual(engine or FakeEngine(), items, threshold=0.25, **options)
    return [[(hit.start, hit.end) for hit in hits] for hits in found]


def test_each_distinct_text_and_placeholder_set_is_scanned_once_in_first_order() -> None:
    engine = FakeEngine()
    items = [ResidualText("Smith ran."), ResidualText("[PERSON 1] ran.", ((0, 10),)), ResidualText("Smith ran."),
             ResidualText("Smith ran.", ((0, 5),)), ResidualText("[PERSON 1] ran.", ((0, 10),))]
    assert _scan(items, engine) == [[(0, 5)], [], [(0, 5)], [(0, 5)], []]
    [(texts, threshold, placeholders)] = engine.calls
    assert texts == ["Smith ran.", "[PERSON 1] ran.", "Smith ran."] and threshold == 0.25
    assert placeholders == [(), ((0, 10),), ((0, 5),)]  # the same text with other placeholders: another scan


def test_placeholders_reach_the_engine_sorted_and_items_differing_only_in_their_order_are_one_text() -> None:
    engine = FakeEngine()
    text = "[PERSON 1] met [PERSON 2]."
    _scan([ResidualText(text, ((15, 25), (0, 10))), ResidualText(text, ((0, 10), (15, 25)))], engine)
    [(texts, _, placeholders)] = engine.calls
    assert texts == [text] and placeholders == [((0, 10), (15, 25))]


@pytest.mark.parametrize(("kept", "expected"), [
    pytest.param((), [(0, 5), (10, 15)], id="nothing-kept"),
    pytest.param(((0, 5),), [(10, 15)], id="the-same-span"),
    pytest.param(((3, 12),), [], id="overlapping-both"),
    pytest.param(((5, 10),), [(0, 5), (10, 15)], id="touching-is-no-overlap"),
    pytest.param(((20, 30),), [(0, 5), (10, 15)], id="elsewhere"),
])
def test_kept_spans_drop_the_hits_they_overlap(kept: tuple[Span, ...], expected: list[Span]) -> None:
    assert _scan([ResidualText("Smith and Jones.", kept=kept)]) == [expected]


def test_kept_spans_are_the_items_own_although_the_text_is_scanned_once() -> None:
    """Two cells with the same text, one kept by a reviewer: the other cell's hit stays (the build's jobs,
    the audit's rows)."""
    engine = FakeEngine()
    items = [ResidualText("Smith ran."), ResidualText("Smith ran.", kept=((0, 5),)), ResidualText("Smith ran.")]
    assert _scan(items, engine) == [[(0, 5)], [], [(0, 5)]]
    assert len(engine.calls) == 1 and engine.calls[0][0] == ["Smith ran."]


def test_every_item_is_answered_in_order_with_the_engines_hits_in_order() -> None:
    texts = [f"Report {n}: Jones saw Smith." if n % 3 else f"Report {n}: nothing." for n in range(10)]
    found = scan_residual(FakeEngine(), [ResidualText(t) for t in texts], threshold=0.25)
    assert [[text[h.start:h.end] for h in hits] for text, hits in zip(texts, found, strict=True)] == \
        [["Jones", "Smith"] if n % 3 else [] for n in range(10)]
    assert {h.entity_type for hits in found for h in hits} == {"PERSON"}


def test_no_item_is_one_scan_of_nothing() -> None:
    """The audit shows one progress stage per free-text column, an empty one included."""
    engine = FakeEngine()
    assert scan_residual(engine, [], threshold=0.25) == []
    assert engine.calls == [([], 0.25, [])]
    given: list[tuple[list[str], list[tuple[Span, ...]]]] = []

    def scan(texts: list[str], placeholders: list[tuple[Span, ...]]) -> list[list[Detection]]:
        given.append((texts, placeholders))
        return []

    assert residual_hits([], scan) == [] and given == [([], [])]


def test_alongside_runs_where_the_engine_runs_it() -> None:
    ran: list[str] = []
    _scan([ResidualText("Smith ran.")], alongside=lambda: ran.append("checks"))
    assert ran == ["checks"]


@pytest.mark.parametrize(("texts", "unit", "steps"), [
    pytest.param(["a", "b", "c", "d", "e"], 2, [2, 2, 1], id="no-repeat-the-engines-own-steps"),
    pytest.param(["a", "a", "b", "a", "c", "b"], 2, [5, 1], id="a-repeat-done-with-its-first"),
    pytest.param(["a", "a", "a"], 1, [3], id="one-text"),
    pytest.param(["a", "b", "b", "c"], 1, [1, 2, 1], id="one-text-a-step"),
])
def test_progress_counts_items_as_the_engine_finishes_their_texts(texts: list[str], unit: int,
                                                                   steps: list[int]) -> None:
    """The build's bar counts its jobs (``scan_many`` counts its texts so): repeats are done with the first."""
    advanced: list[int] = []
    _scan([ResidualText(t) for t in texts], FakeEngine(unit), progress=advanced.append)
    assert advanced == steps and sum(advanced) == len(texts)


def test_a_scanner_leaving_a_text_unanswered_is_an_error_not_a_pass() -> None:
    with pytest.raises(ValueError):
        residual_hits([ResidualText("Smith ran."), ResidualText("Jones ran.")], lambda texts, placeholders: [[]])
