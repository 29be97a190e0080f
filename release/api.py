"""The public surface: one function per CLI command, and nothing that prints.

``release.cli`` (and benchmarks, scripts and tests) call ``release.api.X``; the work lives in
the modules each name comes from:

- ``release.build.options`` — BuildOptions, Execution (``--engine``, ``--jobs``, ``--address``), Progress, Resolved, resolve
- ``release.build.orchestrator`` — build_release (the stage order), validate_table
- ``release.build.years`` — build_years (a range of years, one export folder each, one after the other)
- ``release.build.assemble`` — the draft bundle's files and manifest
- ``release.build.budget`` — the run's privacy budget, ledger_path, budget_report
- ``release.audit.scan`` — scan_file; ``release.synth.sample_writer`` — write_sample
- ``release.governance.api`` — list, review, decide, keygen, approve, publish, audit
- ``release.doctor`` — doctor (is this machine ready: model, engine, key, rules, ledger, browser)
- ``release.witness.service`` — witness_serve, witness_init_key, witness_void (the ledger's witness service)
- ``release.witness.counts`` — witness_counts_key (the key its draw statements commit to their counts under)
- ``release.privacy.ledger_recover`` — witness_recover (the ledger adopts what its witness service holds)
"""

from __future__ import annotations

from release.audit.scan import scan_file
from release.build.budget import budget_report, ledger_path
from release.build.options import BuildOptions, Progress, Resolved, Silent, resolve
from release.build.orchestrator import build_release, validate_table
from release.build.years import build_years as _build_years
from release.doctor import doctor
from release.governance.api import (
    approve_release,
    audit_release,
    key_is_encrypted,
    keygen,
    list_releases,
    publish_release,
    record_decision,
    record_finding_decision,
    verify_published,
)
from release.pii.parallel import Execution
from release.privacy.ledger_recover import recover as witness_recover
from release.review.commands import review_release, serve_review
from release.synth.sample_writer import write_sample
from release.witness.counts import make_key_file as witness_counts_key
from release.witness.service import init_key as witness_init_key
from release.witness.service import serve as witness_serve
from release.witness.service import void as witness_void


def build_years(options: BuildOptions, years: tuple[int, ...]) -> dict[str, object]:
    """``release DATASET FIRST-LAST --input EXPORTS``: each year built as its own release (release.build.years)."""
    return _build_years(options, years, build_release)


__all__ = [
    "BuildOptions", "Execution", "Progress", "Resolved", "Silent", "approve_release",
    "audit_release", "budget_report", "build_release", "build_years", "doctor", "key_is_encrypted", "keygen", "ledger_path",
    "list_releases", "publish_release", "record_decision", "record_finding_decision", "resolve", "review_release", "scan_file",
    "serve_review", "validate_table", "verify_published", "witness_counts_key", "witness_init_key", "witness_recover",
    "witness_serve", "witness_void", "write_sample",
]
