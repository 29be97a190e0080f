"""The audit's result types: one ``AuditCheck`` per check, gathered in an ``AuditReport``.

Owns what a check may say (a status, counts and names in ``detail``, problems naming file,
column, row key or line, never a value) and how it is serialized, so the check modules
(``audit_checks``, ``audit_raw``) and the entry points (``audit``) share one shape.

A check that did not run (no key, no raw export, no scanner) is not a pass: the report is
not ok while any is left, unless the auditor accepted exactly that (``allow_unverified``),
and then the report names every check it skipped and why.

A report serializes to one shape whether it passes or fails (``to_dict``): the verdict, its
exit code and error line, the signers of the approvals it counted, and every check with its
counts, its first ``MAX_PROBLEMS`` problems and how many more there are. The same report is
what ``audit_or_raise`` and ``verify_or_raise`` turn into an ``AuditFailure``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, TypeAlias

from release.errors import AuditFailure
from release.pii import residual

Status = Literal["pass", "fail", "not run"]
MAX_PROBLEMS = 50
# (bundle, manifest) -> (ok, counts, problems naming file/column/row key)
CheckFn = Callable[[Path, Mapping[str, object]], tuple[bool, Mapping[str, object], Sequence[str]]]
# (distinct texts, the spans of each holding the placeholders redaction wrote) -> the detections in each text;
# the residual-PII check hands it its texts through ``release.pii.residual.residual_hits``, as the build does
Scanner: TypeAlias = residual.Scanner


@dataclass(frozen=True)
class AuditCheck:
    """One check of the audit: its name, whether it passed, failed or did not run, counts and names, problems."""

    name: str
    status: Status
    detail: Mapping[str, object] = field(default_factory=dict)   # counts and names only
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status != "fail"

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "status": self.status, "ok": self.ok, "detail": dict(self.detail),
                "problems": list(self.problems[:MAX_PROBLEMS]), "problem_count": len(self.problems),
                "problems_omitted": max(0, len(self.problems) - MAX_PROBLEMS)}


def from_problems(name: str, problems: Sequence[str], detail: Mapping[str, object]) -> AuditCheck:
    """A check that ran: it fails when it found any problem."""
    return AuditCheck(name, "fail" if problems else "pass", detail, tuple(problems))


def not_run(name: str, reason: str) -> AuditCheck:
    """A check whose input is missing: reported, never silently passed."""
    return AuditCheck(name, "not run", {"reason": reason})


@dataclass(frozen=True)
class AuditReport:
    """Every check of one audit (or of a published copy's verification), and whether they allow exit 0."""

    dataset: str | None      # None only for a published copy whose manifest cannot be read
    year: int | None
    bundle: str
    manifest_sha256: str
    checks: tuple[AuditCheck, ...]
    allow_unverified: bool = False
    subject: Literal["audit", "verify"] = "audit"  # a bundle's audit, or a published copy's verification

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

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else AuditFailure.exit_code

    def failure(self) -> AuditFailure | None:
        """Why the report is not ok, as one error (its line is what the CLI prints on stderr)."""
        if self.ok:
            return None
        parts = [f"{len(self.failed)} check(s) failed: {', '.join(self.failed)}"] if self.failed else []
        if self.unverified and not self.allow_unverified:
            parts.append(f"{len(self.unverified)} check(s) could not run: {', '.join(self.unverified)} "
                         "(a check that did not run is not a pass; give what it needs, or --allow-unverified)")
        verdict = "audit failed" if self.subject == "audit" else "published copy does not verify"
        return AuditFailure(f"{verdict}: {'; '.join(parts)}", file=self.bundle, rule=self.subject,
                            details=[c.to_dict() for c in self.checks])

    def signers(self) -> list[object]:
        """The trusted signers whose approvals of this manifest the approvals check counted."""
        approvals = next((c for c in self.checks if c.name == "approvals"), None)
        listed = approvals.detail.get("signers") if approvals is not None else None
        return list(listed) if isinstance(listed, list) else []

    def to_dict(self) -> dict[str, object]:
        """One shape for a pass and a failure; ``exit_code`` and ``error`` say which."""
        failure = self.failure()
        statuses = [c.status for c in self.checks]
        return {"subject": self.subject, "dataset": self.dataset, "year": self.year, "bundle": self.bundle,
                "ok": self.ok, "exit_code": self.exit_code, "error": failure.one_line() if failure else None,
                "manifest_sha256": self.manifest_sha256,
                "summary": {status: statuses.count(status) for status in ("pass", "fail", "not run")},
                "failed": self.failed, "unverified": self.skipped(), "allow_unverified": self.allow_unverified,
                "signers": self.signers(), "checks": [c.to_dict() for c in self.checks]}
