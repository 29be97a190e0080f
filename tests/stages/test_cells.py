"""Public CSV cells: no formula a spreadsheet would run, no invisible characters."""

from __future__ import annotations

import pandas as pd
import pytest

from release.stages.cells import is_formula, safe_cell, safe_frame, strip_invisible


@pytest.mark.parametrize(
    ("cell", "written"),
    [('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
     ("@SUM(1+1)", "'@SUM(1+1)"), ("-2+3", "'-2+3"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("  =1", "'  =1"),
     ("\uff1d1+1", "'\uff1d1+1"), ("-3", "-3"), ("-0.5", "-0.5"), ("1e-05", "1e-05"), ("Sunny", "Sunny"),
     ("a = b", "a = b"), ("'=1", "'=1"), ("x\x00y\u202ez", "xyz")],
    ids=["hyperlink", "dde", "at-sum", "minus-formula", "tab", "cr", "spaces-then-equals", "full-width",
         "negative-number", "negative-decimal", "exponent", "plain", "inner-equals", "already-neutral", "invisible"])
def test_safe_cell(cell: str, written: str) -> None:
    assert safe_cell(cell) == written
    assert safe_cell(written) == written  # idempotent: a written cell is written again as it is


def test_safe_frame_counts_changed_cells_and_keeps_numbers_and_blanks() -> None:
    frame = pd.DataFrame({"text": pd.Series(["=1", None, "ok", "@x"], dtype=object), "value": [1, -2, 3, 4]})
    out, changed = safe_frame(frame)
    assert changed == 2
    assert out["text"].tolist()[0] == "'=1" and out["text"].tolist()[1] is None
    assert out["value"].tolist() == [1, -2, 3, 4]


def test_invisible_characters() -> None:
    assert strip_invisible("a\u200bb\u2066c\u2069d\x7fe\x85f\tg\nh") == "abcdef\tg\nh"
    assert not is_formula("") and is_formula("+1 +1")
