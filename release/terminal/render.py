"""Plain-text renderings of what ``release.api`` returns, for the terminal.

One function per result shape, each a dict -> str (no I/O, no click): ``release.cli`` picks one
and prints it, or prints the dict itself with ``--json``. Names and counts only: every
result was built without cell values, and nothing here adds any.
"""

from __future__ import annotations

from typing import Any


def blocking_lines(result: dict[str, Any]) -> list[str]:
    """Every blocking finding, grouped by check and rule (row keys and ids, never values)."""
    lines = [f"  BLOCKED by {result['findings']['blocking']} finding(s); nothing can be approved or published yet.",
             f"  What to fix, with each finding in context: {result['packet']}"]
    for group in result.get("blocking", []):
        lines.append(f"  {group['stage']} / {group['rule'] or group['code']}: {group['message']} "
                     f"({group['findings']} finding(s))")
        for item in group["items"][:10]:
            where = ", ".join(f"{k} {item[k]}" for k in ("file", "row_key", "column") if item.get(k))
            lines.append(f"    {item['finding_id'] or '-':<12} {where}")
        if len(group["items"]) > 10:
            lines.append(f"    ... and {len(group['items']) - 10} more (all listed in the packet and in --json)")
    if any(item.get("finding_id") for group in result.get("blocking", []) for item in group["items"]):
        lines.append(f"  Decide one: release decide {result['dataset']} {result['year']} --finding ID "
                     "--decision redact|keep --reviewer NAME; then rebuild.")
    return lines


def build(result: dict[str, Any]) -> str:
    lines = [f"{result['dataset']} {result['year']}: bundle written to {result['bundle']} (status {result['status']})",
             f"  redaction log entries: {result['redactions']} (verified in {result['verify_rounds']} round(s))",
             f"  findings: {result['findings']['warning']} warning(s), {result['findings']['info']} info"]
    for warning in result.get("warnings", []):
        where = ", ".join(f"{k} {warning[k]}" for k in ("file", "column") if warning.get(k))
        count = f" ({warning['count']} rows)" if warning.get("count") else ""
        lines.append(f"  warning: {where}: {warning['message']}{count}")
    if result["status"] != "draft":
        lines += blocking_lines(result)
    lines.append(f"  manifest sha256: {result['manifest_sha256']}")
    return "\n".join(lines)


def build_years(result: dict[str, Any]) -> str:
    """Each year as a single year's build prints it, then one line for the run."""
    lines = [build(year) for year in result["results"]]
    first, last = result["years"][0], result["years"][-1]
    lines.append(f"{result['dataset']} {first}-{last}: {result['drafts']} draft(s), {len(result['blocked'])} blocked"
                 + (f" ({', '.join(map(str, result['blocked']))})" if result["blocked"] else ""))
    return "\n".join(lines)


def scan(result: dict[str, Any]) -> str:
    lines = [f"{result['file']} column {result['column']}: {result['rows_with_findings']} of {result['rows']} rows "
             f"with possible PII (threshold {result['threshold']})",
             f"{'entity type':<24}{'findings':>10}"]
    lines += [f"{kind:<24}{count:>10}" for kind, count in result["by_type"].items()]
    touching = ", ".join(f"{kind} {count}" for kind, count in result["touching_by_type"].items())
    lines.append(f"not counted: {result['touching_earlier_redaction']} hits touching an earlier redaction marker"
                 + (f" ({touching}; listed apart in --json)" if touching else ""))
    lines.append("Use --json for every finding's row key, type and offsets (never the text).")
    return "\n".join(lines)


def key_values(result: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in result.items() if not isinstance(v, (list, dict)))


def witness_recovered(result: dict[str, Any]) -> str:
    return "\n".join([key_values(result), *(f"  recovered: {line}" for line in result.get("recovered", []))])


def keygen(result: dict[str, Any]) -> str:
    return (key_values(result) + "\nNothing signed with this key counts until an administrator adds this line "
            "under 'signers:' in trusted_signers.yaml (in the rules folder passed with --rules, or the installed copy):"
            f"\n  {result['trusted_signers_entry']}")


def witness_key(result: dict[str, Any]) -> str:
    return (key_values({k: v for k, v in result.items() if k != "privacy_yaml"})
            + "\nKeep the private key readable by the witness's account only. The organisation's privacy.yaml "
            f"pins the service with this line (correct the address if it listens elsewhere):\n  {result['privacy_yaml']}")


def signed_by(signer: dict[str, Any]) -> str:
    """A trusted signer as every command shows one: name, role and short key id."""
    return f"  signed by {signer['name']} ({signer['role']}, key {str(signer['key_id'])[:16]})"


def approve(result: dict[str, Any]) -> str:
    lines = [f"{result['dataset']} {result['year']}: approved by {result['reviewer']} ({result['role']}, "
             f"key {result['key_id'][:16]})", f"  manifest sha256: {result['manifest_sha256']}",
             f"  trusted approvals: {result['approvals']}"
             + ("; ready to publish" if result["ready_to_publish"] else "; more are needed before publishing")]
    lines += [signed_by(signer) for signer in result["signers"]]
    lines += decision_lines(result.get("review_decisions"))
    return "\n".join(lines)


def decision_lines(decided: dict[str, Any] | None) -> list[str]:
    """The reviewers' decisions an approver signs over: counts and reasons, never a value."""
    if not decided:
        return []
    lines = [f"  reviewer decisions: {decided['in_force']} in force, {decided['applied_by_build']} applied by the "
             f"build" + (f", {decided['not_applied_by_build']} not yet applied (rebuild)"
                         if decided["not_applied_by_build"] else "")
             + (f", {decided['conflicts']} conflict(s) (redact applies)" if decided["conflicts"] else "")]
    lines += [f"  decision applied though not on the ledger: {why}" for why in decided["unanchored"]]
    lines += [f"  decision line ignored: {why}" for why in decided["ignored"]]
    return lines


def publish(result: dict[str, Any]) -> str:
    lines = [f"{result['dataset']} {result['year']}: published to {result['destination']} "
             f"({len(result['files'])} file(s)); trusted approvals: {result['approvals']}"]
    lines += [signed_by(signer) for signer in result["signers"]]
    return "\n".join(lines)


def budget(result: dict[str, Any]) -> str:
    lines = [f"privacy budget, ledger {result['ledger']}"]
    if not result.get("years"):
        return lines[0] + ": nothing spent yet"
    lines.append(f"{'year':>6} {'privacy unit':<14}{'rho':>8}{'epsilon':>10}")
    lines += [f"{y['year']:>6} {y['privacy_unit']:<14}{y['rho']:>8.3f}{y['epsilon']:>10.2f}" for y in result["years"]]
    lines.append(f"{'unit':<14}{'spent rho':>10}{'cap rho':>9}{'left rho':>10}")
    lines += [f"{u['privacy_unit']:<14}{u['spent_rho']:>10.3f}{u['cap_rho']:>9.3f}{u['remaining_rho']:>10.3f}"
              for u in result["units"]]
    return "\n".join(lines)


def releases(result: dict[str, Any]) -> str:
    if not result["releases"]:
        return "no releases yet"
    lines = [f"{'dataset':<20}{'year':>6}{'version':>8}  {'status':<10}{'approvals':>10}{'rho spent':>11}"]
    lines += [f"{r['dataset']:<20}{r['year']:>6}{r['version']:>8}  {r['status']:<10}{r['approvals']:>10}"
              f"{r['rho_spent']:>11.3f}" + (f"  part {r['part']}" if r.get("part") else "") for r in result["releases"]]
    return "\n".join(lines)


# ---- audit and verify: one report shape ------------------------------------------------------

# detail entries shown elsewhere (signers, the reason a check did not run) or too long for a table
_NOT_COUNTS = {"signers", "reason", "trusted_signers", "ledger", "required", "counted"}


def _counts(check: dict[str, Any]) -> str:
    detail = check.get("detail") or {}
    if check.get("status") == "not run":
        return str(detail.get("reason", ""))
    parts = []
    for key, value in detail.items():
        if key in _NOT_COUNTS or isinstance(value, (dict, list)) or value is None:
            continue
        parts.append(f"key id {str(value)[:16]}" if key == "key_id" else f"{key.replace('_', ' ')} {value}")
    return ", ".join(parts)


def _problem_lines(check: dict[str, Any]) -> list[str]:
    lines = [f"  {check['name']}: {problem}" for problem in check.get("problems", [])]
    omitted = int(check.get("problems_omitted") or 0)
    if omitted:
        lines.append(f"  {check['name']}: ... and {omitted:,} more ({check.get('problem_count', 0):,} in all; "
                     f"the first {len(check.get('problems', []))} are listed here and in --json)")
    return lines


def report(result: dict[str, Any]) -> str:
    """An audit or verify report: a table of checks with their counts, the signers and key
    ids, every problem listed (with a note of how many were cut off), and what did not run."""
    checks = result["checks"]
    summary = result.get("summary", {})
    what = "audit of" if result.get("subject", "audit") == "audit" else "verification of"
    subject = f" ({result['dataset']} {result['year']})" if result.get("dataset") else ""
    verdict = (f"{what} {result['bundle']}{subject}: {'PASS' if result['ok'] else 'FAIL'}: {summary.get('pass', 0)} "
               f"passed, {summary.get('fail', 0)} failed, {summary.get('not run', 0)} not run")
    lines = [verdict, f"  manifest sha256: {result.get('manifest_sha256') or '(none)'}", ""]
    width = max([len("check")] + [len(c["name"]) for c in checks])
    lines.append(f"  {'status':<8} {'check':<{width}} {'problems':>8}  counts")
    for check in checks:
        status = {"fail": "FAIL"}.get(check["status"], check["status"])
        count = "-" if check["status"] == "not run" else f"{check.get('problem_count', 0):,}"
        lines.append(f"  {status:<8} {check['name']:<{width}} {count:>8}  {_counts(check)}".rstrip())
    signers = result.get("signers") or []
    lines.append("")
    lines += [signed_by(s) for s in signers] or ["  no trusted approval of this manifest"]
    problems = [line for check in checks for line in _problem_lines(check)]
    if problems:
        lines += ["", "problems (names, counts and row keys; never a value):", *problems]
    skipped = [c for c in checks if c["status"] == "not run"]
    if skipped and result.get("allow_unverified"):
        lines += ["", "not run, allowed with --allow-unverified:"]
        lines += [f"  UNVERIFIED: {c['name']}: {c['detail'].get('reason')}" for c in skipped]
    elif skipped:
        lines += ["", "not run (a check that did not run is not a pass; give what it needs, or --allow-unverified):"]
        lines += [f"  {c['name']}: not run ({c['detail'].get('reason')})" for c in skipped]
    return "\n".join(lines)


def doctor(result: dict[str, Any]) -> str:
    """One line per check: status, name, what was found."""
    failed = sum(c["status"] == "fail" for c in result["checks"])
    head = ("release doctor: " + (f"{failed} check(s) failed" if failed else "ready")
            + (f", {result['warnings']} warning(s)" if result.get("warnings") else ""))
    width = max(len(c["name"]) for c in result["checks"])
    return "\n".join([head] + [f"  {c['status']:<5} {c['name']:<{width}}  {c['detail']}" for c in result["checks"]])
