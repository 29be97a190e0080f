"""Command line: parse, call ``release.api``, render, exit. The only module importing click.

Exit codes (see ``release.errors``): 0 success, 1 internal error, 2 usage error,
3 configuration, 4 input, 5 blocking finding, 6 budget, 7 approval/publish refused,
8 audit failure, 9 environment (missing model or key).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from release.errors import AuditFailure, ReleaseError

DATASETS = ("fioe", "shootings", "shots_fired", "firearms", "homicide_clearance",
            "in_custody_deaths", "best", "youthconnect")


class RichProgress:
    """Progress bars on stderr for long stages; the CLI passes a silent one with --json."""

    def __init__(self) -> None:
        from rich.console import Console
        self.console = Console(stderr=True)

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, MofNCompleteColumn
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        with Progress(*columns, console=self.console, transient=False,
                      disable=not self.console.is_terminal and total is None) as progress:
            task = progress.add_task(name, total=total if total else 1)
            yield lambda n: progress.advance(task, n)
            progress.update(task, completed=total if total else 1)


def _emit(result: dict[str, Any], as_json: bool, render: Callable[[dict[str, Any]], str]) -> None:
    click.echo(json.dumps(result, indent=2, default=str) if as_json else render(result))


def _run(as_json: bool, call: Callable[[], dict[str, Any]], render: Callable[[dict[str, Any]], str]) -> None:
    """Call the library, render its result, exit with the result's ``exit_code`` (0 by default)."""
    try:
        result = call()
    except ReleaseError as error:
        if as_json:
            click.echo(json.dumps(error.to_dict(), indent=2, default=str))
        click.echo(f"error: {error.one_line()}", err=True)
        if not as_json and isinstance(error, AuditFailure):
            for check in error.details:
                for problem in check.get("problems", []):  # sanitized: names and counts only
                    click.echo(f"  {check.get('name')}: {problem}", err=True)
        sys.exit(error.exit_code)
    except Exception as error:  # a bug, not a user mistake: no message (it could carry a value)
        if os.environ.get("RELEASE_DEBUG") == "1":
            raise
        click.echo(f"internal error ({type(error).__name__}); rerun with RELEASE_DEBUG=1 for a traceback",
                   err=True)
        sys.exit(1)
    _emit(result, as_json, render)
    code = result.get("exit_code", 0)
    if code:
        if result.get("error"):
            click.echo(f"error: {result['error']}", err=True)
        sys.exit(int(code))


def _render_blocking(result: dict[str, Any]) -> list[str]:
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


def _render_build(result: dict[str, Any]) -> str:
    lines = [f"{result['dataset']} {result['year']}: bundle written to {result['bundle']} (status {result['status']})",
             f"  redaction log entries: {result['redactions']} (verified in {result['verify_rounds']} round(s))",
             f"  findings: {result['findings']['warning']} warning(s), {result['findings']['info']} info"]
    for warning in result.get("warnings", []):
        where = ", ".join(f"{k} {warning[k]}" for k in ("file", "column") if warning.get(k))
        count = f" ({warning['count']} rows)" if warning.get("count") else ""
        lines.append(f"  warning: {where}: {warning['message']}{count}")
    if result["status"] != "draft":
        lines += _render_blocking(result)
    lines.append(f"  manifest sha256: {result['manifest_sha256']}")
    return "\n".join(lines)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="release")
def main() -> None:
    """Privacy-preserving releases of police transparency data.

    Build a draft bundle with `release fioe 2020`; review, approve, publish and audit it
    with the other commands. Exit codes: 0 ok, 2 usage, 3 config, 4 input, 5 blocking
    finding, 6 budget, 7 approval, 8 audit, 9 environment, 1 internal error.
    """


def _dataset_command(dataset: str) -> click.Command:
    @click.command(name=dataset, help=f"Build the draft {dataset} release bundle for YEAR.\n\n"
                   "Writes OUT/<dataset>/YEAR/ (public/, manifest.json, redaction_log.jsonl, review/). "
                   "Without --input the bundled synthetic sample is used.")
    @click.argument("year", type=click.IntRange(1990, 2100))
    @click.option("--input", "input_dir", type=click.Path(path_type=Path), help="Raw export folder.")
    @click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("releases"),
                  show_default=True, help="Releases folder.")
    @click.option("--rules", "rules_dir", type=click.Path(path_type=Path),
                  help="Rules folder (default ./redaction_rules, else the installed copy).")
    @click.option("--expectations", "expectations_dir", type=click.Path(path_type=Path),
                  help="Expectation suites folder (default ./expectations, else the installed copy).")
    @click.option("--ledger", type=click.Path(path_type=Path),
                  help="Privacy ledger: may only name the one privacy.yaml (or $RELEASE_LEDGER) sets.")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON; no progress bars.")
    def command(year: int, input_dir: Path | None, out_dir: Path, rules_dir: Path | None,
                expectations_dir: Path | None, ledger: Path | None, as_json: bool) -> None:
        from release import api
        progress = api.Silent() if as_json else RichProgress()
        options = api.BuildOptions(dataset=dataset, year=year, input_dir=input_dir, out_dir=out_dir,
                                   rules_dir=rules_dir, expectations_dir=expectations_dir, ledger=ledger,
                                   progress=progress)
        _run(as_json, lambda: api.build_release(options), _render_build)
    return command


for _name in DATASETS:
    main.add_command(_dataset_command(_name))


if __name__ == "__main__":
    main()


def _render_scan(result: dict[str, Any]) -> str:
    lines = [f"{result['file']} column {result['column']}: {result['rows_with_findings']} of {result['rows']} rows "
             f"with possible PII (threshold {result['threshold']})",
             f"{'entity type':<24}{'findings':>10}"]
    lines += [f"{kind:<24}{count:>10}" for kind, count in result["by_type"].items()]
    touching = ", ".join(f"{kind} {count}" for kind, count in result["touching_by_type"].items())
    lines.append(f"not counted: {result['touching_earlier_redaction']} hits touching an earlier redaction marker"
                 + (f" ({touching}; listed apart in --json)" if touching else ""))
    lines.append("Use --json for every finding's row key, type and offsets (never the text).")
    return "\n".join(lines)


@main.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--column", required=True, help="Column to scan.")
@click.option("--key", "key_column", help="Column to name rows by (default: data row number).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.25, show_default=True,
              help="Minimum detector score.")
@click.option("--roster-column", "roster_columns", multiple=True,
              help="Column of published names (e.g. officers) to keep, not count; repeatable.")
@click.option("--marker", default="XXX", show_default=True,
              help="An earlier redaction's marker: hits touching it are counted apart (empty: none).")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), help="Rules folder.")
@click.option("--json", "as_json", is_flag=True, help="Print every finding as JSON.")
def scan(file: Path, column: str, key_column: str | None, threshold: float, roster_columns: tuple[str, ...],
         marker: str, rules_dir: Path | None, as_json: bool) -> None:
    """Scan a CSV column for residual PII and report findings by type (never the text)."""
    from release import api
    _run(as_json, lambda: api.scan_file(file, column, key_column=key_column, rules_dir=rules_dir,
                                        threshold=threshold, roster_columns=roster_columns,
                                        marker=marker or None,
                                        progress=api.Silent() if as_json else RichProgress()), _render_scan)


@main.command()
@click.argument("dataset", type=click.Choice(DATASETS))
@click.argument("year", type=click.IntRange(1990, 2100))
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder to write the raw export to.")
@click.option("--seed", type=int, default=None, help="Generator seed (default: the year).")
@click.option("--reports", type=click.IntRange(1, 100000), default=None,
              help="Size: reports (fioe), incidents, cases or guns per year (default: a year's size).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def sample(dataset: str, year: int, out_dir: Path, seed: int | None, reports: int | None, as_json: bool) -> None:
    """Write a synthetic raw export (every name and value fictitious) for trying the tool."""
    from release import api
    _run(as_json, lambda: api.write_sample(dataset, year, out_dir, seed=seed, reports=reports),
         lambda r: f"wrote {', '.join(r['files'])} to {r['folder']}")


def _bundle_options(command: Callable[..., Any]) -> Callable[..., Any]:
    command = click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("releases"),
                           show_default=True, help="Releases folder.")(command)
    command = click.argument("year", type=click.IntRange(1990, 2100))(command)
    return click.argument("dataset")(command)


def _render_lines(result: dict[str, Any]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in result.items() if not isinstance(v, (list, dict)))


@main.command()
@_bundle_options
@click.option("--open", "open_browser", is_flag=True, help="Open the packet in a browser.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def review(dataset: str, year: int, out_dir: Path, open_browser: bool, as_json: bool) -> None:
    """Show where the review packet (review/index.html) of a bundle is, and its status."""
    from release import api
    _run(as_json, lambda: api.review_release(dataset, year, out_dir, open_browser), _render_lines)


@main.command()
@_bundle_options
@click.option("--log-id", help="A redaction: the log entry's seq number or hash prefix.")
@click.option("--finding", "finding_id", help="A blocking finding: its id in the review packet (F...).")
@click.option("--decision", type=click.Choice(["redact", "keep"]), required=True)
@click.option("--reviewer", required=True, help="Reviewer's name.")
@click.option("--note", default="", help="Why.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def decide(dataset: str, year: int, out_dir: Path, log_id: str | None, finding_id: str | None, decision: str,
           reviewer: str, note: str, as_json: bool) -> None:
    """Record a reviewer's decision on a redaction (--log-id) or a blocking finding (--finding);
    the next build applies it."""
    from release import api
    if (log_id is None) == (finding_id is None):
        raise click.UsageError("give exactly one of --log-id and --finding")
    if finding_id is not None:
        _run(as_json, lambda: api.record_finding_decision(dataset, year, out_dir, finding_id, decision, reviewer,
                                                          note), _render_lines)
        return
    assert log_id is not None
    _run(as_json, lambda: api.record_decision(dataset, year, out_dir, log_id, decision, reviewer, note),
         _render_lines)


@main.command()
@click.option("--out", "path", type=click.Path(path_type=Path), required=True,
              help="Private key file to create (mode 0600); the public key goes to FILE.pub.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def keygen(path: Path, as_json: bool) -> None:
    """Create an Ed25519 signing key pair for approving releases."""
    from release import api
    _run(as_json, lambda: api.keygen(path), _render_lines)


@main.command()
@_bundle_options
@click.option("--reviewer", required=True, help="Reviewer's name.")
@click.option("--key", "key_path", type=click.Path(path_type=Path), required=True, help="Private key file.")
@click.option("--note", default="", help="Approval note.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def approve(dataset: str, year: int, out_dir: Path, reviewer: str, key_path: Path, note: str, as_json: bool) -> None:
    """Sign the bundle's manifest hash; refused for a bundle with a blocking finding or changed files."""
    from release import api
    _run(as_json, lambda: api.approve_release(dataset, year, out_dir, reviewer, key_path, note), _render_lines)


@main.command()
@_bundle_options
@click.option("--to", "to_dir", type=click.Path(path_type=Path), required=True, help="Publication folder.")
@click.option("--ledger", type=click.Path(path_type=Path), default=None,
              help="Privacy ledger: may only name the one privacy.yaml (or $RELEASE_LEDGER) sets.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def publish(dataset: str, year: int, out_dir: Path, to_dir: Path, ledger: Path | None, as_json: bool) -> None:
    """Copy public/ out and make the release's privacy spend permanent on the ledger; refused
    without the required approvals, if any file changed since, or if the ledger lacks the spend."""
    from release import api
    _run(as_json, lambda: api.publish_release(dataset, year, out_dir, to_dir, ledger), _render_lines)


def _render_audit(result: dict[str, Any]) -> str:
    lines = [f"audit of {result['bundle']}: {'PASS' if result['ok'] else 'FAIL'}"]
    for check in result["checks"]:
        lines.append(f"  {check.get('status', 'ok' if check.get('ok') else 'FAIL'):>8}  {check['name']}")
    return "\n".join(lines)


@main.command()
@_bundle_options
@click.option("--raw", "raw_dir", type=click.Path(path_type=Path),
              help="Raw export: also prove no raw value is public and recompute log tokens (needs the HMAC key).")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), help="Rules folder.")
@click.option("--no-scan", is_flag=True, help="Skip the second PII scan of the public files.")
@click.option("--json", "as_json", is_flag=True, help="Print every check as JSON.")
def audit(dataset: str, year: int, out_dir: Path, raw_dir: Path | None, rules_dir: Path | None, no_scan: bool,
          as_json: bool) -> None:
    """Verify a bundle independently: hashes, log chain, signatures, residual PII, columns, cells, budget."""
    from release import api
    _run(as_json, lambda: api.audit_release(dataset, year, out_dir, raw_dir, rules_dir, scan=not no_scan),
         _render_audit)


def _render_budget(result: dict[str, Any]) -> str:
    lines = [f"privacy budget, ledger {result['ledger']}"]
    if not result.get("years"):
        return lines[0] + ": nothing spent yet"
    lines.append(f"{'year':>6} {'privacy unit':<14}{'rho':>8}{'epsilon':>10}")
    lines += [f"{y['year']:>6} {y['privacy_unit']:<14}{y['rho']:>8.3f}{y['epsilon']:>10.2f}" for y in result["years"]]
    lines.append(f"{'unit':<14}{'spent rho':>10}{'cap rho':>9}{'left rho':>10}")
    lines += [f"{u['privacy_unit']:<14}{u['spent_rho']:>10.3f}{u['cap_rho']:>9.3f}{u['remaining_rho']:>10.3f}"
              for u in result["units"]]
    return "\n".join(lines)


@main.command()
@click.argument("dataset")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("releases"), show_default=True,
              help="Releases folder.")
@click.option("--ledger", type=click.Path(path_type=Path), help="Privacy ledger: may only name the one privacy.yaml (or $RELEASE_LEDGER) sets.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def budget(dataset: str, out_dir: Path, ledger: Path | None, as_json: bool) -> None:
    """Privacy budget spent and left, per year and privacy unit, over all years."""
    from release import api
    _run(as_json, lambda: api.budget_report(dataset, out_dir, ledger), _render_budget)


def _render_list(result: dict[str, Any]) -> str:
    if not result["releases"]:
        return "no releases yet"
    lines = [f"{'dataset':<20}{'year':>6}  {'status':<10}{'approvals':>10}{'rho spent':>11}"]
    lines += [f"{r['dataset']:<20}{r['year']:>6}  {r['status']:<10}{r['approvals']:>10}{r['rho_spent']:>11.3f}"
              for r in result["releases"]]
    return "\n".join(lines)


@main.command(name="list")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("releases"), show_default=True,
              help="Releases folder.")
@click.option("--ledger", type=click.Path(path_type=Path), help="Privacy ledger: may only name the one privacy.yaml (or $RELEASE_LEDGER) sets.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def list_command(out_dir: Path, ledger: Path | None, as_json: bool) -> None:
    """Datasets, years released, status and budget."""
    from release import api
    _run(as_json, lambda: api.list_releases(out_dir, ledger), _render_list)
