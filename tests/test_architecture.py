"""The dependency direction of ``release/``'s packages, enforced (``release/__init__.py`` draws it).

Every ``import`` counts, at the top of a module, inside a function or under ``TYPE_CHECKING``: a late
import is still a dependency. Each rule is stated as what may not happen, and fails naming every
module and import that breaks it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "release"

# below the build: what a build, governance and the audit are made of (``execution``: where the engine's and the
# stages' work runs, above both)
LOWER = ("errors", "model", "paths", "config", "keys", "bundle", "privacy", "stages", "pii", "execution", "datasets",
         "witness")
# the programs made of them
UPPER = ("build", "governance", "audit", "review", "api", "cli", "terminal", "doctor")
# the witness service is a program of its own (``release witness serve``): it replays the audit's trusted
# declarations to decide what it may draw. The ledger's side of the witness (anchor, folder, client,
# protocol, places, counts) stays below.
WITNESS_SERVICE = ("release.witness.service", "release.witness.store", "release.witness.declared")
# what the publish stage's writing of a bundle shares with every bundle reader
PUBLISH_REPLAYS = frozenset({"Bundle", "PublicFile", "datapackage_descriptor", "csv_text", "file_layout"})


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(module imported, names taken from it) for every import of a ``release`` module in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("release"):
            names = tuple(alias.name for alias in node.names)
            places = {n: PACKAGE.parent / f"{node.module}.{n}".replace(".", "/") for n in names}
            submodules = [n for n in names if places[n].with_suffix(".py").exists() or places[n].is_dir()]
            for name in submodules:
                yield f"{node.module}.{name}", ()
            if len(submodules) < len(names):
                yield node.module, tuple(n for n in names if n not in submodules)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("release"):
                    yield alias.name, ()


GRAPH = {_module(path): list(_imports(path)) for path in sorted(PACKAGE.rglob("*.py"))}


def _room(module: str) -> str:
    return module.split(".")[1] if module.count(".") >= 1 else module


def _breaking(importers: tuple[str, ...], forbidden: tuple[str, ...], *, allowed: tuple[str, ...] = ()) -> list[str]:
    return sorted(f"{module} imports {target}" for module, targets in GRAPH.items()
                  if _room(module) in importers and module not in allowed
                  for target, _ in targets if _room(target) in forbidden)


def test_the_graph_is_read_from_every_module_and_every_import() -> None:
    assert len(GRAPH) > 150
    assert any(target == "release.bundle.layout" and "MANIFEST" in names for target, names in GRAPH["release.governance.gate"])
    # a late import, inside a function
    assert any(target == "release.bundle.decisions" and "decisions_in_force" in names
               for target, names in GRAPH["release.build.orchestrator"])


@pytest.mark.parametrize(("importers", "forbidden", "allowed"), [
    pytest.param(LOWER, UPPER, WITNESS_SERVICE, id="nothing-below-the-build-imports-a-program"),
    pytest.param(("build",), ("governance", "audit"), (), id="build-never-imports-governance-or-audit"),
    pytest.param(("stages",), tuple(r for r in (*LOWER, *UPPER) if r not in
                                    ("stages", "config", "model", "errors", "pii", "privacy", "keys", "bundle")), (),
                 id="stages-import-config-model-errors-pii-privacy-keys-bundle-only"),
    pytest.param(("pii",), ("datasets", "bundle", "privacy", "witness", "keys", "execution", "stages"), (),
                 id="pii-knows-no-dataset-bundle-ledger-stage-or-execution"),
    pytest.param(("config", "keys", "errors", "model", "paths"), ("stages", "pii"), (),
                 id="configuration-and-keys-run-no-stage"),
    # the configuration is read first and everything reads it. keys parses the witness key privacy.yaml pins (keys is
    # the one cryptography importer)
    pytest.param(("config",), tuple(r for r in (*LOWER, *UPPER) if r not in ("config", "errors", "model", "paths", "keys")),
                 (), id="configuration-imports-only-errors-model-paths-keys"),
    pytest.param(("audit",), ("governance", "review"), (), id="the-audit-never-imports-governance-or-the-review"),
    pytest.param(("governance",), ("review",), (), id="governance-never-imports-the-review"),
], )
def test_no_room_reaches_past_the_dependency_direction(importers: tuple[str, ...], forbidden: tuple[str, ...],
                                                      allowed: tuple[str, ...]) -> None:
    assert _breaking(importers, forbidden, allowed=allowed) == []


# Packages that still import each other (the pairs, each named once), with what would break the loop. Issue 14
# broke pii <-> stages, config <-> privacy/witness/bundle/datasets, audit <-> governance and governance <-> review;
# these are left. The list may only shrink: a new pair fails, and so does a pair that no longer loops and is
# still listed (take it out).
KNOWN_LOOPS = {
    # the witness service (a program: WITNESS_SERVICE) replays the audit's trusted declarations of the draws
    ("audit", "witness"),
    # bundle.places names a dataset's generations; datasets.generations reads a manifest's recorded generation
    ("bundle", "datasets"),
    # keys.signing writes canonical JSON lines (bundle.jsonl) and keys.hmac reads the manifest's key derivation;
    # the bundle's log, decisions and files are signed and keyed
    ("bundle", "keys"),
    # the ledger writes JSON lines (bundle.jsonl), decision anchors read the decisions file; the manifest records
    # record risk and ledger entries (privacy)
    ("bundle", "privacy"),
    # bundle.public_form orders the record files as the juvenile stage keys them; stages.publish writes the bundle
    ("bundle", "stages"),
    # the ledger and its witness: one subsystem in two packages (the ledger anchors to the witness, which reads entries)
    ("privacy", "witness"),
}


def test_the_packages_that_import_each_other_are_the_known_ones() -> None:
    rooms = {(_room(module), _room(target)) for module, targets in GRAPH.items() for target, _ in targets
             if "." in module and "." in target and _room(module) != _room(target)}
    loops = {tuple(sorted(pair)) for pair in rooms if pair[::-1] in rooms}
    assert loops == KNOWN_LOOPS


def test_stages_write_the_bundle_in_the_publish_stage_only() -> None:
    """The one stage that writes files is ``publish``; every other stage does no I/O, so reads no bundle."""
    readers = sorted(f"{module} imports {target}" for module, targets in GRAPH.items()
                     if _room(module) == "stages" and module != "release.stages.publish"
                     for target, _ in targets if _room(target) == "bundle")
    assert readers == []


def test_governance_audit_and_review_read_bundles_through_the_bundle_package() -> None:
    """Bundle file names, hashes and readers come from ``release.bundle``; of the publish stage, only what
    re-derives a file the build wrote (a replay) is taken."""
    outside = sorted(f"{module} takes {sorted(set(names) - PUBLISH_REPLAYS)} from {target}"
                     for module, targets in GRAPH.items() if _room(module) in ("governance", "audit", "review")
                     for target, names in targets
                     if target == "release.stages.publish" and (not names or set(names) - PUBLISH_REPLAYS))
    assert outside == []


def test_a_bundles_file_names_and_readers_are_defined_once() -> None:
    defined = re.compile(r"^(?:MANIFEST|LOG|APPROVALS|BLOCKING_FILE|SUMS) = |^def (?:sha256_file|read_manifest|read_public_csv|"
                         r"canonical_json|utc_now)\(", re.MULTILINE)
    where = sorted(f"{path.relative_to(ROOT).as_posix()}: {match.group(0).strip()}"
                   for path in PACKAGE.rglob("*.py") for match in defined.finditer(path.read_text(encoding="utf-8"))
                   if path.parent.name != "bundle")
    # the file hash sits at the bottom, in paths (the rules folder's hashes use it), and bundle.layout names it
    assert where == ["release/paths.py: def sha256_file("]
    canonical = r"json\.dumps\([^)]*separators=\(\",\", \":\"\)[^)]*sort_keys|sort_keys=True, separators="
    written = sorted(path.relative_to(ROOT).as_posix() for path in PACKAGE.rglob("*.py")
                     if path != PACKAGE / "bundle" / "jsonl.py" and re.search(canonical, path.read_text(encoding="utf-8")))
    assert written == []  # canonical JSON: ``release.bundle.jsonl.canonical_json`` only


def test_the_command_line_is_the_only_terminal_and_click_user() -> None:
    users = sorted(module for module, targets in GRAPH.items()
                   if any(_room(t) in ("terminal", "cli") for t, _ in targets) and _room(module) not in ("terminal", "cli"))
    assert users == ["release.__main__"]
    clickers = sorted(_module(path) for path in PACKAGE.rglob("*.py")
                      if re.search(r"^\s*(?:import click|from click)", path.read_text(encoding="utf-8"), re.MULTILINE))
    assert clickers == ["release.cli"]


def test_the_top_of_the_package_holds_few_modules() -> None:
    modules = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert modules == ["__init__.py", "__main__.py", "api.py", "cli.py", "doctor.py", "errors.py", "model.py", "paths.py"]
