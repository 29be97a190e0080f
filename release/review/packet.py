"""Entry points: write the review packet into a bundle and report its review status.

``write_review`` re-renders ``review/index.html`` from a written bundle and never
replaces a packet the manifest lists (an approval covers the packet the reviewer read);
``review`` is what ``release review`` runs.
"""

from __future__ import annotations

import json
import webbrowser
from pathlib import Path

from release.bundle import places as bundles
from release.bundle.decisions import decisions_in_force
from release.bundle.integrity import bundle_outputs
from release.bundle.layout import sha256_file
from release.bundle.places import bundle_dir
from release.bundle.read import read_manifest
from release.bundle.trust import trust_for
from release.datasets import generations
from release.errors import ApprovalError, ReleaseError
from release.governance.gate import approvals_of, blocking_count
from release.review.inputs import inputs_from_bundle
from release.review.render import render_review

PACKET = "index.html"


def write_review(bundle_dir: Path, previous_bundle: Path | None = None) -> Path:
    """Write ``review/index.html`` unless the manifest already lists one (then it is final:
    it is restored only if missing and the render reproduces its listed hash)."""
    path = bundle_dir / "review" / PACKET
    listed = bundle_outputs(read_manifest(bundle_dir)).get(f"review/{PACKET}")
    if listed is not None and path.is_file():
        return path
    text = render_review(inputs_from_bundle(bundle_dir, previous_bundle))
    staging = path.with_name(f".{PACKET}.tmp")
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.write_text(text, encoding="utf-8", newline="\n")
    if listed is not None and sha256_file(staging) != listed.get("sha256"):
        staging.unlink()
        raise ApprovalError("the listed review packet is missing and cannot be reproduced; rebuild the release",
                            file=f"review/{PACKET}", rule="integrity")
    staging.replace(path)
    return path


def review(dataset: str, year: int, out_dir: Path, open_browser: bool = False,
           rules_dir: Path | None = None, version: int | None = None,
           generation: str | None = None) -> dict[str, object]:
    """Where the packet is, and what is pending: trusted approvals against the policy's
    requirement, and signed decisions the next build will apply (or ignore, and why)."""
    bundle = bundle_dir(dataset, year, out_dir, version, generation)
    manifest = read_manifest(bundle)
    system = generations.of_manifest(dataset, manifest)
    path = write_review(bundle, bundles.previous_bundle(dataset, year, out_dir, system.name if system else None))
    applied = {json.dumps(d, sort_keys=True) for d in manifest.review_decisions}
    result: dict[str, object] = {
        "dataset": dataset, "year": year, "packet": str(path),
        "listed_in_manifest": f"review/{PACKET}" in bundle_outputs(manifest),
        "status": manifest.value("status"), "blocking_findings": blocking_count(manifest)}
    try:
        trust = trust_for(dataset, rules_dir, manifest)
    except ReleaseError as exc:
        result["trust_problem"] = exc.one_line()
    else:
        force = decisions_in_force(dataset, year, out_dir, trust)
        result.update(approvals=approvals_of(bundle, dataset, year, trust).summary(),
                      decisions_pending=sum(1 for d in force.decisions
                                            if json.dumps(d.to_dict(), sort_keys=True) not in applied),
                      decisions_ignored=list(force.ignored),
                      decisions_missing=list(force.missing))  # the ledger records them, the file lacks them
    if open_browser:
        webbrowser.open(path.resolve().as_uri())
    return result
