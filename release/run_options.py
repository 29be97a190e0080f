"""What a build is asked to do, and where its inputs come from.

Owns ``BuildOptions`` (the request the CLI makes), the ``Progress`` protocol the CLI
renders, and ``resolve``, which turns the options into concrete folders, the dataset
policy and the bundle folder to write — raising a ConfigError or InputError (a ledger or
witness path through a symbolic link among them), or refusing to
replace a published year (ApprovalError), before any stage runs. Kept apart from the
stages so every build module can name these types without importing the orchestration.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from release import paths
from release.bundles import BuildTarget, build_target, check_dataset
from release.config import DatasetPolicy, load_policy
from release.errors import ConfigError, InputError
from release.privacy_policy import POLICY_FILE, authoritative_ledger


class Progress(Protocol):
    def stage(self, name: str, total: int | None = None) -> contextlib.AbstractContextManager[Callable[[int], None]]: ...


class Silent:
    """A Progress that shows nothing (``--json`` runs, tests, benchmarks)."""

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        yield lambda n: None


@dataclass(frozen=True)
class BuildOptions:
    dataset: str
    year: int
    input_dir: Path | None = None
    out_dir: Path = Path("releases")
    rules_dir: Path | None = None
    expectations_dir: Path | None = None
    ledger: Path | None = None
    progress: Progress = field(default_factory=Silent)
    supersede: bool = False  # build a new version of a published year, in its own folder


@dataclass(frozen=True)
class Resolved:
    input_dir: Path
    input_origin: str
    rules_dir: Path
    rules_origin: str
    expectations_dir: Path
    expectations_origin: str
    policy_path: Path
    policy: DatasetPolicy
    target: BuildTarget


def resolve(options: BuildOptions) -> Resolved:
    check_dataset(options.dataset)
    target = build_target(options.dataset, options.year, options.out_dir, options.supersede, options.ledger)
    rules_dir, rules_origin = paths.chosen_dir("redaction_rules", options.rules_dir)
    suites_dir, suites_origin = paths.chosen_dir("expectations", options.expectations_dir)
    policy_path = rules_dir / f"{options.dataset}.yaml"
    if not policy_path.is_file():
        raise ConfigError(f"no policy for dataset '{options.dataset}' in the rules folder",
                          file=str(policy_path), rule="policy")
    policy = load_policy(policy_path)
    if policy.tables_file and (rules_dir / POLICY_FILE).is_file():
        authoritative_ledger(rules_dir, options.ledger)  # a linked or moving ledger or witness stops it here
    for side in ("raw", "public"):
        suite = suites_dir / f"{options.dataset}_{side}.json"
        if not suite.is_file():
            raise ConfigError("expectation suite not found", file=str(suite), rule="expectations")
    if options.input_dir is not None:
        if not options.input_dir.is_dir():
            raise InputError("input folder not found", file=str(options.input_dir), rule="input")
        input_dir, input_origin = options.input_dir.resolve(), "option"
    else:
        input_dir = paths.sample_dir(options.dataset, options.year)
        if not input_dir.is_dir():
            raise InputError(f"no bundled sample for {options.dataset} {options.year}; pass --input",
                             file=str(input_dir), rule="input")
        input_origin = "bundled-sample"
    return Resolved(input_dir, input_origin, rules_dir, rules_origin, suites_dir, suites_origin,
                    policy_path, policy, target)
