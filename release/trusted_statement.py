"""Each measurement, delta and the public statement of a release, against the trusted declaration
(issue #12, round 22: pol-merge, pol-margins, pol-declared, delta5).

A rules copy that keeps a protected table's unit, mechanism and rho can still change what sets
its noise: ``units_may_merge: false`` halves the L2 sensitivity squared, dropping the margins
shrinks it further, and the build calibrates sigma to the copy's figure. Under the organisation's
declaration (a key may join two people) the real loss was twice the rho charged. So, for every
measurement the manifest records:

* its ``spec_sha256`` must be the hash of the trusted declaration's block for its data year
  (``tables_noisy.spec_sha256``): any field of the declaration that differs changes it;
* the sensitivity the trusted declaration implies (its shape from the trusted dimensions and
  codebooks in that data year, its levels, ``units_may_merge`` and bounds: ``noise.sensitivity``)
  is the d_in at which the serialized OpenDP measurement is replayed, and its loss must stay
  within the trusted rho (or epsilon).

And delta is the trusted ``privacy.yaml``'s (in the manifest, each measurement and
``privacy.json``), and each table entry of ``privacy.json`` states what the trusted declaration
and delta give (``tables_text``): the whole entry of a summary, the claims of a noisy or exact
table (mechanism, unit, rho, epsilon, delta, epsilon at delta, bounds and what is conditional on
them, suppression), whatever the copy's text said. Since round 24 (P-text, the exact counts in the
text) the whole entry: a noisy table's as the build writes it from the noisy values the manifest
publishes (its meaning, interval and noise scale), an exact table's from its published cells.

Its record-level risk section (``record_level_risk``) states each check the trusted ``privacy.yaml``'s
``record_risk`` declares for the bundle's policy that applies to the published files, with the trusted
file, quasi-identifiers, k and action (round 23, k2: a copy with k 2 published "179 rows under k 2",
where the organisation's k 5 gives every row, and approve, publish, the audit and verify passed).
Its counts are not replayed: the build measures the files just before their portal form, which can
differ from the published text (a date's form, the age moved to its band column).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import ReleaseError
from release.model import manifest_privacy
from release.privacy_policy import POLICY_FILE

if TYPE_CHECKING:
    from release.stages.noise import Sensitivity
    from release.tables_spec import TableSpec
    from release.trusted_release import Trusted

TOLERANCE = 1e-9


def _close(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
        return a == b
    return math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=1e-12)


def trusted_bounds(dataset: str, spec: TableSpec, data_year: int) -> tuple[str, Sensitivity, int]:
    """(the block's spec hash, the sensitivity its noise must be calibrated to, the length of its
    measured vector: one count per cell and per margin cell) under the trusted declaration."""
    from release.stages import noise
    from release.stages.tabulate import kept_axes
    from release.tables_noisy import measured_block, spec_sha256

    block = measured_block(spec)
    shape = tuple(len(d.codebook(data_year)) for d in block.dimensions)
    names = tuple(d.name for d in block.dimensions)
    levels = [kept_axes(names, level) for level in block.levels()]
    bounds = noise.sensitivity(shape, levels, max_rows_per_unit=spec.max_rows_per_unit,
                               max_cells_per_unit=spec.max_cells_per_unit, max_rows_per_cell=spec.rows_per_cell,
                               units_may_merge=spec.units_may_merge)
    length = sum(math.prod(shape[i] for i in axes) for axes in levels)
    return spec_sha256(dataset, block, data_year), bounds, length


def trusted_d_in(dataset: str, spec: TableSpec, data_year: int) -> tuple[str, float]:
    """(the block's spec hash, the d_in its noise must be calibrated to) under the trusted declaration."""
    digest, bounds, _ = trusted_bounds(dataset, spec, data_year)
    return digest, bounds.l2 if spec.mechanism == "discrete_gaussian" else float(bounds.l1)


def _replayed(record: Mapping[str, Any], spec: TableSpec, d_in: float) -> float:
    from release.stages import noise

    return noise.replay_privacy_loss({**record, "d_in": d_in if spec.mechanism == "discrete_gaussian" else int(d_in)})


def measurement_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """Each recorded measurement of a table the trusted policy declares noisy: drawn for the trusted
    declaration, and within its budget at the sensitivity that declaration implies; and each such
    table published measured in every data year it covers."""
    from release.tables_noisy import data_years

    problems: list[str] = []
    measurements = [m for m in manifest_privacy(manifest).get("measurements") or [] if isinstance(m, dict)]
    for path in sorted((public / "tables").glob("*.csv")):
        spec = trusted.spec(path.stem)
        years = {m.get("data_year") for m in measurements if m.get("table") == path.stem}
        if spec is not None and spec.is_noisy and years and not set(data_years(spec, trusted.year)) <= years:
            problems.append(f"public table {spec.name}: not measured in every data year the trusted declaration "
                            "covers (rule per_year)")
    for number, record in enumerate(measurements):
        spec = trusted.spec(record.get("table"))
        if spec is None or not spec.is_noisy:
            continue  # an undeclared or unpaid table: spend_policy and spend_evidence report it
        where = f"measurement {number + 1} (table {spec.name})"
        data_year = record.get("data_year")
        if not isinstance(data_year, int) or data_year not in data_years(spec, trusted.year):
            problems.append(f"{where}: measures a data year the trusted declaration does not cover (rule per_year)")
            continue
        digest, d_in = trusted_d_in(trusted.dataset, spec, data_year)
        if record.get("spec_sha256") != digest:
            problems.append(f"{where}: was drawn for another declaration than {spec.name} of {trusted.where} (rule "
                            "spec_sha256: a field differs, such as units_may_merge, margins, dimensions or bounds)")
        budget = float(spec.rho if spec.mechanism == "discrete_gaussian" else spec.epsilon)  # type: ignore[arg-type]
        try:
            loss = _replayed(record, spec, d_in)
        except ReleaseError:
            problems.append(f"{where}: does not replay at the sensitivity of {trusted.where} (rule mechanism)")
            continue
        if loss > budget * (1 + TOLERANCE) + TOLERANCE:
            problems.append(f"{where}: at the sensitivity {trusted.where} declares (d_in {d_in:.6g}) its noise costs "
                            f"{loss:.6g}, above the {budget:g} declared: it was calibrated to a smaller sensitivity or a larger "
                            "budget (rule units_may_merge, margins, max_rows_per_unit, max_cells_per_unit, rho)")
        if "delta" in record and not _close(record.get("delta"), trusted.privacy.delta):
            problems.append(f"{where}: states another delta than the trusted privacy.yaml's (rule delta)")
    return problems


def _claim(trusted: Trusted, spec: TableSpec, public: Path, manifest: Mapping[str, Any]) -> dict[str, object] | None:
    """What the build states for a table under the trusted declaration: the whole entry of a
    summary; of a noisy table, the entry its published draws give (``_noisy_entry``: its text
    included, round 24 P-text), else the claims its declaration alone decides; of an exact table,
    the entry its published cells give (None when its published file cannot be read)."""
    from release import tables_text
    from release.gate import read_public_csv

    if spec.mechanism == "summary":
        return tables_text.summary_summary(spec, trusted.tables.frames if trusted.tables else None)
    if spec.is_noisy:
        return _noisy_entry(trusted, spec, manifest) or tables_text.noisy_claim(spec, trusted.privacy.delta)
    try:
        frame = read_public_csv(public / "tables" / f"{spec.name}.csv")
    except (ReleaseError, OSError):
        return None
    return tables_text.exact_summary(spec, frame)


STATED = ("table", "protection", "mechanism", "privacy_unit", "rho", "epsilon", "delta", "epsilon_at_delta",
          "noise_scale", "bounds", "post_processing", "summary_of", "cells_suppressed", "suppression", "meaning",
          "interval", "privacy")  # the keys of an entry privacy_statement writes (with "exact")


def _noisy_entry(trusted: Trusted, spec: TableSpec, manifest: Mapping[str, Any]) -> dict[str, object] | None:
    """A noisy table's entry as the build writes it, from the noisy values the manifest publishes
    for its measurements (None when they cannot be assembled: ``table_replay`` reports that)."""
    import numpy as np
    import pandas as pd

    from release import tables_text
    from release.table_replay import measurements_of
    from release.tables_noisy import NoisyTable, data_years, measured_block, post_processed

    mine = measurements_of(manifest, spec.name)
    try:
        block = measured_block(spec)
        shapes = [tuple(len(d.codebook(y)) for d in block.dimensions) for y in data_years(spec, trusted.year)]
        processed, scale = post_processed(spec, [np.asarray(m["noisy_values"], dtype=np.int64) for m in mine],
                                          shapes, float(mine[-1]["scale"]))
    except (ValueError, KeyError, TypeError, IndexError):
        return None
    frame = pd.DataFrame({k: np.concatenate([getattr(level, k) for level in processed.levels])
                          for k in ("lower", "upper")})
    entry = tables_text.noisy_summary(spec, NoisyTable(processed, scale, list(mine)), frame, trusted.privacy.delta)
    return {k: v for k, v in entry.items() if k in STATED}


def _units_problems(trusted: Trusted, dp: Mapping[str, Any]) -> list[str]:
    """delta and what follows from it, and the datasets of each unit, as the trusted privacy.yaml says
    (the unit's description, cap and rho: ``spend_policy``)."""
    from release.ledger import epsilon_from_rho
    from release.trusted_release import STATEMENT

    where = f"public {STATEMENT}"
    problems = [] if _close(dp.get("delta"), trusted.privacy.delta) else \
        [f"{where}: states another delta than the trusted privacy.yaml's (rule delta)"]
    units = dp.get("units")
    for unit, stated in sorted(units.items() if isinstance(units, dict) else ()):
        spec = trusted.privacy.units.get(str(unit))
        if spec is None or not isinstance(stated, dict):
            continue  # an undeclared unit: spend_policy reports it
        cap = stated.get("cap_rho_over_every_release")
        if stated.get("datasets_that_can_hold_the_same_person") != list(spec.datasets) or (
                isinstance(cap, (int, float)) and cap > 0
                and not _close(stated.get("cap_epsilon_at_delta"), epsilon_from_rho(float(cap), trusted.privacy.delta))):
            problems.append(f"{where}: privacy unit {unit} is stated otherwise than the trusted privacy.yaml gives "
                            "(rule datasets, delta)")
    return problems


# what the trusted record_risk fixes of each check a privacy.json states
_RISK_FIXED = ("file", "quasi_identifiers", "k", "action")


def risk_problems(trusted: Trusted, statement: Mapping[str, Any], public: Path) -> list[str]:
    """``record_level_risk`` of privacy.json (``statement``): the trusted ``record_risk`` checks that
    apply to the files published under ``public``, each with the trusted file, quasi-identifiers, k and action."""
    from release import record_risk
    from release.trusted_release import STATEMENT, published_file

    specs = trusted.privacy.record_risk.get(trusted.policy_name, ())
    names = sorted({n for s in specs for n in (s.file, s.parent) if n})
    frames = {n: found[1] for n in names if (found := published_file(trusted, public, n)) is not None}
    expected = [r.to_dict() for s in specs if (r := record_risk.measure(frames, s)) is not None]  # those that apply
    stated = statement.get("record_level_risk")
    stated = stated if isinstance(stated, list) else []
    where = f"public {STATEMENT} record_level_risk"
    if len(stated) != len(expected):
        return [(f"{where}: states {len(stated)} check(s) where the trusted {POLICY_FILE}'s record_risk for "
                 f"{trusted.policy_name} gives {len(expected)} on the published files (rule record_risk)")]
    problems = []
    for number, (entry, want) in enumerate(zip(stated, expected), start=1):
        entry = entry if isinstance(entry, dict) else {}
        differ = [k for k in _RISK_FIXED if not _close(entry.get(k), want[k])]
        if differ:
            problems.append(f"{where}[{number}] ({want['file']}): states {', '.join(differ)} otherwise than the "
                            f"trusted {POLICY_FILE}'s record_risk (rule record_risk.{differ[0]})")
    return problems


def statement_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """delta (manifest, privacy.json) and each privacy.json table entry as the trusted policy states it;
    its record-level risk checks as the trusted record_risk declares them."""
    import json

    from release.trusted_release import STATEMENT, stated_tables

    problems: list[str] = []
    privacy = manifest_privacy(manifest)
    try:
        statement = json.loads((public / STATEMENT).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        statement = None  # absent or unreadable: the integrity checks report it
    if not isinstance(statement, dict):
        statement = None
    if privacy.get("measurements"):  # a release without noisy tables records delta 0 and states the default
        if not _close(privacy.get("delta"), trusted.privacy.delta):
            problems.append("privacy.delta: another delta than the trusted privacy.yaml's (rule delta)")
        dp = statement.get("differential_privacy") if statement is not None else None
        problems += _units_problems(trusted, dp) if isinstance(dp, dict) else []
    problems += risk_problems(trusted, statement, public) if statement is not None else []
    for number, entry in enumerate(stated_tables(public), start=1):
        spec = trusted.spec(entry.get("table"))
        if spec is None or entry.get("mechanism") != spec.mechanism:
            continue  # undeclared, or another mechanism: trusted_release reports it
        claim = _claim(trusted, spec, public, manifest)
        if claim is None:
            continue  # an unreadable table: the integrity checks report it
        differ = sorted(k for k, v in claim.items() if k in STATED and v is not None and not _close(entry.get(k), v))
        differ += sorted(k for k, v in claim.items() if k in STATED and v is None and entry.get(k) is not None)
        if differ:
            problems.append(f"public {STATEMENT} tables[{number}] ({spec.name}): states {', '.join(differ)} otherwise "
                            f"than {trusted.where} and privacy.yaml give (rule {differ[0]})")
    return problems
