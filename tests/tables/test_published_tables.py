"""Exact tables read back from earlier bundles: a hand-edited cell is an input error
naming the file and column, never an internal error."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from release.build.tables import load_table_specs, published_exact_tables, published_table
from release.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
# The shipped shootings table is a summary now (issue #12): read it back as an exact, suppressed table.
SPEC = load_table_specs(ROOT / "redaction_rules" / "shootings_tables.yaml")[0].model_copy(update={
    "mechanism": "exact", "privacy_unit_name": "person"})
DIMS = [d.name for d in SPEC.dimensions]


def _frame(value: str | None, status: str = "exact") -> pd.DataFrame:
    return pd.DataFrame([{**{d: "A" for d in DIMS}, "value": value, "status": status}])


@pytest.mark.parametrize("value", ["x1", None, "-3", "2.5"], ids=["text", "blank", "negative", "fraction"])
def test_an_exact_cell_that_is_not_a_count_is_named(value: str | None) -> None:
    with pytest.raises(InputError) as caught:
        published_table(SPEC, _frame(value), 2019, file="old/tables/t.csv")
    assert (caught.value.file, caught.value.column, caught.value.exit_code) == ("old/tables/t.csv", "value", 4)


@pytest.mark.parametrize(("value", "status"), [("7", "exact"), (None, "suppressed")], ids=["count", "suppressed"])
def test_counts_and_suppressed_cells_are_read(value: str | None, status: str) -> None:
    assert len(published_table(SPEC, _frame(value, status), 2019).frame) == 1


def test_published_exact_tables_reads_the_years_asked_for(tmp_path: Path) -> None:
    for year in (2018, 2019, 2020):
        folder = tmp_path / "shootings" / str(year) / "public" / "tables"
        folder.mkdir(parents=True)
        _frame("7").to_csv(folder / f"{SPEC.name}.csv", index=False)
    before = published_exact_tables(tmp_path, "shootings", [SPEC], before=2020)
    through = published_exact_tables(tmp_path, "shootings", [SPEC], through=2020)
    assert [t.release for t in before] == ["2018", "2019"] and len(through) == 3
