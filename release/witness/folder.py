"""The folder witness, the lower tier (``witness: /path`` in privacy.yaml): files the analyst's own
builds create, outside the ledger.

It holds ``ledger_id`` (the hash of the ledger's first entry, created with O_EXCL at first use) and
one file per ledger entry, ``<seq>.json`` (seq, hash, kind, prev), each created with O_EXCL and
never overwritten, just before the ledger's write transaction commits. Two copies of one ledger
cannot both append entry N: the second O_EXCL fails and its transaction rolls back.

Why it is kept, and why it is the lower tier: it needs no service and catches every rollback,
replacement or copy by anyone who cannot write the folder, and every accident. It does not stop
the account that writes it: that account owns the files it creates and can rewrite them even
under ``chattr +a`` (attack 2f-rw), and can mount a copy over the folder's path in a private
namespace and draw there (2f-ns). ``release doctor`` warns whenever this tier is configured; the
witness service (``release.witness.service``) is the one an analyst cannot forge.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import BudgetError
from release.witness.anchor import RESTORE, View

if TYPE_CHECKING:
    from release.privacy.ledger import Entry

LEDGER_ID = "ledger_id"


@dataclass(frozen=True)
class Mark:
    """What the witness keeps of one ledger entry."""

    seq: int
    hash: str
    kind: str
    prev: str

    def text(self) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash, "kind": self.kind, "prev": self.prev},
                          sort_keys=True) + "\n"


def _create(path: Path, text: str) -> bool:
    """Write a new file with O_EXCL (False when it exists already); never overwrites."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def _read_mark(path: Path) -> Mark | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Mark(int(data["seq"]), str(data["hash"]), str(data["kind"]), str(data["prev"]))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None


class Witness:
    """A folder witness (``release.witness.anchor.WitnessTier``)."""

    tier = "folder"
    lost = "the witness share is not mounted, or it was emptied; restore it"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def label(self) -> str:
        return f"the witness at {self.folder}"

    def _refused(self, message: str) -> BudgetError:
        return BudgetError(message, file=str(self.folder), rule="witness")

    def ledger_id(self) -> str | None:
        path = self.folder / LEDGER_ID
        if not path.is_file():
            return None
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except (OSError, UnicodeDecodeError):
            raise self._refused(f"the witness's {LEDGER_ID} file cannot be read") from None

    def marks(self) -> tuple[dict[int, Mark], list[str]]:
        """Every witnessed entry by seq, and the witness files that cannot be read as one."""
        marks: dict[int, Mark] = {}
        problems: list[str] = []
        for path in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else ():
            mark = _read_mark(path)
            if mark is None:
                problems.append(f"witness file {path.name}: not readable as a witnessed entry")
            elif path.name != f"{mark.seq}.json":
                problems.append(f"witness file {path.name}: names entry {mark.seq}")
            else:
                marks[mark.seq] = mark
        return marks, problems

    def view(self) -> View:
        ledger_id = self.ledger_id()
        marks, unreadable = self.marks() if ledger_id is not None else ({}, [])
        return View(ledger_id, {s: m.hash for s, m in marks.items()}, 0, tuple(unreadable))

    def anchor_body(self) -> dict[str, Any]:
        return {"witness": str(self.folder)}

    def anchored_here(self, anchors: Sequence[Mapping[str, Any]]) -> bool:
        return bool(anchors)

    def anchor_problems(self, anchors: Sequence[Mapping[str, Any]]) -> list[str]:
        found = []
        for anchor in anchors:
            if anchor.get("tier") == "service":
                found.append(f"the ledger was anchored to the witness service at {anchor.get('witness')}; the policy "
                             f"names the folder witness at {self.folder}, a lower tier a ledger never goes back to: "
                             "use the rules folder that pins the service")
            elif str(anchor.get("witness")) != str(self.folder):
                found.append(f"the ledger was anchored to the witness at {anchor.get('witness')}, not to "
                             f"{self.folder}: use the rules folder that names that witness")
        return sorted(set(found))

    def record(self, ledger_id: str, entries: Sequence[Entry]) -> None:
        """Witness ``entries`` (and the ledger id at first use); an entry already witnessed with
        another hash means another copy of the ledger got there first: refused."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if not _create(self.folder / LEDGER_ID, ledger_id + "\n") and self.ledger_id() != ledger_id:
            raise self._refused("the witness anchors another ledger (its ledger_id differs). " + RESTORE)
        for entry in entries:
            mark = Mark(entry.seq, entry.hash, entry.kind, entry.prev)
            path = self.folder / f"{entry.seq}.json"
            if not _create(path, mark.text()) and _read_mark(path) != mark:
                raise self._refused(
                    f"ledger entry {entry.seq} is witnessed already with another hash: this ledger was rolled "
                    "back, or is a copy another run appended to first; its new entry is refused (nothing drawn "
                    "is released). " + RESTORE)

    def epoch(self, entries: Sequence[Entry]) -> None:
        """History is taken as it is at the folder's first use (no epoch: nothing is drawn again)."""
        return None

    def draw_problems(self, signed: object, ledger_id: str | None, sha256: object,
                      charge: Mapping[str, Any] | None = None, committed: bool = True) -> list[str]:
        """The folder makes no draws (its builds draw themselves): there is no statement to check."""
        return []

    def head_checks(self, recorded: Mapping[str, Any], entries: Sequence[Entry], run_id: str | None) -> list[str]:
        return []
