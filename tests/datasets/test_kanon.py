"""The k-anonymity ladder (release.datasets.kanon) with the shootings steps: invariants."""

from __future__ import annotations

from collections import Counter

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release.datasets.kanon import anonymize, class_sizes
from release.datasets.shootings import DEFAULT_STEPS, STEPS, quasi_identifiers

STEP_LIST = [STEPS[name] for name in DEFAULT_STEPS]
DEMOGRAPHICS = ["victim_gender", "victim_race", "victim_ethnicity_NIBRS"]

rows = st.fixed_dictionaries({
    "shooting_date": st.sampled_from(["2020-01-05", "2020-01-20", "2020-02-11"]),
    "district": st.sampled_from(["B2", "B3", "C11", None]),
    "victim_gender": st.sampled_from(["Male", "Male", "Female", "Unknown", None]),
    "victim_race": st.sampled_from(["Black or African American", "White", "Asian", "Unknown", None]),
    "victim_ethnicity_NIBRS": st.sampled_from(["Hispanic or Latinx", "Not Hispanic or Latinx", "Unknown", None]),
})


def _frame(records: list[dict[str, object]]) -> pd.DataFrame:
    frame = pd.DataFrame(records, columns=["shooting_date", "district", *DEMOGRAPHICS]).astype(object)
    frame["_row_key"] = [f"I{i:04d}" for i in range(len(frame))]
    return frame.where(frame.notna(), None)


def _unknown(value: object) -> bool:
    return value is None or value == "Unknown"


@settings(max_examples=40, deadline=None)
@given(st.lists(rows, min_size=0, max_size=40), st.integers(min_value=2, max_value=6))
def test_groups_reach_k_or_keep_nothing(records: list[dict[str, object]], k: int) -> None:
    frame = _frame(records)
    before = class_sizes(quasi_identifiers(frame))
    result = anonymize(frame, quasi_identifiers, STEP_LIST, k)
    out = result.frame
    assert list(out["_row_key"]) == list(frame["_row_key"])
    sizes = class_sizes(quasi_identifiers(out))
    for position in range(len(out)):
        row = out.iloc[position]
        if sizes.iloc[position] < k:   # residual: every rung was applied
            assert all(_unknown(row[c]) for c in DEMOGRAPHICS)
            assert len(row["shooting_date"]) == 7
            assert bool(result.residual.iloc[position])
        if before.iloc[position] >= k:  # a group already big enough is never touched
            assert row.equals(frame.iloc[position])
    assert result.residual.sum() == int((sizes < k).sum())


@settings(max_examples=40, deadline=None)
@given(st.lists(rows, min_size=1, max_size=30), st.integers(min_value=2, max_value=5))
def test_ladder_is_idempotent_and_logs_every_change(records: list[dict[str, object]], k: int) -> None:
    frame = _frame(records)
    first = anonymize(frame, quasi_identifiers, STEP_LIST, k)
    again = anonymize(first.frame, quasi_identifiers, STEP_LIST, k)
    assert again.changes == ()
    changed_cells = sum(int((frame[c].fillna("\0") != first.frame[c].fillna("\0")).sum())
                        for c in ["shooting_date", *DEMOGRAPHICS])
    # a cell changed twice (race: Asian -> Other -> Unknown) is logged twice
    assert sum(len(change.index) for change in first.changes) >= changed_cells


@pytest.mark.parametrize(
    ("values", "sizes"),
    [([("a", "x"), ("a", "x"), ("b", None)], [2, 2, 1]),
     ([("a", None), ("a", None)], [2, 2]),
     ([], [])],
    ids=["two-groups", "missing-values-group-together", "empty"])
def test_class_sizes(values: list[tuple[str, str | None]], sizes: list[int]) -> None:
    quasi = pd.DataFrame(values, columns=["p", "q"]).astype(object)
    assert class_sizes(quasi).tolist() == sizes


def test_race_coarse_keeps_major_groups() -> None:
    transform = STEPS["race_coarse"].transform
    assert Counter(transform(v) for v in ["Asian", "White", "Black or African American", "Unknown",
                                          "American Indian or Alaska Native", None]) == Counter(
        ["Other", "White", "Black or African American", "Unknown", "Other", None])
