"""Table declarations: the shipped FIOE file loads, and every mistake names file and key path."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from release.build.tables import load_table_specs, planned_spends
from release.config.privacy import load_privacy_policy
from release.config.tables import load_tables_policy
from release.errors import ConfigError
from release.privacy.ledger import epsilon_from_rho

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


FRAMES = {"people": {"not_public": "test frame"}}


def write_policy(tmp_path: Path, tables: list[dict[str, object]], **top: object) -> Path:
    path = tmp_path / "tables.yaml"
    top = {"frames": FRAMES, **top}
    path.write_text(yaml.safe_dump({**top, "tables": tables}, sort_keys=False), encoding="utf-8")
    return path


def test_shipped_fioe_tables_load() -> None:
    specs = load_table_specs(FIOE_TABLES)
    assert {s.source for s in specs} == {"people", "reports", "contact_people"}
    # issue #12: the report tables restate the public files (summaries); the person-level table is noisy
    assert {s.mechanism for s in specs} == {"summary", "discrete_gaussian"}
    assert [s.name for s in specs if s.is_noisy] == ["fioe_people_by_contacts_neighbourhood"]


def test_shipped_fioe_budget_per_year_fits_the_program_cap() -> None:
    policy = load_tables_policy(FIOE_TABLES)
    privacy = load_privacy_policy(ROOT / "redaction_rules")
    spends = planned_spends(policy.tables, "fioe", 2020)
    assert {s.privacy_unit for s in spends} == {"person"}
    person = privacy.unit("fioe", "person")
    assert sum(s.rho for s in spends) <= person.cap_rho / 10
    assert person.cap_rho == 1.0 and privacy.delta == 1e-9
    # the epsilon quoted in privacy.yaml, from OpenDP's conversion
    assert round(epsilon_from_rho(person.cap_rho, privacy.delta), 1) == 9.5


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
    ({"budget": {"cap_rho": 5.0}}, "budget"),          # caps live in privacy.yaml, fixed on the ledger
    ({"frames": {}}, "frames"),                          # every source frame declares its protection model
    ({"frames": {"people": {"not_public": "x", "columns": {"a": "b"}}}}, "frames.people"),
    ({"extra": 1}, "extra"),
], ids=["budget-moved-to-privacy-policy", "undeclared-frame", "not-public-with-columns", "unknown-top-key"])
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


@pytest.mark.parametrize("model", ["config.tables.TableSpec", "config.tables.DimensionSpec", "config.tables.SuppressionSpec",
                                   "config.tables.TablesPolicy", "config.tables.FrameSpec", "config.tables.LinkageSpec",
                                   "config.tables.PerYearSpec",
                                   "config.privacy.PrivacyPolicy", "config.privacy.UnitSpec",
                                   "config.privacy.RiskSpec", "config.privacy.GeneralizeStep"])
def test_every_key_is_documented(model: str) -> None:
    import importlib
    module, name = model.rsplit(".", 1)
    readme = (ROOT / "redaction_rules" / "README_tables.md").read_text(encoding="utf-8")
    for key in getattr(importlib.import_module(f"release.{module}"), name).model_fields:
        assert f"`{key}`" in readme, f"{model}.{key} is not documented"


@pytest.mark.parametrize(("tables", "frames", "message"), [
    ([{**GOOD_TABLE, "mechanism": "summary", "rho": None}], FRAMES, "a summary must be recountable"),
    ([{**GOOD_TABLE, "mechanism": "exact", "rho": None}, {**GOOD_TABLE, "name": "b", "mechanism": "exact",
                                                          "rho": None}], FRAMES, "declare one family"),
    ([{k: v for k, v in GOOD_TABLE.items() if k != "privacy_unit_name"}], FRAMES, "privacy_unit_name"),
    ([{**GOOD_TABLE, "per_year": {"column": "month", "years": 2},
       "dimensions": [{"name": "month", "kind": "month"}]}], FRAMES, "per_year"),
], ids=["summary-not-recountable", "same-source-exact-without-family", "protected-without-unit",
        "per-year-window-differs-from-month-codebook"])
def test_protection_model_mistakes(tmp_path: Path, tables: list[dict[str, object]], frames: dict[str, object],
                                   message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_tables_policy(write_policy(tmp_path, tables, frames=frames))


def test_a_recountable_summary_loads(tmp_path: Path) -> None:
    frames = {"people": {"recount_from": "persons", "columns": {"race": "race"}}}
    summary = {k: v for k, v in GOOD_TABLE.items() if k not in ("rho", "privacy_unit", "privacy_unit_name",
                                                                 "max_rows_per_unit", "max_cells_per_unit")}
    spec = load_tables_policy(write_policy(tmp_path, [{**summary, "mechanism": "summary"}], frames=frames)).tables[0]
    assert spec.rho_spent == 0.0 and not spec.is_noisy


def test_family_members_agree_on_a_month_dimension(tmp_path: Path) -> None:
    exact = {**GOOD_TABLE, "mechanism": "exact", "rho": None, "family": "fam"}
    monthly = {**exact, "name": "monthly",
               "dimensions": [*exact["dimensions"], {"name": "month", "kind": "month"}]}  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="month dimension must be in every table or in none"):
        load_tables_policy(write_policy(tmp_path, [exact, monthly]))
