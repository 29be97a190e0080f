"""Where a release's bundle lives, which datasets exist, and whether a year is published.

``DATASETS`` is the registry every command checks a dataset name against before it becomes
part of a path: a manifest naming ``../../fioe`` once made publish write, and delete,
outside ``--to``. A year's first bundle is ``OUT/<dataset>/<year>``; a new version of a
published year is built only with ``--supersede`` and gets its own folder,
``OUT/<dataset>/<year>-v<N>``, so a published bundle (and the approvals that published it)
is never replaced. Commands address the latest version unless given ``--version``.

A bundle is published once ``publish`` has appended its record (``publication.jsonl``,
beside the manifest, outside ``public/``), or once its privacy spend is marked published
on the ledger.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from release.approvals import utc_now
from release.errors import ApprovalError, ConfigError, InputError, ReleaseError
from release.ledger import Ledger
from release.paths import default_dir
from release.stages.publish import MANIFEST, sha256_file

DATASETS = ("fioe", "shootings", "shots_fired", "firearms", "homicide_clearance",
            "in_custody_deaths", "best", "youthconnect")
PUBLICATION = "publication.jsonl"
_FOLDER = re.compile(r"(?P<year>\d{4})(?:-v(?P<version>[2-9]|[1-9]\d+))?")


def check_dataset(dataset: str) -> str:
    """``dataset`` if it is a registered dataset, else a ConfigError (exit 3) naming the known ones."""
    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset; known datasets: {', '.join(DATASETS)}", rule="dataset")
    return dataset


def folder_name(year: int, version: int = 1) -> str:
    return str(year) if version == 1 else f"{year}-v{version}"


def parse_folder(name: str) -> tuple[int, int] | None:
    """(year, version) of a bundle folder's name, or None for any other folder."""
    match = _FOLDER.fullmatch(name)
    return (int(match["year"]), int(match["version"] or 1)) if match else None


def versions(dataset: str, year: int, out_dir: Path) -> list[int]:
    """The versions of a year that have a bundle folder, oldest first."""
    folder = out_dir / check_dataset(dataset)
    found = [parsed[1] for path in folder.glob(f"{year}*") if path.is_dir()
             and (parsed := parse_folder(path.name)) is not None and parsed[0] == year] if folder.is_dir() else []
    return sorted(found)


def bundle_dir(dataset: str, year: int, out_dir: Path, version: int | None = None) -> Path:
    """The bundle of ``version``, by default the latest one (the first when there is none yet)."""
    existing = versions(dataset, year, out_dir)
    chosen = version if version is not None else (existing[-1] if existing else 1)
    return out_dir / dataset / folder_name(year, chosen)


def existing_bundle(dataset: str, year: int, out_dir: Path, version: int | None = None) -> Path:
    """The bundle a command works on, or an InputError (exit 4): a bundle that is not there
    is a mistake in the command line (dataset, year, --out or --version), not a refusal."""
    bundle = bundle_dir(dataset, year, out_dir, version)
    if not bundle.is_dir():
        which = f"version {version} of " if version is not None else ""
        raise InputError(f"no bundle for {which}{dataset} {year} in {out_dir}: build it first "
                         f"(release {dataset} {year} --out {out_dir}) or check --out", file=str(bundle), rule="bundle")
    return bundle


def all_bundles(out_dir: Path) -> list[tuple[str, int, int, Path]]:
    """(dataset, year, version, folder) of every bundle under ``out_dir``, of registered datasets."""
    found = []
    for folder in sorted(out_dir.glob("*/*")):
        parsed = parse_folder(folder.name)
        if parsed and folder.parent.name in DATASETS and (folder / MANIFEST).is_file():
            found.append((folder.parent.name, parsed[0], parsed[1], folder))
    return found


# ---- publication ------------------------------------------------------------------------

def publications(bundle: Path) -> list[dict[str, object]]:
    path = bundle / PUBLICATION
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    return [item for line in lines if line.strip() and isinstance(item := _json(line), dict)]


def _json(line: str) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError:
        return {"unreadable": True}  # still a sign the bundle was published


def record_publication(bundle: Path, destination: Path, manifest_sha256: str) -> None:
    with (bundle / PUBLICATION).open("a", encoding="utf-8", newline="\n") as handle:
        handle.write(json.dumps({"published_at": utc_now(), "destination": str(destination),
                                 "manifest_sha256": manifest_sha256}, sort_keys=True) + "\n")


def is_published(bundle: Path, out_dir: Path, ledger: Path | None = None) -> bool:
    if publications(bundle):
        return True
    try:
        manifest = json.loads((bundle / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return False
    privacy = manifest.get("privacy") if isinstance(manifest, dict) else None
    if not isinstance(privacy, dict) or not privacy.get("spends"):
        return False
    from release.privacy_policy import checked_ledger
    try:
        path = checked_ledger(default_dir("redaction_rules")[0], ledger)
    except ReleaseError:
        return False  # the policy names no readable ledger: the publication record decides
    run_id = str(privacy.get("run_id", ""))
    return path.is_file() and any(e.kind == "publish" and e.body.get("run_id") == run_id
                                  for e in Ledger(path).entries())


@dataclass(frozen=True)
class BuildTarget:
    bundle: Path
    version: int
    supersedes: dict[str, object] | None   # the published version this one replaces on the portal


def build_target(dataset: str, year: int, out_dir: Path, supersede: bool, ledger: Path | None = None) -> BuildTarget:
    """Where a build writes: the latest version, unless it is published. A published year is
    never replaced; ``supersede`` builds the next version in its own folder."""
    existing = versions(dataset, year, out_dir)
    latest = existing[-1] if existing else 1
    current = bundle_dir(dataset, year, out_dir, latest)
    published = current.is_dir() and is_published(current, out_dir, ledger)
    if not supersede:
        if published:
            raise ApprovalError(
                f"{dataset} {year} (version {latest}) is published and is never replaced by a rebuild; to publish "
                f"a corrected release, rebuild with --supersede: it gets its own folder "
                f"({folder_name(year, latest + 1)}) and needs its own approvals", file=str(current), rule="published")
        return BuildTarget(current, latest, None)
    if not published:
        raise ApprovalError(f"nothing to supersede: {dataset} {year} (version {latest}) is not published; rebuild "
                            "without --supersede", file=str(current), rule="supersede")
    return BuildTarget(bundle_dir(dataset, year, out_dir, latest + 1), latest + 1, {
        "version": latest, "bundle": f"{dataset}/{current.name}",
        "manifest_sha256": sha256_file(current / MANIFEST)})
