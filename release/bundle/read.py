"""Reading a bundle as every reader reads it: its manifest (with the bundle's private part) and its
published files (a CSV, or a record-level file's CSV parts joined in order).

Governance, the audit, the review and the build's reading of earlier bundles all read through here,
so a damaged or altered file is refused the same way, by file and rule, whoever reads it.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from release.bundle import manifest_parts
from release.bundle.integrity import special_entries
from release.bundle.layout import MANIFEST, sha256_file
from release.bundle.manifest_recorded import Recorded
from release.errors import ApprovalError, InputError, ReleaseError


def read_manifest(bundle: Path, error: type[ReleaseError] = ApprovalError) -> Recorded:
    """The bundle's manifest with its private part, when it has one (a published copy has none): the one reader
    of a manifest. A missing file, one that is not JSON or not an object is an ``error`` naming it; anything
    else is read as it is (``Recorded``), and the checks hold it to the model."""
    path = bundle / MANIFEST
    if not path.is_file():
        raise error("no manifest: not a release bundle", file=str(path), rule="manifest")
    if special := special_entries(bundle):  # before anything opens a file of it: a FIFO blocks its reader
        raise error(f"the bundle holds {special} special entr{'y' if special == 1 else 'ies'} (a FIFO, socket or "
                    "device: neither a file nor a folder, and not named here); a bundle holds files only: remove "
                    f"{'it' if special == 1 else 'them'}", file=str(bundle), rule="integrity")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise error("manifest is not valid JSON", file=str(path), rule="manifest") from None
    if not isinstance(manifest, dict):
        raise error("manifest is not a JSON object", file=str(path), rule="manifest")
    return Recorded(manifest_parts.merged(bundle, manifest))  # with the bundle's private part, when it is there


def manifest_sha256(bundle: Path) -> str:
    return sha256_file(bundle / MANIFEST)


def read_public_csv(source: Path | str) -> pd.DataFrame:
    """A published CSV (a path, or its text) as strings, an empty cell as None. A file that
    is not UTF-8 CSV is an InputError naming it (the bundle was altered or damaged)."""
    name = str(source) if isinstance(source, Path) else None
    try:
        text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"published file is not readable UTF-8 CSV ({type(exc).__name__})", file=name,
                         rule="public-file") from None
    return pd.DataFrame({c: pd.Series([v if v != "" else None for v in frame[c].tolist()], dtype=object)
                         for c in frame.columns}, columns=frame.columns)


def read_public_record(public: Path, relpath: str, limit: int | None = None) -> pd.DataFrame | None:
    """A published record-level file read whole, as ``read_public_csv`` reads a CSV: the file, or its
    CSV parts joined in order (``record_parts.read_text``; ``limit``: the trusted policy's
    ``publish.csv_row_limit``). None when it is not under ``public`` in either form; an InputError
    naming it when it cannot be read or its parts are not the ones the build writes. Every reader of a
    record file reads it through here, so none reads one part as if it were the whole year."""
    from release.bundle import record_parts

    text = record_parts.read_text(public, relpath, limit)
    if text is None:
        return None
    try:
        return read_public_csv(text)
    except InputError as exc:
        raise InputError(exc.message, file=str(public / relpath), rule=exc.rule) from None


def manifest_privacy(manifest: Mapping[str, object]) -> Mapping[str, Any]:
    """A manifest's ``privacy`` section, or an empty one when it is missing or not an object
    (a damaged manifest is the integrity checks' to report, not this reader's)."""
    privacy = Recorded.of(manifest).privacy
    # a bundle's measurements and spends with their charges' hashes, which its private part keeps (round 31, R1)
    return manifest_parts.with_item_fields("privacy", privacy) if privacy is not None else {}
