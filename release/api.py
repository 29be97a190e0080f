"""The public surface: one function per CLI command, and nothing that prints.

``cli.py`` (and benchmarks, scripts and tests) call ``release.api.X``; the work lives in
the modules each name comes from:

- ``release.run_options`` — BuildOptions, Execution (``--engine``, ``--jobs``, ``--address``), Progress, Resolved, resolve
- ``release.build`` — build_release (the stage order), validate_table
- ``release.years`` — build_years (a range of years, one export folder each, one after the other)
- ``release.assemble`` — the draft bundle's files and manifest
- ``release.budget_run`` — the run's privacy budget, ledger_path, budget_report
- ``release.scan`` — scan_file; ``release.sample_writer`` — write_sample
- ``release.governance_api`` — list, review, decide, keygen, approve, publish, audit
- ``release.doctor`` — doctor (is this machine ready: model, engine, key, rules, ledger, browser)
- ``release.witness_service`` — witness_serve, witness_init_key, witness_void (the ledger's witness service)
- ``release.witness_counts`` — witness_counts_key (the key its draw statements commit to their counts under)
- ``release.ledger_recover`` — witness_recover (the ledger adopts what its witness service holds)
"""

from __future__ import annotations

from release.build import build_release, validate_table
from release.budget_run import budget_report, ledger_path
from release.doctor import doctor
from release.governance_api import (
    approve_release,
    audit_release,
    key_is_encrypted,
    keygen,
    list_releases,
    publish_release,
    record_decision,
    record_finding_decision,
    review_release,
    serve_review,
    verify_published,
)
from release.run_options import BuildOptions, Execution, Progress, Resolved, Silent, resolve
from release.sample_writer import write_sample
from release.scan import scan_file
from release.ledger_recover import recover as witness_recover
from release.witness_counts import make_key_file as witness_counts_key
from release.witness_service import init_key as witness_init_key
from release.witness_service import serve as witness_serve
from release.witness_service import void as witness_void
from release.years import build_years as _build_years


def build_years(options: BuildOptions, years: tuple[int, ...]) -> dict[str, object]:
    """``release DATASET FIRST-LAST --input EXPORTS``: each year built as its own release (release.years)."""
    return _build_years(options, years, build_release)


__all__ = [
    "BuildOptions", "Execution", "Progress", "Resolved", "Silent", "approve_release",
    "audit_release", "budget_report", "build_release", "build_years", "doctor", "key_is_encrypted", "keygen", "ledger_path", "list_releases",
    "publish_release", "record_decision", "record_finding_decision", "resolve", "review_release", "scan_file", "serve_review",
    "validate_table", "verify_published", "witness_counts_key", "witness_init_key", "witness_recover", "witness_serve", "witness_void",
    "write_sample",
]
