"""The program's privacy policy (``redaction_rules/privacy.yaml``): who is protected, how much, where
the budget is kept, and which record-level files are measured for re-identification risk.

One file for every dataset, because one person can be in several of them (a youth referred to
YouthConnect is often also in the FIO reports): a privacy unit names the datasets that can hold
the same person, and the ledger adds up what all of them spend for that unit against one cap.
The file also fixes the one authoritative ledger, so that a new ``--out`` folder (or a new
``--ledger`` path) cannot start a fresh, full budget.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from release.config import load_yaml_model
from release.errors import ConfigError

POLICY_FILE = "privacy.yaml"
LEDGER_ENV = "RELEASE_LEDGER"
DEFAULT_LEDGER = "~/.local/share/release/privacy_ledger.sqlite"
# The default lifetime cap per person, over every release of every dataset that can hold
# them. noise.md, section 4, says why a Census reviewer would accept it.
DEFAULT_CAP_RHO = 1.0
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class UnitSpec(_Frozen):
    """One privacy unit: the people it stands for, the datasets that can hold them, one cap."""

    description: str = Field(min_length=1)
    datasets: tuple[Name, ...] = Field(min_length=1)
    cap_rho: Annotated[float, Field(gt=0, le=10)] = DEFAULT_CAP_RHO


class GeneralizeStep(_Frozen):
    """One rung of the ladder a record-level file goes down while a class is under k."""

    column: str
    to: Literal["day", "month", "year", "age_band", "blank"]


class RiskSpec(_Frozen):
    """Re-identification risk of one published record-level file, at the precision published."""

    file: str                                 # the dataset policy's file name (``persons``)
    quasi_identifiers: tuple[str, ...] = Field(min_length=1)  # public columns; ``parent.column`` joins
    parent: str | None = None                 # file whose row (same key column) a row belongs to
    key: str | None = None                    # the column that joins a row to its parent
    k: Annotated[int, Field(ge=2, le=100)] = 5
    action: Literal["report", "generalize"] = "report"
    steps: tuple[GeneralizeStep, ...] = ()    # the ladder, for ``generalize``
    amber_share: Annotated[float, Field(ge=0, le=1)] = 0.05  # share of rows under k up to amber

    @model_validator(mode="after")
    def _consistent(self) -> "RiskSpec":
        joined = [q for q in self.quasi_identifiers if "." in q]
        if joined and (self.parent is None or self.key is None):
            raise ValueError("quasi_identifiers: a parent column needs parent and key")
        if self.action == "generalize":
            if not self.steps:
                raise ValueError("steps: generalize needs the ladder of steps")
            if joined:
                raise ValueError("action: generalize works on the file's own columns only; a column "
                                 "joined from the parent file would still publish the detail")
        elif self.steps:
            raise ValueError("steps: only generalize takes steps")
        return self


class PrivacyPolicy(_Frozen):
    ledger: str = DEFAULT_LEDGER
    delta: Annotated[float, Field(gt=0, le=1e-5)] = 1e-9
    units: dict[Name, UnitSpec] = Field(default_factory=dict)
    record_risk: dict[Name, tuple[RiskSpec, ...]] = Field(default_factory=dict)

    def unit(self, dataset: str, name: str) -> UnitSpec:
        """The unit a table names; an unknown name (a typo would open a new budget) is an error."""
        spec = self.units.get(name)
        if spec is None or dataset not in spec.datasets:
            known = sorted(u for u, s in self.units.items() if dataset in s.datasets)
            raise ConfigError(f"privacy unit '{name}' is not declared for dataset {dataset} in {POLICY_FILE} "
                              f"(declared: {', '.join(known) or 'none'})", file=POLICY_FILE,
                              rule="privacy_unit_name")
        return spec

    def ledger_path(self, rules_dir: Path) -> Path:
        """The one authoritative ledger: the policy's ``ledger`` (``~`` expanded, relative to the
        rules folder). Nothing in the environment moves it: ``$RELEASE_LEDGER`` pointed builds at a
        throwaway file, whose draws were free (issue #12, attack 2f); it now only fills ``--ledger``,
        which may only name this file."""
        path = Path(self.ledger).expanduser()
        return path if path.is_absolute() else (rules_dir / path).resolve()


def load_privacy_policy(rules_dir: Path) -> PrivacyPolicy:
    path = rules_dir / POLICY_FILE
    if not path.is_file():
        raise ConfigError("no privacy policy in the rules folder: it names the privacy units, their caps "
                          "and the ledger", file=str(path), rule="privacy-policy")
    return load_yaml_model(path, PrivacyPolicy, top_level="a mapping with 'units'")


def risk_specs(rules_dir: Path, dataset: str) -> tuple[RiskSpec, ...]:
    """The record-level files of ``dataset`` whose re-identification risk the policy measures."""
    if not (rules_dir / POLICY_FILE).is_file():
        return ()
    return load_privacy_policy(rules_dir).record_risk.get(dataset, ())


def checked_ledger(rules_dir: Path, requested: Path | None) -> Path:
    """The authoritative ledger; ``--ledger`` may only name it (it can no longer start a new budget)."""
    path = load_privacy_policy(rules_dir).ledger_path(rules_dir)
    if requested is not None and requested.expanduser().resolve() != path.resolve():
        raise ConfigError(f"the privacy ledger is fixed by {POLICY_FILE} at {path}; --ledger (or ${LEDGER_ENV}) "
                          "may only name that file", file=str(requested), rule="ledger")
    return path
