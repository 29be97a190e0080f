"""The ledger's witness: a record outside the ledger that anchors its chain, so that a ledger rolled
back, replaced or forked is told from the authoritative one.

Nothing inside the SQLite file could anchor it: a valid prefix of the chain (the tail cut off and
the file rebuilt), a copy extended elsewhere (same ledger id, the draw one liked copied back), a
fresh file at the same path or under another ``$HOME`` all passed every check, and each gave a
second, selected noisy draw of the same data (issue #12, attacks 2f-1..2f-6). Every write
transaction of the ledger checks the ledger against its witness first and has the witness hold its
new entries just before it commits, before any noisy value leaves the ledger; the build,
``approve``, ``publish`` and ``release audit`` refuse a ledger that does not carry every witnessed
entry, hash for hash, and none it never saw.

Two tiers, chosen by the organisation's ``privacy.yaml`` (``witness:``):

- **the service** (``release.witness.client``, run by ``release.witness.service``): another account
  keeps the record and signs what it holds with a key only it has; the policy pins that key. The
  analyst's account can neither forge its statements nor rewrite its store, and each head is asked
  for afresh with a nonce (answered apart from the statement: ``release.witness.protocol``). Bundles
  built before the ledger's anchor in the service are refused and their measurements drawn again
  (2f-pre).
- **the folder** (``release.witness.folder``), a lower tier: files the analyst's own builds create.
  It catches rollbacks by anyone who cannot write the folder, and accidents; not its writer, who can
  rewrite the files it owns or mount a copy over the path in a private namespace (2f-rw, 2f-ns).

This module holds what both share: what a witness holds (``View``), the ledger checked against it
(``problems``), and the head a manifest records (``head``, ``head_problems``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard

from release.errors import BudgetError

if TYPE_CHECKING:
    from release.privacy.ledger import Entry

ANCHOR = "anchor"  # the ledger entry that records the witness a ledger was anchored to
ADOPT = ("The witness service holds them with their bodies: the next build, approval or publication adopts "
         "them, and release witness recover does it now (with the release key)")
RESTORE = ("Restore the authoritative ledger (the file whose entries the witness holds, from its backup) "
           "at the path the policy names; never edit or empty the witness")


@dataclass(frozen=True)
class View:
    """What a witness holds now: the ledger it anchors, and the entries it vouches for (seq -> hash).
    A folder vouches for each entry it holds; a service holds entries 1..``length`` and vouches for
    the last one's hash (the ledger's hash chain carries the rest)."""

    ledger_id: str | None
    known: Mapping[int, str] = field(default_factory=dict)
    length: int = 0
    unreadable: tuple[str, ...] = ()
    unpaid: int = 0  # draws the service made for the ledger that no charge it holds paid yet

    def holds(self, seq: int) -> bool:
        return seq in self.known or 1 <= seq <= self.length

    def held(self) -> list[int]:
        return sorted(set(self.known) | set(range(1, self.length + 1)))


class WitnessTier(Protocol):
    """What the ledger and its checkers ask of a witness, whichever tier."""

    tier: str    # "service" or "folder"
    lost: str    # what to do when it holds nothing but the ledger was anchored to it

    @property
    def label(self) -> str: ...  # for messages: "the witness at /srv/w", "the witness service at ADDRESS (key K)"
    def view(self) -> View: ...  # BudgetError when it cannot be asked or its answer cannot be trusted
    def anchor_body(self) -> dict[str, Any]: ...
    def anchored_here(self, anchors: Sequence[Mapping[str, Any]]) -> bool: ...
    def anchor_problems(self, anchors: Sequence[Mapping[str, Any]]) -> list[str]: ...
    def record(self, ledger_id: str, entries: Sequence[Entry]) -> dict[str, Any] | None: ...
    def epoch(self, entries: Sequence[Entry]) -> Entry | None: ...
    def draw_problems(self, signed: object, ledger_id: str | None, sha256: object,
                      charge: Mapping[str, Any] | None = None, committed: bool = True) -> list[str]: ...
    def head_checks(self, recorded: Mapping[str, Any], entries: Sequence[Entry], run_id: str | None) -> list[str]: ...


class ServiceTier(WitnessTier, Protocol):
    """What only the service tier answers (``release.witness.client``): it makes the draws, and hands back the
    entries and draws it holds, which the ledger adopts (``release.privacy.ledger_recover``)."""

    def draw(self, ledger_id: str, entries: Sequence[Entry], charge: Mapping[str, Any],
             inputs: Mapping[str, Any], committed: Mapping[str, str] | None = None
             ) -> tuple[dict[str, Any], dict[str, Any]]: ...
    def tail(self, ledger_id: str, first: int) -> tuple[View, list[dict[str, Any]], list[dict[str, Any]]]: ...


def is_service(witness: WitnessTier) -> TypeGuard[ServiceTier]:
    """The service tier, as the witness says of itself (``tier``)."""
    return witness.tier == "service"


def anchors(entries: Sequence[Entry]) -> list[dict[str, Any]]:
    """The bodies of the ledger's ``anchor`` entries (each names the witness it was anchored to)."""
    return [e.body for e in entries if e.kind == ANCHOR]


def described(anchor: Mapping[str, Any]) -> str:
    if anchor.get("tier") == "service":
        return f"the witness service at {anchor.get('witness')} (key {str(anchor.get('witness_key'))[:16]})"
    return f"the witness at {anchor.get('witness')}"


def _span(seqs: Sequence[int]) -> str:
    return f"{seqs[0]}" if len(seqs) == 1 else f"{seqs[0]}..{seqs[-1]}"


def check(witness: WitnessTier | None, entries: Sequence[Entry], *,
          first_use_ok: bool = False) -> tuple[list[str], View | None]:
    """Why the ledger ``entries`` are not the chain the witness anchors (empty when they are), and
    what the witness holds (None when it could not be asked). ``first_use_ok``: a witness holding
    nothing yet is fine (the writer anchors the ledger in it), unless the ledger was anchored there
    before (the share is not mounted, the store was lost or emptied)."""
    named = anchors(entries)
    if witness is None:
        return ([f"the ledger was anchored to {described(named[-1])}, but the privacy policy names no witness: "
                 "name it in privacy.yaml (witness:)"] if named else []), None
    found = witness.anchor_problems(named)
    try:
        view = witness.view()
    except BudgetError as exc:
        return found + [exc.message], None
    found += list(view.unreadable)
    if view.ledger_id is None:
        if witness.anchored_here(named):
            return found + [f"{witness.label} holds nothing, but the ledger was anchored to it: {witness.lost}"], view
        return (found if first_use_ok else found + [
            f"{witness.label} holds nothing yet: the ledger is not anchored (the next build, approval or "
            "publication anchors it)"]), view
    if not entries:
        return found + [f"the ledger is empty, but its witness anchors ledger {view.ledger_id[:16]}: this is not the "
                        "authoritative ledger (another $HOME, a deleted or replaced file). " + RESTORE], view
    if entries[0].hash != view.ledger_id:
        return found + [f"the ledger's id {entries[0].hash[:16]} differs from the one its witness anchors "
                        f"({view.ledger_id[:16]}): this is not the authoritative ledger (another $HOME, a deleted, "
                        "replaced or fresh file). " + RESTORE], view
    by_seq = {e.seq: e for e in entries}
    missing = [s for s in view.held() if s not in by_seq]
    changed = sorted(s for s, h in view.known.items() if s in by_seq and by_seq[s].hash != h)
    unwitnessed = sorted(s for s in by_seq if not view.holds(s))
    if missing:
        found.append(f"the ledger lacks {len(missing)} entr{'y' if len(missing) == 1 else 'ies'} its witness holds "
                     f"(seq {_span(missing)}): its tail was removed (rolled back), or it was replaced by an older "
                     "copy. " + (ADOPT if witness.tier == "service" and not changed else RESTORE))
    if changed:
        found.append(f"ledger entr{'y' if len(changed) == 1 else 'ies'} {_span(changed)} differ from what the "
                     "witness holds: the ledger was rolled back and appended to again, or replaced by a copy "
                     "extended elsewhere. " + RESTORE)
    if unwitnessed:
        found.append(f"ledger entr{'y' if len(unwitnessed) == 1 else 'ies'} {_span(unwitnessed)} were never "
                     "witnessed: appended by a run that did not use this witness (a copy of the ledger, or a "
                     "rules folder naming no witness or another). " + RESTORE)
    return found, view


def problems(witness: WitnessTier | None, entries: Sequence[Entry], *, first_use_ok: bool = False) -> list[str]:
    return check(witness, entries, first_use_ok=first_use_ok)[0]


def head(entries: Sequence[Entry]) -> dict[str, Any]:
    """The ledger's head as a manifest records it: which ledger, how many entries, the last hash."""
    return {"ledger_id": entries[0].hash if entries else None, "length": len(entries),
            "head": entries[-1].hash if entries else None}


def head_problems(recorded: object, entries: Sequence[Entry], witness: WitnessTier | None, *,
                  run_id: str | None = None) -> list[str]:
    """Is the head a manifest recorded a point of the authoritative chain, and witnessed? With the
    service, also after the ledger's anchor in it (a head before it passes only for a release the
    ledger recorded published before the anchor, named by ``run_id``: the run's id, or its manifest's
    SHA-256) and with a receipt that
    verifies under the pinned key."""
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
    if witness is None:
        return []
    try:
        view = witness.view()
    except BudgetError as exc:
        return [exc.message]
    if not view.holds(count) or view.known.get(count, recorded["head"]) != recorded["head"]:
        return [f"the witness does not hold the release's ledger head (entry {count}): its charges were "
                "never anchored"]
    return witness.head_checks(recorded, entries, run_id)


def published_before(entries: Sequence[Entry], run_id: str | None, seq: int) -> bool:
    """Whether the ledger records the run ``run_id`` published before entry ``seq``: its run id, or its
    manifest's SHA-256 (a published copy has no run id: it is in the bundle's private part since round 30)."""
    return bool(run_id) and any(e.kind == "publish" and run_id in (e.body.get("run_id"), e.body.get("manifest_sha256"))
                                and e.seq < seq for e in entries)
