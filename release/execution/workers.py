"""The PII engine with the workers a run asked for (``run_options.Execution``).

One place starts them and stops them, for the build, ``release scan`` and the audit's residual
scan alike: ``local`` gives the engine ``jobs`` forked processes (``release.pii.parallel``);
``ray`` gives it Ray actors, each with an engine of its own (``release.execution.ray_workers``,
started only here, so Ray is imported only when asked for). Either way the results come back
in input order, so the outputs never depend on the engine or the number of workers;
``execution_section`` is what the manifest records of it. A verify round's leak checks and a
table's group-by run where the engine's work runs (``leak_check``, ``count``): here for a local
engine, on the actors under Ray. They are stage work, so they live here, above ``pii`` and
``stages``, and not on the engine.

A local engine's model and rules stay loaded in its process (``warm_engine``): a second run over
the same rule files (a notebook building several years, ``review --serve`` rebuilding, the audit's
re-detection after a build, a test session), in any folder and with any officer roster or
threshold, does not load them again. What is loaded is a function of the rule files and the
pinned model alone, so the shared part answers as a new load would; at most two are kept.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from release.pii.batches import UnitRunner
from release.pii.parallel import Execution

if TYPE_CHECKING:
    import pandas as pd

    from release.pii.engine import EngineSettings, PiiEngine
    from release.stages.leakcheck import Leak, LeakChecker
    from release.stages.tabulate import Contributions, Counted


@runtime_checkable
class StageRunner(UnitRunner, Protocol):
    """Workers that also run a verify round's leak checks and a table's group-by (the Ray actors)."""

    def leak_check(self, checker: LeakChecker, public: dict[str, pd.DataFrame]) -> list[Leak]:
        """``checker.check(public)``, its rows checked on the workers (``release.stages.leak_partitions``)."""
        ...

    def count(self, contributions: Contributions) -> Counted:
        """``tabulate.count(contributions)``, the rows cut by unit and bounded on the workers."""
        ...


class Running(Protocol):
    """What ``leak_check`` and ``count`` read of an engine: its workers, and what the manifest records."""

    runner: UnitRunner | None
    execution: dict[str, object] | None


def leak_check(engine: Running | None, checker: LeakChecker, public: dict[str, pd.DataFrame]) -> list[Leak]:
    """Both leak checks of a verify round (``LeakChecker.check``) where the engine's work runs: in this
    process for a local engine or none (its forked workers live only for one call of the engine, and the
    checks read the whole public frames); on the runner's workers, in row partitions merged in the same
    order, when there is one (``--engine ray``), so a cluster's driver does not search the whole corpus
    itself. The leaks are the same either way."""
    runner = engine.runner if engine is not None else None
    if engine is None or not isinstance(runner, StageRunner):
        return checker.check(public)
    found = runner.leak_check(checker, public)
    engine.execution = {**(engine.execution or {}), "leak_checks": "workers"}  # what the manifest records
    return found


def count(engine: Running | None, contributions: Contributions) -> Counted:
    """A table's group-by (``release.stages.tabulate.count``) where the engine's work runs: here for a
    local engine or none; bounded on the runner's workers, cut by privacy unit, when there is one
    (``--engine ray``). The counts are the same either way."""
    from release.stages import tabulate

    runner = engine.runner if engine is not None else None
    if engine is None or not isinstance(runner, StageRunner):
        return tabulate.count(contributions)
    counted = runner.count(contributions)
    engine.execution = {**(engine.execution or {}), "table_counts": "workers"}  # what the manifest records
    return counted


@contextlib.contextmanager
def open_engine(settings: EngineSettings, execution: Execution) -> Iterator[PiiEngine]:
    """The engine, its workers started as ``execution`` says; they stop when the block ends."""
    from release.pii.engine import PiiEngine

    if execution.engine == "local":
        engine = warm_engine(dataclasses.replace(settings, n_process=execution.jobs))
        engine.execution = {"engine": "local", "workers": execution.jobs}
        yield engine
        return
    from release.execution import ray_workers

    engine = PiiEngine(dataclasses.replace(settings, n_process=1))  # the driver's own: versions, few texts
    with ray_workers.started(settings, execution, engine.versions()) as workers:
        engine.runner = workers
        engine.execution = workers.section()
        yield engine


@contextlib.contextmanager
def kept(execution: Execution) -> Iterator[None]:
    """Inside the block, the runs share their workers: under Ray, one Ray and one set of actors for
    every run (``ray_workers.kept``: a run of many years starts them once); locally there is nothing
    to keep beyond the loaded model, which ``warm_engine`` keeps anyway."""
    if execution.engine != "ray":
        yield
        return
    from release.execution import ray_workers

    with ray_workers.kept(execution):
        yield


def forget_texts() -> None:
    """The loaded engines keep their model and rules but forget the texts they tagged (the NER memo,
    ``sentences.EntityCache``), and this process forgets the values it folded (``forget_values``):
    between the years of a run, whose texts do not repeat, the memos would otherwise grow with every
    year (``release.build.years``) and hold the last year's raw values."""
    for engine in _WARM.values():
        engine.ner_cache.clear()
    forget_values()
    from release.execution import ray_workers  # imports no Ray: it only asks a kept session's actors, if any

    ray_workers.forget_kept()  # and so do the actors a run of many years keeps


def forget_values() -> None:
    """Empty the memos of values this process keeps across calls: the leak checks' folded cells
    (``leakcheck.fold_map``) and the record terms' skeletons (``skeleton.skeleton_of``). Bounded,
    but they hold raw values, and filled year after year they grew a range run's memory by about
    15 MB a year at 1/10 of Boston's size until they were full (measured: 10,500 folded cells kept
    per year)."""
    from release.pii.skeleton import skeleton_of
    from release.stages.leakcheck import fold_map

    fold_map.cache_clear()
    skeleton_of.cache_clear()


_WARM: dict[str, PiiEngine] = {}
WARM_KEPT = 2


def warm_engine(settings: EngineSettings) -> PiiEngine:
    """An engine for ``settings``, sharing this process's loaded model and rules when it loaded the
    same rule files before (same digest, whichever folder holds them), loading them when not."""
    from release.pii import engine as engine_module

    made = engine_module.PiiEngine
    if made.__module__ != engine_module.__name__:  # a stand-in put in its place (tests): a new one each time
        return made(settings)
    from release.pii.rulefiles import rules_digest

    key = rules_digest(settings.rules_dir)
    loaded = _WARM.get(key)
    if loaded is None:
        engine = made(settings)
        if len(_WARM) >= WARM_KEPT:
            _WARM.pop(next(iter(_WARM)))
        _WARM[key] = engine
        return engine
    return made(settings, loaded)


def execution_section(engine: object, execution: Execution) -> dict[str, object]:
    """The manifest's ``execution`` section: the engine and worker count asked for, and what the
    workers reported (their versions, under Ray); a run without free text started no workers."""
    ran = getattr(engine, "execution", None)
    if ran:
        return dict(ran)
    return {"engine": execution.engine, "workers": execution.jobs, "started": False}
