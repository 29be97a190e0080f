"""PII test fixtures: one engine per session (loading the spaCy model is slow)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from pii.same_release import export  # noqa: F401 (the fixture, shared with tests/execution/)

from release.pii.engine import Detection, EngineSettings, PiiEngine, Redacted
from release.pii.terms import RecordTerms

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "redaction_rules" / "pii"
OFFICERS = ("QUILLFEATHER, ODO", "Marguerite Vantassel")


@pytest.fixture(scope="session")
def engine() -> PiiEngine:
    return PiiEngine(EngineSettings(rules_dir=RULES, officers=OFFICERS, n_process=1))


@pytest.fixture(scope="session")
def redact(engine: PiiEngine) -> Callable[..., Redacted]:
    def run(text: str, terms: RecordTerms | None = None, *, forced: Sequence[Detection] = (),
            placeholders: Sequence[tuple[int, int]] = ()) -> Redacted:
        return engine.redact_many([text], [terms or RecordTerms()], forced=[forced],
                                  placeholders=[placeholders])[0]

    return run


def ours(result: Redacted) -> list[tuple[int, int]]:
    """The output spans of the placeholders redaction wrote: what a re-scan must protect."""
    return [(r.out_start, r.out_end) for r in result.replacements]


def _survives(result: Redacted, original: str, value: str) -> bool:
    """True if any letter or digit of ``value`` (first occurrence) is left unredacted."""
    start = original.index(value)
    covered = bytearray(len(original))
    for r in result.replacements:
        covered[r.start : r.end] = b"\x01" * (r.end - r.start)
    return any(not covered[i] for i in range(start, start + len(value)) if original[i].isalnum())


@pytest.fixture(scope="session")
def survives() -> Callable[[Redacted, str, str], bool]:
    return _survives
