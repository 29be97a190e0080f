"""The program's privacy policy (``redaction_rules/privacy.yaml``): who is protected, how much, where
the budget is kept, and which record-level files are measured for re-identification risk.

One file for every dataset, because one person can be in several of them (a youth referred to
YouthConnect is often also in the FIO reports): a privacy unit names the datasets that can hold
the same person, and the ledger adds up what all of them spend for that unit against one cap.
The file also fixes the one authoritative ledger, so that a new ``--out`` folder (or a new
``--ledger`` path) cannot start a fresh, full budget, and its witness (``release.witness.anchor``), the
record outside the ledger that anchors its chain: a witness service another account runs, whose
address and public key the policy pins, or (the lower tier) a folder. Neither path may pass
through a symbolic link, and the witness folder's may not depend on ``$HOME`` or the environment:
a ledger path linked to a fresh file gave a fresh budget (issue #12, attack 2f-5). This module says
where the ledger and its witness are; the ledger opens them (``release.privacy.ledger_open``).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path, PurePath
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from release.config.policy import load_yaml_model
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


# a unit or dataset as a charge on the ledger names it (the witness service takes up to 300 characters)
Label = Annotated[str, Field(min_length=1, max_length=300)]


class Absorbed(_Frozen):
    """Charges on the ledger under ``unit`` for ``dataset`` that touched the absorbing unit's people
    (``release.privacy.trusted_units``): a unit no release may use, or a declared unit charged for a dataset
    it does not cover."""

    unit: Label
    dataset: Label


class UnitSpec(_Frozen):
    """One privacy unit: the people it stands for, the datasets that can hold them, one cap."""

    description: str = Field(min_length=1)
    datasets: tuple[Name, ...] = Field(min_length=1)
    cap_rho: Annotated[float, Field(gt=0, le=10)] = DEFAULT_CAP_RHO
    # the first release year drawn under this unit: a witness service draws for no earlier one, so the
    # declared measurements of past years cannot be drawn to spend the cap (round 27, U-many-declared)
    releases_from: Annotated[int, Field(ge=1900, le=9999)] | None = None
    # stray charges on the ledger (a rules copy's or a direct draw's, refused at approve) that
    # touched this unit's people: they count against this unit's cap. {unit: U, dataset: D}, or a
    # bare name U (an undeclared one), short for {unit: U, dataset: D} for each of this unit's datasets
    absorbs: tuple[Name | Absorbed, ...] = ()

    @field_validator("absorbs", mode="before")
    @classmethod
    def _entries(cls, value: object) -> object:
        for entry in value if isinstance(value, (list, tuple)) else ():
            if not isinstance(entry, str) and not (isinstance(entry, dict) and set(entry) == {"unit", "dataset"}):
                raise ValueError("each entry is an undeclared unit's name or {unit: UNIT, dataset: DATASET}, as the "
                                 "audit's refusal prints it")
        return value


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
    def _consistent(self) -> RiskSpec:
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


def parse_address(address: str) -> tuple[socket.AddressFamily, str | tuple[str, int]]:
    """(family, target) of a witness address: an absolute path is a Unix socket, else ``host:port``. One
    reading for the policy, which refuses any other form as it is read, and for the client that connects
    there (``release.witness.protocol``)."""
    if address.startswith("/"):
        return socket.AF_UNIX, address
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("a witness address is an absolute socket path or host:port")
    return socket.AF_INET, (host.strip("[]"), int(port))


class WitnessService(_Frozen):
    """The witness service (``release witness serve``) as the organisation pins it: where it
    answers and the public key its statements must verify under."""

    service: str      # an absolute Unix socket path, or host:port
    public_key: str   # ed25519:<base64>, printed by ``release witness init-key``

    @field_validator("service")
    @classmethod
    def _address(cls, value: str) -> str:
        if value.startswith("/") and (".." in PurePath(value).parts or "$" in value):
            raise ValueError("the witness service's socket is an absolute path without .. or $VARIABLES")
        parse_address(value)  # ValueError names the two forms
        return value

    @field_validator("public_key")
    @classmethod
    def _key(cls, value: str) -> str:
        from release.keys.signing import parse_public_key
        parse_public_key(value)
        return value.strip()


class PrivacyPolicy(_Frozen):
    """``privacy.yaml`` as read: the one ledger and its witness, delta, each privacy unit's cap and
    datasets, and each policy's record-risk checks (one file for every dataset: see the module)."""

    ledger: str = DEFAULT_LEDGER
    # the ledger's witness: a service ({service: ADDRESS, public_key: ...}), or the lower tier, a
    # folder (absolute, or relative to the rules folder)
    witness: WitnessService | str | None = None
    delta: Annotated[float, Field(gt=0, le=1e-5)] = 1e-9
    units: dict[Name, UnitSpec] = Field(default_factory=dict)
    record_risk: dict[Name, tuple[RiskSpec, ...]] = Field(default_factory=dict)

    @field_validator("witness")
    @classmethod
    def _fixed_place(cls, value: WitnessService | str | None) -> WitnessService | str | None:
        if not isinstance(value, str):
            return value
        if not value.strip() or value.startswith("~") or "$" in value or ".." in PurePath(value).parts:
            raise ValueError("the witness is a folder given as an absolute path or relative to the rules folder; "
                             "never ~, $VARIABLES or .. (a witness that moves with $HOME or the environment "
                             "anchors nothing)")
        return value

    @model_validator(mode="after")
    def _absorbed_once(self) -> PrivacyPolicy:
        """Each absorbs entry names a stray charge, under the unit (or one of the units) whose people it
        touched; a bare name, or a charge on a dataset no unit declares, is absorbed by one unit only."""
        seen: dict[tuple[str, ...], str] = {}
        for name, spec in self.units.items():
            for entry in spec.absorbs:
                where = f"units.{name}.absorbs"
                if isinstance(entry, str):
                    if entry in self.units:
                        raise ValueError(f"{where}: {entry} is a declared unit; a bare name is a unit no release may "
                                         f"use. A declared unit's charges for a dataset it does not cover are absorbed "
                                         f"as {{unit: {entry}, dataset: DATASET}} under the unit of that dataset")
                    key: tuple[str, ...] = (entry,)
                else:
                    if self.placed(entry.dataset, entry.unit):
                        raise ValueError(f"{where}: {entry.unit} is declared for {entry.dataset}; its charges there "
                                         "count against its own cap and are absorbed by no other unit")
                    owners = self.owners(entry.dataset)
                    if owners and name not in owners:
                        raise ValueError(f"{where}: the people of {entry.dataset} are those of unit(s) "
                                         f"{', '.join(owners)}; a charge on it is absorbed there")
                    # a dataset several units hold: each of them absorbs it; one no unit holds: one unit
                    key = (entry.unit, entry.dataset, name if owners else "")
                if key in seen:
                    raise ValueError(f"{where}: {key[0]} is absorbed by two units ({seen[key]} and {name}) or "
                                     "listed twice")
                seen[key] = name
        return self

    def owners(self, dataset: str) -> tuple[str, ...]:
        """The declared units whose people ``dataset`` holds."""
        return tuple(u for u, s in self.units.items() if dataset in s.datasets)

    def releases_from(self, dataset: str) -> int | None:
        """The first release year of ``dataset`` any of its units declares (the latest of them), or None."""
        years = [s.releases_from for s in self.units.values() if dataset in s.datasets and s.releases_from]
        return max(years) if years else None

    def placed(self, dataset: str, name: str) -> bool:
        """A charge under unit ``name`` for ``dataset`` is where this policy puts it."""
        spec = self.units.get(name)
        return spec is not None and dataset in spec.datasets

    def absorbers(self, dataset: str, name: str) -> tuple[str, ...]:
        """The declared units that absorb a stray charge under ``name`` for ``dataset``."""
        return tuple(u for u, s in self.units.items() if any(
            (e == name and dataset in s.datasets) if isinstance(e, str) else (e.unit, e.dataset) == (name, dataset)
            for e in s.absorbs))

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
        return unlinked(path if path.is_absolute() else rules_dir.absolute() / path, "the privacy ledger")

    def witness_spec(self, rules_dir: Path) -> WitnessService | Path | None:
        """The ledger's witness service, or its folder, or None when the policy names none (approve and
        publish then refuse releases with noisy tables: nothing outside the ledger anchors it)."""
        if self.witness is None or isinstance(self.witness, WitnessService):
            return self.witness
        path = Path(self.witness)
        return unlinked(path if path.is_absolute() else rules_dir.absolute() / path, "the ledger's witness")


def unlinked(path: Path, what: str) -> Path:
    """``path`` (absolute), refused when it or a folder above it is a symbolic link: a link moves
    the ledger or its witness wherever the link points, without a change to the policy."""
    path = Path(os.path.normpath(path))
    for step in (*reversed(path.parents), path):
        if step.is_symlink():
            raise ConfigError(f"{what} at {path} passes through a symbolic link ({step}); name the real "
                              f"path in {POLICY_FILE}", file=str(step), rule="ledger-path")
    return path


def load_privacy_policy(rules_dir: Path) -> PrivacyPolicy:
    path = rules_dir / POLICY_FILE
    if not path.is_file():
        raise ConfigError("no privacy policy in the rules folder: it names the privacy units, their caps "
                          "and the ledger", file=str(path), rule="privacy-policy")
    return load_yaml_model(path, PrivacyPolicy, top_level="a mapping with 'units'")


def checked_ledger(rules_dir: Path, requested: Path | None) -> Path:
    """The authoritative ledger; ``--ledger`` may only name it (it can no longer start a new budget)."""
    return authoritative_ledger(rules_dir, requested)[0]


def authoritative_ledger(rules_dir: Path, requested: Path | None = None) -> tuple[Path, WitnessService | Path | None]:
    """(the authoritative ledger, its witness: service, folder or None); ``--ledger`` may only name the ledger."""
    policy = load_privacy_policy(rules_dir)
    path = policy.ledger_path(rules_dir)
    if requested is not None and requested.expanduser().resolve() != path.resolve():
        raise ConfigError(f"the privacy ledger is fixed by {POLICY_FILE} at {path}; --ledger (or ${LEDGER_ENV}) "
                          "may only name that file", file=str(requested), rule="ledger")
    return path, policy.witness_spec(rules_dir)


NO_WITNESS = ("{policy} names no witness, so nothing outside the ledger anchors it: a ledger rolled back, "
              "replaced or copied could not be told from the authoritative one. Before a release with noisy "
              "tables can be approved or published, an administrator runs the witness service under an account "
              "of its own (release witness init-key, then release witness serve) and adds the line init-key "
              "prints, 'witness: {{service: ADDRESS, public_key: ed25519:...}}', to that file; or, a lower tier "
              "that does not stop an analyst who writes it, 'witness: /absolute/path', a folder. The next build, "
              "approval or publication anchors the ledger there")


def no_witness(rules_dir: Path) -> str:
    """The refusal of approve and publish for a policy without a witness: what an administrator does."""
    return NO_WITNESS.format(policy=rules_dir / POLICY_FILE)
