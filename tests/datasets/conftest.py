"""Fixtures for the dataset modules: tiny raw exports written in tmp_path and run through
load -> generalize -> derive exactly as the orchestrator does (no PII engine, no GE)."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from release.config.policy import DatasetPolicy, load_policy
from release.datasets import DeriveContext, Derived, deriver
from release.keys.hmac import Tokenizer
from release.model import Finding
from release.stages.generalize import generalize
from release.stages.load import load_export

ROOT = Path(__file__).resolve().parents[2]
TOKENIZER = Tokenizer(b"d" * 64)


@dataclass(frozen=True)
class Run:
    derived: Derived
    raw: dict[str, pd.DataFrame]
    public: dict[str, pd.DataFrame]      # before derive
    findings: tuple[Finding, ...]        # load + generalize + derive

    def frame(self, name: str) -> pd.DataFrame:
        """The record-level public frame after derive (derive's replacement if any)."""
        return self.derived.public.get(name, self.public[name])

    def file(self, name: str) -> pd.DataFrame:
        return next(f.frame for f in self.derived.files if f.name == name)

    def codes(self, severity: str) -> list[str]:
        return [f.code for f in self.findings if f.severity == severity]


def policy_for(dataset: str, **dataset_rules: object) -> DatasetPolicy:
    policy = load_policy(ROOT / "redaction_rules" / f"{dataset}.yaml")
    if dataset_rules:
        policy = policy.model_copy(update={"dataset_rules": {**policy.dataset_rules, **dataset_rules}})
    return policy


def write_rows(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows([{c: row.get(c, "") for c in columns} for row in rows])
    return path


RunDerive = Callable[..., Run]


@pytest.fixture()
def run_derive(tmp_path: Path) -> RunDerive:
    """``run_derive(dataset, rows, year=2020, **dataset_rules)`` on a one-file export."""
    counter = iter(range(1_000_000))

    def run(dataset: str, rows: Sequence[Mapping[str, str]], year: int = 2020,
            **dataset_rules: object) -> Run:
        policy = policy_for(dataset, **dataset_rules)
        (name, file_policy), = policy.files.items()
        folder = tmp_path / f"raw{next(counter)}"
        write_rows(folder / file_policy.raw_file, list(file_policy.columns), rows)
        loaded = load_export(folder, policy, year)
        public, found, _ = generalize(loaded.tables, policy, frozenset(), TOKENIZER)
        derive = deriver(dataset)
        assert derive is not None
        derived = derive(DeriveContext(dataset, year, policy, loaded.tables, public, TOKENIZER))
        return Run(derived, dict(loaded.tables.frames), dict(public.frames),
                   tuple(loaded.findings) + tuple(found) + tuple(derived.findings))
    return run


@pytest.fixture()
def make_policy() -> Callable[..., DatasetPolicy]:
    """``make_policy(dataset, **dataset_rules)``: the shipped policy, rules overridden."""
    return policy_for
