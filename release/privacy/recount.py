"""The protection model, checked: what an outsider recounts from the published record-level files.

Each dataset declares, per table frame, either how the frame's rows are rebuilt from a public
file (``recount_from``, with a column map and an optional parent join) or why no public file
gives it (``not_public``). From that declaration this module recounts tables the way an
outsider would, from the public rows alone, and the build compares:

- a **summary** is counted from the public rows themselves (so it cannot tell more than the file);
- a **protected** table (noisy, or exact with suppression) must not be: any non-zero cell the
  public rows give exactly is a blocking finding, and for exact tables the recount also enters
  the LP audit as known equations.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from release.config.tables import FrameSpec, TableSpec
from release.model import Finding
from release.stages.suppress import PublishedTable
from release.stages.tabulate import kept_axes, level_labels, level_values, tabulate

PublicFiles = Mapping[str, pd.DataFrame]  # policy file name -> the public file's rows


def public_frame(frame: FrameSpec, files: PublicFiles) -> pd.DataFrame | None:
    """The frame as an outsider rebuilds it from the public files (only the declared columns)."""
    if frame.recount_from is None or frame.recount_from not in files:
        return None
    base = files[frame.recount_from].reset_index(drop=True)
    parent = None
    if frame.parent is not None and frame.key is not None:
        if frame.parent not in files or frame.key not in base.columns:
            return None
        parent = files[frame.parent].drop_duplicates(frame.key).set_index(frame.key)
    out: dict[str, object] = {}
    for column, public in frame.columns.items():
        if public.startswith("parent."):
            name = public.removeprefix("parent.")
            if parent is None or name not in parent.columns:
                return None
            out[column] = base[frame.key].map(parent[name]).tolist()
        elif public in base.columns:
            out[column] = base[public].tolist()
        else:
            return None
    out["__unit"] = (base[frame.unit].astype(str).tolist() if frame.unit and frame.unit in base.columns
                     else [str(i) for i in range(len(base))])
    return pd.DataFrame(out, dtype=object)


def all_rows(frame: pd.DataFrame, spec: TableSpec, year: int, unit: str | None = None) -> np.ndarray | None:
    """Every cell and margin of ``spec`` counted over every row of ``frame`` (no bounding)."""
    if any(c not in frame.columns for c in spec.columns_used()):
        return None
    summary = spec.model_copy(update={"mechanism": "summary", "privacy_unit": unit or spec.privacy_unit,
                                      "per_year": None})
    if summary.privacy_unit not in frame.columns:
        frame = frame.assign(**{summary.privacy_unit: [str(i) for i in range(len(frame))]})
    counts = tabulate(frame, summary, year)
    levels = [kept_axes(counts.dimensions, level) for level in spec.levels()]
    return np.concatenate([level_values(counts.counts, counts.shape, a) for a in levels])


def recount(spec: TableSpec, frame: FrameSpec | None, files: PublicFiles, year: int) -> np.ndarray | None:
    """The table recounted from the public files, or None when they do not give its columns."""
    rebuilt = public_frame(frame, files) if frame is not None else None
    return all_rows(rebuilt, spec, year, unit="__unit") if rebuilt is not None else None


def check_table(spec: TableSpec, truth: np.ndarray | None, outside: np.ndarray | None) -> list[Finding]:
    """Blocking findings when the declared model and the recount disagree (counts only)."""
    if spec.mechanism == "summary":  # its values are the recount itself, so it can tell nothing more
        if outside is None:
            return [Finding(stage="tables", code="summary_not_recountable", severity="blocking",
                            message="labelled a summary of the public file, but the public files do not give "
                                    "its columns", file=spec.name, rule="protection_model")]
        return []
    if outside is None or truth is None:
        return []
    derivable = int(((outside == truth) & (truth > 0)).sum())
    if not derivable:
        return []
    return [Finding(stage="tables", code="protected_table_derivable", severity="blocking",
                    message=f"{derivable} non-zero cell(s) of a protected table are recounted exactly from the "
                            "public record-level files: protect the file (drop or coarsen what the table "
                            "protects) or declare the table a summary", file=spec.name, rule="protection_model",
                    count=derivable)]


def as_published(spec: TableSpec, values: np.ndarray, year: int, period: str, label: str) -> PublishedTable:
    """A recount as the LP attacker sees it: every cell and margin known exactly."""
    names = tuple(d.name for d in spec.dimensions)
    categories = tuple(d.codebook(year) for d in spec.dimensions)
    labels = pd.concat([level_labels(names, categories, kept_axes(names, level)) for level in spec.levels()],
                       ignore_index=True)
    frame = labels.assign(value=pd.array(values, dtype="Int64"), status="exact")
    return PublishedTable(name=f"{spec.name} ({label})", dimensions=names, frame=frame, period=period,
                          family=spec.cell_family, protection_width=spec.suppression_rules.protection_width,
                          release=label)
