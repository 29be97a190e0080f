"""The record-level files from the generalized frames to what is written: one path for the build
(each verify round, ``release.build.orchestrator``) and ``release audit --raw``'s replay (``release.audit.record_replay``).

``finish``: the trusted linkage coarsening (``release.privacy.linkage``), the record-risk ladder
(``release.privacy.record_risk``) and the portal form (``release.bundle.portal``), in that order. ``written``: the
record files as ``release.build.assemble`` writes them: the public columns in the policy's order, report
keys under their pseudonyms and rows in the build's order (``release.stages.juvenile``); its callers
make every cell spreadsheet-safe (``cells.safe_frame``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from release.config.policy import DatasetPolicy
from release.keys.hmac import Tokenizer
from release.model import Finding, RedactionEvent, Tables

if TYPE_CHECKING:
    from release.config.privacy import RiskSpec
    from release.privacy.record_risk import RiskResult


def finish(public: Tables, policy: DatasetPolicy, coarsening: Mapping[str, Mapping[str, str]], specs: tuple[RiskSpec, ...],
           *, dataset: str, tokenizer: Tokenizer) -> tuple[Tables, list[RedactionEvent], list[RiskResult], list[Finding]]:
    """The derived record frames coarsened, generalized for record risk and put in portal form; with
    the record-risk step's log events, measurements and findings."""
    from release.bundle import portal
    from release.privacy import linkage, record_risk

    frames, events = record_risk.generalize_all(
        linkage.coarsen(dict(public.frames), coarsening), specs, dataset=dataset,
        raw_files={n: fp.raw_file for n, fp in policy.files.items()}, tokenizer=tokenizer)
    formed = portal.portal_form(Tables(frames), policy)
    # measured in portal form, each quasi-identifier with its precision columns: as the files are published
    risk, findings = record_risk.assess(formed.frames, specs, {n: fp.public_columns() for n, fp in policy.files.items()},
                                        record_risk.companions(policy))
    return formed, events, risk, findings


def written(policy: DatasetPolicy, public: Tables, minors: frozenset[str], *, dataset: str,
            tokenizer: Tokenizer) -> tuple[dict[str, pd.DataFrame], int]:
    """Each published record file's frame as it is written, by policy file name (its index is the
    public frame's, so a row can be named by its load row key), and how many rows of reports
    involving a minor were moved apart (``public_keys: source``)."""
    from release.stages import juvenile

    frames: dict[str, pd.DataFrame] = {}
    moved = 0
    keyed_reports = juvenile.pseudonymous_keys(policy)
    for name, file_policy in policy.files.items():
        if not file_policy.publish:
            continue
        columns = file_policy.public_columns()
        if keyed_reports:
            frames[name] = juvenile.publish_keys(public[name][columns], file_policy, dataset, tokenizer)
        else:
            frames[name], apart = juvenile.publish_apart(public[name][columns], file_policy, minors, dataset,
                                                         tokenizer)
            moved += apart
    return frames, moved


def linkage_files(policy: DatasetPolicy, public: Tables) -> dict[str, pd.DataFrame]:
    """The record-level files exactly as they will be published (what an outsider recounts and links), each
    row with its load row key (never published: the linkage check joins its truth on it). The build's tables
    step and ``release audit --raw``'s replay of which tables it withholds read the same frames."""
    from release.model import ROW_KEY

    return {name: public[name][[*fp.public_columns(), ROW_KEY]] for name, fp in policy.files.items() if fp.publish}
