"""A summary table built without the protection model (issue 14, part 4: found by mypy).

``build_tables`` counts a summary from the public files when the caller names them; without them it
recounts the frame itself. A frame that lacks a column the summary reads is a configuration mistake:
refused as ``tabulate`` refuses a protected table's, naming the table, the frame and the column, not a
pandas ValueError from an empty count.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from release.build.tables import build_tables
from release.config.tables import TablesPolicy
from release.errors import ConfigError

SUMMARY: dict[str, Any] = {
    "name": "people_by_race", "description": "people", "source": "people", "mechanism": "summary",
    "dimensions": [{"name": "race", "categories": ["Black", "White", "Other", "Unknown"], "other": "Other",
                    "missing": "Unknown"}],
    "privacy_unit": "unit_id", "margins": [[]]}


def summary(**table: Any) -> TablesPolicy:
    frame = {"recount_from": "persons", "columns": {"race": "race", "basis": "basis"}}
    return TablesPolicy.model_validate({"frames": {"people": frame}, "tables": [{**SUMMARY, **table}]})


@pytest.mark.parametrize(("table", "columns", "missing"), [
    pytest.param({}, {"unit_id": ["P1", "P2"]}, "race", id="without-its-dimension"),
    pytest.param({"where": {"basis": ["Intel"]}}, {"unit_id": ["P1"], "race": ["BLACK"]}, "basis",
                 id="without-its-where-column"),
])
def test_a_summary_over_a_frame_without_its_column_is_a_config_error(table: dict[str, Any],
                                                                     columns: dict[str, list[str]],
                                                                     missing: str) -> None:
    with pytest.raises(ConfigError, match=f"tables.people_by_race: frame 'people' has no column {missing}$"):
        build_tables({"people": pd.DataFrame(columns, dtype=object)}, summary(**table).tables, dataset="fioe",
                     year=2020)


def test_a_summary_over_a_frame_with_its_columns_counts_every_row() -> None:
    frame = pd.DataFrame({"unit_id": ["P1", "P2", "P3"], "race": ["BLACK", "WHITE", "BLACK"]}, dtype=object)
    result = build_tables({"people": frame}, summary().tables, dataset="fioe", year=2020)
    table = result.tables["people_by_race"]
    published = dict(zip(table["race"], table["value"], strict=True))
    assert published["Black"] == 2 and published["All"] == 3 and result.spends == []
