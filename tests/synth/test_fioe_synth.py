"""Tests for the synthetic raw FIOE export and its PII ground truth (release.synth.fioe)."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime
from itertools import pairwise
from pathlib import Path

import pytest

from release.synth.__main__ import main as synth_main
from release.synth.fioe import (
    ENTITY_TYPES,
    PiiMention,
    SyntheticFioe,
    generate_fioe,
    write_fioe,
    write_sample,
)
from release.synth.rows import age_on
from release.synth.text import ARABIC_INDIC_DIGITS, FULLWIDTH_DIGITS, HOMOGLYPHS, ZERO_WIDTH

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "release" / "samples" / "fioe" / "2020"

# The raw export contract (design/raw-exports.md, section "fioe"), written out here so a
# change on either side shows up as a failing test.
CONTRACT_CONTACT_COLUMNS = [
    "fc_num", "contact_date", "contact_officer", "contact_officer_name", "supervisor",
    "supervisor_name", "street", "city", "state", "zip", "incident_address", "stop_duration",
    "circumstance", "basis", "vehicle_year", "vehicle_state", "vehicle_model", "vehicle_color",
    "vehicle_style", "vehicle_type", "vehicle_plate", "key_situations", "contact_reason", "weather",
]
CONTRACT_PERSON_COLUMNS = [
    "person_id", "fc_num", "contact_date", "first_name", "middle_name", "last_name", "alias", "dob",
    "home_address", "phone", "license_number", "sex", "race", "age", "ethnicity", "build",
    "hair_style", "skin_tone", "otherclothing", "deceased", "license_state", "license_type",
    "was_frisked",
]
SOURCES = {"subject", "associate", "officer"}


@pytest.fixture(scope="module")
def sample() -> SyntheticFioe:
    return generate_fioe(2020, seed=2020)


@pytest.fixture(scope="module")
def evasive() -> SyntheticFioe:
    return generate_fioe(2020, seed=11, n_reports=1500, evasions=True)


@pytest.fixture(scope="module")
def evasive_plain() -> SyntheticFioe:
    return generate_fioe(2020, seed=11, n_reports=1500, evasions=False)


def narratives(data: SyntheticFioe) -> dict[str, str]:
    texts: dict[str, str] = {}
    for row in data.contacts:
        texts.setdefault(row["fc_num"], row["contact_reason"])
    return texts


def read_csv(path: Path, encoding: str = "utf-8") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


# -- determinism ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("kwargs"),
    [
        pytest.param({}, id="defaults"),
        pytest.param({"evasions": True}, id="evasions"),
        pytest.param({"case_mix": False}, id="no-case-mix"),
    ],
)
def test_same_seed_gives_byte_identical_files(tmp_path: Path, kwargs: dict[str, bool]) -> None:
    first = generate_fioe(2021, seed=5, n_reports=250, **kwargs)
    second = generate_fioe(2021, seed=5, n_reports=250, **kwargs)
    assert first == second
    paths_a = write_fioe(first, tmp_path / "a")
    paths_b = write_fioe(second, tmp_path / "b")
    assert [p.read_bytes() for p in paths_a] == [p.read_bytes() for p in paths_b]


def test_other_seed_gives_other_data() -> None:
    assert generate_fioe(2020, seed=1, n_reports=50) != generate_fioe(2020, seed=2, n_reports=50)


def test_output_does_not_depend_on_hash_seed(tmp_path: Path) -> None:
    """Set or dict order must not leak in: two interpreters with other hash seeds agree."""
    outputs = []
    for hash_seed in ("0", "4242"):
        out = tmp_path / hash_seed
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        subprocess.run(
            [sys.executable, "-m", "release.synth", "fioe", "2020", str(out), "--reports", "150", "--evasions"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )
        outputs.append([(out / name).read_bytes() for name in ("fieldcontact.csv", "fieldcontact_name.csv")])
    assert outputs[0] == outputs[1]


def test_evasions_and_case_mix_change_only_the_narratives(evasive: SyntheticFioe, evasive_plain: SyntheticFioe) -> None:
    flat = generate_fioe(2020, seed=11, n_reports=1500, case_mix=False)
    assert evasive.persons == evasive_plain.persons == flat.persons
    strip = lambda rows: [{k: v for k, v in row.items() if k != "contact_reason"} for row in rows]  # noqa: E731
    assert strip(evasive.contacts) == strip(evasive_plain.contacts) == strip(flat.contacts)
    assert narratives(evasive) != narratives(evasive_plain)


# -- schema -----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("file_name", "columns"),
    [
        pytest.param("fieldcontact.csv", CONTRACT_CONTACT_COLUMNS, id="fieldcontact"),
        pytest.param("fieldcontact_name.csv", CONTRACT_PERSON_COLUMNS, id="fieldcontact_name"),
    ],
)
def test_written_header_equals_contract(tmp_path: Path, file_name: str, columns: list[str]) -> None:
    write_fioe(generate_fioe(2020, n_reports=20), tmp_path)
    rows = read_csv(tmp_path / file_name)
    assert rows[0] == columns
    assert all(len(row) == len(columns) for row in rows)


@pytest.mark.parametrize(
    ("encoding", "terminator"),
    [
        pytest.param("utf-8", "\n", id="utf8-lf"),
        pytest.param("utf-8-sig", "\r\n", id="utf8bom-crlf"),
        pytest.param("cp1252", "\r\n", id="cp1252-crlf"),
    ],
)
def test_encodings_and_line_endings_round_trip(tmp_path: Path, encoding: str, terminator: str) -> None:
    data = generate_fioe(2020, seed=3, n_reports=200)
    contacts_path, _persons_path = write_fioe(data, tmp_path, encoding=encoding, line_terminator=terminator)
    raw = contacts_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert raw.count(b"\r\n") >= len(data.contacts) if terminator == "\r\n" else b"\r\n" not in raw
    rows = read_csv(contacts_path, "utf-8-sig" if encoding == "utf-8-sig" else encoding)
    assert [dict(zip(rows[0], row, strict=True)) for row in rows[1:]] == data.contacts


@pytest.mark.parametrize(
    ("column", "pattern"),
    [
        pytest.param("fc_num", r"FC20\d{6}", id="fc_num"),
        pytest.param("contact_date", r"2020-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{7})?", id="contact_date"),
        pytest.param("zip", r"0\d{4}", id="zip-leading-zero"),
        pytest.param("contact_officer_name", r"[A-Z' -]+, [^\W\d_a-z]+(-[^\W\d_a-z]+)?", id="officer-last-first"),
        pytest.param("contact_officer", r"\d{6}|S\d{5}", id="officer-id"),
    ],
)
def test_contact_value_shapes(sample: SyntheticFioe, column: str, pattern: str) -> None:
    assert all(re.fullmatch(pattern, row[column]) for row in sample.contacts)


@pytest.mark.parametrize(
    ("column", "pattern"),
    [
        pytest.param("person_id", r"\d{11}", id="person_id"),
        pytest.param("was_frisked", r"0|1|NULL|", id="was_frisked"),
        pytest.param("deceased", r"0|1", id="deceased"),
        pytest.param("phone", r"[0-9()+. -]{10,17}|NULL|", id="phone"),
    ],
)
def test_person_value_shapes(sample: SyntheticFioe, column: str, pattern: str) -> None:
    assert all(re.fullmatch(pattern, row[column]) for row in sample.persons)


def test_person_ids_unique_and_ma_licences_shaped(sample: SyntheticFioe) -> None:
    assert len({row["person_id"] for row in sample.persons}) == len(sample.persons)
    ma = [row["license_number"] for row in sample.persons if row["license_state"] == "MA"]
    assert ma and all(re.fullmatch(r"S\d{8}|NULL|", number) for number in ma)


# -- ground truth offsets ---------------------------------------------------------------

@pytest.mark.parametrize("fixture", ["sample", "evasive"], ids=["plain", "evasions"])
def test_every_mention_is_exact(request: pytest.FixtureRequest, fixture: str) -> None:
    data: SyntheticFioe = request.getfixturevalue(fixture)
    texts = narratives(data)
    assert data.mentions
    for mention in data.mentions:
        assert texts[mention.fc_num][mention.start:mention.end] == mention.value
        assert mention.entity_type in ENTITY_TYPES
        assert mention.source in SOURCES
    spans_by_report: dict[str, list[PiiMention]] = {}
    for mention in data.mentions:
        spans_by_report.setdefault(mention.fc_num, []).append(mention)
    for spans in spans_by_report.values():
        assert all(a.end <= b.start for a, b in pairwise(spans))  # ordered, no overlap


@pytest.mark.parametrize(
    ("predicate", "low", "high"),
    [
        pytest.param(lambda t: t == t.upper() and t != t.lower(), 0.04, 0.10, id="all-caps"),
        pytest.param(lambda t: t == t.lower() and t != t.upper(), 0.005, 0.04, id="lower-case"),
    ],
)
def test_case_mix_share_and_offsets(
    sample: SyntheticFioe, predicate: Callable[[str], bool], low: float, high: float
) -> None:
    texts = narratives(sample)
    styled = {fc for fc, text in texts.items() if len(text) > 40 and predicate(text)}
    assert low < len(styled) / len(texts) < high
    in_styled = [m for m in sample.mentions if m.fc_num in styled]
    assert in_styled and all(texts[m.fc_num][m.start:m.end] == m.value for m in in_styled)
    assert all(predicate(m.value) or not any(ch.isalpha() for ch in m.value) for m in in_styled)


EVASION_CHECKS = {
    "zero-width": lambda v: any(ch in v for ch in ZERO_WIDTH),
    "full-width-digits": lambda v: any(ch in v for ch in "0123456789".translate(FULLWIDTH_DIGITS)),
    "arabic-indic-digits": lambda v: any(ch in v for ch in "0123456789".translate(ARABIC_INDIC_DIGITS)),
    "cyrillic-homoglyph": lambda v: any(ch in v for ch in HOMOGLYPHS.values()),
    "spaced-digits": lambda v: re.search(r"\d \d \d \d", v) is not None,
}


@pytest.mark.parametrize("kind", sorted(EVASION_CHECKS), ids=sorted(EVASION_CHECKS))
def test_evasions_are_planted(evasive: SyntheticFioe, kind: str) -> None:
    assert sum(EVASION_CHECKS[kind](m.value) for m in evasive.mentions) >= 10


def test_evasion_rate_is_about_ten_percent(evasive: SyntheticFioe, evasive_plain: SyntheticFioe) -> None:
    assert [(m.fc_num, m.entity_type, m.source) for m in evasive.mentions] == [
        (m.fc_num, m.entity_type, m.source) for m in evasive_plain.mentions
    ]
    changed = sum(a.value != b.value for a, b in zip(evasive.mentions, evasive_plain.mentions, strict=True))
    eligible = sum(m.source != "officer" for m in evasive.mentions)
    assert 0.06 < changed / eligible < 0.12
    assert all(a.value == b.value for a, b in zip(evasive.mentions, evasive_plain.mentions, strict=True) if a.source == "officer")


@pytest.mark.parametrize("entity_type", ENTITY_TYPES, ids=ENTITY_TYPES)
def test_every_entity_type_is_planted(sample: SyntheticFioe, entity_type: str) -> None:
    assert any(m.entity_type == entity_type for m in sample.mentions)


# -- consistency between text and tables ------------------------------------------------

def _parse_dob(text: str) -> tuple[int, int, int] | None:
    """(month, day, year) from the column or narrative formats; 2-digit years stay 2-digit."""
    text = text.strip()
    for pattern, order in (
        (r"(\d{4})-(\d\d)-(\d\d)(?: 00:00:00)?", "ymd"),
        (r"(\d{4})(\d\d)(\d\d)", "ymd"),
        (r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})", "mdy"),
    ):
        match = re.fullmatch(pattern, text)
        if match:
            a, b, c = (int(part) for part in match.groups())
            return (b, c, a) if order == "ymd" else (a, b, c)
    match = re.fullmatch(r"([A-Za-z]+) (\d{1,2}), (\d{4})", text)
    if match:
        month = datetime.strptime(match.group(1)[:3].title(), "%b").month
        return month, int(match.group(2)), int(match.group(3))
    return None


def test_age_is_consistent_with_dob(sample: SyntheticFioe) -> None:
    checked = 0
    for row in sample.persons:
        parsed = _parse_dob(row["dob"])
        if not parsed or not row["age"].isdigit() or not 0 < int(row["age"]) <= 100:
            continue  # missing dob, or one of the planted impossible ages
        month, day, year = parsed
        on = datetime.strptime(row["contact_date"][:10], "%Y-%m-%d").date()
        assert age_on(date(year, month, day), on) == int(row["age"])
        checked += 1
    assert checked > 0.9 * len(sample.persons)


def test_subject_mentions_match_the_record(sample: SyntheticFioe) -> None:
    """A 'subject' value comes from the same record's persons or raw-only report fields."""
    persons: dict[str, list[dict[str, str]]] = {}
    for row in sample.persons:
        persons.setdefault(row["fc_num"], []).append(row)
    reports = {row["fc_num"]: row for row in sample.contacts}
    fold = lambda s: re.sub(r"[^a-z0-9]", "", s.lower())  # noqa: E731
    for mention in (m for m in sample.mentions if m.source == "subject"):
        people = persons.get(mention.fc_num, [])
        if any(p["first_name"] in ("", "NULL") for p in people):
            continue  # the officer wrote a first name the record left blank
        report = reports[mention.fc_num]
        value = fold(mention.value)
        if mention.entity_type == "PERSON":
            names = {fold(p[key]) for p in people for key in ("first_name", "last_name")} - {"", "null"}
            initials = re.fullmatch(r"[a-z]{2}", value) is not None
            assert initials or any(name and name in value or value in name for name in names)
        elif mention.entity_type == "DATE_OF_BIRTH":
            dobs = {_parse_dob(p["dob"]) for p in people}
            got = _parse_dob(mention.value if mention.value[0].isdigit() else mention.value.title())
            assert got is not None
            assert any(d and d[:2] == got[:2] and d[2] % 100 == got[2] % 100 for d in dobs)
        elif mention.entity_type == "LICENSE_PLATE":
            assert value == fold(report["vehicle_plate"])
        elif mention.entity_type == "STREET_ADDRESS":
            places = [fold(report["incident_address"])] + [fold(p["home_address"]) for p in people]
            assert any(value in place for place in places)
        elif mention.entity_type in {"US_DRIVER_LICENSE", "NICKNAME", "PHONE_NUMBER"}:
            column = {"US_DRIVER_LICENSE": "license_number", "NICKNAME": "alias", "PHONE_NUMBER": "phone"}
            cells = {re.sub(r"\D", "", p[column[mention.entity_type]]) if mention.entity_type == "PHONE_NUMBER"
                     else fold(p[column[mention.entity_type]]) for p in people}
            key = re.sub(r"\D", "", mention.value)[-10:] if mention.entity_type == "PHONE_NUMBER" else value
            assert any(key and key in cell for cell in cells)


def test_officer_mentions_come_from_the_roster(sample: SyntheticFioe) -> None:
    surnames = {name.split(", ")[0] for name in sample.officers}
    officer_mentions = [m for m in sample.mentions if m.source == "officer"]
    assert officer_mentions
    assert all(any(m.value.upper().endswith(surname) for surname in surnames) for m in officer_mentions)


# -- distributions and defects ----------------------------------------------------------

def test_persons_per_report_and_minors(sample: SyntheticFioe) -> None:
    reports = {row["fc_num"] for row in sample.contacts}
    assert len(reports) == 5600
    assert 1.7 < len(sample.persons) / len(reports) < 1.95
    ages = Counter(int(row["age"]) for row in sample.persons if row["age"].lstrip("-").isdigit())
    minors = sum(count for age, count in ages.items() if 10 <= age <= 17)
    assert 0.04 < minors / len(sample.persons) < 0.10


def _duplicate_basis_rows(data: SyntheticFioe) -> bool:
    by_report: dict[str, list[dict[str, str]]] = {}
    for row in data.contacts:
        by_report.setdefault(row["fc_num"], []).append(row)
    repeated = [rows for rows in by_report.values() if len(rows) > 1]
    same_text = all(len({row["contact_reason"] for row in rows}) == 1 for rows in repeated)
    return 0.01 < len(repeated) / len(by_report) < 0.04 and same_text


def _orphan_share(data: SyntheticFioe) -> float:
    reports = {row["fc_num"] for row in data.contacts}
    return sum(row["fc_num"] not in reports for row in data.persons) / len(data.persons)


DEFECTS = {
    "null-token-contacts": lambda d: any("NULL" in row.values() for row in d.contacts),
    "null-token-persons": lambda d: any("NULL" in row.values() for row in d.persons),
    "empty-cells": lambda d: any(row["street"] == "" for row in d.contacts),
    "trailing-space-basis": lambda d: any(row["basis"] == "Reasonable Suspicion " for row in d.contacts),
    "stray-space-category": lambda d: any(row["circumstance"] != row["circumstance"].strip() for row in d.contacts),
    "key-situations-leading-space": lambda d: any(row["key_situations"].startswith(" ") for row in d.contacts),
    "duplicate-fc-num-per-basis": _duplicate_basis_rows,
    "orphan-persons": lambda d: 0.005 < _orphan_share(d) < 0.02,
    "age-zero": lambda d: any(row["age"] == "0" for row in d.persons),
    "age-negative": lambda d: any(row["age"].startswith("-") for row in d.persons),
    "age-over-100": lambda d: any(row["age"].isdigit() and int(row["age"]) > 100 for row in d.persons),
    "age-blank": lambda d: any(row["age"] in ("", "NULL") for row in d.persons),
    "fractional-seconds": lambda d: any("." in row["contact_date"] for row in d.contacts),
    "mixed-dob-formats": lambda d: len({re.sub(r"\d", "9", row["dob"]) for row in d.persons}) >= 5,
    "blank-narrative": lambda d: any(row["contact_reason"] in ("", "NULL") for row in d.contacts),
    "embedded-newlines": lambda d: sum("\n" in row["contact_reason"] for row in d.contacts) > len(d.contacts) / 2,
}


@pytest.mark.parametrize("defect", sorted(DEFECTS), ids=sorted(DEFECTS))
def test_defects_of_real_exports_are_present(sample: SyntheticFioe, defect: str) -> None:
    assert DEFECTS[defect](sample)


def test_narrative_style_statistics(sample: SyntheticFioe) -> None:
    texts = [text for text in narratives(sample).values() if text not in ("", "NULL")]
    mean_chars = sum(map(len, texts)) / len(texts)
    mean_words = sum(len(text.split()) for text in texts) / len(texts)
    assert 450 < mean_chars < 650
    assert 70 < mean_words < 105


# -- the committed sample, and the CLI --------------------------------------------------

def test_committed_sample_equals_fresh_write_sample(tmp_path: Path) -> None:
    paths = write_sample(tmp_path)
    assert [p.name for p in paths] == ["fieldcontact.csv", "fieldcontact_name.csv"]
    for path in paths:
        assert path.read_bytes() == (SAMPLE / path.name).read_bytes(), path.name


def test_cli_writes_files_and_mentions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mentions = tmp_path / "truth" / "mentions.jsonl"
    assert synth_main(["fioe", "2020", str(tmp_path / "out"), "--reports", "40", "--mentions", str(mentions)]) == 0
    data = generate_fioe(2020, n_reports=40)
    assert (tmp_path / "out" / "fieldcontact.csv").exists()
    assert len(mentions.read_text(encoding="utf-8").splitlines()) == len(data.mentions)
    assert f"{len(data.contacts)} report rows" in capsys.readouterr().out


# Nothing of the City's files is reused: benchmarks/bench_sample_provenance.py (it reads ../shared/data/,
# which a fresh clone does not have, so it is not a test that could skip).
