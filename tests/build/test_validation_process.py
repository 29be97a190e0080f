"""The expectation suites run in their own process (release.build.validation_process): what the build
sees must be what an in-process validation gives, errors included, and a dead child must stop
the build as an environment problem, never hang it or pass it."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest
from conftest import ROOT, contact, invoke, person, write_export

from release.build.validation_process import Validator
from release.errors import ConfigError, EnvironmentProblem
from release.stages.validate import TableData, validate

RAW_SUITE = ROOT / "expectations" / "fioe_raw.json"


def _tables(tiny: Path) -> list[TableData]:
    import pandas as pd

    frames = {name: pd.read_csv(tiny / f"{file}.csv", dtype=str, keep_default_na=False)
              for name, file in (("contacts", "fieldcontact"), ("persons", "fieldcontact_name"))}
    for frame in frames.values():
        frame["_row_key"] = [str(i) for i in range(len(frame))]
    return [TableData(name, f"{name}.csv", frame, "_row_key") for name, frame in frames.items()]


def test_answers_equal_an_in_process_validation(tiny_export: Path) -> None:
    tables = _tables(tiny_export)
    here = validate(tables, RAW_SUITE, stage="validate_raw")
    validator = Validator(lambda: (tables, RAW_SUITE, "validate_raw"))
    try:
        first = validator.result()
        second = validator.validate(tables, RAW_SUITE, stage="validate_raw")  # a later request, same child
    finally:
        validator.close()
    assert first == here == second
    checks = json.loads(RAW_SUITE.read_text(encoding="utf-8"))["tables"]
    assert len(here[0]) == sum(len(t["expectations"]) for t in checks.values())  # every check ran


def test_a_suite_error_in_the_child_is_raised_here_as_itself(tiny_export: Path, tmp_path: Path) -> None:
    suite = tmp_path / "fioe_raw.json"
    document = json.loads(RAW_SUITE.read_text(encoding="utf-8"))
    document["tables"].pop("persons")
    suite.write_text(json.dumps(document), encoding="utf-8")
    validator = Validator(lambda: (_tables(tiny_export), suite, "validate_raw"))
    try:
        with pytest.raises(ConfigError) as raised:
            validator.result()
    finally:
        validator.close()
    assert raised.value.file == str(suite) and "tables.persons: missing" in raised.value.message
    assert raised.value.exit_code == 3


def test_a_dead_child_is_an_environment_problem(tiny_export: Path) -> None:
    validator = Validator(lambda: (os.kill(os.getpid(), signal.SIGKILL), RAW_SUITE, "validate_raw"))  # type: ignore[func-returns-value]
    try:
        with pytest.raises(EnvironmentProblem, match="validation process ended"):
            validator.result()
    finally:
        validator.close()


def test_a_broken_raw_suite_stops_the_build_through_the_cli(tmp_path: Path) -> None:
    """Exit 3 naming the suite file, no traceback, nothing written: as before the suites moved."""
    suites = tmp_path / "expectations"
    shutil.copytree(ROOT / "expectations", suites)
    document = json.loads((suites / "fioe_raw.json").read_text(encoding="utf-8"))
    document["tables"]["contacts"]["expectations"].append(
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "fc_num", "min_value": "x", "mostly": 7}})
    (suites / "fioe_raw.json").write_text(json.dumps(document), encoding="utf-8")
    raw = write_export(tmp_path / "raw", [contact("FC20000001")], [person("FC20000001")])
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(raw), "--out", str(tmp_path / "out"),
                                  "--expectations", str(suites))
    assert code == 3, (stdout, stderr)
    assert "fioe_raw.json" in stderr and "Traceback" not in stdout + stderr
    assert not (tmp_path / "out" / "fioe" / "2020" / "public").exists()
