"""The ledger's witness: a folder outside the ledger that anchors its chain, so that a ledger
rolled back, replaced or forked is told from the authoritative one.

Nothing inside the SQLite file could anchor it: a valid prefix of the chain (the tail cut off
and the file rebuilt), a copy extended elsewhere (same ledger id, the draw one liked copied
back), a fresh file at the same path or under another ``$HOME`` all passed every check, and
each gave a second, selected noisy draw of the same data (issue #12, attacks 2f-1..2f-6).

The witness holds ``ledger_id`` (the hash of the ledger's first entry, created with O_EXCL at
first use) and one file per ledger entry, ``<seq>.json`` (seq, hash, kind, prev), each created
with O_EXCL and never overwritten, written in the ledger's own write transaction just before
it commits: before any noisy value leaves the ledger. Two copies of one ledger cannot both
append entry N: the second O_EXCL fails and its transaction rolls back, so one chain is ever
witnessed, and a ledger that does not carry every witnessed entry, hash for hash, is refused
by the build, ``approve``, ``publish`` and ``release audit``.

The witness is only as good as its folder: it protects against everyone who cannot write it,
not against the account that does. That account owns the files it creates and can rewrite them
even under ``chattr +a`` (attack 2f-rw), and can mount a copy over the folder's path in a private
namespace and draw there (2f-ns). In a deployment it is WORM storage that makes each file
immutable once written, or a store another account or host keeps, which analysts reach with
create-only rights (``stages/noise.md``, section 6; ``release doctor`` warns otherwise). Every
rollback that leaves the witness intact is detected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import BudgetError

if TYPE_CHECKING:
    from release.ledger import Entry

LEDGER_ID = "ledger_id"
ANCHOR = "anchor"  # the ledger entry that records the witness a ledger was anchored to
RESTORE = ("Restore the authoritative ledger (the file whose entries the witness holds, from its backup) "
           "at the path the policy names; never edit or empty the witness")


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


class Witness:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

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
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                mark = Mark(int(data["seq"]), str(data["hash"]), str(data["kind"]), str(data["prev"]))
            except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
                problems.append(f"witness file {path.name}: not readable as a witnessed entry")
                continue
            if path.name != f"{mark.seq}.json":
                problems.append(f"witness file {path.name}: names entry {mark.seq}")
                continue
            marks[mark.seq] = mark
        return marks, problems

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


def _read_mark(path: Path) -> Mark | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Mark(int(data["seq"]), str(data["hash"]), str(data["kind"]), str(data["prev"]))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None


def anchors(entries: Sequence[Entry]) -> list[str]:
    """The witness folders the ledger's ``anchor`` entries name."""
    return [str(e.body.get("witness")) for e in entries if e.kind == ANCHOR]


def _span(seqs: Sequence[int]) -> str:
    return f"{seqs[0]}" if len(seqs) == 1 else f"{seqs[0]}..{seqs[-1]}"


def problems(witness: Witness | None, entries: Sequence[Entry], *, first_use_ok: bool = False) -> list[str]:
    """Why the ledger ``entries`` are not the chain the witness anchors (empty when they are).

    ``first_use_ok``: a witness holding nothing yet is fine (the writer anchors the ledger in it),
    unless the ledger was anchored there before (the share is not mounted, or was emptied)."""
    named = anchors(entries)
    if witness is None:
        return [f"the ledger was anchored to the witness at {named[0]}, but the privacy policy names no witness: "
                f"name it (witness: {named[0]}) in privacy.yaml"] if named else []
    found = [f"the ledger was anchored to the witness at {w}, not to {witness.folder}: use the rules folder "
             "that names that witness" for w in sorted(set(named)) if w != str(witness.folder)]
    ledger_id = witness.ledger_id()
    if ledger_id is None:
        if named:
            return found + [f"the witness at {witness.folder} holds nothing, but the ledger was anchored to it: "
                            "the witness share is not mounted, or it was emptied; restore it"]
        return found if first_use_ok else found + [
            f"the witness at {witness.folder} holds nothing yet: the ledger is not anchored (the next build, "
            "approval or publication anchors it)"]
    if not entries:
        return found + [f"the ledger is empty, but its witness anchors ledger {ledger_id[:16]}: this is not the "
                        "authoritative ledger (another $HOME, a deleted or replaced file). " + RESTORE]
    if entries[0].hash != ledger_id:
        return found + [f"the ledger's id {entries[0].hash[:16]} differs from the one its witness anchors "
                        f"({ledger_id[:16]}): this is not the authoritative ledger (another $HOME, a deleted, "
                        "replaced or fresh file). " + RESTORE]
    marks, unreadable = witness.marks()
    found += unreadable
    by_seq = {e.seq: e for e in entries}
    missing = sorted(s for s in marks if s not in by_seq)
    changed = sorted(s for s, m in marks.items() if s in by_seq and by_seq[s].hash != m.hash)
    unwitnessed = sorted(s for s in by_seq if s not in marks)
    if missing:
        found.append(f"the ledger lacks {len(missing)} entr{'y' if len(missing) == 1 else 'ies'} its witness holds "
                     f"(seq {_span(missing)}): its tail was removed (rolled back), or it was replaced by an older "
                     "copy. " + RESTORE)
    if changed:
        found.append(f"ledger entr{'y' if len(changed) == 1 else 'ies'} {_span(changed)} differ from what the "
                     "witness holds: the ledger was rolled back and appended to again, or replaced by a copy "
                     "extended elsewhere. " + RESTORE)
    if unwitnessed:
        found.append(f"ledger entr{'y' if len(unwitnessed) == 1 else 'ies'} {_span(unwitnessed)} were never "
                     "witnessed: appended by a run that did not use this witness (a copy of the ledger, or a "
                     "rules folder naming no witness or another). " + RESTORE)
    return found


def head(entries: Sequence[Entry]) -> dict[str, Any]:
    """The ledger's head as a manifest records it: which ledger, how many entries, the last hash."""
    return {"ledger_id": entries[0].hash if entries else None, "length": len(entries),
            "head": entries[-1].hash if entries else None}


def head_problems(recorded: object, entries: Sequence[Entry], witness: Witness | None) -> list[str]:
    """Is the head a manifest recorded a point of the authoritative chain, and witnessed?"""
    if not isinstance(recorded, Mapping) or not recorded.get("head"):
        return ["the manifest records no ledger head (a release with noisy tables always records one: it was "
                "edited, or built by an older version): rebuild it (a rebuild on the same data re-uses the stored "
                "measurements and charges nothing)"]
    count = recorded.get("length")
    if not entries or recorded.get("ledger_id") != entries[0].hash:
        return ["the release's ledger head is on another ledger than the authoritative one (its ledger_id differs)"]
    if not isinstance(count, int) or not 1 <= count <= len(entries) or entries[count - 1].hash != recorded["head"]:
        return [f"the authoritative ledger does not pass through the head the release recorded (entry {count}): "
                "the ledger was rolled back or replaced since the build. " + RESTORE]
    if witness is not None:
        mark = witness.marks()[0].get(entries[count - 1].seq)
        if mark is None or mark.hash != recorded["head"]:
            return [f"the witness does not hold the release's ledger head (entry {count}): its charges were "
                    "never anchored"]
    return []
