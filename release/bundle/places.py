"""Where a release's bundle lives, which datasets exist, and whether a year is published.

``DATASETS`` is the registry every command checks a dataset name against before it becomes
part of a path: a manifest naming ``../../fioe`` once made publish write, and delete,
outside ``--to``. A year's first bundle is ``OUT/<dataset>/<year>``; a new version of a
published year is built only with ``--supersede`` and gets its own folder,
``OUT/<dataset>/<year>-v<N>``, so a published bundle (and the approvals that published it)
is never replaced. Commands address the latest version unless given ``--version``.

A year two record systems shared (FIOE 2015 and 2019, ``release.datasets.generations``) has one bundle
per system, each built from that system's export under its own policy, in a folder named by
the part: ``OUT/fioe/2019-rms``, ``OUT/fioe/2019-mark43`` (versions: ``2019-rms-v2``). Nothing
joins the two (the City warns against it): each has its own manifest, approvals, tables and
publication. A command addresses a part with ``--generation``; without it, the year's one part
when only one is built, and an input error naming the parts when both are.

A bundle is published once ``publish`` has appended its record (``publication.jsonl``,
beside the manifest, outside ``public/``), or once its privacy spend is marked published
on the ledger.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from release.bundle.jsonl import text_lines, utc_now
from release.bundle.layout import MANIFEST, sha256_file
from release.config.datasets import DATASETS
from release.errors import ApprovalError, ConfigError, InputError, ReleaseError
from release.paths import default_dir
from release.privacy.ledger import Ledger

PUBLICATION = "publication.jsonl"
# a part is a generation's name (never "v" and a digit, which is a version)
_FOLDER = re.compile(r"(?P<year>\d{4})(?:-(?P<part>(?!v\d)[a-z][a-z0-9]*))?(?:-v(?P<version>[2-9]|[1-9]\d+))?")


def check_dataset(dataset: str) -> str:
    """``dataset`` if it is a registered dataset, else a ConfigError (exit 3) naming the known ones."""
    if dataset not in DATASETS:
        raise ConfigError(f"unknown dataset; known datasets: {', '.join(DATASETS)}", rule="dataset")
    return dataset


def folder_name(year: int, version: int = 1, part: str | None = None) -> str:
    base = f"{year}-{part}" if part else str(year)
    return base if version == 1 else f"{base}-v{version}"


def parse_folder(name: str) -> tuple[int, int] | None:
    """(year, version) of a bundle folder's name, or None for any other folder."""
    match = _FOLDER.fullmatch(name)
    return (int(match["year"]), int(match["version"] or 1)) if match else None


def folder_part(name: str) -> str | None:
    """The part of a split year a bundle folder holds (``2019-rms``: ``rms``), else None."""
    match = _FOLDER.fullmatch(name)
    return match["part"] if match else None


def _parts_built(dataset: str, year: int, out_dir: Path) -> list[str]:
    folder = out_dir / check_dataset(dataset)
    return sorted({part for path in folder.glob(f"{year}-*") if path.is_dir()
                   and (parsed := parse_folder(path.name)) is not None and parsed[0] == year
                   and (part := folder_part(path.name)) is not None}) if folder.is_dir() else []


def year_part(dataset: str, year: int, out_dir: Path, generation: str | None = None) -> str | None:
    """The part of ``year`` a command addresses: None in a year one record system held; in a
    split year, ``generation``, or the one part built (an InputError naming them when both are)."""
    from release.datasets import generations

    if not generations.split_year(check_dataset(dataset), year):
        return None
    if generation is not None:
        return generations.named(dataset, generation).name
    built = _parts_built(dataset, year, out_dir)
    if len(built) > 1:
        raise InputError(f"{dataset} {year} was split between record systems and has a bundle for each "
                         f"({', '.join(built)}): pass --generation {' or '.join(built)}",
                         file=str(out_dir / dataset), rule="generation")
    return built[0] if built else None


def versions(dataset: str, year: int, out_dir: Path, part: str | None = None) -> list[int]:
    """The versions of a year (of one part of a split year) that have a bundle folder, oldest first."""
    folder = out_dir / check_dataset(dataset)
    found = [parsed[1] for path in folder.glob(f"{year}*") if path.is_dir()
             and (parsed := parse_folder(path.name)) is not None and parsed[0] == year
             and folder_part(path.name) == part] if folder.is_dir() else []
    return sorted(found)


def bundle_dir(dataset: str, year: int, out_dir: Path, version: int | None = None,
               generation: str | None = None) -> Path:
    """The bundle of ``version``, by default the latest one (the first when there is none yet);
    in a split year, of the part ``generation`` names (``year_part``)."""
    part = year_part(dataset, year, out_dir, generation)
    existing = versions(dataset, year, out_dir, part)
    chosen = version if version is not None else (existing[-1] if existing else 1)
    return out_dir / dataset / folder_name(year, chosen, part)


def previous_bundle(dataset: str, year: int, out_dir: Path, generation: str | None) -> Path | None:
    """The latest bundle of the year before, if built (what a packet compares with): where that
    year was split, the part of the same record system, never the other's."""
    try:
        bundle = bundle_dir(dataset, year - 1, out_dir, generation=generation)
    except InputError:  # a split year, and no record system to say which part
        return None
    return bundle if (bundle / MANIFEST).is_file() else None


def first_versions(dataset: str, out_dir: Path, generation: str | None = None) -> list[tuple[int, Path]]:
    """(year, folder) of the first version of every year's bundle: the years later builds and
    audits read tables back from. Of a split year, only the part of ``generation``: a table, or
    a recount of public files, never mixes two record systems' rows."""
    folder = out_dir / check_dataset(dataset)
    return [(parsed[0], path) for path in sorted(folder.glob("[0-9][0-9][0-9][0-9]*")) if path.is_dir()
            and (parsed := parse_folder(path.name)) is not None and parsed[1] == 1
            and folder_part(path.name) in (None, generation)] if folder.is_dir() else []


def existing_bundle(dataset: str, year: int, out_dir: Path, version: int | None = None,
                    generation: str | None = None) -> Path:
    """The bundle a command works on, or an InputError (exit 4): a bundle that is not there
    is a mistake in the command line (dataset, year, --out, --version or --generation), not a refusal."""
    bundle = bundle_dir(dataset, year, out_dir, version, generation)
    if not bundle.is_dir():
        which = f"version {version} of " if version is not None else ""
        part = folder_part(bundle.name)
        which += f"the {part} part of " if part else ""
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
    lines = text_lines(path)
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


def is_published(bundle: Path, out_dir: Path, ledger: Path | None = None, rules_dir: Path | None = None) -> bool:
    """Whether ``bundle`` went out: its own publication record, or a ``publish`` entry for its manifest on
    the ledger the rules (``rules_dir``, else the installed copy) name (the record can be deleted)."""
    if publications(bundle):
        return True
    from release.bundle.read import read_manifest

    try:
        privacy = read_manifest(bundle, InputError).privacy
    except (OSError, ReleaseError):  # no manifest, or not a JSON object: nothing says it spent
        return False
    if privacy is None or not privacy.get("spends"):
        return False
    from release.config.privacy import checked_ledger
    try:
        path = checked_ledger(rules_dir or default_dir("redaction_rules")[0], ledger)
    except ReleaseError:
        return False  # the policy names no readable ledger: the publication record decides
    digest = sha256_file(bundle / MANIFEST)  # the run's id is in the private part (round 30)
    return path.is_file() and any(e.kind == "publish" and e.body.get("manifest_sha256") == digest
                                  for e in Ledger(path).entries())


@dataclass(frozen=True)
class BuildTarget:
    """Where a build writes (``build_target``): the bundle folder, its version, and the published version
    it replaces on the portal (None but with ``--supersede``: a published folder is never written again)."""

    bundle: Path
    version: int
    supersedes: dict[str, object] | None   # the published version this one replaces on the portal


def build_target(dataset: str, year: int, out_dir: Path, supersede: bool, ledger: Path | None = None,
                 generation: str | None = None, rules_dir: Path | None = None) -> BuildTarget:
    """Where a build writes: the latest version, unless it is published. A published year is
    never replaced; ``supersede`` builds the next version in its own folder. In a split year,
    the part of the export's ``generation``: the other part is never touched."""
    part = year_part(dataset, year, out_dir, generation) if generation is not None else None
    existing = versions(dataset, year, out_dir, part)
    latest = existing[-1] if existing else 1
    current = out_dir / dataset / folder_name(year, latest, part)
    published = current.is_dir() and is_published(current, out_dir, ledger, rules_dir)
    if not supersede:
        if published:
            raise ApprovalError(
                f"{dataset} {year} (version {latest}) is published and is never replaced by a rebuild; to publish "
                f"a corrected release, rebuild with --supersede: it gets its own folder "
                f"({folder_name(year, latest + 1, part)}) and needs its own approvals", file=str(current),
                rule="published")
        return BuildTarget(current, latest, None)
    if not published:
        raise ApprovalError(f"nothing to supersede: {dataset} {year} (version {latest}) is not published; rebuild "
                            "without --supersede", file=str(current), rule="supersede")
    return BuildTarget(out_dir / dataset / folder_name(year, latest + 1, part), latest + 1, {
        "version": latest, "bundle": f"{dataset}/{current.name}",
        "manifest_sha256": sha256_file(current / MANIFEST)})
