"""Does every spend a release records match the trusted policy? (issue #12, attack 4u-unit)

A rules copy can keep the organisation's ledger and witness and still charge a protected table to
a unit of its own (``person2``, cap 10) at a larger rho: the charge is on the authoritative ledger,
witnessed and bound to the manifest, yet counts against no cap the organisation set, and the
public ``privacy.json`` repeats the copy's text. So approve, publish and the audit compare, with
the trusted rules (``--rules``), every spend the release records (the manifest's ``privacy.spends``
and ``measurements``, the ledger charges these name, the public ``privacy.json``) with what the
trusted tables policy gives for that table (its unit, mechanism and rho) and what the trusted
``privacy.yaml`` declares (the unit, for this dataset, and its cap). A unit the organisation never
declared (an alias, a typo) opens a budget nobody caps: it is refused, never counted.

Messages name the table, the trusted unit and the rule; recorded values are never repeated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from release.bundle.read import manifest_privacy
from release.config.privacy import POLICY_FILE, PrivacyPolicy
from release.config.tables import NOISY, TableSpec
from release.privacy.ledger import Entry
from release.privacy.spend_evidence import STATEMENT, trusted_noisy_specs
from release.privacy.trusted_units import counted

TOLERANCE = 1e-9


def _same_rho(recorded: object, trusted: float) -> bool:
    return isinstance(recorded, (int, float)) and not isinstance(recorded, bool) \
        and math.isclose(float(recorded), trusted, rel_tol=TOLERANCE, abs_tol=1e-12)


def _declared(policy: PrivacyPolicy, dataset: str, unit: object) -> bool:
    spec = policy.units.get(str(unit))
    return spec is not None and dataset in spec.datasets


def _spend_problems(where: str, spec: TableSpec, unit: object, mechanism: object, rho: object) -> list[str]:
    """One recorded spend on a table against the trusted tables policy's declaration of it."""
    rule = f"the trusted tables policy's {spec.name}"
    problems = []
    if unit != spec.privacy_unit_name:
        problems.append(f"{where}: table {spec.name} is charged to another privacy unit than "
                        f"{spec.privacy_unit_name}, the one {rule} names (rule privacy_unit_name)")
    if mechanism != spec.mechanism:
        problems.append(f"{where}: table {spec.name} is measured by another mechanism than {spec.mechanism} "
                        f"(rule mechanism of {rule})")
    if not _same_rho(rho, spec.rho_spent):
        problems.append(f"{where}: table {spec.name} spends another rho than the {spec.rho_spent:g} of {rule} "
                        "(rule rho)")
    return problems


def _records(manifest: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    privacy = manifest_privacy(manifest)
    return [r for r in privacy.get(key) or [] if isinstance(r, dict)]


def _table_problems(where: str, table: object, specs: Mapping[str, TableSpec]) -> tuple[TableSpec | None, list[str]]:
    spec = specs.get(str(table))
    if spec is None:
        return None, [f"{where}: records a spend on table {table}, which the trusted tables policy does not declare "
                      "noisy (rule mechanism)"]
    return spec, []


def _recorded_spends(manifest: Mapping[str, Any], specs: Mapping[str, TableSpec],
                     charges: Mapping[str, Entry]) -> tuple[list[str], dict[str, float]]:
    """The manifest's spends and measurements and the charges they name; with the rho each
    trusted unit is charged by this release (per the trusted policy)."""
    problems: list[str] = []
    expected: dict[str, float] = {}
    for number, spend in enumerate(_records(manifest, "spends"), start=1):
        spec, found = _table_problems(f"privacy.spends[{number}]", spend.get("table"), specs)
        problems += found
        if spec is not None:
            problems += _spend_problems(f"privacy.spends[{number}]", spec, spend.get("privacy_unit"),
                                        spend.get("mechanism"), spend.get("rho"))
            expected[str(spec.privacy_unit_name)] = expected.get(str(spec.privacy_unit_name), 0.0) + spec.rho_spent
    for number, record in enumerate(_records(manifest, "measurements"), start=1):
        where = f"measurement {number}"
        spec, found = _table_problems(where, record.get("table"), specs)
        problems += found
        if spec is None:
            continue
        problems += _spend_problems(where, spec, record.get("privacy_unit"), record.get("mechanism"),
                                    record.get("rho"))
        charge = charges.get(str(record.get("ledger_charge")))
        if charge is not None:  # a missing charge is ledger_audit.bundle_problems' to report
            if charge.body.get("table") != spec.name:
                problems.append(f"{where}: ledger entry {charge.seq} charged another table than {spec.name}")
            problems += _spend_problems(f"{where}, ledger entry {charge.seq}", spec, charge.body.get("unit"),
                                        charge.body.get("mechanism"), charge.body.get("rho"))
    return problems, expected


def _unit_problems(where: str, policy: PrivacyPolicy, dataset: str, unit: str, *, cap: object = None,
                   rho: object = None, expected: Mapping[str, float] | None = None,
                   who: object = None) -> list[str]:
    """A unit a release states (with its cap, its rho in this release, its description) against the
    trusted ``privacy.yaml`` and the rho the trusted tables policy gives it (``expected``)."""
    if not _declared(policy, dataset, unit):
        return [f"{where}: names a privacy unit the trusted {POLICY_FILE} does not declare for {dataset} "
                "(rule privacy_unit_name)"]
    trusted = policy.units[unit]
    problems = []
    if cap is not None and not (isinstance(cap, (int, float)) and 0 < float(cap) <= trusted.cap_rho * (1 + TOLERANCE)):
        problems.append(f"{where}: privacy unit {unit} states another cap than the {trusted.cap_rho:g} of the trusted "
                        f"{POLICY_FILE} (rule cap_rho)")
    if expected is not None and not _same_rho(rho, expected.get(unit, 0.0)):
        problems.append(f"{where}: privacy unit {unit} states another rho for this release than the trusted tables "
                        "policy gives (rule rho)")
    if who is not None and who != trusted.description:
        problems.append(f"{where}: privacy unit {unit} is described otherwise than in the trusted {POLICY_FILE} "
                        "(rule description)")
    return problems


def _statement_problems(public: Path, policy: PrivacyPolicy, dataset: str, specs: Mapping[str, TableSpec],
                        expected: Mapping[str, float]) -> list[str]:
    """The public ``privacy.json``: its noisy tables and its units, as the trusted policy states them."""
    try:
        statement = json.loads((public / STATEMENT).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return []  # absent or unreadable: the integrity checks and spend_evidence report it
    if not isinstance(statement, dict):
        return []
    where = f"public {STATEMENT}"
    problems = []
    for entry in statement.get("tables") or []:
        noisy = isinstance(entry, dict) and (entry.get("mechanism") in NOISY or str(entry.get("table")) in specs)
        if not noisy:
            continue
        spec, found = _table_problems(where, entry.get("table"), specs)
        problems += found
        if spec is not None:
            problems += _spend_problems(where, spec, entry.get("privacy_unit"), entry.get("mechanism"),
                                        entry.get("rho"))
    dp = statement.get("differential_privacy")
    units = dp.get("units") if isinstance(dp, dict) else None
    for unit, stated in (units.items() if isinstance(units, dict) else ()):
        stated = stated if isinstance(stated, dict) else {}
        problems += _unit_problems(where, policy, dataset, str(unit), cap=stated.get("cap_rho_over_every_release", -1),
                                   rho=stated.get("rho_of_this_release"), expected=expected, who=stated.get("who", ""))
    return problems


def release_problems(dataset: str, rules_dir: Path, manifest: Mapping[str, Any], public: Path,
                     policy: PrivacyPolicy, entries: Sequence[Entry]) -> list[str]:
    """Every spend the release records, against the trusted tables policy and ``privacy.yaml``; and the
    trusted caps of the units it charges, over every charge on the ledger."""
    specs = trusted_noisy_specs(dataset, rules_dir, manifest)
    problems = [f"table {s.name}: the trusted tables policy charges it to privacy unit {s.privacy_unit_name}, which "
                f"the trusted {POLICY_FILE} does not declare for {dataset} (rule privacy_unit_name)"
                for s in specs.values() if not _declared(policy, dataset, s.privacy_unit_name)]
    charges = {e.hash: e for e in entries if e.kind == "charge"}
    found, expected = _recorded_spends(manifest, specs, charges)
    problems += found
    privacy = manifest_privacy(manifest)
    rho_cap, rho_spent = privacy.get("rho_cap"), privacy.get("rho_spent")
    caps = rho_cap if isinstance(rho_cap, dict) else {}
    problems += [p for unit, cap in caps.items() for p in _unit_problems("privacy.rho_cap", policy, dataset, str(unit),
                                                                        cap=cap if cap is not None else -1)]
    used = rho_spent if isinstance(rho_spent, dict) else {}
    problems += [p for unit, rho in used.items() for p in _unit_problems("privacy.rho_spent", policy, dataset,
                                                                        str(unit), rho=rho, expected=expected)]
    problems += _statement_problems(public, policy, dataset, specs, expected)
    spent = counted(entries, policy)  # 4u-poison: the stray charges a unit absorbs count too
    for unit in sorted(expected):
        if _declared(policy, dataset, unit) and spent.get(unit, 0.0) > policy.units[unit].cap_rho * (1 + TOLERANCE):
            problems.append(f"privacy unit {unit}: the ledger's charges pass the cap of the trusted {POLICY_FILE} "
                            "(rule cap_rho)")
    return problems

