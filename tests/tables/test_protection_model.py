"""The protection model, checked at build time (issue #12): a protected table the public files
give away is blocked before any draw; a summary is the public file's own count; every draw is
charged once and re-used on the same data; a release that would pass the cap draws nothing;
concurrent builds of one year cannot both write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import invoke

from release.build.budget import RunPrivacy
from release.build.tables import build_tables
from release.build.tables_noisy import direct_measurer
from release.config.tables import TablesPolicy
from release.errors import BudgetError, EnvironmentProblem
from release.privacy.ledger import Ledger, spent_by_unit
from release.privacy.recount import as_published
from release.stages.suppress import audit_suppression

RACES = ["Black", "White", "Other", "Unknown"]
TABLE: dict[str, Any] = {
    "name": "people_by_race", "description": "people", "source": "people",
    "dimensions": [{"name": "race", "categories": RACES, "other": "Other", "missing": "Unknown"}],
    "privacy_unit": "unit_id", "privacy_unit_name": "person", "max_rows_per_unit": 1, "max_cells_per_unit": 1,
    "mechanism": "discrete_gaussian", "rho": 0.1, "margins": [[]]}
PUBLIC = {"recount_from": "persons", "columns": {"race": "race"}}


def policy(frame: dict[str, Any], **table: Any) -> TablesPolicy:
    return TablesPolicy.model_validate({"frames": {"people": frame}, "tables": [{**TABLE, **table}]})


def people(n: int = 60, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"unit_id": [f"P{i}" for i in range(n)], "race": rng.choice(["BLACK", "white", "Purple"], n)},
                        dtype=object)


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, request: Any) -> Any:
        self.calls += 1
        return direct_measurer(request)


def test_a_protected_table_the_public_file_gives_is_blocked_before_any_draw() -> None:
    frame = people()
    measure = Counting()
    tables = policy(PUBLIC)
    result = build_tables({"people": frame}, tables.tables, dataset="fioe", year=2020, measure=measure,
                          model=tables.frames, public_files={"persons": frame.rename(columns={})})
    codes = {f.code for f in result.findings if f.severity == "blocking"}
    assert codes == {"protected_table_derivable"} and measure.calls == 0 and result.spends == []


def test_a_frame_no_public_file_gives_is_measured() -> None:
    tables = policy({"not_public": "a key that is never published"})
    measure = Counting()
    result = build_tables({"people": people()}, tables.tables, dataset="fioe", year=2020, measure=measure,
                          model=tables.frames, public_files={"persons": people()})
    assert not [f for f in result.findings if f.severity == "blocking"] and measure.calls == 1


def test_a_summary_is_the_public_file_count_and_spends_nothing() -> None:
    truth, public = people(seed=1), people(seed=2)  # the public file, not the raw frame, is what it restates
    tables = policy(PUBLIC, mechanism="summary", rho=None, privacy_unit_name=None)
    result = build_tables({"people": truth}, tables.tables, dataset="fioe", year=2020, model=tables.frames,
                          public_files={"persons": public})
    frame = result.tables["people_by_race"]
    published = dict(zip(frame["race"], frame["value"].astype(int), strict=True))
    assert published["Black"] == int((public["race"] == "BLACK").sum()) and published["All"] == len(public)
    assert result.spends == [] and result.privacy_summary[0]["protection"] == "summary"
    assert "no differential-privacy or suppression claim" in str(result.privacy_summary[0]["meaning"])


def test_the_public_microdata_are_known_equations_for_the_lp_audit() -> None:
    exact = TablesPolicy.model_validate({"frames": {"people": PUBLIC}, "tables": [{
        **TABLE, "mechanism": "exact", "rho": None}]})
    spec = exact.tables[0]
    values = np.array([30, 3, 20, 0, 53])                        # Black, White, Other, Unknown, All
    from tables.tablekit import hide
    published = as_published(spec, values, 2020, "2020", "this release")
    hidden = published.frame["value"].between(1, 10).to_numpy() | (published.frame["race"] == "Black").to_numpy()
    alone = hide(published, hidden)
    assert audit_suppression([alone]) == []                      # safe against the table alone
    micro = as_published(spec, values, 2020, "2020", "public microdata")
    findings = audit_suppression([alone, micro])                 # the record-level file recounts it
    assert {f.code for f in findings} == {"suppressed_cell_recoverable"}


def _mac(text: str) -> str:
    import hashlib
    import hmac
    return hmac.new(b"m" * 32, text.encode(), hashlib.sha256).hexdigest()


def _run(tmp_path: Path, cap: float = 1.0) -> RunPrivacy:
    ledger = Ledger(tmp_path / "ledger.sqlite", _mac)
    ledger.fix_caps({"person": cap}, 1e-9)
    return RunPrivacy("fioe", 2020, "run", None, 1e-9, _mac, ledger, {"person": cap})


def test_the_same_data_reuses_its_draw_and_changed_data_is_charged(tmp_path: Path) -> None:
    tables = policy({"not_public": "x"})
    run = _run(tmp_path)
    kwargs = dict(dataset="fioe", year=2020, measure=run.measure, precheck=run.precheck, mac=run.mac)
    first = build_tables({"people": people()}, tables.tables, **kwargs)  # type: ignore[arg-type]
    for _ in range(10):
        again = build_tables({"people": people()}, tables.tables, **kwargs)  # type: ignore[arg-type]
        assert again.tables["people_by_race"].equals(first.tables["people_by_race"]) and again.spends[0].reused
    assert spent_by_unit(run.ledger.entries()) == {"person": pytest.approx(0.1)}  # type: ignore[union-attr]
    for seed in range(2, 5):
        build_tables({"people": people(seed=seed)}, tables.tables, **kwargs)  # type: ignore[arg-type]
    assert spent_by_unit(run.ledger.entries()) == {"person": pytest.approx(0.4)}  # type: ignore[union-attr]


def test_a_release_over_the_cap_draws_nothing(tmp_path: Path) -> None:
    tables = TablesPolicy.model_validate({"frames": {"people": {"not_public": "x"}}, "tables": [
        TABLE, {**TABLE, "name": "second"}]})
    run = _run(tmp_path, cap=0.15)
    measure = Counting()
    with pytest.raises(BudgetError, match="above the cap"):
        build_tables({"people": people()}, tables.tables, dataset="fioe", year=2020, measure=measure,
                     precheck=run.precheck, mac=run.mac)
    assert measure.calls == 0 and spent_by_unit(run.ledger.entries()) == {}  # type: ignore[union-attr]


def test_concurrent_builds_of_one_year_cannot_both_write(tiny_export: Path, tmp_path: Path) -> None:
    from release.build.lock import build_lock

    out = tmp_path / "out"
    with build_lock(out, "fioe", 2020):  # another build holds the year
        code, _, stderr = invoke("fioe", "2020", "--input", str(tiny_export), "--out", str(out))
    assert code == EnvironmentProblem.exit_code and "another build of fioe 2020" in stderr
    assert not (out / "fioe" / "2020").exists()
