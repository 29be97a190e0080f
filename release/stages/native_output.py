"""Silence what native solvers print to the process's standard output.

HiGHS (under ``scipy.optimize.milp``) writes some diagnostics straight to file descriptor 1
even with ``disp=False`` (``HighsMipSolverData::transformNewIntegerFeasibleSolution ...``),
which corrupts ``release ... --json`` output that scripts parse. Python-level redirection
cannot catch it, so the descriptor itself is pointed at ``/dev/null`` for the solve.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_stdout() -> Iterator[None]:
    try:
        descriptor = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
    except (AttributeError, OSError, ValueError):  # no real descriptor (an embedding host): nothing to guard
        yield
        return
    sys.stdout.flush()
    saved = os.dup(descriptor)
    try:
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), descriptor)
        yield
    finally:
        os.dup2(saved, descriptor)
        os.close(saved)
