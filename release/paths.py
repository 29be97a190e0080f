"""Where rule files, suites and the bundled samples are found when the user names none,
and how a rules or suites folder differs from the copy shipped with the package.

A policy changes only in the open: rules and suites come from ``--rules`` /
``--expectations`` or from the installed copy, never from a folder that happens to sit in
the working directory (one that kept names was used silently before). A build records in
the manifest every file of the folder it used with its hash, and which files differ from
the installed copy, so the review packet can say "non-default policy" to the reviewer.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SOURCE_ROOT = PACKAGE_DIR.parent
# Who may sign is governance, not redaction policy: every deployment lists its own people,
# so this file is recorded with its hash but does not make a rules folder "non-default".
SIGNERS_FILE = "trusted_signers.yaml"
PATTERNS = {"redaction_rules": "*.yaml", "expectations": "*.json"}


def default_dir(name: str) -> tuple[Path, str]:
    """Return (path, origin) for ``redaction_rules`` or ``expectations``: the copy shipped
    inside the installed package (``release/shipped/<name>`` in a wheel, where pyproject.toml's
    package-dir puts the top-level folder; the source tree in an editable install or a checkout
    on PYTHONPATH). The origin string goes into the manifest."""
    shipped = PACKAGE_DIR / "shipped" / name
    if shipped.is_dir():
        return shipped, "installed-package"
    return SOURCE_ROOT / name, "installed-package"


def chosen_dir(name: str, given: Path | None) -> tuple[Path, str]:
    """``given`` (an option) resolved, else the installed copy."""
    return (given.resolve(), "option") if given is not None else default_dir(name)


def sha256_file(path: Path) -> str:
    """A file's SHA-256, read a MiB at a time: how rules, suites, inputs and bundle files are named by content.
    Here, at the bottom, because the rules folder's hashes (``file_hashes``) and every bundle reader use it."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_hashes(folder: Path, pattern: str) -> dict[str, str]:
    """Relative path -> SHA-256 of every file matching ``pattern`` below ``folder``."""
    return {p.relative_to(folder).as_posix(): sha256_file(p) for p in sorted(folder.rglob(pattern))
            if p.is_file() and "__pycache__" not in p.parts}


def differences_from_installed(folder: Path, name: str) -> list[str]:
    """Files of ``folder`` that differ from, are missing from or are added to the installed
    copy of ``name`` (the trusted-signers list aside); empty for the shipped policy."""
    pattern = PATTERNS[name]
    used, shipped = file_hashes(folder, pattern), file_hashes(default_dir(name)[0], pattern)
    return sorted(path for path in set(used) | set(shipped)
                  if path != SIGNERS_FILE and used.get(path) != shipped.get(path))


def sample_dir(dataset: str, year: int) -> Path:
    return PACKAGE_DIR / "samples" / dataset / str(year)
