"""The authoritative ledger opened with its witness, as every writer and checker opens it.

``privacy.yaml`` fixes where the ledger and its witness are (``release.config.privacy`` reads and checks
that); opening them is the ledger's business, so the configuration stays below the ledger and the witness.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from release.config.privacy import WitnessService, authoritative_ledger, checked_ledger
from release.privacy.ledger import Ledger
from release.witness.client import ServiceWitness
from release.witness.folder import Witness

if TYPE_CHECKING:
    from release.witness.anchor import WitnessTier


def open_ledger(rules_dir: Path, requested: Path | None = None, mac: Callable[[str], str] | None = None) -> Ledger:
    """The authoritative ledger with its witness, as every writer opens it (created at first use)."""
    path, witness = authoritative_ledger(rules_dir, requested)
    return Ledger(path, mac, witness_for(witness))


def witness_for(spec: WitnessService | Path | None) -> WitnessTier | None:
    """The witness a policy's ``witness:`` names, as the ledger uses it."""
    if isinstance(spec, WitnessService):
        return ServiceWitness(spec.service, spec.public_key)
    return Witness(spec) if spec is not None else None


def existing_ledger(rules_dir: Path, requested: Path | None = None,
                    mac: Callable[[str], str] | None = None) -> Ledger | None:
    """The authoritative ledger with its witness, as every checker opens it; None when it is not there."""
    return open_ledger(rules_dir, requested, mac) if checked_ledger(rules_dir, requested).is_file() else None
