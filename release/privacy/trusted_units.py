"""Stray charges on the ledger, and the one way forward for each (issue #12, round 22: 4u-poison;
round 23: 4u-poison-declared, 4u-poison-draw).

A charge is *in place* when the trusted ``privacy.yaml`` declares its unit for its dataset. Any
other charge is *stray*: a build with a rules copy charges whatever unit the copy declares
(``person2``, or ``youth``, which the organisation declares for YouthConnect only, for an FIOE
table), and a writer can ask the witness service for a draw on any unit and dataset, which
recovery then pays (``person9``). Approve, publish and the audit refuse the releases that used it,
but the ledger is append-only: the charge stays, and every later audit of every release on the
ledger fails until it counts against a cap. Declaring the stray unit would make an alias
legitimate, and the round-22 fix (``absorbs: [NAME]``) was no way out when the name is a declared
unit (privacy.yaml refused to load) or when no cap entry existed for it (a draw-only unit).

The way forward is the truth about the charge: it measured the people of its dataset, so it
counts against the cap of the declared unit whose people those are. An administrator says so in
the trusted ``privacy.yaml``, under that unit::

    absorbs: [{unit: person9, dataset: fioe}]

(a bare ``person2`` is short for ``{unit: person2, dataset: D}`` for each of the unit's datasets).
The entry goes under every unit that declares the charge's dataset (each of them protects people
it measured), or, for a dataset no unit declares, under the one unit whose people it touched,
which only the administrator knows. The audit's refusal prints exactly that entry. From then on
the charge counts against that unit's cap everywhere a cap is held: the build's precheck and its
draw (``Ledger.counting``), the audit and approve (``counted``), the budget report; the audit
fails only if the cap is then passed, which is what happened to those people. No release may use
an absorbed name (the build never accepts it: ``PrivacyPolicy.unit``), and the releases that used
it stay refused (``spend_policy``: charged to another unit than the trusted tables policy's).

**A declared unit charged for another dataset** (``youth`` for FIOE) counts against ``youth``'s
cap already, because the ledger sums a unit's charges whatever their dataset. It must *also* be
absorbed by the unit of its dataset (``person``), and both counts stand: the draw measured FIOE's
people, whom ``person``'s cap protects, so leaving it on ``youth`` alone would let ``person``'s cap
under-count a loss its people bore; and it stays on ``youth`` because a young person referred to
YouthConnect can also be in the FIO reports (the datasets can hold the same person), the ledger
cannot be rewritten, and counting a loss twice only ever errs on the safe side.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

import yaml

from release.config.privacy import POLICY_FILE, PrivacyPolicy
from release.privacy.ledger import Entry

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_SHOWN = 64  # the longest unit or dataset name an absorbs entry repeats


def counted(entries: Sequence[Entry], policy: PrivacyPolicy) -> dict[str, float]:
    """Rho counted against each declared unit of ``policy`` that any charge counts against: every
    charge under its name (whatever the dataset) and every stray charge it absorbs."""
    spent: dict[str, float] = {}
    for entry in entries:
        if entry.kind != "charge":
            continue
        unit, dataset, rho = str(entry.body.get("unit")), str(entry.body.get("dataset")), entry.body.get("rho")
        rho = float(rho) if isinstance(rho, (int, float)) and not isinstance(rho, bool) else 0.0  # else: cap_problems
        stray = not policy.placed(dataset, unit)
        for name in dict.fromkeys(((unit,) if unit in policy.units else ()) +
                                  (policy.absorbers(dataset, unit) if stray else ())):
            spent[name] = spent.get(name, 0.0) + rho
    return spent


def entry_for(entry: Entry) -> str:
    """The ``absorbs`` entry that names this charge, as YAML that loads as written: a plain name bare,
    any other name of printable characters quoted (round 24, U-yaml-unit, U-yaml-dataset: ``no``,
    ``off`` and ``null`` printed bare loaded as false and None, and privacy.yaml no longer loaded;
    U-nonplain: ``Person 9``). A name with a character that does not print (a control or a
    direction mark), or a long one, is not repeated: the administrator copies it from the ledger."""
    unit, dataset = str(entry.body.get("unit")), str(entry.body.get("dataset"))
    shown = [_yaml_name(v) or f"<its {k} exactly as ledger entry {entry.seq} records it>"
             for k, v in (("unit", unit), ("dataset", dataset))]
    return f"{{unit: {shown[0]}, dataset: {shown[1]}}}"


def _yaml_name(name: str) -> str | None:
    """``name`` as a YAML scalar that reads back as this very string, or None when it is not shown."""
    if not name or len(name) > _SHOWN or not name.isprintable():
        return None
    if _NAME.fullmatch(name) and yaml.safe_load(name) == name:
        return name
    return json.dumps(name, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def _fix(entry: Entry, units: Sequence[str]) -> str:
    """What an administrator adds so that the charge counts against the cap of the units whose people it touched."""
    where = " and of ".join(f"units.{u}" for u in units) if units else "units.<the unit whose people it touched>"
    item = entry_for(entry)
    return (f"the ledger is append-only: it measured the people of its dataset, so an administrator adds the entry "
            f"{item} to the absorbs list of {where} (absorbs: [{item}] where there is none) in the trusted "
            f"{POLICY_FILE}; it then counts against that unit's cap, and releases that used it stay refused")


def ledger_problems(entries: Sequence[Entry], policy: PrivacyPolicy) -> list[str]:
    """Each stray charge that some unit whose people it touched does not absorb, with the fix (the
    caps, absorbed charges included: ``ledger_audit.cap_problems``)."""
    problems = []
    for entry in entries:
        if entry.kind != "charge":
            continue
        dataset, unit = str(entry.body.get("dataset")), str(entry.body.get("unit"))
        if policy.placed(dataset, unit):
            continue
        owners, have = policy.owners(dataset), policy.absorbers(dataset, unit)
        missing = [u for u in owners if u not in have] if owners else ([] if have else [None])
        if missing:  # a dataset no unit declares: the policy's only unit, or the administrator's choice
            named = [u for u in missing if u] or (list(policy.units) if len(policy.units) == 1 else [])
            problems.append(f"ledger entry {entry.seq}: a charge on a privacy unit the trusted {POLICY_FILE} does not "
                            f"declare for its dataset counts against no cap of the units whose people it touched "
                            f"(rule privacy_unit_name); {_fix(entry, named)}")
    return problems
