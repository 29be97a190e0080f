"""Keeping the garbage collector off what a build holds until it ends.

A build loads a model, rules and tables that live until it returns, and each full pass of
the cyclic collector walked all of them again (about three seconds of CPU in a ``release
fioe`` year). Inside ``settled`` the heap that exists is frozen (``gc.freeze``), and so is
what ``settle`` is called after (the engine, each round's redaction); at the end everything
is unfrozen, so a long-running process (``review --serve``) collects it as usual afterwards.
Reference counting frees as usual throughout; only cyclic garbage made before a freeze
waits until the build ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_depth = 0


@contextlib.contextmanager
def settled() -> Iterator[None]:
    """Freeze the heap now and on each ``settle``; unfreeze when the outermost block ends."""
    global _depth
    gc.freeze()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()


def settle() -> None:
    """Inside ``settled``: what exists now lives until the build ends; freeze it too."""
    if _depth:
        gc.freeze()
