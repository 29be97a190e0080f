"""FIOE: the frames the aggregate tables are counted from.

The record-level files need nothing beyond the policy. The tables (people by
neighbourhood × race × month, frisks by race × sex, reports by basis × circumstance) are
counted from two frames built here from the loaded rows, before generalization (the noise
protects them; a minor's banded age or coarsened date does not change these counts):

- ``people``: one row per person in a report; the privacy unit is the person row, since
  FIOE has no stable person identifier across reports;
- ``reports``: one row per report and basis; the privacy unit is the report.
"""

from __future__ import annotations

import pandas as pd

from release.datasets import DeriveContext, Derived


def _month(dates: pd.Series) -> pd.Series:
    return dates.astype("string").str.slice(0, 7).astype(object)


def derive(context: DeriveContext) -> Derived:
    contacts = context.raw["contacts"]
    persons = context.raw["persons"]
    first = contacts.drop_duplicates("fc_num").set_index("fc_num")
    people = pd.DataFrame({
        "unit_id": persons["_row_key"].tolist(),
        "fc_num": persons["fc_num"].tolist(),
        "month": _month(persons["fc_num"].map(first["contact_date"])).tolist(),
        "neighbourhood": persons["fc_num"].map(first["city"]).tolist(),
        "race": persons["race"].tolist(),
        "sex": persons["sex"].tolist(),
        "ethnicity": persons["ethnicity"].tolist(),
        "was_frisked": persons["was_frisked"].tolist(),
        "circumstance": persons["fc_num"].map(first["circumstance"]).tolist(),
    }, dtype=object)
    reports = pd.DataFrame({
        "unit_id": contacts["fc_num"].tolist(),
        "fc_num": contacts["fc_num"].tolist(),
        "month": _month(contacts["contact_date"]).tolist(),
        "neighbourhood": contacts["city"].tolist(),
        "basis": contacts["basis"].tolist(),
        "circumstance": contacts["circumstance"].tolist(),
    }, dtype=object)
    return Derived(table_frames={"people": people, "reports": reports})
