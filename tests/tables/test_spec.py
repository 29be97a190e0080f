"""Table declarations: the shipped FIOE file loads, and every mistake names file and key path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from release.errors import ConfigError
from release.ledger import epsilon_from_rho
from release.tables import load_table_specs, load_tables_policy, planned_spends

ROOT = Path(__file__).resolve().parents[2]
FIOE_TABLES = ROOT / "redaction_rules" / "fioe_tables.yaml"

GOOD_TABLE: dict[str, object] = {
    "name": "people_by_race",
    "description": "the number of people by race",
    "source": "people",
    "dimensions": [{"name": "race", "categories": ["Black", "White", "Other"], "other": "Other"}],
    "privacy_unit": "unit_id",
    "privacy_unit_name": "person",
    "max_rows_per_unit": 1,
    "max_cells_per_unit": 1,
    "mechanism": "discrete_gaussian",
    "rho": 0.1,
}


def write_policy(tmp_path: Path, tables: list[dict[str, object]], **top: object) -> Path:
    path = tmp_path / "tables.yaml"
    path.write_text(yaml.safe_dump({**top, "tables": tables}, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_fioe_tables_load() -> None:
    specs = load_table_specs(FIOE_TABLES)
    assert {s.source for s in specs} == {"people", "reports"}
    assert {s.mechanism for s in specs} == {"discrete_gaussian", "exact"}


def test_shipped_fioe_budget_per_year_fits_cap() -> None:
    policy = load_tables_policy(FIOE_TABLES)
    spends = planned_spends(policy.tables, "fioe", 2020)
    per_unit: dict[str, float] = {}
    for spend in spends:
        per_unit[spend.privacy_unit] = per_unit.get(spend.privacy_unit, 0.0) + spend.rho
    assert set(per_unit) == {"person", "report"}
    assert all(rho <= 1.0 for rho in per_unit.values())
    assert policy.budget.cap_rho == 5.0 and policy.budget.delta == 1e-9
    # the epsilons quoted in the YAML comment
    assert round(epsilon_from_rho(per_unit["person"], policy.budget.delta), 1) == 8.6
    assert round(epsilon_from_rho(policy.budget.cap_rho, policy.budget.delta), 1) == 25.4


@pytest.mark.parametrize(("change", "key_path"), [
    ({"colour": "red"}, "tables[1].colour"),
    ({"mechanism": "gaussian"}, "tables[1].mechanism"),
    ({"rho": None, "epsilon": 1.0}, "tables[1]: mechanism"),
    ({"rho": -1.0}, "tables[1].rho"),
    ({"margins": [["sex"]]}, "tables[1]: margins"),
    ({"suppression": {"threshold": 5}}, "tables[1]: suppression"),
    ({"max_rows_per_cell": 2}, "tables[1]: max_rows_per_cell"),
    ({"dimensions": [{"name": "race", "categories": ["A"], "other": "B"}]}, "tables[1].dimensions[0]: other"),
    ({"dimensions": [{"name": "race", "categories": ["A", "All"], "other": "A"}]},
     "tables[1].dimensions[0]: categories"),
    ({"dimensions": [{"name": "race", "categories": ["A"], "other": "A", "mapping": {"x": "Z"}}]},
     "tables[1].dimensions[0]: mapping"),
    ({"dimensions": [{"name": "month", "kind": "month", "categories": ["2020-01"]}]},
     "tables[1].dimensions[0]: a month dimension"),
    ({"dimensions": [{"name": "value", "categories": ["A"], "other": "A"}]}, "tables[1]: dimensions"),
], ids=["unknown-key", "bad-mechanism", "gaussian-with-epsilon", "negative-rho", "margin-not-a-dimension",
        "suppression-on-noisy", "cell-bound-above-unit-bound", "other-not-in-codebook", "all-reserved",
        "mapping-target", "month-with-categories", "reserved-column-name"])
def test_mistakes_name_file_and_key_path(tmp_path: Path, change: dict[str, object], key_path: str) -> None:
    second = {**GOOD_TABLE, "name": "second", **change}
    path = write_policy(tmp_path, [GOOD_TABLE, second])
    with pytest.raises(ConfigError) as caught:
        load_tables_policy(path)
    assert caught.value.file == str(path)
    assert str(caught.value.message).startswith(key_path)
    assert f"file {path}: {key_path}" in str(caught.value)


@pytest.mark.parametrize(("top", "key_path"), [
    ({"budget": {"cap_rho": 5.0, "delta": 0.1}}, "budget.delta"),
    ({"budget": {"cap": 5.0}}, "budget.cap"),
    ({"extra": 1}, "extra"),
], ids=["delta-too-large", "unknown-budget-key", "unknown-top-key"])
def test_top_level_mistakes(tmp_path: Path, top: dict[str, object], key_path: str) -> None:
    with pytest.raises(ConfigError, match=key_path.replace(".", r"\.")):
        load_tables_policy(write_policy(tmp_path, [GOOD_TABLE], **top))


def test_family_members_must_count_the_same_rows(tmp_path: Path) -> None:
    exact = {**GOOD_TABLE, "mechanism": "exact", "rho": None, "family": "fam"}
    coarse = {**exact, "name": "coarse", "max_rows_per_unit": 2}
    with pytest.raises(ConfigError, match="family 'fam'"):
        load_tables_policy(write_policy(tmp_path, [exact, coarse]))


def test_rho_spent_converts_pure_epsilon(tmp_path: Path) -> None:
    laplace = {**GOOD_TABLE, "mechanism": "discrete_laplace", "rho": None, "epsilon": 0.5}
    spec = load_tables_policy(write_policy(tmp_path, [laplace])).tables[0]
    assert spec.rho_spent == pytest.approx(0.125)


@pytest.mark.parametrize("model", ["TableSpec", "DimensionSpec", "SuppressionSpec", "BudgetSpec", "TablesPolicy"])
def test_every_key_is_documented(model: str) -> None:
    import release.tables_spec as spec_module
    readme = (ROOT / "redaction_rules" / "README_tables.md").read_text(encoding="utf-8")
    for key in getattr(spec_module, model).model_fields:
        assert f"`{key}`" in readme or f"`budget.{key}`" in readme, f"{model}.{key} is not documented"


def test_family_members_agree_on_a_month_dimension(tmp_path: Path) -> None:
    exact = {**GOOD_TABLE, "mechanism": "exact", "rho": None, "family": "fam"}
    monthly = {**exact, "name": "monthly",
               "dimensions": [*exact["dimensions"], {"name": "month", "kind": "month"}]}  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="month dimension must be in every table or in none"):
        load_tables_policy(write_policy(tmp_path, [exact, monthly]))
