"""Running the engine's work units in forked worker processes.

spaCy's own ``n_process`` parallelises only NER, leaving Presidio and our detectors in
the parent, which then becomes the bottleneck on a two-core machine. Forking after the
model is loaded shares it copy-on-write, and each worker does all the work for its
units. Where fork is unavailable, or the input is small, units run in this process.

Each worker freezes the heap it inherits (``gc.freeze``): the model, the rules and the
parent's tables outlive the worker, so its collector never walks them (walking them cost
CPU in every worker, and its reference-count writes copied shared pages).
"""

from __future__ import annotations

import gc
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

Unit = TypeVar("Unit")

_WORK: Callable[[Any], Any] | None = None


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
        with multiprocessing.get_context("fork").Pool(min(processes, len(units)), initializer=gc.freeze) as pool:
            results: Iterable[Any] = pool.imap(_call, units)
            if alongside is not None:
                alongside()
            yield from results
    finally:
        _WORK = None
