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

import pandas as pd
import pytest
from conftest import contact, person, write_export

from release import api
from release.pii import engine as engine_module
from release.pii.placeholders import Detection, Redacted, Replacement
from release.stages import leakcheck


class StandInEngine:
    scans: list[int] = []

    def __init__(self, settings: object) -> None:
        StandInEngine.scans = []

    def versions(self) -> dict[str, str]:
        return {"presidio": "stand-in", "model": "stand-in", "model_version": "0"}

    def redact_many(self, texts: Sequence[str], terms: Sequence[object],
                    progress: Callable[[int], None] | None = None, *,
                    forced: Sequence[Sequence[Detection]] | None = None,
                    alongside: Callable[[], None] | None = None) -> list[Redacted]:
        if alongside is not None:  # the build's own work while the engine redacts
            alongside()
        out = []
        for index, text in enumerate(texts):
            spans = [(m.start(), m.end(), "PERSON", "ner", "stand_in") for m in re.finditer(r"Alpha", text)]
            spans += [(d.start, d.end, d.entity_type, d.detector, d.rule_id) for d in (forced or [()] * len(texts))[index]]
            out.append(_render(text, sorted(set(spans))))
        return out

    def scan_many(self, texts: Sequence[str], *, threshold: float,
                  placeholders: Sequence[Sequence[tuple[int, int]]] | None = None,
                  progress: Callable[[int], None] | None = None,
                  alongside: Callable[[], None] | None = None) -> list[list[Detection]]:
        if alongside is not None:  # the build's own work while the engine scans
            alongside()
        StandInEngine.scans.append(len(texts))
        if progress is not None:
            progress(len(texts))
        return [[Detection(m.start(), m.end(), "PERSON", "ner", 0.3, "stand_in_scan")
                 for m in re.finditer(r"Bravo|Charlie", text)] for text in texts]

    # a local engine: no workers beyond its own process, so a verify round's leak checks and a table's group-by
    # run here (``release.execution.workers.leak_check`` and ``count``)
    runner = None
    execution: dict[str, object] | None = None


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
                      progress: object = None, *, forced: object = None,
                      alongside: Callable[[], None] | None = None) -> list[Redacted]:
        if alongside is not None:
            alongside()
        return [_render(text, []) for text in texts]
    monkeypatch.setattr(StandInEngine, "redact_many", ignore_forced)
    result, bundle = _build(tmp_path, "Officers met Bravo near the park.")
    assert result["status"] == "blocked" and result["exit_code"] == 5
    assert not (bundle / "public").exists()
    evidence = json.loads((bundle / "review" / "blocking.json").read_text())
    assert [(e["stage"], e["column"]) for e in evidence] == [("second_scan", "contact_reason")]
    assert "Bravo" not in evidence[0]["context"] and "withheld here" in evidence[0]["context"]


Remembering = leakcheck.LeakChecker


class FullRecheck(Remembering):
    """Every round checks every cell afresh: what the build did before checks were remembered."""

    def find_leaks(self, public: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.Series], list[leakcheck.Leak]]:
        return Remembering(self.raw, self.policy, self.year).find_leaks(public)

    def find_global_leaks(self, public: dict[str, pd.DataFrame],
                          other_files: dict[str, pd.DataFrame] | None = None) -> list[leakcheck.Leak]:
        return Remembering(self.raw, self.policy, self.year).find_global_leaks(public, other_files)


def _three_reports(folder: Path) -> Path:
    """Round 1's leak checks find a record's own name (per record) and another record's full name
    (across records) in two narratives; the third narrative holds nothing, so round 2 changes
    two texts of three."""
    return write_export(folder, [
        contact("FC20000001", contact_reason="Officers met Alpha and Zebulon Quartermaine near the park."),
        contact("FC20000002", contact_reason="Stopped beside the car of Zebulon Quartermaine. Alpha left."),
        contact("FC20000003", contact_reason="Observed group. Released.")],
        [person("FC20000001"),
         person("FC20000002", person_id="30000000002", first_name="Hortensia", last_name="Bramblewood",
                alias="Tens", dob="01/02/1990", age="30", home_address="9 Oak St", phone="617-555-0199",
                license_number="S87654321"),
         person("FC20000003", person_id="30000000003", first_name="Ignatius", last_name="Fairweather",
                alias="Iggy", dob="05/06/1985", age="35", home_address="3 Elm St", phone="617-555-0177",
                license_number="S11223344")])


@pytest.mark.slow
def test_later_rounds_recheck_only_changed_cells_and_find_what_a_full_recheck_finds(
        tmp_path: Path, stand_in: None, monkeypatch: pytest.MonkeyPatch) -> None:
    export = _three_reports(tmp_path / "raw")
    searched: dict[str, list[str]] = {"full": [], "incremental": []}  # cells the per-record check searched
    search = leakcheck._leaks_in
    builds = {}
    for name, checker in (("full", FullRecheck), ("incremental", Remembering)):
        monkeypatch.setattr(leakcheck, "LeakChecker", checker)
        monkeypatch.setattr(leakcheck, "_leaks_in", lambda cell, *rest, name=name: (
            searched[name].append(cell), search(cell, *rest))[1])
        builds[name] = api.build_release(api.BuildOptions(dataset="fioe", year=2020, input_dir=export,
                                                          out_dir=tmp_path / name))
    full, incremental = builds["full"], builds["incremental"]
    assert incremental["status"] == full["status"] == "draft"
    assert incremental["verify_rounds"] == full["verify_rounds"] == 2
    assert incremental["redactions"] == full["redactions"]
    assert incremental["findings"] == full["findings"] and incremental["blocking"] == full["blocking"]
    first, second = (tmp_path / name / "fioe" / "2020" for name in ("full", "incremental"))
    for path in ("public/fioe_2020_contacts.csv", "public/fioe_2020_persons.csv", "redaction_log.jsonl",
                 "review/findings.json"):
        assert (second / path).read_bytes() == (first / path).read_bytes(), path
    contacts = (second / "public" / "fioe_2020_contacts.csv").read_text()
    assert "Quartermaine" not in contacts and "Alpha" not in contacts and "Observed group. Released." in contacts
    log = [json.loads(line) for line in (second / "redaction_log.jsonl").read_text().splitlines()[:-1]]
    assert sum(e["detector"] == "leak_check" for e in log) >= 2  # both narratives, redacted in round 2
    # the full re-check searched the three narratives in both rounds; the remembering one
    # searched them in round 1, then only the two that round 2 changed
    narratives = {name: [c for c in searched[name] if c.endswith(".") and c.count(" ") > 1]
                  for name in ("full", "incremental")}
    assert len(narratives["full"]) == 6 and narratives["full"].count("Observed group. Released.") == 2
    assert len(narratives["incremental"]) == 5 and narratives["incremental"].count("Observed group. Released.") == 1
    assert all("Quartermaine" in c for c in narratives["incremental"][:3] if "Released" not in c)
    assert not any("Quartermaine" in c for c in narratives["incremental"][3:])
