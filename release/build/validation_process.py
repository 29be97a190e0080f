"""The expectation suites, run in a process of their own that the build forks after the load.

Why: importing Great Expectations costs about 2 s of CPU (it imports scipy.stats, altair and
every expectation class). In the build's own process that import ran while the redaction
workers had both cores, so it added about a second to a year's build. Forked right after the
load, this process imports GE while the build loads the PII model (a core is idle then), and
validates the raw tables it inherited (copy-on-write, nothing is sent). It then waits for the
public tables, which the build sends once the verify rounds are done. Everything comes back as
values: results, findings, or the ``ReleaseError`` the suite raised, which the build re-raises
as if it had run here. Where fork is unavailable, each call runs in this process.

The process never writes a file and never prints (``validate_engine`` silences GE); a child
that dies is reported as an environment problem, without a traceback.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, cast

from release.errors import EnvironmentProblem, ReleaseError
from release.model import Finding
from release.stages.validate import SuiteResult, TableData, validate

Answer = tuple[list[SuiteResult], list[Finding]]
Request = tuple[Sequence[TableData], Path, str]


def _answer(request: Request) -> tuple[str, object]:
    tables, suite, stage = request
    try:
        return "ok", validate(tables, suite, stage=stage)
    except ReleaseError as error:
        return "error", error
    except Exception as error:  # GE or pandas: named, never quoted (it may carry cell values)
        return "error", ReleaseError(f"validation failed ({type(error).__name__})", file=str(suite))


def _serve(connection: Connection, first: Callable[[], Request]) -> None:
    connection.send(_answer(first()))
    while True:
        try:
            request = connection.recv()
        except EOFError:
            return
        if request is None:
            return
        connection.send(_answer(request))


class Validator:
    """One child process answering ``validate`` calls in order. ``first`` makes the first
    request in the child, from the memory it inherited (the raw tables: nothing is sent)."""

    def __init__(self, first: Callable[[], Request]) -> None:
        self._pending: Callable[[], Request] | None = None
        self._process: Any = None
        self._connection: Connection | None = None
        if "fork" not in multiprocessing.get_all_start_methods():
            self._pending = first
            return
        context = multiprocessing.get_context("fork")
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, first), daemon=True)
        self._process.start()
        child.close()

    def result(self) -> Answer:
        """The answer to the oldest request not yet collected (run here without a child)."""
        if self._connection is None:
            assert self._pending is not None
            tables, suite, stage = self._pending()
            self._pending = None
            return validate(tables, suite, stage=stage)
        try:
            kind, value = self._connection.recv()
        except (EOFError, OSError):
            raise EnvironmentProblem("the validation process ended before it answered "
                                     "(out of memory? run `release doctor`)") from None
        if kind == "error":
            assert isinstance(value, ReleaseError)
            raise value
        return cast(Answer, value)  # the child sends ("ok", validate(...)): an Answer

    def validate(self, tables: Sequence[TableData], suite: Path, *, stage: str) -> Answer:
        """Validate more tables (in the child, which has GE imported by now) and wait."""
        if self._connection is None:
            return validate(tables, suite, stage=stage)
        self._connection.send((tables, suite, stage))
        return self.result()

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.send(None)
            except OSError:
                pass
            self._connection.close()
            self._connection = None
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.terminate()
                self._process.join()
            self._process = None

