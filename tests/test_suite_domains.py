"""The public suites' vocabulary checks are generated from the policies and stay in step."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from release.config import load_policy
from release.suite_domains import IN_SET, REGEX, main, synced, with_domain_checks

ROOT = Path(__file__).resolve().parents[1]
DATASETS = sorted(p.stem.removesuffix("_public") for p in (ROOT / "expectations").glob("*_public.json"))


@pytest.mark.parametrize("dataset", DATASETS)
def test_shipped_suite_is_in_step_with_its_policy(dataset: str) -> None:
    text, wanted = synced(ROOT / "expectations" / f"{dataset}_public.json", ROOT / "redaction_rules" / f"{dataset}.yaml")
    assert text == wanted, "run `python -m release.suite_domains` and commit the suites it rewrites"


def _checks(dataset: str, table: str) -> dict[str, dict]:
    suite = json.loads((ROOT / "expectations" / f"{dataset}_public.json").read_text(encoding="utf-8"))
    return {c["kwargs"]["column"]: c for c in suite["tables"][table]["expectations"]
            if c["type"] in (IN_SET, REGEX) and "column" in c["kwargs"]}


def test_every_published_closed_column_of_fioe_has_its_check() -> None:
    policy = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
    for table, file_policy in policy.files.items():
        checks = _checks("fioe", table)
        for column in file_policy.public_columns():
            rule = file_policy.columns[column]
            if rule.type == "keep" or getattr(rule, "pattern", None):
                assert column in checks, (table, column)
                assert checks[column]["meta"]["level"] == "critical"
    weather = policy.files["contacts"].columns["weather"]
    assert checks_value_set("contacts", "weather") == list(weather.domain)  # type: ignore[union-attr]


def checks_value_set(table: str, column: str) -> list[str]:
    return list(_checks("fioe", table)[column]["kwargs"]["value_set"])


@pytest.mark.parametrize(
    ("cell", "ok"),
    [("Body Worn Camera, Gang", True), ("Gang", True), ("Other Agency/Unit Notified", True),
     ("Gang, Zebulon Quartermaine", False), ("Gang,Drugs", False)],
    ids=["two", "one", "slash", "name", "unspaced"])
def test_list_regex_reads_published_lists_only(cell: str, ok: bool) -> None:
    regex = _checks("fioe", "contacts")["key_situations"]["kwargs"]["regex"]
    assert bool(re.match(regex, cell)) is ok


def test_hand_written_value_check_is_replaced_once_and_the_rest_kept() -> None:
    policy = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
    keep = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "weather"},
            "meta": {"level": "warning", "why": "hand-written"}}
    stale = {"type": IN_SET, "kwargs": {"column": "weather", "value_set": ["Sunny"]},
             "meta": {"level": "warning", "why": "stale"}}
    document = {"name": "fioe_public", "tables": {"contacts": {"expectations": [stale, keep, stale]}}}
    once = with_domain_checks(document, policy)
    checks = once["tables"]["contacts"]["expectations"]
    assert checks[1] == keep
    assert [c["kwargs"]["column"] for c in checks].count("weather") == 2
    assert checks[0]["kwargs"]["value_set"] != ["Sunny"]
    assert with_domain_checks(once, policy) == once


def test_check_mode_reports_a_stale_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suites = tmp_path / "expectations"
    suites.mkdir()
    text = (ROOT / "expectations" / "shots_fired_public.json").read_text(encoding="utf-8")
    (suites / "shots_fired_public.json").write_text(text.replace('"External"', '"Elsewhere"'), encoding="utf-8")
    args = ["--rules", str(ROOT / "redaction_rules"), "--expectations", str(suites)]
    assert main([*args, "--check"]) == 1
    assert main(args) == 0
    assert (suites / "shots_fired_public.json").read_text(encoding="utf-8") == text
    assert "differs" in capsys.readouterr().out
