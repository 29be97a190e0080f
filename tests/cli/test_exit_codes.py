"""Every command's exit codes match the README's commands table (issue #13, item 4).

One table (``CASES``): each row sets a scene on a fresh copy of one small real build, runs a
command through the CLI, and expects one exit code. ``test_the_table_covers_the_readme``
checks that, for every command, the codes the rows produce are exactly the codes the README
lists for it: a code the README promises has a row that produces it, and no row produces a
code the README does not list. Codes 1 (a bug: here an api call made to raise) and 2 (an
unknown option) are rows for every command.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    BuildWorld,
    authoritative_ledger,
    build_world,
    contact,
    invoke,
    new_signer,
    person,
    small_fioe_build,
    write_export,
)

from release import api

ROOT = Path(__file__).resolve().parents[2]
YEAR = "2020"
SECRET = "Zebulon Quartermaine"  # an internal error must never print its message


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return small_fioe_build(tmp_path_factory)


class World(BuildWorld):
    def approve(self) -> None:
        assert invoke(*self.cmd("approve", "--key", str(self.counsel)))[0] == 0

    def publish(self) -> None:
        self.approve()
        assert invoke(*self.cmd("publish", "--to", str(self.site)))[0] == 0

    def garbage(self, name: str) -> str:
        path = self.tmp / name
        path.write_bytes(b"not a database" * 100)
        return str(path)

    def garbage_ledger(self) -> str:
        """The authoritative ledger (the policy's, in this test's home) is not a database; ``--ledger`` names it."""
        path = authoritative_ledger()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not a database" * 100)
        return str(path)

    def taken_port(self) -> int:
        """A port of 127.0.0.1 this test holds open (the socket lives as long as the world)."""
        import socket
        held = socket.socket()
        held.bind(("127.0.0.1", 0))
        held.listen()
        self.held = held  # type: ignore[attr-defined]
        return int(held.getsockname()[1])

    def no_key(self) -> None:
        self.monkeypatch.delenv("RELEASE_HMAC_KEY", raising=False)
        self.monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(self.tmp / "no-such.key"))

    def tiny(self, **officer: str) -> str:
        contacts = [contact("FC20000001", **officer),
                    contact("FC20000002", contact_reason="Officers observed a group. Released.")]
        persons = [person("FC20000001"), person("FC20000002", first_name="Hortensia", last_name="Bramblewood",
                                                 alias="", dob="1990-01-02", age="30")]
        return str(write_export(self.tmp / "tiny", contacts, persons))

    def broken(self, relpath: str, text: str) -> str:
        rules = self.tmp / "broken-rules"
        shutil.copytree(self.rules, rules)
        (rules / relpath).write_text(text, encoding="utf-8")
        return str(rules)

    def raises(self, function: str) -> None:
        def boom(*args: object, **kwargs: object) -> dict[str, object]:
            raise RuntimeError(SECRET)
        self.monkeypatch.setattr(api, function, boom)

    def model_missing(self) -> None:
        from release.pii import engine
        self.monkeypatch.setattr(engine, "MODEL_PACKAGE", "en_core_web_sm_not_installed")


@pytest.fixture()
def world(base: tuple[Path, Path], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    world = build_world(base, tmp_path, tmp_path_factory, monkeypatch, World)
    assert isinstance(world, World)
    yield world
    held = getattr(world, "held", None)
    if held is not None:  # the port taken_port held open for the test
        held.close()


def _csv(w: World) -> str:
    path = w.tmp / "narratives.csv"
    path.write_text("id,text\n1,Observed a group near the park. Released.\n", encoding="utf-8")
    return str(path)


def _first_redaction(w: World) -> str:
    log = (w.out / "fioe" / YEAR / "redaction_log.jsonl").read_text(encoding="utf-8").splitlines()
    return str(next(json.loads(line)["seq"] for line in log if '"action":"redact"' in line))


def _corrupt_manifest(w: World) -> None:
    (w.out / "fioe" / YEAR / "manifest.json").write_text("{not json", encoding="utf-8")


def _then(*steps: Callable[[], object]) -> None:
    for step in steps:
        step()


@dataclass(frozen=True)
class Row:
    command: str      # as README's commands table names it ("DATASET" for the builds)
    exit_code: int
    says: str         # text in stdout or stderr: what caused the code
    scene: Callable[[World], list[str]]  # sets the scene; returns the arguments of the command to run


def _build(w: World, *more: str, **officer: str) -> list[str]:
    return ["fioe", YEAR, "--input", w.tiny(**officer), "--out", str(w.tmp / "o"), *more]


UNTRUSTED = "X (not trusted)"
BROKEN_SIGNERS = ("trusted_signers.yaml", "signers: [{name: 1}]")
CASES: dict[str, Row] = {
    "build-draft": Row("DATASET", 0, "(status draft)", lambda w: _build(w)),
    "build-no-policy": Row("DATASET", 3, "no policy for dataset 'fioe'",
                           lambda w: _build(w, "--rules", str(w.tmp / "keys"))),
    "build-no-input": Row("DATASET", 4, "input folder not found",
                          lambda w: ["fioe", YEAR, "--input", str(w.tmp / "nowhere"), "--out", str(w.out)]),
    "build-blocked": Row("DATASET", 5, "release blocked by",
                         lambda w: _build(w, contact_officer_name="ZEBULON QUARTERMAINE")),
    "build-ledger-unreadable": Row("DATASET", 6, "the privacy ledger cannot be used",
                                   lambda w: _build(w, "--ledger", w.garbage_ledger())),
    "build-nothing-to-supersede": Row("DATASET", 7, "nothing to supersede", lambda w: [
        "fioe", YEAR, "--input", str(w.raw), "--out", str(w.out), "--supersede"]),
    "build-weak-key": Row("DATASET", 9, "at least 32 are needed",
                          lambda w: (w.monkeypatch.setenv("RELEASE_HMAC_KEY", "summer2020"), _build(w))[1]),
    "scan": Row("scan", 0, "0 of 1 rows with possible PII", lambda w: ["scan", _csv(w), "--column", "text"]),
    "scan-no-pii-rules": Row("scan", 3, "rule file is missing",
                             lambda w: ["scan", _csv(w), "--column", "text", "--rules", str(w.tmp / "keys")]),
    "scan-no-file": Row("scan", 4, "file not found", lambda w: ["scan", str(w.tmp / "none.csv"), "--column", "text"]),
    "scan-no-model": Row("scan", 9, "is not installed",
                         lambda w: (w.model_missing(), ["scan", _csv(w), "--column", "text"])[1]),
    "review": Row("review", 0, "status: draft", lambda w: w.cmd("review")),
    "review-no-bundle": Row("review", 4, "no bundle for fioe 2019",
                            lambda w: ["review", "fioe", "2019", "--out", str(w.out)]),
    "review-serve-no-policy": Row("review", 3, "fioe.yaml: rule file not found", lambda w: [
        "review", "fioe", YEAR, "--out", str(w.out), "--serve", "--rules", str(w.tmp / "keys")]),
    "review-serve-no-raw": Row("review", 4, "the raw export folder does not exist",
                               lambda w: w.cmd("review", "--serve", "--raw", str(w.tmp / "nowhere"))),
    "review-serve-port-taken": Row("review", 9, "cannot listen on 127.0.0.1 port",
                                   lambda w: w.cmd("review", "--serve", "--port", str(w.taken_port()))),
    "review-damaged-manifest": Row("review", 7, "manifest is not valid JSON",
                                   lambda w: (_corrupt_manifest(w), w.cmd("review"))[1]),
    "decide": Row("decide", 0, "decisions_file:", lambda w: w.cmd(
        "decide", "--log-id", _first_redaction(w), "--decision", "keep", "--key", str(w.counsel))),
    "decide-unknown-log-id": Row("decide", 3, "log id matches 0 entries", lambda w: w.cmd(
        "decide", "--log-id", "999999", "--decision", "keep", "--key", str(w.counsel))),
    "decide-no-bundle": Row("decide", 4, "no bundle for fioe 2019", lambda w: [
        "decide", "fioe", "2019", "--out", str(w.out), "--log-id", "1", "--decision", "keep", "--key", str(w.counsel)]),
    "decide-untrusted-key": Row("decide", 7, "rule trusted-signers", lambda w: w.cmd(
        "decide", "--log-id", _first_redaction(w), "--decision", "keep",
        "--key", str(new_signer(w.tmp, UNTRUSTED, trusted=False)))),
    "decide-no-hmac-key": Row("decide", 9, "RELEASE_HMAC_KEY_FILE", lambda w: (w.no_key(), w.cmd(
        "decide", "--log-id", _first_redaction(w), "--decision", "keep", "--key", str(w.counsel)))[1]),
    "decide-garbage-ledger": Row("decide", 6, "the privacy ledger cannot be used", lambda w: (w.garbage_ledger(), w.cmd(
        "decide", "--log-id", _first_redaction(w), "--decision", "keep", "--key", str(w.counsel)))[1]),
    "keygen": Row("keygen", 0, "trusted_signers_entry", lambda w: ["keygen", "--out", str(w.tmp / "new.key")]),
    "keygen-key-exists": Row("keygen", 7, "key file already exists", lambda w: ["keygen", "--out", str(w.counsel)]),
    "approve": Row("approve", 0, "approved by A. Counsel", lambda w: w.cmd("approve", "--key", str(w.counsel))),
    "approve-broken-signers": Row("approve", 3, "trusted_signers.yaml: signers[0].name", lambda w: [
        "approve", "fioe", YEAR, "--out", str(w.out), "--key", str(w.counsel), "--rules", w.broken(*BROKEN_SIGNERS)]),
    "approve-no-bundle": Row("approve", 4, "no bundle for fioe 2019", lambda w: [
        "approve", "fioe", "2019", "--out", str(w.out), "--key", str(w.counsel)]),
    "approve-untrusted-key": Row("approve", 7, "rule trusted-signers", lambda w: w.cmd(
        "approve", "--key", str(new_signer(w.tmp, UNTRUSTED, trusted=False)))),
    "approve-no-hmac-key": Row("approve", 9, "no HMAC key",
                               lambda w: (w.no_key(), w.cmd("approve", "--key", str(w.counsel)))[1]),
    "publish": Row("publish", 0, "published to", lambda w: (w.approve(), w.cmd("publish", "--to", str(w.site)))[1]),
    "publish-broken-signers": Row("publish", 3, "trusted_signers.yaml: signers[0].name", lambda w: (w.approve(), [
        "publish", "fioe", YEAR, "--out", str(w.out), "--to", str(w.site), "--rules", w.broken(*BROKEN_SIGNERS)])[1]),
    "publish-no-bundle": Row("publish", 4, "no bundle for fioe 2019", lambda w: [
        "publish", "fioe", "2019", "--out", str(w.out), "--to", str(w.site)]),
    "publish-ledger-unreadable": Row("publish", 6, "the privacy ledger cannot be used", lambda w: (w.approve(), w.cmd(
        "publish", "--to", str(w.site), "--ledger", w.garbage_ledger()))[1]),
    "publish-unapproved": Row("publish", 7, "rule approvals-required", lambda w: w.cmd("publish", "--to", str(w.site))),
    "publish-no-hmac-key": Row("publish", 9, "no HMAC key", lambda w: (_then(w.approve, w.no_key), w.cmd(
        "publish", "--to", str(w.site)))[1]),
    "verify": Row("verify", 0, "PASS", lambda w: (w.publish(), ["verify", str(w.site / "fioe" / YEAR),
                                                                "--rules", str(w.rules)])[1]),
    "verify-no-folder": Row("verify", 4, "no such folder", lambda w: ["verify", str(w.site / "fioe" / YEAR)]),
    "verify-not-a-published-copy": Row("verify", 8, "published copy does not verify",
                                       lambda w: ["verify", str(w.out / "fioe" / YEAR)]),
    "audit": Row("audit", 0, "PASS", lambda w: (w.approve(), w.cmd("audit", "--no-scan", "--allow-unverified"))[1]),
    "audit-broken-pii-rules": Row("audit", 3, "recognizers.yaml: recognizers[0].type", lambda w: [
        "audit", "fioe", YEAR, "--out", str(w.out), "--rules", w.broken("pii/recognizers.yaml", "recognizers: [{a: 1}]")]),
    "audit-no-bundle": Row("audit", 4, "no bundle for fioe 2019", lambda w: ["audit", "fioe", "2019", "--out", str(w.out)]),
    "audit-unapproved": Row("audit", 8, "audit failed: 1 check(s) failed: approvals",
                            lambda w: w.cmd("audit", "--no-scan", "--allow-unverified")),
    "audit-weak-key": Row("audit", 9, "at least 32 are needed", lambda w: (
        w.monkeypatch.setenv("RELEASE_HMAC_KEY", "summer2020"), w.cmd("audit", "--no-scan"))[1]),
    "budget": Row("budget", 0, "privacy budget, ledger", lambda w: ["budget", "fioe", "--out", str(w.out)]),
    "budget-ledger-unreadable": Row("budget", 6, "the privacy ledger cannot be used",
                                    lambda w: ["budget", "fioe", "--ledger", w.garbage_ledger()]),
    "list": Row("list", 0, "draft", lambda w: ["list", "--out", str(w.out)]),
    "list-damaged-manifest": Row("list", 4, "manifest is not valid JSON",
                                 lambda w: (_corrupt_manifest(w), ["list", "--out", str(w.out)])[1]),
    "list-ledger-unreadable": Row("list", 6, "the privacy ledger cannot be used",
                                  lambda w: ["list", "--out", str(w.out), "--ledger", w.garbage_ledger()]),
    "sample": Row("sample", 0, "wrote in_custody_deaths.csv",
                  lambda w: ["sample", "in_custody_deaths", YEAR, "--out", str(w.tmp / "s")]),
    "sample-out-is-a-file": Row("sample", 4, "cannot write the sample there",
                                lambda w: ["sample", "in_custody_deaths", YEAR, "--out", str(w.counsel / "sub")]),
    "sample-generation-of-one-schema": Row("sample", 3, "unknown generation 'rms' for in_custody_deaths", lambda w: [
        "sample", "in_custody_deaths", YEAR, "--out", str(w.tmp / "s"), "--generation", "rms"]),
    "doctor": Row("doctor", 0, "release doctor: ready", lambda w: (
        w.monkeypatch.setenv("RELEASE_HMAC_KEY", "b823acc690de547daffdf1b5b28252c350eccd79c65627f2161b2d936ce13791"),
        ["doctor", "--out", str(w.out), "--rules", str(w.rules)])[1]),
    "doctor-broken-policy": Row("doctor", 3, "best.yaml: not valid",
                                lambda w: ["doctor", "--rules", w.broken("best.yaml", "dataset: [")]),
    "doctor-ledger-unreadable": Row("doctor", 6, "fail  ledger", lambda w: ["doctor", "--ledger", w.garbage_ledger()]),
    "doctor-weak-key": Row("doctor", 9, "fail  hmac key", lambda w: (
        w.monkeypatch.setenv("RELEASE_HMAC_KEY", "summer2020"), ["doctor", "--rules", str(w.rules)])[1]),
    "witness-init-key": Row("witness", 0, "privacy.yaml pins the service",
                            lambda w: ["witness", "init-key", "--out", str(w.tmp / "witness.key")]),
    "witness-store-others-write": Row("witness", 3, "can be changed by another account", lambda w: [
        "witness", "serve", "--dir", _open_folder(w), "--key", str(w.tmp / "witness.key"), "--socket",
        str(w.tmp / "w.sock")]),
    "witness-no-key": Row("witness", 9, "the witness key: signing key not found", lambda w: [
        "witness", "serve", "--dir", str(w.tmp / "store"), "--key", str(w.tmp / "no-such.key"), "--socket",
        str(w.tmp / "w.sock")]),
    "witness-void-nothing-there": Row("witness", 6, "there is no entry 5 to void from", lambda w: _void(w)),
    "witness-rules-broken": Row("witness", 3, "privacy.yaml", lambda w: _serve_broken_rules(w)),
}


def _serve_broken_rules(w: World) -> list[str]:
    """``witness serve --rules`` on a folder whose privacy.yaml does not load: it would draw by nothing."""
    from release.witness.service import init_key
    init_key(w.tmp / "rules-test.key")
    return ["witness", "serve", "--dir", str(w.tmp / "rules-store"), "--key", str(w.tmp / "rules-test.key"),
            "--rules", w.broken("privacy.yaml", "units: ["), "--socket", str(w.tmp / "r.sock")]


def _void(w: World) -> list[str]:
    """``witness void`` on a store that holds nothing yet: nothing to take out of its live chain."""
    from release.witness.service import init_key
    init_key(w.tmp / "void.key")
    return ["witness", "void", "--dir", str(w.tmp / "void-store"), "--key", str(w.tmp / "void.key"), "--from", "5"]


def _open_folder(w: World) -> str:
    """A store folder every account can write: whoever can swap the witness's store could roll it back."""
    folder = w.tmp / "open-store"
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    return str(folder)

# Codes 1 and 2 for every command: its api call made to raise, and an option it does not have.
CALLS: dict[str, tuple[str, Callable[[World], list[str]]]] = {
    "DATASET": ("build_release", lambda w: ["fioe", YEAR, "--out", str(w.tmp / "o")]),
    "scan": ("scan_file", lambda w: ["scan", _csv(w), "--column", "text"]),
    "review": ("review_release", lambda w: w.cmd("review")),
    "decide": ("record_decision", lambda w: w.cmd("decide", "--log-id", "1", "--decision", "keep", "--key",
                                                  str(w.counsel))),
    "keygen": ("keygen", lambda w: ["keygen", "--out", str(w.tmp / "new.key")]),
    "approve": ("approve_release", lambda w: w.cmd("approve", "--key", str(w.counsel))),
    "publish": ("publish_release", lambda w: w.cmd("publish", "--to", str(w.site))),
    "verify": ("verify_published", lambda w: ["verify", str(w.out)]),
    "audit": ("audit_release", lambda w: w.cmd("audit")),
    "budget": ("budget_report", lambda w: ["budget", "fioe"]),
    "list": ("list_releases", lambda w: ["list"]),
    "sample": ("write_sample", lambda w: ["sample", "fioe", YEAR, "--out", str(w.tmp / "s")]),
    "doctor": ("doctor", lambda w: ["doctor"]),
    "witness": ("witness_init_key", lambda w: ["witness", "init-key", "--out", str(w.tmp / "witness.key")]),
}


def _internal(function: str, scene: Callable[[World], list[str]]) -> Callable[[World], list[str]]:
    return lambda w: (w.raises(function), scene(w))[1]


def _usage(scene: Callable[[World], list[str]]) -> Callable[[World], list[str]]:
    return lambda w: [*scene(w), "--no-such-option"]


for _command, (_function, _scene) in CALLS.items():
    CASES[f"{_command.lower()}-internal-error"] = Row(_command, 1, "internal error (RuntimeError)",
                                                      _internal(_function, _scene))
    CASES[f"{_command.lower()}-usage-error"] = Row(_command, 2, "No such option '--no-such-option'", _usage(_scene))


def readme_exit_codes() -> dict[str, set[int]]:
    """Command -> the exit codes in the last column of README.md's commands table."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("## Commands"):readme.index("### Exit codes")]
    rows = re.findall(r"^\| `release (\S+)[^\n]*\| ([0-9 ]+) \|$", table, flags=re.MULTILINE)
    return {command: {int(code) for code in codes.split()} for command, codes in rows}


def test_the_table_covers_the_readme() -> None:
    produced: dict[str, set[int]] = {}
    for row in CASES.values():
        produced.setdefault(row.command, set()).add(row.exit_code)
    assert produced == readme_exit_codes()


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_exit_code(world: World, case: str) -> None:
    row = CASES[case]
    code, stdout, stderr = invoke(*row.scene(world))
    assert code == row.exit_code, stdout + stderr
    assert row.says in stdout + stderr, stdout + stderr
    assert "Traceback" not in stdout + stderr and SECRET not in stdout + stderr
    if row.exit_code not in (0, 2):
        assert stderr.startswith(("error: ", "internal error")) or "\nerror: " in stderr, stderr  # says why
