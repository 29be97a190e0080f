"""Which tables of a release spend privacy budget: read from what it publishes and from the
trusted policy, never from the manifest's own claim.

The manifest carries no MAC before approval, and whoever builds can edit it: with its
``privacy.spends`` and ``measurements`` deleted, a table drawn on a throwaway ledger once
looked like a release without noisy tables, and approve, publish, the audit and ``verify``
skipped every ledger check (issue #12, attack 3m-strip). So a table spends when

- its public CSV (``tables/<name>.csv``) holds a ``noisy`` cell, or
- the public ``privacy.json`` states a noisy mechanism for it, or
- the trusted tables policy (the rules folder's, ``--rules``) declares it noisy and its file
  is published (a status edited to ``exact`` does not hide it);

and every such table must be matched by a measurement the manifest records, which the ledger
checks (``ledger_audit.release_on_ledger``) then require to be charged on the authoritative
ledger and bound to this manifest. A protected table withheld by the linkage check is not
published (no file, no ``privacy.json`` entry): it spends nothing and needs no charge.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from release.bundle.read import manifest_privacy
from release.config.tables import NOISY, TableSpec

TABLES = "tables"
STATEMENT = "privacy.json"


def declared_noisy(dataset: str, rules_dir: Path | None, manifest: Mapping[str, object]) -> frozenset[str]:
    """The tables the trusted tables policy of the bundle's dataset (or generation) declares noisy;
    a policy that cannot be read is the caller's policy check to report (nothing declared here)."""
    return frozenset(trusted_noisy_specs(dataset, rules_dir, manifest))


def trusted_noisy_specs(dataset: str, rules_dir: Path | None,
                        manifest: Mapping[str, object]) -> dict[str, TableSpec]:
    """The noisy tables of the trusted tables policy, by name (empty when it cannot be read)."""
    from release import paths
    from release.bundle.trust import bundle_policy
    from release.config.tables import load_tables_policy
    from release.errors import ReleaseError

    policy, _ = bundle_policy(dataset, rules_dir, manifest)
    if policy is None or not policy.tables_file:
        return {}
    try:
        tables = load_tables_policy(paths.chosen_dir("redaction_rules", rules_dir)[0] / policy.tables_file)
    except ReleaseError:
        return {}
    return {s.name: s for s in tables.tables if s.is_noisy}


def _has_noisy_cell(path: Path) -> bool:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return any(row.get("status") == "noisy" for row in csv.DictReader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return False  # an unreadable file is the integrity and audit checks' to report


def _stated_noisy(folder: Path) -> set[str]:
    try:
        statement = json.loads((folder / STATEMENT).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return set()
    tables = statement.get("tables") if isinstance(statement, dict) else None
    return {str(t.get("table")) for t in tables if isinstance(t, dict) and t.get("mechanism") in NOISY} \
        if isinstance(tables, list) else set()


def noisy_tables(folder: Path, declared: Iterable[str] = ()) -> list[str]:
    """The noisy tables a public folder (a bundle's ``public/``, or a published copy) holds."""
    files = {p.stem: p for p in (folder / TABLES).glob("*.csv")} if (folder / TABLES).is_dir() else {}
    found = {name for name, path in files.items() if _has_noisy_cell(path)}
    found |= {name for name in declared if name in files}
    return sorted(found | _stated_noisy(folder))


def unpaid(tables: Iterable[str], manifest: Mapping[str, object]) -> list[str]:
    """A problem for each noisy table the manifest records no measurement of (no charge to check)."""
    privacy = manifest_privacy(manifest)
    measured = {str(m.get("table")) for m in privacy.get("measurements") or [] if isinstance(m, dict)}
    return [f"public table {name} is noisy, but the manifest records no measurement of it charged on a privacy "
            "ledger: noise drawn without a charge (or a manifest edited to record none) is never released; "
            "rebuild it against the authoritative ledger" for name in tables if name not in measured]


def spends(manifest: Mapping[str, object], tables: Iterable[str]) -> bool:
    """Whether the release must be found on the ledger: it publishes a noisy table, or claims a spend."""
    privacy = manifest_privacy(manifest)
    return bool(list(tables) or privacy.get("spends") or privacy.get("measurements"))
