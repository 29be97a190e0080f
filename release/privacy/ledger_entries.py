"""What the privacy ledger records (``release.privacy.ledger`` keeps it): its entries and how each is
hashed, what a measurement costs and what paid for it, and the totals read off the entries (the
cap in force per unit, the spend per unit). Pure functions of the entries, shared by the ledger,
its audit (``release.audit.ledger``) and the budget report.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from release.bundle.jsonl import canonical_json
from release.config.zcdp import rho_from_epsilon

GENESIS = "0" * 64  # the "previous hash" of a ledger's first entry (and of the witness's first mark)


canonical = canonical_json  # what the ledger hashes and chains: the one canonical form


def entry_hash(prev: str, kind: str, body: str) -> str:
    return hashlib.sha256(f"{prev}\n{kind}\n{body}".encode()).hexdigest()


def loss_as_rho(record: Mapping[str, Any], loss: float) -> float:
    """A measurement's privacy loss as zCDP rho (a pure-DP draw's epsilon as epsilon^2 / 2)."""
    return loss if record.get("output_measure") == "zero_concentrated_divergence" else rho_from_epsilon(loss)


def epsilon_from_rho(rho: float, delta: float) -> float:
    """(epsilon, delta)-DP implied by rho-zCDP, from OpenDP's ``make_zCDP_to_approxDP``
    (tighter than the textbook rho + 2 sqrt(rho ln(1/delta)), which was 5-7% looser)."""
    from release.stages.noise import epsilon_from_rho as opendp_epsilon
    return opendp_epsilon(rho, delta)


@dataclass(frozen=True)
class Entry:
    """One ledger row as read back; ``raw_body`` is the text that was hashed, so a check never depends on
    serialising ``body`` again."""

    seq: int
    kind: str
    body: dict[str, Any]
    prev: str
    hash: str
    mac: str | None
    raw_body: str


@dataclass(frozen=True)
class Spend:
    """What one noisy table's measurement costs. ``epsilon`` is the pure-DP parameter of a
    Laplace table; ``reused``: the measurement was already on the ledger (paid before)."""

    table: str
    privacy_unit: str
    mechanism: str
    rho: float
    epsilon: float | None = None
    data_year: int | None = None
    # None: not known yet (a planned spend), or left out where it is read from a published manifest,
    # whose spends carry no ``reused`` since round 33 (the build's history stays with the bundle)
    reused: bool | None = None
    charge: str | None = None  # the ledger entry that paid for it


@dataclass(frozen=True)
class Charge:
    """What one new measurement costs, on the unit it protects."""

    unit: str
    dataset: str
    table: str
    data_year: int
    release_year: int
    mechanism: str
    rho: float
    epsilon: float | None
    run_id: str


# what a charge entry's body says of the draw it pays (with its measurement_sha256); the witness
# service checks a charge against the draw it made with exactly these
CHARGE_FIELDS = (*Charge.__dataclass_fields__, "measurement_key")


@dataclass(frozen=True)
class Obtained:
    """What ``Ledger.obtain`` hands back: the measurement, its hash and the charge that paid for it (now, or
    before when ``reused``)."""

    record: dict[str, Any]   # the stored measurement (noisy values included; never published)
    sha256: str              # its hash, as the charge entry and the manifest record it
    charge: str              # the hash of the charge entry that paid for it
    reused: bool             # found in the store: nothing was drawn, nothing charged
    witness_draw: dict[str, Any] | None = None  # the witness service's signed draw statement (service tier)


def record_sha256(record: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(record).encode("utf-8")).hexdigest()


def caps_in_force(entries: list[Entry]) -> dict[str, float]:
    """The cap in force per unit: the lowest recorded (the first fixes it; later ones only lower it)."""
    caps: dict[str, float] = {}
    for entry in entries:
        if entry.kind == "cap":
            unit, cap = str(entry.body.get("unit")), float(entry.body.get("cap_rho", 0.0))
            caps[unit] = min(cap, caps.get(unit, math.inf))
    return caps



def spent_by_unit(entries: list[Entry], dataset: str | None = None) -> dict[str, float]:
    spent: dict[str, float] = {}
    for entry in entries:
        if entry.kind == "charge" and (dataset is None or entry.body.get("dataset") == dataset):
            unit = str(entry.body.get("unit"))
            spent[unit] = spent.get(unit, 0.0) + float(entry.body.get("rho", 0.0))
    return spent


# What a manifest's measurement adds to the draw's record (``measure_noisy``, ``tables.build_tables``);
# the record is the rest, with the noisy values, which the manifest publishes (``record_of``).
MANIFEST_FIELDS = ("dataset", "year", "privacy_unit", "rho", "measurement_sha256", "ledger_charge", "reused",
                   "delta", "rounding", "noisy_values", "witness_draw")


def record_of(measurement: Mapping[str, Any]) -> dict[str, Any]:
    """The draw's record as the ledger stored and hashed it (``measurement_sha256``, which the
    witness signs), from a manifest's measurement: its own fields and its published noisy values."""
    return {**{k: v for k, v in measurement.items() if k not in MANIFEST_FIELDS},
            "noisy_values": measurement.get("noisy_values")}
