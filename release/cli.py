"""Command line: parse, call ``release.api``, render, exit. The only module importing click.

Exit codes (see ``release.errors`` and README.md, which lists each command's): 0 success,
1 internal error, 2 usage error, 3 configuration, 4 input, 5 blocking finding, 6 budget,
7 approval/publish refused, 8 audit failure, 9 environment (missing model or key).

Every option can come from the environment: the folders every command shares from
RELEASE_OUT, RELEASE_RULES, RELEASE_EXPECTATIONS and RELEASE_LEDGER, any other option from
RELEASE_<COMMAND>_<OPTION> (click's ``auto_envvar_prefix``), except the switches that weaken
a check or replace a release, which must be typed.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from release.build.options import Progress
from release.config.datasets import DATASETS
from release.datasets.generations import names as generation_names
from release.errors import ReleaseError
from release.pii.parallel import ENGINES, Execution, usable_cores
from release.terminal import render
from release.terminal.help import texts

Command = Callable[..., Any]


def _progress(as_json: bool) -> Progress:
    """Bars on stderr, or nothing with --json (stdout is then exactly the library's result)."""
    from release.build.options import Silent
    if as_json:
        return Silent()
    from release.terminal.progress import RichProgress
    return RichProgress()


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
        click.echo(f"internal error ({type(error).__name__}); rerun with RELEASE_DEBUG=1 for a traceback", err=True)
        sys.exit(1)
    click.echo(json.dumps(result, indent=2, default=str) if as_json else show(result))
    if not as_json:
        for notice in result.get("notices", []):  # e.g. a new HMAC key to back up
            click.echo(f"note: {notice}", err=True)
    code = int(result.get("exit_code", 0))
    if code:
        if result.get("error"):
            click.echo(f"error: {result['error']}", err=True)
        sys.exit(code)


class DatasetChoice(click.Choice[str]):
    """A registered dataset (a name becomes part of a path only after this); a misspelling
    gets the nearest names suggested."""

    def __init__(self) -> None:
        super().__init__(DATASETS)

    def get_invalid_choice_message(self, value: Any, ctx: click.Context | None) -> str:
        near = difflib.get_close_matches(str(value), DATASETS, n=2, cutoff=0.6)
        hint = f" Did you mean {' or '.join(repr(name) for name in near)}?" if near else ""
        return f"{value!r} is not a dataset.{hint} Datasets: {', '.join(DATASETS)}."


# ---- options every command shares ---------------------------------------------------------------

def _path_option(flag: str, name: str, envvar: str | None, help_text: str, **more: Any) -> Callable[[Command], Command]:
    return click.option(flag, name, type=click.Path(path_type=Path), envvar=envvar, show_envvar=envvar is not None,
                        help=help_text, **more)


def _out_option(command: Command) -> Command:
    return _path_option("--out", "out_dir", "RELEASE_OUT", "Releases folder.", default=Path("releases"),
                        show_default=True)(command)


def _rules_option(command: Command) -> Command:
    return _path_option("--rules", "rules_dir", "RELEASE_RULES", "Rules folder with the policies and "
                        "trusted_signers.yaml (default: the installed copy).")(command)


def _ledger_option(command: Command) -> Command:
    return _path_option("--ledger", "ledger", "RELEASE_LEDGER", "Privacy ledger: may only name the one the privacy policy "
                        "(privacy.yaml) names; nothing else moves it.")(command)


def _json_option(command: Command) -> Command:
    return click.option("--json", "as_json", is_flag=True, help="Print the result as JSON; no progress bars.")(command)


def _dataset_argument(command: Command) -> Command:
    return click.argument("dataset", type=DatasetChoice(), metavar="DATASET")(command)


def _year_argument(command: Command) -> Command:
    return click.argument("year", type=click.IntRange(1990, 2100))(command)


GENERATION_NAMES = tuple(dict.fromkeys(n for d in DATASETS for n in generation_names(d)))


def _bundle_options(command: Command) -> Command:
    command = click.option("--version", "version", type=click.IntRange(1, 999), default=None,
                           help="Bundle version (default: the latest; --supersede builds the next).")(command)
    command = click.option("--generation", "generation", type=click.Choice(GENERATION_NAMES), default=None,
                           help="In a year two record systems shared (fioe 2015, 2019): the part, each its own "
                                "bundle (OUT/fioe/2019-rms, OUT/fioe/2019-mark43); needed when both are built.")(command)
    return _dataset_argument(_year_argument(_out_option(command)))


def _execution_options(command: Command) -> Command:
    """``--jobs``, ``--engine``, ``--address``: where the PII work runs (never what it gives)."""
    command = click.option("--address", default=None, metavar="ADDR",
                           help="With --engine ray: join the Ray cluster at ADDR (e.g. ray://head:10001) "
                                "instead of starting Ray for this run.")(command)
    command = click.option("--engine", type=click.Choice(ENGINES), default="local", show_default=True,
                           help="local: forked processes on this machine; ray: Ray actors, one PII engine each "
                                "(needs pip install 'release[ray]').")(command)
    return click.option("--jobs", type=click.IntRange(min=1), default=None,
                        help="Workers for the PII work (default: this machine's usable cores; 1: in process). "
                             "The outputs are the same for any number.")(command)


def _execution(engine: str, jobs: int | None, address: str | None) -> Execution:
    if address is not None and engine != "ray":
        raise click.UsageError("--address needs --engine ray")
    return Execution(engine=engine, jobs=jobs or usable_cores(), address=address)


def _must_be_typed(flag: str, name: str, help_text: str) -> Callable[[Command], Command]:
    """A switch that weakens a check or replaces a release: never taken from the environment."""
    return click.option(flag, name, is_flag=True, allow_from_autoenv=False, help=help_text)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "auto_envvar_prefix": "RELEASE"},
             **texts("main"))
@click.version_option(package_name="release", allow_from_autoenv=False)
def main() -> None:
    pass


def _generation_option(names: tuple[str, ...], help_text: str) -> Callable[[Command], Command]:
    """``--generation``: the record system of the export (release.datasets.generations); only where there are several."""
    if not names:
        return lambda command: command
    return click.option("--generation", type=click.Choice(names), default=None, help=help_text)


class YearsType(click.ParamType[tuple[tuple[int, ...], bool]]):
    """A build's YEAR: one year (2020), or a range (2011-2020, also 2020-2020) read from one export
    folder per year; converted to (the years, whether a range was given)."""

    name = "YEAR"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None
                ) -> tuple[tuple[int, ...], bool]:
        if isinstance(value, tuple):
            return value
        from release.build.years import parse_years
        try:
            return parse_years(str(value)), "-" in str(value)
        except ReleaseError as error:
            self.fail(error.message, param, ctx)


def _dataset_command(dataset: str) -> click.Command:
    @click.command(name=dataset, **texts("DATASET", dataset))
    @click.argument("years", type=YearsType(), metavar="YEAR")
    @click.option("--input", "input_dir", type=click.Path(path_type=Path), help="Raw export folder.")
    @_out_option
    @_rules_option
    @_path_option("--expectations", "expectations_dir", "RELEASE_EXPECTATIONS",
                  "Expectation suites folder (default: the installed copy).")
    @_ledger_option
    @_must_be_typed("--supersede", "supersede",
                    "YEAR is published: build a new version in its own folder (OUT/<dataset>/YEAR-v2, ...).")
    @_generation_option(generation_names(dataset), "Record system the export came from (default: from YEAR, "
                        "and from the headers in a year two systems shared).")
    @_execution_options
    @_json_option
    def command(years: tuple[tuple[int, ...], bool], input_dir: Path | None, out_dir: Path, rules_dir: Path | None,
                expectations_dir: Path | None, ledger: Path | None, supersede: bool, jobs: int | None, engine: str,
                address: str | None, as_json: bool, generation: str | None = None) -> None:
        from release import api
        chosen, ranged = years
        options = api.BuildOptions(dataset=dataset, year=chosen[0], input_dir=input_dir, out_dir=out_dir,
                                   rules_dir=rules_dir, expectations_dir=expectations_dir, ledger=ledger,
                                   progress=_progress(as_json), supersede=supersede, generation=generation,
                                   execution=_execution(engine, jobs, address))
        if ranged:  # even 2020-2020: --input holds year folders
            _run(as_json, lambda: api.build_years(options, chosen), render.build_years)
        else:
            _run(as_json, lambda: api.build_release(options), render.build)
    return command


for _name in DATASETS:
    main.add_command(_dataset_command(_name))


@main.command(**texts("scan"))
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--column", required=True, help="Column to scan.")
@click.option("--key", "key_column", help="Column to name rows by (default: data row number).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.25, show_default=True,
              help="Minimum detector score.")
@click.option("--roster-column", "roster_columns", multiple=True,
              help="Column of published names (e.g. officers) to keep, not count; repeatable.")
@click.option("--marker", default="XXX", show_default=True,
              help="An earlier redaction's marker: hits touching it are counted apart (empty: none).")
@_rules_option
@_execution_options
@_json_option
def scan(file: Path, column: str, key_column: str | None, threshold: float, roster_columns: tuple[str, ...],
         marker: str, rules_dir: Path | None, jobs: int | None, engine: str, address: str | None,
         as_json: bool) -> None:
    from release import api
    execution = _execution(engine, jobs, address)
    _run(as_json, lambda: api.scan_file(file, column, key_column=key_column, rules_dir=rules_dir,
                                        threshold=threshold, roster_columns=roster_columns, marker=marker or None,
                                        progress=_progress(as_json), execution=execution), render.scan)


@main.command(**texts("sample"))
@_dataset_argument
@_year_argument
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder to write the raw export to.")
@click.option("--seed", type=int, default=None, help="Generator seed (default: the year).")
@click.option("--reports", type=click.IntRange(1, 100000), default=None,
              help="Size: reports (fioe), incidents, cases or guns per year (default: a year's size).")
@_generation_option(GENERATION_NAMES,
                    "Record system whose shape to write (fioe; default: the one that held most of YEAR).")
@_json_option
def sample(dataset: str, year: int, out_dir: Path, seed: int | None, reports: int | None, as_json: bool,
           generation: str | None = None) -> None:
    from release import api
    _run(as_json, lambda: api.write_sample(dataset, year, out_dir, seed=seed, reports=reports, generation=generation),
         lambda r: f"wrote {', '.join(r['files'])} to {r['folder']}")


def _passphrase(key_path: Path) -> bytes | None:
    """The signing key's passphrase: $RELEASE_KEY_PASSPHRASE, else asked for (never echoed)."""
    from release import api
    if not api.key_is_encrypted(key_path):
        return None
    given = os.environ.get("RELEASE_KEY_PASSPHRASE")
    return (given or click.prompt(f"passphrase for {key_path}", hide_input=True, err=True)).encode("utf-8")


def _key_option(command: Command) -> Command:
    return click.option("--key", "key_path", type=click.Path(path_type=Path), required=True,
                        help="Your private signing key (its public key must be in trusted_signers.yaml).")(command)


def _reviewer_option(command: Command) -> Command:
    return click.option("--reviewer", help="Your name as trusted_signers.yaml lists it (checked, optional).")(command)


@main.command(**texts("review"))
@_bundle_options
@click.option("--open", "open_browser", is_flag=True, help="Open the packet in a browser.")
@click.option("--serve", "serve", is_flag=True,
              help="Start the local review workspace (127.0.0.1 only); the first line of output is its one-time URL.")
@click.option("--raw", "raw_dir", type=click.Path(path_type=Path),
              help="With --serve: your raw export, to show the removed text (read into memory, never written).")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="With --serve: the port (0: any free port).")
@click.option("--key", "key_path", type=click.Path(path_type=Path),
              help="With --serve: your private signing key, to sign decisions and the approval (unlocked once).")
@_reviewer_option
@_rules_option
@_json_option
def review(dataset: str, year: int, out_dir: Path, version: int | None, generation: str | None, open_browser: bool,
           serve: bool, raw_dir: Path | None, port: int, key_path: Path | None, reviewer: str | None,
           rules_dir: Path | None, as_json: bool) -> None:
    from release import api
    if not serve:
        if raw_dir is not None or key_path is not None or port:
            raise click.UsageError("--raw, --key and --port go with --serve")
        _run(as_json, lambda: api.review_release(dataset, year, out_dir, open_browser, rules_dir, version,
                                                 generation), render.key_values)
        return
    if version is not None:
        raise click.UsageError("the workspace reviews the latest version of a year; omit --version")

    def ready(info: dict[str, Any]) -> None:
        click.echo(json.dumps(info) if as_json else info["url"])
        sys.stdout.flush()
        if not as_json:
            click.echo("Open the URL above in a browser on this machine; it works once. Ctrl-C stops the server.",
                       err=True)

    _run(as_json, lambda: api.serve_review(dataset, year, out_dir, ready, port=port, raw_dir=raw_dir,
                                           rules_dir=rules_dir, key_path=key_path,
                                           passphrase=_passphrase(key_path) if key_path else None,
                                           reviewer=reviewer, generation=generation), render.key_values)


@main.command(**texts("decide"))
@_bundle_options
@click.option("--log-id", help="A redaction: the log entry's seq number or hash prefix.")
@click.option("--finding", "finding_id", help="A blocking finding: its id in the review packet (F...).")
@click.option("--decision", type=click.Choice(["redact", "keep"]), required=True, allow_from_autoenv=False,
              help="keep: what was found stays as written (not PII); redact: it is removed in the next build.")
@_key_option
@_reviewer_option
@click.option("--note", default="", help="Why.")
@_rules_option
@_json_option
def decide(dataset: str, year: int, out_dir: Path, version: int | None, generation: str | None, log_id: str | None,
           finding_id: str | None, decision: str, key_path: Path, reviewer: str | None, note: str,
           rules_dir: Path | None, as_json: bool) -> None:
    from release import api
    if (log_id is None) == (finding_id is None):
        raise click.UsageError("give exactly one of --log-id and --finding")
    if version is not None:
        raise click.UsageError("decisions are recorded on the latest version of a year; omit --version")
    options: dict[str, Any] = {"reviewer": reviewer, "note": note, "rules_dir": rules_dir, "generation": generation}
    if finding_id is not None:
        _run(as_json, lambda: api.record_finding_decision(dataset, year, out_dir, finding_id, decision, key_path,
                                                          passphrase=_passphrase(key_path), **options),
             render.key_values)
        return
    assert log_id is not None
    _run(as_json, lambda: api.record_decision(dataset, year, out_dir, log_id, decision, key_path,
                                              passphrase=_passphrase(key_path), **options), render.key_values)


@main.command(**texts("keygen"))
@click.option("--out", "path", type=click.Path(path_type=Path), required=True,
              help="Private key file to create (mode 0600); the public key goes to FILE.pub.")
@click.option("--passphrase", "with_passphrase", is_flag=True,
              help="Encrypt the private key with a passphrase ($RELEASE_KEY_PASSPHRASE, else asked for twice).")
@click.option("--name", help="Your name, for the trusted-signers line printed at the end.")
@click.option("--role", help="Your role (e.g. legal), for the trusted-signers line.")
@_json_option
def keygen(path: Path, with_passphrase: bool, name: str | None, role: str | None, as_json: bool) -> None:
    from release import api
    passphrase = None
    if with_passphrase:
        given = os.environ.get("RELEASE_KEY_PASSPHRASE") or click.prompt(
            "passphrase for the new key", hide_input=True, confirmation_prompt=True, err=True)
        passphrase = given.encode("utf-8")
    _run(as_json, lambda: api.keygen(path, passphrase, name, role), render.keygen)


_REPLAY_HELP = ("Raw export: refuse (7) unless the bundle replays from it cell by cell (release audit --raw's "
                "checks of the raw export; needs the HMAC key).")


@main.command(**texts("approve"))
@_bundle_options
@_key_option
@_reviewer_option
@click.option("--note", default="", help="Approval note.")
@_rules_option
@_path_option("--raw", "raw_dir", None, _REPLAY_HELP)
@_json_option
def approve(dataset: str, year: int, out_dir: Path, version: int | None, generation: str | None, key_path: Path,
            reviewer: str | None, note: str, rules_dir: Path | None, raw_dir: Path | None, as_json: bool) -> None:
    from release import api
    _run(as_json, lambda: api.approve_release(dataset, year, out_dir, key_path, reviewer=reviewer, note=note,
                                              passphrase=_passphrase(key_path), rules_dir=rules_dir,
                                              version=version, generation=generation, raw_dir=raw_dir),
         render.approve)


@main.command(**texts("publish"))
@_bundle_options
@click.option("--to", "to_dir", type=click.Path(path_type=Path), required=True, help="Publication folder.")
@_ledger_option
@_rules_option
@_path_option("--raw", "raw_dir", None, _REPLAY_HELP)
@_json_option
def publish(dataset: str, year: int, out_dir: Path, version: int | None, generation: str | None, to_dir: Path,
            ledger: Path | None, rules_dir: Path | None, raw_dir: Path | None, as_json: bool) -> None:
    from release import api
    _run(as_json, lambda: api.publish_release(dataset, year, out_dir, to_dir, ledger, rules_dir, version,
                                              generation, raw_dir), render.publish)


@main.command(**texts("audit"))
@_bundle_options
@click.option("--raw", "raw_dir", type=click.Path(path_type=Path),
              help="Raw export: also prove no raw value is public and recompute log tokens (needs the HMAC key).")
@_rules_option
@_must_be_typed("--no-scan", "no_scan", "Skip the residual-PII scan of the public files (then it did not run).")
@_must_be_typed("--allow-unverified", "allow_unverified",
                "Pass although some checks could not run (no --raw, no HMAC key, --no-scan); each is named.")
@_execution_options
@_json_option
def audit(dataset: str, year: int, out_dir: Path, version: int | None, generation: str | None, raw_dir: Path | None,
          rules_dir: Path | None, no_scan: bool, allow_unverified: bool, jobs: int | None, engine: str,
          address: str | None, as_json: bool) -> None:
    from release import api
    execution = _execution(engine, jobs, address)
    _run(as_json, lambda: api.audit_release(dataset, year, out_dir, raw_dir, rules_dir, scan=not no_scan,
                                            allow_unverified=allow_unverified, version=version,
                                            progress=_progress(as_json), generation=generation,
                                            execution=execution), render.report)


@main.command(**texts("verify"))
@click.argument("folder", type=click.Path(path_type=Path))
@_rules_option
@_json_option
def verify(folder: Path, rules_dir: Path | None, as_json: bool) -> None:
    from release import api
    _run(as_json, lambda: api.verify_published(folder, rules_dir), render.report)


@main.command(**texts("budget"))
@_dataset_argument
@_out_option
@_ledger_option
@_json_option
def budget(dataset: str, out_dir: Path, ledger: Path | None, as_json: bool) -> None:
    from release import api
    _run(as_json, lambda: api.budget_report(dataset, out_dir, ledger), render.budget)


@main.command(**texts("doctor"))
@_out_option
@_rules_option
@_path_option("--expectations", "expectations_dir", "RELEASE_EXPECTATIONS",
              "Expectation suites folder (default: the installed copy).")
@_ledger_option
@click.option("--address", help="A Ray cluster (host:port) that runs will join with --engine ray --address: every "
                                "live node must run this release, the same model and the same rules (exit 9 otherwise).")
@_json_option
def doctor(out_dir: Path, rules_dir: Path | None, expectations_dir: Path | None, ledger: Path | None,
           address: str | None, as_json: bool) -> None:
    from release import api
    _run(as_json, lambda: api.doctor(out_dir, rules_dir, expectations_dir, ledger, _progress(as_json), address),
         render.doctor)


@main.command(name="list", **texts("list"))
@_out_option
@_ledger_option
@_rules_option
@_json_option
def list_command(out_dir: Path, ledger: Path | None, rules_dir: Path | None, as_json: bool) -> None:
    from release import api
    _run(as_json, lambda: api.list_releases(out_dir, ledger, rules_dir), render.releases)


@main.group(**texts("witness"))
def witness() -> None:
    pass


@witness.command(name="init-key", **texts("witness-init-key"))
@click.option("--out", "path", type=click.Path(path_type=Path), required=True,
              help="Private key file to create (mode 0600); the public key goes to FILE.pub.")
@click.option("--socket", "socket_path", help="The socket the service will listen on (for the printed line).")
@click.option("--port", type=int, help="The TCP port on 127.0.0.1 it will listen on (for the printed line).")
@_json_option
def witness_init_key(path: Path, socket_path: str | None, port: int | None, as_json: bool) -> None:
    from release import api
    address = socket_path or (f"127.0.0.1:{port}" if port else None)
    _run(as_json, lambda: api.witness_init_key(path, address), render.witness_key)


@witness.command(name="counts-key", **texts("witness-counts-key"))
@click.option("--out", "path", type=click.Path(path_type=Path), required=True,
              help="The counts key file to create (mode 0600; never overwritten), for serve --counts-key.")
@_json_option
def witness_counts_key(path: Path, as_json: bool) -> None:
    from release import api
    _run(as_json, lambda: api.witness_counts_key(path), render.key_values)


@witness.command(name="serve", **texts("witness-serve"))
@click.option("--dir", "folder", type=click.Path(path_type=Path), required=True,
              help="The witness's store folder (its account's only; created mode 0700).")
@click.option("--key", "key_path", type=click.Path(path_type=Path), required=True,
              help="The witness's private key (release witness init-key), mode 0600.")
@click.option("--counts-key", "counts_path", type=click.Path(path_type=Path),
              help="The counts key (release witness counts-key), mode 0600: each draw statement commits to the "
                   "counts drawn on under it. Without it the service makes no draw.")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path),
              help="The organisation's trusted rules folder (the one approve and the audit are given), read once at "
                   "start: the service draws only the measurements it declares, charged to the caps of its "
                   "privacy.yaml (restart it after a policy change). Without it the service makes no draw.")
@click.option("--socket", "socket_path", type=click.Path(path_type=Path), help="Listen on this Unix socket.")
@click.option("--port", type=int, help="Listen on this TCP port of 127.0.0.1 (0: any free port).")
@click.option("--writer", "writers", multiple=True, metavar="USER|UID|any",
              help="An account whose builds may append and draw (repeatable; default: the service's own account). "
                   "Over TCP, which carries no uid, only 'any' lets anyone write (the lower tier).")
@_json_option
def witness_serve(folder: Path, key_path: Path, counts_path: Path | None, rules_dir: Path | None,
                  socket_path: Path | None, port: int | None, writers: tuple[str, ...], as_json: bool) -> None:
    from release import api

    def ready(address: str) -> None:
        click.echo(f"witness: listening on {address}", err=as_json)
        sys.stdout.flush()
    _run(as_json, lambda: api.witness_serve(folder, key_path, socket_path, port, ready, writers, counts_path,
                                            rules_dir), render.key_values)


@witness.command(name="recover", **texts("witness-recover"))
@_rules_option
@_ledger_option
@_json_option
def witness_recover(rules_dir: Path | None, ledger: Path | None, as_json: bool) -> None:
    from release import api
    _run(as_json, lambda: api.witness_recover(rules_dir, ledger), render.witness_recovered)


@witness.command(name="void", **texts("witness-void"))
@click.option("--dir", "folder", type=click.Path(path_type=Path), required=True, help="The witness's store folder.")
@click.option("--key", "key_path", type=click.Path(path_type=Path), required=True, help="The witness's private key.")
@click.option("--from", "first", type=click.IntRange(min=1), required=True,
              help="The first seq to take out of the live chain (an entry no key wrote, which no ledger can adopt).")
@_json_option
def witness_void(folder: Path, key_path: Path, first: int, as_json: bool) -> None:
    from release import api
    _run(as_json, lambda: api.witness_void(folder, key_path, first), render.key_values)


if __name__ == "__main__":  # last, so `python -m release.cli` sees every command
    main()
