"""What the witness service draws, and against which caps: the organisation's trusted declarations
(``release witness serve --rules DIR``), never what a writer appends to the chain (issue #12,
attack round 25: U-selfcap, U-tcp-cap, U-under-cap).

Since round 24 the service held a draw to the cap in force on the chain it holds. But any writer
appends to that chain: with the release key, a ``cap`` entry for a unit of its own naming
(``Ledger.fix_caps``); under ``--writer any``, from an account without the key, one whose MAC the
service cannot check. Either then drew rho 2 on that unit, recovery paid it, and after the audit's
``absorbs`` advice every honest build was over the cap for good. And the service drew any rho on
a declared table: one request of rho 0.9 on ``person`` (18 times the 0.05 declared) took 95% of
the lifetime cap, and nothing flagged it.

So the service reads the trusted rules folder once, when it starts (a policy change takes a
restart; its signed head carries ``declarations_sha256`` and ``release doctor`` compares it with
the rules it is given), and makes a draw only when it is, field for field, a measurement they
declare:

* its table is one the trusted tables policy declares for the dataset, in the policy of a record
  system that held the release year (``release.datasets.generations``), noisy, with that mechanism, and
  the data year is one that release measures (``per_year``);
* its unit is the table's ``privacy_unit_name``, declared for the dataset in ``privacy.yaml``;
* its rho and epsilon (the charge) and its budget (the draw) are the declaration's, exactly: the
  build computes them from the same file, and a tolerance would let a client set the low bits of
  numbers the signed statement and the published record carry (round 31, covert channel);
* its declaration hash (``spec_sha256``), its sensitivity (l1, l2 squared) and the length of its
  counts are what the trusted declaration gives for that data year
  (``trusted_statement.trusted_bounds``).

Anything else is refused, naming the field and the rule, never a value. The cap is the trusted
``privacy.yaml``'s, and what counts against it is what the service can trust: every draw it made
for the ledger (paid or not) and the charges it adopted before its anchor, counted as the audit
counts them (``trusted_units.counted``: a unit's own charges and the stray ones it absorbs). A
``cap`` entry on the chain neither creates, raises nor lowers a cap here: its MAC cannot be checked
here, so a junk one would stop every draw; a cap the organisation lowers takes a restart here, and
the ledger's own precheck holds it for every build as soon as a build fixes it on the chain.

What is left: a writer can still ask for a declared measurement on counts it invents (the service
never sees the raw export). Each such draw costs exactly the declared rho, one unpaid at a time,
within the cap, and recovery pays it as the charge of a declared measurement.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from release.config.privacy import POLICY_FILE, PrivacyPolicy, load_privacy_policy
from release.config.tables import TableSpec, TablesPolicy
from release.errors import ConfigError
from release.privacy.ledger_entries import Entry, canonical
from release.witness.store import TOLERANCE, Refused


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _same(value: object, declared: float | None) -> bool:
    """``value`` is the declared number, bit for bit (both None for an epsilon a Gaussian table has not)."""
    if declared is None:
        return value is None
    return _number(value) == declared


@dataclass(frozen=True)
class Declared:
    """The trusted declarations one service draws by: the privacy policy, the tables policy of each
    dataset or generation policy that declares tables, and their digest."""

    privacy: PrivacyPolicy
    tables: Mapping[str, TablesPolicy]  # policy name (``fioe``, ``fioe_rms``) -> its tables
    digest: str

    def _specs(self, dataset: str, release_year: int, table: object) -> list[TableSpec]:
        """The declarations of ``table`` in the policies of the record systems that held the year."""
        from release.datasets import generations

        known = generations.generations(dataset)
        names = [g.policy for g in known if g.holds(release_year)] if known else [dataset]
        return [s for n in names if n in self.tables for s in self.tables[n].tables if s.name == table]

    def refuse_undeclared(self, charge: Mapping[str, Any], inputs: Mapping[str, Any]) -> None:
        """Refused unless the draw (its charge and inputs, shapes checked) is a declared measurement."""
        year = charge["release_year"]
        if not isinstance(year, int) or isinstance(year, bool):
            raise Refused("the draw's release_year is not a year (rule generation)")
        if year > datetime.now(UTC).year:  # round 26, U-years: draws for 2022-9999 burnt the cap
            raise Refused("the draw's release_year has not begun on this witness's clock: a year is released once "
                          "it has begun, and a draw for a later one would only spend the budget (rule release_year)")
        first = self.privacy.releases_from(str(charge["dataset"]))
        if first is not None and year < first:  # round 27, U-many-declared: past years' declared draws burnt the cap
            raise Refused(f"the draw's release_year is before {first}, the first release year the trusted "
                          f"{POLICY_FILE} declares for its dataset's privacy unit (releases_from): a past year's "
                          "draw would only spend the budget (rule release_year)")
        specs = self._specs(charge["dataset"], year, charge["table"])
        if not specs:
            raise Refused("the draw's table is not one the trusted rules declare for its dataset in its release year "
                          "(rule tables): this witness draws only the organisation's declared measurements")
        problems = [self._problem(spec, charge, inputs, year) for spec in specs]
        if None not in problems:
            raise Refused(str(problems[0]))

    def _problem(self, spec: TableSpec, charge: Mapping[str, Any], inputs: Mapping[str, Any],
                 year: int) -> str | None:
        """Why the draw is not this declared table's measurement; None when it is."""
        from release.audit.trusted_statement import trusted_bounds
        from release.config.tables import data_years

        of = f"the trusted declaration of table {spec.name}"
        if not spec.is_noisy:
            return f"the draw's table: {of} publishes it {spec.mechanism}, never drawn (rule mechanism)"
        if charge["mechanism"] != spec.mechanism:
            return f"the draw's mechanism is not the {spec.mechanism} of {of} (rule mechanism)"
        data_year = charge["data_year"]
        if not isinstance(data_year, int) or isinstance(data_year, bool) or data_year not in data_years(spec, year):
            return f"the draw's data_year is not one its release measures under {of} (rule per_year)"
        unit = str(spec.privacy_unit_name)
        if charge["unit"] != unit or not self.privacy.placed(charge["dataset"], unit):
            return (f"the draw's unit is not the privacy unit {unit} that {of} charges, declared for its dataset in "
                    f"the trusted {POLICY_FILE} (rule privacy_unit_name)")
        if not (_same(charge["rho"], spec.rho_spent) and _same(charge["epsilon"], spec.epsilon)):
            return (f"the draw's charge: its rho or epsilon is not the one {of} gives (rule rho; if the organisation "
                    "changed its rules, this witness reads them at start: its administrator restarts it, and "
                    "release doctor says when it serves other declarations)")
        budget = spec.rho if spec.mechanism == "discrete_gaussian" else spec.epsilon
        if not _same(inputs.get("budget"), budget):
            return f"the draw's budget is not the one {of} gives (rule rho)"
        digest, bounds, length = trusted_bounds(charge["dataset"], spec, data_year)
        if inputs.get("spec_sha256") != digest:
            return (f"the draw's spec_sha256 is not the hash of {of} for its data year (rule spec_sha256: a field "
                    "differs, such as units_may_merge, margins, dimensions or bounds)")
        if (inputs.get("l1"), inputs.get("l2_squared")) != (bounds.l1, bounds.l2_squared):
            return (f"the draw's sensitivity (l1, l2_squared) is not the one {of} implies (rule sensitivity: "
                    "units_may_merge, margins, max_rows_per_unit, max_cells_per_unit)")
        counts = inputs.get("counts")
        if not isinstance(counts, list) or len(counts) != length:
            return f"the draw's counts are not one per cell and margin cell of {of} (rule dimensions)"
        return None

    def refuse_over_cap(self, charge: Mapping[str, Any], counted: Sequence[Mapping[str, Any]]) -> None:
        """Refused when the (declared) draw would take its unit past the trusted cap, given the charges
        the service trusts (``counted``: its own draws' and those it adopted before its anchor)."""
        from release.privacy.trusted_units import counted as counted_by_unit

        entries = []
        for body in counted:
            rho = _number(body.get("rho"))
            if rho is None or not math.isfinite(rho) or rho < 0:
                raise Refused("a charge this witness counts (adopted before its anchor) has no readable rho, so the "
                              "cap cannot be summed (rule cap_rho): release audit names the ledger entry")
            entries.append(Entry(0, "charge", dict(body), "", "", None, ""))
        unit, rho = str(charge["unit"]), float(charge["rho"])
        cap = self.privacy.units[unit].cap_rho
        spent = counted_by_unit(entries, self.privacy).get(unit, 0.0)
        if spent + rho > cap * (1 + TOLERANCE):
            raise Refused(f"the draw's charge (rho {rho:.4g}) would take privacy unit {unit} to rho {spent + rho:.4g} "
                          f"over all releases, above its cap {cap:.4g} in the trusted {POLICY_FILE} (already spent "
                          f"{spent:.4g}: the draws this witness made and the charges it adopted before its anchor, "
                          "the stray ones the unit absorbs included) (rule cap_rho)")


def load_declared(rules_dir: Path) -> Declared:
    """The trusted declarations of the rules folder ``rules_dir`` (a ConfigError, exit 3, names the
    file and key that do not load)."""
    from release.config.datasets import DATASETS
    from release.config.policy import load_policy
    from release.config.tables import load_tables_policy
    from release.datasets.generations import policy_names

    if not rules_dir.is_dir():
        raise ConfigError("the trusted rules folder is not a folder: give --rules the organisation's rules folder "
                          "(the one approve and the audit are given)", file=str(rules_dir), rule="witness-rules")
    privacy = load_privacy_policy(rules_dir)
    tables: dict[str, TablesPolicy] = {}
    for name in policy_names(DATASETS):
        path = rules_dir / f"{name}.yaml"
        if path.is_file():
            policy = load_policy(path)
            if policy.tables_file:
                tables[name] = load_tables_policy(_inside(rules_dir, policy.tables_file, path))
    return Declared(privacy, tables, _digest(privacy, tables))


def _inside(rules_dir: Path, name: str, named_by: Path) -> Path:
    """A file a policy names, refused when it lies outside the rules folder (whose ownership the service
    checked: a tables file elsewhere would declare measurements another account could change)."""
    path = rules_dir / name
    if not path.resolve().is_relative_to(rules_dir.resolve()):
        raise ConfigError("the tables file this policy names is outside the trusted rules folder: keep it in the "
                          "folder the service was given", file=str(named_by), column="tables_file",
                          rule="witness-rules")
    return path


def _digest(privacy: PrivacyPolicy, tables: Mapping[str, TablesPolicy]) -> str:
    """What a draw is held to, hashed: the units (caps, datasets, absorbs) and every tables policy."""
    held = {"units": {u: s.model_dump(mode="json") for u, s in privacy.units.items()},
            "tables": {n: t.model_dump(mode="json") for n, t in tables.items()}}
    return hashlib.sha256(canonical(held).encode("utf-8")).hexdigest()
