"""Ray's calls as ``release.execution.ray_workers.RayWorkers`` makes them, answered at once in this process:
the driver's side under ``--engine ray`` (spreading, merging, the workers' checks) tested without
starting Ray (``tests/execution/test_engine_ray*.py`` start it)."""

from __future__ import annotations

import contextlib
import gc
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest


class _Ref:
    def __init__(self, value: object) -> None:
        self.value = value

    def hex(self) -> str:
        return f"{id(self):x}"


class InProcessRay:
    """The calls ``RayWorkers`` and its ``Worker``s make, answered at once in this process."""

    __version__ = "in-process"
    exceptions = types.SimpleNamespace(**{name: type(name, (Exception,), {})
                                          for name in ("RayTaskError", "RayActorError", "RayError")})

    def __init__(self) -> None:
        self.put_values: list[object] = []  # what went to the object store
        self.fetched: list[object] = []     # what the driver or a worker fetched from it

    def remote(self, **options: object) -> Callable[[type], object]:
        return lambda cls: types.SimpleNamespace(remote=lambda *args: _Actor(cls(*args)))

    def put(self, value: object) -> _Ref:
        self.put_values.append(value)
        return _Ref(value)

    def get(self, ref: object) -> object:
        if isinstance(ref, list):
            return [r.value for r in ref]
        self.fetched.append(ref.value)
        return ref.value

    def wait(self, refs: list[_Ref], num_returns: int = 1) -> tuple[list[_Ref], list[_Ref]]:
        return refs[-num_returns:], refs[:-num_returns]  # the last handed out finishes first


class _Actor:
    def __init__(self, worker: object) -> None:
        self.worker, self.parts = worker, []
        self.calls: dict[str, list[tuple[object, ...]]] = {}  # each method's calls, their arguments

    def __getattr__(self, method: str) -> object:
        def remote(*args: object) -> _Ref:
            args = tuple(a.value if isinstance(a, _Ref) else a for a in args)  # as Ray: a reference given as it is
            self.calls.setdefault(method, []).append(args)
            if method == "leaks":
                self.parts.append((args[2].name, args[2].frame.index[0]))  # the partition: its file, first row
            return _Ref(getattr(self.worker, method)(*args))
        return types.SimpleNamespace(remote=remote)


DRIVER = {"model_fingerprint": "f" * 64, "rules_digest": "d" * 64}


@dataclass(frozen=True)
class Settings:  # what Worker reads of the engine's settings
    n_process: int = 2



@contextlib.contextmanager
def in_process_workers(monkeypatch: pytest.MonkeyPatch, jobs: int = 2) -> Iterator[tuple[object, InProcessRay]]:
    """``jobs`` ``Worker``s (their engine a stand-in with the driver's versions) behind ``RayWorkers``."""
    from release.execution import ray_workers
    from release.pii import engine
    from release.pii.parallel import Execution

    fake = InProcessRay()
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.setattr(engine, "PiiEngine", lambda settings, loaded=None: types.SimpleNamespace(
        versions=lambda: dict(DRIVER), ner_cache=set()))
    try:
        yield ray_workers.RayWorkers(fake, Settings(), Execution(engine="ray", jobs=jobs), DRIVER), fake
    finally:
        gc.unfreeze()  # Worker freezes what it loaded; here that is the test session's heap
