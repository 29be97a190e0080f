"""The dataset registry (``release.config.datasets``) is the one list of datasets: every module it
names exists, and the parts kept elsewhere (the generators' command line, the policies, the suites,
the dataset modules) agree with it."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from release.config.datasets import BY_NAME, DATASETS, REGISTRY, SUITE_TABLES
from release.config.policy import load_policy
from release.synth.__main__ import INCIDENT_GENERATORS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("dataset", DATASETS)
def test_every_module_the_registry_names_exists(dataset: str) -> None:
    entry = BY_NAME[dataset]
    assert entry.derive is None or hasattr(importlib.import_module(entry.derive), "derive")
    assert importlib.import_module(entry.generator).__name__ == entry.generator


def test_the_generators_command_line_covers_every_dataset() -> None:
    """FIOE has its own generator command (with its generations); every other dataset is one entry."""
    assert set(INCIDENT_GENERATORS) | {"fioe"} == set(DATASETS)
    for dataset, (generate, write, *_) in INCIDENT_GENERATORS.items():
        assert generate.__module__ == write.__module__ == BY_NAME[dataset].generator


@pytest.mark.parametrize("policy", sorted(SUITE_TABLES))
def test_each_policys_suites_check_the_registrys_tables(policy: str) -> None:
    tables = set(SUITE_TABLES[policy])
    assert set(load_policy(ROOT / "redaction_rules" / f"{policy}.yaml").files) <= tables
    for side in ("raw", "public"):
        suite = json.loads((ROOT / "expectations" / f"{policy}_{side}.json").read_text(encoding="utf-8"))
        assert set(suite["tables"]) <= tables, side


def test_names_are_unique_and_every_policy_has_its_rule_file() -> None:
    assert len(DATASETS) == len(set(DATASETS)) == len(REGISTRY)
    assert sorted(SUITE_TABLES) == sorted(p for d in REGISTRY for p in d.suite_tables)
    assert all((ROOT / "redaction_rules" / f"{policy}.yaml").is_file() for policy in SUITE_TABLES)
