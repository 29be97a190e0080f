"""Shootings: who is published (exclusion flags) and how victim demographics are protected.

Counting rules (``dataset_rules`` of ``redaction_rules/shootings.yaml``, model ``ShootingsRules``):

- **Exclusions.** A victim whose ``self_inflicted`` or ``justifiable`` flag reads yes
  (``t``/``1``/``true``/``yes``/``y``, any case) is not published. A blank flag reads no.
  A flag that reads neither yes nor no also keeps the victim out (fail closed) and is
  reported as a warning. Every exclusion is counted in the findings and the notes.
- **k-anonymity of victim demographics.** Groups are month x district x gender x race x
  ethnicity (blank demographics count as Unknown). While a group holds fewer than ``k``
  victims, the rows of the small groups go one rung down the ladder
  (``release.datasets.kanon``): ethnicity -> Unknown, race -> Black / White / Other,
  race -> Unknown, gender -> Unknown, then the date -> month. Each changed cell is a
  ``generalize`` (or ``suppress``) entry in the redaction log with the token of the removed
  value. Rows of groups still under ``k`` at the end show no demographics and no day; they
  are counted as residual. The check protects demographic profiles inside month x
  district; ``incident_num`` and the day (published, as the City does) describe the
  incident, not the victim.
- **Annual summary.** ``table_frames["victims"]`` (one row per published victim, before
  generalization: unit_id, district, shooting_type, month) feeds the exact table declared
  in ``redaction_rules/shootings_tables.yaml``.
"""

from __future__ import annotations

from typing import Literal

import pandas as pd
from pydantic import Field

from release.config.policy import DatasetPolicy
from release.datasets import WORD, DeriveContext, Derived, Note
from release.datasets.common import FrozenRules, aligned, cell_events, dataset_rules, finding, read_flags
from release.datasets.kanon import Anonymized, Step, anonymize
from release.model import ROW_KEY, Finding, RedactionEvent

FILE = "victims"
UNKNOWN = "Unknown"
MAJOR_RACES = frozenset({"Black or African American", "White", UNKNOWN})
StepName = Literal["ethnicity_unknown", "race_coarse", "race_unknown", "gender_unknown",
                   "date_month", "district_suppress"]
FlagName = Literal["self_inflicted", "justifiable"]


def _to_unknown(value: object) -> object:
    return UNKNOWN if isinstance(value, str) else value


def _coarse_race(value: object) -> object:
    return value if not isinstance(value, str) or value in MAJOR_RACES else "Other"


def _month(value: object) -> object:
    return value[:7] if isinstance(value, str) else value


def _suppressed(value: object) -> object:
    return None


STEPS: dict[str, Step] = {step.name: step for step in (
    Step("ethnicity_unknown", "victim_ethnicity_NIBRS", "generalize", "ETHNICITY", _to_unknown),
    Step("race_coarse", "victim_race", "generalize", "RACE", _coarse_race),
    Step("race_unknown", "victim_race", "generalize", "RACE", _to_unknown),
    Step("gender_unknown", "victim_gender", "generalize", "GENDER", _to_unknown),
    Step("date_month", "shooting_date", "generalize", "DATE_TIME", _month),
    Step("district_suppress", "district", "suppress", "LOCATION", _suppressed),
)}
DEFAULT_STEPS: tuple[StepName, ...] = ("ethnicity_unknown", "race_coarse", "race_unknown",
                                       "gender_unknown", "date_month")


class KAnonymityRules(FrozenRules):
    """The victims' k-anonymity: the smallest group whose demographics are published as they are (``k``), and
    the ladder of steps taken below it."""

    k: int = Field(default=5, ge=2, le=100)
    steps: tuple[StepName, ...] = Field(default=DEFAULT_STEPS, min_length=1)


class ShootingsRules(FrozenRules):
    """Shootings' ``dataset_rules``: the flags that keep a victim out, and the k-anonymity of the published
    victims."""

    exclude_when_flagged: tuple[FlagName, ...] = ("self_inflicted", "justifiable")
    k_anonymity: KAnonymityRules = KAnonymityRules()


def _known(value: object) -> str:
    return value if isinstance(value, str) and value else UNKNOWN


def quasi_identifiers(frame: pd.DataFrame) -> pd.DataFrame:
    """The attributes an outsider may know of a victim: month, district and demographics."""
    return pd.DataFrame({
        "month": frame["shooting_date"].map(_month),
        "district": frame["district"],
        "gender": frame["victim_gender"].map(_known),
        "race": frame["victim_race"].map(_known),
        "ethnicity": frame["victim_ethnicity_NIBRS"].map(_known),
    }, index=frame.index)


NOTES = (  # the dataset's notes (``datasets.Note``): the build fills them, the trusted checks hold a manifest to them
    Note("{count} victim(s) of {flag} shootings are not in the public file.", {"flag": WORD}),
    Note("{count} victim(s) whose {flag} flag could not be read are not published either (fail closed).",
         {"flag": WORD}),
    Note("{excluded} of {rows} victim row(s) of the year are excluded in all; {published} are published."),
    Note("Victim demographics are k-anonymous with k = {k} over month x district x gender x race "
         "x ethnicity: {touched} of {rows} published victim(s) had a detail generalized "
         "(cells changed per step: {done}).", {"done": f"none needed|{WORD}: [0-9]+(?:, {WORD}: [0-9]+)*"}),
    Note("{residual} victim(s) remain in groups of fewer than {k}; the ladder "
         "has removed what it can of their demographics and date."),
)


def note_words(policy: DatasetPolicy) -> list[str]:
    """The words the notes' slots may hold: the trusted policy's flags and k-anonymity steps."""
    rules = dataset_rules(policy, ShootingsRules)
    return ([f.replace("_", "-") for f in rules.exclude_when_flagged]
            + [s.replace("_", " ") for s in rules.k_anonymity.steps])


def note_values(policy: DatasetPolicy, year: int) -> dict[str, object]:
    """The notes' slots the trusted policy gives (``datasets.Note``)."""
    return {"k": dataset_rules(policy, ShootingsRules).k_anonymity.k}

def _exclusions(raw: pd.DataFrame, rules: ShootingsRules, file: str
                ) -> tuple[pd.Series, list[Finding], list[str]]:
    excluded = pd.Series(False, index=raw.index)
    findings: list[Finding] = []
    notes: list[str] = []
    for flag in rules.exclude_when_flagged:
        read = read_flags(raw[flag])
        excluded |= read.true | read.unreadable
        findings.append(finding(raw, read.true, code=f"excluded_{flag}", severity="info",
                                message=f"victims flagged {flag}: not published", file=file,
                                column=flag, rule=f"dataset_rules.exclude_when_flagged.{flag}"))
        notes.append(NOTES[0](count=int(read.true.sum()), flag=flag.replace('_', '-')))
        if read.unreadable.any():
            findings.append(finding(raw, read.unreadable, code="flag_unreadable", severity="warning",
                                    message=f"{flag} flag neither yes nor no: victim not published "
                                            "(fail closed)", file=file, column=flag,
                                    rule=f"dataset_rules.exclude_when_flagged.{flag}"))
            notes.append(NOTES[1](count=int(read.unreadable.sum()), flag=flag.replace('_', '-')))
    notes.append(NOTES[2](excluded=int(excluded.sum()), rows=len(raw), published=int((~excluded).sum())))
    return excluded, findings, notes


def _log(result: Anonymized, raw: pd.DataFrame, ctx: DeriveContext, file: str) -> list[RedactionEvent]:
    """One entry per changed cell. The token is of the raw export's cell (as for every
    policy rule), so an auditor with the key can recompute it from the raw file even when
    the removed detail had already been respelled (``Latino``) or coarsened (``Other``)."""
    raw_cells = raw.set_index(ROW_KEY)
    events: list[RedactionEvent] = []
    for change in result.changes:
        step = change.step
        keys = result.frame.loc[change.index, ROW_KEY].tolist()
        originals = [raw_cells.at[key, step.column] for key in keys]
        removed = [o if isinstance(o, str) else before for o, before in zip(originals, change.before, strict=True)]
        events += cell_events(
            dataset=ctx.dataset, file=file, column=step.column, keys=keys, removed=removed,
            action=step.action, entity_type=step.entity_type, rule_id=f"k_anonymity.{step.name}",
            tokenizer=ctx.tokenizer, detector="k_anonymity")
    return events


def _kanon_notes(result: Anonymized, k: int, rows: int) -> list[str]:
    done = ", ".join(f"{change.step.name.replace('_', ' ')}: {len(change.index)}"
                     for change in result.changes) or "none needed"
    touched = len(set().union(*(set(c.index) for c in result.changes))) if result.changes else 0
    return [NOTES[3](k=k, touched=touched, rows=rows, done=done), NOTES[4](residual=int(result.residual.sum()), k=k)]


def table_frame(published: pd.DataFrame) -> pd.DataFrame:
    """One row per published victim, before generalization, for the tables path."""
    return pd.DataFrame({
        "unit_id": published[ROW_KEY].astype(object),
        "district": published["district"],
        "shooting_type": published["shooting_type_v2"],
        "month": published["shooting_date"].map(_month),
    }).reset_index(drop=True)


def derive(ctx: DeriveContext) -> Derived:
    rules = dataset_rules(ctx.policy, ShootingsRules)
    file_policy = ctx.policy.files[FILE]
    file = file_policy.raw_file
    raw, public = ctx.raw[FILE], ctx.public[FILE]
    aligned(raw, public, file)
    excluded, findings, notes = _exclusions(raw, rules, file)
    kept = public.loc[~excluded.to_numpy()].reset_index(drop=True)
    k = rules.k_anonymity.k
    result = anonymize(kept, quasi_identifiers, [STEPS[s] for s in rules.k_anonymity.steps], k)
    events = _log(result, raw, ctx, file)
    touched = pd.Series(False, index=result.frame.index)
    for change in result.changes:
        touched.loc[change.index] = True
    findings.append(finding(result.frame, touched, code="k_anonymity", severity="info",
                            message=f"victims with demographics or date generalized for k-anonymity "
                                    f"(k = {k})", file=file, rule="dataset_rules.k_anonymity"))
    if result.residual.any():
        findings.append(finding(result.frame, result.residual, code="k_anonymity_residual",
                                severity="info", message=f"victims left in groups under k = {k} "
                                "after every step of the ladder", file=file,
                                rule="dataset_rules.k_anonymity.steps"))
    notes += _kanon_notes(result, k, len(kept))
    return Derived(public={FILE: result.frame}, table_frames={"victims": table_frame(kept)},
                   findings=tuple(findings), events=tuple(events), notes=tuple(notes))

