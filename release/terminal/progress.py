"""Progress on stderr for the command line: renders the stages the library reports.

The library reports progress through ``release.build.options.Progress`` and never draws; the
CLI hands it a ``RichProgress`` (or ``Silent`` with ``--json``). A stage with a total is a bar
(done/total, elapsed, time left), advanced text by text; a stage without one is a spinner
with its elapsed time, so a long step never sits behind a bar that says ``0/1``. Stages
opened while another is running (a scanner inside an audit check) join the same display,
since a terminal holds one live display at a time. Nothing is drawn when stderr is not a
terminal (logs, pipes, tests): a frozen final frame in a log says less than the result.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress_bar import ProgressBar
from rich.text import Text


class _Count(ProgressColumn):
    """``done/total`` for a counted stage; nothing for a spinner (never ``0/?``)."""

    def render(self, task: Task) -> Text:
        if task.total is None or not task.fields.get("counted"):
            return Text("")
        return Text(f"{int(task.completed)}/{int(task.total)}", style="progress.download")


class _Bar(ProgressColumn):
    """A bar only where there is something to measure; a spinner stage has its spinner."""

    def __init__(self) -> None:
        super().__init__()
        self.bar = BarColumn()

    def render(self, task: Task) -> Text | ProgressBar:
        return self.bar.render(task) if task.fields.get("counted") else Text("")


class _Remaining(TimeRemainingColumn):
    """Time left, only where it can be estimated (a counted stage)."""

    def render(self, task: Task) -> Text:
        return super().render(task) if task.fields.get("counted") else Text("")


class RichProgress:
    """A ``Progress`` drawing rich bars and spinners on stderr (or on ``console``)."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._display: Progress | None = None

    def _columns(self) -> list[ProgressColumn]:
        return [SpinnerColumn(finished_text="[green]✓"), TextColumn("{task.description}"),
                _Bar(), _Count(), TimeElapsedColumn(), _Remaining()]

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        if not self.console.is_terminal:
            yield lambda n: None
            return
        if self._display is not None:  # nested: one more line in the running display
            with self._task(self._display, name, total) as advance:
                yield advance
            return
        display = Progress(*self._columns(), console=self.console, transient=False)
        self._display = display
        try:
            with display, self._task(display, name, total) as advance:
                yield advance
        finally:
            self._display = None

    @staticmethod
    @contextlib.contextmanager
    def _task(display: Progress, name: str, total: int | None) -> Iterator[Callable[[int], None]]:
        counted = bool(total)
        task = display.add_task(name, total=total if counted else None, counted=counted)
        yield lambda n: display.advance(task, n)
        # finished: a counted bar shows its full count, a spinner its check mark
        display.update(task, total=total if counted else 1, completed=total if counted else 1)
