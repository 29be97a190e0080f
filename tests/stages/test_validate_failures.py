"""Failures around Great Expectations that must be told apart: a suite mistake (exit 3), GE itself broken
(exit 9), and a bug of ours (an internal error, never "reinstall the pinned version")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from release.errors import ConfigError, EnvironmentProblem
from release.stages import validate_engine as engine_module
from release.stages.validate import load_suites

ROOT = Path(__file__).resolve().parents[2]
RAW_SUITE = ROOT / "expectations" / "fioe_raw.json"


@pytest.mark.parametrize(("check_type", "key"), [
    ("expect_table_columns_to_match_ordered_list", "column_list"),
    ("expect_table_columns_to_match_set", "column_set"),
], ids=["ordered-list", "set"])
def test_a_column_set_check_without_its_columns_is_a_config_error(tmp_path: Path, check_type: str, key: str) -> None:
    # GE accepts it; validating a table then stopped on a TypeError (an internal error) instead
    document = json.loads(RAW_SUITE.read_text(encoding="utf-8"))
    document["tables"]["contacts"]["expectations"][0].update(type=check_type, kwargs={})
    path = tmp_path / RAW_SUITE.name
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_suites(path)
    assert f"tables.contacts.expectations[0].kwargs.{key}: field required" in str(raised.value)
    assert raised.value.file == str(path) and raised.value.exit_code == 3


def test_a_bug_of_ours_while_starting_great_expectations_is_not_an_environment_problem(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(version: str) -> None:
        raise AssertionError("a bug of ours")

    monkeypatch.setattr(engine_module, "_configuration_once_per_call", broken)
    with pytest.raises(AssertionError):
        engine_module._gx()


def test_great_expectations_failing_to_start_is_an_environment_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    from great_expectations.exceptions.exceptions import GreatExpectationsError

    def broken(version: str) -> None:
        raise GreatExpectationsError("GE cannot start")

    monkeypatch.setattr(engine_module, "_configuration_once_per_call", broken)
    with pytest.raises(EnvironmentProblem, match="great_expectations cannot be imported") as raised:
        engine_module._gx()
    assert raised.value.exit_code == 9 and raised.value.__suppress_context__
