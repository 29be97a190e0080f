"""The trusted coarsening and juvenile rule as allow-lists over the published record-level files
(issue #12, attack round 24: C-age-*, C-ageband-col, C-minor-*).

Tiny public files in the portal form the build writes (fictitious values), judged with the
shipped rules: the honest form passes; every other spelling of an age in a coarsened column, a
minor's age outside the juvenile bands, and a minor's report with its street or its day given
back are flagged, by file, column, count and rule, never the value. The CLI scene (approve,
publish, the audit, verify) is in ``test_trusted_release``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import ROOT

from release.audit.trusted_records import coarsening_problems, column_rule_problems, juvenile_problems
from release.audit.trusted_release import Trusted
from release.config.policy import load_policy
from release.config.privacy import load_privacy_policy
from release.config.tables import load_tables_policy

RULES = ROOT / "redaction_rules"
WITHHELD = "[WITHHELD: JUVENILE]"
PERSONS = ["fc_num", "contact_date", "contact_date_precision", "age", "age_band", "build"]
CONTACTS = ["fc_num", "contact_date", "contact_date_precision", "street", "contact_reason"]
# an adult's report and a minor's, as the build publishes them (coarsened: every age a band)
HONEST_PERSONS = [["RPT-A", "2021-03-05T14:00:00", "hour", "", "25-34", ""],
                  ["RPT-M", "2021-03-01T00:00:00", "month", "", "16-17", ""],
                  ["RPT-M", "2021-03-01T00:00:00", "month", "", "35-44", ""]]
HONEST_CONTACTS = [["RPT-A", "2021-03-05T14:27:00", "minute", "Blue Hill Ave", "Investigate"],
                   ["RPT-M", "2021-03-01T00:00:00", "month", WITHHELD, WITHHELD]]


def _trusted(coarsened: bool = True) -> Trusted:
    tables = load_tables_policy(RULES / "fioe_tables.yaml") if coarsened else None  # None: no protected table
    return Trusted("fioe", 2021, RULES, load_policy(RULES / "fioe.yaml"), tables, load_privacy_policy(RULES))


def _public(tmp_path: Path, persons: list[list[str]], contacts: list[list[str]] = HONEST_CONTACTS) -> Path:
    for name, header, rows in (("persons", PERSONS, persons), ("contacts", CONTACTS, contacts)):
        with (tmp_path / f"fioe_2021_{name}.csv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
    return tmp_path


def _problems(public: Path, coarsened: bool = True) -> list[str]:
    trusted = _trusted(coarsened)
    return coarsening_problems(trusted, public) + juvenile_problems(trusted, public)


def _with(rows: list[list[str]], row: int, column: str, value: str, header: list[str] = PERSONS) -> list[list[str]]:
    edited = [list(r) for r in rows]
    edited[row][header.index(column)] = value
    return edited


def test_the_honest_form_passes(tmp_path: Path) -> None:
    assert _problems(_public(tmp_path, HONEST_PERSONS)) == []


@pytest.mark.parametrize(("column", "value"), [
    ("age", "30-30"), ("age", "thirty"), ("age", "³⁰"), ("age", "２８"), ("age", "1²"), ("age", "28.0"),
    ("age", "28"), ("age", "25-34 "), ("age_band", "30"), ("age_band", "25-35"), ("build", "Medium"),
], ids=["dash", "words", "superscript", "fullwidth", "crash", "decimal", "exact", "space", "ageband-col",
        "band-of-no-rule", "blanked-column"])
def test_a_coarsened_column_holds_only_what_the_coarsening_writes(tmp_path: Path, column: str, value: str) -> None:
    problems = _problems(_public(tmp_path, _with(HONEST_PERSONS, 0, column, value)))
    assert problems == [f"public file fioe_2021_persons.csv, column {column}: 1 value(s) are not coarsened "
                        f"({'blank' if column == 'build' else 'age_band'}) as the trusted "
                        "fioe_tables.yaml requires while its protected table is built (rule linkage.coarsen)"]
    assert all(value not in p for p in problems)


@pytest.mark.parametrize(("column", "value"), [("age", "16"), ("age_band", "16"), ("age", "18-24")],
                         ids=["minor-age", "minor-band", "adult-band-beside"])
def test_a_minors_age_is_only_a_juvenile_band(tmp_path: Path, column: str, value: str) -> None:
    problems = _problems(_public(tmp_path, _with(HONEST_PERSONS, 1, column, value)))
    assert f"public file fioe_2021_persons.csv, column {column}: 1 row(s) of a minor hold an age that is not " \
           "a juvenile band (rule juvenile.bands)" in problems, problems


@pytest.mark.parametrize(("row", "column", "value", "rule"), [
    (1, "street", "Blue Hill Ave", "juvenile.withhold"),
    (1, "contact_reason", "Investigate", "juvenile.withhold"),
    (1, "contact_date", "2021-03-05T14:27:00", "juvenile.date_precision"),
    (1, "contact_date", "2021-03-05", "juvenile.date_precision"),
    (1, "contact_date_precision", "minute", "juvenile.date_precision"),
], ids=["street", "reason", "date-time", "day", "precision"])
def test_a_minors_report_keeps_the_juvenile_rule_in_every_file(tmp_path: Path, row: int, column: str, value: str,
                                                                rule: str) -> None:
    """C-minor-juv: the minor's report rows in the contacts file, found by the report link."""
    public = _public(tmp_path, HONEST_PERSONS, _with(HONEST_CONTACTS, row, column, value, CONTACTS))
    problems = _problems(public)
    assert len(problems) == 1 and f"rule {rule}" in problems[0] and "fioe_2021_contacts.csv" in problems[0], problems
    assert value not in problems[0]


def test_the_rule_holds_for_the_minors_report_rows_of_other_people_and_unknown_ages(tmp_path: Path) -> None:
    """An adult's row in a minor's report is dated as the minor's; a person of unknown age (both age
    columns blank, as the build writes it) counts as a minor, as the build counts one."""
    adult_row = _with(HONEST_PERSONS, 2, "contact_date", "2021-03-05T14:00:00")
    problems = _problems(_public(tmp_path, adult_row))
    assert len(problems) == 1 and "fioe_2021_persons.csv, column contact_date: 1 row(s)" in problems[0], problems
    unknown = _with(HONEST_PERSONS, 0, "age_band", "")
    problems = _problems(_public(tmp_path, unknown))
    assert sorted(p.split(": ")[0] + " " + p.split("(rule ")[-1] for p in problems) == [
        "public file fioe_2021_contacts.csv, column contact_date juvenile.date_precision)",
        "public file fioe_2021_contacts.csv, column contact_reason juvenile.withhold)",
        "public file fioe_2021_contacts.csv, column street juvenile.withhold)",
        "public file fioe_2021_persons.csv, column contact_date juvenile.date_precision)"], problems


@pytest.mark.parametrize(("value", "flagged"), [
    ("34", False), ("18", False), ("110", False), ("16", True), ("034", True), ("thirty", True), ("２８", True),
    ("111", True), ("30-39", True)])
def test_without_coarsening_the_age_column_holds_whole_adult_years_or_a_band(tmp_path: Path, value: str,
                                                                            flagged: bool) -> None:
    """No person-level table: the age rule writes an adult's whole years (``str(int(n))``), a minor's
    band moves to age_band; a minor's exact age, or any other spelling, is not what it writes."""
    persons = _with(_with(HONEST_PERSONS, 0, "age_band", ""), 0, "age", value)
    persons = _with(_with(persons, 2, "age_band", ""), 2, "age", "40")
    problems = [p for p in _problems(_public(tmp_path, persons), coarsened=False) if "column age:" in p]
    assert bool(problems) is flagged, problems
    assert all("rule juvenile.bands" in p and value not in p for p in problems), problems


@pytest.mark.parametrize("dropped", ["age", "age_band", "fc_num"])
def test_a_persons_file_without_its_age_or_report_link_fails_closed(tmp_path: Path, dropped: str) -> None:
    """Without the age columns (or the link to the report) no check can tell which contacts rows are a
    minor's: the file is refused, not passed."""
    public = _public(tmp_path, HONEST_PERSONS)
    path = public / "fioe_2021_persons.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [{k: v for k, v in row.items() if k != dropped} for row in csv.DictReader(handle)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert f"public file fioe_2021_persons.csv, column {dropped}: missing, so the trusted juvenile rule cannot be " \
           "checked (rule juvenile)" in _problems(public)


KEYED = ["recnum", "person_id", "fc_num", "person_in_report"]
REPORT_A, REPORT_B, REPORT_C = (f"RPT-{letter * 16}" for letter in "ABC")  # report pseudonyms' form
HONEST_KEYED = [["", "PER-00000000000000AA", REPORT_A, "1"],  # in the build's order: no date published, so by pseudonym
                ["REC-FEDCBA9876543210", "", REPORT_A, "2"],
                ["REC-0123456789ABCDEF", "PER-00000000000000AA", REPORT_B, "1"],
                ["", "", REPORT_C, "1"]]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path.parent


def _keyed(tmp_path: Path, rows: list[list[str]]) -> list[str]:
    return column_rule_problems(_trusted(), _write(tmp_path / "fioe_2021_persons.csv", KEYED, rows))


def test_sequence_and_pseudonym_columns_hold_only_what_the_build_writes(tmp_path: Path) -> None:
    """C-pir-age, C-recnum-age (round 25): another value in ``person_in_report`` or ``recnum`` is
    refused without the raw export, naming the file, column, count and rule, never the value."""
    assert _keyed(tmp_path, HONEST_KEYED) == []
    # round 38, F1: the reports in another order, or a report's rows apart, carry bits: refused (rule row-order)
    swapped = [HONEST_KEYED[2], *HONEST_KEYED[:2], HONEST_KEYED[3]]
    assert _keyed(tmp_path, swapped) == ["public file fioe_2021_persons.csv: 1 report(s) are out of the order the build "
                                         "writes them in (published date of the report's first row, then its "
                                         "pseudonym in fc_num) (rule row-order)"]
    apart = [HONEST_KEYED[0], HONEST_KEYED[2], HONEST_KEYED[1], HONEST_KEYED[3]]
    assert any("rows apart from each other" in p and "(rule row-order)" in p for p in _keyed(tmp_path, apart))
    for row, column, value, rule in ((0, "person_in_report", "34", "sequence"), (2, "person_in_report", "3", "sequence"),
                                     (1, "recnum", "34", "pseudonym"), (0, "person_id", "REC-0123456789ABCDEF", "pseudonym"),
                                     (0, "recnum", "REC-0123456789abcdef", "pseudonym")):
        problems = _keyed(tmp_path, _with(HONEST_KEYED, row, column, value, KEYED))
        assert len(problems) == 1 and problems[0].startswith(f"public file fioe_2021_persons.csv, column {column}: 1 ")
        assert problems[0].endswith(f"(rule {rule})") and f" {value} " not in problems[0], problems


# ---- round 26: every closed or typed column holds only what its trusted rule can publish ----

VOCAB = ["fc_num", "contact_date", "street", "zip", "vehicle_year", "key_situations", "weather"]
HONEST_VOCAB = [[REPORT_A, "2021-03-05T14:00:00", "Blue Hill Ave", "02121", "2010", "Gang, Juvenile", "Clear (Night)"],
                # a minor's report: its date coarsened to the month, its street withheld
                [REPORT_B, "2021-03-01T00:00:00", WITHHELD, "", "", "", "Other"],
                [REPORT_C, "", "", "", "", "", ""]]


def _vocabulary(tmp_path: Path, rows: list[list[str]]) -> list[str]:
    from release.audit.trusted_vocabulary import vocabulary_problems

    return vocabulary_problems(_trusted(), _write(tmp_path / "fioe_2021_contacts.csv", VOCAB, rows))


@pytest.mark.parametrize(("column", "value"), [
    ("weather", "Clear 4242"), ("weather", "clear"), ("key_situations", "Gang,Juvenile"),
    ("key_situations", "Gang, 4242"), ("zip", "2121"), ("vehicle_year", "2010.0"), ("vehicle_year", "4242"),
    ("contact_date", "2021-03-05T14:42:00"), ("contact_date", "2021-03-05 14:00"), ("street", "42 Blue Hill Ave"),
    ("fc_num", "FC21004242"), ("fc_num", "RPT-4242")])
def test_a_closed_column_holds_only_what_its_trusted_rule_publishes(tmp_path: Path, column: str, value: str) -> None:
    """A value the trusted rule's own function would not write there (a count, a spelling the build
    normalises, a finer date, a house number, a source report number under pseudonymous keys) is
    refused, naming the file, column, rule and count of rows, never the value."""
    assert _vocabulary(tmp_path, HONEST_VOCAB) == []
    problems = _vocabulary(tmp_path, _with(HONEST_VOCAB, 0, column, value, VOCAB))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"public file fioe_2021_contacts.csv, column {column}: 1 row(s) hold a value its "
                                  "trusted rule (") and problems[0].endswith("(rule vocabulary)"), problems
    assert value not in problems[0] and "4242" not in problems[0], problems
