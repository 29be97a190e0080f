"""Entry points: write the review packet into a bundle and report its review status.

``write_review`` re-renders ``review/index.html`` from a written bundle and never
replaces a packet the manifest lists (an approval covers the packet the reviewer read);
``review`` is what ``release review`` runs.
"""

from __future__ import annotations

import json
import webbrowser
from pathlib import Path

from release.approvals import load_decisions
from release.errors import ApprovalError
from release.gate import approvals_required, blocking_count, bundle_dir, listed_outputs, read_manifest
from release.review.inputs import inputs_from_bundle
from release.review.render import render_review
from release.stages.publish import MANIFEST, sha256_file

PACKET = "index.html"


def write_review(bundle_dir: Path, previous_bundle: Path | None = None) -> Path:
    """Write ``review/index.html`` unless the manifest already lists one (then it is final:
    it is restored only if missing and the render reproduces its listed hash)."""
    path = bundle_dir / "review" / PACKET
    listed = listed_outputs(read_manifest(bundle_dir)).get(f"review/{PACKET}")
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


def review(dataset: str, year: int, out_dir: Path, open_browser: bool = False) -> dict[str, object]:
    bundle = bundle_dir(dataset, year, out_dir)
    manifest = read_manifest(bundle)
    previous = bundle_dir(dataset, year - 1, out_dir)
    path = write_review(bundle, previous if (previous / MANIFEST).is_file() else None)
    applied = {json.dumps(d, sort_keys=True) for d in manifest.get("review_decisions", []) or []
               if isinstance(d, dict)}
    pending = [d for d in load_decisions(dataset, year, out_dir)
               if json.dumps(d.to_dict(), sort_keys=True) not in applied]
    if open_browser:
        webbrowser.open(path.resolve().as_uri())
    return {"dataset": dataset, "year": year, "packet": str(path),
            "listed_in_manifest": f"review/{PACKET}" in listed_outputs(manifest),
            "status": manifest.get("status"), "blocking_findings": blocking_count(manifest),
            "approvals_required": approvals_required(manifest), "decisions_pending": len(pending)}
