"""Closed vocabularies in the generalize stage: codebook spellings, list cells, free
entries, formats; an unknown value is blanked and reported by count and row keys only."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, contact, person, write_export

from release.config.codebooks import Vocabulary
from release.config.policy import DatasetPolicy, KeepRule
from release.keys.hmac import Tokenizer
from release.model import Finding, RedactionEvent
from release.stages.generalize import Context, generalize
from release.stages.juvenile import minor_keys
from release.stages.load import load_export

KEY = Tokenizer(b"v" * 64)
NAME = "Zebulon Quartermaine"  # fictitious


def _run(folder: Path, policy: DatasetPolicy) -> tuple[dict[str, pd.DataFrame], list[Finding], list[RedactionEvent]]:
    loaded = load_export(folder, policy, 2020)
    tables, findings, events = generalize(loaded.tables, policy, minor_keys(loaded.tables, policy), KEY)
    return tables.frames, findings, events


def _one(tmp_path: Path, policy: DatasetPolicy, file: str, column: str, raw: str
         ) -> tuple[str | None, list[Finding], list[RedactionEvent]]:
    contacts = [contact("FC20000001", **({column: raw} if file == "contacts" else {}))]
    persons = [person("FC20000001", **({column: raw} if file == "persons" else {}))]
    frames, findings, events = _run(write_export(tmp_path, contacts, persons), policy)
    return frames[file][column].iloc[0], findings, events


@pytest.mark.parametrize(
    ("file", "column", "raw", "public"),
    [("contacts", "state", "Mass", "MA"), ("contacts", "state", " massachusetts ", "MA"),
     ("contacts", "vehicle_state", "N.Y.", "NY"), ("persons", "license_state", "Ontario", "ON"),
     ("contacts", "city", "dorchester", "DORCHESTER"), ("contacts", "city", "SOUTHBOSTON", "SOUTH BOSTON"),
     ("contacts", "city", "BSTN", "BOSTON"), ("contacts", "city", "Cambridge", "CAMBRIDGE"),
     ("contacts", "vehicle_color", "GRA", "Gray"), ("contacts", "vehicle_color", "BLUE", "Blue"),
     ("contacts", "vehicle_color", "Lt. Blue", "Light Blue"),
     ("contacts", "vehicle_model", "crv", "CR-V"), ("contacts", "vehicle_model", "Mazda 3", "Mazda3"),
     ("contacts", "vehicle_model", "TLX", "TLX"), ("contacts", "vehicle_model", "f150", "F-150"),
     ("contacts", "vehicle_style", "Other: suv", "SUV"), ("contacts", "vehicle_style", "Other: 4 dr ", "4 Door"),
     ("contacts", "vehicle_type", "Suv (sport Utility Vehicle)", "SUV (Sport Utility Vehicle)"),
     ("contacts", "weather", "cloudy / partly cloudy", "Cloudy/Partly Cloudy"),
     ("contacts", "key_situations", " Body Worn Camera, gang,DRUGS", "Body Worn Camera, Gang, Drugs"),
     ("contacts", "key_situations", "Gang, Gang Related", "Gang"),
     ("contacts", "basis", "Reasonable Suspicion ", "Reasonable Suspicion"),
     ("persons", "license_type", "Other: Learners Permit", "Instruction Permit"),
     ("persons", "race", "Native Hawaiian / Other Pacific Islander", "Native Hawaiian or Other Pacific Islander"),
     ("persons", "hair_style", "dreads", "Dreadlocks"), ("contacts", "contact_officer", "S12345", "S12345")],
    ids=["state-short", "state-long", "dotted-code", "province", "city-case", "city-glued", "city-rms",
         "town", "color-truncated", "color-caps", "color-lt", "model-compact", "model-space", "model-variant",
         "model-hyphen", "style-free-entry", "style-door-count", "type-case", "weather-spacing",
         "list-items", "list-once", "trailing-space", "licence-free-entry", "race-rms", "hair-slang",
         "officer-id"])
def test_known_values_published_in_codebook_spelling(tmp_path: Path, policy: DatasetPolicy, file: str,
                                                      column: str, raw: str, public: str) -> None:
    value, findings, events = _one(tmp_path, policy, file, column, raw)
    assert value == public
    assert not [f for f in findings if f.code.startswith("value_outside")]
    assert not [e for e in events if e.column == column]


@pytest.mark.parametrize(
    ("file", "column", "raw", "public", "code"),
    [("contacts", "weather", NAME, None, "value_outside_domain"),
     ("contacts", "weather", "Probable Cause", None, "value_outside_domain"),   # a shifted basis value
     ("contacts", "vehicle_model", NAME, None, "value_outside_domain"),
     ("contacts", "vehicle_color", NAME, None, "value_outside_domain"),
     ("contacts", "city", NAME, None, "value_outside_domain"),
     ("contacts", "vehicle_style", f"Other: {NAME}", None, "value_outside_domain"),
     ("contacts", "key_situations", f"Gang, {NAME}, Drugs", "Gang, Drugs", "value_outside_domain"),
     ("contacts", "key_situations", NAME, None, "value_outside_domain"),
     ("contacts", "contact_officer", NAME, None, "value_outside_pattern"),
     ("persons", "otherclothing", NAME, NAME, None),   # free text: the PII engine's job, not this stage's
     ("persons", "skin_tone", NAME, None, "value_outside_domain"),
     ("persons", "license_type", f"Other: {NAME}", None, "value_outside_domain")],
    ids=["weather", "weather-shifted", "model", "color", "city", "style-free-entry", "list-item", "list-only",
         "officer-id", "free-text", "skin-tone", "licence-free-entry"])
def test_unknown_values_blanked_and_reported_without_the_value(
        tmp_path: Path, policy: DatasetPolicy, file: str, column: str, raw: str, public: str | None,
        code: str | None) -> None:
    value, findings, events = _one(tmp_path, policy, file, column, raw)
    assert value == public
    mine = [f for f in findings if f.column == column and f.code.startswith("value_outside")]
    if code is None:
        assert mine == []
        return
    assert [(f.code, f.severity, f.count, f.row_keys) for f in mine] == [
        (code, "warning", 1, ("FC20000001" if file == "contacts" else "FC20000001/p1",))]
    assert NAME not in repr(findings) and NAME.casefold() not in repr(findings).casefold()
    logged = [e for e in events if e.column == column]
    assert [(e.action, e.token, e.removed_length) for e in logged] == [("drop_value", KEY.token(raw.strip()),
                                                                       len(raw.strip()))]
    assert NAME not in repr(events)


@pytest.mark.parametrize(
    ("raw", "public"), [("Accord Lx", "Accord"), ("grand cherokee laredo", "Grand Cherokee"), ("Honda Accord", "Honda")],
    ids=["trim", "two-word-model", "make-first"])
def test_leading_value_publishes_the_model_and_logs_the_dropped_words(
        tmp_path: Path, policy: DatasetPolicy, raw: str, public: str) -> None:
    value, findings, events = _one(tmp_path, policy, "contacts", "vehicle_model", raw)
    assert value == public
    mine = [f for f in findings if f.column == "vehicle_model"]
    assert [(f.code, f.severity, f.count) for f in mine] == [("value_shortened", "info", 1)]
    assert [(e.action, e.token) for e in events if e.column == "vehicle_model"] == [("generalize", KEY.token(raw))]


def _with_rule(policy: DatasetPolicy, file: str, column: str, **update: object) -> DatasetPolicy:
    file_policy = policy.files[file]
    columns = dict(file_policy.columns, **{column: file_policy.columns[column].model_copy(update=update)})
    files = dict(policy.files, **{file: file_policy.model_copy(update={"columns": columns})})
    return policy.model_copy(update={"files": files})


@pytest.mark.parametrize(
    ("on_unknown", "public", "severity", "action"),
    [("blank", None, "warning", "drop_value"), ("other", "Other", "warning", "generalize"),
     ("block", None, "blocking", "drop_value")],
    ids=["blank", "other", "block"])
def test_on_unknown(tmp_path: Path, policy: DatasetPolicy, on_unknown: str, public: str | None,
                    severity: str, action: str) -> None:
    changed = _with_rule(policy, "contacts", "weather", on_unknown=on_unknown)
    value, findings, events = _one(tmp_path, changed, "contacts", "weather", NAME)
    assert value == public
    assert [(f.code, f.severity) for f in findings if f.column == "weather"] == [("value_outside_domain", severity)]
    assert [e.action for e in events if e.column == "weather"] == [action]


def test_counts_and_row_keys_over_several_rows(tmp_path: Path, policy: DatasetPolicy) -> None:
    contacts = [contact(f"FC2000000{i}", weather=w) for i, w in
                enumerate(["Sunny", "Body Worn Camera", NAME, "", "Probable Cause "], start=1)]
    frames, findings, _ = _run(write_export(tmp_path, contacts, [person("FC20000001")]), policy)
    assert frames["contacts"]["weather"].tolist() == ["Sunny", None, None, None, None]
    [finding] = [f for f in findings if f.column == "weather"]
    assert (finding.count, finding.row_keys) == (3, ("FC20000002", "FC20000003", "FC20000005"))
    assert "values outside the codebook: blanked" in finding.message


@pytest.mark.parametrize(
    ("rule", "cell", "public", "unknown"),
    [(KeepRule(type="keep", domain=("A", "B")), " a ", "A", 0),
     (KeepRule(type="keep", domain=("A", "B"), list_separator=";"), "b; x;a;;b", "B; A", 1),
     (KeepRule(type="keep", domain=("A",), on_unknown="other", list_separator=","), "x, y", "Other", 2),
     (KeepRule(type="keep", pattern=r"FC\d{8}"), "FC2000000", None, 1),
     (KeepRule(type="keep", domain=("Two-Tone",)), "two tone", "Two-Tone", 0),
     (KeepRule(type="keep", domain=("Other", "SUV"), free_entry_prefix="Other:"), "other:  suv ", "SUV", 0),
     (KeepRule(type="keep", domain=("Ram",), leading_value=True), f"Ram {NAME}", "Ram", 0),
     (KeepRule(type="keep", domain=("Ram",)), f"Ram {NAME}", None, 1)],
    ids=["case-space", "list", "list-other", "pattern", "punctuation", "free-entry", "leading-value",
         "no-leading-value"])
def test_vocabulary_reads_a_cell(rule: KeepRule, cell: str, public: str | None, unknown: int) -> None:
    reading = Vocabulary.of(rule).read(cell)
    assert (reading.value, reading.unknown) == (public, unknown)


@pytest.mark.parametrize(("street", "published"), [
    ("45 Blue Hill Ave", "Blue Hill Ave"),
    ("BROADWAY", "BROADWAY"),
    ("Washington St N", "Washington St N"),
    ("Avenue de Lafayette", "Avenue de Lafayette"),
    ("I-93", "I-93"),
    ("Centre St & Chestnut", "Centre St & Chestnut"),
    ("Zebulon Quartermaine", None),                 # a name typed into the street field
    ("QUARTERMAINE", None),
    ("Zebulon Quartermaine & Main St", None),
    ("716", None),
], ids=["house-number-removed", "one-word-way", "direction", "type-first", "route", "intersection",
        "full-name", "surname", "name-in-intersection", "bare-number"])
def test_a_street_must_read_as_a_street(street: str, published: str | None) -> None:
    from release.config.policy import load_policy
    from release.stages.generalize import rule_street_name

    rule = load_policy(ROOT / "redaction_rules" / "fioe.yaml").files["contacts"].columns["street"]
    ctx = Context("fioe", "fieldcontact.csv", "street", pd.Series(["FC20000001"]), Tokenizer(b"s" * 64))
    outcome = rule_street_name(pd.Series([street], dtype=object), rule, ctx)
    assert outcome.values.iloc[0] == published
    if published is None:
        assert [(f.code, f.count, f.row_keys) for f in outcome.findings] == [("street_unreadable", 1, ("FC20000001",))]
