"""The review workspace's state and actions, without any web framework.

``Workspace.open`` reads a bundle (summary facts, the queue, the decisions in force) and,
with ``--raw``, the removed texts into memory. Its actions are the CLI's own code paths:
``decide`` and ``bulk`` sign records with ``release.governance.decisions`` (the lines ``release decide``
writes, applied by the next build), ``approve`` is ``release approve`` (``gate.approve``).

An item is reviewed when a trusted signer's decision covers it (recorded now or in an earlier
session) or, for an item that cannot be decided (a withheld narrative, a risk verdict), when
the reviewer acknowledged it in this session. Approval is offered only when every item is
reviewed, nothing blocks, and no signed decision is waiting for a rebuild: those decisions
change the files, so an approval now would sign a manifest the next build replaces.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from release.bundle.decisions import Decision, decisions_in_force
from release.bundle.manifest_parts import private_sha256
from release.bundle.places import existing_bundle
from release.bundle.read import manifest_sha256, read_manifest
from release.bundle.trust import Trust, bundle_policy, trust_for
from release.config.policy import DatasetPolicy
from release.errors import ApprovalError, ConfigError, ReleaseError
from release.governance.decisions import DECISIONS, Signing
from release.governance.gate import approvals_of
from release.review.facts import Facts, collect_facts
from release.review.inputs import inputs_from_bundle
from release.review.queue import KIND_LABEL, QueueItem, attach_raw, build_queue
from release.review.summary import Summary, summarize


@dataclass
class Workspace:
    """One reviewer's session on a bundle: its facts, summary and queue, the decisions in force, the approvals."""

    dataset: str
    year: int
    out_dir: Path
    rules_dir: Path | None = None
    key_path: Path | None = None
    passphrase: bytes | None = field(default=None, repr=False)
    reviewer: str | None = None
    raw_dir: Path | None = None
    generation: str | None = None  # the part of a split year (release.bundle.places)
    # filled by ``load``
    bundle: Path = Path()
    facts: Facts | None = None
    summary: Summary | None = None
    items: list[QueueItem] = field(default_factory=list)
    acknowledged: set[str] = field(default_factory=set)
    trust: Trust | None = None
    trust_problem: str = ""
    decided: dict[str, Decision] = field(default_factory=dict)
    pending: int = 0
    approvals: list[dict[str, str]] = field(default_factory=list)
    approvals_summary: str = ""
    approved_now: bool = False
    manifest_sha256: str = ""  # the manifest this workspace's screen was built from
    private_sha256: str | None = None  # and the bundle's private part (its log's and review files' hashes)

    @classmethod
    def open(cls, dataset: str, year: int, out_dir: Path, **options: object) -> Workspace:
        workspace = cls(dataset, year, out_dir, **options)  # type: ignore[arg-type]
        workspace.load()
        return workspace

    def load(self) -> None:
        self.bundle = existing_bundle(self.dataset, self.year, self.out_dir, generation=self.generation)
        self.manifest_sha256 = manifest_sha256(self.bundle)
        self.private_sha256 = private_sha256(self.bundle)
        manifest = read_manifest(self.bundle, ConfigError)
        policy, problems = bundle_policy(self.dataset, self.rules_dir, manifest)
        if policy is None:
            raise ConfigError(problems[0])
        self.facts = collect_facts(inputs_from_bundle(self.bundle))
        self.summary = summarize(self.facts, policy)
        self.items = build_queue(self.bundle, manifest, policy, self.year, self._tokenizer(manifest))
        if self.raw_dir is not None:
            self.items = attach_raw(self.items, self.raw_dir, policy)
        try:
            self.trust = trust_for(self.dataset, self.rules_dir, manifest)
        except ReleaseError as exc:
            self.trust, self.trust_problem = None, exc.one_line()
        self._policy: DatasetPolicy = policy
        self.refresh()

    @staticmethod
    def _tokenizer(manifest: Mapping[str, object]) -> object | None:
        """The value-token key the public report keys are made with (None without the HMAC key)."""
        from release.governance.gate import _release_keys
        try:
            return _release_keys(dict(manifest)).tokens
        except ReleaseError:
            return None

    def refresh(self) -> None:
        """Decisions in force (this session's and earlier ones), pending ones, approvals."""
        manifest = read_manifest(self.bundle, ConfigError)
        self.decided, self.pending = {}, 0
        if self.trust is None:
            return
        force = decisions_in_force(self.dataset, self.year, self.out_dir, self.trust)
        applied = {json.dumps(d, sort_keys=True) for d in manifest.review_decisions}
        self.pending = sum(1 for d in force.decisions if json.dumps(d.to_dict(), sort_keys=True) not in applied)
        for item in self.items:
            match = next((d for d in force.decisions if item.matches(d)), None)
            if match is not None:
                self.decided[item.item_id] = match
        status = approvals_of(self.bundle, self.dataset, self.year, self.trust)
        self.approvals = [s.to_dict() for s in status.signed]
        self.approvals_summary = status.summary()

    # ---- state --------------------------------------------------------------------------

    def reviewed(self, item: QueueItem) -> bool:
        return item.item_id in self.decided or item.item_id in self.acknowledged

    def reviewed_count(self) -> int:
        return sum(1 for i in self.items if self.reviewed(i))

    def approve_blockers(self) -> list[str]:
        """Why approval is not offered (empty: it is)."""
        reasons = []
        if self.key_path is None:
            reasons.append("the workspace was started without --key (read-only)")
        if self.trust is None:
            reasons.append(self.trust_problem)
        if self.facts is not None and self.facts.blocking:
            reasons.append(f"{self.facts.blocking:,} blocking finding(s)")
        unreviewed = len(self.items) - self.reviewed_count()
        if unreviewed:
            reasons.append(f"{unreviewed:,} item(s) not reviewed")
        if self.pending:
            reasons.append(f"{self.pending:,} signed decision(s) wait for the next build "
                           f"(release {self.dataset} {self.year}); approve the rebuilt bundle")
        if self.approved_now or any(a.get("key_id") == self._key_id() for a in self.approvals):
            reasons.append("your key has approved this manifest")
        return reasons

    def _key_id(self) -> str:
        if self.key_path is None:
            return ""
        from release.keys.signing import load_private_key, private_key_id
        try:
            return private_key_id(load_private_key(self.key_path, self.passphrase))
        except ReleaseError:
            return ""

    def item(self, item_id: str) -> QueueItem:
        found = next((i for i in self.items if i.item_id == item_id), None)
        if found is None:
            raise ConfigError("no such item in the review queue", rule="review")
        return found

    def item_state(self, item: QueueItem) -> dict[str, object]:
        decision = self.decided.get(item.item_id)
        return {"id": item.item_id, "reviewed": self.reviewed(item),
                "decision": decision.decision if decision else "",
                "decided_by": decision.reviewer if decision else ""}

    def state(self) -> dict[str, object]:
        blockers = self.approve_blockers()
        return {"dataset": self.dataset, "year": self.year, "total": len(self.items),
                "reviewed": self.reviewed_count(), "pending_decisions": self.pending,
                "approvable": not blockers, "approve_blockers": blockers, "approvals": self.approvals,
                "approvals_summary": self.approvals_summary, "approved_now": self.approved_now,
                "items": [self.item_state(i) for i in self.items]}

    def kinds(self) -> list[tuple[str, str, list[QueueItem]]]:
        return [(kind, label, [i for i in self.items if i.kind == kind]) for kind, label in KIND_LABEL.items()
                if any(i.kind == kind for i in self.items)]

    # ---- actions ------------------------------------------------------------------------

    def _unchanged(self) -> None:
        """Refuse to act on a bundle rebuilt since this workspace loaded it: its queue is stale."""
        # round 32 (W1): the log is listed in the private part, not the manifest: a log swapped under an open
        # workspace changed no manifest, and a decision on the screen's item signed another span
        if manifest_sha256(self.bundle) != self.manifest_sha256 or private_sha256(self.bundle) != self.private_sha256:
            raise ApprovalError(f"the bundle was rebuilt after this workspace loaded it; start `release review "
                                f"{self.dataset} {self.year} --serve` again to review the new one",
                                file=str(self.bundle / "manifest.json"), rule="reviewed-manifest")

    def _signing(self) -> Signing:
        if self.key_path is None:
            raise ConfigError("the workspace was started without --key; decisions need a trusted key",
                              rule="review")
        return Signing(self.key_path, self.passphrase, self.rules_dir)

    def decide(self, item_id: str, decision: str, note: str = "") -> dict[str, object]:
        from release.governance import decisions
        if decision not in DECISIONS:
            raise ConfigError(f"decision must be one of: {', '.join(DECISIONS)}", rule="decision")
        self._unchanged()
        item = self.item(item_id)
        if not item.decidable:
            raise ConfigError("this item cannot be decided; acknowledge it", rule="decision",
                              file=item.file, row_key=item.row_key, column=item.column)
        if item.kind == "finding":
            decisions.record_finding_decision(self.dataset, self.year, self.out_dir, item.log_id, decision,
                                              self.reviewer, note, signing=self._signing(),
                                              generation=self.generation)
        else:
            decisions.record_decision(self.dataset, self.year, self.out_dir, item.log_id, decision,
                                      self.reviewer, note, signing=self._signing(), generation=self.generation)
        self.refresh()
        return self.item_state(item)

    def bulk(self, rule: str, decision: str, note: str = "") -> int:
        """``decision`` on every unreviewed decidable item of ``rule``; how many were decided."""
        targets = [i for i in self.items if i.rule == rule and i.decidable and not self.reviewed(i)]
        for target in targets:
            self.decide(target.item_id, decision, note or f"bulk {decision} of rule {rule}")
        return len(targets)

    def acknowledge(self, item_id: str, reviewed: bool) -> dict[str, object]:
        item = self.item(item_id)
        if reviewed:
            self.acknowledged.add(item.item_id)
        else:
            self.acknowledged.discard(item.item_id)
        return self.item_state(item)

    def approve(self, note: str = "") -> dict[str, object]:
        from release.governance import gate
        self._unchanged()
        blockers = self.approve_blockers()
        if blockers:
            raise ApprovalError("approval is not offered: " + "; ".join(blockers), rule="review")
        assert self.key_path is not None
        from release.governance.api import hold_to_raw  # as release approve: --raw replays, a policy may require it
        hold_to_raw(self.dataset, self.year, self.out_dir, self.raw_dir, self.rules_dir, None, self.generation,
                    "approve")
        result = gate.approve(self.dataset, self.year, self.out_dir, self.reviewer, self.key_path, note,
                              self.passphrase, self.rules_dir, reviewed_manifest=self.manifest_sha256,
                              reviewed_private=self.private_sha256,
                              generation=self.generation)
        self.approved_now = True
        self.refresh()
        return result
