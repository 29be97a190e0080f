"""Command line: parse, call ``release.api``, render, exit. The only module importing click.

Exit codes (see ``release.errors``): 0 success, 1 internal error, 2 usage error,
3 configuration, 4 input, 5 blocking finding, 6 budget, 7 approval/publish refused,
8 audit failure, 9 environment (missing model or key).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from release.bundles import DATASETS
from release import cli_render as render
from release.errors import ReleaseError
from release.progress_bars import RichProgress


def _emit(result: dict[str, Any], as_json: bool, show: Callable[[dict[str, Any]], str]) -> None:
    click.echo(json.dumps(result, indent=2, default=str) if as_json else show(result))


def _run(as_json: bool, call: Callable[[], dict[str, Any]], show: Callable[[dict[str, Any]], str]) -> None:
    """Call the library, render its result, exit with the result's ``exit_code`` (0 by default)."""
    try:
        result = call()
    except ReleaseError as error:
        if as_json:
            click.echo(json.dumps(error.to_dict(), indent=2, default=str))
        click.echo(f"error: {error.one_line()}", err=True)
        sys.exit(error.exit_code)
    except Exception as error:  # a bug, not a user mistake: no message (it could carry a value)
        if os.environ.get("RELEASE_DEBUG") == "1":
            raise
        click.echo(f"internal error ({type(error).__name__}); rerun with RELEASE_DEBUG=1 for a traceback",
                   err=True)
        sys.exit(1)
    _emit(result, as_json, show)
    if not as_json:
        for notice in result.get("notices", []):  # e.g. a new HMAC key to back up
            click.echo(f"note: {notice}", err=True)
    code = result.get("exit_code", 0)
    if code:
        if result.get("error"):
            click.echo(f"error: {result['error']}", err=True)
        sys.exit(int(code))


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
                   "Without --input the bundled synthetic sample is used. A published YEAR is never "
                   "replaced: --supersede builds a new version in its own folder.")
    @click.argument("year", type=click.IntRange(1990, 2100))
    @click.option("--input", "input_dir", type=click.Path(path_type=Path), help="Raw export folder.")
    @click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("releases"),
                  show_default=True, help="Releases folder.")
    @click.option("--rules", "rules_dir", type=click.Path(path_type=Path),
                  help="Rules folder (default ./redaction_rules, else the installed copy).")
    @click.option("--expectations", "expectations_dir", type=click.Path(path_type=Path),
                  help="Expectation suites folder (default ./expectations, else the installed copy).")
    @click.option("--ledger", type=click.Path(path_type=Path),
                  help="Privacy ledger (default $RELEASE_LEDGER, else OUT/privacy_ledger.sqlite).")
    @click.option("--supersede", is_flag=True,
                  help="YEAR is published: build a new version in its own folder (OUT/<dataset>/YEAR-v2, ...).")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON; no progress bars.")
    def command(year: int, input_dir: Path | None, out_dir: Path, rules_dir: Path | None,
                expectations_dir: Path | None, ledger: Path | None, supersede: bool, as_json: bool) -> None:
        from release import api
        progress = api.Silent() if as_json else RichProgress()
        options = api.BuildOptions(dataset=dataset, year=year, input_dir=input_dir, out_dir=out_dir,
                                   rules_dir=rules_dir, expectations_dir=expectations_dir, ledger=ledger,
                                   progress=progress, supersede=supersede)
        _run(as_json, lambda: api.build_release(options), render.build)
    return command


for _name in DATASETS:
    main.add_command(_dataset_command(_name))


if __name__ == "__main__":
    main()


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
                                        progress=api.Silent() if as_json else RichProgress()), render.scan)


@main.command()
@click.argument("dataset", type=click.Choice(DATASETS), metavar="DATASET")
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
    command = click.option("--version", "version", type=click.IntRange(1, 999), default=None,
                           help="Bundle version (default: the latest; --supersede builds the next).")(command)
    command = click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("releases"),
                           show_default=True, help="Releases folder.")(command)
    command = click.argument("year", type=click.IntRange(1990, 2100))(command)
    return click.argument("dataset", type=click.Choice(DATASETS), metavar="DATASET")(command)


def _rules_option(command: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--rules", "rules_dir", type=click.Path(path_type=Path),
                        help="Rules folder with the policy and trusted_signers.yaml "
                             "(default: the installed copy).")(command)


def _passphrase(key_path: Path) -> bytes | None:
    """The signing key's passphrase: $RELEASE_KEY_PASSPHRASE, else asked for (never echoed)."""
    from release import api
    if not api.key_is_encrypted(key_path):
        return None
    given = os.environ.get("RELEASE_KEY_PASSPHRASE")
    return (given or click.prompt(f"passphrase for {key_path}", hide_input=True, err=True)).encode("utf-8")


@main.command()
@_bundle_options
@click.option("--open", "open_browser", is_flag=True, help="Open the packet in a browser.")
@_rules_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def review(dataset: str, year: int, out_dir: Path, version: int | None, open_browser: bool, rules_dir: Path | None,
           as_json: bool) -> None:
    """Show where the review packet (review/index.html) of a bundle is, and what is pending."""
    from release import api
    _run(as_json, lambda: api.review_release(dataset, year, out_dir, open_browser, rules_dir, version), render.key_values)


@main.command()
@_bundle_options
@click.option("--log-id", help="A redaction: the log entry's seq number or hash prefix.")
@click.option("--finding", "finding_id", help="A blocking finding: its id in the review packet (F...).")
@click.option("--decision", type=click.Choice(["redact", "keep"]), required=True)
@click.option("--key", "key_path", type=click.Path(path_type=Path), required=True,
              help="Your private signing key (its public key must be in trusted_signers.yaml).")
@click.option("--reviewer", help="Your name as trusted_signers.yaml lists it (checked, optional).")
@click.option("--note", default="", help="Why.")
@_rules_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def decide(dataset: str, year: int, out_dir: Path, version: int | None, log_id: str | None, finding_id: str | None,
           decision: str, key_path: Path, reviewer: str | None, note: str, rules_dir: Path | None,
           as_json: bool) -> None:
    """Sign a reviewer's decision on a redaction (--log-id) or a blocking finding (--finding);
    the next build applies it if the key is a trusted signer whose role may decide."""
    from release import api
    if (log_id is None) == (finding_id is None):
        raise click.UsageError("give exactly one of --log-id and --finding")
    if version is not None:
        raise click.UsageError("decisions are recorded on the latest version of a year; omit --version")
    options: dict[str, Any] = {"reviewer": reviewer, "note": note, "rules_dir": rules_dir}
    if finding_id is not None:
        _run(as_json, lambda: api.record_finding_decision(dataset, year, out_dir, finding_id, decision, key_path,
                                                          passphrase=_passphrase(key_path), **options),
             render.key_values)
        return
    assert log_id is not None
    _run(as_json, lambda: api.record_decision(dataset, year, out_dir, log_id, decision, key_path,
                                              passphrase=_passphrase(key_path), **options), render.key_values)


@main.command()
@click.option("--out", "path", type=click.Path(path_type=Path), required=True,
              help="Private key file to create (mode 0600); the public key goes to FILE.pub.")
@click.option("--passphrase", "with_passphrase", is_flag=True,
              help="Encrypt the private key with a passphrase ($RELEASE_KEY_PASSPHRASE, else asked for twice).")
@click.option("--name", help="Your name, for the trusted-signers line printed at the end.")
@click.option("--role", help="Your role (e.g. legal), for the trusted-signers line.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def keygen(path: Path, with_passphrase: bool, name: str | None, role: str | None, as_json: bool) -> None:
    """Create an Ed25519 signing key pair for approving releases and signing decisions."""
    from release import api
    passphrase = None
    if with_passphrase:
        given = os.environ.get("RELEASE_KEY_PASSPHRASE") or click.prompt(
            "passphrase for the new key", hide_input=True, confirmation_prompt=True, err=True)
        passphrase = given.encode("utf-8")
    _run(as_json, lambda: api.keygen(path, passphrase, name, role), render.keygen)


@main.command()
@_bundle_options
@click.option("--key", "key_path", type=click.Path(path_type=Path), required=True,
              help="Your private signing key (its public key must be in trusted_signers.yaml).")
@click.option("--reviewer", help="Your name as trusted_signers.yaml lists it (checked, optional).")
@click.option("--note", default="", help="Approval note.")
@_rules_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def approve(dataset: str, year: int, out_dir: Path, version: int | None, key_path: Path, reviewer: str | None,
            note: str, rules_dir: Path | None, as_json: bool) -> None:
    """Sign the bundle's manifest hash with a trusted signer's key; refused for an untrusted key, a
    bundle with a blocking finding or changed files, or a policy other than the bundle's."""
    from release import api
    _run(as_json, lambda: api.approve_release(dataset, year, out_dir, key_path, reviewer=reviewer, note=note,
                                              passphrase=_passphrase(key_path), rules_dir=rules_dir,
                                              version=version), render.approve)


@main.command()
@_bundle_options
@click.option("--to", "to_dir", type=click.Path(path_type=Path), required=True, help="Publication folder.")
@click.option("--ledger", type=click.Path(path_type=Path), default=None,
              help="Privacy ledger (default $RELEASE_LEDGER, else the one the manifest names).")
@_rules_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def publish(dataset: str, year: int, out_dir: Path, version: int | None, to_dir: Path, ledger: Path | None,
            rules_dir: Path | None, as_json: bool) -> None:
    """Copy public/ with its manifest, approvals and SHA256SUMS to TO/DATASET/YEAR and make the
    release's privacy spend permanent on the ledger; refused without the trusted approvals the
    policy requires, if any file changed since, if TO overlaps the releases folder or the
    bundle, if TO already holds another release, or if the ledger lacks the spend."""
    from release import api
    _run(as_json, lambda: api.publish_release(dataset, year, out_dir, to_dir, ledger, rules_dir, version),
         render.publish)


@main.command()
@_bundle_options
@click.option("--raw", "raw_dir", type=click.Path(path_type=Path),
              help="Raw export: also prove no raw value is public and recompute log tokens (needs the HMAC key).")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), help="Rules folder.")
@click.option("--no-scan", is_flag=True, help="Skip the second PII scan of the public files.")
@click.option("--allow-unverified", is_flag=True,
              help="Pass although some checks could not run (no --raw, no HMAC key, --no-scan); each is named.")
@click.option("--json", "as_json", is_flag=True, help="Print every check as JSON.")
def audit(dataset: str, year: int, out_dir: Path, version: int | None, raw_dir: Path | None, rules_dir: Path | None,
          no_scan: bool, allow_unverified: bool, as_json: bool) -> None:
    """Verify a bundle independently: hashes, log chain and trailer MAC, trusted approvals, residual PII,
    columns, cells, budget. Exits 8 when a check fails or could not run (unless --allow-unverified)."""
    from release import api
    _run(as_json, lambda: api.audit_release(dataset, year, out_dir, raw_dir, rules_dir, scan=not no_scan,
                                            allow_unverified=allow_unverified, version=version,
                                            progress=api.Silent() if as_json else RichProgress()), render.report)


@main.command()
@click.argument("folder", type=click.Path(path_type=Path))
@_rules_option
@click.option("--json", "as_json", is_flag=True, help="Print every check as JSON.")
def verify(folder: Path, rules_dir: Path | None, as_json: bool) -> None:
    """Verify a published copy (e.g. on a portal): every file against its manifest and SHA256SUMS,
    and trusted approvals of that manifest meeting the policy. Exits 8 when anything differs."""
    from release import api
    _run(as_json, lambda: api.verify_published(folder, rules_dir), render.report)


@main.command()
@click.argument("dataset", type=click.Choice(DATASETS), metavar="DATASET")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("releases"), show_default=True,
              help="Releases folder.")
@click.option("--ledger", type=click.Path(path_type=Path), help="Privacy ledger (default OUT/privacy_ledger.sqlite).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def budget(dataset: str, out_dir: Path, ledger: Path | None, as_json: bool) -> None:
    """Privacy budget spent and left, per year and privacy unit, over all years."""
    from release import api
    _run(as_json, lambda: api.budget_report(dataset, out_dir, ledger), render.budget)


@main.command(name="list")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("releases"), show_default=True,
              help="Releases folder.")
@click.option("--ledger", type=click.Path(path_type=Path), help="Privacy ledger (default OUT/privacy_ledger.sqlite).")
@_rules_option
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def list_command(out_dir: Path, ledger: Path | None, rules_dir: Path | None, as_json: bool) -> None:
    """Datasets, years released, status and budget (approvals counted against the policy)."""
    from release import api
    _run(as_json, lambda: api.list_releases(out_dir, ledger, rules_dir), render.releases)
