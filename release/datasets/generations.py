"""The record systems a dataset's exports came from, and which one an export is.

The City published FIOE data from three record systems (``raw-exports.md``, "Older FIOE
generations"): Mark43 (27 Sep 2019 on), the "new RMS" (about Jun 2015 to 29 Sep 2019) and the
legacy FIO system (2011 to Apr 2015). Each has its own schema, so each has its own policy
(``redaction_rules/<policy>.yaml``: the allow-list of that schema), its own suites
(``expectations/<policy>_raw.json``, ``_public.json``) and its own sample generator. A build
uses one generation, and so does every table it counts: the City warns against joining the
systems' figures, and a table that counted rows of two would do just that.

Which one: the year admits one generation, or two in a year the systems changed (2015,
2019: a split year, whose parts are two releases, one bundle each, never joined; see
``release.bundle.places``); where it admits two, the export's headers decide (every required column present, the
fewest columns the generation's policy does not name); ``--generation`` overrides both. A
header set that fits none of the year's generations is an input error naming the file and,
per generation, the columns it lacks and the columns it does not know (by name only when a
header is a plain identifier: a header may hold a value). A bundle records its generation by
name in the manifest; later commands map that name back to a policy through this registry,
never through a path read from the manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from release.config.policy import DatasetPolicy, FilePolicy, InputLimits
from release.errors import ConfigError, InputError
from release.stages import load_csv

_MAX_NAMED = 8  # columns named per generation in the error; the rest are counted


@dataclass(frozen=True)
class Generation:
    """One record system: its name (``--generation``), its policy's name, the dates it held."""

    dataset: str
    name: str
    policy: str            # redaction_rules/<policy>.yaml, expectations/<policy>_{raw,public}.json
    title: str
    start: date | None     # None: it held every earlier year
    end: date | None       # None: it holds every later year

    def holds(self, year: int) -> bool:
        return (self.start is None or year >= self.start.year) and (self.end is None or year <= self.end.year)

    def days_in(self, year: int) -> int:
        """How many days of ``year`` this system held (for the year's main generation)."""
        first = max(date(year, 1, 1), self.start or date.min)
        last = min(date(year, 12, 31), self.end or date.max)
        return max(0, (last - first).days + 1)

    @property
    def years(self) -> str:
        first = str(self.start.year) if self.start else ""
        last = str(self.end.year) if self.end else ""
        return f"{first}-{last}" if first != last else first


GENERATIONS: Mapping[str, tuple[Generation, ...]] = {
    "fioe": (
        Generation("fioe", "mark43", "fioe", "Mark43 (27 Sep 2019 on)", date(2019, 9, 27), None),
        Generation("fioe", "rms", "fioe_rms", "New RMS (about Jun 2015 - 29 Sep 2019)",
                   date(2015, 6, 1), date(2019, 9, 29)),
        Generation("fioe", "legacy", "fioe_legacy", "Legacy FIO (2011 - Apr 2015), one row per person",
                   None, date(2015, 4, 30)),
    ),
}


def generations(dataset: str) -> tuple[Generation, ...]:
    """The dataset's generations; empty for a dataset with one schema (its policy is ``<dataset>``)."""
    return GENERATIONS.get(dataset, ())


def names(dataset: str) -> tuple[str, ...]:
    return tuple(g.name for g in generations(dataset))


def split_year(dataset: str, year: int) -> bool:
    """Two record systems held part of ``year`` (FIOE 2015 and 2019): each part is its own
    release, built from its own export under its own policy, in its own bundle (``release.bundle.places``)."""
    return sum(1 for g in generations(dataset) if g.holds(year)) > 1


def main_generation(dataset: str, year: int) -> Generation | None:
    """The generation that held most of ``year`` (what ``release sample`` writes by default)."""
    known = generations(dataset)
    return max(known, key=lambda g: g.days_in(year)) if known else None


def policy_names(datasets: tuple[str, ...]) -> list[str]:
    """Every policy the datasets use: one per dataset, or one per generation."""
    return [name for d in datasets for name in ([g.policy for g in generations(d)] or [d])]


def named(dataset: str, name: str) -> Generation:
    """The generation called ``name``; a ConfigError lists the known ones."""
    for generation in generations(dataset):
        if generation.name == name:
            return generation
    known = ", ".join(names(dataset)) or f"none ({dataset} has one schema)"
    raise ConfigError(f"unknown generation '{name}' for {dataset}; known: {known}", rule="generation")


def recorded_name(manifest: Mapping[str, object]) -> str | None:
    """The generation name a manifest records (None when it records none)."""
    from release.bundle.manifest_recorded import Recorded

    section = Recorded.of(manifest).generation
    name = section.get("name") if section is not None else None
    return name if isinstance(name, str) else None


def of_manifest(dataset: str, manifest: Mapping[str, object]) -> Generation | None:
    """The generation a bundle is judged by: the one that held its year, whatever the manifest
    records (the manifest is unsigned before approval: a 2021 bundle relabelled ``rms`` was judged
    by the RMS policy, which declares no table, and its exact person-level table went out; issue
    #12, attack gen-exact). Only in a split year does the recorded name choose, between the
    generations that held it (``manifest_problem`` reports a name that is not one of them, and
    ``bundles.folder_part`` the bundle folder it must match). A dataset with one schema, or a
    manifest without a year, records none: the dataset's own policy (a name recorded without a
    year still maps through the registry)."""
    from release.bundle.manifest_recorded import Recorded

    known = generations(dataset)
    if not known:
        return None
    year, name = Recorded.of(manifest).year, recorded_name(manifest)
    holding = [g for g in known if year is not None and g.holds(year)]
    if len(holding) == 1:
        return holding[0]
    if name is None:
        return None
    generation = named(dataset, name)
    return generation if not holding or generation in holding else None


def manifest_problem(dataset: str, manifest: Mapping[str, object], part: str | None = None) -> str | None:
    """Why the generation a manifest records is not the one its bundle is judged by: another one
    held the year, or, in a split year, the bundle folder (``part``: ``2019-rms``) names another."""
    from release.bundle.manifest_recorded import Recorded

    known = generations(dataset)
    year, name = Recorded.of(manifest).year, recorded_name(manifest)
    if year is None:
        return None
    holding = [g for g in known if g.holds(year)]
    split = len(holding) > 1
    if part is not None and not split:  # round 31: a folder's name ("2021-anything") carried what it liked
        return (f"the bundle's folder names a part ({'a generation' if part in names(dataset) else 'not a generation'}) "
                f"of {year}, which one record system held: its folder is the year's alone (rule generation)")
    if not known:
        return None
    if name is None and not split:
        return None
    if name is not None and name not in names(dataset):
        return f"the manifest records an unknown {dataset} generation; known: {', '.join(names(dataset))} (rule generation)"
    if name is None or name not in {g.name for g in holding}:
        return (f"the manifest records {'no generation' if name is None else f'generation {name}'}, but "
                f"{' and '.join(g.name for g in holding)} held {year}: a bundle is judged by the policy of the record "
                "system that held its year (rule generation); build the year's export with that system "
                "(--generation outside a system's years builds a draft that cannot be approved)")
    if split and part is not None and part != name:
        return (f"the manifest records generation {name}, but the bundle's folder is the {part} part of {year} "
                "(rule generation)")
    return None


def policy_of_manifest(dataset: str, manifest: Mapping[str, object]) -> str:
    """The name of the policy a bundle was built with (its rule file is ``<name>.yaml``)."""
    generation = of_manifest(dataset, manifest)
    return generation.policy if generation is not None else dataset


@dataclass(frozen=True)
class Choice:
    """The generation a build uses and what chose it (``--generation``, the year or the export's headers), as
    the manifest records it."""

    generation: Generation
    chosen_by: str  # "option", "year" or "headers"
    year: int

    def manifest_section(self) -> dict[str, object]:
        return {"name": self.generation.name, "title": self.generation.title,
                "policy": f"{self.generation.policy}.yaml", "years": self.generation.years,
                "chosen_by": self.chosen_by}


PolicyLoader = Callable[[str], DatasetPolicy]


def choose(dataset: str, year: int, requested: str | None, input_dir: Callable[[], Path],
           load: PolicyLoader) -> Choice | None:
    """The generation of this build (None for a dataset with one schema). ``input_dir`` is
    called only when the headers must decide; ``load`` reads a generation's policy by name."""
    known = generations(dataset)
    if not known:
        if requested is not None:
            raise ConfigError(f"{dataset} has one schema: --generation does not apply", rule="generation")
        return None
    if requested is not None:
        return Choice(named(dataset, requested), "option", year)
    candidates = [g for g in known if g.holds(year)]
    if len(candidates) == 1:
        return Choice(candidates[0], "year", year)  # its headers: check_headers, once the input is known
    folder = input_dir()
    headers: dict[str, tuple[str, ...]] = {}  # each file read once, whichever generations name it
    policies = {g.name: load(g.policy) for g in candidates}
    fits = {g.name: _fit(folder, policies[g.name], headers) for g in candidates}
    # a generation fits when the export has its required columns and no column only another one
    # names (an RMS export short of one flag is not a Mark43 export with four unknown columns)
    viable = [g for g in candidates if not fits[g.name].missing and not _foreign(fits[g.name], g, policies)]
    if viable:
        fewest = min(len(fits[g.name].extra) for g in viable)
        best = [g for g in viable if len(fits[g.name].extra) == fewest]
        if len(best) == 1:
            return Choice(best[0], "headers", year)
        raise InputError(f"the headers fit more than one {dataset} generation of {year} "
                         f"({', '.join(g.name for g in best)}): pass --generation", rule="generation")
    others = [g for g in known if g not in candidates and not _fit(folder, load(g.policy), headers).missing]
    hint = "".join(f"; they fit {g.name} ({g.title}): --generation {g.name} if that is the export" for g in others)
    raise InputError(f"the headers fit no {dataset} generation of {year}: "
                     + "; ".join(f"{g.name} ({g.policy}.yaml) {fits[g.name].describe()}" for g in candidates)
                     + (hint or "; pass --generation to read the export as one of them"),
                     file=", ".join(dict.fromkeys(f for g in candidates for f in fits[g.name].files)) or None,
                     rule="generation")


def check_headers(choice: Choice | None, folder: Path, load: PolicyLoader) -> None:
    """A generation chosen by the year alone still refuses an export whose headers are another
    generation's: an RMS export given as 2020 would lose its frisk and search flags as columns
    "not in policy". Its missing columns are left to the loader, which names each."""
    if choice is None or choice.chosen_by != "year":
        return
    generation = choice.generation
    policies = {g.name: load(g.policy) for g in generations(generation.dataset)}
    foreign = _foreign(_fit(folder, policies[generation.name], {}), generation, policies)
    if not foreign:
        return
    owners = [g for g in generations(generation.dataset) if set(foreign) & _named_columns(policies[g.name])]
    shown = ", ".join(foreign[:_MAX_NAMED]) + (f" and {len(foreign) - _MAX_NAMED} more"
                                               if len(foreign) > _MAX_NAMED else "")
    raise InputError(f"the export has columns of another {generation.dataset} generation ({shown}), not of "
                     f"{generation.name}, the only one that held {choice.year}: "
                     + "; ".join(f"--generation {g.name} reads it as {g.title}" for g in owners),
                     file=", ".join(dict.fromkeys(c.split(":", 1)[0] for c in foreign)), rule="generation")


def _named_columns(policy: DatasetPolicy) -> set[str]:
    """``file:column`` of every header the policy reads (its columns and their aliases)."""
    return {f"{fp.raw_file}:{name}" for fp in policy.files.values() for name in [*fp.raw_columns(), *fp.aliases]}


def _foreign(fit: _Fit, generation: Generation, policies: Mapping[str, DatasetPolicy]) -> list[str]:
    """The columns of the export ``generation`` does not name and another one does."""
    named = set().union(*(_named_columns(p) for other, p in policies.items() if other != generation.name))
    return [column for column in fit.extra if column in named]


@dataclass(frozen=True)
class _Fit:
    """How an export's headers fit one generation's policy: per file, the required columns it
    lacks (a missing file counts as lacking them all) and the columns no rule of it names."""

    missing: tuple[str, ...]
    extra: tuple[str, ...]
    files: tuple[str, ...]

    def describe(self) -> str:
        parts = []
        for label, columns in (("lacks", self.missing), ("does not name", self.extra)):
            if columns:
                shown = ", ".join(columns[:_MAX_NAMED])
                more = f" and {len(columns) - _MAX_NAMED} more" if len(columns) > _MAX_NAMED else ""
                parts.append(f"{label} {shown}{more}")
        return " and ".join(parts) or "fits"


def _fit(folder: Path, policy: DatasetPolicy, headers: dict[str, tuple[str, ...]]) -> _Fit:
    missing: list[str] = []
    extra: list[str] = []
    files: list[str] = []
    for file_policy in policy.files.values():
        files.append(file_policy.raw_file)
        path = folder / file_policy.raw_file
        if not path.is_file():
            missing.append(f"{file_policy.raw_file} (the file)")
            continue
        if file_policy.raw_file not in headers:
            headers[file_policy.raw_file] = read_header(path, file_policy.raw_file, policy.limits)
        lacking, unknown = _columns_fit(headers[file_policy.raw_file], file_policy)
        missing += [f"{file_policy.raw_file}:{c}" for c in lacking]
        extra += [f"{file_policy.raw_file}:{c}" for c in unknown]
    return _Fit(tuple(missing), tuple(extra), tuple(files))


def _columns_fit(header: tuple[str, ...], file_policy: FilePolicy) -> tuple[list[str], list[str]]:
    """(required columns the header lacks, header columns the policy does not name), as the
    loader reads headers (aliases applied); an unknown one by ``column_label`` only."""
    seen: set[str] = set()
    unknown: list[str] = []
    for position, original in enumerate(header):
        name = load_csv.header_name(original)
        name = file_policy.aliases.get(name, name)
        seen.add(name)
        if name not in file_policy.raw_columns():
            unknown.append(load_csv.column_label(original, position))
    return [c for c in file_policy.required_columns() if c not in seen], unknown


def read_header(path: Path, file: str, limits: InputLimits) -> tuple[str, ...]:
    """The header of a raw file, read as the loader reads it (same decoding, parser and limits)."""
    return load_csv.read(path, file, limits).header
