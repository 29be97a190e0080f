"""What the review packet is rendered from: ``PacketInputs`` and the previous release.

The packet reads only what a bundle publishes or records (public CSVs, the redaction log,
the sanitized validation results, the manifest). This module owns gathering those inputs,
either from what the orchestrator holds before it writes (``inputs_from_build``) or from a
written bundle (``inputs_from_bundle``), so both paths render byte-identical packets. It
also owns ``PreviousRelease``, the same dataset's earlier bundle the packet compares against.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from release.bundle import record_parts
from release.bundle.integrity import listed_outputs
from release.bundle.jsonl import text_lines
from release.bundle.layout import BLOCKING_FILE, LOG
from release.bundle.manifest_recorded import Recorded
from release.bundle.read import read_manifest, read_public_csv, read_public_record
from release.stages.publish import PublicFile


def _pattern(relpath: str, year: str) -> str:
    return relpath.removeprefix("public/").replace(year, "{year}")


def _privacy(manifest: Mapping[str, Any]) -> dict[str, str]:
    privacy = Recorded.of(manifest).privacy
    if privacy is None:
        return {}
    def show(value: object) -> str:
        if isinstance(value, dict):
            return ", ".join(f"{k} {v}" for k, v in sorted(value.items())) if all(
                not isinstance(v, (dict, list)) for v in value.values()) else f"{len(value)} entries"
        return f"{len(value)} entries" if isinstance(value, list) else str(value)
    return {str(k): show(v) for k, v in sorted(privacy.items())}


def _rules(manifest: Mapping[str, Any]) -> dict[str, str]:
    return {str(f.get("path")): str(f.get("sha256")) for f in Recorded.of(manifest).rule_files}


@dataclass(frozen=True)
class PreviousRelease:
    """What the packet compares against: the same dataset's previous bundle."""

    year: str
    rows: Mapping[str, int]                   # file name with its year as "{year}" -> rows
    columns: Mapping[str, tuple[str, ...]]
    privacy: Mapping[str, str]
    rules: Mapping[str, str]                  # rule file -> sha256

    @classmethod
    def from_bundle(cls, bundle: Path) -> PreviousRelease:
        manifest = read_manifest(bundle)
        year = manifest.shown("year", bundle.name)
        rows: dict[str, int] = {}
        columns: dict[str, tuple[str, ...]] = {}
        for relpath, item in listed_outputs(manifest).items():
            path = bundle / relpath
            if relpath.startswith("public/") and relpath.endswith(".csv") and path.is_file():
                key = _pattern(record_parts.whole_name(relpath), year)  # a record file's parts count as the file
                with path.open(encoding="utf-8", newline="") as handle:
                    columns[key] = tuple(next(csv.reader(handle), []))
                rows[key] = rows.get(key, 0) + (item["rows"] if isinstance(item.get("rows"), int)
                                                else len(read_public_csv(path)))
        return cls(year, rows, columns, _privacy(manifest), _rules(manifest))


@dataclass(frozen=True)
class PacketInputs:
    """Everything the packet is rendered from, whether the build holds it or a written bundle does."""

    manifest: Mapping[str, Any]               # "outputs" is ignored: the packet is one of them
    public: Mapping[str, pd.DataFrame]        # "public/<file>.csv" -> cells as str/None
    log_lines: tuple[str, ...]
    validation: Mapping[str, str]             # review/validation_*.json texts
    previous: PreviousRelease | None = None
    blocking: tuple[Mapping[str, object], ...] = ()  # review/blocking.json: what blocks, in context


def inputs_from_build(public_files: Sequence[PublicFile], log_lines: Sequence[str],
                      review_files: Mapping[str, str], manifest: Mapping[str, object],
                      previous_bundle: Path | None = None) -> PacketInputs:
    """What the orchestrator holds before writing; frames go through the CSV writer so the
    packet is byte-identical to one rendered later from the written bundle."""
    public = {}
    for item in public_files:
        if item.relpath.endswith(".csv"):
            text = io.StringIO()
            item.frame.to_csv(text, index=False, lineterminator="\n")
            public[item.relpath] = read_public_csv(text.getvalue())
    validation = {k: v for k, v in review_files.items() if k.startswith("validation_")}
    return PacketInputs(manifest, public, tuple(log_lines), validation,
                        PreviousRelease.from_bundle(previous_bundle) if previous_bundle else None,
                        _blocking(review_files.get(BLOCKING_FILE)))


def _blocking(text: str | None) -> tuple[Mapping[str, object], ...]:
    if not text:
        return ()
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        return ()
    return tuple(i for i in items if isinstance(i, dict)) if isinstance(items, list) else ()


def inputs_from_bundle(bundle: Path, previous_bundle: Path | None = None) -> PacketInputs:
    manifest = read_manifest(bundle)
    public: dict[str, pd.DataFrame] = {}
    for path in sorted((bundle / "public").rglob("*.csv")):  # a record file's CSV parts read as the file, whole
        name = record_parts.whole_name(path.relative_to(bundle / "public").as_posix())
        if path.is_file() and f"public/{name}" not in public:
            frame = read_public_record(bundle / "public", name)
            if frame is not None:
                public[f"public/{name}"] = frame
    log = bundle / LOG
    lines = tuple(text_lines(log))
    validation = {p.name: p.read_text(encoding="utf-8") for p in sorted((bundle / "review").glob("validation_*.json"))}
    blocking = bundle / "review" / BLOCKING_FILE
    return PacketInputs(manifest, public, lines, validation,
                        PreviousRelease.from_bundle(previous_bundle) if previous_bundle else None,
                        _blocking(blocking.read_text(encoding="utf-8") if blocking.is_file() else None))
