"""The linkage attacker, played on the public record-level files before a person-level protected
table goes out (issue #12, attack 1c), and judged person by person with the private truth.

A frame no public file gives row by row (``not_public``) still leaks when the public rows of one
person can be linked across reports: FIOE's protected table counts people by how often they were
stopped, and a fictitious person in 40 reports was one combination of the persons file's columns,
so the file said "one person stopped 40 times, first in Dorchester". The first check withheld the
table only when a whole cell recounted exactly; on a file of any size, common combinations merge
many people into fake repeaters, no cell comes out exact, and a rare person stays fully linked.

The criterion is per person, with the ground truth only the build has (the person key, never
published). Each row of ``file`` is joined to its report's row of ``parent`` on ``key``; rows alike
in every published column of both, except the declared ``per_report`` ones (the report key,
positions, dates at their published precision, per-stop facts that say nothing about the person),
form a **linking class**. So a column added next year links by default, and so do per-report
columns that describe the person (clothing, the car). A person is **exposed** when some linking
class holds rows of two or more of their reports and fewer than ``min_people_per_class`` people:
the public files then say "these reports are one person, or one of very few". One person's reports
drift (an age crosses a band, another car, another street), so the attacker may leave out any
combination of the declared ``drifting`` groups; a person exposed under any of those keys is
exposed. Then the frame's protected tables are withheld from the release (a warning: nothing
drawn, charged or published; the rest of the year goes on). Findings and the figure kept in the
private manifest carry counts only, never a value or a key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from release.model import Finding
from release.recount import PublicFiles
from release.stages.load import ROW_KEY
from release.tables_spec import LinkageSpec, TablesPolicy, TableSpec

PARENT = "parent."  # a parent file's column, as the policy names it
# A protected table that linking exposes someone through is withheld, not published: the rest of
# the release goes on (fail closed on that table, never a dead end for the year).
WITHHELD = "protected_table_withheld"
CHECKED = "linkage_checked"


@dataclass(frozen=True)
class Exposure:
    """What linking the public files gives away, in counts (the private ``privacy.linkage``)."""

    exposed_people: int            # people with two or more reports in a class of too few people
    exposing_classes: int          # such classes, under the key that exposes the most people
    worst_key_leaves_out: tuple[str, ...]  # the drifting groups that key leaves out
    linking_keys: int              # keys tried: every combination of the drifting groups
    repeated_people: int           # people seen in two or more reports of the file
    min_people_per_class: int

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "worst_key_leaves_out": list(self.worst_key_leaves_out)}


def linking_rows(spec: LinkageSpec, files: PublicFiles) -> pd.DataFrame | str:
    """One row per row of ``file``: its report, its row key and every linking column as text ('' when
    missing), the parent's as ``parent.<column>`` (a report's distinct values, sorted and joined,
    where its rows differ); or why the files do not allow it."""
    base, parent = files.get(spec.file), files.get(spec.parent)
    if base is None or parent is None:
        return f"the public files '{spec.file}' and '{spec.parent}' are not both published"
    if spec.key not in base.columns or spec.key not in parent.columns or ROW_KEY not in base.columns:
        return f"'{spec.file}' and '{spec.parent}' do not both carry the report key '{spec.key}'"
    published = {*base.columns, *(PARENT + c for c in parent.columns)} - {ROW_KEY, PARENT + ROW_KEY}
    named = [*spec.per_report, *(c for group in spec.drifting.values() for c in group)]
    unknown = next((c for c in named if c not in published), None)
    if unknown is not None:  # a misspelt exception would link on a per-report column and hide every link
        return f"it names '{unknown}', which is not a published column of '{spec.file}' or '{spec.parent}'"
    skip = {spec.key, ROW_KEY, *spec.per_report}
    rows = _text(base[[spec.key, ROW_KEY, *(c for c in base.columns if c not in skip)]])
    for column in parent.columns:
        if column not in (spec.key, ROW_KEY) and PARENT + column not in skip:
            values = _per_report(_text(parent[[spec.key, column]]), spec.key, column)
            rows[PARENT + column] = rows[spec.key].map(values).fillna("")
    return rows


def _text(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype("string").fillna("").astype(object).reset_index(drop=True)


def _per_report(pairs: pd.DataFrame, key: str, column: str) -> pd.Series:
    """The column's value per report: its distinct values in the report, sorted and joined."""
    pairs = pairs.drop_duplicates()
    several = pairs[key].duplicated(keep=False)
    joined = pairs[several].sort_values(column).groupby(key)[column].agg("|".join)
    return pd.concat([pairs[~several].set_index(key)[column], joined])


def exposure(spec: LinkageSpec, rows: pd.DataFrame, truth: pd.DataFrame) -> Exposure:
    """Who linking exposes, under every key: the stable columns plus any combination of the
    drifting groups. ``truth`` maps each row key to its person (``row_key`` -> ``unit_id``)."""
    keyed = rows[ROW_KEY].map(truth.drop_duplicates("row_key").set_index("row_key")["unit_id"])
    person = pd.factorize(keyed)[0]
    person = np.where(person < 0, -1 - np.arange(len(person)), person)  # unattributed: a person of its own
    report = pd.factorize(rows[spec.key])[0]
    pairs = pd.DataFrame({"person": person, "report": report}).drop_duplicates()
    repeated = int((pairs[pairs["person"] >= 0].groupby("person").size() >= 2).sum())
    drifting = {c for columns in spec.drifting.values() for c in columns}
    stable = _classes(rows, [c for c in rows.columns if c not in (spec.key, ROW_KEY) and c not in drifting])
    parts = {name: _classes(rows, list(columns)) for name, columns in spec.drifting.items()}
    keys = [kept for size in range(len(parts), -1, -1) for kept in combinations(parts, size)]
    exposed: set[int] = set()
    worst: tuple[int, int, tuple[str, ...]] = (0, 0, ())
    for kept in keys if repeated else ():  # "" holds the stable columns' class (no group has that name)
        classes = pd.DataFrame({"": stable, **{n: parts[n] for n in kept}}).groupby(
            ["", *kept], sort=False).ngroup().to_numpy()
        people, count = _exposed(classes, person, report, spec.min_people_per_class)
        exposed |= people
        if len(people) > worst[0]:
            worst = (len(people), count, tuple(n for n in parts if n not in kept))
    return Exposure(len(exposed), worst[1], worst[2], len(keys), repeated, spec.min_people_per_class)


def _classes(rows: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """Each row's class on ``columns`` (one class when there are none)."""
    if not columns:
        return np.zeros(len(rows), dtype=np.int64)
    return rows.groupby(columns, sort=False).ngroup().to_numpy()


def _exposed(classes: np.ndarray, person: np.ndarray, report: np.ndarray, minimum: int) -> tuple[set[int], int]:
    """People with rows of two or more of their reports in one class of fewer than ``minimum``
    people, and how many such classes."""
    rows = pd.DataFrame({"cls": classes, "person": person, "report": report}).drop_duplicates()
    people = rows.groupby("cls")["person"].nunique()
    linked = rows.groupby(["cls", "person"])["report"].nunique()
    linked = linked[linked >= 2].reset_index()
    linked = linked[(linked["cls"].map(people) < minimum).to_numpy()]
    return set(linked["person"].tolist()), int(linked["cls"].nunique())


def check_linkage(spec: TableSpec, frames: Mapping[str, pd.DataFrame], linkage: LinkageSpec | None,
                  files: PublicFiles | None) -> tuple[list[Finding], Exposure | None]:
    """The finding that withholds a protected table when linking exposes someone (``WITHHELD``),
    or says no one is (``CHECKED``); blocking only when the check cannot run. With the figure."""
    if linkage is None or files is None or spec.mechanism == "summary":
        return [], None
    rows = linking_rows(linkage, files)
    truth = frames.get(linkage.truth)
    if isinstance(rows, str) or truth is None or not {"row_key", "unit_id"} <= set(truth.columns):
        why = rows if isinstance(rows, str) else f"the build hands over no frame '{linkage.truth}' (row_key, unit_id)"
        return [Finding(stage="tables", code="linkage_not_checked", severity="blocking",
                        message=f"the linkage check cannot run: {why}", file=spec.name,
                        rule="protection_model")], None
    found = exposure(linkage, rows, truth)
    files_named = f"the public files '{linkage.file}' and '{linkage.parent}'"
    if not found.exposed_people:
        return [Finding(stage="tables", code=CHECKED, severity="info",
                        message=f"no person is exposed by linking {files_named}: of {found.repeated_people} "
                                f"person(s) seen in two or more reports, none has two reports in a linking class "
                                f"of fewer than {found.min_people_per_class} people under any of "
                                f"{found.linking_keys} linking key(s)", file=spec.name, rule="protection_model",
                        count=0)], found
    leaving = (f" leaving out the drifting {', '.join(found.worst_key_leaves_out)}"
               if found.worst_key_leaves_out else "")
    return [Finding(stage="tables", code=WITHHELD, severity="warning",
                    message=f"{found.exposed_people} person(s) seen in two or more reports are exposed by linking "
                            f"{files_named}: a class of rows alike in every linking column holds two or more of "
                            f"the person's reports and fewer than {found.min_people_per_class} people "
                            f"({found.exposing_classes} such class(es) under the worst key{leaving}; "
                            f"{found.linking_keys} key(s) tried). The table is withheld from this release "
                            "(nothing of it is drawn, charged or published); to publish it, coarsen or blank what "
                            f"links those reports (frames.{spec.source}.linkage.coarsen: the person's descriptors, "
                            f"clothing, or the place, officer or vehicle columns of '{linkage.parent}'), or "
                            "leave the table out of the tables policy", file=spec.name, rule="protection_model",
                    count=found.exposed_people)], found


def linkage_of(model: Mapping[str, object] | None, spec: TableSpec) -> LinkageSpec | None:
    frame = model.get(spec.source) if model is not None else None
    return getattr(frame, "linkage", None)


# Adult age bands of the coarsened persons file (minors keep the juvenile rule's bands). A band is
# written in the age column, as the juvenile rule writes a minor's; the portal form then moves it
# to ``age_band`` (``portal.portal_file``) and types it there.
ADULT_BANDS = ((18, 24), (25, 34), (35, 44), (45, 54), (55, 64))
ADULT_BAND_LABELS = (*(f"{low}-{high}" for low, high in ADULT_BANDS), "65 and over")


def _adult_band(age: object) -> str | None:
    try:
        years = int(str(age))
    except ValueError:
        return None
    if years < 18:
        return None
    return next((f"{low}-{high}" for low, high in ADULT_BANDS if years <= high), ADULT_BAND_LABELS[-1])


def coarsening(tables: TablesPolicy | None) -> dict[str, dict[str, str]]:
    """Public file -> column -> action, for every frame with a linkage spec that a protected
    (non-summary) table is built on: a person-level protected table is published only with
    record-level files that give up what links one person's reports (``parent.<column>``: the
    parent file's)."""
    plan: dict[str, dict[str, str]] = {}
    if tables is None:
        return plan
    protected = {t.source for t in tables.tables if t.mechanism != "summary"}
    for name, frame in tables.frames.items():
        if frame.linkage is not None and frame.linkage.coarsen and name in protected:
            for column, action in frame.linkage.coarsen.items():
                file = frame.linkage.parent if column.startswith(PARENT) else frame.linkage.file
                plan.setdefault(file, {})[column.removeprefix(PARENT)] = action
    return plan


def coarsen(frames: Mapping[str, pd.DataFrame], plan: Mapping[str, Mapping[str, str]]) -> dict[str, pd.DataFrame]:
    """The public frames with the planned columns coarsened (new frames; the inputs are not changed)."""
    out = dict(frames)
    for name, columns in plan.items():
        if name not in out:
            continue
        frame = out[name].copy()
        for column, action in columns.items():
            if column not in frame.columns:
                continue
            if action == "age_band":
                bands = frame[column].map(_adult_band)
                frame[column] = frame[column].astype(object).where(bands.isna(), bands)
            else:
                frame[column] = None
        out[name] = frame
    return out
