"""FIOE's person-level unit: the rows joined by a keyed surname + date of birth or by the export's
person_id, which never splits a person either key joins, may merge people (then the noise covers a
changed unit), truncates each person to k reports a year, and never leaves the process (issue #12)."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import authoritative_ledger, invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from release.config.tables import load_tables_policy
from release.datasets.fioe import contact_people, normalized_surname, person_keys
from release.keys.hmac import Tokenizer
from release.stages import noise
from release.stages.tabulate import kept_axes

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER = Tokenizer(b"p" * 64)
SPEC = next(s for s in load_tables_policy(ROOT / "redaction_rules" / "fioe_tables.yaml").tables if s.is_noisy)


def persons(*rows: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"fc_num": f, "last_name": last, "dob": dob} for f, last, dob in rows], dtype=object)


def contacts(*reports: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame([{"fc_num": f, "contact_date": d, "city": c} for f, d, c in reports], dtype=object)


@pytest.mark.parametrize(("a", "b"), [("Peña-Almonte", "PENA ALMONTE"), ("O'Brien", "obrien"), (" Smith ", "SMITH")])
def test_spellings_of_one_surname_agree(a: str, b: str) -> None:
    assert normalized_surname(a) == normalized_surname(b) is not None


def test_one_person_is_never_split_by_date_format_or_case() -> None:
    keys = person_keys(persons(("FC1", "Quartermaine", "03/14/1999"), ("FC2", "QUARTERMAINE", "1999-03-14"),
                               ("FC3", "quartermaine", "1999-03-14 00:00:00")), TOKENIZER)
    assert keys.nunique() == 1 and len(keys.iloc[0]) == 64


def test_different_people_and_missing_values() -> None:
    keys = person_keys(persons(("FC1", "Quartermaine", "1999-03-14"), ("FC2", "Quartermaine", "1999-03-15"),
                               ("FC3", "Quartermaine", ""), ("FC4", "", "1999-03-14")), TOKENIZER)
    assert keys.iloc[0] != keys.iloc[1] and keys.iloc[2:].isna().all()
    other = person_keys(persons(("FC1", "Quartermaine", "1999-03-14")), Tokenizer(b"q" * 64))
    assert other.iloc[0] != keys.iloc[0]  # keyed: without the release key nobody can recompute it


def test_each_person_counts_at_most_k_reports_once_each() -> None:
    reports = [(f"FC{i}", f"2020-01-{i + 1:02d} 10:00", "DORCHESTER" if i else "ROXBURY") for i in range(10)]
    rows = [(f"FC{i}", "Quartermaine", "1999-03-14") for i in range(10)] + [("FC0", "Quartermaine", "1999-03-14")]
    rows += [("FC3", "Bramblewood", "2004-01-02"), ("FC99", "Orphan", "1980-01-01")]  # FC99 has no report
    frame, unkeyed = contact_people(persons(*rows), contacts(*reports), TOKENIZER, max_reports=6)
    assert unkeyed == 0 and len(frame) == 2
    counts = dict(zip(frame["contacts"], frame["neighbourhood"], strict=True))
    assert set(counts) == {"6", "1"}                       # 10 reports truncated to 6; a repeat in FC0 once
    again, _ = contact_people(persons(*rows), contacts(*reports), TOKENIZER, max_reports=6)
    assert again.equals(frame)                              # keyed truncation: the same data, the same counts


def test_a_merged_unit_is_covered_by_the_noise() -> None:
    """Twins with one surname and date of birth are one unit: one of them being added or removed
    *changes* the unit's row, which the sensitivity of the shipped table covers (L2^2 doubles)."""
    assert SPEC.units_may_merge and SPEC.privacy_unit_name == "person"
    shape = tuple(len(d.codebook(2020)) for d in SPEC.dimensions)
    levels = [kept_axes(tuple(d.name for d in SPEC.dimensions), level) for level in SPEC.levels()]
    merged = noise.sensitivity(shape, levels, max_rows_per_unit=1, max_cells_per_unit=1, max_rows_per_cell=1,
                               units_may_merge=True)
    single = noise.sensitivity(shape, levels, max_rows_per_unit=1, max_cells_per_unit=1, max_rows_per_cell=1)
    assert (merged.l1, merged.l2_squared) == (2 * single.l1, 2 * single.l2_squared) == (8, 8)
    # moving one unit's row between any two cells changes every level by at most one row out, one in
    base = np.zeros(shape, dtype=np.int64)
    moved = base.copy()
    base[0, 0], moved[3, 13] = 1, 1
    from release.stages.tabulate import level_values
    diff = np.concatenate([level_values((moved - base).reshape(-1), shape, a) for a in levels])
    assert int(np.abs(diff).sum()) <= merged.l1 and int((diff ** 2).sum()) <= merged.l2_squared
    released = noise.release_noisy(np.zeros(len(diff), dtype=np.int64), table=SPEC.name,
                                   mechanism="discrete_gaussian", budget=float(SPEC.rho), bounds=merged)
    assert released.privacy_loss <= SPEC.rho


def test_the_person_key_never_leaves_the_process(tiny_export: Path, tmp_path: Path) -> None:
    """Neither key, nor the unit they make, is in any file the build writes or in the ledger:
    computed under the build's own value-token key (the manifest's derivation of the master key)."""
    from release.bundle.read import read_manifest
    from release.config.policy import load_policy
    from release.datasets.fioe import _person_id_keys, _surname_birth_keys
    from release.keys.hmac import keys_for_manifest, load_or_create_key
    from release.stages.pseudonyms import pseudonym
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(tiny_export), "--out", str(out), "--json")
    assert code == 0, stdout + stderr
    raw = pd.read_csv(tiny_export / "fieldcontact_name.csv", dtype=str, keep_default_na=False)
    tokens = keys_for_manifest(load_or_create_key(), read_manifest(out / "fioe" / "2020")).tokens
    keys = {*person_keys(raw, tokens).dropna(), *_surname_birth_keys(raw, tokens).dropna(),
            *_person_id_keys(raw, tokens).dropna()}
    assert len(keys) == 4  # two people: a surname + date of birth and a person id each; a unit is named by one
    rule = load_policy(ROOT / "redaction_rules" / "fioe.yaml").files["persons"].columns["person_id"]
    persons_file = (out / "fioe" / "2020" / "public" / "fioe_2020_persons.csv").read_text(encoding="utf-8")
    assert pseudonym(raw["person_id"].iloc[0], rule, "fioe", tokens) in persons_file  # the build's key indeed
    written = [p for p in out.rglob("*") if p.is_file()] + [authoritative_ledger()]
    for path in written:
        data = path.read_bytes()
        assert not any(key.encode() in data for key in keys), path


# ---- the export's person_id: a second key, joined with surname + date of birth ------------------

def identified(*rows: tuple[str, str, str, str]) -> pd.DataFrame:
    """Persons rows (fc_num, last_name, dob, person_id); '' is a missing value, as loaded (None)."""
    return pd.DataFrame([{"fc_num": f, "last_name": last or None, "dob": dob or None, "person_id": pid or None}
                         for f, last, dob, pid in rows], dtype=object)


def partition(keys: pd.Series) -> list[int | None]:
    """Each row's unit as the index of its unit's first row (None: no unit), to compare groupings."""
    first: dict[str, int] = {}
    return [None if k is None else first.setdefault(k, i) for i, k in enumerate(keys)]


JOINS = {
    "person-id-only-across-three-reports": (
        [("FC1", "", "", "11"), ("FC2", "", "", "11"), ("FC3", "", "", "11")], [0, 0, 0]),
    "person-id-spelt-with-spaces": ([("FC1", "", "", " 11 "), ("FC2", "", "", "11")], [0, 0]),
    "named-in-one-report-id-only-in-another": (
        [("FC1", "Quartermaine", "1999-03-14", "11"), ("FC2", "", "", "11"), ("FC3", "QUARTERMAINE", "03/14/1999", "")],
        [0, 0, 0]),
    "a-chain-through-both-keys": (
        [("FC1", "Quartermaine", "1999-03-14", "11"), ("FC2", "Bramblewood", "2004-01-02", "11"),
         ("FC3", "Bramblewood", "2004-01-02", "12"), ("FC4", "", "", "12")], [0, 0, 0, 0]),
    "two-ids-two-people": ([("FC1", "", "", "11"), ("FC2", "", "", "12")], [0, 1]),
    "two-names-one-id-each-two-people": (
        [("FC1", "Quartermaine", "1999-03-14", "11"), ("FC2", "Quartermaine", "1999-03-15", "12")], [0, 1]),
    "neither-key-no-person": ([("FC1", "", "", ""), ("FC2", "Quartermaine", "", ""), ("FC3", "", "", "11")],
                              [None, None, 2]),
}


@pytest.mark.parametrize(("rows", "expected"), list(JOINS.values()), ids=list(JOINS))
def test_rows_sharing_a_person_id_or_a_surname_and_birth_date_are_one_person(
        rows: list[tuple[str, str, str, str]], expected: list[int | None]) -> None:
    assert partition(person_keys(identified(*rows), TOKENIZER)) == expected


def test_a_unit_only_a_person_joining_two_others_holds_is_counted_as_one_that_may_split() -> None:
    """Q's surname + date of birth is also a namesake's, Q's person id also another row's: removing
    Q would split the unit in two (noise.md, section 2), so the build counts it. A unit around one
    shared key (one id in three rows, each with a surname of its own) never splits."""
    from release.datasets.fioe import person_units
    bridge = identified(("FC1", "Quartermaine", "1999-03-14", "11"), ("FC2", "Quartermaine", "1999-03-14", ""),
                        ("FC3", "", "", "11"))
    star = identified(("FC1", "Quartermaine", "1999-03-14", "11"), ("FC2", "Bramblewood", "2004-01-02", "11"),
                      ("FC3", "Orphan", "1980-01-01", "11"))
    consistent = identified(("FC1", "Quartermaine", "1999-03-14", "11"), ("FC2", "Quartermaine", "1999-03-14", "11"),
                            ("FC3", "Quartermaine", "1999-03-14", ""))
    assert [person_units(frame, TOKENIZER)[1] for frame in (bridge, star, consistent)] == [1, 0, 0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["Quartermaine", "Bramblewood"]), st.sampled_from(["1999-03-14", ""]),
                          st.sampled_from(["11", "12", ""])), min_size=1, max_size=8))
def test_a_unit_is_counted_as_one_that_may_split_exactly_when_removing_rows_can_disconnect_it(rows) -> None:
    """The count, against brute force: a unit may split when some set of its rows, removed, leaves
    the rest in two or more units (a person's rows may be any of them); one key on every row of a
    unit keeps it whole. Counted per unit of two or more rows."""
    from release.datasets.fioe import person_units
    frame = identified(*((f"FC{i}", *row) for i, row in enumerate(rows)))
    keys, counted = person_units(frame, TOKENIZER)
    expected = 0
    for unit in {k for k in keys.tolist() if k is not None}:
        members = [i for i, k in enumerate(keys.tolist()) if k == unit]
        splits = False
        for size in range(1, len(members) - 1):
            for gone in combinations(members, size):
                rest = [i for i in members if i not in gone]
                left = person_keys(frame.iloc[rest], TOKENIZER).tolist()
                splits = splits or len(set(left)) > 1
        expected += splits
    assert counted == expected


SURNAMES, BIRTHS, IDS = ["Quartermaine", "QUARTERMAINE", "Bramblewood", ""], ["1999-03-14", "2004-01-02", ""], \
    ["11", "12", "13", ""]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(SURNAMES), st.sampled_from(BIRTHS), st.sampled_from(IDS)),
                min_size=1, max_size=14), st.randoms(use_true_random=False))
def test_the_person_key_never_splits_what_a_key_joins_nor_joins_what_no_chain_of_keys_does(rows, rng) -> None:
    frame = identified(*((f"FC{i}", *row) for i, row in enumerate(rows)))
    keys = person_keys(frame, TOKENIZER).tolist()
    name = [(s.casefold(), b) if s and b else None for s, b, _ in rows]
    ids = [pid or None for _, _, pid in rows]
    for i, j in combinations(range(len(rows)), 2):
        if (name[i] is not None and name[i] == name[j]) or (ids[i] is not None and ids[i] == ids[j]):
            assert keys[i] == keys[j] is not None                       # never split
    for i in range(len(rows)):
        assert (keys[i] is None) == (name[i] is None and ids[i] is None)  # a person when a key exists
        reached, frontier = {i}, [i]                                     # rows a chain of shared keys reaches
        while frontier:
            here = frontier.pop()
            for j in range(len(rows)):
                if j not in reached and ((name[j] is not None and name[j] == name[here])
                                         or (ids[j] is not None and ids[j] == ids[here])):
                    reached.add(j)
                    frontier.append(j)
        if keys[i] is not None:
            assert {j for j, k in enumerate(keys) if k == keys[i]} == reached  # never joined without a chain
    order = list(range(len(rows)))
    rng.shuffle(order)
    shuffled = person_keys(frame.iloc[order].reset_index(drop=True), TOKENIZER).tolist()
    assert [shuffled[order.index(i)] for i in range(len(rows))] == keys  # the same units, whatever the order


def test_a_person_known_by_person_id_and_by_name_counts_at_most_k_reports_over_the_merged_unit() -> None:
    """Ten reports of one person: six known only by their person id, four by surname + date of birth,
    one of which also carries the id. One unit, truncated to k = 6 reports; tabulated once, within
    the shipped table's per-unit bounds."""
    from release.stages.tabulate import tabulate
    reports = [(f"FC{i}", f"2020-01-{i + 1:02d} 10:00", "DORCHESTER") for i in range(12)]
    rows = [(f"FC{i}", "", "", "11") for i in range(6)] + [(f"FC{i}", "Quartermaine", "1999-03-14", "")
                                                            for i in range(6, 9)]
    rows += [("FC9", "Quartermaine", "1999-03-14", "11"), ("FC10", "", "", "12"), ("FC11", "", "", "")]
    frame, unkeyed = contact_people(identified(*rows), contacts(*reports), TOKENIZER, max_reports=6)
    assert unkeyed == 1 and len(frame) == 2                 # FC11 has neither key; FC10 is another id, another person
    assert sorted(frame["contacts"]) == ["1", "6"]          # ten reports of one unit, truncated to six
    counts = tabulate(frame, SPEC, 2020, rng=np.random.default_rng(0))
    assert counts.rows_dropped == 0 and counts.profile.max_rows_per_unit <= SPEC.max_rows_per_unit == 1
    assert int(counts.counts.sum()) == 2                    # each unit once, whatever its number of keys


def test_a_policy_that_calls_the_merged_person_a_single_person_blocks_the_build(tiny_export: Path,
                                                                                 tmp_path: Path) -> None:
    """The person key may join people, so the noise must cover one person changing a unit's row: a
    tables policy declaring the person-level table without ``units_may_merge`` blocks the build
    (exit 5) before anything is drawn or charged, with a bundle whose packet says what to fix."""
    import json
    import shutil

    from release.bundle.read import read_manifest

    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "redaction_rules", rules)
    tables = rules / "fioe_tables.yaml"
    text = tables.read_text(encoding="utf-8")
    assert "    units_may_merge: true" in text
    tables.write_text(text.replace("    units_may_merge: true", "    units_may_merge: false"), encoding="utf-8")
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(tiny_export), "--out", str(out), "--json",
                                  "--rules", str(rules))
    assert code == 5, stdout + stderr
    bundle = out / "fioe" / "2020"
    assert json.loads(stdout)["status"] == "blocked" and not (bundle / "public").exists()
    found = [f for f in read_manifest(bundle)["findings"] if f["code"] == "units_may_merge_undeclared"]
    assert [(f["file"], f["severity"]) for f in found] == [(SPEC.name, "blocking")]
    assert "declare it in the tables policy" in found[0]["message"]
    assert "declare it in the tables policy" in (bundle / "review" / "index.html").read_text(encoding="utf-8")
    ledger = authoritative_ledger()
    assert not ledger.is_file() or b'"charge"' not in ledger.read_bytes()  # nothing drawn, nothing charged
