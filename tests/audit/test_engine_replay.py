"""``pii_engine_as_built`` names digests only: whatever else an edited manifest holds there is not printed."""

from __future__ import annotations

from pathlib import Path

from release.audit.engine_replay import check_engine_as_built
from release.config.policy import load_policy
from release.pii.engine import model_fingerprint
from release.pii.rulefiles import rules_digest

RULES = Path(__file__).resolve().parents[2] / "redaction_rules"
PLANTED = "Zebulon Quartermaine 1999-03-14"  # fictitious


def _check(engine: dict[str, str]) -> tuple[str, list[str], str]:
    result = check_engine_as_built(load_policy(RULES / "fioe.yaml"), {"pii_engine": engine}, RULES)
    return result.status, list(result.problems), str(result.detail)


def test_the_builds_engine_passes_and_a_text_in_place_of_a_digest_fails_unprinted() -> None:
    ours = {"rules_digest": rules_digest(RULES / "pii"), "model_fingerprint": model_fingerprint()}
    assert _check(ours)[0] == "pass"
    status, problems, detail = _check({**ours, "rules_digest": PLANTED})
    assert status == "fail" and len(problems) == 1 and "(not a digest, not printed)" in problems[0]
    assert PLANTED[:12] not in " ".join(problems) + detail
    status, problems, _ = _check({**ours, "model_fingerprint": "0" * 64})
    assert status == "fail" and "000000000000…" in problems[0] and "(rule engine-as-built)" in problems[0]
