"""The redact stage's own logic: record terms, officer roster, reviewer decisions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from release.config.policy import DatasetPolicy
from release.keys.hmac import Tokenizer
from release.model import ReviewerDecision
from release.stages.load import load_export
from release.stages.redact import apply_decisions, officer_roster, record_terms

KEY = Tokenizer(b"r" * 64)
TEXT = "Officers spoke with Zebulon near Hammond St about Bramble."


@dataclass(frozen=True)
class _Replacement:
    start: int
    end: int
    entity_type: str = "PERSON"
    detector: str = "ner"
    score: float = 0.8
    rule_id: str = "r"
    placeholder: str = "[PERSON 1]"


def _span(word: str) -> tuple[int, int]:
    start = TEXT.index(word)
    return start, start + len(word)


def test_record_terms_gather_people_and_vehicle(tiny_export: Path, policy: DatasetPolicy) -> None:
    tables = load_export(tiny_export, policy, 2020).tables
    terms = record_terms(tables, policy)
    first = terms["FC20000001"]
    assert first.names == ("Zebulon Quartermaine",)
    assert first.name_parts == (("Zebulon", "", "Quartermaine"),)
    assert "7ZQ-K92" in first.plates and "45 Blue Hill Ave" in first.addresses
    assert "12 Magazine St" in first.addresses and first.dobs == ("03/14/1999",)
    assert officer_roster(tables, policy) == ("MARGUERITE VANTASSEL", "QUILLFEATHER, ODO")


def _decision(kind: str, word: str, token_of: str | None = None) -> ReviewerDecision:
    start, end = _span(word)
    return ReviewerDecision(kind, "FC20000001", "contact_reason", start, end, "PERSON",
                            KEY.token(token_of or word))


@pytest.mark.parametrize(
    ("decisions", "expected", "applied", "stale"),
    [([], "Officers spoke with [PERSON 1] near Hammond St about Bramble.", 0, 0),
     ([("keep", "Zebulon", None)], "Officers spoke with Zebulon near Hammond St about Bramble.", 1, 0),
     ([("redact", "Bramble", None)], "Officers spoke with [PERSON 1] near Hammond St about [PERSON].", 1, 0),
     ([("keep", "Zebulon", "Someone else")], "Officers spoke with [PERSON 1] near Hammond St about Bramble.", 0, 1)],
    ids=["none", "keep", "force-redact", "stale-token"])
def test_reviewer_decisions(decisions: list, expected: str, applied: int, stale: int) -> None:
    start, end = _span("Zebulon")
    text, placed, done, old = apply_decisions(TEXT, [_Replacement(start, end)],
                                              [_decision(*d) for d in decisions], KEY)
    assert text == expected
    assert (len(done), len(old)) == (applied, stale)
    for span, out_start, out_end in placed:
        shown = text[out_start:out_end]
        assert shown == (TEXT[span.start:span.end] if span.kept else span.placeholder)


def test_placeholder_never_glues() -> None:
    text, _, _, _ = apply_decisions("byZebulon's", [_Replacement(2, 9)], [], KEY)
    assert text == "by [PERSON 1]'s"


class _WordEngine:
    """A stand-in engine: redacts every capitalised word of six letters or more, and what it is forced to."""

    def versions(self) -> dict[str, str]:
        return {"presidio": "stand-in", "model": "stand-in", "model_version": "0"}

    def redact_many(self, texts, terms, progress=None, *, forced=None, placeholders=None, alongside=None):  # type: ignore[no-untyped-def]
        import re

        from release.pii.placeholders import Redacted, Replacement

        if alongside is not None:
            alongside()
        out = []
        for index, text in enumerate(texts):
            spans = sorted({(m.start(), m.end()) for m in re.finditer(r"\b[A-Z][a-z]{5,}", text)}
                           | {(d.start, d.end) for d in (forced[index] if forced else ())})
            rendered, replacements, position = "", [], 0
            for number, (start, end) in enumerate(spans, start=1):
                rendered += text[position:start]
                placeholder = f"[PERSON {number}]"
                replacements.append(Replacement(start, end, len(rendered), len(rendered) + len(placeholder), "PERSON",
                                                "ner", 0.9, "stand_in", placeholder, text[start:end].lower()))
                rendered += placeholder
                position = end
            out.append(Redacted(rendered + text[position:], tuple(replacements)))
        return out


def test_a_later_round_equals_a_fresh_redaction_with_the_same_forced_spans(tiny_export: Path,
                                                                          policy: DatasetPolicy) -> None:
    """A round with ``previous`` reuses the records' terms and the log events of the texts it
    does not redact again; its tables, events and findings are those of a redaction from scratch."""
    from release.pii.placeholders import Detection
    from release.stages.redact import redact

    tables = load_export(tiny_export, policy, 2020).tables
    engine = _WordEngine()
    first = redact(tables, policy, engine, KEY, frozenset())  # type: ignore[arg-type]
    job = next(j for j in first.rendered if "Released" in j.text)
    start = job.text.index("group")
    forced = {job: (Detection(start, start + 5, "PERSON", "second_scan", 0.3, "stand_in_scan"),)}
    later = redact(tables, policy, engine, KEY, frozenset(), forced=forced, previous=first)  # type: ignore[arg-type]
    fresh = redact(tables, policy, engine, KEY, frozenset(), forced=forced)  # type: ignore[arg-type]
    assert later.events == fresh.events and later.findings == fresh.findings
    assert all(later.tables[name].equals(fresh.tables[name]) for name in policy.files)
    assert later.terms is first.terms and "group" not in later.rendered[job].text
    untouched = [j for j in first.rendered if j != job]
    assert untouched and all(later.job_events[j] is first.job_events[j] for j in untouched)
    assert sum(len(first.job_events[j]) for j in untouched) > 0


def _engine_render(text: str, spans: list[tuple[int, int, str]]):  # type: ignore[no-untyped-def]
    """The engine's renderer (``placeholders.render``) over candidates at these spans: the build's path,
    without the PII model (a views stand-in holding only the folded text; these texts are ASCII)."""
    from types import SimpleNamespace

    from release.pii.normalize import normalize
    from release.pii.placeholders import merge, render
    from release.pii.spans import Candidate

    views = SimpleNamespace(base=normalize(text), touches_placeholder=lambda start, end: False)
    candidates = [Candidate(start, end, label, "regex", 0.9, "r") for start, end, label in spans]
    return render(views, merge(candidates, views))  # type: ignore[arg-type]


# (text, spans): adjacent spans of two labels (the engine does not join them), a span ending on a
# character that is no letter or digit, a word after it; spans one character apart; a paragraph break
@pytest.mark.parametrize(
    ("text", "spans"),
    [("Seen at 45 Fernbrook Way.Zed (987654321).\n\nReleased.",
      [(8, 25, "ADDRESS"), (25, 28, "PERSON"), (30, 39, "SSN")]),
     ("Seen at 45 Fernbrook WayZed left.", [(8, 24, "ADDRESS"), (24, 27, "PERSON")]),
     ("Seen at 45 Fernbrook Way-Zed left.", [(8, 25, "ADDRESS"), (25, 28, "PERSON")]),
     ("Seen at 45 Fernbrook Way_Zed left.", [(8, 24, "ADDRESS"), (25, 28, "PERSON")]),
     ("Call 617-555-0123 Zed\n\n(987654321)", [(5, 17, "PHONE"), (18, 21, "PERSON"), (24, 33, "SSN")])],
    ids=["adjacent-after-period", "adjacent-glued", "adjacent-after-hyphen", "one-underscore-apart",
         "paragraph-break"])
def test_the_replay_renders_logged_spans_where_the_engine_put_them(text: str, spans: list) -> None:
    """FIOE 2022 (an honest draft failed ``audit --raw``): the replay spaced two adjacent placeholders twice
    where the engine spaced them once; both now render with ``placeholders.place``."""
    from release.stages.redact import render_logged

    built = _engine_render(text, spans)
    assert len(built.replacements) == len(spans)
    replayed, placed = render_logged(text, [(r.start, r.end, r.placeholder, False) for r in built.replacements])
    assert replayed == built.text
    assert placed == [(r.out_start, r.out_end) for r in built.replacements]


@pytest.mark.parametrize(("text", "span"), [("Seen with Zed_Quill near the park.", (10, 13)),
                                            ("Seen with [Zed] near the park.", (11, 14)),
                                            ("Seen with Zed near the park.", (10, 13))],
                         ids=["underscore-after", "in-brackets", "plain"])
def test_a_reviewers_redact_of_an_engine_span_renders_as_the_replay_renders_it(text: str, span: tuple) -> None:
    """Round 38, F2: a reviewer's "redact" of a span the engine redacted logs no span of its own, so the
    replay renders the cell from the engine's spans; the re-rendering must set the spaces the engine
    sets beside ``_`` and brackets, or an honest bundle fails ``audit --raw``."""
    from release.keys.hmac import Tokenizer
    from release.model import ReviewerDecision
    from release.stages.redact import apply_decisions, render_logged

    tokenizer = Tokenizer(b"r" * 64)
    built = _engine_render(text, [(*span, "PERSON")])
    decision = ReviewerDecision("redact", "FC1", "contact_reason", *span, "PERSON",
                                tokenizer.token(text[span[0]:span[1]]))
    rendered, placed, applied, stale = apply_decisions(text, built.replacements, [decision], tokenizer)
    assert applied == [decision] and not stale
    assert rendered == built.text  # the reviewer confirmed the engine: the cell is the engine's
    replayed, at = render_logged(text, [(r.start, r.end, r.placeholder, False) for r in built.replacements])
    assert replayed == rendered and at == [(o_s, o_e) for _, o_s, o_e in placed]
