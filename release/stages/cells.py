"""What a cell may hold: no invisible characters anywhere, and no formula at the start of a
published one.

Why: a raw export is typed by people and copied through tools; a NUL, a bidi override
(U+202E turns "gpj.exe" around on screen) or a zero-width space hides what a value is from
a reviewer and can split a name so the PII detector misses it, so the loader removes them
from every cell and header. A published CSV is opened in spreadsheets, where a cell that
starts with ``= + - @``, a tab or a CR runs as a formula (OWASP "CSV injection"): such a
cell is written with a leading ``'``, as OWASP advises, so it reads as text. A plain number
(``-3``, ``-0.5``) is no formula and stays as it is, so numeric columns still read as numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

# Control characters (but tab, LF, CR), DEL and C1 controls, bidirectional marks, embeddings,
# overrides and isolates, zero-width characters and word joiners, and a stray BOM.
INVISIBLE = frozenset([
    *range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0x061C, 0x180E,
    *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065), *range(0x2066, 0x206A), 0xFEFF])
_STRIP = dict.fromkeys(INVISIBLE)
# What a spreadsheet may read as the start of a formula (ASCII and full-width forms), after
# any leading spaces.
FORMULA_START = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")
NEUTRALIZER = "'"


def strip_invisible(text: str) -> str:
    """The text without control, bidi or zero-width characters (tab and newlines stay)."""
    return text.translate(_STRIP)


def is_formula(cell: str) -> bool:
    """True when a spreadsheet could run the cell: it starts (after spaces) with a formula
    character and is not a plain number."""
    start = cell.lstrip(" ")[:1]
    return bool(start) and start in FORMULA_START and not _PLAIN_NUMBER.fullmatch(cell.strip())


def safe_cell(value: object) -> object:
    """A published cell as written: invisible characters removed, a formula made text."""
    if not isinstance(value, str):
        return value
    text = strip_invisible(value)
    return NEUTRALIZER + text if is_formula(text) else text


def is_neutralized(cell: object) -> bool:
    """The cell is written with the leading ' that makes a formula text (``safe_cell``)."""
    return isinstance(cell, str) and cell.startswith(NEUTRALIZER) and is_formula(cell[1:])


def neutralized(cells: Iterable[object]) -> int:
    """How many cells are written with the leading ' that makes a formula text: the count the packet's
    note gives, which a reader recounts from the public files (``release.audit.trusted_manifest``)."""
    return sum(1 for cell in cells if is_neutralized(cell))


def safe_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """The frame as it may be written to a public CSV, and how many cells that changed."""
    columns: dict[object, pd.Series] = {}
    changed = 0
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object and not pd.api.types.is_string_dtype(values.dtype):
            columns[column] = values  # numbers and booleans: nothing to neutralize
            continue
        cells = values.tolist()
        written = [safe_cell(cell) for cell in cells]
        changed += sum(1 for before, after in zip(cells, written, strict=True)
                       if isinstance(before, str) and before != after)
        columns[column] = pd.Series(written, index=frame.index, dtype=values.dtype)
    return pd.DataFrame(columns, index=frame.index), changed
