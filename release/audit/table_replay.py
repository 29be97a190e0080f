"""Are a release's noisy tables the post-processing of the draws its charges paid for?

The ledger binds a manifest to its measurements, and the witness signs each draw; nothing tied the
published cells to those draws. An edited table (the exact counts, or a free draft's values), its
file hash redone in the manifest and the manifest bound again, passed approve, publish, the audit
and verify (issue #12, round 23: exact-rebind, 4x-swap-rebind). Post-processing is deterministic,
so each noisy table of the trusted tables policy is recomputed and the published cells (value,
lower, upper) must be exactly those:

- approve, publish and the audit recompute it from the noisy values the **ledger** stores for the
  measurements the manifest names (``replay_problems``);
- every reader of a published copy (``release verify``, and the trusted-policy check everywhere)
  recomputes it from the noisy values the **manifest** publishes with each measurement
  (``published_draw_problems``), once they hash to the record the measurement names, which is
  what the witness service signed. The noisy measurements are the mechanism's own output, so
  publishing them tells no more than the tables do (the Census Bureau publishes its 2020
  noisy measurement files for the same reason: anyone can check the post-processing).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.bundle.manifest_recorded import Recorded
from release.bundle.read import manifest_privacy

if TYPE_CHECKING:
    from release.audit.trusted_release import Trusted


def _published(path: Path) -> list[dict[str, str]] | None:
    """The table's rows, each cell as its text ("" when empty); None when it cannot be read."""
    from release.bundle.read import read_public_csv
    from release.errors import InputError

    try:
        frame = read_public_csv(path)
    except (OSError, InputError):
        return None
    return [{str(k): "" if v is None else str(v) for k, v in row.items()} for row in frame.to_dict("records")]


def _cell(value: object) -> str:
    return "" if value is None or str(value) in ("<NA>", "nan") else str(int(value))  # type: ignore[call-overload]


def replay_problems(rules_dir: Path, manifest: Mapping[str, Any], public: Path,
                    stored: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Each published noisy table (``public/tables/<name>.csv``) the trusted policy declares, against
    its recomputation from the ledger's stored draws (``stored``: records by their sha256)."""
    from release.audit.trusted_release import trusted_for

    trusted = trusted_for(Recorded.of(manifest).dataset_name, rules_dir, manifest)
    if isinstance(trusted, str):
        return []  # the trusted-policy check reports why
    return _replayed(trusted, manifest, public, stored, "the ledger stores")


def published_draw_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """The same from the noisy values the manifest publishes: each measurement's values must hash,
    with its record, to the ``measurement_sha256`` it names (the witness's signed draw), and each
    noisy table must be their post-processing."""
    from release.privacy.ledger_entries import record_of, record_sha256

    problems: list[str] = []
    stored: dict[str, dict[str, Any]] = {}
    for number, measurement in enumerate(_measurements(manifest), start=1):
        where = f"measurement {number} ({measurement.get('table')})"
        values = measurement.get("noisy_values")
        if not (isinstance(values, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in values)):
            problems.append(f"{where}: the manifest publishes no noisy values for it (a bundle built before they "
                            "were published: rebuild it; its stored draws are re-used, nothing is charged again), "
                            "rule noisy-table")
            continue
        record = record_of(measurement)
        if record_sha256(record) != measurement.get("measurement_sha256"):
            problems.append(f"{where}: the noisy values the manifest publishes are not the draw it names (their "
                            "record does not hash to its measurement_sha256), rule noisy-table")
            continue
        stored[str(measurement.get("measurement_sha256"))] = record
    return problems + _replayed(trusted, manifest, public, stored, "the manifest publishes")


def _measurements(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [m for m in manifest_privacy(manifest).get("measurements") or [] if isinstance(m, dict)]


def measurements_of(manifest: Mapping[str, Any], table: str) -> list[dict[str, Any]]:
    """The manifest's measurements of ``table`` in data-year order; one whose data year is not a year
    is left out (the table then does not replay, which its check reports), never a crash."""
    mine = [m for m in _measurements(manifest) if m.get("table") == table and type(m.get("data_year", 0)) is int]
    return sorted(mine, key=lambda m: int(m.get("data_year", 0)))


def _replayed(trusted: Trusted, manifest: Mapping[str, Any], public: Path,
              stored: Mapping[str, Mapping[str, Any]], source: str) -> list[str]:
    from release.build.tables_noisy import replayed

    if trusted.tables is None:
        return []  # the trusted-policy check reports a table it does not declare
    problems: list[str] = []
    for spec in (s for s in trusted.tables.tables if s.is_noisy):
        path = public / "tables" / f"{spec.name}.csv"
        if not path.is_file():
            continue
        mine = measurements_of(manifest, spec.name)
        records = [stored.get(str(m.get("measurement_sha256"))) for m in mine]
        where = f"public file tables/{spec.name}.csv"
        if not records or any(r is None or "noisy_values" not in r for r in records):
            problems.append(f"{where}: {source} no draw for a measurement the manifest names for it")
            continue
        try:
            processed = replayed(spec, records, trusted.year)  # type: ignore[arg-type]
        except (ValueError, KeyError, TypeError, IndexError):
            problems.append(f"{where}: the draws {source} do not fit the trusted declaration (they cannot be "
                            "assembled into the table)")
            continue
        if any(m.get("rounding") != processed.rounding for m in mine):  # round 33: a free string before
            problems.append(f"manifest.json privacy.measurements ({spec.name}): a rounding status its post-processing "
                            "does not give, rule noisy-table")
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
