"""The PII engine with the workers a run asked for (``run_options.Execution``).

One place starts them and stops them, for the build, ``release scan`` and the audit's residual
scan alike: ``local`` gives the engine ``jobs`` forked processes (``release.pii.parallel``);
``ray`` gives it Ray actors, each with an engine of its own (``release.pii.ray_workers``,
started only here, so Ray is imported only when asked for). Either way the results come back
in input order, so the outputs never depend on the engine or the number of workers;
``execution_section`` is what the manifest records of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import TYPE_CHECKING

from release.run_options import Execution

if TYPE_CHECKING:
    from release.pii.engine import EngineSettings, PiiEngine


@contextlib.contextmanager
def open_engine(settings: EngineSettings, execution: Execution) -> Iterator[PiiEngine]:
    """The engine, its workers started as ``execution`` says; they stop when the block ends."""
    from release.pii.engine import PiiEngine

    if execution.engine == "local":
        engine = PiiEngine(dataclasses.replace(settings, n_process=execution.jobs))
        engine.execution = {"engine": "local", "workers": execution.jobs}
        yield engine
        return
    from release.pii import ray_workers

    engine = PiiEngine(dataclasses.replace(settings, n_process=1))  # the driver's own: versions, few texts
    with ray_workers.started(settings, execution, engine.versions()) as workers:
        engine.runner = workers
        engine.execution = workers.section()
        yield engine


def execution_section(engine: object, execution: Execution) -> dict[str, object]:
    """The manifest's ``execution`` section: the engine and worker count asked for, and what the
    workers reported (their versions, under Ray); a run without free text started no workers."""
    ran = getattr(engine, "execution", None)
    if ran:
        return dict(ran)
    return {"engine": execution.engine, "workers": execution.jobs, "started": False}
