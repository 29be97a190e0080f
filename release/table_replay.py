"""Are a release's noisy tables the post-processing of the draws its charges paid for?

The ledger binds a manifest to its measurements, and the witness signs each draw; nothing tied the
published cells to those draws. An edited table (the exact counts, or a free draft's values), its
file hash redone in the manifest and the manifest bound again, passed approve, publish, the audit
and verify (issue #12, round 23: exact-rebind, 4x-swap-rebind). Post-processing is deterministic,
so approve, publish and the audit recompute each noisy table of the trusted tables policy from the
noisy values the ledger stores for the measurements the manifest names, and require the published
cells (value, lower, upper) to be exactly those. ``release verify`` has no ledger and cannot.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from release.model import manifest_privacy


def _published(path: Path) -> list[dict[str, str]] | None:
    """The table's rows, each cell as its text ("" when empty); None when it cannot be read."""
    from release.errors import InputError
    from release.gate import read_public_csv

    try:
        frame = read_public_csv(path)
    except (OSError, InputError):
        return None
    return [{k: "" if v is None else str(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _cell(value: object) -> str:
    return "" if value is None or str(value) in ("<NA>", "nan") else str(int(value))  # type: ignore[call-overload]


def replay_problems(rules_dir: Path, manifest: Mapping[str, Any], public: Path,
                    stored: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Each published noisy table (``public/tables/<name>.csv``) the trusted policy declares, against
    its recomputation from the ledger's stored draws (``stored``: records by their sha256)."""
    from release.tables_noisy import replayed
    from release.trusted_release import trusted_for

    trusted = trusted_for(str(manifest.get("dataset")), rules_dir, manifest)
    if isinstance(trusted, str) or trusted.tables is None:
        return []  # the trusted-policy check reports why
    measurements = [m for m in manifest_privacy(manifest).get("measurements") or [] if isinstance(m, dict)]
    problems: list[str] = []
    for spec in (s for s in trusted.tables.tables if s.is_noisy):
        path = public / "tables" / f"{spec.name}.csv"
        if not path.is_file():
            continue
        mine = sorted((m for m in measurements if m.get("table") == spec.name), key=lambda m: int(m.get("data_year", 0)))
        records = [stored.get(str(m.get("measurement_sha256"))) for m in mine]
        where = f"public file tables/{spec.name}.csv"
        if not records or any(r is None or "noisy_values" not in r for r in records):
            problems.append(f"{where}: the ledger stores no draw for a measurement the manifest names for it")
            continue
        try:
            processed = replayed(spec, records, trusted.year)  # type: ignore[arg-type]
        except (ValueError, KeyError, TypeError, IndexError):
            problems.append(f"{where}: its stored draws do not fit the trusted declaration (they cannot be "
                            "assembled into the table)")
            continue
        expected = [{k: _cell(getattr(level, k)[i]) for k in ("value", "lower", "upper")}
                    for level in processed.levels for i in range(len(level.value))]
        rows = _published(path)
        if rows is None or len(rows) != len(expected):
            problems.append(f"{where}: {len(rows or [])} row(s), but its draws give {len(expected)}")
            continue
        differ = sum(1 for row, want in zip(rows, expected, strict=True)
                     if any(row.get(k, "") != v for k, v in want.items()))
        if differ:
            problems.append(f"{where}: {differ} of {len(expected)} cell(s) are not the post-processing of the draws "
                            "its charges paid for (edited after the build, or drawn elsewhere): rebuild it, rule "
                            "noisy-table")
    return problems
