"""Which records involve a minor, by the dataset's juvenile rule.

A report involves a minor when any person row linked to it has a valid age under
``juvenile.under``. The decision is made once here so that redaction can skip withheld
narratives (never analysed, never published) and generalization can band ages and
withhold the listed columns.
"""

from __future__ import annotations

import pandas as pd

from release.config import DatasetPolicy
from release.model import Tables


def parse_age(values: pd.Series) -> pd.Series:
    """Whole years as a nullable integer; anything not a plain integer is missing."""
    text = values.astype("string").str.strip()
    numeric = text.where(text.str.fullmatch(r"-?\d{1,3}", na=False))
    return pd.to_numeric(numeric, errors="coerce").astype("Int64")


def minor_keys(tables: Tables, policy: DatasetPolicy) -> frozenset[str]:
    """Values of the parent link (e.g. ``fc_num``) of every record involving a minor."""
    rule = policy.juvenile
    if rule is None or not rule.enabled:
        return frozenset()
    file, column = policy.column_ref(rule.age_column)
    frame = tables[file]
    ages = parse_age(frame[column])
    is_minor = (ages >= 0) & (ages < rule.under)
    link = policy.files[file].parent
    key_column = link.column if link else policy.files[file].key_column
    return frozenset(frame.loc[is_minor.fillna(False), key_column].dropna())


def age_band(age: int, policy: DatasetPolicy) -> str:
    assert policy.juvenile is not None
    for band in policy.juvenile.bands:
        if age <= band.maximum:
            return band.label
    return policy.juvenile.bands[-1].label
