"""k-anonymity by local generalization: a ladder of steps applied to small classes only.

A class is the set of published rows sharing one value of every quasi-identifier (for
shootings: month, district, gender, race, ethnicity). While some class holds fewer than
``k`` rows, the next step of the ladder rewrites one column *of the rows of those small
classes only* (local recoding: rows of classes that already hold ``k`` keep their detail),
then the classes are counted again. Classes only ever grow when rows join them, so a class
that reached ``k`` stays there. Rows still in a small class after the last step are
returned as ``residual``; the caller decides what they mean (the ladder should end with
steps that leave nothing of the protected attributes).

Pure: no I/O, no logging, inputs never mutated; every changed cell is returned with its
value before the change so the caller can log it (as an HMAC token) and count it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

QuasiIdentifiers = Callable[[pd.DataFrame], pd.DataFrame]


@dataclass(frozen=True)
class Step:
    """One rung of the ladder: ``transform`` maps a cell value to its coarser form."""

    name: str
    column: str
    action: str           # "generalize" or "suppress" (the log's action)
    entity_type: str      # the log's entity type for the removed detail
    transform: Callable[[object], object]


@dataclass(frozen=True)
class Change:
    """The cells one step changed: positions (index labels) and their previous values."""

    step: Step
    index: pd.Index
    before: tuple[str, ...]


@dataclass(frozen=True)
class Anonymized:
    """What ``anonymize`` returns: the frame after the ladder, every changed cell with its value before (for the
    log) and the rows still in a class under k."""

    frame: pd.DataFrame
    changes: tuple[Change, ...]
    residual: pd.Series   # rows in a class under k after every step


def class_sizes(quasi: pd.DataFrame) -> pd.Series:
    """Size of each row's class (rows equal on every quasi-identifier column)."""
    if quasi.empty:
        return pd.Series(0, index=quasi.index, dtype=np.int64)
    codes = quasi.astype("string").fillna("\x00").groupby(list(quasi.columns), sort=False).ngroup()
    return pd.Series(np.bincount(codes.to_numpy())[codes.to_numpy()], index=quasi.index)


def anonymize(frame: pd.DataFrame, quasi: QuasiIdentifiers, steps: Sequence[Step],
              k: int) -> Anonymized:
    """Apply ``steps`` in order to the rows of classes smaller than ``k``."""
    current = frame.copy()
    changes: list[Change] = []
    for step in steps:
        small = class_sizes(quasi(current)) < k
        if not small.any():
            break
        before = current.loc[small, step.column]
        after = before.map(step.transform)
        changed = [i for i, old, new in zip(before.index, before, after, strict=True)
                   if isinstance(old, str) and old != new]
        if changed:
            current[step.column] = current[step.column].astype(object)
            current.loc[changed, step.column] = after.loc[changed]
            changes.append(Change(step, pd.Index(changed), tuple(before.loc[changed])))
    residual = class_sizes(quasi(current)) < k
    return Anonymized(current, tuple(changes), residual.astype(bool))
