"""The bundle's file names, its file hash, the JSON form its files are written in, and the atomic
folder swap that puts a bundle or a published copy in place.

Every module that reads or writes a bundle takes these from here (the publish stage writes with
them; governance, audit and review read with them), so a file name or the hash is defined once.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from release.paths import sha256_file as sha256_file  # the one file hash, at the bottom of the house

MANIFEST = "manifest.json"
LOG = "redaction_log.jsonl"
APPROVALS = "approvals.jsonl"
SUMS = "SHA256SUMS"  # a published copy's file hashes
METADATA = (MANIFEST, APPROVALS, SUMS)
BLOCKING_FILE = "blocking.json"  # under review/: a blocked bundle's findings in context


def resource_paths(resource: Mapping[str, object]) -> list[str]:
    """A resource's files in order: its one path, or a multipart resource's list of paths."""
    path = resource.get("path")
    return [path] if isinstance(path, str) else [str(p) for p in path] if isinstance(path, list) else []


def resource_name(relpath: str) -> str:
    """A public file's name in the data package (its foreign keys name resources by it)."""
    return Path(relpath).stem.lower().replace(" ", "_")


def json_text(value: object, *, ascii_only: bool = False, sort: bool = False) -> str:
    """A JSON file as the build writes it: an indent of 2 and a final line end (``file_form`` holds every
    published JSON file to this). ``sort``: keys sorted, for the files whose key order must carry nothing."""
    return json.dumps(value, indent=2, ensure_ascii=ascii_only, sort_keys=sort) + "\n"


def staging_dir(parent: Path, prefix: str) -> Path:
    """A new empty folder in ``parent`` with the umask's permissions, to rename into place."""
    for _ in range(100):
        path = parent / f"{prefix}{secrets.token_hex(8)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"no free staging folder name in {parent}")


def swap_into_place(staging: Path, target: Path) -> None:
    """Rename ``staging`` to ``target``, replacing a previous ``target`` atomically enough that
    a crash leaves either the old or the new folder in place, never a mix."""
    if not target.exists():
        os.rename(staging, target)
        return
    retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rename(target, retired / "bundle")
    try:
        os.rename(staging, target)
    except BaseException:
        os.rename(retired / "bundle", target)
        raise
    shutil.rmtree(retired, ignore_errors=True)


def sums_order(copied: list[str]) -> list[str]:
    """The files ``SHA256SUMS`` lists, in its order: the public files copied, then the metadata."""
    return sorted(copied) + [MANIFEST, APPROVALS]
