"""The public leak check: a raw-only value of a record in a public column of that record."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import contact, person, write_export

from release.config.policy import DatasetPolicy
from release.keys.hmac import Tokenizer
from release.stages.generalize import generalize
from release.stages.juvenile import minor_keys
from release.stages.leakcheck import LeakChecker, find_global_leaks, find_leaks
from release.stages.load import load_export

KEY = Tokenizer(b"l" * 64)
RAW_ID = person("FC20000001")["person_id"]  # the City's id of the planted person


def _check(folder: Path, policy: DatasetPolicy, tamper: dict[tuple[str, str], str] | None = None):
    loaded = load_export(folder, policy, 2020)
    public, _, _ = generalize(loaded.tables, policy, minor_keys(loaded.tables, policy), KEY)
    frames = {name: frame.copy() for name, frame in public.frames.items()}
    for (name, column), value in (tamper or {}).items():
        frames[name].loc[0, column] = value
    return find_leaks(loaded.tables.frames, frames, policy, 2020)


@pytest.mark.parametrize(
    ("table", "column", "planted"),
    [("contacts", "contact_reason", "Stopped with Zebulon Quartermaine today"),
     ("contacts", "contact_reason", "lives at 12 MAGAZINE ST"),
     ("contacts", "contact_reason", "plate 7zq-k92 seen"),
     ("contacts", "weather", "Zebulon Quartermaine"),
     ("contacts", "contact_reason", "call 617-555-0142"),
     ("persons", "build", "S12345678"),
     ("contacts", "contact_officer_name", "ZEBULON QUARTERMAINE"),
     ("persons", "person_id", RAW_ID),
     ("contacts", "contact_reason", f"wristband {RAW_ID} noted")],
    ids=["full-name", "home-address", "plate-any-case", "full-name-in-category", "phone",
         "licence-in-persons", "full-name-in-officer-column", "raw-id-in-its-pseudonym-column", "raw-id-in-text"])
def test_planted_raw_value_flagged(tmp_path: Path, policy: DatasetPolicy, table: str, column: str,
                                   planted: str) -> None:
    folder = write_export(tmp_path, [contact("FC20000001")], [person("FC20000001")])
    flags, leaks = _check(folder, policy, {(table, column): planted})
    assert flags[table].iloc[0]
    assert [(leak.row_key, leak.column) for leak in leaks] == [(f"FC20000001{'/p1' if table == 'persons' else ''}", column)]
    assert planted not in repr(leaks)


def test_a_published_pseudonym_is_never_its_raw_identifier(tiny_export: Path, policy: DatasetPolicy) -> None:
    """person_id is published as its keyed pseudonym: both checks know the raw id, neither takes
    the pseudonym for it (``pseudonym`` rule)."""
    loaded = load_export(tiny_export, policy, 2020)
    public, _, _ = generalize(loaded.tables, policy, frozenset(), KEY)
    assert public["persons"]["person_id"].str.fullmatch(r"PER-[0-9A-F]{16}").all()
    assert find_leaks(loaded.tables.frames, dict(public.frames), policy, 2020)[1] == []
    assert find_global_leaks(loaded.tables.frames, dict(public.frames), policy, 2020) == []


def test_clean_release_has_no_leak(tiny_export: Path, policy: DatasetPolicy) -> None:
    flags, leaks = _check(tiny_export, policy, {("contacts", "contact_reason"): "Officers observed [PERSON 1]."})
    assert leaks == []
    assert not any(flag.any() for flag in flags.values())


@pytest.mark.parametrize(("column", "value"), [("contact_officer_name", "QUARTERMAINE, ODO"),
                                              ("street", "QUARTERMAINE ST"), ("weather", "Zeebo")],
                         ids=["officer", "street", "category-equals-alias"])
def test_name_part_in_structured_column_is_not_a_leak(tmp_path: Path, policy: DatasetPolicy, column: str,
                                                      value: str) -> None:
    folder = write_export(tmp_path, [contact("FC20000001", **{column: value})], [person("FC20000001")])
    _, leaks = _check(folder, policy)
    assert leaks == []


def test_other_records_values_do_not_count(tmp_path: Path, policy: DatasetPolicy) -> None:
    folder = write_export(tmp_path, [contact("FC20000001"), contact("FC20000002")],
                          [person("FC20000001"), person("FC20000002", first_name="Ulla", last_name="Brightwater",
                                                        alias="", dob="", home_address="", phone="", license_number="")])
    loaded = load_export(folder, policy, 2020)
    public, _, _ = generalize(loaded.tables, policy, frozenset(), KEY)
    frames = {n: f.copy() for n, f in public.frames.items()}
    frames["contacts"].loc[1, "contact_reason"] = "Zebulon Quartermaine was elsewhere"  # record 1's name in record 2
    _, leaks = find_leaks(loaded.tables.frames, frames, policy, 2020)
    assert leaks == []  # not this record's value ...
    global_leaks = find_global_leaks(loaded.tables.frames, frames, policy, 2020)
    # ... but found across the release
    assert [(leak.row_key, leak.column) for leak in global_leaks] == [("FC20000002", "contact_reason")]


@pytest.mark.parametrize(
    ("narrative", "leaks"),
    [("He wore a black hoodie.", False), ("Officers spoke with Black near the store.", True),
     ("OFFICERS SPOKE WITH BLACK NEAR THE STORE.", True), ("officers spoke with black near the store.", True)],
    ids=["ordinary-word-lowercase", "capitalised-name", "all-caps", "all-lowercase-text"])
def test_name_part_that_is_a_word_counts_where_written_as_a_name(
        tmp_path: Path, policy: DatasetPolicy, narrative: str, leaks: bool) -> None:
    folder = write_export(tmp_path, [contact("FC20000001")], [person("FC20000001", first_name="Black")])
    flags, found = _check(folder, policy, {("contacts", "contact_reason"): narrative})
    assert bool(flags["contacts"].iloc[0]) is leaks


@pytest.mark.parametrize(("address", "identifying"),
                         [("E 4TH ST & SILVER ST", False), ("38 Park St", True), ("Homeless", False),
                          ("rear of 12 W 6th St", True)],
                         ids=["ordinal-intersection", "house-number", "homeless", "rear-of"])
def test_addresses_identify_by_house_number(address: str, identifying: bool) -> None:
    from release.stages.leakcheck import has_house_number
    assert has_house_number(address.lower()) is identifying


@pytest.mark.parametrize(
    ("narrative", "leaks"),
    [("Stopped at Washington St and Gibson St.", False), ("Seen near Washington Park.", False),
     ("Members of the Savin Hill Ave group.", False), ("Washington stated he lived nearby.", True)],
    ids=["street", "park", "two-word-place", "the-person"])
def test_surname_that_is_a_place(tmp_path: Path, policy: DatasetPolicy, narrative: str, leaks: bool) -> None:
    folder = write_export(tmp_path, [contact("FC20000001")],
                          [person("FC20000001", first_name="Hill", last_name="Washington")])
    flags, _ = _check(folder, policy, {("contacts", "contact_reason"): narrative})
    assert bool(flags["contacts"].iloc[0]) is leaks


def test_name_part_inside_a_hyphenated_name_is_not_that_name(tmp_path: Path, policy: DatasetPolicy) -> None:
    folder = write_export(tmp_path, [contact("FC20000001")], [person("FC20000001", first_name="Jean")])
    flags, _ = _check(folder, policy, {("contacts", "contact_reason"): "Officers Conlon and Jean-Pierre responded."})
    assert not flags["contacts"].iloc[0]


@pytest.mark.parametrize(("cell", "value"), [
    ("Stopped with Zebulon Quartermaine today", "Zebulon Quartermaine"),
    ("Stopped with  Zebulon\n  Quartermaine today", "Zebulon\n  Quartermaine"),          # whitespace runs
    ("Stopped with Ｚｅｂｕｌｏｎ Ｑｕａｒｔｅｒｍａｉｎｅ today", "Ｚｅｂｕｌｏｎ Ｑｕａｒｔｅｒｍａｉｎｅ"),  # full-width
], ids=["plain", "whitespace", "full-width"])
def test_leak_spans_name_the_value_in_the_cell(tmp_path: Path, policy: DatasetPolicy, cell: str, value: str) -> None:
    """The verify rounds redact exactly these spans, so they must cover the value in the cell's own offsets."""
    folder = write_export(tmp_path, [contact("FC20000001")], [person("FC20000001")])
    _, leaks = _check(folder, policy, {("contacts", "contact_reason"): cell})
    spans = {(start, end) for leak in leaks for start, end, _ in leak.spans}
    start = cell.index(value)
    assert (start, start + len(value)) in spans
    assert {label for leak in leaks for _, _, label in leak.spans} == {"PERSON"}


def test_a_subject_who_shares_an_established_officers_name_blocks_nothing(tmp_path: Path, policy: DatasetPolicy) -> None:
    """Sgt. Zebulon Quartermaine supervised three reports; a subject of that name elsewhere is
    not a leak in the supervisor column (the roster officer is public), but a subject's name
    typed into one report's officer column still is."""
    contacts = [contact(f"FC2000000{i}", supervisor_name="ZEBULON QUARTERMAINE") for i in (1, 2, 3)]
    contacts.append(contact("FC20000004", contact_officer_name="Hortensia Bramblewood"))
    persons = [person("FC20000001"), person("FC20000004", first_name="Hortensia", last_name="Bramblewood")]
    folder = write_export(tmp_path, contacts, persons)
    loaded = load_export(folder, policy, 2020)
    public, _, _ = generalize(loaded.tables, policy, frozenset(), KEY)
    frames = {n: f.copy() for n, f in public.frames.items()}
    _, leaks = find_leaks(loaded.tables.frames, frames, policy, 2020)
    leaks += find_global_leaks(loaded.tables.frames, frames, policy, 2020)
    assert {(leak.row_key, leak.column) for leak in leaks} == {("FC20000004", "contact_officer_name")}


@pytest.mark.parametrize(("reports_on_street", "found"), [(3, set()), (1, {("FC20000002", "street")})],
                         ids=["street-of-three-reports-is-vocabulary", "street-of-one-report-still-found"])
def test_anothers_name_that_is_a_shared_street_is_a_coincidence(tmp_path: Path, policy: DatasetPolicy,
                                                                 reports_on_street: int, found: set) -> None:
    """A subject named Blue Hill (report 1) and BLUE HILL AVE, the street of other reports: a
    street that several reports share is the column's vocabulary, not the subject's name; in
    one report alone it still counts (a name typed into the wrong field is one report's)."""
    quiet = {"contact_reason": "Observed near the park."}
    others = [contact(f"FC2000000{i}", street="BLUE HILL AVE", **quiet) for i in range(2, 2 + reports_on_street)]
    folder = write_export(tmp_path, [contact("FC20000001", street="DUDLEY ST", **quiet), *others],
                          [person("FC20000001", first_name="Blue", last_name="Hill")])
    loaded = load_export(folder, policy, 2020)
    public, _, _ = generalize(loaded.tables, policy, frozenset(), KEY)
    frames = {n: f.copy() for n, f in public.frames.items()}
    leaks = find_global_leaks(loaded.tables.frames, frames, policy, 2020)
    assert {(leak.row_key, leak.column) for leak in leaks} == found


def test_the_ascii_fast_path_folds_exactly_like_the_general_one() -> None:
    """fold_map's ASCII path (most cells) gives the same text and offsets as the general path."""
    import random

    from release.stages.leakcheck import _fold_ascii, _fold_unicode
    alphabet = "aB z\t\n\r\x0b\x0c\x1c\x1f,.'-9Q  "
    rng = random.Random(7)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        assert _fold_ascii(text) == _fold_unicode(text), repr(text)


def test_a_checker_reused_across_rounds_finds_what_a_fresh_check_finds(tmp_path: Path, policy: DatasetPolicy) -> None:
    """The build keeps one LeakChecker for all verify rounds and it remembers each cell's result.
    Between rounds here one narrative loses its leak, another gains one, and two supervisor cells
    change, so an unchanged supervisor cell stops being an established officer's name and becomes
    a leak: the cross-record part is recomputed, never remembered."""
    contacts = [contact(f"FC2000000{i}", supervisor_name="ZEBULON QUARTERMAINE") for i in (1, 2, 3)]
    contacts[0]["contact_reason"] = "Stopped with Zeebo near the store."
    persons = [person("FC20000001"), person("FC20000002", first_name="Hortensia", last_name="Bramblewood")]
    loaded = load_export(write_export(tmp_path, contacts, persons), policy, 2020)
    public, _, _ = generalize(loaded.tables, policy, frozenset(), KEY)
    first = {n: f.copy() for n, f in public.frames.items()}
    second = {n: f.copy() for n, f in public.frames.items()}
    second["contacts"].loc[0, "contact_reason"] = "Stopped with [PERSON 1] near the store."
    second["contacts"].loc[1, "contact_reason"] = "Hortensia Bramblewood ran."
    second["contacts"].loc[[1, 2], "supervisor_name"] = "MARGUERITE VANTASSEL"
    checker = LeakChecker(loaded.tables.frames, policy, 2020)
    found = []
    for frames in (first, second, first):
        fresh = find_leaks(loaded.tables.frames, frames, policy, 2020)
        reused = checker.find_leaks(frames)
        assert reused[1] == fresh[1]
        assert all(reused[0][name].equals(fresh[0][name]) for name in fresh[0])
        assert checker.find_global_leaks(frames) == find_global_leaks(loaded.tables.frames, frames, policy, 2020)
        found.append({(leak.row_key, leak.column) for leak in reused[1]})
    assert found[0] == found[2] == {("FC20000001", "contact_reason")}
    assert found[1] == {("FC20000001", "supervisor_name"), ("FC20000002", "contact_reason")}
