"""Loading a raw export: robust to encodings and spellings, strict about the contract."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import contact, person, write_csv, write_export

from release.config import DatasetPolicy
from release.errors import InputError
from release.stages.load import load_export


def test_loads_tiny_export_with_row_keys(tiny_export: Path, policy: DatasetPolicy) -> None:
    loaded = load_export(tiny_export, policy, 2020)
    contacts, persons = loaded.tables["contacts"], loaded.tables["persons"]
    assert list(contacts["_row_key"]) == ["FC20000001", "FC20000001#2", "FC20000002"]
    assert list(persons["_row_key"]) == ["FC20000001/p1", "FC20000002/p1"]
    assert contacts["basis"].iloc[0] == "Reasonable Suspicion"  # trailing space stripped
    assert {i.name for i in loaded.inputs} == {"fieldcontact.csv", "fieldcontact_name.csv"}
    assert all(len(i.sha256) == 64 for i in loaded.inputs)


def test_key_not_of_its_format_never_becomes_a_row_key(tmp_path: Path, policy: DatasetPolicy) -> None:
    """A report number is the row key everywhere (findings, log, packet): one holding a name
    is replaced by a placeholder, told apart by its ordinal only."""
    name = "Ottoline Vandersnoot"
    contacts = [contact("FC20000001"), contact(name), contact(name, basis="Intel")]
    folder = write_export(tmp_path, contacts, [person(name), person("FC20000001")])
    loaded = load_export(folder, policy, 2020)
    contact_keys, person_keys = list(loaded.tables["contacts"]["_row_key"]), list(loaded.tables["persons"]["_row_key"])
    assert contact_keys == ["FC20000001", "(key not of its declared format)", "(key not of its declared format)#2"]
    assert person_keys == ["(key not of its declared format)/p1", "FC20000001/p1"]
    assert name not in repr(loaded.findings)


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
        ("fieldcontact.csv", "truncated", "file fieldcontact.csv, rule csv: the file ends inside a quoted field"),
        ("fieldcontact.csv", "missing_column", "file fieldcontact.csv, column circumstance, rule required: required column is missing"),
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
