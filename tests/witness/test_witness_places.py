"""Where the witness service keeps its socket and key, through the CLI (issue #12, attack round 21:
5s-key, 5s-sq, 7-doc, 7-err).

The attack: the administrator put the socket in a shared sticky folder (/tmp); the analyst made
the socket's folder first, and renamed a symlink to the witness's key over the socket while the
service started, so that ``chmod(socket, 0o666)`` made the key world-readable. ``serve`` now
refuses a socket folder another account could change (the rule it applies to the store), creates
the socket with its mode instead of a chmod on its path, refuses a key other accounts could read,
write or swap, and names the path of anything it cannot prepare (exit 3); ``doctor`` fails when
another account could replace the socket. Every test runs as one account, so "another account" is
a folder or key whose mode lets group or others in.
"""

from __future__ import annotations

import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import invoke, trusted_rules
from witness.witnesskit import WitnessServer, new_account, pin_service


def _refusing(*args: str) -> tuple[int, str, str]:
    """``invoke`` for a serve that must refuse: one that starts would serve forever, so it is
    stopped after a minute and the test fails instead of hanging."""
    def started(*_: object) -> None:
        raise AssertionError("the service started: it should have refused")
    previous = signal.signal(signal.SIGALRM, started)
    signal.alarm(60)
    try:
        return invoke(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture()
def account(tmp_path: Path) -> Iterator[WitnessServer]:
    """A new witness account (key 0600 and store in a 0700 folder), not started."""
    witness = new_account(tmp_path / "witness-account")
    yield witness
    witness.close()


@pytest.fixture()
def shared() -> Iterator[Path]:
    """A folder like /tmp: sticky and writable by everyone (short: AF_UNIX paths are)."""
    folder = Path(tempfile.mkdtemp(prefix="rw-shared-", dir="/tmp"))
    folder.chmod(0o1777)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _serve(account: WitnessServer, socket: Path, key: Path | None = None) -> tuple[int, str]:
    code, stdout, stderr = _refusing("witness", "serve", "--dir", str(account.account / "store"), "--key",
                                     str(key or account.key), "--socket", str(socket))
    said = " ".join((stdout + stderr).split())
    assert "Traceback" not in said and "internal error" not in said and "PRIVATE KEY" not in said, said
    return code, said


def test_a_socket_folder_the_analyst_made_first_in_a_shared_folder_is_refused_and_the_key_stays_private(
        account: WitnessServer, shared: Path) -> None:
    """5s-key: the analyst's folder (0777) in a sticky shared folder, a symlink to the key waiting in it."""
    folder = shared / "rw"
    folder.mkdir()
    folder.chmod(0o777)
    code, said = _serve(account, folder / "witness.sock")
    assert code == 3 and str(folder) in said and "can be changed by another account" in said, said
    assert "/run/release-witness" in said, said  # says what to do
    assert not (folder / "witness.sock").exists()
    (folder / "witness.sock").symlink_to(account.key)  # the racer's move, made before serve runs
    code, said = _serve(account, folder / "witness.sock")
    assert code == 3 and stat.S_IMODE(account.key.stat().st_mode) == 0o600, said


@pytest.mark.parametrize("mode", [0o775, 0o757, 0o1777])
def test_a_socket_folder_group_or_others_can_write_is_refused(account: WitnessServer, shared: Path, mode: int) -> None:
    """Sticky or not: a name in the socket's own folder can be taken or replaced by whoever writes it."""
    folder = shared / "sock"
    folder.mkdir()
    folder.chmod(mode)
    code, said = _serve(account, folder / "witness.sock")
    assert code == 3 and f"file {folder}" in said and "witness-socket" in said, said


def test_a_socket_straight_in_a_sticky_shared_folder_is_refused(account: WitnessServer, shared: Path) -> None:
    code, said = _serve(account, shared / "witness.sock")
    assert code == 3 and f"file {shared}" in said and "can be changed by another account" in said, said


def test_a_symlink_at_the_socket_path_is_never_followed(account: WitnessServer, shared: Path) -> None:
    folder = shared / "own"
    folder.mkdir(mode=0o755)
    (folder / "witness.sock").symlink_to(account.key)
    code, said = _serve(account, folder / "witness.sock")
    assert code == 3 and "not a socket" in said and stat.S_IMODE(account.key.stat().st_mode) == 0o600, said


def test_the_socket_is_made_0666_by_its_creation_never_by_a_chmod_on_its_path(
        account: WitnessServer, shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No chmod by path after bind (the window 5s-key raced), whatever the account's umask."""
    from release.witness import service as witness_service

    def no_chmod(*args: object, **kwargs: object) -> None:
        raise AssertionError("chmod by path after bind")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(os, "lchmod", no_chmod, raising=False)
    previous = os.umask(0o077)
    try:
        server = witness_service._unix_server(shared / "own" / "witness.sock")
    finally:
        os.umask(previous)
    try:
        info = (shared / "own" / "witness.sock").lstat()
        assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o666
        assert stat.S_IMODE((shared / "own").stat().st_mode) == 0o755
        assert os.umask(previous) == previous  # the umask is restored
    finally:
        server.server_close()


def test_the_service_starts_with_its_socket_in_a_folder_of_its_own_under_a_sticky_folder(
        account: WitnessServer, shared: Path) -> None:
    """The deployment the docs give: a folder the witness owns (0755), even below a shared /tmp."""
    witness = WitnessServer(account.account, shared / "release-witness")
    witness.start()
    try:
        info = Path(witness.address).lstat()
        assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o666
        assert stat.S_IMODE((shared / "release-witness").stat().st_mode) == 0o755
    finally:
        witness.stop()


KEY_REFUSALS = [("readable-by-others", "chmod 600"), ("writable-by-group", "chmod 600"),
                ("in-a-folder-others-write", "the witness key's folder"), ("a-symlink", "symbolic link")]


@pytest.mark.parametrize(("scene", "refusal"), KEY_REFUSALS, ids=[row[0] for row in KEY_REFUSALS])
def test_serve_refuses_a_key_other_accounts_could_read_write_or_swap(account: WitnessServer, tmp_path: Path,
                                                                     shared: Path, scene: str, refusal: str) -> None:
    key = account.key
    if scene == "readable-by-others":
        key.chmod(0o644)
    elif scene == "writable-by-group":
        key.chmod(0o620)
    elif scene == "in-a-folder-others-write":
        (tmp_path / "keys").mkdir()
        (tmp_path / "keys").chmod(0o777)
        key = Path(shutil.copy2(account.key, tmp_path / "keys" / "witness.key"))
    else:
        key = tmp_path / "link.key"
        key.symlink_to(account.key)
    code, said = _serve(account, shared / "own" / "witness.sock", key)
    assert code == 3 and refusal in said and "witness-key" in said and str(key.parent) in said, said
    assert not (shared / "own" / "witness.sock").exists()


@pytest.mark.parametrize("where", ["a-folder-it-cannot-create", "under-a-file"])
def test_a_socket_path_it_cannot_prepare_is_a_config_error_naming_the_path(account: WitnessServer, tmp_path: Path,
                                                                           where: str) -> None:
    """7-err: was exit 1, "internal error (PermissionError)", naming no file."""
    if where == "a-folder-it-cannot-create":
        folder = Path("/sys/release-witness-test")  # sysfs takes no new folder, not even root's
    else:
        (tmp_path / "plain").write_text("x", encoding="utf-8")
        folder = tmp_path / "plain" / "sub"
    code, said = _serve(account, folder / "witness.sock")
    assert code == 3 and str(folder) in said and "witness-socket" in said, said


def test_a_store_it_cannot_prepare_is_a_config_error_naming_the_path(account: WitnessServer, tmp_path: Path,
                                                                     shared: Path) -> None:
    code, stdout, stderr = _refusing("witness", "serve", "--dir", "/sys/release-witness-store", "--key",
                                     str(account.key), "--socket", str(shared / "own" / "witness.sock"))
    said = " ".join((stdout + stderr).split())
    assert code == 3 and "/sys/release-witness-store" in said and "witness-dir" in said, said
    assert "internal error" not in said and "Traceback" not in said


def test_doctor_fails_when_another_account_could_replace_the_socket(account: WitnessServer, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """7-doc: doctor said "ok ... service tier" with a socket folder the analyst owned and others wrote."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    rules = pin_service(trusted_rules(tmp_path), account.address, account.public_key).parent
    account.start(rules=rules)
    doctor = ("doctor", "--out", str(tmp_path / "rel"), "--rules", str(rules))
    code, stdout, _ = invoke(*doctor)
    line = next(x for x in stdout.splitlines() if "ledger" in x and "witness" in x)
    assert "can replace" not in line, line
    account.socket_dir.chmod(0o777)  # the 5s scene: whoever writes the folder can swap the socket
    code, stdout, stderr = invoke(*doctor)
    line = next(x for x in stdout.splitlines() if "ledger" in x and "witness" in x)
    assert code == 6 and line.lstrip().startswith("fail"), stdout + stderr
    assert "can replace or remove its socket" in line and str(account.socket_dir) in line, line


OTHER_UID = 54321  # the analyst's account (the tests run as root, which may give a link away)


def _analysts_link(link: Path, target: Path) -> Path:
    """A symbolic link another account made (round 22: made first, in a folder anyone may create names in)."""
    link.symlink_to(target)
    os.lchown(link, OTHER_UID, OTHER_UID)
    return link


@pytest.mark.parametrize("parent_mode", [0o1777, 0o1775], ids=["sticky-world", "sticky-group"])
def test_a_socket_folder_that_is_the_analysts_link_to_a_witness_folder_is_refused(
        account: WitnessServer, shared: Path, parent_mode: int) -> None:
    """5s-symsock: ``stat`` followed the analyst's link to a folder the witness owns, so serve started,
    and the analyst could re-point the link at will (witness offline, or a relay)."""
    shared.chmod(parent_mode)
    real = shared / "witness-own"
    real.mkdir(mode=0o755)
    link = _analysts_link(shared / "rw", real)
    code, said = _serve(account, link / "witness.sock")
    assert code == 3 and f"file {link}" in said and "can be changed by another account" in said, said
    assert not (real / "witness.sock").exists()


def test_a_store_folder_that_is_the_analysts_link_is_refused(account: WitnessServer, shared: Path) -> None:
    """5s-store: the store folder an analyst's link to the witness's real store, later re-pointed to a
    store forged from the analyst's own ledger (a rollback with the organisation's real key)."""
    real = account.account / "store"
    real.mkdir(mode=0o700)
    link = _analysts_link(shared / "store", real)
    code, stdout, stderr = _refusing("witness", "serve", "--dir", str(link), "--key", str(account.key),
                                     "--socket", str(shared / "own" / "witness.sock"))
    said = " ".join((stdout + stderr).split())
    assert code == 3 and f"file {link}" in said and "witness-dir" in said, said
    assert not (real / "witness.sqlite").exists()


def test_a_link_the_witness_made_is_followed_and_its_target_held_to_the_same_rule(
        account: WitnessServer, shared: Path, tmp_path: Path) -> None:
    """A link of the witness's own account (or root's) is followed: the deployment may keep its store
    elsewhere. Its target's folders are checked too."""
    from release.witness.places import changeable_by_others
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    link = shared / "witness-store"
    link.symlink_to(target)
    assert changeable_by_others(link, (os.geteuid(),)) is None
    (tmp_path / "open").mkdir(mode=0o777)
    (tmp_path / "open").chmod(0o777)
    (tmp_path / "open" / "store").mkdir(mode=0o700)
    link2 = shared / "witness-store-2"
    link2.symlink_to(tmp_path / "open" / "store")
    assert changeable_by_others(link2, (os.geteuid(),)) == tmp_path / "open"


def test_doctor_fails_when_the_socket_path_passes_through_the_analysts_link(
        account: WitnessServer, tmp_path: Path, shared: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """7-doc-sym: doctor said "ok ... kept by another account" for a socket reached through a link the
    analyst could re-point."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    account.start(rules=trusted_rules(tmp_path))
    link = _analysts_link(shared / "rw", account.socket_dir)
    rules = pin_service(trusted_rules(tmp_path), str(link / Path(account.address).name), account.public_key).parent
    code, stdout, stderr = invoke("doctor", "--out", str(tmp_path / "rel"), "--rules", str(rules))
    line = next(x for x in stdout.splitlines() if "ledger" in x and "witness" in x)
    assert code == 6 and line.lstrip().startswith("fail"), stdout + stderr
    assert "can replace or remove its socket" in line and str(link) in line, line


def test_a_chain_of_links_through_one_the_analyst_made_is_refused(account: WitnessServer, shared: Path) -> None:
    """5s-chain: the administrator's link names a path through the analyst's link (made first in a
    sticky folder); resolving the whole chain at once looked only at its end, a folder the witness owns."""
    from release.witness.places import changeable_by_others
    real = account.account / "store"
    real.mkdir(mode=0o700)
    middle = _analysts_link(shared / "middle", real)
    admins = shared / "witness-store"
    admins.symlink_to(middle)
    assert changeable_by_others(admins, (os.geteuid(),)) == middle
    code, stdout, stderr = _refusing("witness", "serve", "--dir", str(admins), "--key", str(account.key),
                                     "--socket", str(shared / "own" / "witness.sock"))
    said = " ".join((stdout + stderr).split())
    assert code == 3 and f"file {middle}" in said and "witness-dir" in said, said
