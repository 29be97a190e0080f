"""The published ``privacy`` section's numbers and flags, each exactly what the build writes (round 33).

An outside attacker holding the release key planted a raw-only date of birth in the portal's manifest
three times over, and approve, publish, the full audit and ``verify`` passed: ``rho_cap`` was only held
below the trusted cap (about 54 free bits), ``rho_charged_by_this_build`` only to its unit's name (any
number, or none), a measurement's ``rounding`` to nothing, ``spends[].epsilon`` and ``data_year`` to
nothing, and every rho and delta to a relative tolerance of 1e-9 (about 23 free bits each in the last
digits). A spend listed three times (with ``rho_spent`` to match) told the portal that three times the
charge was spent.

The build computes each of these from the trusted rules and from the other leaves, so each is compared
for equality with what the same arithmetic gives, never within a tolerance:

- ``delta`` and each measurement's ``delta``: the trusted ``privacy.yaml``'s delta;
- ``rho_cap``: the trusted cap of each unit the release charges (the build refuses a cap above the one
  the ledger fixed, and records a lower one, so an honest build's caps are the policy's);
- the spends: one per measurement, in the same order, the same table, data year, unit, mechanism and
  ``reused`` flag, the trusted table's rho and epsilon; in a bundle, each spend's charge the
  measurement's charge;
- each measurement's dataset and release year: the manifest's, its rho the trusted table's;
- ``rho_spent`` and ``rho_charged_by_this_build``: the sums the build adds up from the spends, in their
  order (``budget_run``), over the units it names and no other.

A measurement's ``rounding`` is held by the replay of its table (``table_replay``), which recomputes the
post-processing. Messages name the leaf and the rule, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from release.audit.trusted_release import Trusted
from release.bundle.jsonl import same_json  # type-strict: 1 is not 1.0, True is not 1
from release.bundle.read import manifest_privacy

RULE = "rule privacy-leaves"
_SAME = ("table", "data_year", "privacy_unit", "mechanism", "reused")


def _listed(privacy: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    items = privacy.get(key)
    return [i if isinstance(i, Mapping) else {} for i in items] if isinstance(items, list) else []


def leaf_problems(trusted: Trusted, manifest: Mapping[str, Any]) -> list[str]:
    privacy = manifest_privacy(manifest)
    if not privacy:
        return []
    problems: list[str] = []
    where = "manifest.json privacy"
    delta = trusted.privacy.delta
    specs = {s.name: s for s in (trusted.tables.tables if trusted.tables else ())}
    # budget_run: a release whose trusted tables policy declares no noisy table states a delta of 0.0
    stated = delta if any(s.is_noisy for s in specs.values()) else 0.0
    if "delta" in privacy and not same_json(privacy.get("delta"), stated):
        problems.append(f"{where}.delta: not the trusted privacy.yaml's delta ({RULE})")
    measurements, spends = _listed(privacy, "measurements"), _listed(privacy, "spends")
    for number, measurement in enumerate(measurements, start=1):
        at = f"{where}.measurements[{number}]"
        spec = specs.get(str(measurement.get("table")))
        differ = [k for k, want in (("dataset", trusted.dataset), ("year", trusted.year),
                                    ("delta", delta), ("rho", spec.rho_spent if spec else None))
                  if k in measurement and not same_json(measurement.get(k), want)]
        problems += [f"{at}.{k}: not what the build writes for this release under the trusted rules ({RULE})"
                     for k in differ]
    if len(spends) != len(measurements):
        problems.append(f"{where}.spends: not one spend for each measurement, as the build writes them ({RULE})")
    # strict=False: a count that differs is reported above; the spends and measurements that pair up are still compared
    for number, (spend, measurement) in enumerate(zip(spends, measurements, strict=False), start=1):
        at = f"{where}.spends[{number}]"
        spec = specs.get(str(spend.get("table")))
        differ = [k for k in _SAME if not same_json(spend.get(k), measurement.get(k))]
        if spec is not None:
            differ += [k for k, want in (("rho", spec.rho_spent), ("epsilon", spec.epsilon))
                       if not same_json(spend.get(k), want)]
        if "charge" in spend and "ledger_charge" in measurement and spend.get("charge") != measurement.get("ledger_charge"):
            differ.append("charge")  # in a bundle: the private part's item fields
        problems += [f"{at}.{k}: not the measurement's, or the trusted table's, as the build writes it ({RULE})"
                     for k in sorted(set(differ))]
    used: dict[str, float] = {}
    charged: dict[str, float] = {}
    for spend in spends:  # budget_run's arithmetic, in its order
        unit, rho = str(spend.get("privacy_unit")), spend.get("rho")
        if not isinstance(rho, float):
            continue
        used[unit] = used.get(unit, 0.0) + rho
        if spend.get("reused") is False:
            charged[unit] = charged.get(unit, 0.0) + rho
    for key, want in (("rho_spent", used), ("rho_charged_by_this_build", charged)):
        if key in privacy and not same_json(privacy.get(key), want):
            problems.append(f"{where}.{key}: not the sum of the spends the build adds up ({RULE})")
    if "rho_cap" in privacy:  # budget_run: the cap of the unit of every noisy table the trusted policy declares
        units = trusted.privacy.units
        want_caps = {str(s.privacy_unit_name): units[str(s.privacy_unit_name)].cap_rho
                     for s in specs.values() if s.is_noisy and str(s.privacy_unit_name) in units}
        if not same_json(privacy.get("rho_cap"), want_caps):
            problems.append(f"{where}.rho_cap: not the trusted caps of the units the release's tables charge ({RULE})")
    return problems
