"""The one-screen summary both the packet and the workspace open with.

The verdict (blocking findings, the record-level risk rating, the budget), every warning
by name and count, differential privacy in plain words, and the exact commands that decide
and approve. With the dataset's policy (the workspace has it; the packet is rendered from
the bundle alone), what happens to each column and why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from release.config.policy import DatasetPolicy
from release.review.facts import Facts

_RATING_ORDER = ("red", "amber", "green")
# what each column rule type does to a column's values on the way to public/
_TREATMENT = {"keep": "published", "officer": "published", "integer": "published (checked range)",
              "sequence": "published (added)", "date_precision": "published (added)",
              "datetime": "generalized", "age": "generalized", "age_band": "generalized (added)",
              "street_name": "generalized", "zip": "generalized", "narrative": "published, redacted",
              "free_text": "published, redacted", "raw_only": "withheld (used only to find its values in text)",
              "drop": "dropped", "pseudonym": "published as a keyed pseudonym (never the source's value)"}


@dataclass(frozen=True)
class ColumnRow:
    """A published column: what the policy does to it, why, and on what legal basis."""

    file: str
    column: str
    treatment: str
    reason: str
    legal_basis: str


@dataclass(frozen=True)
class Summary:
    """The one-screen summary the packet and the workspace share: the verdict, the risk and the columns."""

    dataset: str
    year: str
    status: str
    blocking: int
    verdict: str                  # one sentence
    approvable: bool              # no blocking finding (trusted approvals are counted elsewhere)
    risk_rating: str              # "red" | "amber" | "green" | "not measured"
    risk_lines: tuple[str, ...]
    budget_lines: tuple[str, ...]
    dp_plain: str
    warnings: tuple[tuple[str, str, str, str], ...]  # (message, where, rule, count)
    decide_command: str
    approve_command: str
    review_command: str
    approvals_required: str
    columns: tuple[ColumnRow, ...] = ()


# a raw header no rule names is raw input: the packet names it only by its place (findings.json has it)
_RAW_HEADER_CODES = frozenset({"column_not_in_policy"})


def _where(finding: Mapping[str, object]) -> str:
    keys = ("file", "row_key") if finding.get("code") in _RAW_HEADER_CODES else ("file", "column", "row_key")
    return " / ".join(str(finding[k]) for k in keys if finding.get(k))


def _budget(privacy: Mapping[str, object] | None) -> tuple[tuple[str, ...], str]:
    if not privacy:
        return (), "No table of this release spends privacy budget."
    from release.privacy.ledger import epsilon_from_rho

    spent_value, caps_value, delta_value = privacy.get("rho_spent"), privacy.get("rho_cap"), privacy.get("delta")
    spent: Mapping[str, Any] = spent_value if isinstance(spent_value, dict) else {}
    caps: Mapping[str, Any] = caps_value if isinstance(caps_value, dict) else {}
    delta = float(delta_value) if isinstance(delta_value, int | float) else 1e-9
    lines = []
    for unit, rho in sorted(spent.items()):
        cap = caps.get(unit)
        epsilon = epsilon_from_rho(float(rho), delta) if float(rho) > 0 else 0.0
        lines.append(f"per {unit}: rho {float(rho):.3g} spent by this release (about epsilon {epsilon:.2g} at "
                     f"delta {delta:g})" + (f", of a cap of rho {float(cap):.3g} over every release"
                                            if cap is not None else ""))
    plain = ("The noisy tables are differentially private: whatever else someone knows, seeing them tells them "
             "almost nothing more about whether any one person is in the data. Rho measures how much: the smaller, "
             "the stronger; it adds up over tables and years, and the ledger refuses a release that passes the cap.")
    return tuple(lines), plain


def risk_sentence(risk: Mapping[str, object]) -> str:
    """One record-level risk verdict in words (the packet, the workspace's summary and queue)."""
    quasi = ", ".join(str(q) for q in risk.get("quasi_identifiers") or [])  # type: ignore[attr-defined]
    return (f"{risk.get('file')}: {float(risk.get('unique_share', 0.0)):.1%} of "  # type: ignore[arg-type]
            f"{int(risk.get('rows', 0)):,} rows unique on ({quasi}) as published; "  # type: ignore[call-overload]
            f"{float(risk.get('under_k_share', 0.0)):.1%} in classes under k = {risk.get('k')} "  # type: ignore[arg-type]
            f"(action: {risk.get('action')}).")


def column_rows(policy: DatasetPolicy) -> tuple[ColumnRow, ...]:
    rows = []
    withheld_minor = set(policy.juvenile.withhold) if policy.juvenile is not None and policy.juvenile.enabled else set()
    for name, file_policy in policy.files.items():
        for column, rule in file_policy.columns.items():
            treatment = "dropped (file not published)" if not file_policy.publish else _TREATMENT.get(rule.type, rule.type)
            basis = [rule.legal_basis or policy.legal_basis.get(rule.type, "")]
            if f"{name}.{column}" in withheld_minor:
                treatment += "; withheld for reports involving a minor"
                basis.append(policy.legal_basis.get("juvenile", ""))
            reason = getattr(rule, "reason", "") or rule.description
            rows.append(ColumnRow(name, column, treatment, reason,
                                  "; ".join(b for b in basis if b) or "not stated in the policy"))
    return tuple(rows)


def summarize(facts: Facts, policy: DatasetPolicy | None = None) -> Summary:
    verdicts = [str(r.get("verdict")) for r in facts.record_risk]
    rating = next((v for v in _RATING_ORDER if v in verdicts), "not measured")
    warnings = tuple((str(f.get("message", "")), _where(f), str(f.get("rule") or f.get("code") or ""),
                      f"{f.get('count'):,}" if isinstance(f.get("count"), int) else "")
                     for f in facts.warning_findings)
    verdict = (f"{facts.blocking:,} blocking finding(s): this bundle cannot be approved until they are resolved."
               if facts.blocking else
               f"No blocking finding. Read the risk rating and the {len(warnings)} warning(s) below before approving.")
    budget_lines, plain = _budget(facts.privacy_budget)
    target = f"{facts.dataset} {facts.year}"
    return Summary(
        facts.dataset, facts.year, facts.status, facts.blocking, verdict, not facts.blocking, rating,
        tuple(f"{str(r.get('verdict', '')).upper()} {risk_sentence(r)}" for r in facts.record_risk),
        budget_lines, plain, warnings,
        f"release decide {target} --log-id SEQ_OR_HASH|--finding ID --decision keep|redact --key KEY",
        f"release approve {target} --key KEY", f"release review {target} --serve --key KEY [--raw DIR]",
        facts.approvals_required, column_rows(policy) if policy is not None else ())
