"""The verify rounds of a build with a stand-in engine, so each round is predictable.

The stand-in redacts only the word "Alpha" (its first-pass detector) and what it is forced
to; its second scan flags "Bravo". The build must redact "Bravo" in a second round, log it
with detector ``second_scan``, scan again and stop; a hit the redactor cannot remove blocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from conftest import contact, person, write_export

from release import api
from release.pii import engine as engine_module
from release.pii.placeholders import Detection, Redacted, Replacement


class StandInEngine:
    scans: list[int] = []

    def __init__(self, settings: object) -> None:
        StandInEngine.scans = []

    def versions(self) -> dict[str, str]:
        return {"presidio": "stand-in", "model": "stand-in", "model_version": "0"}

    def redact_many(self, texts: Sequence[str], terms: Sequence[object],
                    progress: Callable[[int], None] | None = None, *,
                    forced: Sequence[Sequence[Detection]] | None = None) -> list[Redacted]:
        out = []
        for index, text in enumerate(texts):
            spans = [(m.start(), m.end(), "PERSON", "ner", "stand_in") for m in re.finditer(r"Alpha", text)]
            spans += [(d.start, d.end, d.entity_type, d.detector, d.rule_id) for d in (forced or [()] * len(texts))[index]]
            out.append(_render(text, sorted(set(spans))))
        return out

    def scan_many(self, texts: Sequence[str], *, threshold: float,
                  placeholders: Sequence[Sequence[tuple[int, int]]] | None = None,
                  progress: Callable[[int], None] | None = None) -> list[list[Detection]]:
        StandInEngine.scans.append(len(texts))
        if progress is not None:
            progress(len(texts))
        return [[Detection(m.start(), m.end(), "PERSON", "ner", 0.3, "stand_in_scan")
                 for m in re.finditer(r"Bravo|Charlie", text)] for text in texts]


def _render(text: str, spans: list[tuple[int, int, str, str, str]]) -> Redacted:
    out, replacements, position = "", [], 0
    for number, (start, end, label, detector, rule) in enumerate(spans, start=1):
        out += text[position:start]
        placeholder = f"[{label} {number}]"
        replacements.append(Replacement(start, end, len(out), len(out) + len(placeholder), label, detector, 1.0,
                                        rule, placeholder, text[start:end].lower()))
        out += placeholder
        position = end
    return Redacted(out + text[position:], tuple(replacements))


@pytest.fixture()
def stand_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "PiiEngine", StandInEngine)


def _build(tmp_path: Path, narrative: str) -> tuple[dict[str, object], Path]:
    folder = write_export(tmp_path / "raw", [contact("FC20000001", contact_reason=narrative)], [person("FC20000001")])
    result = api.build_release(api.BuildOptions(dataset="fioe", year=2020, input_dir=folder, out_dir=tmp_path / "out"))
    return result, tmp_path / "out" / "fioe" / "2020"


def test_second_scan_hit_is_redacted_in_the_next_round(tmp_path: Path, stand_in: None) -> None:
    result, bundle = _build(tmp_path, "Officers met Alpha and Bravo near the park.")
    assert result["status"] == "draft" and result["verify_rounds"] == 2
    text = (bundle / "public" / "fioe_2020_contacts.csv").read_text()
    assert "Alpha" not in text and "Bravo" not in text
    log = [json.loads(line) for line in (bundle / "redaction_log.jsonl").read_text().splitlines()[:-1]]
    assert {e["detector"] for e in log if e["action"] == "redact"} >= {"ner", "second_scan"}
    assert StandInEngine.scans == [1, 1]          # round 2 scans only the text that changed


def test_every_round_starts_from_the_raw_text_with_the_union(tmp_path: Path, stand_in: None) -> None:
    result, bundle = _build(tmp_path, "Bravo met Charlie; Alpha left.")
    assert result["status"] == "draft"
    text = (bundle / "public" / "fioe_2020_contacts.csv").read_text()
    assert re.search(r"\[PERSON 1\] met \[PERSON 2\]; \[PERSON 3\] left\.", text)  # one numbering, raw order


def test_a_hit_redaction_cannot_remove_blocks(tmp_path: Path, stand_in: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def ignore_forced(self: StandInEngine, texts: Sequence[str], terms: Sequence[object],
                      progress: object = None, *, forced: object = None) -> list[Redacted]:
        return [_render(text, []) for text in texts]
    monkeypatch.setattr(StandInEngine, "redact_many", ignore_forced)
    result, bundle = _build(tmp_path, "Officers met Bravo near the park.")
    assert result["status"] == "blocked" and result["exit_code"] == 5
    assert not (bundle / "public").exists()
    evidence = json.loads((bundle / "review" / "blocking.json").read_text())
    assert [(e["stage"], e["column"]) for e in evidence] == [("second_scan", "contact_reason")]
    assert "Bravo" not in evidence[0]["context"] and "withheld here" in evidence[0]["context"]
