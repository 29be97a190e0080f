"""Where the witness service keeps its key, store and socket: places no other account can change.

A folder another account can write lets it swap what is in it. For the store that is a forged
history; for the socket (issue #12, attack 5s-key) it is the service's own file operations turned
against it (a symlink renamed over the socket while it starts) and a witness taken offline at will.
The rule is ssh's StrictModes: the file, its folder and every folder above belong to the witness's
account or root and are writable by no one else; a sticky folder such as /tmp is accepted above
the folder, never as the folder itself (anyone may create a name in it first).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from pathlib import Path

from release.errors import ConfigError

FOLDER_RULE = ("only the witness's account (or root) may change it: give it to that account (chown) and chmod "
               "go-w it, or use a folder it owns such as /run/release-witness (0755)")


def changeable_by_others(folder: Path, owners: Collection[int], _links: int = 0) -> Path | None:
    """The first of ``folder`` and the folders above it that an account other than root and
    ``owners`` owns, or that group or others may write (sticky folders above ``folder`` excepted);
    None when there is none. OSError when one cannot be read.

    Each step is looked at itself (``lstat``), never through a symbolic link: a link another account
    made, to a folder the witness owns, passed as its target and could be re-pointed at any time
    later (round 22, 5s-symsock, 5s-store). A link root or ``owners`` made is followed one link at a
    time, and what it names is held to the same rule (a chain through another account's link fails:
    round 23, 5s-chain)."""
    folder = folder.absolute()
    for step in (folder, *folder.parents):
        info = step.lstat()
        if stat.S_ISLNK(info.st_mode):
            if info.st_uid not in (0, *owners):
                return step
            if _links >= 40:
                raise OSError("too many levels of symbolic links")
            # one link at a time: a chain may pass through a link another account made (round 23, 5s-chain)
            target = changeable_by_others(step.parent / os.readlink(step), owners, _links + 1)
            if target is not None:
                return target
            continue
        if _others_may_change(info, owners, sticky_ok=step != folder):
            return step
    return None


def _others_may_change(info: os.stat_result, owners: Collection[int], sticky_ok: bool = False) -> bool:
    """A place (its ``lstat``) an account other than root and ``owners`` owns, or that group or others
    may write (a sticky folder accepted where ``sticky_ok``); a link counts as such a place."""
    mode = stat.S_IMODE(info.st_mode)
    return (stat.S_ISLNK(info.st_mode) or info.st_uid not in (0, *owners)
            or bool(mode & 0o022 and not (sticky_ok and mode & stat.S_ISVTX)))


def own_folder(folder: Path, what: str, rule: str, mode: int) -> Path:
    """``folder`` made if missing (``mode``; folders above it 0755), refused (exit 3, naming the folder) when another account
    could change it, or when it cannot be made or read."""
    folder = folder.absolute()
    previous = os.umask(0o022)  # the modes asked for, whatever the account's umask
    try:
        try:
            folder.mkdir(mode=mode, parents=True, exist_ok=True)
        finally:
            os.umask(previous)
        exposed = changeable_by_others(folder, (os.geteuid(),))
    except OSError as exc:
        raise ConfigError(f"{what} cannot be made or read by the witness's account ({_why(exc)}): create it as "
                          "that account, or give that account a folder it owns", file=str(folder), rule=rule) from None
    if exposed is not None:
        raise ConfigError(f"{what}, or a folder above it, can be changed by another account (another owner, or "
                          f"writable by group or others): {FOLDER_RULE}", file=str(exposed), rule=rule)
    return folder


def check_key_file(key_path: Path, what: str = "the witness key", rule: str = "witness-key") -> None:
    """A key of the witness service (``what``: its private key, or its counts key) as ssh wants a
    private key: a file of the witness's account (or root), that no other account can read or write,
    in folders no other account can change (exit 3, saying how to fix). A missing key is left to the
    loader (exit 9)."""
    key_path = key_path.absolute()
    try:
        info = key_path.lstat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise ConfigError(f"{what} cannot be read ({_why(exc)})", file=str(key_path), rule=rule) from None
    if stat.S_ISLNK(info.st_mode):
        raise ConfigError(f"{what} is a symbolic link: give the key file itself", file=str(key_path), rule=rule)
    if info.st_uid not in (0, os.geteuid()):
        raise ConfigError(f"{what} belongs to another account: chown it to the witness's account",
                          file=str(key_path), rule=rule)
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise ConfigError(f"{what} is readable or writable by other accounts: chmod 600 it (and make a new "
                          "key if another account could have read it)", file=str(key_path), rule=rule)
    try:
        exposed = changeable_by_others(key_path.parent, (os.geteuid(),))
    except OSError as exc:
        raise ConfigError(f"{what}'s folder cannot be read ({_why(exc)})", file=str(key_path.parent),
                          rule=rule) from None
    if exposed is not None:
        raise ConfigError(f"{what}'s folder, or a folder above it, can be changed by another account, "
                          f"which could swap the key: {FOLDER_RULE}", file=str(exposed), rule=rule)


def check_rules_folder(rules_dir: Path) -> None:
    """The trusted rules folder the service draws by (``serve --rules``): what it declares sets every
    cap and every measurement a writer may be charged for, so no account other than the witness's
    (or root) may change it, a file in it, or a folder above it (exit 3, naming the place; the same
    rule as the key's folder). An analyst who could write it would write their own caps."""
    rules_dir = rules_dir.absolute()
    try:
        exposed = changeable_by_others(rules_dir, (os.geteuid(),))
        if exposed is None:
            exposed = next((path for path in sorted(rules_dir.rglob("*"))
                            if _others_may_change(path.lstat(), (os.geteuid(),))), None)
    except (FileNotFoundError, NotADirectoryError):
        return  # no such folder: the loader says so (as for a missing key)
    except OSError as exc:
        raise ConfigError(f"the trusted rules folder cannot be read ({_why(exc)})", file=str(rules_dir),
                          rule="witness-rules") from None
    if exposed is not None:
        raise ConfigError(f"the trusted rules folder, a file in it or a folder above it can be changed by another "
                          f"account than the witness's, which could write its own caps and measurements: {FOLDER_RULE}",
                          file=str(exposed), rule="witness-rules")




def socket_exposure(socket_path: Path, owner: int | None = None) -> str | None:
    """For ``release doctor``: why an account other than the witness's (``owner``, the uid its signed
    head names; else the socket's owner) could replace the socket at ``socket_path`` (a link there, its
    folder or one above it), or None (also when it cannot be looked at)."""
    try:
        info = socket_path.lstat()
        owner = info.st_uid if owner is None else owner
        exposed = socket_path if stat.S_ISLNK(info.st_mode) else changeable_by_others(socket_path.parent, (owner,))
        exposed_info = exposed.lstat() if exposed is not None else None
    except OSError:
        return None
    if exposed is None or exposed_info is None:
        return None
    return (f"another account than the witness's can replace or remove its socket: {exposed} (owner uid "
            f"{exposed_info.st_uid}, mode {stat.S_IMODE(exposed_info.st_mode):04o}); put the socket in a folder the "
            "witness's account owns and alone writes, such as /run/release-witness (0755), and restart the service")


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
