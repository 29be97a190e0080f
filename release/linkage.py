"""The linkage attacker, played on the public record-level file before a person-level protected
table goes out (issue #12, attack 1c).

A frame no public file gives row by row (``not_public``) can still be rebuilt when the public
rows of one person can be linked across reports. FIOE's protected table counts people by how
often they were stopped; the persons file published, on every row, sex, race, age, ethnicity,
build, hair, skin tone and licence state and class, and one fictitious person in 40 reports was
one combination of them: the file said "one person stopped 40 times, first in Dorchester".

The attacker here groups the file's rows by the **full combination of every published column**
except those that change from one report to the next (declared per frame: the report key, the
person's place in the report, dates and their precision, per-stop facts), so a column added to
the file next year links by default. Each group is taken as one person: its distinct reports are
the person's stops, and its earliest report (by the parent file's published date) gives the
first neighbourhood. The protected table is recounted from those groups; a non-zero cell that
comes out exactly is derivable from the public file, and the build blocks (``recount.check_table``'s
rule, ``protection_model``). The finding carries counts only, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from release.model import Finding
from release.recount import PublicFiles, all_rows
from release.tables_spec import LinkageSpec, TablesPolicy, TableSpec


def link_columns(spec: LinkageSpec, base: pd.DataFrame) -> list[str]:
    """Every published column of the file the attacker links on (all but the per-report ones)."""
    return [c for c in base.columns if c not in spec.per_report and c != spec.key]


def linked_frame(spec: LinkageSpec, files: PublicFiles) -> pd.DataFrame | None:
    """The frame as the linkage attacker rebuilds it: one row per group of linked public rows."""
    base, parent = files.get(spec.file), files.get(spec.parent)
    if base is None or parent is None or spec.key not in base.columns or spec.key not in parent.columns:
        return None
    first = parent.drop_duplicates(spec.key).set_index(spec.key)
    if spec.order_by not in first.columns or any(p not in first.columns for p in spec.columns.values()):
        return None
    on = link_columns(spec, base)
    rows = base[[spec.key, *on]].astype("string").fillna("").drop_duplicates()  # twice in a report: once
    rows["__group"] = rows.groupby(on, sort=False, dropna=False).ngroup() if on else 0
    rows["__order"] = rows[spec.key].map(first[spec.order_by]).astype("string").fillna("")
    rows = rows.sort_values(["__group", "__order", spec.key])
    earliest = rows.drop_duplicates("__group")
    reports = rows.groupby("__group")[spec.key].nunique()
    out: dict[str, object] = {spec.count_as: earliest["__group"].map(reports).astype(str).tolist()}
    for column, public in spec.columns.items():
        out[column] = earliest[spec.key].map(first[public]).tolist()
    out["__unit"] = earliest["__group"].astype(str).tolist()
    return pd.DataFrame(out, dtype=object)


def _repeated(frame: pd.DataFrame, count_as: str) -> pd.DataFrame:
    """The rows of people seen in two or more reports (what linking reveals)."""
    return frame[frame[count_as].astype(str) != "1"]


def linked_counts(spec: TableSpec, linkage: LinkageSpec, files: PublicFiles, year: int) -> np.ndarray | None:
    """The table recounted from the linked groups of two or more reports."""
    frame = linked_frame(linkage, files)
    return all_rows(_repeated(frame, linkage.count_as), spec, year, unit="__unit") if frame is not None else None


def true_counts(spec: TableSpec, linkage: LinkageSpec, frame: pd.DataFrame, year: int) -> np.ndarray | None:
    """The table counted over the true people seen in two or more reports."""
    if linkage.count_as not in frame.columns:
        return None
    return all_rows(_repeated(frame, linkage.count_as), spec, year)


def linkable_cells(truth: np.ndarray | None, linked: np.ndarray | None) -> int:
    """Non-zero cells (and margins) of people seen in two or more reports that the linkage gives exactly."""
    if truth is None or linked is None or truth.shape != linked.shape:
        return 0
    return int(((linked == truth) & (truth > 0)).sum())


def check_linkage(spec: TableSpec, frame: pd.DataFrame, linkage: LinkageSpec | None, files: PublicFiles | None,
                  year: int) -> list[Finding]:
    """A finding that withholds the protected table when its cells of repeated people come out of
    the linked public rows (``WITHHELD``; blocking only when the check cannot run). People seen once are not counted: "stopped once" is what every unlinked row shows,
    and an outsider cannot tell it from a person whose reports the file's columns do not link
    (noise.md, section 11); what linking adds is who was stopped again, and how often."""
    if linkage is None or files is None or spec.mechanism == "summary":
        return []
    linked = linked_counts(spec, linkage, files, year)
    truth = true_counts(spec, linkage, frame, year)
    if linked is None or truth is None:
        return [Finding(stage="tables", code="linkage_not_checked", severity="blocking",
                        message=f"the linkage check cannot rebuild the frame from the public file "
                                f"'{linkage.file}' (a declared column is not published)", file=spec.name,
                        rule="protection_model")]
    derivable = linkable_cells(truth, linked)
    if not derivable:
        return []
    return [Finding(stage="tables", code=WITHHELD, severity="warning",
                    message=f"{derivable} non-zero cell(s) of a protected person-level table (people seen in two or "
                            f"more reports) come out exactly when the rows of the public file '{linkage.file}' are "
                            "linked into persons by their published columns, so the table is withheld from this "
                            "release (nothing of it is drawn, charged or published); to publish it, coarsen or drop "
                            "the linking columns of that file, or declare the table a summary",
                    file=spec.name, rule="protection_model", count=derivable)]


# A protected table whose cells the linked public rows give away is withheld, not published: the
# rest of the release goes on (fail closed on that table, never a dead end for the year).
WITHHELD = "protected_table_withheld"


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
    (non-summary) table is built on: a person-level protected table is published only with a
    persons file that gives up what links one person's reports."""
    plan: dict[str, dict[str, str]] = {}
    if tables is None:
        return plan
    protected = {t.source for t in tables.tables if t.mechanism != "summary"}
    for name, frame in tables.frames.items():
        if frame.linkage is not None and frame.linkage.coarsen and name in protected:
            plan.setdefault(frame.linkage.file, {}).update(frame.linkage.coarsen)
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
