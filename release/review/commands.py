"""The review's entry points (``release review``, ``release review --serve``), reached through ``release.api``.

Why apart from ``release.governance.api``: the review workspace signs decisions and approvals through
governance, so governance must not import the review back; these two calls are the review's own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from release.bundle.places import existing_bundle


def review_release(dataset: str, year: int, out_dir: Path, open_browser: bool = False,
                   rules_dir: Path | None = None, version: int | None = None,
                   generation: str | None = None) -> dict[str, object]:
    from release import review
    existing_bundle(dataset, year, out_dir, version, generation)
    return review.review(dataset, year, out_dir, open_browser=open_browser, rules_dir=rules_dir, version=version,
                         generation=generation)


def serve_review(dataset: str, year: int, out_dir: Path, ready: Callable[[dict[str, object]], None], *,
                 port: int = 0, raw_dir: Path | None = None, rules_dir: Path | None = None,
                 key_path: Path | None = None, passphrase: bytes | None = None,
                 reviewer: str | None = None, generation: str | None = None) -> dict[str, object]:
    """The local review workspace (``release.review.server``): serves until the reviewer
    finishes; ``ready`` receives the one-time URL before the server blocks."""
    from release.review.server import serve
    from release.review.workspace import Workspace
    existing_bundle(dataset, year, out_dir, generation=generation)
    if raw_dir is not None and not raw_dir.is_dir():
        from release.errors import InputError
        raise InputError("the raw export folder does not exist", file=str(raw_dir), rule="review-raw")
    workspace = Workspace.open(dataset, year, out_dir, rules_dir=rules_dir, key_path=key_path,
                               passphrase=passphrase, reviewer=reviewer, raw_dir=raw_dir, generation=generation)
    return serve(workspace, port, ready)
