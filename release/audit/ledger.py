"""The ledger check of ``release audit``: is the ledger intact, does it match the bundles, does the
cap hold? Re-derived from the ledger file and the bundles, never from their own totals.

1. **Chain.** Each entry's hash recomputes from the previous hash, its kind and its body; with
   the release key, each entry's HMAC verifies (an edit that recomputes every hash still fails).
2. **Caps.** A unit's first cap fixes it; a later cap above it fails, and so does a policy that
   asks for more than the ledger fixed.
3. **Sum.** Every charge of every dataset counts against its unit's cap: Σρ ≤ cap.
4. **Witness.** With the policy's witness (``release.witness.anchor``; the service is asked for a fresh
   signed head): the ledger is the one it anchors and carries every entry it holds, hash for hash,
   and none it does not (a rolled-back, replaced or forked ledger fails, whatever its own chain
   says); with the service, each bundle's head has a receipt that verifies under the pinned key and
   comes after the ledger's anchor there, unless the ledger recorded it published before.
5. **Units.** With the trusted policy, every charge is on a unit its ``privacy.yaml`` declares
   for the charge's dataset (a unit of a rules copy counts against no cap: attack 4u-unit), or is
   a stray charge the units whose people it touched absorb, whose caps then count it, in step 3
   too (``release.privacy.trusted_units``: 4u-poison, 4u-poison-declared, 4u-poison-draw).
6. **Bundles.** For every bundle in the releases folder that used noisy measurements: the head
   its manifest recorded is a point of the chain (and witnessed); the ledger binds its run to its
   manifest hash; each measurement in its manifest replays (OpenDP
   deserializes it and maps its d_in again) within its declared budget; the stored measurement
   is the one the manifest names; and the charge that paid for it is on the chain with a
   ρ no smaller than the replayed loss; with the service, a measurement charged after the ledger's
   anchor there carries the service's signed draw statement for this ledger, this record and that
   charge (the service made the draw: attack 4x-import). (The audited bundle's spends are also held to the trusted
   policy's unit, mechanism and ρ: ``release.privacy.spend_policy``, called by the audit's ledger check.)
   A bundle's ledger head and charges are read from its private part (``manifest_parts.merged``): since
   round 31 (R1) its public ``manifest.json`` carries neither, for the analyst sets them by what they
   append to the ledger.
7. **Decisions.** With the trusted rules, every ``decision`` entry of a dataset and year whose bundle and
   decisions file are there is backed by a trusted reviewer's signed line, recorded right after the head
   it signed (``decision_ledger.unbacked``: round 31, R1, an entry of 256 free bits written with the
   release key).
"""

from __future__ import annotations

import hmac
import json
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from release.bundle import manifest_parts
from release.bundle.read import manifest_privacy
from release.config.privacy import PrivacyPolicy
from release.errors import BudgetError, ReleaseError
from release.privacy import decision_anchors as decision_ledger
from release.privacy import spend_evidence, trusted_units
from release.privacy.ledger import GENESIS, Entry, Ledger, canonical, caps_in_force, entry_hash, record_sha256, spent_by_unit
from release.privacy.ledger_entries import MANIFEST_FIELDS, loss_as_rho
from release.stages import noise
from release.witness import anchor as witnessing

TOLERANCE = 1e-9


def chain_problems(entries: list[Entry], mac: Callable[[str], str] | None) -> list[str]:
    problems: list[str] = []
    prev = GENESIS
    for entry in entries:
        if entry.prev != prev:
            problems.append(f"ledger entry {entry.seq}: does not follow the entry before it (chain broken)")
        if entry_hash(entry.prev, entry.kind, entry.raw_body) != entry.hash:
            problems.append(f"ledger entry {entry.seq}: its hash does not match its content (edited)")
        if mac is not None and not (entry.mac and hmac.compare_digest(mac(entry.hash), entry.mac)):
            problems.append(f"ledger entry {entry.seq}: its keyed MAC does not verify")
        prev = entry.hash
    return problems


def cap_problems(entries: list[Entry], policy_caps: Mapping[str, float],
                 trusted: PrivacyPolicy | None = None) -> list[str]:
    """Caps raised, above the policy's, or passed. With ``trusted`` (the trusted privacy policy), a
    declared unit's total counts the stray charges it absorbs, its cap is the lower of the ledger's
    and the policy's, and a unit it does not declare is ``trusted_units.ledger_problems``' to report
    (each of its charges, with the fix) rather than "charged without a cap"."""
    problems: list[str] = []
    fixed: dict[str, float] = {}
    for entry in entries:
        if entry.kind != "cap":
            continue
        unit, cap = str(entry.body.get("unit")), float(entry.body.get("cap_rho", math.nan))
        if unit in fixed and not cap <= fixed[unit]:
            problems.append(f"privacy unit {unit}: ledger entry {entry.seq} raises the cap to {cap:g} "
                            f"(a cap can only be lowered; it was {fixed[unit]:g})")
        fixed[unit] = min(cap, fixed.get(unit, math.inf))
    for unit, cap in sorted(policy_caps.items()):
        if unit in fixed and cap > fixed[unit] * (1 + TOLERANCE):
            problems.append(f"privacy unit {unit}: the policy's cap {cap:g} is above the cap {fixed[unit]:g} "
                            "fixed on the ledger")
    in_force = caps_in_force(entries)
    spent = spent_by_unit(entries) if trusted is None else trusted_units.counted(entries, trusted)
    for unit, total in sorted(spent.items()):
        limit = in_force.get(unit)
        if trusted is not None:  # a declared unit: never without a cap
            limit = min(limit if limit is not None else math.inf, trusted.units[unit].cap_rho)
        absorbs = trusted is not None and bool(trusted.units[unit].absorbs)
        absorbed = " (the stray charges it absorbs included)" if absorbs else ""
        if limit is None:
            problems.append(f"privacy unit {unit}: charged without a cap on the ledger")
        elif total > limit * (1 + TOLERANCE):
            problems.append(f"privacy unit {unit}: rho {total:.4g} charged over all releases{absorbed}, above the cap "
                            f"{limit:g} (rule cap_rho)")
    for entry in entries:
        rho = entry.body.get("rho")
        if entry.kind == "charge" and not (isinstance(rho, (int, float)) and math.isfinite(rho) and rho > 0):
            problems.append(f"ledger entry {entry.seq}: a charge without a positive rho")
    return problems


def _replayed_rho(record: Mapping[str, Any]) -> float:
    return loss_as_rho(record, noise.replay_privacy_loss(dict(record)))


def bundle_problems(label: str, manifest: Mapping[str, Any], manifest_sha256: str, ledger: Ledger,
                    entries: list[Entry]) -> list[str]:
    privacy = manifest_privacy(manifest)
    measurements = [m for m in privacy.get("measurements", []) or [] if isinstance(m, dict)]
    if not measurements:
        return []
    problems: list[str] = []
    if ledger.bundle(manifest_sha256, privacy.get("run_id")) is None:
        problems.append(f"{label}: the ledger does not bind this manifest to its measurements")
    charges = {e.hash: e for e in entries if e.kind == "charge"}
    stored = ledger.stored_records()
    epoch = ledger.witness.epoch(entries) if ledger.witness is not None else None
    for number, record in enumerate(measurements, start=1):
        where = f"{label}, measurement {number} ({record.get('table')})"
        try:
            replayed = _replayed_rho(record)
        except ReleaseError:
            problems.append(f"{where}: does not replay (OpenDP cannot rebuild or map it)")
            continue
        if replayed > float(record.get("rho", -1.0)) * (1 + TOLERANCE) + TOLERANCE:
            problems.append(f"{where}: replays to rho {replayed:.6g}, above the rho {record.get('rho')} it records")
        charge = charges.get(str(record.get("ledger_charge")))
        if charge is None or charge.body.get("measurement_sha256") != record.get("measurement_sha256"):
            problems.append(f"{where}: no charge on the ledger paid for it")
            continue
        if float(charge.body.get("rho", 0.0)) < replayed * (1 - TOLERANCE):
            problems.append(f"{where}: the ledger charged rho {charge.body.get('rho')}, less than it replays to")
        if epoch is not None and ledger.witness is not None and charge.seq > epoch.seq:  # 4x-import
            problems += [f"{where}, charged by ledger entry {charge.seq}: {p}" for p in ledger.witness.draw_problems(
                record.get("witness_draw"), entries[0].hash, record.get("measurement_sha256"), charge.body)]
        kept = stored.get(str(record.get("measurement_sha256")))
        if kept is None or _without_values(kept) != _without_values(record):
            problems.append(f"{where}: differs from the measurement the ledger stored")
        elif record_sha256(kept) != record.get("measurement_sha256"):
            # recomputed, never read from the store's own hash column: values swapped in the
            # store (the true counts, say) would otherwise be re-used as if they were a draw
            problems.append(f"{where}: the stored measurement's values do not hash to what was charged")
    return problems


def _without_values(record: Mapping[str, Any]) -> str:
    return canonical({k: v for k, v in record.items() if k not in MANIFEST_FIELDS})


def audit_ledger(ledger: Ledger, out_dir: Path, policy_caps: Mapping[str, float],
                 declared: Mapping[str, frozenset[str]] | None = None,
                 trusted: PrivacyPolicy | None = None,
                 rules_dir: Path | None = None) -> tuple[dict[str, object], list[str]]:
    """Every check above over ``ledger`` (its MACs with its ``mac``, its witness when the policy
    names one) and every bundle under ``out_dir`` that publishes a noisy table or claims a spend
    (``declared``: the tables the trusted policy declares noisy, by dataset). With ``trusted`` (the
    trusted privacy policy), every charge must be on a unit it declares or absorbs (``release.privacy.trusted_units``);
    with ``rules_dir`` (the trusted rules), every decision entry must be backed (step 7)."""
    from release.bundle.layout import MANIFEST, sha256_file

    entries = ledger.entries()
    problems = chain_problems(entries, ledger.mac) + cap_problems(entries, policy_caps, trusted)
    if trusted is not None:
        problems += trusted_units.ledger_problems(entries, trusted)  # each stray charge not absorbed, with the fix
    if rules_dir is not None:
        problems += decision_ledger.unbacked(entries, out_dir, rules_dir)
    witness, state = ledger.witness, "none"
    if witness is not None:  # a witness never used yet anchors nothing: its check did not run (not a pass)
        found, view = witnessing.check(witness, entries, first_use_ok=True)
        problems += found
        fresh = view is not None and view.ledger_id is None and not witness.anchored_here(witnessing.anchors(entries))
        witness, state = (None, "not anchored yet") if fresh else (witness, witness.label)
    bundles = 0
    for manifest_path in sorted(out_dir.glob(f"*/[0-9][0-9][0-9][0-9]*/{MANIFEST}")):  # YEAR and YEAR-vN
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            problems.append(f"{manifest_path.parent}: manifest unreadable")
            continue
        if not isinstance(manifest, dict):
            continue
        # with the bundle's private part: the ledger head and the charges' hashes are there (round 31, R1)
        manifest = manifest_parts.merged(manifest_path.parent, manifest)
        dataset = manifest_path.parent.parent.name
        tables = spend_evidence.noisy_tables(manifest_path.parent / "public", (declared or {}).get(dataset, ()))
        if spend_evidence.spends(manifest, tables):
            bundles += 1
            label = f"{dataset} {manifest_path.parent.name}"
            privacy, manifest_digest = manifest_privacy(manifest), sha256_file(manifest_path)
            problems += [f"{label}: {p}" for p in spend_evidence.unpaid(tables, manifest)]
            problems += [f"{label}: {p}" for p in witnessing.head_problems(
                privacy.get("ledger_head"), entries, witness, run_id=manifest_digest)]
            problems += bundle_problems(label, manifest, manifest_digest, ledger, entries)
    detail = {"ledger": str(ledger.path), "entries": len(entries), "bundles_checked": bundles,
              "keyed": "checked" if ledger.mac is not None else "not checked (no key)",
              "witness": state}
    return detail, problems


def release_on_ledger(ledger: Ledger, manifest: Mapping[str, Any], manifest_sha256: str,
                      tables: Sequence[str] = ()) -> list[str]:
    """What ``approve`` and ``publish`` require of a release with noisy tables, and the audit checks:
    the authoritative ledger (the policy's, with its witness) is the one the bundle spent from (same
    ledger id), the witness holds its chain entry for entry, the head the manifest recorded is a
    point of that chain, the chain holds, and it binds this manifest to measurements that replay
    and that its charges paid for. A bundle built on any other ledger (a throwaway
    ``$RELEASE_LEDGER``, a copy, a rules folder naming another file, a ledger rolled back since)
    drew its noise for free: it is never approved. At the witness's first use the ledger is
    anchored in it first (``Ledger.anchor``). ``tables``: the noisy tables the release publishes
    (``release.privacy.spend_evidence``), each of which needs a measurement, whatever the manifest claims."""
    privacy = manifest_privacy(manifest)
    if not spend_evidence.spends(manifest, tables):
        return []
    unpaid = spend_evidence.unpaid(tables, manifest)
    if unpaid:
        return unpaid
    if privacy.get("ledger_id") != ledger.ledger_id():
        if ledger.witness is not None and _anchored_id(ledger) == privacy.get("ledger_id"):
            return [f"the ledger at {ledger.path} is not the one its witness anchors, from which this release "
                    "spent (a deleted, replaced or fresh file, or another $HOME). " + witnessing.RESTORE]
        return [f"the release spent from another privacy ledger than the one the policy names ({ledger.path}): "
                "its ledger_id differs, so its charges are not on the authoritative ledger; rebuild it "
                "against that ledger"]
    try:
        if ledger.behind_witness():  # first use anchors; a service ahead of the ledger is adopted from
            ledger.anchor()
    except BudgetError as exc:
        return [exc.message]
    entries = ledger.entries()
    return (witnessing.problems(ledger.witness, entries)
            + witnessing.head_problems(privacy.get("ledger_head"), entries, ledger.witness)
            + chain_problems(entries, ledger.mac) + bundle_problems("this release", manifest, manifest_sha256, ledger,
                                                                    entries))


def _anchored_id(ledger: Ledger) -> str | None:
    """The ledger id the witness anchors (None when it cannot be asked: the caller refuses anyway)."""
    try:
        return ledger.witness.view().ledger_id if ledger.witness is not None else None
    except BudgetError:
        return None
