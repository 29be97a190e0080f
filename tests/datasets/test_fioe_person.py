"""FIOE's person-level unit: a keyed surname + date of birth that never splits a person whose
records agree, may merge two people (then the noise covers a changed unit), truncates each person
to k reports a year, and never leaves the process (issue #12)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import cli
from release.datasets.fioe import contact_people, normalized_surname, person_keys
from release.keys import Tokenizer
from release.stages import noise
from release.stages.tabulate import kept_axes
from release.tables import load_tables_policy
from conftest import authoritative_ledger

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
    counts = dict(zip(frame["contacts"], frame["neighbourhood"]))
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
    from release.keys import load_or_create_key
    out = tmp_path / "out"
    result = CliRunner().invoke(cli.main, ["fioe", "2020", "--input", str(tiny_export), "--out", str(out), "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.stdout + result.stderr
    raw = pd.read_csv(tiny_export / "fieldcontact_name.csv", dtype=str, keep_default_na=False)
    keys = set(person_keys(raw, Tokenizer(load_or_create_key())).dropna())
    assert keys
    written = [p for p in out.rglob("*") if p.is_file()] + [authoritative_ledger()]
    for path in written:
        data = path.read_bytes()
        assert not any(key.encode() in data for key in keys), path
