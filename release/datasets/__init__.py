"""Dataset-specific steps that a policy alone cannot express.

Each dataset may have a module here exposing ``derive(context) -> Derived``. The
orchestrator calls it after generalization and before the public checks: it can exclude
rows by the dataset's counting rules, compute official tables (the FBI clearance method,
daily firearm counts), protect small classes, and hand frames to the aggregate-tables
path. It never does I/O and never sees anything but the frames it is given.

What the module publishes besides the frames is declared once, so that a reader holds a bundle to
it without the raw export (``release.audit.trusted_manifest``, ``release.audit.public_content``): its notes
(``NOTES``, each a ``Note`` with numbered slots; ``note_words(policy)`` the trusted policy's words a
slot may hold), its derived files (``DERIVED_FILES``) and each one's data package resource
(``public_file(policy, dataset, year, frame)``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from release.config.datasets import BY_NAME
from release.config.policy import DatasetPolicy
from release.keys.hmac import Tokenizer
from release.model import Finding, RedactionEvent, Tables
from release.stages.publish import PublicFile


def derived_columns(dataset: str, policy: DatasetPolicy, year: int) -> list[str] | None:
    """The columns of the dataset's derived file, in order, as its module declares them (its
    ``public_file``'s ``field_types`` name every column): never read back from a published file
    (round 27 review: an added column of counts passed when the header was its own reference)."""
    made = derived_public_file(dataset, policy, year, pd.DataFrame())
    return list(made.field_types) if made is not None else None


@dataclass(frozen=True)
class DeriveContext:
    """What a dataset's ``derive`` is given: the year's frames as loaded and as redacted, its policy and the
    release tokenizer; nothing to read or write."""

    dataset: str
    year: int
    policy: DatasetPolicy
    raw: Tables          # as loaded (raw-only columns present), rows within the policy's years
    public: Tables       # after redaction and generalization: public columns + "_row_key"
    tokenizer: Tokenizer


@dataclass(frozen=True)
class Derived:
    """What ``derive`` hands back to the orchestrator; every field is empty by default, so a module returns only
    what it changes or adds."""

    # Replacement record-level public frames (same names as policy.files; public columns +
    # "_row_key"), e.g. after exclusions or k-anonymity generalization. Absent names keep theirs.
    public: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    # Extra public files (official exact tables, daily counts), relpath under the bundle.
    files: tuple[PublicFile, ...] = ()
    # Frames for the aggregate tables path (release.build.tables.build_tables), by frame name.
    table_frames: Mapping[str, pd.DataFrame] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    events: tuple[RedactionEvent, ...] = ()
    # Plain-language lines for the review packet (what was excluded and why, counting rules): each one
    # of the module's ``NOTES`` filled in (``Note``), which the trusted checks hold the manifest to.
    notes: tuple[str, ...] = ()


INTEGER = r"-?[0-9]+"
WORD = "(?:{words})"  # in a slot's pattern: one of the words the trusted policy gives (``note_words``)
_SLOT = re.compile(r"\{([a-z_0-9]+)\}")


@dataclass(frozen=True)
class Note:
    """A line of the dataset's notes, declared once in its module (``NOTES``): the build fills its slots
    (``note(**slots)``) and the trusted checks hold a manifest's ``dataset_notes`` to it
    (``release.audit.trusted_manifest``). A slot the trusted policy gives (the release ``year``, and what the
    module's ``note_values`` returns: a bound, a first year) must hold exactly that value; any other
    holds a number unless ``slots`` gives its pattern, which may name the trusted policy's words
    (``WORD``): never free text."""

    text: str
    slots: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, **values: object) -> str:
        return self.text.format(**values)

    def pattern(self, words: Iterable[str], given: Mapping[str, object]) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True)) or "(?!)"
        parts, at = [], 0
        for slot in _SLOT.finditer(self.text):
            name = slot.group(1)
            form = re.escape(str(given[name])) if name in given else \
                self.slots.get(name, INTEGER).replace(WORD, f"(?:{alternatives})")
            parts += [re.escape(self.text[at:slot.start()].replace("{{", "{").replace("}}", "}")), f"(?:{form})"]
            at = slot.end()
        parts.append(re.escape(self.text[at:].replace("{{", "{").replace("}}", "}")))
        return re.compile("".join(parts))


def note_problems(dataset: str, policy: DatasetPolicy, year: int, notes: Iterable[object]) -> list[int]:
    """The positions (1-based) of ``notes`` that are not a line of the dataset's ``NOTES`` with the
    trusted policy's values in the slots it gives, and only numbers (or its words) in the others."""
    module = _module(dataset)
    words = tuple(getattr(module, "note_words", lambda p: ())(policy))
    given = {"year": year, **getattr(module, "note_values", lambda p, y: {})(policy, year)}
    patterns = [n.pattern(words, given) for n in getattr(module, "NOTES", ())]
    shapes: set[str] = set()
    problems = []
    for i, line in enumerate(notes, start=1):
        # a line may repeat a template only with other words in its slots (one per flag): never the same
        # words with other numbers, nor the same line twice (round 26, M-notes-repeat, M-slot)
        shape = re.sub(INTEGER, "#", line) if isinstance(line, str) else None
        if shape is None or shape in shapes or not any(p.fullmatch(line) for p in patterns):
            problems.append(i)
        else:
            shapes.add(shape)
    return problems


def _module(dataset: str) -> object | None:
    """The dataset's module here (the registry's ``derive``), or None when it has none."""
    entry = BY_NAME.get(dataset)
    return importlib.import_module(entry.derive) if entry is not None and entry.derive else None


def deriver(dataset: str) -> Callable[[DeriveContext], Derived] | None:
    """The dataset's ``derive`` function, or None when the policy alone suffices."""
    return getattr(_module(dataset), "derive", None)


def derived_files(dataset: str, year: int) -> frozenset[str]:
    """The files (paths in the bundle) the dataset's module may derive for ``year``, from its
    ``DERIVED_FILES``: with the policy's record-level files and the declared tables, the only data
    files a release of it publishes (``release.audit.public_content``)."""
    return frozenset(t.format(dataset=dataset, year=year) for t in getattr(_module(dataset), "DERIVED_FILES", ()))


def derived_public_file(dataset: str, policy: DatasetPolicy, year: int, frame: pd.DataFrame) -> PublicFile | None:
    """The dataset's derived file (its ``DERIVED_FILES``) with ``frame`` as its module publishes it (its
    ``public_file``): with an empty frame, what its data package resource is regenerated from."""
    make = getattr(_module(dataset), "public_file", None)
    return make(policy, dataset, year, frame) if make is not None else None


@dataclass(frozen=True)
class PublicFrames:
    """The record files after generalization and the dataset's derive step, with what they found."""

    public: Tables
    findings: list[Finding]
    events: list[RedactionEvent]
    derived: Derived


CellDecisions = Callable[[Tables], tuple[Tables, list[RedactionEvent], list[Finding]]]


def derive_public(dataset: str, year: int, policy: DatasetPolicy, raw: Tables, redacted: Tables,
                  minors: frozenset[str], tokenizer: Tokenizer,
                  cell_decisions: CellDecisions | None = None) -> PublicFrames:
    """Generalize the ``redacted`` tables, apply a reviewer's cell decisions, run the dataset's
    derive step: the one path from a loaded export to the public files and the tables' frames, which
    the build (each verify round, ``release.build.orchestrator``) and ``release audit --raw`` (recounting the
    noisy tables' counts without the PII model, ``redacted`` being the raw tables) both take."""
    from release.stages import generalize as generalize_stage

    public, findings, events = generalize_stage.generalize(redacted, policy, minors, tokenizer)
    if cell_decisions is not None:
        public, cell_events, cell_findings = cell_decisions(public)
        findings, events = findings + cell_findings, events + cell_events
    derived = Derived()
    derive = deriver(dataset)
    if derive is not None:
        derived = derive(DeriveContext(dataset, year, policy, raw, public, tokenizer))
        public = public.replace(**dict(derived.public))
        findings, events = findings + list(derived.findings), events + list(derived.events)
    return PublicFrames(public, findings, events, derived)
