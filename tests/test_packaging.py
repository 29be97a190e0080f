"""The wheel (issue 14, part 5): built by the pinned backend without a warning, it holds the package,
the rules and suites as release/shipped/, the license, and nothing at the top level but release/;
its metadata's license is the SPDX expression and its version is release.__version__.

The wheel is built from a copy of the checkout (setuptools builds in the source folder: build/ and
an egg-info would land in the shared working tree), offline, with the venv's own backend."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest
from conftest import ROOT

import release

SHIPPED = ("redaction_rules", "expectations")
# Not part of a build: the venv, caches, local outputs. Only at the top (release/build is a package).
TOP_LEVEL_SKIPPED = {".git", ".venv", ".ci", ".hypothesis", ".mypy_cache", ".ruff_cache", ".pytest_cache",
                     "releases", "build", "dist"}


def _copy_ignored(folder: str, names: list[str]) -> set[str]:
    skipped = {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))}
    return skipped | (TOP_LEVEL_SKIPPED & set(names) if Path(folder) == ROOT else set())


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> tuple[zipfile.ZipFile, str]:
    pinned = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for requirement in pinned:
        name, version = requirement.split("==")
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = None
        # requirements.lock installs the backend at its pin (`make` set-up): a wheel built by another
        # backend would not be the one users get, so a missing or other backend fails, never skips
        assert installed == version, f"the build backend {requirement} is not installed here (found {installed})"
    tmp = tmp_path_factory.mktemp("packaging")
    source, out = tmp / "source", tmp / "wheels"
    shutil.copytree(ROOT, source, ignore=_copy_ignored)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONWARNINGS", "PYTHONPATH")}
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-v",
         "-w", str(out), str(source)],
        capture_output=True, text=True, env=env, timeout=300)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    (built,) = out.glob("release-*.whl")
    return zipfile.ZipFile(built), output


def test_the_build_prints_no_deprecation_or_setuptools_warning(wheel: tuple[zipfile.ZipFile, str]) -> None:
    output = wheel[1]
    assert not re.search(r"deprecat|SetuptoolsWarning|BuildBackendWarning", output, re.IGNORECASE), output[-3000:]


def test_the_wheel_holds_the_package_the_shipped_rules_and_the_license(wheel: tuple[zipfile.ZipFile, str]) -> None:
    archive = wheel[0]
    names = set(archive.namelist())
    info = f"release-{release.__version__}.dist-info"
    assert {name.split("/")[0] for name in names} == {"release", info}  # no top-level cli.py, no folder
    assert "release/cli.py" in names and "cli.py" not in names
    # Every file of the package (the package list in pyproject.toml is written out, not discovered).
    missing = [p.relative_to(ROOT).as_posix() for p in _files(ROOT / "release")
               if p.relative_to(ROOT).as_posix() not in names]
    assert missing == []
    for name in SHIPPED:
        files = _files(ROOT / name)
        assert files
        for path in files:
            assert archive.read(f"release/shipped/{name}/{path.relative_to(ROOT / name).as_posix()}") == \
                path.read_bytes()
    shipped = {n for n in names if n.startswith("release/shipped/")}
    assert len(shipped) == sum(len(_files(ROOT / name)) for name in SHIPPED)  # nothing else there
    assert archive.read(f"{info}/licenses/LICENSE") == (ROOT / "LICENSE").read_bytes()
    assert "release = release.cli:main" in archive.read(f"{info}/entry_points.txt").decode()


def test_the_metadata_has_the_spdx_license_and_the_one_version(wheel: tuple[zipfile.ZipFile, str]) -> None:
    archive = wheel[0]
    fields = archive.read(f"release-{release.__version__}.dist-info/METADATA").decode().split("\n\n")[0]
    lines = fields.splitlines()
    assert "License-Expression: MIT" in lines and "License-File: LICENSE" in lines
    assert not any(line.startswith("License:") for line in lines)
    assert f"Version: {release.__version__}" in lines
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]  # written once: release/__init__.py


def test_an_installed_wheel_finds_its_shipped_rules(wheel: tuple[zipfile.ZipFile, str], tmp_path: Path) -> None:
    site = tmp_path.resolve() / "site"
    wheel[0].extractall(site)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "redaction_rules").mkdir(parents=True)  # a rules folder in the working directory
    env = {**os.environ, "PYTHONPATH": str(site)}
    done = subprocess.run(
        [sys.executable, "-c", "from release import paths\n"
         "print(paths.__file__)\n"
         "for name in ('redaction_rules', 'expectations'): print(*paths.default_dir(name))"],
        capture_output=True, text=True, env=env, cwd=elsewhere, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    module, rules, expectations = done.stdout.splitlines()
    assert Path(module) == site / "release" / "paths.py"
    assert rules == f"{site / 'release' / 'shipped' / 'redaction_rules'} installed-package"
    assert expectations == f"{site / 'release' / 'shipped' / 'expectations'} installed-package"
