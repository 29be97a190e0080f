"""The audit's result types: one ``AuditCheck`` per check, gathered in an ``AuditReport``.

Owns what a check may say (a status, counts and names in ``detail``, problems naming file,
column, row key or line, never a value) and how it is serialized, so the check modules
(``audit_checks``, ``audit_raw``) and the entry points (``audit``) share one shape.

A check that did not run (no key, no raw export, no scanner) is not a pass: the report is
not ok while any is left, unless the auditor accepted exactly that (``allow_unverified``),
and then the report names every check it skipped and why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Status = Literal["pass", "fail", "not run"]
MAX_PROBLEMS = 50
# (bundle, manifest) -> (ok, counts, problems naming file/column/row key)
CheckFn = Callable[[Path, Mapping[str, object]], tuple[bool, Mapping[str, object], Sequence[str]]]
# (texts, the spans of each text holding the placeholders redaction wrote) -> hits per text
Scanner = Callable[[list[str], list[tuple[tuple[int, int], ...]]], list[list[object]]]


@dataclass(frozen=True)
class AuditCheck:
    name: str
    status: Status
    detail: Mapping[str, object] = field(default_factory=dict)   # counts and names only
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status != "fail"

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "status": self.status, "ok": self.ok, "detail": dict(self.detail),
                "problems": list(self.problems[:MAX_PROBLEMS]), "problem_count": len(self.problems)}


def from_problems(name: str, problems: Sequence[str], detail: Mapping[str, object]) -> AuditCheck:
    """A check that ran: it fails when it found any problem."""
    return AuditCheck(name, "fail" if problems else "pass", detail, tuple(problems))


def not_run(name: str, reason: str) -> AuditCheck:
    """A check whose input is missing: reported, never silently passed."""
    return AuditCheck(name, "not run", {"reason": reason})


@dataclass(frozen=True)
class AuditReport:
    dataset: str
    year: int
    bundle: str
    manifest_sha256: str
    checks: tuple[AuditCheck, ...]
    allow_unverified: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and (self.allow_unverified or not self.unverified)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    @property
    def unverified(self) -> list[str]:
        """Checks that did not run: never a pass, unless the auditor allowed it."""
        return [c.name for c in self.checks if c.status == "not run"]

    def skipped(self) -> list[dict[str, object]]:
        return [{"name": c.name, "reason": c.detail.get("reason", "")} for c in self.checks if c.status == "not run"]

    def to_dict(self) -> dict[str, object]:
        return {"dataset": self.dataset, "year": self.year, "bundle": self.bundle, "ok": self.ok,
                "manifest_sha256": self.manifest_sha256, "failed": self.failed,
                "unverified": self.skipped(), "allow_unverified": self.allow_unverified,
                "checks": [c.to_dict() for c in self.checks]}
