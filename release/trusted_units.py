"""Charges on the ledger under a unit the trusted policy does not declare: a way forward (issue #12,
round 22: 4u-poison).

A build with a rules copy charges whatever unit the copy declares (``person2``), on the
authoritative ledger, witnessed; approve, publish and the audit refuse that release. But the
ledger is append-only, so the charge stays, and every later audit of every release on the ledger
failed ("counts against no cap") with no way out: declaring ``person2`` would make the alias
legitimate. The way forward is the truth: those charges touched the people of a declared unit, so
an administrator declares, under that unit in ``privacy.yaml``, ``absorbs: [person2]``. They then
count against that unit's cap (the audit fails only if the cap is then passed, which is the
truth), no release may use the absorbed name (the build never accepts it: ``PrivacyPolicy.unit``),
and the releases that used it stay refused (``spend_policy``: charged to another unit than the
trusted tables policy's). The refusal names exactly this fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from release.ledger import Entry, spent_by_unit
from release.privacy_policy import POLICY_FILE, PrivacyPolicy

TOLERANCE = 1e-9
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def spent_with_absorbed(entries: Sequence[Entry], policy: PrivacyPolicy) -> dict[str, float]:
    """rho charged per declared unit, the charges on the names it absorbs included."""
    spent = spent_by_unit(list(entries))
    for unit, spec in policy.units.items():
        spent[unit] = spent.get(unit, 0.0) + sum(spent.get(name, 0.0) for name in spec.absorbs)
    return spent


def _fix(policy: PrivacyPolicy, entry: Entry) -> str:
    """What an administrator adds to let the audit count the charge against a declared unit's cap."""
    unit = entry.body.get("unit")
    dataset = str(entry.body.get("dataset"))
    name = unit if isinstance(unit, str) and _NAME.fullmatch(unit) else "<the unit of the charge>"
    owners = [u for u, s in policy.units.items() if dataset in s.datasets]
    owner = owners[0] if len(owners) == 1 else "<the unit whose people it touched>"
    return (f"the ledger is append-only: if its charge touched the people of a declared unit (a rules copy's alias), "
            f"an administrator adds 'absorbs: [{name}]' under units.{owner} in the trusted {POLICY_FILE}, and its "
            "charges then count against that unit's cap (releases that used it stay refused)")


def ledger_problems(entries: Sequence[Entry], policy: PrivacyPolicy) -> list[str]:
    """Charges on a unit the trusted ``privacy.yaml`` neither declares nor absorbs for their dataset
    (each with the fix), and each declared unit whose charges, absorbed ones included, pass its cap."""
    problems = []
    for entry in entries:
        dataset, unit = str(entry.body.get("dataset")), str(entry.body.get("unit"))
        if entry.kind != "charge":
            continue
        spec = policy.units.get(unit)
        if (spec is None or dataset not in spec.datasets) and policy.absorber(dataset, unit) is None:
            problems.append(f"ledger entry {entry.seq}: a charge on a privacy unit the trusted {POLICY_FILE} does not "
                            f"declare for its dataset counts against no cap (rule privacy_unit_name); {_fix(policy, entry)}")
    spent = spent_with_absorbed(entries, policy)
    for unit, spec in sorted(policy.units.items()):
        if spec.absorbs and spent.get(unit, 0.0) > spec.cap_rho * (1 + TOLERANCE):
            problems.append(f"privacy unit {unit}: the ledger's charges, with those on the names it absorbs, pass the "
                            f"cap of the trusted {POLICY_FILE} (rule cap_rho)")
    return problems
