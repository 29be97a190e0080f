"""The command line itself (issue #13, item 4): help with examples on every command, a README
that lists every command, `python -m release` and `python -m release.cli`, dataset names checked
with did-you-mean suggestions, and options from the environment."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from conftest import invoke

from release import cli
from release.config.datasets import DATASETS
from release.terminal import help as help_texts

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = sorted(cli.main.commands)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_examples(command: str) -> None:
    code, out, _ = invoke(command, "--help")
    assert code == 0 and out.startswith(f"Usage: main {command}")
    examples = out[out.index("Examples:"):].splitlines()[1:]
    assert examples and all(line.strip().startswith(("release ", "RELEASE_")) for line in examples if line.strip())
    runs = command if command not in DATASETS else command + " 2020"
    assert any(runs in line for line in examples)


def _every_command(command: click.Command = cli.main, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """The path of every command and subcommand of ``release.cli``, the group itself first."""
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from _every_command(sub, (*path, name))


def _described(path: tuple[str, ...]) -> str:
    """What release/terminal/help.py says the command is for (``HELP``, keyed as ``texts`` keys it)."""
    if not path:
        return help_texts.HELP["main"]
    if path[0] in DATASETS:
        return help_texts.HELP["DATASET"].format(dataset=path[0])
    return help_texts.HELP["-".join(path)]


EVERY_COMMAND = list(_every_command())


@pytest.mark.parametrize("path", EVERY_COMMAND, ids=[" ".join(path) or "main" for path in EVERY_COMMAND])
def test_every_command_and_subcommand_says_what_it_is_for_and_names_each_option(path: tuple[str, ...]) -> None:
    command: click.Command = cli.main
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    code, out, err = invoke(*path, "--help")
    assert code == 0, err
    usage, description = out.split("\n\n")[:2]
    assert usage.startswith(" ".join(("Usage: main", *path)))
    words = " ".join(description.split())
    assert words and " ".join(_described(path).split()).startswith(words)  # the description line, as help.py has it
    assert " ".join(_described(path).split()) in " ".join(out.split())  # and the whole of it
    options = [name for param in command.params if isinstance(param, click.Option) and not param.hidden
               for name in (*param.opts, *param.secondary_opts)]
    assert options or path == ("witness",)  # the witness group has subcommands, no options of its own
    listed = out[out.index("Options:"):]
    for name in [*options, "--help"]:
        assert re.search(rf"(^|[\s,/]){re.escape(name)}([\s,/=]|$)", listed, flags=re.MULTILINE), name


def _readme_commands() -> tuple[set[str], str]:
    """The first word after `release` in each row of README.md's commands table, and the table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Commands"):readme.index("### Exit codes")]
    return set(re.findall(r"^\| `release (\S+)", table, flags=re.MULTILINE)), table


def test_the_readme_lists_every_command() -> None:
    listed, table = _readme_commands()
    builds = set(DATASETS)
    assert listed == (set(COMMANDS) - builds) | {"DATASET"}
    named = re.search(r"DATASET is (.+?)\.", table)
    assert named is not None
    assert re.findall(r"`([a-z_]+)`", named.group(1)) == list(DATASETS)


@pytest.mark.parametrize("entry", [["-m", "release"], ["-m", "release.cli"]], ids=["python-m-release", "python-m-release-cli"])
def test_every_command_is_reachable_from_python(entry: list[str], tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, *entry, "--help"], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    commands = done.stdout[done.stdout.index("Commands:"):].split("\n\n")[0]
    listed = re.findall(r"^  (\S+)\s", commands, flags=re.MULTILINE)
    assert sorted(listed) == COMMANDS


def test_the_synthetic_generator_keeps_its_own_entry_point(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "release.synth", "in_custody_deaths", "2020", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and "rows" in done.stdout, done.stderr


@pytest.mark.parametrize(("args", "suggestion"), [
    (["budget", "fioee"], "'fioee' is not a dataset. Did you mean 'fioe'?"),
    (["review", "fieo", "2020"], "Did you mean 'fioe'?"),
    (["audit", "shooting", "2020"], "Did you mean 'shootings'?"),
    (["sample", "youth_connect", "2020", "--out", "x"], "Did you mean 'youthconnect'?"),
    (["fieo", "2020"], "No such command 'fieo'. Did you mean 'fioe'?"),
    (["budget", "../../fioe"], "'../../fioe' is not a dataset. Datasets: fioe, shootings"),
], ids=["budget", "review", "audit", "sample", "build", "traversal"])
def test_a_misspelled_dataset_is_a_usage_error_with_a_suggestion(args: list[str], suggestion: str) -> None:
    code, _, stderr = invoke(*args)
    assert code == 2 and suggestion in " ".join(stderr.split())


def test_shared_folders_come_from_the_environment(tmp_path: Path) -> None:
    ledger = Path("~/.local/share/release/privacy_ledger.sqlite").expanduser()
    code, out, _ = invoke("budget", "fioe", env={"RELEASE_OUT": str(tmp_path / "rel"), "RELEASE_LEDGER": str(ledger)})
    assert code == 0 and f"ledger {ledger}" in out
    code, out, _ = invoke("budget", "fioe", env={"RELEASE_OUT": str(tmp_path / "rel"), "RELEASE_LEDGER": ""})
    # unset: the one ledger the privacy policy names, wherever --out points
    assert code == 0 and f"ledger {ledger}" in out
    # set elsewhere: refused, it may only name that ledger (a throwaway one gave free draws)
    code, _, err = invoke("budget", "fioe", env={"RELEASE_OUT": str(tmp_path / "rel"),
                                                  "RELEASE_LEDGER": str(tmp_path / "elsewhere.sqlite")})
    assert code == 3 and "may only name that file" in err
    code, out, _ = invoke("list", env={"RELEASE_LIST_AS_JSON": "1", "RELEASE_OUT": str(tmp_path)})
    assert code == 0 and out.startswith("{")


def _options(command: click.Command) -> dict[str, click.Option]:
    return {p.name: p for p in command.params if isinstance(p, click.Option) and p.name}


def test_switches_that_weaken_a_check_or_replace_a_release_must_be_typed() -> None:
    typed_only = {("audit", "allow_unverified"), ("audit", "no_scan"), ("decide", "decision")}
    typed_only |= {(dataset, "supersede") for dataset in DATASETS}
    for name, command in cli.main.commands.items():
        for option_name, option in _options(command).items():
            assert option.allow_from_autoenv is ((name, option_name) not in typed_only), (name, option_name)
    for name in ("scan", "list", "audit", "fioe"):
        assert _options(cli.main.commands[name]).get("rules_dir") is None or \
            _options(cli.main.commands[name])["rules_dir"].envvar == "RELEASE_RULES"
