"""The audit's PII engine is the build's: the model and rules the manifest records (check ``pii_engine_as_built``).

Why: the residual-PII scan and, with ``--raw``, the redaction replays (``redactions_redetected``,
``record_cells_replayed``) judge a bundle by what the engine finds. They prove something about the
build only when the engine they run is the one it ran. The manifest's private part records that
engine: the spaCy model's fingerprint and the digest of the PII rule files
(``pii_engine.model_fingerprint``, ``pii_engine.rules_digest``). This check compares them with the
audit's own: the model installed on this machine and the rule files in the trusted rules folder.

Either side can be the wrong one, and the check does not guess which:
- a build run with a rules copy whose recognizers were weakened (the dataset policy unchanged, so
  ``policy_file_matches`` passes) records another digest, and fails here without the raw export;
- an auditor whose machine has another model, or whose rules folder moved on, would scan with other
  eyes: a clean scan would prove nothing about the build, and a replay would report false alarms.
The fix is the same either way: audit with the rules folder and model the release was built with, or
rebuild. Only digests are named, never a rule's content or a text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from release.audit.report import AuditCheck, from_problems, not_run
from release.bundle.manifest_recorded import Recorded
from release.config.policy import DatasetPolicy
from release.errors import ReleaseError

NAME = "pii_engine_as_built"
RULE = "rule engine-as-built"


_DIGEST = re.compile(r"[0-9a-f]{64}")


def _short(value: object) -> str:
    """A digest as a message prints it; whatever else the manifest holds there is not printed (whoever edits a
    manifest chooses that text)."""
    if not isinstance(value, str) or not value:
        return "none"
    return f"{value[:12]}…" if _DIGEST.fullmatch(value) else "(not a digest, not printed)"


def check_engine_as_built(policy: DatasetPolicy | None, manifest: Mapping[str, Any], rules_dir: Path) -> AuditCheck:
    """The recorded model fingerprint and PII rules digest against this machine's model and the trusted
    rules folder's PII rules (``rules_dir``: the redaction rules folder the audit uses)."""
    if policy is None:
        return not_run(NAME, "policy not available")
    if policy.narrative is None:
        return from_problems(NAME, [], {"free_text": "none: no PII engine runs for this dataset"})
    recorded = Recorded.of(manifest).pii_engine or {}
    if not recorded.get("rules_digest") or not recorded.get("model_fingerprint"):
        return from_problems(NAME, [f"manifest.json records no PII engine (model fingerprint and rules digest) for a "
                                    f"dataset with free text ({RULE})"], {})
    from release.pii.engine import model_fingerprint
    from release.pii.rulefiles import rules_digest

    rules = rules_dir / policy.narrative.rules_dir
    try:
        ours = {"rules_digest": rules_digest(rules), "model_fingerprint": model_fingerprint()}
    except (ReleaseError, OSError) as exc:
        message = exc.one_line() if isinstance(exc, ReleaseError) else type(exc).__name__
        return from_problems(NAME, [f"the audit's PII engine cannot be fingerprinted: {message} ({RULE})"], {})
    problems = []
    if ours["rules_digest"] != recorded["rules_digest"]:
        problems.append(f"{rules}: the PII rule files differ from those the build ran (rules digest "
                        f"{_short(ours['rules_digest'])}, the manifest records {_short(recorded['rules_digest'])}): "
                        f"the scans and replays would judge this bundle by other rules; audit with the rules folder "
                        f"the release was built with, or rebuild it ({RULE})")
    if ours["model_fingerprint"] != recorded["model_fingerprint"]:
        problems.append(f"the spaCy model installed (fingerprint {_short(ours['model_fingerprint'])}) is not the one "
                        f"the build ran ({_short(recorded['model_fingerprint'])} recorded): install the pinned model "
                        f"(`make`), or rebuild ({RULE})")
    return from_problems(NAME, problems, {"rules_digest": _short(recorded["rules_digest"]),
                                          "model_fingerprint": _short(recorded["model_fingerprint"])})
