"""The privacy budget of one build, and the ``budget`` command's report.

Owns ``RunPrivacy``: the ledger a build charges (the one the privacy policy fixes), the caps
it holds the units to (fixed at first use, only ever lowered), and the measurer the tables
path calls for every noisy measurement: look the measurement up in the ledger's store by the
hash of its declaration and a keyed hash of its bounded counts, re-use it when found, or
draw and charge it in one transaction before any noisy value leaves the ledger. After the
bundle is written, ``bind`` appends the entry that ties the run's manifest to its
measurements. The ledger itself (SQLite, hash chain, caps) is ``release.privacy.ledger``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from release import paths
from release.build.options import BuildOptions, Resolved
from release.build.tables_noisy import Measured, MeasurementRequest, counts_mac
from release.config.privacy import POLICY_FILE, checked_ledger, load_privacy_policy
from release.config.tables import TableSpec, TablesPolicy
from release.model import Finding
from release.privacy import trusted_units
from release.privacy.ledger import Charge, Ledger, Spend, caps_in_force, epsilon_from_rho, spent_by_unit
from release.privacy.ledger_open import open_ledger
from release.stages import noise
from release.witness.counts import CountsKey

if TYPE_CHECKING:
    from release.build.tables import TablesResult


@dataclass
class RunPrivacy:
    """This run's ledger, caps and measurer (``ledger`` is None without noisy tables)."""

    dataset: str
    year: int
    run_id: str
    tables: TablesPolicy | None
    delta: float
    mac: Callable[[str], str]
    ledger: Ledger | None = None
    caps: dict[str, float] = field(default_factory=dict)
    counts: CountsKey | None = None  # the key the witness service commits to the counts under

    def commitment(self, request: MeasurementRequest) -> dict[str, str] | None:
        """What the witness's draw statement must carry for this request's counts (the service tier:
        ``release.witness.counts``); None without the counts key."""
        if self.counts is None:
            return None
        return self.counts.fields(request.spec_sha256, request.data_year, [int(v) for v in request.values])

    @property
    def specs(self) -> list[TableSpec]:
        return list(self.tables.tables) if self.tables is not None else []

    def key(self, request: MeasurementRequest) -> str:
        """The store's key: the declaration's hash and a keyed hash of the bounded counts."""
        return f"{request.spec_sha256}:{counts_mac(self.mac, request)}"

    def precheck(self, requests: Sequence[MeasurementRequest]) -> None:
        """The whole release against the caps, before any draw: a refused release draws nothing."""
        if self.ledger is not None and requests:
            self.ledger.check_new({self.key(r): (r.privacy_unit, r.rho) for r in requests},
                                  f"{self.dataset} {self.year}")

    def measure(self, request: MeasurementRequest) -> Measured:
        if self.ledger is None:
            raise RuntimeError("a noisy table was measured without a ledger")
        key = self.key(request)
        charge = Charge(unit=request.privacy_unit, dataset=request.dataset, table=request.table,
                        data_year=request.data_year, release_year=request.release_year,
                        mechanism=request.mechanism, rho=request.rho, epsilon=request.epsilon, run_id=self.run_id)
        got = self.ledger.obtain(key, charge, request.draw, request.inputs, self.commitment(request))
        return Measured(noise.from_record(got.record), got.sha256, got.charge, got.reused, got.witness_draw)

    def findings(self) -> list[Finding]:
        """A warning in the packet when nothing outside the ledger anchors it (the policy names no
        witness): the build is a draft like any other, but it cannot be approved or published; and a
        line for each thing the ledger recovered from the witness service (``release.privacy.ledger_recover``)."""
        if self.ledger is None:
            return []
        if self.ledger.witness is not None:
            return [Finding(stage="budget", code="ledger_recovered", severity="warning", rule="witness-recover",
                            file=str(self.ledger.path), message=line) for line in dict.fromkeys(self.ledger.recovered)]
        return [Finding(stage="budget", code="ledger_not_anchored", severity="warning", rule="witness",
                        file=POLICY_FILE, message=f"ledger not anchored: {POLICY_FILE} names no witness, so approve and "
                        "publish refuse this release until an administrator names one (witness:)")]

    def bind(self, manifest_sha256: str, spends: list[Spend], measurements: list[dict[str, object]]) -> None:
        """Tie the written bundle to what it spent: its manifest hash and its measurements' hashes."""
        if self.ledger is None or not spends:
            return
        self.ledger.bind_bundle(dataset=self.dataset, year=self.year, run_id=self.run_id,
                                manifest_sha256=manifest_sha256,
                                measurements=[str(m.get("measurement_sha256")) for m in measurements],
                                charges=[s.charge for s in spends if s.charge])


def open_run(options: BuildOptions, resolved: Resolved, mac: Callable[[str], str],
             counts: CountsKey | None = None) -> RunPrivacy:
    """The run's privacy: for noisy tables, the authoritative ledger with the units' caps fixed."""
    run_id = uuid.uuid4().hex
    policy = resolved.policy
    if not policy.tables_file:
        return RunPrivacy(options.dataset, options.year, run_id, None, 0.0, mac)
    tables = resolved.configuration.tables
    assert tables is not None  # resolve() parsed the policy's tables_file
    noisy = [s for s in tables.tables if s.is_noisy]
    if not noisy:
        return RunPrivacy(options.dataset, options.year, run_id, tables, 0.0, mac)
    privacy = resolved.configuration.privacy_policy(resolved.rules_dir)
    caps = {str(s.privacy_unit_name): privacy.unit(options.dataset, str(s.privacy_unit_name)).cap_rho for s in noisy}
    ledger = open_ledger(resolved.rules_dir, options.ledger, mac)
    ledger.counting = partial(trusted_units.counted, policy=privacy)  # what the units absorb counts too
    run = RunPrivacy(options.dataset, options.year, run_id, tables, privacy.delta, mac, ledger, counts=counts)
    run.caps = ledger.fix_caps(caps, privacy.delta)
    return run


def privacy_section(tables: TablesResult | None, run: RunPrivacy) -> dict[str, object]:
    """The manifest's ``privacy`` section: what each measurement cost, which were charged now,
    and the tables' noise summary (``rho_spent``: the measurements this bundle uses)."""
    if tables is None:
        return {}
    spends: list[Spend] = tables.spends
    used: dict[str, float] = {}
    charged: dict[str, float] = {}
    for spend in spends:
        used[spend.privacy_unit] = used.get(spend.privacy_unit, 0.0) + spend.rho
        if not spend.reused:
            charged[spend.privacy_unit] = charged.get(spend.privacy_unit, 0.0) + spend.rho
    return {
        "ledger": str(run.ledger.path) if run.ledger is not None else None,
        "ledger_id": run.ledger.ledger_id() if run.ledger is not None else None,
        # the chain's head after this build's charges, signed with the manifest (in its private part: round 31,
        # R1): approve, publish and the audit require it to be a point of the authoritative chain the witness holds
        "ledger_head": run.ledger.head() if run.ledger is not None else None,
        # which witness anchored the ledger: its folder, or the service's address and pinned key
        "witness": run.ledger.witness.label if run.ledger is not None and run.ledger.witness else None,
        "witness_tier": run.ledger.witness.tier if run.ledger is not None and run.ledger.witness else None,
        "run_id": run.run_id,
        "delta": run.delta,
        "rho_cap": dict(run.caps),
        "rho_spent": used,
        "rho_charged_by_this_build": charged,
        "spends": [s.__dict__ for s in spends],
        "rows_dropped": tables.rows_dropped,
        "linkage": tables.linkage,
        "tables": tables.privacy_summary,
        "measurements": tables.measurements,
    }


def ledger_path(out_dir: Path, explicit: Path | None = None, rules_dir: Path | None = None) -> Path:
    """The authoritative privacy ledger (the privacy policy's); neither ``out_dir`` nor
    the environment chooses it."""
    return checked_ledger(rules_dir or paths.default_dir("redaction_rules")[0], explicit)


def budget_report(dataset: str, out_dir: Path, ledger: Path | None = None,
                  rules_dir: Path | None = None) -> dict[str, object]:
    """Privacy spent and left per data year and privacy unit, from the ledger."""
    rules = rules_dir or paths.default_dir("redaction_rules")[0]
    path = ledger_path(out_dir, ledger, rules)
    if not path.is_file():
        return {"dataset": dataset, "ledger": str(path), "years": [], "units": [], "note": "no ledger yet"}
    entries = Ledger(path).entries()
    policy = load_privacy_policy(rules)
    delta = policy.delta
    mine = [e for e in entries if e.kind == "charge" and e.body.get("dataset") == dataset]
    published = {int(e.body.get("year", 0)) for e in entries if e.kind == "publish" and e.body.get("dataset") == dataset}
    years: dict[tuple[int, str], float] = {}
    for entry in mine:
        key = (int(entry.body.get("data_year", 0)), str(entry.body.get("unit")))
        years[key] = years.get(key, 0.0) + float(entry.body.get("rho", 0.0))
    # a unit's spend counts the stray charges it absorbs (release.privacy.trusted_units)
    caps, spent = caps_in_force(entries), {**spent_by_unit(entries), **trusted_units.counted(entries, policy)}
    units = sorted({unit for _, unit in years})
    return {
        "dataset": dataset, "ledger": str(path), "delta": delta,
        "years": [{"year": y, "privacy_unit": u, "rho": r, "epsilon": epsilon_from_rho(r, delta),
                   "statuses": ["charged", "published"] if y in published else ["charged"]}
                  for (y, u), r in sorted(years.items())],
        "units": [{"privacy_unit": u, "cap_rho": caps.get(u, 0.0), "spent_rho": spent.get(u, 0.0),
                   "spent_rho_by_this_dataset": sum(r for (_, unit), r in years.items() if unit == u),
                   "remaining_rho": caps.get(u, 0.0) - spent.get(u, 0.0),
                   "epsilon": epsilon_from_rho(spent.get(u, 0.0), delta)} for u in units],
    }
