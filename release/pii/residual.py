"""Residual PII: what the scan of a redacted text still finds, shared by the build's verify rounds and the audit.

Both read texts this package already redacted, with the placeholders it wrote protected and the spans a
reviewer ruled "keep" left alone; they differ only in what they do with a hit (the build forces it into the
next round, unless the cell is not published; the audit reports it), so that stays with them. Each distinct
text and placeholder set is scanned once; kept spans are per item, after the scan, since two cells holding the
same text may carry different rulings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Protocol, TypeAlias

if TYPE_CHECKING:  # the audit imports this module: it stays cheap (no lexicon behind the engine's types)
    from release.pii.placeholders import Detection
    from release.pii.spans import Span

# (distinct texts, the spans of each holding our placeholders) -> what the scan finds in each text, in order:
# an engine's ``scan_many`` bound to its threshold (``scan_residual``), or the audit's injected scanner
Scanner: TypeAlias = "Callable[[list[str], list[tuple[Span, ...]]], list[list[Detection]]]"
_TextKey: TypeAlias = "tuple[str, tuple[Span, ...]]"


class Scans(Protocol):
    """What the residual scan needs of the PII engine (``release.pii.engine.PiiEngine``); a Protocol, so this
    module never imports the engine (nor Presidio)."""

    def scan_many(self, texts: Sequence[str], *, threshold: float,
                  placeholders: Sequence[Sequence[Span]] | None = None,
                  progress: Callable[[int], None] | None = None,
                  alongside: Callable[[], None] | None = None) -> list[list[Detection]]: ...


@dataclass(frozen=True)
class ResidualText:
    """One redacted text to check: the spans of it holding the placeholders redaction wrote (only those are
    protected) and the spans a reviewer kept (output offsets both)."""

    text: str
    placeholders: tuple[Span, ...] = ()
    kept: tuple[Span, ...] = ()

    @property
    def key(self) -> _TextKey:
        """What the scan depends on; the placeholders sorted, as the engine reads them."""
        return self.text, tuple(sorted(self.placeholders))


def residual_hits(items: Sequence[ResidualText], scan: Scanner) -> list[list[Detection]]:
    """Per item, in order, what ``scan`` finds outside the spans kept for it; each distinct text scanned once.

    ``scan`` is called once, even with no text: the audit shows one progress stage per free-text column."""
    groups = _grouped(items)
    keys = list(groups)
    found: list[list[Detection]] = [[] for _ in items]
    # the scanner answers each text it is given: a text left unanswered would pass unscanned (strict)
    for key, detections in zip(keys, scan([text for text, _ in keys], [placed for _, placed in keys]), strict=True):
        for index in groups[key]:
            kept = items[index].kept
            found[index] = [hit for hit in detections if not any(s < hit.end and hit.start < e for s, e in kept)]
    return found


def scan_residual(engine: Scans, items: Sequence[ResidualText], *, threshold: float,
                  progress: Callable[[int], None] | None = None,
                  alongside: Callable[[], None] | None = None) -> list[list[Detection]]:
    """``residual_hits`` through ``engine.scan_many`` at ``threshold``. ``progress`` gets increments of items
    done, as ``scan_many`` counts its texts (an item repeating an earlier one's text is done with it);
    ``alongside``: the caller's own work, run while the engine's workers scan (``scan_many``)."""
    def scan(texts: list[str], placeholders: list[tuple[Span, ...]]) -> list[list[Detection]]:
        return engine.scan_many(texts, threshold=threshold, placeholders=placeholders,
                                progress=_per_item(progress, items), alongside=alongside)
    return residual_hits(items, scan)


def _per_item(progress: Callable[[int], None] | None, items: Sequence[ResidualText]) -> Callable[[int], None] | None:
    """``progress`` in items, from the engine's increments in distinct texts. ``scan_many`` finishes its texts
    in the order given (its units come back in order), so once it has done n of them, the items carrying the
    first n are done; without a repeated text the increments are the engine's own."""
    weights = [len(carried) for carried in _grouped(items).values()]
    if progress is None or len(weights) == len(items):
        return progress
    done = list(accumulate(weights, initial=0))  # items done once the first n distinct texts are
    texts = reported = 0

    def advance(count: int) -> None:
        nonlocal texts, reported
        texts = min(texts + count, len(weights))
        progress(done[texts] - reported)
        reported = done[texts]
    return advance


def _grouped(items: Sequence[ResidualText]) -> dict[_TextKey, list[int]]:
    """The indices of the items carrying each distinct text, the texts in the order they first come."""
    groups: dict[_TextKey, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(item.key, []).append(index)
    return groups
