"""A bundle's files re-hashed against its manifest: what every reader checks before it trusts one.

Why here: the gate (approve, publish), the audit, the review packet and a published copy's
verification all ask the same question of a folder anyone can edit, and one answer keeps them
from disagreeing about which files count. Lists hold relative paths only, never content.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from release.bundle import manifest_parts
from release.bundle.layout import sha256_file
from release.bundle.manifest_recorded import Recorded

PUBLIC = "public"
# a name a message may print: plain file-name characters (no space), and nothing shaped like a value: no numbers
# joined by a separator (a date, a phone number), no run of five digits, no two capitalised words in a row (a
# person's name). The build's own names pass (``fioe_2020_contacts.csv``, ``x.part-001.csv``)
_PLAIN_NAME = re.compile(r"[A-Za-z0-9._/-]{1,96}")
_VALUE_LIKE = re.compile(r"\d[-./]\d|\d{5}|[A-Z][a-z]+[\W_]+[A-Z][a-z]+")


def shown(relpath: str) -> str:
    """A path found in a bundle or listed in its manifest, as a message may print it. Whoever put it there (or
    edited the manifest) also chose its name, which could carry a value (``Zebulon_Quartermaine_1999-03-14``): a
    name that looks like one is withheld, and the message still says what is wrong and where to look. A
    heuristic: a lower-case name can still pass; what goes out is held by the allow-list of files, not by this."""
    plain = _PLAIN_NAME.fullmatch(relpath) and not _VALUE_LIKE.search(relpath)
    return relpath if plain else "(a name not of the build's form, not printed)"


def special_entries(bundle: Path) -> int:
    """How many entries of ``bundle`` are neither a folder, a regular file nor a link: a FIFO, socket or device.
    Opening one can block a reader for ever (a FIFO named ``notes.csv`` hung approve, publish and the audit), so
    ``release.bundle.read.read_manifest`` refuses a bundle holding one before anything else reads it."""
    count = 0
    for path in bundle.rglob("*"):
        try:
            mode = path.lstat().st_mode
        except OSError:
            continue
        count += not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode))
    return count


@dataclass(frozen=True)
class Integrity:
    """Outputs re-hashed against the manifest. Lists hold relative paths only."""

    checked: int
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    unlisted: tuple[str, ...]      # files under public/ the manifest does not name
    malformed: tuple[str, ...]     # output entries without a usable path or hash

    @property
    def ok(self) -> bool:
        return self.checked > 0 and not (self.changed or self.missing or self.unlisted or self.malformed)

    def problems(self) -> list[str]:
        found = ([f"{shown(p)}: content differs from the manifest" for p in self.changed]
                 + [f"{shown(p)}: listed in the manifest but missing" for p in self.missing]
                 + [f"{shown(p)}: in public/ but not listed in the manifest" for p in self.unlisted]
                 + [f"manifest output {p}: no usable path or hash" for p in self.malformed])
        return found if self.checked else ["the manifest lists no outputs", *found]


def _safe_relpath(value: object) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts or "\\" in value:
        return None
    return str(path)


def _by_path(items: list[Any]) -> dict[str, dict[str, Any]]:
    """The listed files by path; an item without a usable path is left out (``verify_outputs`` names it)."""
    listed: dict[str, dict[str, Any]] = {}
    for item in items:
        if isinstance(item, dict) and (relpath := _safe_relpath(item.get("path"))):
            listed[relpath] = item
    return listed


def listed_outputs(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The public files ``manifest.json`` lists, by path."""
    return _by_path(Recorded.of(manifest).listed("outputs"))


def bundle_outputs(manifest: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The files that stay with the bundle, as its private part lists them (``manifest_parts.BUNDLE_FILES``)."""
    return _by_path(Recorded.of(manifest).listed(manifest_parts.BUNDLE_FILES))


def verify_outputs(bundle: Path, manifest: Mapping[str, Any]) -> Integrity:
    """The bundle's files against ``manifest`` (the merged one, ``read_manifest``): the public files
    ``manifest.json`` lists and the files its private part lists, which must be there."""
    recorded = Recorded.of(manifest)
    entries = [*recorded.listed("outputs"), *recorded.listed(manifest_parts.BUNDLE_FILES)]
    listed = {**listed_outputs(recorded), **bundle_outputs(recorded)}
    malformed = [str(i) for i, item in enumerate(entries)
                 if not isinstance(item, dict) or _safe_relpath(item.get("path")) is None
                 or not isinstance(item.get("sha256"), str)]
    changed, missing = [], ([] if (bundle / manifest_parts.PRIVATE_FILE).is_file() else [manifest_parts.PRIVATE_FILE])
    for relpath, item in listed.items():
        path = bundle / relpath
        if not path.is_file():
            missing.append(relpath)
        elif path.stat().st_size != item.get("bytes", path.stat().st_size) or sha256_file(path) != item.get("sha256"):
            changed.append(relpath)
    public = bundle / PUBLIC
    present = ({p.relative_to(bundle).as_posix() for p in public.rglob("*") if not p.is_dir() or p.is_symlink()}
               if public.is_dir() else set())
    unlisted = sorted(present - set(listed))
    return Integrity(len(listed), tuple(changed), tuple(missing), tuple(unlisted), tuple(malformed))
