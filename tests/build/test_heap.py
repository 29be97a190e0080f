"""The build's frozen heap (release.build.heap): frozen while a build runs, unfrozen when it ends,
so a long-running process (``review --serve``) collects a build's cyclic garbage afterwards."""

from __future__ import annotations

import gc
import weakref

from release.build import heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


def test_the_heap_is_frozen_during_a_build_and_unfrozen_after() -> None:
    assert gc.get_freeze_count() == 0
    heap.settle()  # outside a build: nothing is frozen
    assert gc.get_freeze_count() == 0
    with heap.settled():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        made_later = [[] for _ in range(1000)]
        heap.settle()
        assert gc.get_freeze_count() >= frozen + len(made_later)
        with heap.settled():  # a build inside a build's process: only the outer block unfreezes
            pass
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_cyclic_garbage_frozen_during_a_build_is_collected_after_it() -> None:
    with heap.settled():
        node = _Node()
        alive = weakref.ref(node)
        heap.settle()
        del node
        gc.collect()
        assert alive() is not None  # frozen: the collector does not walk it during the build
    gc.collect()
    assert alive() is None
