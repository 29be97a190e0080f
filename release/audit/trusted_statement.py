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
Since round 34 (N1) its counts too: the build measures the record files as it writes them, each
quasi-identifier with the columns that say how precisely it is published (``record_risk.companions``),
and every check measures the published files the same way and compares each entry exactly. Each entry
of ``privacy.tables`` is compared whole and exactly with the build's (``_tables_problems``): no key
added or missing, no tolerance (round 34, N2 and N3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.bundle.jsonl import same_json as _same
from release.bundle.read import manifest_privacy
from release.config.privacy import POLICY_FILE
from release.errors import ReleaseError

if TYPE_CHECKING:
    from release.audit.trusted_release import Trusted
    from release.config.tables import TableSpec
    from release.stages.noise import Sensitivity

TOLERANCE = 1e-9  # a replayed privacy loss against its budget (floating point of the accountant)


def trusted_bounds(dataset: str, spec: TableSpec, data_year: int) -> tuple[str, Sensitivity, int]:
    """(the block's spec hash, the sensitivity its noise must be calibrated to, the length of its
    measured vector: one count per cell and per margin cell) under the trusted declaration."""
    from release.build.tables_noisy import measured_block, spec_sha256
    from release.stages import noise
    from release.stages.tabulate import kept_axes

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
    from release.config.tables import data_years

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
        declared = spec.rho if spec.mechanism == "discrete_gaussian" else spec.epsilon
        assert declared is not None  # a noisy table declares its mechanism's parameter (``TableSpec`` validates it)
        budget = float(declared)
        try:
            loss = _replayed(record, spec, d_in)
        except ReleaseError:
            problems.append(f"{where}: does not replay at the sensitivity of {trusted.where} (rule mechanism)")
            continue
        if loss > budget * (1 + TOLERANCE) + TOLERANCE:
            problems.append(f"{where}: at the sensitivity {trusted.where} declares (d_in {d_in:.6g}) its noise costs "
                            f"{loss:.6g}, above the {budget:g} declared: it was calibrated to a smaller sensitivity or a larger "
                            "budget (rule units_may_merge, margins, max_rows_per_unit, max_cells_per_unit, rho)")
        if "delta" in record and not _same(record.get("delta"), trusted.privacy.delta):
            problems.append(f"{where}: states another delta than the trusted privacy.yaml's (rule delta)")
    return problems


def _entry(trusted: Trusted, spec: TableSpec, public: Path, manifest: Mapping[str, Any]) -> dict[str, object] | None:
    """A table's whole entry in the manifest's ``privacy.tables`` as the build writes it under the
    trusted declaration (``release.build.tables``): a summary's from its declaration; a noisy table's from
    the noisy values the manifest publishes for its measurements (``_noisy_entry``; when they cannot
    be assembled, the claims its declaration alone decides: ``table_replay`` reports the rest); an
    exact table's from its published cells (None when its published file cannot be read)."""
    from release.build import tables_text
    from release.bundle.read import read_public_csv

    if spec.mechanism == "summary":
        return tables_text.summary_summary(spec, trusted.tables.frames if trusted.tables else None)
    if spec.is_noisy:
        return _noisy_entry(trusted, spec, manifest) or tables_text.noisy_claim(spec, trusted.privacy.delta)
    try:
        frame = read_public_csv(public / "tables" / f"{spec.name}.csv")
    except (ReleaseError, OSError):
        return None
    return tables_text.exact_summary(spec, frame)


def _noisy_entry(trusted: Trusted, spec: TableSpec, manifest: Mapping[str, Any]) -> dict[str, object] | None:
    """A noisy table's entry as the build writes it, from the noisy values the manifest publishes
    for its measurements (None when they cannot be assembled: ``table_replay`` reports that)."""
    import numpy as np
    import pandas as pd

    from release.audit.table_replay import measurements_of
    from release.build import tables_text
    from release.build.tables_noisy import NoisyTable, measured_block, post_processed
    from release.config.tables import data_years

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
    return tables_text.noisy_summary(spec, NoisyTable(processed, scale, list(mine)), frame, trusted.privacy.delta)


def _entry_differs(entry: Mapping[str, Any], want: Mapping[str, object]) -> list[str]:
    """The keys of a ``privacy.tables`` entry that are not the build's, exactly: a key added or
    missing, or a value of another type or number. The fields a bundle keeps of an entry
    (``manifest_parts.SPLIT_ITEMS``: its cell and measurement counts, its median interval width)
    are compared where the entry has them (the bundle's merged view); a published copy has none."""
    from release.bundle.manifest_parts import SPLIT_ITEMS

    kept = SPLIT_ITEMS["privacy"]["tables"]
    want = {k: v for k, v in want.items() if k not in kept or k in entry}
    return sorted(k for k in set(entry) | set(want) if k not in entry or k not in want or not _same(entry[k], want[k]))


def _tables_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """Each entry of the manifest's ``privacy.tables`` (and so of ``privacy.json``, which is made from it
    byte for byte) is the build's entry for its table under the trusted declaration, whole and exact.
    Round 34 (N2, N3): only the keys a claim named were compared, within a tolerance, so a summary
    table's ``bounds``, ``post_processing``, ``suppression`` or ``noise_scale`` (keys it never has) and a
    noisy table's ``summary_of`` carried any text or number to the portal."""
    problems: list[str] = []
    tables = manifest_privacy(manifest).get("tables")
    for number, entry in enumerate(tables if isinstance(tables, list) else [], start=1):
        if not isinstance(entry, dict):
            continue  # the manifest's form check reports it
        spec = trusted.spec(entry.get("table"))
        if spec is None or entry.get("mechanism") != spec.mechanism:
            continue  # undeclared, or another mechanism: trusted_release reports it
        want = _entry(trusted, spec, public, manifest)
        if want is None:
            continue  # an unreadable table: the integrity checks report it
        if spec.is_noisy and "table" not in want:  # its draws could not be assembled: the claims alone
            want = {k: v for k, v in entry.items() if k not in want} | want
        differ = _entry_differs(entry, want)
        if differ:
            problems.append(f"manifest privacy.tables[{number}] ({spec.name}): states {', '.join(differ)} otherwise "
                            f"than {trusted.where} and privacy.yaml give (keys and values exactly as the build "
                            f"writes them; rule {differ[0]})")
    return problems


def _units_problems(trusted: Trusted, dp: Mapping[str, Any]) -> list[str]:
    """Delta and what follows from it, and the datasets of each unit, as the trusted privacy.yaml says
    (the unit's description, cap and rho: ``spend_policy``)."""
    from release.audit.trusted_release import STATEMENT
    from release.privacy.ledger import epsilon_from_rho

    where = f"public {STATEMENT}"
    problems = [] if _same(dp.get("delta"), trusted.privacy.delta) else \
        [f"{where}: states another delta than the trusted privacy.yaml's (rule delta)"]
    units = dp.get("units")
    for unit, stated in sorted(units.items() if isinstance(units, dict) else ()):
        spec = trusted.privacy.units.get(str(unit))
        if spec is None or not isinstance(stated, dict):
            continue  # an undeclared unit: spend_policy reports it
        cap = stated.get("cap_rho_over_every_release")
        if stated.get("datasets_that_can_hold_the_same_person") != list(spec.datasets) or (
                isinstance(cap, (int, float)) and cap > 0
                and not _same(stated.get("cap_epsilon_at_delta"), epsilon_from_rho(float(cap), trusted.privacy.delta))):
            problems.append(f"{where}: privacy unit {unit} is stated otherwise than the trusted privacy.yaml gives "
                            "(rule datasets, delta)")
    return problems


def risk_problems(trusted: Trusted, statement: Mapping[str, Any], public: Path) -> list[str]:
    """``record_level_risk`` of privacy.json (``statement``, made from the manifest's ``record_risk``): the
    trusted ``record_risk`` checks that apply to the files published under ``public``, each measured on
    those files (``record_risk.published``), every key and number exactly. Round 34 (N1): only the file,
    quasi-identifiers, k and action were compared, so the counts, shares and verdict carried any value."""
    from release.audit.trusted_release import STATEMENT, published_file
    from release.privacy import record_risk

    specs = trusted.privacy.record_risk.get(trusted.policy_name, ())
    names = sorted({n for s in specs for n in (s.file, s.parent) if n})
    frames = {n: found[1] for n in names if (found := published_file(trusted, public, n)) is not None}
    expected = record_risk.published(frames, specs, trusted.policy)  # those that apply
    stated = statement.get("record_level_risk")
    stated = stated if isinstance(stated, list) else []
    where = f"public {STATEMENT} record_level_risk"
    if len(stated) != len(expected):
        return [(f"{where}: states {len(stated)} check(s) where the trusted {POLICY_FILE}'s record_risk for "
                 f"{trusted.policy_name} gives {len(expected)} on the published files (rule record_risk)")]
    problems = []
    for number, (entry, want) in enumerate(zip(stated, expected, strict=True), start=1):
        entry = entry if isinstance(entry, dict) else {}
        differ = sorted(k for k in set(entry) | set(want) if k not in entry or k not in want
                        or not _same(entry[k], want[k]))
        if differ:
            problems.append(f"{where}[{number}] ({want['file']}): states {', '.join(differ)} otherwise than the "
                            f"trusted {POLICY_FILE}'s record_risk measured on the published files gives "
                            f"(rule record_risk.{differ[0]})")
    return problems


def statement_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """Delta (manifest, privacy.json) and each privacy.json table entry as the trusted policy states it;
    its record-level risk checks as the trusted record_risk declares them."""
    import json

    from release.audit.trusted_release import STATEMENT

    problems: list[str] = []
    privacy = manifest_privacy(manifest)
    try:
        statement = json.loads((public / STATEMENT).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        statement = None  # absent or unreadable: the integrity checks report it
    if not isinstance(statement, dict):
        statement = None
    if privacy.get("measurements"):  # a release without noisy tables records delta 0 and states the default
        if not _same(privacy.get("delta"), trusted.privacy.delta):
            problems.append("privacy.delta: another delta than the trusted privacy.yaml's (rule delta)")
        dp = statement.get("differential_privacy") if statement is not None else None
        problems += _units_problems(trusted, dp) if isinstance(dp, dict) else []
    problems += risk_problems(trusted, statement, public) if statement is not None else []
    return problems + _tables_problems(trusted, manifest, public)
