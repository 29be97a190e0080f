"""``release audit --raw``: each noisy measurement's counts recounted from the raw export and held
to the witness's commitment (check ``noisy_counts_recounted``; issue #12, round 23: 4s-scale).

The witness service draws on the counts the analyst's tool sends it, and signs a commitment to them
(``release.witness.counts``). A patched tool that sent a protected table's counts times 10 got a
genuine, paid draw whose noise on the true counts was a tenth of the declared one (rho 5.0 per
person, charged 0.05), and every check without the raw export passed. Here the table frames are
rebuilt from the raw export the way the build makes them (load, generalize, the dataset's derive
step: ``datasets.derive_public``, without the PII model, whose redaction never reaches a noisy
table's frame), each measurement tabulated under the trusted declaration with the build's keyed
truncation (``tables_noisy.plan_noisy``, ``keyed_row_order``), and its commitment recomputed under
the counts key derived from the HMAC key. A mismatch fails, naming the table and data year, never
a count. Without the raw export or the key the check does not run; it never passes unseen.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from release.audit.report import AuditCheck, from_problems, not_run
from release.bundle.manifest_recorded import Recorded
from release.bundle.read import manifest_privacy
from release.config.policy import DatasetPolicy
from release.errors import ReleaseError
from release.keys.hmac import Tokenizer
from release.stages.load import Loaded

NAME = "noisy_counts_recounted"


def measurements(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The measurements the check applies to: a service-tier release's (the folder tier's builds draw
    themselves and no one commits to their counts: that tier does not guard against the analyst's
    own tool, noise.md section 6; a release without a witness is never approved)."""
    privacy = manifest_privacy(manifest)
    if privacy.get("witness_tier") != "service":
        return []
    return [m for m in privacy.get("measurements") or [] if isinstance(m, dict)]


def _statement(measurement: Mapping[str, Any]) -> Mapping[str, Any] | None:
    signed = measurement.get("witness_draw")
    statement = signed.get("statement") if isinstance(signed, Mapping) else None
    return statement if isinstance(statement, Mapping) else None


def not_run_without(manifest: Mapping[str, Any], reason: str) -> list[AuditCheck]:
    """The check, not run for ``reason``, when the release has noisy measurements to recount."""
    return [not_run(NAME, reason)] if measurements(manifest) else []


def check_noisy_counts(policy: DatasetPolicy, loaded: Loaded, manifest: Mapping[str, Any], rules_dir: Path,
                       master: bytes | None, tokenizer: Tokenizer | None) -> list[AuditCheck]:
    """The check over every measurement the manifest names (none, or not the service tier: no check)."""
    mine = measurements(manifest)
    if not mine:
        return []
    committed = [m for m in mine if _statement(m) is not None]
    if not committed:
        return [not_run(NAME, "no measurement carries a witness service's draw statement (built without the "
                              "service): there is no commitment to recount against")]
    if master is None or tokenizer is None:
        return [not_run(NAME, "no HMAC key given: the counts key and the build's truncation are derived from it")]
    try:
        requests = _recounted(policy, loaded, manifest, rules_dir, master, tokenizer)
    except ReleaseError as exc:
        return [from_problems(NAME, [f"the table frames cannot be rebuilt from the raw export: {exc.one_line()}"],
                              {"measurements": len(mine)})]
    if isinstance(requests, str):
        return [from_problems(NAME, [requests], {"measurements": len(mine)})]
    problems = _compared(committed, requests, master)
    counts = {"measurements": len(mine), "recounted": len(committed), "failed": len(problems),
              "without_statement": len(mine) - len(committed)}
    return [from_problems(NAME, problems, counts)]


def _recounted(policy: DatasetPolicy, loaded: Loaded, manifest: Mapping[str, Any], rules_dir: Path, master: bytes,
               tokenizer: Tokenizer) -> dict[tuple[str, int], Any] | str:
    """Each noisy table's measurement requests under the trusted declaration, by (table, data year),
    from the frames the build would make of this export; or why there are none."""
    from release import datasets
    from release.audit.trusted_release import trusted_for
    from release.build.tables_noisy import keyed_row_order, plan_noisy
    from release.keys.hmac import ledger_mac
    from release.stages import juvenile

    dataset = Recorded.of(manifest).dataset_name
    trusted = trusted_for(dataset, rules_dir, manifest)
    if isinstance(trusted, str):
        return f"the trusted tables policy cannot be read: {trusted}"
    if trusted.tables is None:
        return "the trusted rules declare no table for this release, yet it names noisy measurements"
    made = datasets.derive_public(dataset, trusted.year, policy, loaded.tables, loaded.tables,
                                  juvenile.minor_keys(loaded.tables, policy), tokenizer)
    frames, order = made.derived.table_frames, keyed_row_order(ledger_mac(master))
    wanted = {str(m.get("table")) for m in measurements(manifest)}
    requests: dict[tuple[str, int], Any] = {}
    for spec in trusted.tables.tables:
        if not spec.is_noisy or spec.name not in wanted:
            continue
        if spec.source not in frames:
            return f"table {spec.name}: the derive step makes no frame '{spec.source}' of this export"
        plan = plan_noisy(frames[spec.source], spec, dataset=dataset, year=trusted.year, row_order=order, rng=None)
        requests.update({(spec.name, r.data_year): r for r in plan.requests})
    return requests


def _compared(committed: Sequence[Mapping[str, Any]], requests: Mapping[tuple[str, int], Any],
              master: bytes) -> list[str]:
    """Why each measurement's commitment is not the one its recounted counts give (empty: all are)."""
    from release.witness.counts import commitment, from_master, statement_problems

    key = from_master(master)
    problems = []
    for measurement in committed:
        statement = _statement(measurement)
        assert statement is not None
        table, data_year = str(measurement.get("table")), measurement.get("data_year")
        where = f"table {table}, data year {data_year}"
        request = requests.get((table, data_year)) if isinstance(data_year, int) else None
        if request is None:
            problems.append(f"{where}: the trusted rules declare no noisy measurement of it")
        elif statement_problems(statement):
            problems.append(f"{where}: {statement_problems(statement)[0]}")
        elif statement.get("counts_key_id") != key.key_id:
            problems.append(f"{where}: the witness committed under counts key {statement.get('counts_key_id')}, not "
                            f"the one derived from this HMAC key ({key.key_id}): the service was given another key, "
                            "or this is not the organisation's HMAC key")
        elif not hmac.compare_digest(str(statement.get("counts_commitment")), commitment(
                key.key, request.spec_sha256, request.data_year, request.values)):
            problems.append(f"{where}: the counts the witness drew on are not this raw export's counts under the "
                            "trusted declaration (scaled, edited or another export's): its noise does not protect "
                            "these data as charged; rebuild it with the unmodified tool, rule noisy-counts")
    return problems
