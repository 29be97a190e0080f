"""What a build is asked to do, and where its inputs come from.

Owns ``BuildOptions`` (the request the CLI makes, with its ``Execution``, ``release.pii.parallel``: where the
PII work runs: ``--engine``, ``--jobs``, ``--address``), the ``Progress`` protocol the CLI renders, and
``resolve``, which turns the options into concrete folders, the dataset policy (of the export's generation,
``release.datasets.generations``) and the bundle folder to write — raising a ConfigError or InputError (a
ledger or witness path through a symbolic link among them), or refusing to replace a published year
(ApprovalError), before any stage runs. Kept apart from the stages so every build module can name these
types without importing the orchestration.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from release import paths
from release.bundle.places import BuildTarget, build_target, check_dataset
from release.config.codebook_agreement import check_codebook_agreement
from release.config.policy import DatasetPolicy, load_policy
from release.config.privacy import POLICY_FILE, PrivacyPolicy, authoritative_ledger, load_privacy_policy
from release.config.suites import Suite, parse_suite
from release.config.tables import TablesPolicy, load_tables_policy
from release.datasets import generations
from release.errors import ConfigError, InputError
from release.pii.parallel import Execution


class Progress(Protocol):
    """Where the library reports its stages, since it never draws: each ``stage`` yields the callable
    that advances its bar by a number of items done (``release.terminal.progress`` renders it)."""

    def stage(self, name: str, total: int | None = None) -> contextlib.AbstractContextManager[Callable[[int], None]]: ...


class Silent:
    """A Progress that shows nothing (``--json`` runs, tests, benchmarks)."""

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        yield lambda n: None


@dataclass(frozen=True)
class BuildOptions:
    """The request of one build, as the CLI or a notebook makes it; a folder left None means the
    installed copy or the bundled sample (``resolve``), and the manifest records which was used."""

    dataset: str
    year: int
    input_dir: Path | None = None
    out_dir: Path = Path("releases")
    rules_dir: Path | None = None
    expectations_dir: Path | None = None
    ledger: Path | None = None
    progress: Progress = field(default_factory=Silent)
    supersede: bool = False  # build a new version of a published year, in its own folder
    generation: str | None = None  # the record system of the export (fioe); None: from year and headers
    execution: Execution = field(default_factory=Execution)  # where the PII work runs (never what it gives)


def _structure_only(check: object, index: int, fail: object) -> None:
    """Parse a suite's structure and kwargs here; each check is built by Great Expectations later, in the
    validation process (``release.build.validation_process``), which refuses the same way."""


@dataclass(frozen=True)
class Configuration:
    """Every rule file a build reads, parsed and checked before its first stage: a broken tables
    policy, privacy policy or suite stops the build in its first second, not after the redaction."""

    tables: TablesPolicy | None    # the dataset policy's ``tables_file``, when it names one
    privacy: PrivacyPolicy | None  # ``privacy.yaml``, when the rules folder has one
    raw_suite: Suite
    public_suite: Suite

    def privacy_policy(self, rules_dir: Path) -> PrivacyPolicy:
        """The privacy policy, or the refusal ``load_privacy_policy`` gives when there is none."""
        return self.privacy if self.privacy is not None else load_privacy_policy(rules_dir)


@dataclass(frozen=True)
class Resolved:
    """A request made concrete before any stage runs: the folders chosen and where each came from
    (recorded in the manifest), the dataset policy, the bundle folder and the checked rule files."""

    input_dir: Path
    input_origin: str
    rules_dir: Path
    rules_origin: str
    expectations_dir: Path
    expectations_origin: str
    policy_path: Path
    policy: DatasetPolicy
    target: BuildTarget
    configuration: Configuration
    generation: generations.Choice | None = None  # the export's record system, for a dataset with several

    @property
    def policy_name(self) -> str:
        """The policy's name: its rule file ``<name>.yaml``, its suites ``<name>_raw.json`` and
        ``<name>_public.json``, its record-risk checks (the dataset's name, or its generation's)."""
        return self.policy_path.stem


def resolve(options: BuildOptions) -> Resolved:
    check_dataset(options.dataset)
    split = generations.split_year(options.dataset, options.year)
    # a published year refuses before anything is read; in a split year, once the export's part is known
    rules_dir, rules_origin = paths.chosen_dir("redaction_rules", options.rules_dir)
    target = None if split else build_target(options.dataset, options.year, options.out_dir, options.supersede,
                                             options.ledger, rules_dir=rules_dir)
    suites_dir, suites_origin = paths.chosen_dir("expectations", options.expectations_dir)
    found: list[tuple[Path, str]] = []

    def input_dir() -> tuple[Path, str]:
        if not found:
            found.append(_input_dir(options))
        return found[0]

    choice = generations.choose(options.dataset, options.year, options.generation, lambda: input_dir()[0],
                                lambda name: _policy(rules_dir, name, options.dataset)[1])
    policy_path, policy = _policy(rules_dir, choice.generation.policy if choice else options.dataset, options.dataset)
    if target is None:  # the bundle of the export's own part (release.bundle.places), never the other's
        target = build_target(options.dataset, options.year, options.out_dir, options.supersede, options.ledger,
                              choice.generation.name if choice else None, rules_dir)
    if policy.tables_file and (rules_dir / POLICY_FILE).is_file():
        authoritative_ledger(rules_dir, options.ledger)  # a linked or moving ledger or witness stops it here
    configuration = _configuration(rules_dir, suites_dir, policy_path, policy)
    input_path, input_origin = input_dir()
    generations.check_headers(choice, input_path, lambda name: _policy(rules_dir, name, options.dataset)[1])
    return Resolved(input_path, input_origin, rules_dir, rules_origin, suites_dir, suites_origin,
                    policy_path, policy, target, configuration, choice)


def _configuration(rules_dir: Path, suites_dir: Path, policy_path: Path, policy: DatasetPolicy) -> Configuration:
    suites = []
    for side in ("raw", "public"):
        suite = suites_dir / f"{policy_path.stem}_{side}.json"
        if not suite.is_file():
            raise ConfigError("expectation suite not found", file=str(suite), rule="expectations")
        suites.append(parse_suite(suite, None, _structure_only))
    tables = None
    if policy.tables_file:
        tables = load_tables_policy(rules_dir / policy.tables_file)
        check_codebook_agreement(tables, policy, rules_dir / policy.tables_file)  # each codebook reachable
    privacy = load_privacy_policy(rules_dir) if (rules_dir / POLICY_FILE).is_file() else None
    return Configuration(tables, privacy, suites[0], suites[1])


def _policy(rules_dir: Path, name: str, dataset: str) -> tuple[Path, DatasetPolicy]:
    policy_path = rules_dir / f"{name}.yaml"
    if not policy_path.is_file():
        what = f"dataset '{dataset}'" if name == dataset else f"{dataset} generation policy '{name}'"
        raise ConfigError(f"no policy for {what} in the rules folder", file=str(policy_path), rule="policy")
    return policy_path, load_policy(policy_path)


def _input_dir(options: BuildOptions) -> tuple[Path, str]:
    if options.input_dir is not None:
        if not options.input_dir.is_dir():
            raise InputError("input folder not found", file=str(options.input_dir), rule="input")
        return options.input_dir.resolve(), "option"
    input_dir = paths.sample_dir(options.dataset, options.year)
    if not input_dir.is_dir():
        raise InputError(f"no bundled sample for {options.dataset} {options.year}; pass --input",
                         file=str(input_dir), rule="input")
    return input_dir, "bundled-sample"
