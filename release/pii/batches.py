"""Batches of texts: each distinct text prepared once, the work cut into units.

The engine's public calls take parallel lists (texts, each record's terms, the spans a later
check forces on a text, the spans holding our own placeholders). What does not depend on the
record (NER, the rules, the per-text completers) is prepared once per distinct text and
placeholder set, then finished once per record that carries the text. Units of distinct
texts run here, in forked workers (``release.pii.parallel``) or on a ``runner``'s workers (Ray
actors, ``release.execution.ray_workers``), always handed back in order; the NER windows a forked
worker tagged come back to the parent's cache. No Presidio or spaCy here: the engine supplies
``_prepare``; and no stage: a verify round's leak checks and a table's group-by run where the
engine's work runs through ``release.execution.workers`` (``leak_check``, ``count``), which knows both.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

from release.errors import ReleaseError
from release.pii.assemble import Assembler, Prepared
from release.pii.parallel import run_units
from release.pii.placeholders import Detection, Redacted, detections, forced_candidates, merge, render
from release.pii.sentences import Entity, EntityCache, WindowKey
from release.pii.spans import Span
from release.pii.terms import RecordTerms

MIN_TEXTS_FOR_PROCESSES = 256
# With work of the caller's to run alongside (a later verify round's leak checks), a few texts
# are worth a fork: the workers scan while this process checks (measured: round 2 of the
# bundled sample, about 1 s less).
MIN_TEXTS_BESIDE_WORK = 16

# A distinct text and the spans of it that hold our own placeholders: what ``_prepare`` depends on.
TextKey = tuple[str, tuple[Span, ...]]
# One record's job on a distinct text: its index in the call, its terms, the spans forced on it.
_Job = tuple[int, RecordTerms | None, tuple[Detection, ...]]
_Unit = tuple[list[TextKey], list[list[_Job]], float | None]
_UnitResult = tuple[list[tuple[int, Any]], dict[WindowKey, tuple[Entity, ...]]]


def unit_bounds(count: int, size: int, processes: int) -> list[tuple[int, int]]:
    """Cut ``count`` texts into units of at most ``size``. With several processes the units
    shrink towards the end (once what is left fits in one unit per process, the size halves,
    down to 8 texts), so the workers finish close together instead of one waiting on the
    other's last big unit."""
    size = max(min(size, -(-count // max(processes, 1))), 1)
    floor = size if processes <= 1 else min(size, 8)
    bounds, start = [], 0
    while start < count:
        left = count - start
        step = size
        while step // 2 >= floor and left <= step * processes:
            step //= 2
        bounds.append((start, min(start + step, count)))
        start += step
    return bounds


class BatchSettings(Protocol):
    """What the batching reads of the engine's settings; a Protocol, so this module never imports the engine."""

    @property
    def threshold(self) -> float: ...
    @property
    def n_process(self) -> int: ...
    @property
    def batch_size(self) -> int: ...


class UnitRunner(Protocol):
    """Workers elsewhere, each with an engine of its own, that run ``Batcher._work`` on units."""

    @property
    def workers(self) -> int: ...

    def run(self, units: list[_Unit], alongside: Callable[[], None] | None) -> Iterator[_UnitResult]:
        """Every unit's result, in the units' order; ``alongside`` runs here once they are handed out."""
        ...


class Batcher:
    """``redact_many`` and ``scan_many`` over ``_prepare``, which the engine implements."""

    settings: BatchSettings
    assembler: Assembler
    ner_cache: EntityCache
    runner: UnitRunner | None = None  # set by release.execution.workers for --engine ray
    execution: dict[str, object] | None = None  # what the manifest records of the workers

    def _prepare(self, keys: Sequence[TextKey]) -> dict[TextKey, Prepared]:
        raise NotImplementedError

    def _work(self, unit: _Unit) -> _UnitResult:
        """Process distinct texts, each with every record that carries it; also return the
        windows newly tagged (a forked worker's cache would otherwise die with it)."""
        keys, jobs, scan_threshold = unit
        prepared = self._prepare(keys)
        out: list[tuple[int, Any]] = []
        for key, records in zip(keys, jobs, strict=True):
            ready = prepared[key]
            for index, record, forced in records:
                extra = forced_candidates(ready.views, forced)
                if scan_threshold is None:
                    found = self.assembler.final(ready, record, self.settings.threshold, extra)
                    out.append((index, render(ready.views, merge(found, ready.views))))
                else:
                    found = self.assembler.final(ready, None, scan_threshold, extra)
                    out.append((index, detections(ready.views, merge(found, ready.views))))
        return out, self.ner_cache.drain()

    def _run(self, texts: Sequence[str], records: Sequence[RecordTerms | None], scan_threshold: float | None,
             progress: Callable[[int], None] | None, forced: Sequence[Sequence[Detection]] | None,
             placeholders: Sequence[Sequence[Span]] | None,
             alongside: Callable[[], None] | None = None) -> list[Any]:
        """Dedupe texts, cut them into units, run the units here or in forked workers."""
        for name, given in (("forced", forced), ("placeholders", placeholders)):
            if given is not None and len(given) != len(texts):
                raise ReleaseError(f"{name} needs one entry per text")
        grouped: dict[TextKey, list[_Job]] = {}
        for index, (text, record) in enumerate(zip(texts, records, strict=True)):
            spans = tuple(sorted((int(a), int(b)) for a, b in placeholders[index])) if placeholders else ()
            extra = tuple(forced[index]) if forced else ()
            grouped.setdefault((text, spans), []).append((index, record, extra))
        distinct = list(grouped)
        if self.runner is not None:  # the workers are running already: every text goes to them
            processes = self.runner.workers
        else:
            processes = self.settings.n_process if len(distinct) >= MIN_TEXTS_FOR_PROCESSES or (
                alongside is not None and len(distinct) >= MIN_TEXTS_BESIDE_WORK) else 1
        units: list[_Unit] = [(distinct[i:j], [grouped[k] for k in distinct[i:j]], scan_threshold)
                              for i, j in unit_bounds(len(distinct), self.settings.batch_size * 2, processes)]
        results: list[Any] = [None] * len(texts)
        stream = (self.runner.run(units, alongside) if self.runner is not None
                  else run_units(self._work, units, processes, alongside))
        for done, tagged in stream:
            self.ner_cache.merge(tagged)
            for index, value in done:
                results[index] = value
            if progress is not None:
                progress(len(done))
        return results

    def redact_many(
        self,
        texts: Sequence[str],
        terms: Sequence[RecordTerms],
        progress: Callable[[int], None] | None = None,
        *,
        forced: Sequence[Sequence[Detection]] | None = None,
        placeholders: Sequence[Sequence[Span]] | None = None,
        alongside: Callable[[], None] | None = None,
    ) -> list[Redacted]:
        """Redact each text with its record's terms. ``progress`` gets increments of texts done.

        ``forced[i]``: spans of ``texts[i]`` (original offsets) that must be redacted, found by
        a later check; they join the candidates as they are (not trimmed, not kept as an
        officer, not thresholded) and keep their detector and rule id when they lead a merged
        span. ``placeholders[i]``: spans of ``texts[i]`` holding placeholders this engine wrote;
        only those are protected, anything else shaped like one is ordinary text. ``alongside``:
        the caller's own work, run in this process while the workers redact (``run_units``).
        """
        if len(texts) != len(terms):
            raise ReleaseError("redact_many needs one RecordTerms per text")
        return self._run(texts, list(terms), None, progress, forced, placeholders, alongside)

    def scan_many(self, texts: Sequence[str], *, threshold: float,
                  placeholders: Sequence[Sequence[Span]] | None = None,
                  progress: Callable[[int], None] | None = None,
                  alongside: Callable[[], None] | None = None) -> list[list[Detection]]:
        """Second scan of outputs (no record terms). ``placeholders[i]``: the spans of ``texts[i]``
        holding our placeholders, never reported; text merely shaped like one is scanned.
        ``progress`` gets increments of texts done, as in ``redact_many``. ``alongside``: the
        caller's own work, run in this process while the workers scan (``run_units``)."""
        return self._run(texts, [None] * len(texts), threshold, progress, None, placeholders, alongside)
