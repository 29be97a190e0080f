"""Record-level re-identification risk: measured on the files as published, and enforced.

For each record-level file the privacy policy names (``record_risk`` in ``privacy.yaml``), the
quasi-identifiers are the public columns an outsider may know, taken **at the precision
published** (a date and hour is a date and hour, not a month), joined from the parent file
where the policy says so. The measure is the share of rows that are unique and the share in
classes smaller than k; the verdict is green (no row under k), amber (at most
``amber_share`` of rows under k) or red. ``action: report`` puts the verdict in the manifest,
the packet's summary and a warning; ``action: generalize`` first walks the policy's ladder on
the rows of small classes (each changed cell logged with the token of the removed value), then
measures what is left. Nothing here carries a value: counts and shares only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from release.config.privacy import GeneralizeStep, RiskSpec
from release.datasets.common import cell_events
from release.datasets.kanon import class_sizes
from release.keys.hmac import Tokenizer
from release.model import ROW_KEY, Finding, RedactionEvent

if TYPE_CHECKING:
    from release.config.policy import DatasetPolicy

BLANK = "(blank)"
_AGE = re.compile(r"^\s*(\d{1,3})\s*$")


@dataclass(frozen=True)
class RiskResult:
    """One file's measured risk: its class sizes on the quasi-identifiers as published, and the verdict;
    counts and shares only, never a value."""

    file: str
    quasi_identifiers: tuple[str, ...]
    k: int
    action: str
    rows: int
    classes: int
    unique_rows: int
    unique_share: float
    rows_under_k: int
    under_k_share: float
    smallest_class: int
    verdict: str          # "green", "amber" or "red"

    def to_dict(self) -> dict[str, object]:
        return asdict(self) | {"quasi_identifiers": list(self.quasi_identifiers)}

    def line(self) -> str:
        return (f"{self.verdict.upper()}: {self.unique_share:.1%} of the {self.rows:,} rows of {self.file} are unique on "
                f"({', '.join(self.quasi_identifiers)}) as published; {self.under_k_share:.1%} are in classes smaller "
                f"than k = {self.k}")


Folded = Mapping[str, Mapping[str, tuple[str, ...]]]  # file -> column -> its precision columns (``companions``)


def companions(policy: DatasetPolicy) -> dict[str, dict[str, tuple[str, ...]]]:
    """Of each file of ``policy``, the derived columns that say how precisely a column is published:
    a date's precision (``date_precision``) and an age's band (``age_band``: the age is then blank).
    A quasi-identifier is measured with them (``view``): on the portal, an age published as its band
    is blank in ``age``, so without its band every banded age would fall into one class and the
    measure would understate the risk (round 34, N1: the files are measured as published)."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for name, file_policy in policy.files.items():
        found: dict[str, list[str]] = {}
        for column, rule in file_policy.columns.items():
            if rule.type in ("date_precision", "age_band"):
                found.setdefault(str(rule.of), []).append(column)
        out[name] = {column: tuple(names) for column, names in found.items()}
    return out


def view(files: Mapping[str, pd.DataFrame], spec: RiskSpec, folded: Folded | None = None) -> pd.DataFrame | None:
    """The quasi-identifiers of each row of ``spec.file``, exactly as published: each with the
    columns that say how precise it is (``folded``, from ``companions``), where the file has them."""
    folded = folded or {}
    frame = files.get(spec.file)
    if frame is None:
        return None
    parent = None
    if spec.parent is not None and spec.key is not None:
        other = files.get(spec.parent)
        if other is None or spec.key not in frame.columns or spec.key not in other.columns:
            return None
        parent = other.drop_duplicates(spec.key).set_index(spec.key)
    columns: dict[str, pd.Series] = {}
    for name in spec.quasi_identifiers:
        if name.startswith("parent."):
            column = name.removeprefix("parent.")
            if parent is None or column not in parent.columns:
                return None
            columns[name] = frame[spec.key].map(parent[column]).reset_index(drop=True)
            for extra in folded.get(str(spec.parent), {}).get(column, ()):
                if extra in parent.columns:
                    columns[f"{name}+{extra}"] = frame[spec.key].map(parent[extra]).reset_index(drop=True)
        elif name in frame.columns:
            columns[name] = frame[name].reset_index(drop=True)
            for extra in folded.get(spec.file, {}).get(name, ()):
                if extra in frame.columns:
                    columns[f"{name}+{extra}"] = frame[extra].reset_index(drop=True)
        else:
            return None
    return pd.DataFrame(columns).astype(object).where(lambda d: d.notna(), BLANK)


def measure(files: Mapping[str, pd.DataFrame], spec: RiskSpec, folded: Folded | None = None) -> RiskResult | None:
    quasi = view(files, spec, folded)
    if quasi is None:
        return None
    rows = len(quasi)
    size = class_sizes(quasi)
    classes = int(len(quasi.astype(str).drop_duplicates()))
    unique = int((size == 1).sum())
    under = int((size < spec.k).sum())
    share = under / rows if rows else 0.0
    verdict = "green" if under == 0 else ("amber" if share <= spec.amber_share else "red")
    return RiskResult(spec.file, spec.quasi_identifiers, spec.k, spec.action, rows, classes, unique,
                      unique / rows if rows else 0.0, under, share, int(size.min()) if rows else 0, verdict)


def _coarser(value: object, to: str) -> object:
    if not isinstance(value, str) or not value.strip():
        return value
    if to == "blank":
        return None
    if to in ("day", "month", "year"):
        return value.strip()[:{"day": 10, "month": 7, "year": 4}[to]]
    match = _AGE.match(value)
    if match is None:
        return value  # a band already
    low = int(match.group(1)) // 10 * 10
    return f"{low}-{low + 9}"


def generalize(frame: pd.DataFrame, spec: RiskSpec, *, dataset: str, file: str, tokenizer: Tokenizer
               ) -> tuple[pd.DataFrame, list[RedactionEvent]]:
    """Walk the ladder on the rows of classes under k until none is left or the ladder ends."""
    out = frame.copy()
    events: list[RedactionEvent] = []
    for step in spec.steps:
        quasi = view({spec.file: out}, spec)
        if quasi is None:
            break
        small = (class_sizes(quasi) < spec.k).to_numpy()
        if not small.any():
            break
        events += _apply(out, small, step, dataset=dataset, file=file, tokenizer=tokenizer)
    return out, events


def _apply(frame: pd.DataFrame, rows: np.ndarray, step: GeneralizeStep, *, dataset: str, file: str,
           tokenizer: Tokenizer) -> list[RedactionEvent]:
    index = frame.index[rows]
    before = frame.loc[index, step.column]
    after = before.map(lambda v: _coarser(v, step.to))
    changed = [i for i in index if before[i] != after[i] and isinstance(before[i], str)]
    frame.loc[index, step.column] = after
    keys = [str(frame.at[i, ROW_KEY]) if ROW_KEY in frame.columns else str(i) for i in changed]
    return cell_events(dataset=dataset, file=file, column=step.column, keys=keys,
                       removed=[str(before[i]) for i in changed], action="generalize" if step.to != "blank"
                       else "suppress", entity_type="QUASI_IDENTIFIER", rule_id=f"record_risk.{step.column}.{step.to}",
                       tokenizer=tokenizer, detector="record_risk")


def finding(result: RiskResult) -> Finding | None:
    if result.verdict == "green":
        return None
    return Finding(stage="record_risk", code=f"record_risk_{result.verdict}", severity="warning",
                   message=result.line(), file=result.file, rule="record_risk", count=result.rows_under_k)


def generalize_all(frames: Mapping[str, pd.DataFrame], specs: tuple[RiskSpec, ...], *, dataset: str,
                   raw_files: Mapping[str, str], tokenizer: Tokenizer) -> tuple[dict[str, pd.DataFrame], list[RedactionEvent]]:
    """The ladder of every ``generalize`` check walked on its file (each changed cell logged)."""
    out = dict(frames)
    events: list[RedactionEvent] = []
    for spec in specs:
        if spec.action == "generalize" and spec.file in out:
            out[spec.file], found = generalize(out[spec.file], spec, dataset=dataset,
                                               file=raw_files.get(spec.file, spec.file), tokenizer=tokenizer)
            events += found
    return out, events


def assess(frames: Mapping[str, pd.DataFrame], specs: tuple[RiskSpec, ...], public_columns: Mapping[str, list[str]],
           folded: Folded | None = None) -> tuple[list[RiskResult], list[Finding]]:
    """Every declared check measured on the public columns of ``frames`` (the files in the form they are
    published: ``public_form.finish``), with its finding; a quasi-identifier that is not a published
    column blocks."""
    published = {name: frame[[c for c in public_columns.get(name, list(frame.columns)) if c in frame.columns]]
                 for name, frame in frames.items()}
    results = [r for spec in specs if (r := measure(published, spec, folded)) is not None]
    findings = [f for r in results if (f := finding(r)) is not None]
    missing = [spec.file for spec in specs if spec.file in published and view(published, spec) is None]
    findings += [Finding(stage="record_risk", code="record_risk_not_measured", severity="blocking",
                         message="a quasi-identifier the privacy policy names is not a published column",
                         file=name, rule="record_risk") for name in missing]
    return results, findings


def published(files: Mapping[str, pd.DataFrame], specs: tuple[RiskSpec, ...], policy: DatasetPolicy
              ) -> list[dict[str, object]]:
    """The ``record_risk`` section of a manifest: every check that applies, measured on the record files as
    published (``files``: policy file name -> the published CSV as ``gate.read_public_csv`` reads it). The
    build writes it from the files it writes and every check recomputes it from the files on the portal,
    so each count is the published files' own: the counts measured before the files' portal form, which
    nothing could recompute, were a channel of about 500 bits an entry (round 34, N1)."""
    folded = companions(policy)
    return [r.to_dict() for spec in specs if (r := measure(files, spec, folded)) is not None]
