"""Where the pinned spaCy model package lives on disk, and its fingerprint.

The manifest records the model's name, version and a SHA-256 over the package's files,
so an auditor can tell that the model that redacted a release is the one pinned. Found
with importlib only: loading the model is the engine's job.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
from pathlib import Path

from release.errors import EnvironmentProblem


def package_root(package: str) -> Path:
    """The installed package folder; EnvironmentProblem when it is not installed."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise EnvironmentProblem(f"spaCy model package {package} is not installed")
    return Path(list(spec.submodule_search_locations)[0])


@functools.lru_cache(maxsize=4)
def package_fingerprint(package: str) -> str:
    """SHA-256 over the package's files: sorted relative paths, each followed by its bytes."""
    root = package_root(package)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()
