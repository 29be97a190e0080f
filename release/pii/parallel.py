"""Running the engine's work units in forked worker processes (``--jobs N``).

spaCy's own ``n_process`` parallelises only NER, leaving Presidio and our detectors in
the parent, which then becomes the bottleneck on a two-core machine. The units run in a
``concurrent.futures.ProcessPoolExecutor`` of forked processes: forking after the model is
loaded shares it copy-on-write, and each worker does all the work for its units. Where fork
is unavailable, for one job, or for one unit, units run in this process. Results come back
in the units' order whatever the number of workers, so nothing downstream (placeholder
numbering, the log's order, the noise seed) depends on it.

Each worker freezes the heap it inherits (``gc.freeze``): the model, the rules and the
parent's tables outlive the worker, so its collector never walks them (walking them cost
CPU in every worker, and its reference-count writes copied shared pages).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TypeVar

from release.errors import ConfigError, EnvironmentProblem

Unit = TypeVar("Unit")

# The work of the current ``run_units`` call: set before the pool forks, so each worker inherits
# it (the engine behind it is never pickled; only units and results cross between processes).
_WORK: Callable[[Any], Any] | None = None


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and ``taskset``
    narrow), the default for ``--jobs``."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # no affinity on this platform
        return max(os.cpu_count() or 1, 1)


def _call(unit: Any) -> Any:
    assert _WORK is not None
    return _WORK(unit)


def run_units(work: Callable[[Unit], Any], units: list[Unit], processes: int,
              alongside: Callable[[], None] | None = None) -> Iterator[Any]:
    """Yield ``work(unit)`` for every unit, in order, using up to ``processes`` forks.

    ``alongside`` is the caller's own work, independent of the units: it runs in this process
    once the workers have their units (so it shares the cores with them instead of adding to
    the wall time), or first when the units run here."""
    global _WORK
    if processes <= 1 or len(units) <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        if alongside is not None:
            alongside()
        yield from (work(unit) for unit in units)
        return
    _WORK = work
    try:
        with ProcessPoolExecutor(min(processes, len(units)), mp_context=multiprocessing.get_context("fork"),
                                 initializer=gc.freeze) as pool:
            results = pool.map(_call, units)  # every unit submitted now; results in order
            if alongside is not None:
                alongside()
            yield from results
    except BrokenProcessPool:  # a worker killed (out of memory, a signal): the build stops, nothing written
        raise EnvironmentProblem("a PII worker process died mid-run; nothing was written (rerun, or use "
                                 "fewer --jobs if memory is short)") from None
    finally:
        _WORK = None


ENGINES = ("local", "ray")


@dataclass(frozen=True)
class Execution:
    """Where the PII work units run: ``local``, in ``jobs`` forked processes (1: in this process),
    or ``ray``, in ``jobs`` Ray actors on a Ray started for the run or on the cluster at
    ``address`` (``release.execution.workers``). The outputs never depend on it."""

    engine: str = "local"
    jobs: int = field(default_factory=usable_cores)
    address: str | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown engine; choose one of {', '.join(ENGINES)}", rule="engine")
        if self.jobs < 1:
            raise ConfigError("--jobs must be at least 1", rule="jobs")
        if self.address is not None and self.engine != "ray":
            raise ConfigError("--address names a Ray cluster: it needs --engine ray", rule="engine")
