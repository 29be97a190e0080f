"""Issue #12, attack rounds 25 and 26: record-level cells edited in a paid bundle, through the CLI.

The analyst holds the release key: an honest, paid 2021 bundle is copied, a record-level cell edited
(F-free-text: a fictitious "exact count" appended to a narrative or a clothing description, another
model of the codebook in ``vehicle_model``; C-pir-age: exact ages in ``person_in_report``;
C-recnum-age: the same in ``recnum``; round 26: a count in a closed or typed column, ``weather``,
``sex``, ``race``, the report key, a date), the file's hash redone in the manifest and the manifest
bound again on the organisation's ledger (round 24's ``rebind.py``). A free-text cell cannot be
regenerated without the raw export: approve passes it, and ``release audit --raw``
(``record_cells_replayed``: the raw export, the redaction log's spans, the build's path) fails it
(8), naming file, row key, column and rule, never the value. ``person_in_report``, ``recnum`` and
every closed or typed column are held to their rule without the raw export: approve and publish 7
(rule sequence, pseudonym, vocabulary), the audit and ``verify`` 8. The honest bundle passes
``audit --raw``. Fictitious values only (``SECRET``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from bundlekit import (
    CONTACTS,
    REPLAYED,
    YEAR,
    World,
    _audit_raw,
    _log_events,
    _org,
    _raw_2021,
    _rebind,
    _respanned,
    _rewrite,
    _rows,
    _sign_outside_approve,
    _verify_problems,
    _write,
)
from conftest import ROOT, invoke

SECRET = "Boston by contacts 4242"
PERSONS = f"fioe_{YEAR}_persons.csv"


def _cell(file: str, column: str, value: Callable[[str, int], str], rows: Callable[[list[str]], bool] | None = None
          ) -> Callable[[Path], str]:
    """Every row ``rows`` picks (the first non-blank one when None) gets ``value(cell, row)`` in ``column``."""
    def edit(public: Path) -> str:
        table = _rows(public / file)
        at = table[0].index(column)
        picked = [i for i in range(1, len(table)) if (rows(table[i]) if rows else table[i][at])]
        for i in picked if rows else picked[:1]:
            table[i][at] = value(table[i][at], i)
        assert picked
        _write(public / file, table)
        return file
    return edit


def _edited(world: World, honest: Path, variant: str, edit: Callable[[Path], str]) -> tuple[Path, Path]:
    out = world.tmp / f"rel-{variant}"
    shutil.copytree(honest, out)
    bundle = out / "fioe" / YEAR
    for name in ("approvals.jsonl", "publication.jsonl"):
        (bundle / name).unlink(missing_ok=True)
    name = edit(bundle / "public")
    _rewrite(bundle, lambda m: None, f"public/{name}")
    _rebind(world, bundle)
    return out, bundle


FREE_TEXT = {  # F-free-text: approve cannot tell; audit --raw replays the cell from the raw export
    "reason": (_cell(CONTACTS, "contact_reason", lambda v, _: f"{v} {SECRET}"), CONTACTS, "contact_reason",
               "column rule narrative"),
    # another model of the codebook: the vocabulary holds (a value outside it is refused at approve:
    # ``test_a_value_its_trusted_rule_cannot_publish_is_refused_without_the_raw_export``)
    "model": (_cell(CONTACTS, "vehicle_model", lambda v, _: "Camry" if v != "Camry" else "Accord"), CONTACTS,
              "vehicle_model", "column rule keep"),
    "clothing": (_cell(PERSONS, "otherclothing", lambda v, _: SECRET), PERSONS, "otherclothing",
                 "column rule free_text"),
}


@pytest.mark.slow
def test_the_honest_bundle_replays_and_edited_free_text_fails_audit_raw(world: World) -> None:
    honest, raw = world.tmp / "rel-honest", world.tmp / "raw-2021"
    world.ok(*world.build(honest, "--json", raw=_raw_2021(world), year=YEAR))
    org = _org(honest, world)
    world.ok("approve", *org[:2], "--key", str(world.counsel), *org[2:])
    code, checks = _audit_raw(world, honest, raw)
    replayed = checks[REPLAYED]
    assert replayed["status"] == "pass" and replayed["detail"]["files"] == 2, replayed
    assert replayed["detail"]["spans"] >= 1 and replayed["detail"]["cells_redacted"] >= 1, replayed
    assert code == 0, [c for c in checks.values() if c["status"] == "fail"]
    for variant, (edit, file, column, rule) in FREE_TEXT.items():
        out, bundle = _edited(world, honest, variant, edit)
        world.ok("approve", *org[:2], "--key", str(world.counsel), *_org(out, world)[2:])  # no rule can tell
        code, checks = _audit_raw(world, out, raw)
        assert code == 8 and [n for n, c in checks.items() if c["status"] == "fail"] == [REPLAYED], (variant, checks)
        problems = checks[REPLAYED]["problems"]
        assert len(problems) == 1 and problems[0].startswith(f"{file}, row ") and f", column {column}: " in problems[0]
        assert f"({rule}; rule record-replay)" in problems[0] and "4242" not in problems[0], problems


@pytest.mark.slow
@pytest.mark.parametrize(("column", "rule"), [("person_in_report", "sequence"), ("recnum", "pseudonym")],
                         ids=["C-pir-age", "C-recnum-age"])
def test_exact_ages_in_a_sequence_or_pseudonym_column_are_refused_without_the_raw_export(
        world: World, column: str, rule: str) -> None:
    """Each person's fictitious "exact age" in the column: approve 7 and the audit 8 name the file,
    column, count and rule; ``audit --raw`` replays the cells too."""
    honest, raw = world.tmp / "rel-honest", world.tmp / "raw-2021"
    world.ok(*world.build(honest, "--json", raw=_raw_2021(world), year=YEAR))
    out, bundle = _edited(world, honest, column, _cell(PERSONS, column, lambda v, i: str(17 + i), lambda row: True))
    org = _org(out, world)
    said = f"public file {PERSONS}, column {column}: "
    refusal = world.refused(7, "rule trusted-policy", "approve", *org[:2], "--key", str(world.counsel), *org[2:])
    code, stdout, stderr = invoke("approve", *org[:2], "--key", str(world.counsel), *org[2:], "--json")
    details = " ".join((stdout + stderr).split())
    assert code == 7 and said in details and f"(rule {rule})" in details, details
    code, checks = _audit_raw(world, out, raw)
    assert code == 8 and checks["trusted_policy"]["status"] == "fail" and checks[REPLAYED]["status"] == "fail"
    assert any(said in p for p in checks["trusted_policy"]["problems"]), checks["trusted_policy"]
    assert all(f", column {column}: " in p or "more cell(s)" in p for p in checks[REPLAYED]["problems"])
    assert refusal
    _sign_outside_approve(world, bundle)  # publish checks again, and verify holds a copy laid out by hand
    world.refused(7, "rule trusted-policy", "publish", *org[:2], "--to", str(world.site), *org[2:])
    assert not (world.site / "fioe" / YEAR).exists()
    assert any(said in p and f"(rule {rule})" in p for p in _verify_problems(world, bundle))


VOCABULARY = {  # round 26: a closed or typed column holding a fictitious "exact count" in each row it edits
    "weather": (CONTACTS, "weather", lambda v, i: f"{v or 'Clear'} {4200 + i}", "keep, codebook weather"),
    "sex": (PERSONS, "sex", lambda v, i: str(17 + i), "keep"),
    "race": (PERSONS, "race", lambda v, i: f"Count {4200 + i}", "keep"),
    "fc_num": (PERSONS, "fc_num", lambda v, i: f"FC{4200 + i}", "report pseudonym"),
    "date": (CONTACTS, "contact_date", lambda v, i: f"2021-01-01T00:{i % 60:02d}:42", "datetime, hour"),
}


@pytest.mark.slow
def test_a_value_its_trusted_rule_cannot_publish_is_refused_without_the_raw_export(world: World) -> None:
    """Each closed or typed column edited in every row (codebook columns, a report key, a date): approve
    and publish 7, the audit and ``verify`` 8 (``trusted_policy``), naming the file, column, rule and the
    count of rows, never a value; a value of the vocabulary in place of another is ``audit --raw``'s."""
    honest = world.tmp / "rel-honest"
    world.ok(*world.build(honest, "--json", raw=_raw_2021(world), year=YEAR))
    for variant, (file, column, value, rule) in VOCABULARY.items():
        out, bundle = _edited(world, honest, variant, _cell(file, column, value, lambda row: True))
        table = _rows(bundle / "public" / file)
        rows = len(table) - 1
        org = _org(out, world)
        said = f"public file {file}, column {column}: {rows} row(s) hold a value its trusted rule ({rule}"
        code, stdout, stderr = invoke("approve", *org[:2], "--key", str(world.counsel), *org[2:], "--json")
        details = " ".join((stdout + stderr).split())
        assert code == 7 and said in details and "(rule vocabulary)" in details, (variant, details)
        assert "FC42" not in details and "Count 42" not in details and "Traceback" not in details, details
        code, stdout, stderr = invoke("audit", *org, "--no-scan", "--allow-unverified", "--json")
        checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
        assert code == 8 and any(said in p for p in checks["trusted_policy"]["problems"]), (variant, checks)
        if variant == "weather":
            _sign_outside_approve(world, bundle)  # publish checks again; verify holds a copy laid out by hand
            world.refused(7, "rule vocabulary", "publish", *org[:2], "--to", str(world.site), *org[2:])
            assert not (world.site / "fioe" / YEAR).exists()
            assert any(said in p and "(rule vocabulary)" in p for p in _verify_problems(world, bundle))


# ---- the log's spans, checked before they are applied (no CLI: a forged log re-chained with the key) ----

def _span_problems(*entries: dict, text: str = "Met John Smith at the corner") -> tuple[str, list[str]]:
    import pandas as pd

    from release.audit.record_replay import _redacted
    from release.config.policy import load_policy
    from release.keys.hmac import derive_keys
    from release.model import ROW_KEY, Tables

    policy = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
    tokens = derive_keys(b"k" * 32, "fioe", 2021).tokens
    raw = Tables({"contacts": pd.DataFrame({ROW_KEY: ["FC1"], "contact_reason": [text]}, dtype=object),
                  "persons": pd.DataFrame({ROW_KEY: ["FC1#1"], "otherclothing": [None]}, dtype=object)})
    spans: dict = {}
    for seq, entry in enumerate(entries, start=1):
        entry = {"seq": seq, "action": "redact", "entity_type": "PERSON", "detector": "lexicon", "start": 4,
                 "end": 14, "out_start": 4, "out_end": 14, "placeholder": "[PERSON 1]", "removed_length": 10,
                 **entry}
        entry.setdefault("token", tokens.token(text[entry["start"]:entry["end"]]))
        spans.setdefault((entry.pop("file", "fieldcontact.csv"), entry.pop("row_key", "FC1"), "contact_reason"),
                         []).append(entry)
    from release.pii.placeholders import engine_labels

    redacted, problems, _ = _redacted(policy, raw, spans, tokens, engine_labels(ROOT / "redaction_rules" / "pii"))
    return str(redacted["contacts"]["contact_reason"].iat[0]), problems


def test_the_logs_spans_rebuild_the_text_and_a_forged_span_is_named_never_its_value() -> None:
    assert _span_problems({}) == ("Met [PERSON 1] at the corner", [])
    assert _span_problems({"action": "keep", "placeholder": ""}) == ("Met John Smith at the corner", [])
    where = "fieldcontact.csv, row FC1, column contact_reason, log seq 1: "
    forged = {
        "token": ({"token": "0" * 64}, "its token does not match the raw text of its span"),
        "placeholder-value": ({"placeholder": "[PERSON 1] 4242", "out_end": 19},
                              "its placeholder is not one the build writes"),
        "placeholder-number": ({"placeholder": "[PERSON 4242]", "out_end": 17},
                               "its placeholder is not one the build writes"),
        "placeholder-type": ({"placeholder": "[COUNTS 1]"}, "its placeholder is not one the build writes"),
        # the entity type re-logged with the placeholder's word: a word the build never writes carries a value
        "entity-word": ({"placeholder": "[ONETHREEFIVE 1]", "entity_type": "ONETHREEFIVE", "out_end": 20},
                        "its entity type is not one the build's engine, its leak check or the trusted recognizers write"),
        "outside": ({"end": 99, "removed_length": 95}, "its span is not inside the cell"),
        "offsets": ({"out_start": 5, "out_end": 15}, "its output offsets are not where the build places its span"),
        "length": ({"removed_length": 3}, "its removed length is not its span's"),
    }
    for variant, (entry, why) in forged.items():
        text, problems = _span_problems(entry)
        assert len(problems) == 1 and problems[0].startswith(where + why), (variant, problems)
        assert problems[0].endswith("(rule record-replay)") and "4242" not in problems[0] and "Smith" not in problems[0]
    _, problems = _span_problems({}, {"start": 8, "end": 14, "removed_length": 6, "placeholder": "[PERSON 2]"})
    assert problems == ["fieldcontact.csv, row FC1, column contact_reason, log seq 2: its span overlaps another span "
                        "of the cell (rule record-replay)"], problems
    _, problems = _span_problems({"row_key": "FC9"})
    assert problems == ["fieldcontact.csv, row FC9, column contact_reason: a logged span in no free-text cell of the "
                        "raw export (rule record-replay)"], problems



# FIOE 2022: an honest draft failed ``audit --raw`` on one narrative whose address span (ending on a
# period) touched a name span: the engine set one space between the two placeholders, the replay two.
# Invented text; the cell as the engine writes it (``tests/stages/test_redact.py`` holds the engine's
# renderer and the replay to the same output for this and other layouts).
ADJACENT = "Seen at 45 Fernbrook Way.Zed (987654321).\n\nReleased."
ADJACENT_BUILT = "Seen at [ADDRESS 1] [PERSON 1] ([SSN 1]).\n\nReleased."
ADJACENT_SPANS = (("45 Fernbrook Way.", "[ADDRESS 1]"), ("Zed", "[PERSON 1]"), ("987654321", "[SSN 1]"))


def _adjacent_entries(shift_after: int = 0) -> list[dict]:
    """The log entries of the invented cell, at the output offsets the build wrote (``shift_after``:
    spans from that one on logged one character further, where the former replay placed them)."""
    entries = []
    for number, (value, placeholder) in enumerate(ADJACENT_SPANS):
        start, out_start = ADJACENT.index(value), ADJACENT_BUILT.index(placeholder)
        out_start += 1 if shift_after and number >= shift_after else 0
        entries.append({"start": start, "end": start + len(value), "removed_length": len(value),
                        "out_start": out_start, "out_end": out_start + len(placeholder), "placeholder": placeholder,
                        "entity_type": placeholder[1:].split()[0], "detector": "regex"})
    return entries


_OFFSETS, _CELL = "its output offsets are not where the build places its span", "not the cell the build writes"


@pytest.mark.parametrize(("published", "shift_after", "why"), [
    (ADJACENT_BUILT, 0, []),
    (ADJACENT_BUILT.replace("] [", "]  ["), 0, [_CELL]),
    # the 2022 report's shape: the name's and the SSN's entries, then the cell
    (ADJACENT_BUILT.replace("] [", "]  ["), 1, [f"log seq 2: {_OFFSETS}", f"log seq 3: {_OFFSETS}", _CELL]),
    (ADJACENT_BUILT.replace("Released", "Released 4242"), 0, [_CELL]),
], ids=["honest", "cell-spaced-twice", "log-spaced-twice", "cell-edited"])
def test_adjacent_placeholders_replay_as_the_build_wrote_them_and_an_edited_cell_fails(
        tmp_path: Path, published: str, shift_after: int, why: list[str]) -> None:
    """The replay renders the log's spans with the engine's renderer: the honest cell of two touching
    placeholders replays (no problem), and a cell or a log placing them otherwise is still named,
    never its text."""
    import pandas as pd

    from release.audit.record_replay import _compared

    replayed, problems = _span_problems(*_adjacent_entries(shift_after), text=ADJACENT)
    assert replayed == ADJACENT_BUILT
    path = tmp_path / CONTACTS
    path.write_text(pd.DataFrame({"contact_reason": [published]}).to_csv(index=False, lineterminator="\n"),
                    encoding="utf-8")
    problems += _compared(path, f"public/{CONTACTS}", pd.DataFrame({"contact_reason": [replayed]}), ["FC1"],
                          {"contact_reason": "column rule narrative"})
    assert len(problems) == len(why) and all(w in p for w, p in zip(why, problems, strict=True)), problems
    assert all("FC1" in p and "Zed" not in p and "4242" not in p for p in problems), problems

def _forged_decisions(rows: list[int], column: str = "state") -> Callable[[Path], str]:
    """Round 26, F-decision: reviewer ``drop_value`` entries no reviewer signed, for the contacts cells of
    ``rows`` in ``column`` (the bits of a count), put in the log with the release key (chain and trailer
    rebuilt), the cells blanked as the replay of such entries blanks them."""
    def edit(public: Path) -> str:
        from release.bundle.log import build_log
        from release.bundle.read import read_manifest
        from release.keys.hmac import keys_for_manifest, master_key
        from release.model import RedactionEvent

        bundle = public.parent
        keys = keys_for_manifest(master_key().material, read_manifest(bundle))
        log = bundle / "redaction_log.jsonl"
        entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        fields = set(RedactionEvent.__dataclass_fields__)
        events = [RedactionEvent(**{k: v for k, v in e.items() if k in fields}) for e in entries if "seq" in e]
        table = _rows(public / CONTACTS)
        at, key_at = table[0].index(column), table[0].index("fc_num")
        raw_keys = {e["row_key"] for e in entries if e.get("file") == "fieldcontact.csv"}
        picked = [i for i in range(1, len(table)) if table[i][at]][:max(rows) + 1]
        for i in (picked[r] for r in rows):
            row_key = next(iter(sorted(raw_keys)))  # a source number the log names (the public key is a pseudonym)
            events.append(RedactionEvent(
                dataset="fioe", file="fieldcontact.csv", row_key=row_key, column=column, action="drop_value",
                entity_type="VALUE", detector="reviewer", detector_version="reviewer decision",
                rule_id="reviewer.redact", score=1.0, start=-1, end=-1, out_start=-1, out_end=-1,
                removed_length=len(table[i][at]), token=keys.tokens.token(table[i][at])))
            table[i][at] = ""
        assert key_at >= 0
        log.write_text("\n".join(build_log(events, keys.trailer)) + "\n", encoding="utf-8")
        _write(public / CONTACTS, table)
        return CONTACTS
    return edit


def test_f_decision_reviewer_entries_no_reviewer_signed_fail_audit_raw(world: World) -> None:
    """Round 26, F-decision: the log given reviewer cell decisions no trusted reviewer signed (the
    analyst re-chains the log with the release key), their cells blanked: the blanks carry a number.
    ``audit --raw`` holds every reviewer entry of the log to a signed decision in force (8)."""
    honest, raw = world.tmp / "rel-honest", world.tmp / "raw-2021"
    if not honest.exists():
        world.ok(*world.build(honest, "--json", raw=_raw_2021(world), year=YEAR))
    out, bundle = _edited(world, honest, "F-decision", _forged_decisions([0, 1, 2]))
    _rewrite(bundle, lambda m: None, "redaction_log.jsonl")
    _rebind(world, bundle)
    code, checks = _audit_raw(world, out, raw)
    problems = checks[REPLAYED]["problems"]
    assert code == 8 and checks[REPLAYED]["status"] == "fail", checks[REPLAYED]
    unsigned = [p for p in problems if "a reviewer's entry no signed decision of a trusted reviewer in force makes" in p]
    assert len(unsigned) == 3 and all(p.startswith("fieldcontact.csv, row ") and ", column state" in p
                                      for p in unsigned), problems


def test_approve_and_publish_with_raw_refuse_what_only_the_raw_export_tells(world: World) -> None:
    """Round 25-26, F-free-text before publication: ``approve --raw`` and ``publish --raw`` run the
    audit's raw-export checks first. The honest bundle is approved with them (0); an edited narrative,
    bound again, is refused by both (7, rule raw-replay, naming the file, row and column, never the
    value), though approve without ``--raw`` cannot tell."""
    honest, raw = world.tmp / "rel-honest", world.tmp / "raw-2021"
    if not honest.exists():
        world.ok(*world.build(honest, "--json", raw=_raw_2021(world), year=YEAR))
    out, bundle = _edited(world, honest, "F-raw", FREE_TEXT["reason"][0])
    org = _org(out, world)
    refusal = world.refused(7, "rule raw-replay", "approve", *org[:2], "--key", str(world.counsel), *org[2:],
                            "--raw", str(raw))
    assert "record_cells_replayed fail: " in " ".join(refusal.split()) and "4242" not in refusal, refusal
    assert f"{CONTACTS}, row " in " ".join(refusal.split()), refusal
    _sign_outside_approve(world, bundle)
    refusal = world.refused(7, "rule raw-replay", "publish", *org[:2], "--to", str(world.site), *org[2:],
                            "--raw", str(raw))
    assert "4242" not in refusal and not (world.site / "fioe" / YEAR).exists()
    honest_org = _org(honest, world)
    world.ok("approve", *honest_org[:2], "--key", str(world.counsel), *honest_org[2:], "--raw", str(raw))


def test_a_log_entry_whose_fields_are_not_of_their_type_is_named_not_a_crash(tmp_path: Path) -> None:
    """A token or entity type that is a list (unhashable: no set test can hold it) is a problem of the
    replay, naming the log seq and rule, and the entry is not used; the audit still reports."""
    from release.audit.record_replay import logged_spans
    from release.bundle.layout import LOG

    good = {"seq": 1, "file": "fieldcontact.csv", "row_key": "FC1", "column": "contact_reason", "action": "redact",
            "detector": "ner", "entity_type": "PERSON", "placeholder": "[PERSON 1]", "token": "ab", "start": 4,
            "end": 9}
    lines = [good, {**good, "seq": 2, "token": ["x"]}, {**good, "seq": 3, "entity_type": {"a": 1}},
             {**good, "seq": "4"}, {"trailer": True}]
    (tmp_path / LOG).write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    spans, decisions, problems = logged_spans(tmp_path)
    assert [e["seq"] for es in spans.values() for e in es] == [1] and decisions == []
    assert problems == [f"log seq {n}: a field is not of the type the build writes (rule record-replay)"
                        for n in ("2", "3", "(unnumbered)")]


REDETECTED = "redactions_redetected"


ORDINARY = ("stabbing", "directed", "patrol", "exchange", "complaints", "loitering", "recovered", "gathering",
            "tension", "associates", "location", "familiar", "activated", "notified")


def _forged_span(detector: str) -> Callable[[Path], str]:
    """Round 27, F-span: a well-formed redaction at a chosen offset, over an ordinary word of a narrative
    (its token the HMAC of the word, its placeholder the next of its type, every span of the cell at the
    output offsets the build's renderer gives), the public cell rendered with it, the log re-chained
    with the release key. ``detector``: the engine's (``ner``) or a verify round's (``second_scan``)."""
    def edit(public: Path) -> str:
        import dataclasses
        import re

        import pandas as pd

        from release.bundle.log import build_log
        from release.model import RedactionEvent
        from release.stages.redact import render_logged

        bundle = public.parent
        events, keys = _log_events(bundle)
        raw = pd.read_csv(bundle.parent.parent.parent / "raw-2021" / "fieldcontact.csv", dtype=str,
                          keep_default_na=False)
        table = _rows(public / CONTACTS)
        at = table[0].index("contact_reason")
        published = [row[at] for row in table[1:]]
        reports = list(raw["fc_num"])

        def render(text: str, spans: list) -> tuple[str, list]:
            return render_logged(text, [(e.start, e.end, e.placeholder, e.action == "keep") for e in spans])

        for fc_num, text in zip(raw["fc_num"], raw["contact_reason"], strict=True):
            mine = sorted((e for e in events if e.row_key == fc_num and e.column == "contact_reason"),
                          key=lambda e: e.start)
            word = next((m for m in re.finditer(r"[a-z]+", text) if m.group() in ORDINARY
                         and not any(e.start < m.end() and m.start() < e.end for e in mine)), None)
            if reports.count(fc_num) == 1 and word and published.count(render(text, mine)[0]) == 1 \
                    and not any(e.detector == "reviewer" for e in mine):
                break
        else:
            raise AssertionError("no narrative with an ordinary word to forge a span over")
        row = 1 + published.index(render(text, mine)[0])
        number = 1 + sum(e.entity_type == "PERSON" for e in mine)
        forged = RedactionEvent(
            dataset="fioe", file="fieldcontact.csv", row_key=fc_num, column="contact_reason", action="redact",
            entity_type="PERSON", detector=detector, detector_version=events[0].detector_version,
            rule_id="SpacyRecognizer", score=0.85, start=word.start(), end=word.end(), out_start=0, out_end=0,
            removed_length=word.end() - word.start(), token=keys.tokens.token(word.group()),
            placeholder=f"[PERSON {number}]")
        cell = sorted([*mine, forged], key=lambda e: e.start)
        rendered, placed = render(text, cell)
        redone = [dataclasses.replace(e, out_start=o_s, out_end=o_e) for e, (o_s, o_e) in zip(cell, placed, strict=True)]
        events = [e for e in events if e not in mine] + redone
        (bundle / "redaction_log.jsonl").write_text("\n".join(build_log(events, keys.trailer)) + "\n", encoding="utf-8")
        table[row][at] = rendered
        _write(public / CONTACTS, table)
        return CONTACTS
    return edit


def _dropped_span(public: Path) -> str:
    """A redaction taken out of the log (re-chained) and its raw text put back in the public cell."""
    import pandas as pd

    from release.bundle.log import build_log

    bundle = public.parent
    events, keys = _log_events(bundle)
    raw = pd.read_csv(bundle.parent.parent.parent / "raw-2021" / "fieldcontact.csv", dtype=str, keep_default_na=False)
    table = _rows(public / CONTACTS)
    at = table[0].index("contact_reason")
    published = [row[at] for row in table[1:]]
    counts = {}
    for e in events:
        if e.column == "contact_reason":
            counts[e.row_key] = counts.get(e.row_key, 0) + 1
    texts = dict(zip(raw["fc_num"], raw["contact_reason"], strict=True))
    dropped = next(e for e in events if e.column == "contact_reason" and counts[e.row_key] == 1
                   and e.action == "redact" and list(texts.values()).count(texts[e.row_key]) == 1)
    text = texts[dropped.row_key]
    row = 1 + next(i for i, cell in enumerate(published)
                   if cell == text[:dropped.start] + dropped.placeholder + text[dropped.end:])
    table[row][at] = text
    events.remove(dropped)
    (bundle / "redaction_log.jsonl").write_text("\n".join(build_log(events, keys.trailer)) + "\n", encoding="utf-8")
    _write(public / CONTACTS, table)
    return CONTACTS


@pytest.mark.slow
def test_f_span_a_forged_or_dropped_redaction_fails_audit_raw_and_approve_raw(world: World) -> None:
    """Round 27, F-span: a well-formed span at a chosen offset, claimed by the engine or by a verify
    round, re-chained with the release key and bound again, passed every check, ``audit --raw``
    included: ``record_cells_replayed`` holds the span's form, not its cause. ``redactions_redetected``
    runs the trusted rules' engine over the raw export: the span no detector makes fails (8, naming
    file, row key, column, log seq and rule, never the word), and ``approve --raw`` refuses it (7). A
    redaction taken out of the log with its placeholder (the name published) fails the same check.
    The honest bundle passes it."""
    honest, raw = world.tmp / "rel-honest", world.tmp / "raw-2021"
    world.ok(*world.build(honest, "--json", raw=_raw_2021(world), year=YEAR))
    code, checks = _audit_raw(world, honest, raw)
    assert checks[REDETECTED]["status"] == "pass" and checks[REDETECTED]["detail"]["spans_checked"] >= 1, checks
    for variant, edit in [("ner", _forged_span("ner")), ("second-scan", _forged_span("second_scan")),
                          ("dropped", _dropped_span)]:
        out, bundle = _edited(world, honest, variant, edit)
        _rewrite(bundle, lambda m: None, "redaction_log.jsonl")
        _rebind(world, bundle)
        code, checks = _audit_raw(world, out, raw)
        assert code == 8 and checks[REDETECTED]["status"] == "fail", (variant, checks[REDETECTED])
        problems = checks[REDETECTED]["problems"]
        why = ("text the build's engine redacts that the log leaves published" if variant == "dropped"
               else "a redaction the build's engine does not make from the raw export (its span, type or placeholder)")
        assert len(problems) == 1 and problems[0].startswith("fieldcontact.csv, row FC21"), problems
        assert ", column contact_reason" in problems[0] and problems[0].endswith(f": {why} (rule span-redetected)")
        assert ("log seq " in problems[0]) is (variant != "dropped"), problems
        if variant == "ner":
            assert checks[REPLAYED]["status"] == "pass", checks[REPLAYED]  # well formed: only its cause tells
            org = _org(out, world)
            refusal = world.refused(7, "rule raw-replay", "approve", *org[:2], "--key", str(world.counsel), *org[2:],
                                    "--raw", str(raw))
            assert "redactions_redetected fail: fieldcontact.csv, row FC21" in " ".join(refusal.split()), refusal


@pytest.mark.slow
def test_a_trusted_policy_requiring_the_replay_refuses_approve_and_publish_without_the_raw_export(
        world: World) -> None:
    """Round 27: what only the raw export tells was held only when the reviewer thought to give --raw. The
    organisation's trusted policy can require it (``approvals.raw_replay: true``): approve and publish
    without ``--raw`` are refused (7, rule raw-replay, naming the setting); with it, the honest bundle is
    approved and published."""
    policy = world.rules / "fioe.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "  decide: [legal]" in text
    policy.write_text(text.replace("  decide: [legal]", "  decide: [legal]\n  raw_replay: true", 1), encoding="utf-8")
    honest, raw = world.tmp / "rel-required", world.tmp / "raw-2021"
    world.ok(*world.build(honest, "--json", raw=_raw_2021(world), year=YEAR))
    org = _org(honest, world)
    said = world.refused(7, "rule raw-replay", "approve", *org[:2], "--key", str(world.counsel), *org[2:])
    assert "(approvals.raw_replay): give --raw" in said, said
    world.ok("approve", *org[:2], "--key", str(world.counsel), *org[2:], "--raw", str(raw))
    said = world.refused(7, "rule raw-replay", "publish", *org[:2], "--to", str(world.site), *org[2:])
    assert "before publish (approvals.raw_replay)" in said and not (world.site / "fioe" / YEAR).exists(), said
    world.ok("publish", *org[:2], "--to", str(world.site), *org[2:], "--raw", str(raw))
    assert (world.site / "fioe" / YEAR / "manifest.json").is_file()


def _span(first: Any, keys: Any, text: str, start: int, end: int, kind: str, number: int) -> Any:
    import dataclasses

    return dataclasses.replace(first, action="redact", entity_type=kind, start=start, end=end, removed_length=end - start,
                               token=keys.tokens.token(text[start:end]), placeholder=f"[{kind} {number}]")


DIGIT_TYPES = ("ADDRESS", "AGE", "CASE", "DOB", "EMAIL", "ID", "PHONE", "PLATE", "URL", "PERSON")  # a digit each


def _over_spaces(text: str, first: Any, spans: list, keys: Any) -> list | None:
    """C1: eight placeholders over the spaces before the first redaction, their types the digits of a
    fictitious date of birth (a space has no letter or digit: support alone passed it)."""
    import re

    spaces = [m.start() for m in re.finditer(" ", text[:first.start])]
    if len(spaces) < 8:
        return None
    added, used = [], {}
    for position, digit in zip(spaces[:8], "19850314", strict=True):
        kind = DIGIT_TYPES[int(digit)]
        used[kind] = used.get(kind, sum(e.entity_type == kind for e in spans)) + 1
        added.append(_span(first, keys, text, position, position + 1, kind, used[kind]))
    return [*spans, *added]


def _relabelled(text: str, first: Any, spans: list, keys: Any) -> list | None:
    """R1: a name's redaction given another type."""
    import dataclasses

    people = [e for e in spans if e.entity_type == "PERSON"]
    if len(people) != 1:
        return None
    return [e for e in spans if e is not people[0]] + [dataclasses.replace(people[0], entity_type="PHONE",
                                                                            placeholder="[PHONE 1]")]


def _swapped(text: str, first: Any, spans: list, keys: Any) -> list | None:
    """R1: two people's placeholder numbers exchanged."""
    import dataclasses

    people = [e for e in spans if e.entity_type == "PERSON"]
    if len({e.placeholder for e in people}) < 2 or len(people) != len({e.placeholder for e in people}):
        return None
    a, b = people[:2]
    return [e for e in spans if e not in (a, b)] + [dataclasses.replace(a, placeholder=b.placeholder),
                                                    dataclasses.replace(b, placeholder=a.placeholder)]


def _split(text: str, first: Any, spans: list, keys: Any) -> list | None:
    """R1: "First Last" redacted as two placeholders."""
    import dataclasses

    for e in spans:
        piece = text[e.start:e.end]
        if " " in piece.strip():
            cut = e.start + piece.index(" ")
            number = 1 + sum(x.entity_type == e.entity_type for x in spans)
            head = dataclasses.replace(e, end=cut, removed_length=cut - e.start, token=keys.tokens.token(text[e.start:cut]))
            return [x for x in spans if x is not e] + [head, _span(e, keys, text, cut + 1, e.end, e.entity_type, number)]
    return None


def _widened(text: str, first: Any, spans: list, keys: Any) -> list | None:
    """R1: a redaction widened over the punctuation and spaces after it."""
    import dataclasses

    for e in spans:
        following = min([x.start for x in spans if x.start >= e.end] + [len(text)])
        end = e.end
        while end < following and not text[end].isalnum():
            end += 1
        if end > e.end + 1:
            return [x for x in spans if x is not e] + [dataclasses.replace(
                e, end=end, removed_length=end - e.start, token=keys.tokens.token(text[e.start:end]))]
    return None


RESPANNED = {"over-spaces": _over_spaces, "relabelled": _relabelled, "swapped": _swapped, "split": _split,
             "widened": _widened}


@pytest.mark.slow
def test_r28_placeholders_over_spaces_or_altered_redactions_fail_audit_raw_and_approve_raw(world: World) -> None:
    """Round 28, C1 and R1: ``redactions_redetected`` asked only that each logged span's letters and digits
    lie inside a detection. Placeholders over spaces have none: eight of them carried a date of birth's
    digits in their types, and approve --raw, publish --raw, ``audit --raw`` and verify passed. So did a
    name relabelled, two people's numbers exchanged, a name split in two and a span widened. Now a text
    no reviewer touched must carry exactly the redactions the engine makes (spans, types, placeholders):
    each variant fails ``audit --raw`` (8) naming file, row key, column and log seq, never the text, and
    the trusted policy's ``raw_replay`` makes approve refuse it (7). Every other check passes it: only
    the re-detection can tell."""
    policy = world.rules / "fioe.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("  decide: [legal]", "  decide: [legal]\n  raw_replay: true", 1), encoding="utf-8")
    honest, raw = world.tmp / "rel-honest", world.tmp / "raw-2021"
    world.ok(*world.build(honest, "--json", raw=_raw_2021(world), year=YEAR))
    code, checks = _audit_raw(world, honest, raw)
    assert checks[REDETECTED]["status"] == "pass", checks[REDETECTED]
    assert checks[REDETECTED]["detail"]["texts_as_first_round"] >= 1, checks[REDETECTED]
    unsigned = {name for name, check in checks.items() if check["status"] == "fail"}  # a draft: not yet approved
    assert REDETECTED not in unsigned and REPLAYED not in unsigned and "trusted_policy" not in unsigned, unsigned
    for variant, pick in RESPANNED.items():
        out, bundle, fc_num = _respanned(world, honest, variant, pick)
        code, checks = _audit_raw(world, out, raw)
        failed = {name for name, check in checks.items() if check["status"] == "fail"}
        assert code == 8 and failed - unsigned == {REDETECTED}, (variant, failed, checks[REDETECTED])
        problems = checks[REDETECTED]["problems"]
        assert problems and all(p.startswith(f"fieldcontact.csv, row {fc_num}, column contact_reason") for p in problems)
        assert any("log seq " in p and "(its span, type or placeholder) (rule span-redetected)" in p for p in problems)
        if variant == "over-spaces":
            org = _org(out, world)
            refusal = world.refused(7, "rule raw-replay", "approve", *org[:2], "--key", str(world.counsel), *org[2:],
                                    "--raw", str(raw))
            assert f"redactions_redetected fail: fieldcontact.csv, row {fc_num}" in " ".join(refusal.split())


@pytest.mark.slow
def test_r29_a_text_a_reviewer_ruled_on_is_held_as_exactly_as_any_other(world: World) -> None:
    """Round 29, R4: one honest signed decision (the reviewer keeps a case number) sent that text down a
    looser path, where any placeholder number "already used, or the next" passed: the analyst merged
    the text's people into one ``[PERSON 1]``, and approve --raw, publish --raw, ``audit --raw`` and
    verify passed. Now the reviewer's decisions the log records are applied to the replayed redaction
    as the build applies them, and the text must match exactly: the honest rebuild passes (one text
    reviewed), the merge fails ``audit --raw`` (8) and approve --raw (7)."""
    import pandas as pd

    honest, raw = world.tmp / "rel-reviewed", world.tmp / "raw-2021"
    world.ok(*world.build(honest, "--json", raw=_raw_2021(world), year=YEAR))
    bundle = honest / "fioe" / YEAR
    events, _ = _log_events(bundle)
    texts = pd.read_csv(raw / "fieldcontact.csv", dtype=str, keep_default_na=False)["fc_num"].tolist()
    target, kept = next((fc, other[0]) for fc in dict.fromkeys(texts) if texts.count(fc) == 1
                        for mine in [[e for e in events if e.row_key == fc and e.column == "contact_reason"]]
                        for other in [[e for e in mine if e.entity_type == "CASE"]]
                        if len({e.placeholder for e in mine if e.entity_type == "PERSON"}) >= 2 and other)
    seq = next(entry["seq"] for line in (bundle / "redaction_log.jsonl").read_text(encoding="utf-8").splitlines()
               for entry in [json.loads(line)] if entry.get("row_key") == target and entry.get("column") == "contact_reason"
               and entry.get("start") == kept.start and entry.get("end") == kept.end)
    world.ok("decide", "fioe", YEAR, "--log-id", str(seq), "--decision", "keep", "--key", str(world.counsel),
             "--out", str(honest), "--rules", str(world.rules), "--note", "a case number the public may see")
    world.ok(*world.build(honest, "--json", raw=_raw_2021(world), year=YEAR))
    code, checks = _audit_raw(world, honest, raw)
    assert checks[REDETECTED]["status"] == "pass" and checks[REDETECTED]["detail"]["texts_reviewed"] == 1, checks
    assert checks[REPLAYED]["status"] == "pass", checks[REPLAYED]

    def merged(text: str, first: Any, spans: list, keys: Any) -> list:
        import dataclasses
        return [dataclasses.replace(e, placeholder="[PERSON 1]") if e.entity_type == "PERSON" and e.action == "redact"
                and e.detector != "reviewer" else e for e in spans]

    out, bundle, fc_num = _respanned(world, honest, "reviewed-merged", merged, only=target)
    code, checks = _audit_raw(world, out, raw)
    assert code == 8 and checks[REDETECTED]["status"] == "fail", checks[REDETECTED]
    assert all(p.startswith(f"fieldcontact.csv, row {target}, column contact_reason, log seq ")
               for p in checks[REDETECTED]["problems"]), checks[REDETECTED]
    org = _org(out, world)
    world.refused(7, "rule raw-replay", "approve", *org[:2], "--key", str(world.counsel), *org[2:], "--raw", str(raw))
