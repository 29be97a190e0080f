"""Tests for release.stages.validate: shipped fioe suites, findings, sanitization, bad suites."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from release.errors import ConfigError, ReleaseError
from release.model import Finding
from release.stages import validate_engine as engine_module
from release.stages.validate import SuiteResult, TableData, load_suites, validate

ROOT = Path(__file__).resolve().parents[2]
RAW_SUITE = ROOT / "expectations" / "fioe_raw.json"
PUBLIC_SUITE = ROOT / "expectations" / "fioe_public.json"
PLANTED = "ZQXJ-PLANTED-7731"  # must never leave the module

CONTACT_COLUMNS = [
    "fc_num", "contact_date", "contact_officer", "contact_officer_name", "supervisor",
    "supervisor_name", "street", "city", "state", "zip", "stop_duration", "circumstance",
    "basis", "vehicle_year", "vehicle_state", "vehicle_model", "vehicle_color",
    "vehicle_style", "vehicle_type", "key_situations", "contact_reason", "weather"]
PERSON_COLUMNS = [
    "recnum", "person_id", "fc_num", "contact_date", "sex", "race", "age", "ethnicity", "build", "hair_style",
    "skin_tone", "otherclothing", "deceased", "license_state", "license_type", "was_frisked"]
# the public files' columns: the raw ones and the policy's derived columns (row position, date precision, age band)
PUBLIC_CONTACT_COLUMNS = ["fc_num", "row_in_report", "contact_date", "contact_date_precision", *CONTACT_COLUMNS[2:]]
PUBLIC_PERSON_COLUMNS = ["recnum", "person_id", "fc_num", "person_in_report", "contact_date", "contact_date_precision",
                         "sex", "race", "age", "age_band", *PERSON_COLUMNS[7:]]
# A value of each closed column's vocabulary (the public suite checks them all).
CLOSED_CONTACTS = {"contact_officer": "123456", "supervisor": "012345", "city": "BOSTON", "state": "MA",
                   "vehicle_state": "NH", "vehicle_model": "Accord", "vehicle_color": "Gray",
                   "vehicle_style": "Sedan", "vehicle_type": "Van", "key_situations": "Gang, Drugs",
                   "weather": "Sunny"}
CLOSED_PERSONS = {"build": "Thin", "hair_style": "Short", "skin_tone": "Light", "license_state": "MA",
                  "license_type": "Class D"}


def contacts(public: bool, rows: int = 3) -> pd.DataFrame:
    """Synthetic contacts that pass every expectation of the suite for that side."""
    frame = pd.DataFrame({column: ["x"] * rows for column in (PUBLIC_CONTACT_COLUMNS if public else CONTACT_COLUMNS)})
    frame["fc_num"] = [f"FC20{i:06d}" for i in range(rows)]
    frame["contact_date"] = ["2020-05-06 07:08"] * rows
    if public:
        frame["row_in_report"] = ["1"] * rows
        frame["contact_date"] = ["2020-05-06T07:00:00"] * rows
        frame["contact_date_precision"] = ["hour"] * rows
    frame["street"] = ["Main St"] * rows
    frame["zip"] = ["02118"] * rows
    frame["stop_duration"] = ["15"] * rows
    frame["circumstance"] = ["Stopped"] * rows
    frame["basis"] = ["Intel"] * rows
    frame["vehicle_year"] = ["2011"] * rows
    for column, value in CLOSED_CONTACTS.items():
        frame[column] = [value] * rows
    frame["_row_key"] = [f"c{i}" for i in range(rows)]
    if public:
        frame["_raw_value_leak"] = [False] * rows
    return frame


def persons(public: bool, rows: int = 3) -> pd.DataFrame:
    frame = pd.DataFrame({column: ["x"] * rows for column in (PUBLIC_PERSON_COLUMNS if public else PERSON_COLUMNS)})
    frame["fc_num"] = [f"FC20{i:06d}" for i in range(rows)]
    frame["age"] = ["34"] * rows
    # identifiers: the raw numbers, published as keyed pseudonyms (the pattern checks each side's form)
    frame["recnum"] = [f"REC-{i:016X}" if public else f"1000{i}" for i in range(rows)]
    frame["person_id"] = [f"PER-{i:016X}" if public else f"2000{i}" for i in range(rows)]
    if public:
        frame["person_in_report"] = ["1"] * rows
        frame["contact_date"] = ["2020-05-06T07:00:00"] * rows
        frame["contact_date_precision"] = ["hour"] * rows
        frame["age_band"] = [None] * rows
    frame["sex"] = ["Female"] * rows
    frame["race"] = ["Asian"] * rows
    frame["ethnicity"] = ["Unknown"] * rows
    frame["was_frisked"] = ["0"] * rows
    frame["deceased"] = ["0"] * rows
    for column, value in CLOSED_PERSONS.items():
        frame[column] = [value] * rows
    frame["_row_key"] = [f"p{i}" for i in range(rows)]
    if public:
        frame["_raw_value_leak"] = [False] * rows
    return frame


def run(side: str, contacts_frame: pd.DataFrame | None = None,
        persons_frame: pd.DataFrame | None = None) -> tuple[list[SuiteResult], list[Finding]]:
    public = side == "public"
    tables = [
        TableData("contacts", "contacts.csv",
                  contacts(public) if contacts_frame is None else contacts_frame, "_row_key"),
        TableData("persons", "persons.csv",
                  persons(public) if persons_frame is None else persons_frame, "_row_key")]
    return validate(tables, PUBLIC_SUITE if public else RAW_SUITE, stage=f"validate_{side}")


def summary(findings: list[Finding]) -> set[tuple[str, str | None, str]]:
    return {(f.rule or "", f.column, f.severity) for f in findings}


# --- shipped suites ----------------------------------------------------------------------

@pytest.mark.parametrize("path", [RAW_SUITE, PUBLIC_SUITE], ids=["raw", "public"])
def test_shipped_suite_loads_with_both_tables(path: Path) -> None:
    document = load_suites(path)
    assert document["name"] == path.stem
    assert set(document["tables"]) == {"contacts", "persons"}  # type: ignore[arg-type]


@pytest.mark.parametrize("side", ["raw", "public"])
def test_clean_synthetic_tables_pass_every_expectation(side: str) -> None:
    frame = contacts(side == "public")
    before = frame.copy()
    results, findings = run(side, frame, None)
    pd.testing.assert_frame_equal(frame, before)  # stages never mutate their input
    assert findings == []
    assert results and all(r.success and r.unexpected_count == 0 for r in results)
    assert {r.table for r in results} == {"contacts", "persons"}


def test_results_follow_suite_order_and_carry_counts() -> None:
    results, _ = run("raw")
    document = json.loads(RAW_SUITE.read_text())
    expected = [e["type"] for t in ("contacts", "persons")
                for e in document["tables"][t]["expectations"]]
    assert [r.expectation for r in results] == expected
    regex = next(r for r in results if r.expectation.endswith("match_regex"))
    assert (regex.suite, regex.element_count, regex.unexpected_row_keys) == ("fioe_raw", 3, ())


def _set(frame: pd.DataFrame, column: str, row: int, value: object) -> pd.DataFrame:
    frame = frame.copy()
    frame[column] = frame[column].astype(object)
    frame.loc[row, column] = value
    return frame


REGEX, IN_SET, NOT_NULL = ("expect_column_values_to_match_regex",
                           "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_null")
EXISTS, NOT_EXISTS = "expect_column_to_exist", "expect_column_to_not_exist"
ORDERED = "expect_table_columns_to_match_ordered_list"
Mutation = Callable[[pd.DataFrame], pd.DataFrame]

# id, side, table, mutation, expected {(rule, column, severity)}, row keys of the first finding
FAILURE_CASES: list[tuple[str, str, str, Mutation, set[tuple[str, str | None, str]], tuple[str, ...]]] = [
    ("raw-fc_num-null", "raw", "contacts", lambda f: _set(f, "fc_num", 2, None),
     {(NOT_NULL, "fc_num", "blocking")}, ("c2",)),
    ("raw-date-format", "raw", "contacts", lambda f: _set(f, "contact_date", 0, "05/06/2020"),
     {(REGEX, "contact_date", "warning")}, ("c0",)),
    ("raw-zip", "raw", "contacts", lambda f: _set(f, "zip", 1, "2118"),
     {(REGEX, "zip", "warning")}, ("c1",)),
    ("raw-basis", "raw", "contacts", lambda f: _set(_set(f, "basis", 1, "Hunch"), "basis", 2, "Hunch"),
     {(IN_SET, "basis", "blocking")}, ("c1", "c2")),
    ("raw-duplicate-pair", "raw", "contacts", lambda f: _set(f, "fc_num", 1, "FC20000000"),
     {("expect_compound_columns_to_be_unique", "fc_num,basis", "warning")}, ("c0", "c1")),
    ("raw-age", "raw", "persons", lambda f: _set(f, "age", 0, "-4"),
     {(REGEX, "age", "warning")}, ("p0",)),
    ("raw-frisk", "raw", "persons", lambda f: _set(_set(f, "was_frisked", 0, "Y"), "was_frisked", 2, "Y"),
     {(IN_SET, "was_frisked", "blocking")}, ("p0", "p2")),
    ("raw-weather-shifted", "raw", "contacts",
     lambda f: f.assign(weather=["Body Worn Camera", "Intel", "Sunny"]),
     {(IN_SET, "weather", "blocking")}, ("c0", "c1")),
    ("public-street-number", "public", "contacts", lambda f: _set(f, "street", 1, "12 Main St"),
     {(REGEX, "street", "blocking")}, ("c1",)),
    ("public-leak", "public", "contacts", lambda f: _set(f, "_raw_value_leak", 2, True),
     {(IN_SET, "_raw_value_leak", "blocking")}, ("c2",)),
    ("public-leak-unknown", "public", "contacts", lambda f: _set(f, "_raw_value_leak", 0, None),
     {(NOT_NULL, "_raw_value_leak", "blocking")}, ("c0",)),
    ("public-circumstance", "public", "contacts", lambda f: _set(f, "circumstance", 0, "Chased"),
     {(IN_SET, "circumstance", "blocking")}, ("c0",)),
    ("public-raw-only-column", "public", "contacts", lambda f: f.assign(vehicle_plate="x"),
     {(ORDERED, None, "blocking"), (NOT_EXISTS, "vehicle_plate", "blocking")}, ()),
    ("public-column-order", "public", "contacts",
     lambda f: f[["row_in_report", "fc_num", *PUBLIC_CONTACT_COLUMNS[2:], "_row_key", "_raw_value_leak"]],
     {(ORDERED, None, "blocking")}, ()),
    ("public-adult-age-under-18", "public", "persons", lambda f: _set(f, "age", 1, "15"),
     {(REGEX, "age", "blocking")}, ("p1",)),
    ("public-dob-column", "public", "persons", lambda f: f.assign(dob="x"),
     {(ORDERED, None, "blocking"), (NOT_EXISTS, "dob", "blocking")}, ()),
    ("public-leak-flag-missing", "public", "persons", lambda f: f.drop(columns=["_raw_value_leak"]),
     {(EXISTS, "_raw_value_leak", "blocking"), (NOT_NULL, "_raw_value_leak", "blocking"),
      (IN_SET, "_raw_value_leak", "blocking")}, ()),
]


@pytest.mark.parametrize(("side", "table", "mutate", "expected", "row_keys"),
                         [case[1:] for case in FAILURE_CASES], ids=[case[0] for case in FAILURE_CASES])
def test_failing_expectation_becomes_finding(side: str, table: str, mutate: Mutation,
                                             expected: set[tuple[str, str | None, str]],
                                             row_keys: tuple[str, ...]) -> None:
    public = side == "public"
    frames = {"contacts": contacts(public), "persons": persons(public)}
    frames[table] = mutate(frames[table])
    _, findings = run(side, frames["contacts"], frames["persons"])
    assert summary(findings) == expected
    first = findings[0]
    assert first.stage == f"validate_{side}"
    assert first.code == f"expectation:{first.rule}"
    assert first.file == f"{table}.csv"
    assert first.row_keys == row_keys
    assert first.count == (len(row_keys) if row_keys else first.count)
    assert first.message.startswith(f"{table}: {first.rule} failed")


@pytest.mark.parametrize(("mutate", "count", "phrase"), [
    (lambda f: f.drop(columns=["weather", "city"]), 2, "missing city, weather; 0 unexpected"),
    (lambda f: f.assign(**{"Jane Q Public": "x", "extra": "y"}), 2, "missing none; 2 unexpected"),
    (lambda f: f[["row_in_report", "fc_num", *PUBLIC_CONTACT_COLUMNS[2:], "_row_key", "_raw_value_leak"]],
     2, "2 position(s) differ"),
], ids=["missing-columns", "unexpected-columns", "order"])
def test_column_set_finding_counts_columns_and_names_only_suite_columns(
        mutate: Mutation, count: int, phrase: str) -> None:
    _, findings = run("public", mutate(contacts(True)), None)
    (ordered,) = [f for f in findings if f.rule == ORDERED]
    assert ordered.count == count and phrase in ordered.message
    assert "Jane" not in ordered.message  # unexpected headers are counted, never named


def test_mostly_tolerates_a_few_stray_values_but_counts_them() -> None:
    frame = _set(contacts(False, rows=200), "circumstance", 7, "Chased")
    results, findings = run("raw", frame, None)
    circumstance = next(r for r in results if r.column == "circumstance" and r.expectation == IN_SET)
    assert (circumstance.success, circumstance.unexpected_count) == (True, 1)
    assert circumstance.unexpected_row_keys == ("c7",)
    assert findings == []


def test_row_keys_are_capped_at_twenty_in_row_order() -> None:
    frame = contacts(False, rows=50)
    frame.loc[10:39, "zip"] = "1"
    _, findings = run("raw", frame, None)
    (zip_finding,) = findings
    assert zip_finding.count == 30
    assert zip_finding.row_keys == tuple(f"c{i}" for i in range(10, 30))


def test_internal_columns_are_ignored_by_column_set_checks() -> None:
    frame = contacts(True).assign(_scratch="x")
    _, findings = run("public", frame, None)
    assert findings == []


# --- sanitization ------------------------------------------------------------------------

def test_planted_value_never_leaves_the_module(capfd: pytest.CaptureFixture[str],
                                               caplog: pytest.LogCaptureFixture) -> None:
    raw_contacts = contacts(False, rows=4)
    for column in ("fc_num", "zip", "basis", "circumstance", "contact_date", "vehicle_year"):
        raw_contacts = _set(raw_contacts, column, 1, PLANTED)
    raw_contacts = _set(raw_contacts, "fc_num", 2, PLANTED)  # duplicate (fc_num, basis) pair
    for row in (2, 3):  # a closed column mostly outside its vocabulary
        raw_contacts = _set(raw_contacts, "basis", row, PLANTED)
    raw_persons = _set(_set(persons(False), "age", 0, PLANTED), "sex", 0, PLANTED)
    raw_persons = _set(raw_persons, "sex", 1, PLANTED)
    public_contacts = _set(contacts(True), "street", 0, f"1 {PLANTED}")
    public_contacts = _set(public_contacts, "basis", 2, PLANTED).assign(**{PLANTED: "x"})
    public_persons = _set(persons(True), "age", 1, PLANTED)
    raw_results, raw_findings = run("raw", raw_contacts, raw_persons)
    public_results, public_findings = run("public", public_contacts, public_persons)
    assert {f.column for f in raw_findings} >= {"fc_num,basis", "zip", "basis", "age", "sex"}
    assert {f.column for f in public_findings} >= {"street", "basis", "age"}
    output = json.dumps([item.to_dict() for item in
                         [*raw_results, *raw_findings, *public_results, *public_findings]])
    assert PLANTED not in output
    assert PLANTED not in repr([raw_results, raw_findings, public_results, public_findings])
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")
    assert caplog.records == []
    engine = engine_module._ENGINE
    assert engine is not None and engine.context.validation_results_store.list_keys() == []


def test_nothing_printed_while_starting_great_expectations(
        monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(engine_module, "_ENGINE", None)  # force a fresh context
    _, findings = run("raw", contacts(False, rows=40).assign(zip="1"), None)
    assert len(findings) == 1
    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")


def test_fresh_process_prints_nothing_from_import_to_findings() -> None:
    script = (
        "import pandas as pd\n"
        "from pathlib import Path\n"
        "from release.stages.validate import TableData, validate\n"
        "c = pd.DataFrame({'fc_num': ['bad'], 'zip': ['1'], '_row_key': ['c0']})\n"
        "p = pd.DataFrame({'fc_num': [None], '_row_key': ['p0']})\n"
        "tables = [TableData('contacts', 'c.csv', c, '_row_key'),\n"
        "          TableData('persons', 'p.csv', p, '_row_key')]\n"
        f"_, findings = validate(tables, Path({str(RAW_SUITE)!r}), stage='v')\n"
        "assert len(findings) > 10\n")
    completed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                               text=True, timeout=300, check=False)
    assert completed.returncode == 0
    assert (completed.stdout, completed.stderr) == ("", "")


# --- bad suites --------------------------------------------------------------------------

def _minimal() -> dict[str, object]:
    check = {"type": NOT_NULL, "kwargs": {"column": "fc_num"},
             "meta": {"level": "critical", "why": "key"}}
    return {"name": "fioe_raw", "tables": {"contacts": {"expectations": [check]},
                                           "persons": {"expectations": [dict(check)]}}}


def _edit(change: Callable[[dict], object]) -> str:
    document = _minimal()
    change(document)
    return json.dumps(document)


def _first(document: dict) -> dict:
    return document["tables"]["contacts"]["expectations"][0]


E0 = "tables.contacts.expectations[0]"
# id, file name, file text, key path the message must name, phrase it must contain
BAD_SUITES: list[tuple[str, str, str, str, str]] = [
    ("invalid-json", "fioe_raw.json", '{"name": "fioe_raw",\n  "tables": }', "line 2 column", "invalid JSON"),
    ("unknown-type", "fioe_raw.json", _edit(lambda d: _first(d).update(type="expect_magic")),
     f"{E0}.type", "unknown expectation type"),
    ("unsafe-type", "fioe_raw.json",
     _edit(lambda d: _first(d).update(type="expect_column_most_common_value_to_be_in_set")),
     f"{E0}.type", "unknown expectation type"),
    ("missing-level", "fioe_raw.json", _edit(lambda d: _first(d)["meta"].pop("level")),
     f"{E0}.meta.level", "Field required"),
    ("bad-level", "fioe_raw.json", _edit(lambda d: _first(d)["meta"].update(level="fatal")),
     f"{E0}.meta.level", "critical"),
    ("missing-why", "fioe_raw.json", _edit(lambda d: _first(d)["meta"].update(why=" ")),
     f"{E0}.meta.why", "pattern"),
    ("unknown-table", "fioe_raw.json",
     _edit(lambda d: d["tables"].update(contactz=d["tables"]["contacts"])),
     "tables.contactz", "unknown table"),
    ("extra-key", "fioe_raw.json", _edit(lambda d: _first(d).update(level="critical")),
     f"{E0}.level", "Extra inputs"),
    ("reserved-kwarg", "fioe_raw.json",
     _edit(lambda d: _first(d)["kwargs"].update(result_format="COMPLETE")),
     f"{E0}.kwargs.result_format", "not allowed"),
    ("bad-regex", "fioe_raw.json",
     _edit(lambda d: _first(d).update(type=REGEX, kwargs={"column": "zip", "regex": "(["})),
     f"{E0}.kwargs.regex", "invalid regular expression"),
    ("missing-column-kwarg", "fioe_raw.json", _edit(lambda d: _first(d).update(kwargs={})),
     f"{E0}.kwargs.column", "field required"),
    ("bad-value-set", "fioe_raw.json",
     _edit(lambda d: _first(d).update(type=IN_SET, kwargs={"column": "basis", "value_set": 3})),
     f"{E0}.kwargs.value_set", "valid"),
    ("internal-column-in-column-set", "fioe_raw.json",
     _edit(lambda d: _first(d).update(type=ORDERED, kwargs={"column_list": ["fc_num", "_row_key"]})),
     f"{E0}.kwargs", "internal"),
    ("empty-expectations", "fioe_raw.json",
     _edit(lambda d: d["tables"]["contacts"].update(expectations=[])),
     "tables.contacts.expectations", "at least 1"),
    ("name-not-file-name", "fioe_public.json", _edit(lambda d: None), "name", "file name"),
    ("unknown-dataset", "parking_raw.json", _edit(lambda d: d.update(name="parking_raw")),
     "name", "unknown dataset"),
    ("duplicate-key", "fioe_raw.json", '{"name": "fioe_raw", "name": "fioe_raw", "tables": {}}',
     "name", "duplicate key"),
]


@pytest.mark.parametrize(("file_name", "text", "key_path", "phrase"),
                         [case[1:] for case in BAD_SUITES], ids=[case[0] for case in BAD_SUITES])
def test_bad_suite_file_is_a_config_error_naming_file_and_key_path(
        tmp_path: Path, file_name: str, text: str, key_path: str, phrase: str) -> None:
    path = tmp_path / file_name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_suites(path)
    message = str(raised.value)
    assert str(path) in message and key_path in message and phrase in message
    assert raised.value.file == str(path)
    assert raised.value.exit_code == 3


def test_missing_suite_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "fioe_raw.json"
    with pytest.raises(ConfigError, match="cannot read"):
        load_suites(path)


@pytest.mark.parametrize(("names", "message"), [
    (("contacts",), "tables.persons: unknown table"),
    (("contacts", "persons", "vehicles"), "tables.vehicles: missing"),
], ids=["suite-names-a-table-not-given", "table-without-suite"])
def test_suite_and_tables_must_match(names: tuple[str, ...], message: str) -> None:
    frames = {"contacts": contacts(False), "persons": persons(False), "vehicles": contacts(False)}
    tables = [TableData(name, f"{name}.csv", frames[name], "_row_key") for name in names]
    with pytest.raises(ConfigError, match=message.replace("[", r"\[")):
        validate(tables, RAW_SUITE, stage="validate_raw")


# --- no foreign exception escapes --------------------------------------------------------

def _ge_error(message: str) -> Exception:
    return engine_module._gx().exceptions.GreatExpectationsError(message)


@pytest.mark.parametrize("make_error", [
    _ge_error, ValueError, KeyError, lambda message: TypeError(message)],
    ids=["GreatExpectationsError", "ValueError", "KeyError", "TypeError"])
def test_errors_inside_great_expectations_become_release_errors(
        monkeypatch: pytest.MonkeyPatch, make_error: Callable[[str], Exception]) -> None:
    def explode(*args: object, **kwargs: object) -> None:
        raise make_error(f"value {PLANTED}")

    monkeypatch.setattr(engine_module._Engine, "run", explode)
    with pytest.raises(ReleaseError) as raised:
        run("raw")
    assert type(raised.value) is ReleaseError
    assert PLANTED not in str(raised.value) and raised.value.file == "contacts.csv"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_failure_to_start_great_expectations_becomes_release_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(self: object) -> None:
        raise _ge_error(PLANTED)

    monkeypatch.setattr(engine_module, "_ENGINE", None)
    monkeypatch.setattr(engine_module._Engine, "__init__", explode)
    with pytest.raises(ReleaseError, match="Great Expectations failed") as raised:
        run("public")
    assert PLANTED not in str(raised.value) and raised.value.__suppress_context__


def test_frame_without_its_row_key_column_is_a_release_error() -> None:
    with pytest.raises(ReleaseError, match="row key column missing") as raised:
        run("raw", contacts(False).drop(columns=["_row_key"]), None)
    assert (raised.value.file, raised.value.column) == ("contacts.csv", "_row_key")


def test_check_that_great_expectations_cannot_evaluate_is_a_finding() -> None:
    duplicated = pd.concat([contacts(False), contacts(False)[["zip"]]], axis=1)
    _, findings = run("raw", duplicated, None)
    (finding,) = findings
    assert (finding.rule, finding.column, finding.severity, finding.count) == (
        REGEX, "zip", "warning", 0)
    assert "could not be evaluated" in finding.message


# --- a year's size (speed is measured in benchmarks, not here) ---------------------------

def test_validating_a_year_sized_export_finds_only_planted_defects() -> None:
    rng = np.random.default_rng(7)
    big_contacts = contacts(True, rows=5_700)
    big_contacts["zip"] = rng.choice(["02118", "2118", None], 5_700)
    big_persons = persons(True, rows=10_000)
    big_persons["age"] = rng.choice(["12", "34", "under 14", None], 10_000)
    run("public", big_contacts.head(3), big_persons.head(3))  # warm the suite cache
    _, findings = run("public", big_contacts, big_persons)
    assert {f.column for f in findings} == {"age"}


@pytest.mark.parametrize(("street", "passes"), [("I-93", True), ("MA-28", True), ("E 4TH ST", True),
                                                ("12 MAIN ST", False), ("MAIN ST 12", False)],
                         ids=["interstate", "state-route", "ordinal", "house-number", "trailing-number"])
def test_public_street_check_allows_routes_not_house_numbers(street: str, passes: bool) -> None:
    frame = contacts(True)
    frame["street"] = [street] * len(frame)
    _, findings = run("public", frame, None)
    assert (("expect_column_values_to_match_regex", "street", "blocking") not in summary(findings)) == passes


def test_the_restated_ge_methods_give_ge_own_values_on_every_shipped_check() -> None:
    """``validate_engine._configuration_once_per_call`` restates three GE methods (one configuration per
    call instead of one per key, for speed): on every check of every shipped suite they give what GE's
    own give, for each key GE asks them about."""
    from great_expectations import __version__ as ge_version

    from release.config.suites import parse_suite

    engine_module._gx()
    assert ge_version == engine_module.PATCHED_GE, "the pin moved: compare GE's new methods and restate them again"
    originals = engine_module.GE_ORIGINALS
    built: list[object] = []

    def build(check: object, index: int, fail: object) -> object:
        built.append(engine_module.build_expectation(check, index, fail))  # type: ignore[arg-type]
        return built[-1]

    suites = sorted((ROOT / "expectations").glob("*.json"))
    for path in suites:
        parse_suite(path, None, build)
    assert len(suites) >= 10 and len(built) > 200
    for expectation in built:
        assert expectation._get_domain_kwargs() == originals["_get_domain_kwargs"](expectation)
        assert expectation._get_success_kwargs() == originals["_get_success_kwargs"](expectation)
        for key in (*expectation.domain_keys, *expectation.success_keys, *expectation.runtime_keys, "no_such_key"):
            assert expectation._get_success_kwarg(key, "d") == originals["_get_success_kwarg"](expectation, key, "d")
