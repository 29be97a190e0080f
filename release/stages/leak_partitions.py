"""The leak checks cut into row partitions for workers elsewhere (``--engine ray``), and merged
back into the list the one-process run gives (``LeakChecker.check``).

Why the cut is exact: a row's leaks depend on that row, on the raw values (which a build never
changes: sent to the workers once, ``LeakChecker.shipped``) and on two exemptions computed
across rows, the established officers (over every officer cell of the release) and each file's
shared structured values (over the whole file). Those two are computed on the driver from the
whole frames (``shared``) and handed to every partition, never recomputed from a partition's
rows; so a partition's leaks are exactly its rows' share of the whole check. ``merged`` puts
them back in the one-process order, every per-record leak (file by file, row by row) and then
every release-wide one, so the hits, the forced spans, the log and the bundle do not depend on
how the rows were cut or where they ran.

A partition is a run of one file's rows at fixed bounds (``ROWS_PER_PART``): every verify round
cuts the same rows the same way, so a worker that is handed the same partitions each round finds
its cells in its checker's memo (``LeakChecker``) as the driver would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from release.model import ROW_KEY
from release.stages.leakcheck import Leak, LeakChecker, established_officers

ROWS_PER_PART = 2000  # a few hundred kilobytes of public text: a worker's unit, not a round trip per row


@dataclass(frozen=True)
class Shared:
    """What both checks compute across rows, for one call: from the whole public frames."""

    officers: frozenset[str]                      # established_officers
    common: dict[str, dict[str, frozenset[str]]]  # file -> LeakChecker.common_values


@dataclass(frozen=True)
class Part:
    """Rows of one record file: its link column, row key and public columns."""

    name: str
    frame: pd.DataFrame


@dataclass(frozen=True)
class PartLeaks:
    """One partition's leaks, the per-record and the release-wide check's apart, so ``merged`` can put them
    back in the one-process order."""

    record: list[Leak]        # the per-record check's, in row order
    release_wide: list[Leak]  # the release-wide check's, in row order


def shared(checker: LeakChecker, public: dict[str, pd.DataFrame]) -> Shared:
    return Shared(established_officers(public, checker.policy),
                  {name: checker.common_values(name, public[name])
                   for name in checker.policy.files if name in public})


def partitions(checker: LeakChecker, public: dict[str, pd.DataFrame], rows: int | None = None) -> list[Part]:
    """Each record file's rows in runs of ``rows`` (``ROWS_PER_PART``), files in the policy's order
    (the checks' order), with only the columns the checks read."""
    rows = rows or ROWS_PER_PART
    parts: list[Part] = []
    for name, file_policy in checker.policy.files.items():
        frame = public[name]
        read = [c for c in dict.fromkeys([file_policy.link_column, ROW_KEY, *file_policy.public_columns()])
                if c in frame.columns]
        parts += [Part(name, frame.iloc[start:start + rows][read]) for start in range(0, len(frame), rows)]
    return parts


def check_part(checker: LeakChecker, part: Part, common: Shared) -> PartLeaks:
    """Both checks over one partition (on a worker, with the checker it was sent)."""
    return PartLeaks(checker.record_leaks_in(part.name, part.frame, common.officers)[1],
                     checker.global_leaks_in(part.name, part.frame, common.common.get(part.name, {})))


def merged(results: Iterable[PartLeaks]) -> list[Leak]:
    """The partitions' leaks (given in the partitions' order) as ``LeakChecker.check`` lists them."""
    results = list(results)
    return ([leak for part in results for leak in part.record]
            + [leak for part in results for leak in part.release_wide])

