"""One build of a dataset and year at a time: two concurrent builds cannot both write.

The lock is an advisory ``flock`` on ``OUT/<dataset>/.<year>.lock``, held from the first
stage to the last write (the ledger's own transactions already keep two draws of the same
data from both being made; this keeps two bundles from racing into one folder). A second
build does not wait: it stops at once and names the lock file. The lock file is removed
when the build ends (still locked), and a build that locked a file already removed stops,
so an input error leaves no file behind and two builds never hold two lock files.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from release.errors import EnvironmentProblem


@contextmanager
def build_lock(out_dir: Path, dataset: str, year: int) -> Iterator[None]:
    path = out_dir / dataset / f".{year}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EnvironmentProblem(f"another build of {dataset} {year} is running; try again when it ends",
                                     file=str(path), rule="build-lock") from None
        if not path.exists() or os.stat(path).st_ino != os.fstat(handle.fileno()).st_ino:
            # the lock file we opened was removed by the build that just ended: a third build
            # may hold the new one; stop rather than race it
            raise EnvironmentProblem(f"another build of {dataset} {year} is running; try again when it ends",
                                     file=str(path), rule="build-lock")
        try:
            yield
        finally:
            path.unlink(missing_ok=True)  # while still locked: an input error leaves nothing behind
            fcntl.flock(handle, fcntl.LOCK_UN)
