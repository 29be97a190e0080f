"""Loading a raw export: robust to encodings and spellings, strict about the contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from conftest import CONTACT_COLUMNS, contact, person, write_csv, write_export

from release.config.policy import DatasetPolicy, InputLimits
from release.errors import InputError
from release.stages.load import load_export, row_keys


def test_loads_tiny_export_with_row_keys(tiny_export: Path, policy: DatasetPolicy) -> None:
    loaded = load_export(tiny_export, policy, 2020)
    contacts, persons = loaded.tables["contacts"], loaded.tables["persons"]
    assert list(contacts["_row_key"]) == ["FC20000001", "FC20000001#2", "FC20000002"]
    assert list(persons["_row_key"]) == ["FC20000001/p1", "FC20000002/p1"]
    assert contacts["basis"].iloc[0] == "Reasonable Suspicion"  # trailing space stripped
    assert {i.name for i in loaded.inputs} == {"fieldcontact.csv", "fieldcontact_name.csv"}
    assert all(len(i.sha256) == 64 for i in loaded.inputs)


@pytest.mark.parametrize("table", ["contacts", "persons"])
def test_key_not_of_its_format_is_an_input_error_naming_the_line(tmp_path: Path, policy: DatasetPolicy,
                                                                 table: str) -> None:
    """A report number is the row key everywhere (findings, log, packet): one holding a name
    and a date of birth stops the load, naming file, line and column, never the value."""
    name = "Ottoline Vandersnoot 01/02/2003"
    contacts = [contact("FC20000001"), contact("FC20000002")]
    persons = [person("FC20000001"), person("FC20000002")]
    (contacts if table == "contacts" else persons)[1] = (contact if table == "contacts" else person)(name)
    folder = write_export(tmp_path, contacts, persons)
    with pytest.raises(InputError) as caught:
        load_export(folder, policy, 2020)
    raw_file = policy.files[table].raw_file
    assert str(caught.value).startswith(f"file {raw_file}, line 3, column fc_num, rule key-format: ")
    assert "Ottoline" not in str(caught.value) and "2003" not in str(caught.value)


def test_a_published_key_not_of_its_format_never_becomes_a_row_key(policy: DatasetPolicy) -> None:
    """Read back from a public file (the audit), a key not of its format (a juvenile report's
    pseudonym the audit could not map back) is told apart by its ordinal only."""
    frame = pd.DataFrame({"fc_num": ["FC20000001", "RPT-0123456789ABCDEF", "RPT-0123456789ABCDEF"]}, dtype=object)
    assert list(row_keys(frame, policy.files["contacts"])) == [
        "FC20000001", "(key not of its declared format)", "(key not of its declared format)#2"]


@pytest.mark.parametrize(
    ("encoding", "newline"),
    [("utf-8", "\n"), ("utf-8-sig", "\r\n"), ("cp1252", "\r\n")],
    ids=["utf8-lf", "bom-crlf", "cp1252-crlf"])
def test_encodings_and_line_endings(tmp_path: Path, policy: DatasetPolicy, encoding: str, newline: str) -> None:
    rows = [contact("FC20000001", contact_reason="Café visit,\nsecond line — ok")]
    folder = write_export(tmp_path, rows, [person("FC20000001")], encoding=encoding, newline=newline)
    loaded = load_export(folder, policy, 2020)
    assert loaded.tables["contacts"]["contact_reason"].iloc[0].startswith("Café visit,")


@pytest.mark.parametrize("token", ["", "NULL", "None", "N/A", "  "], ids=["empty", "NULL", "None", "NA", "spaces"])
def test_missing_tokens_become_none(tmp_path: Path, policy: DatasetPolicy, token: str) -> None:
    folder = write_export(tmp_path, [contact("FC20000001", weather=token)], [person("FC20000001")])
    assert load_export(folder, policy, 2020).tables["contacts"]["weather"].iloc[0] is None


@pytest.mark.parametrize(
    ("alias", "column"),
    [("narrative", "contact_reason"), ("complexion", "skin_tone"), ("frisk/search", "was_frisked")],
    ids=["narrative", "complexion", "frisk-search"])
def test_header_aliases(tmp_path: Path, policy: DatasetPolicy, alias: str, column: str) -> None:
    contacts = [contact("FC20000001")]
    persons = [person("FC20000001", skin_tone="Light")]
    if column == "contact_reason":
        contacts = [{(alias if k == column else k): v for k, v in contacts[0].items()}]
    else:
        persons = [{(alias if k == column else k): v for k, v in persons[0].items()}]
    folder = write_export(tmp_path, contacts, persons)
    loaded = load_export(folder, policy, 2020)
    table = "contacts" if column == "contact_reason" else "persons"
    assert column in loaded.tables[table].columns
    assert loaded.tables[table][column].notna().all()


def _break(folder: Path, name: str, change: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    if change == "empty":
        path.write_text("", encoding="utf-8")
    elif change == "truncated":
        cut = text.index("Officers observed") + 10
        path.write_text(text[:cut], encoding="utf-8")
    elif change == "missing_column":
        header, _, rest = text.partition("\n")
        columns = header.split(",")
        index = columns.index("circumstance")
        lines = [",".join(c for i, c in enumerate(line.split(",")) if i != index) for line in [header]]
        path.write_text(lines[0] + "\n", encoding="utf-8")
    elif change == "missing_file":
        path.unlink()


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("fieldcontact.csv", "empty", "file fieldcontact.csv, rule non-empty: the file is empty"),
        ("fieldcontact.csv", "truncated", "file fieldcontact.csv, line 2, rule csv: the file ends inside a quoted field"),
        ("fieldcontact.csv", "missing_column",
         "file fieldcontact.csv, line 1, column circumstance, rule required: required column is missing"),
        ("fieldcontact_name.csv", "missing_file", "file fieldcontact_name.csv, rule files: required file not found"),
    ],
    ids=["empty", "truncated-quote", "missing-column", "missing-file"])
def test_broken_exports_raise_input_error(tiny_export: Path, policy: DatasetPolicy, name: str,
                                          change: str, expected: str) -> None:
    _break(tiny_export, name, change)
    with pytest.raises(InputError) as caught:
        load_export(tiny_export, policy, 2020)
    assert str(caught.value).startswith(expected)
    assert caught.value.exit_code == 4
    assert "Officers observed" not in str(caught.value)


def test_unknown_column_dropped_and_reported(tmp_path: Path, policy: DatasetPolicy) -> None:
    folder = write_export(tmp_path, [contact("FC20000001", ssn_extra="123-45-6789")], [person("FC20000001")],
                          columns=None)
    loaded = load_export(folder, policy, 2020)
    assert "ssn_extra" not in loaded.tables["contacts"].columns
    found = [f for f in loaded.findings if f.code == "column_not_in_policy"]
    assert [(f.file, f.column) for f in found] == [("fieldcontact.csv", "ssn_extra")]
    assert "123-45-6789" not in repr(loaded.findings)


def test_rows_outside_year_and_orphans_excluded(tmp_path: Path, policy: DatasetPolicy) -> None:
    contacts = [contact("FC20000001"), contact("FC19000002", contact_date="2019-12-31 23:00:00"),
                contact("FC20000003", contact_date="31/12/2020")]
    persons = [person("FC20000001"), person("FC20000099")]
    loaded = load_export(write_export(tmp_path, contacts, persons), policy, 2020)
    assert list(loaded.tables["contacts"]["fc_num"]) == ["FC20000001"]
    assert list(loaded.tables["persons"]["fc_num"]) == ["FC20000001"]
    codes = {f.code: f for f in loaded.findings}
    assert codes["outside_year"].row_keys == ("FC19000002",)
    assert codes["date_unreadable"].row_keys == ("FC20000003",)
    assert codes["orphan_rows"].row_keys == ("FC20000099/p1",)


@pytest.mark.parametrize(("setting", "severity"), [("exclude", "warning"), ("block", "blocking")],
                         ids=["exclude", "block"])
def test_unreadable_dates_are_excluded_or_block_as_the_policy_says(tmp_path: Path, policy: DatasetPolicy,
                                                                   setting: str, severity: str) -> None:
    contacts_policy = policy.files["contacts"].model_copy(update={"unreadable_dates": setting})
    strict = policy.model_copy(update={"files": {**policy.files, "contacts": contacts_policy}})
    contacts = [contact("FC20000001"), contact("FC20000003", contact_date="unknown")]
    loaded = load_export(write_export(tmp_path, contacts, [person("FC20000001")]), strict, 2020)
    found = [f for f in loaded.findings if f.code == "date_unreadable"]
    assert [(f.severity, f.file, f.column, f.rule, f.row_keys) for f in found] == [
        (severity, "fieldcontact.csv", "contact_date", "unreadable-dates", ("FC20000003",))]
    assert list(loaded.tables["contacts"]["fc_num"]) == ["FC20000001"]


def test_raw_inputs_untouched(tiny_export: Path, policy: DatasetPolicy) -> None:
    before = {p.name: p.read_bytes() for p in tiny_export.iterdir()}
    load_export(tiny_export, policy, 2020)
    assert before == {p.name: p.read_bytes() for p in tiny_export.iterdir()}


# --- one encoding, strict CSV, limits: each refusal names file and line, never a value ----

def _contacts_text(tmp_path: Path, **values: str) -> tuple[Path, Path]:
    folder = write_export(tmp_path, [contact("FC20000001"), contact("FC20000002", **values)],
                          [person("FC20000001")])
    return folder, folder / "fieldcontact.csv"


def _replace_bytes(path: Path, old: bytes, new: bytes) -> None:
    path.write_bytes(path.read_bytes().replace(old, new, 1))


LIMITS = InputLimits(max_columns=30, max_line_chars=3000, max_cell_chars=1000, max_word_chars=60)

# id, edit of the contacts file, the start of the message
REFUSALS: list[tuple[str, Callable[[Path], None], str]] = [
    ("cp1252-byte-in-utf8", lambda p: _replace_bytes(p, b"FC20000002,", "FC20000002,\u00e9".encode() + b"\xe9"),
     "file fieldcontact.csv, line 3, rule encoding: the file is UTF-8 but this line is not"),
    ("header-only", lambda p: p.write_text(p.read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8"),
     "file fieldcontact.csv, rule non-empty: the file has a header but no rows"),
    ("short-row", lambda p: p.write_text(p.read_text(encoding="utf-8") + "FC20000003,2020-01-01\n", encoding="utf-8"),
     "file fieldcontact.csv, line 4, rule csv: malformed CSV: 2 fields where the header has 24"),
    ("text-after-quote", lambda p: p.write_text(p.read_text(encoding="utf-8").replace(
        '"Officers observed', '"Officers"x observed', 1), encoding="utf-8"),
     "file fieldcontact.csv, line 2, rule csv: malformed CSV: a closing quote"),
    ("too-many-columns", lambda p: p.write_text("\n".join(line + ",x" * 10 for line in p.read_text(
        encoding="utf-8").splitlines()) + "\n", encoding="utf-8"),
     "file fieldcontact.csv, line 1, rule limits: the header has 34 columns; at most 30"),
    ("long-cell", lambda p: _replace_bytes(p, b"Officers observed", b"Officers observed" + b" word" * 300),
     "file fieldcontact.csv, line 2, column contact_reason, rule limits: a cell is longer than 1,000"),
    ("long-word", lambda p: _replace_bytes(p, b"Officers observed", b"Officers " + b'""' * 80),
     "file fieldcontact.csv, line 2, column contact_reason, rule limits: a cell holds a word"),
    ("long-line", lambda p: _replace_bytes(p, b"Officers observed", b"Officers observed" + b" w" * 1600),
     "file fieldcontact.csv, line 2, rule limits: the line is longer than 3,000"),
]


@pytest.mark.parametrize(("edit", "message"), [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS])
def test_raw_file_refusals_name_file_and_line(tmp_path: Path, policy: DatasetPolicy,
                                              edit: Callable[[Path], None], message: str) -> None:
    folder, path = _contacts_text(tmp_path)
    edit(path)
    with pytest.raises(InputError) as caught:
        load_export(folder, policy.model_copy(update={"limits": LIMITS}), 2020)
    assert str(caught.value).startswith(message)
    assert "Officers" not in str(caught.value)


def test_file_larger_than_the_limit_is_refused_before_it_is_read(tmp_path: Path, policy: DatasetPolicy) -> None:
    folder, path = _contacts_text(tmp_path)
    limits = InputLimits(max_file_bytes=path.stat().st_size - 1)
    with pytest.raises(InputError, match="rule limits: the file is larger than"):
        load_export(folder, policy.model_copy(update={"limits": limits}), 2020)


def test_a_cp1252_file_is_read_as_cp1252(tmp_path: Path, policy: DatasetPolicy) -> None:
    folder = write_export(tmp_path, [contact("FC20000001", contact_reason="Caf\u00e9 \u2014 ok")],
                          [person("FC20000001")], encoding="cp1252")
    loaded = load_export(folder, policy, 2020)
    assert loaded.tables["contacts"]["contact_reason"].iloc[0] == "Caf\u00e9 \u2014 ok"
    assert {i.name: i.encoding for i in loaded.inputs}["fieldcontact.csv"] == "cp1252"


@pytest.mark.parametrize("character", ["\x00", "\u202e", "\u200b", "\x1b", "\u2066"],
                         ids=["nul", "rlo", "zwsp", "escape", "isolate"])
def test_invisible_characters_are_removed_and_reported(tmp_path: Path, policy: DatasetPolicy,
                                                      character: str) -> None:
    folder = write_export(tmp_path, [contact("FC20000001", contact_reason=f"Zeb{character}ulon fled",
                                             weather=f"{character}Sunny")], [person("FC20000001")])
    loaded = load_export(folder, policy, 2020)
    contacts = loaded.tables["contacts"]
    assert (contacts["contact_reason"].iloc[0], contacts["weather"].iloc[0]) == ("Zebulon fled", "Sunny")
    found = {(f.column, f.count, f.row_keys) for f in loaded.findings if f.code == "invisible_characters_removed"}
    assert found == {("contact_reason", 1, ("FC20000001",)), ("weather", 1, ("FC20000001",))}


def test_unknown_header_is_named_only_when_it_is_a_plain_identifier(tmp_path: Path, policy: DatasetPolicy) -> None:
    folder = write_export(tmp_path, [contact("FC20000001", **{"Jane Roe 01/02/2003": "x", "extra_notes": "y",
                                                             "dob_20030102": "z"})], [person("FC20000001")])
    loaded = load_export(folder, policy, 2020)
    found = [f.column for f in loaded.findings if f.code == "column_not_in_policy"]
    assert found == ["#25", "extra_notes", "#27"]
    assert "Jane" not in repr(loaded.findings) and "2003" not in repr(loaded.findings)


def test_absent_optional_column_is_reported(tmp_path: Path, policy: DatasetPolicy) -> None:
    columns = [c for c in CONTACT_COLUMNS if c not in ("weather", "supervisor")]
    folder = write_export(tmp_path, [contact("FC20000001")], [person("FC20000001")], columns=None)
    write_csv(folder / "fieldcontact.csv", [contact("FC20000001")], columns)
    loaded = load_export(folder, policy, 2020)
    found = {(f.file, f.column, f.severity) for f in loaded.findings if f.code == "optional_column_absent"}
    assert ("fieldcontact.csv", "weather", "warning") in found and ("fieldcontact.csv", "supervisor", "warning") in found
    assert loaded.tables["contacts"]["weather"].isna().all()


@pytest.mark.parametrize("date", ["2020-02-30 10:00", "2020-13-01", "2020-04-31", "2020-03-04 25:10", "2020-03-04 10:61"],
                         ids=["feb-30", "month-13", "april-31", "hour-25", "minute-61"])
def test_impossible_date_is_unreadable(tmp_path: Path, policy: DatasetPolicy, date: str) -> None:
    folder = write_export(tmp_path, [contact("FC20000001"), contact("FC20000002", contact_date=date)],
                          [person("FC20000001")])
    loaded = load_export(folder, policy, 2020)
    assert list(loaded.tables["contacts"]["fc_num"]) == ["FC20000001"]
    assert [f.row_keys for f in loaded.findings if f.code == "date_unreadable"] == [("FC20000002",)]
