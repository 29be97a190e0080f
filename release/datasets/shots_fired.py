"""Shots fired: only confirmed incidents are published; the others are counted, not shown.

Counting rule (``dataset_rules`` of ``redaction_rules/shots_fired.yaml``, model
``ShotsFiredRules``): an incident is published when its raw-only ``confirmed`` flag reads
yes (``t``/``1``/``true``/``yes``/``y``, any case), or, with ``ballistics_confirms``
(default), when ``ballistics_evidence`` reads yes: the contract defines a confirmed
incident as one with ballistics evidence or strong witness or officer corroboration, so
evidence confirms it whatever the flag says (such rows are reported). A blank flag reads
no; a flag that reads neither yes nor no is treated as unconfirmed (fail closed) and
reported. Address, coordinates, source and the flag itself are raw-only: the policy
never lets them reach a public column.
"""

from __future__ import annotations

import pandas as pd

from release.datasets import DeriveContext, Derived, Note
from release.datasets.common import FrozenRules, aligned, dataset_rules, finding, read_flags

FILE = "incidents"


class ShotsFiredRules(FrozenRules):
    """Shots fired's ``dataset_rules``: whether ballistics evidence confirms an incident whatever its flag says."""

    ballistics_confirms: bool = True


def confirmed_mask(raw: pd.DataFrame, rules: ShotsFiredRules) -> tuple[pd.Series, pd.Series, pd.Series]:
    """(published, confirmed only by ballistics evidence, unreadable confirmed flag)."""
    flag = read_flags(raw["confirmed"])
    evidence = read_flags(raw["ballistics_evidence"]).true
    by_evidence_only = evidence & ~flag.true if rules.ballistics_confirms else pd.Series(False, index=raw.index)
    return (flag.true | by_evidence_only).astype(bool), by_evidence_only.astype(bool), flag.unreadable


NOTES = (  # the dataset's notes (``datasets.Note``): the build fills them, the trusted checks hold a manifest to them
    Note("{published} of {rows} shots-fired report(s) of {year} are confirmed and published; "
         "{unconfirmed} unconfirmed report(s) are counted here and not published."),
    Note("Confirmed means ballistics evidence, or strong witness or officer corroboration. "
         "No address, coordinates or source of the report is published."),
    Note("{count} report(s) with ballistics evidence but no confirmed flag "
         "are published as confirmed, since evidence confirms an incident."),
    Note("{count} report(s) whose confirmed flag could not be read are treated as unconfirmed."),
)


def derive(ctx: DeriveContext) -> Derived:
    rules = dataset_rules(ctx.policy, ShotsFiredRules)
    file = ctx.policy.files[FILE].raw_file
    raw, public = ctx.raw[FILE], ctx.public[FILE]
    aligned(raw, public, file)
    published, by_evidence, unreadable = confirmed_mask(raw, rules)
    unconfirmed = ~published
    findings = [finding(raw, unconfirmed, code="unconfirmed_excluded", severity="info",
                        message="unconfirmed shots-fired reports: counted, not published", file=file,
                        column="confirmed", rule="dataset_rules.confirmed_only")]
    notes = [NOTES[0](published=int(published.sum()), rows=len(raw), year=ctx.year,
                      unconfirmed=int(unconfirmed.sum())), NOTES[1]()]
    if by_evidence.any():
        findings.append(finding(raw, by_evidence, code="confirmed_by_evidence", severity="warning",
                                message="ballistics evidence but the confirmed flag is not yes: "
                                        "published as confirmed (contract definition)",
                                file=file, column="confirmed", rule="dataset_rules.ballistics_confirms"))
        notes.append(NOTES[2](count=int(by_evidence.sum())))
    if unreadable.any():
        findings.append(finding(raw, unreadable & unconfirmed, code="flag_unreadable", severity="warning",
                                message="confirmed flag neither yes nor no: treated as unconfirmed "
                                        "(fail closed)", file=file, column="confirmed",
                                rule="dataset_rules.confirmed_only"))
        notes.append(NOTES[3](count=int((unreadable & unconfirmed).sum())))
    kept = public.loc[published.to_numpy()].reset_index(drop=True)
    return Derived(public={FILE: kept}, findings=tuple(findings), notes=tuple(notes))
