"""Does a release hold to the trusted policy as a whole, not only its spends? (issue #12, round 22)

``release.privacy.spend_policy`` compared a spend's unit, mechanism and rho with the trusted rules; the
rest of the declaration still came from the rules copy the release was built with. With the
organisation's ledger and witness, a copy could calibrate the noise to another sensitivity
(``units_may_merge: false``, no margins: half the noise, the same charge), state ``bounds:
declared`` or another delta, publish the protected person-level table exactly under a new name,
relabel the bundle's generation so that a policy declaring no table judged it, or drop the
coarsening of the persons file; approve, publish, the audit and ``verify`` all passed (attack
round 22: pol-merge, pol-margins, pol-declared, delta5, rename-exact, gen-exact, gen-draft,
nocoarsen). So, with the trusted rules (``--rules``), a release must also hold to:

1. **its generation**: the one that held the bundle's year (``release.datasets.generations``), and in a
   split year the part its folder names; the folder's year is the manifest's;
2. **only declared tables**: every file under ``tables/`` and every ``privacy.json`` entry is a
   table the trusted tables policy of that generation declares, with the status class and
   mechanism it declares (a policy without a tables file declares none);
3. **every measurement and the statement** (its record-level risk checks too) as the trusted
   declaration gives them (``release.audit.trusted_statement``);
4. **the record-level files** (``release.audit.trusted_records``): every column the trusted linkage plan
   coarsens holds only the bands (or blanks) the coarsening writes, and the trusted juvenile rule
   holds: a minor's age only as a juvenile band, the rows of a minor's report withheld and dated as
   it says;
5. **the draws**: every noisy table is the post-processing of the noisy values the manifest
   publishes, and those are the draws its measurements name (``release.audit.table_replay``), so a
   reader of a published copy checks the cells as approve checks them against the ledger;
6. **the whole files** (round 24: a paid bundle edited, re-hashed and bound again on the ledger
   carried the exact counts in an extra table column, a label, a summary, the statement or a new
   file): the exact set of public files, every header, every table's labels, every summary's
   recount and the statement's text as the build writes them (``release.audit.public_content``);
7. **the manifest** (round 25: the same re-bound bundle carried the exact counts in a dataset note
   or a new key of the manifest, which the portal copies, and in a derived file's resource): its
   keys at every level (``release.bundle.manifest``), its dataset notes as the dataset's module
   declares them, its publication notes recounted from the public files and its policy-made
   strings as the trusted policy gives them (``release.audit.trusted_manifest``, called by
   ``public_content``), and every derived file's data package resource regenerated.

Messages name the file, table, column and rule; a published value is never repeated.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from release.bundle.manifest_recorded import Recorded
from release.config.policy import DatasetPolicy
from release.config.privacy import PrivacyPolicy
from release.config.tables import TableSpec, TablesPolicy
from release.errors import ReleaseError

TABLES = "tables"
STATEMENT = "privacy.json"
# the cell statuses each mechanism publishes (``release.build.tables``): a noisy table's cells are all noisy
STATUSES = {"discrete_gaussian": {"noisy"}, "discrete_laplace": {"noisy"}, "exact": {"exact", "suppressed"},
            "summary": {"exact"}}


@dataclass(frozen=True)
class Trusted:
    """What the trusted rules declare for one bundle: its generation's policy and tables policy
    (None: it declares no table) and the privacy policy."""

    dataset: str
    year: int
    rules_dir: Path
    policy: DatasetPolicy
    tables: TablesPolicy | None
    privacy: PrivacyPolicy
    policy_name: str = ""  # the rule file's name: the dataset's, or its generation's (record_risk is keyed by it)

    @property
    def where(self) -> str:
        return f"the trusted {self.policy.tables_file}" if self.policy.tables_file else \
            "the trusted policy (which declares no tables file)"

    def spec(self, table: object) -> TableSpec | None:
        return next((s for s in self.tables.tables if s.name == table), None) if self.tables else None


def trusted_for(dataset: str, rules_dir: Path, manifest: Mapping[str, Any]) -> Trusted | str:
    """The trusted declarations a bundle is judged by, or why they cannot be read."""
    from release.bundle.trust import bundle_policy, bundle_policy_name
    from release.config.privacy import load_privacy_policy
    from release.config.tables import load_tables_policy

    year = Recorded.of(manifest).year
    policy, found = bundle_policy(dataset, rules_dir, manifest)
    if policy is None or year is None:
        return found[0] if found else "the manifest names no year"
    try:
        tables = load_tables_policy(rules_dir / policy.tables_file) if policy.tables_file else None
        return Trusted(dataset, year, rules_dir, policy, tables, load_privacy_policy(rules_dir),
                       bundle_policy_name(dataset, manifest))
    except ReleaseError as exc:
        return exc.one_line()


def release_problems(rules_dir: Path, manifest: Mapping[str, Any], public: Path, folder: str) -> list[str]:
    """Every way a bundle (``public``: its ``public/``, or a published copy; ``folder``: its folder's
    name, ``2021`` or ``2019-rms``) departs from the trusted rules: empty when it holds to them."""
    from release.audit.trusted_statement import measurement_problems, statement_problems

    dataset = Recorded.of(manifest).dataset_name
    trusted = trusted_for(dataset, rules_dir, manifest)
    if isinstance(trusted, str):
        return [f"the release cannot be held to the trusted policy: {trusted}"]
    from release.audit.public_content import content_problems
    from release.audit.table_replay import published_draw_problems
    from release.audit.trusted_privacy import leaf_problems
    from release.audit.trusted_records import coarsening_problems, column_rule_problems, juvenile_problems

    return (_folder_problems(trusted, manifest, folder) + _version_problems(trusted, manifest, public, folder)
            + _table_problems(trusted, public)
            + measurement_problems(trusted, manifest, public) + statement_problems(trusted, manifest, public)
            + coarsening_problems(trusted, public) + juvenile_problems(trusted, public) + column_rule_problems(trusted, public)
            + published_draw_problems(trusted, manifest, public) + content_problems(trusted, manifest, public)
            + leaf_problems(trusted, manifest))


def _folder_problems(trusted: Trusted, manifest: Mapping[str, Any], folder: str) -> list[str]:
    from release.bundle import places as bundles
    from release.datasets import generations

    parsed = bundles.parse_folder(folder)  # None: a copy saved under a name of the reader's own
    problems = [] if parsed is None or parsed[0] == trusted.year else \
        [f"folder {folder}: not the folder of the manifest's year (rule generation)"]
    generation = generations.manifest_problem(trusted.dataset, manifest, bundles.folder_part(folder))
    return problems + ([generation] if generation else [])


def _version_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path, folder: str) -> list[str]:
    """``version`` and ``supersedes`` as ``bundles.build_target`` writes them: the folder's version (a copy
    saved under a name of the reader's own: any), and for a version after the first the folder of the one
    before, beside this one (in the releases folder, or on the portal), with the hash of its manifest.
    Nothing compared them, so a version number and a 256-bit hash were free (round 30)."""
    from release.bundle import places as bundles
    from release.bundle.layout import MANIFEST, sha256_file

    recorded = Recorded.of(manifest)
    version, supersedes = recorded.version, recorded.value("supersedes")  # compared as written
    parsed = bundles.parse_folder(folder)
    if version is None or version < 1 or (parsed is not None and parsed[1] != version):
        return [f"folder {folder}: not the folder of the manifest's version (rule supersedes)"]
    if version == 1:
        return [] if supersedes is None else ["manifest.json supersedes: a first version supersedes nothing "
                                              "(rule supersedes)"]
    home = public.parent.parent if public.name == "public" and (public.parent / MANIFEST).is_file() else public.parent
    part = bundles.folder_part(folder) if parsed is not None else None
    named = f"{trusted.dataset}/{bundles.folder_name(trusted.year, version - 1, part)}"
    if parsed is None and isinstance(supersedes, dict) and isinstance(supersedes.get("bundle"), str) \
            and supersedes["bundle"].startswith(f"{trusted.dataset}/"):
        before = bundles.parse_folder(supersedes["bundle"].partition("/")[2])  # the name cannot be told: read it
        if before is not None and before[:2] == (trusted.year, version - 1):
            named = supersedes["bundle"]
    previous = home / named.partition("/")[2] / MANIFEST
    expected = {"version": version - 1, "bundle": named,
                "manifest_sha256": sha256_file(previous) if previous.is_file() else None}
    if expected["manifest_sha256"] is None:
        return [f"manifest.json supersedes: the version it replaces ({named.partition('/')[2]}) is not beside it, so "
                "its manifest cannot be compared; check the release beside the versions before it (rule supersedes)"]
    return [] if supersedes == expected else [
        "manifest.json supersedes: not the version before this one with its manifest's hash (rule supersedes)"]


def _statuses(path: Path) -> set[str] | None:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return {str(row.get("status")) for row in csv.DictReader(handle)}
    except (OSError, UnicodeDecodeError, csv.Error):
        return None  # unreadable: the integrity and table checks report it


def stated_tables(public: Path) -> list[dict[str, Any]]:
    """The table entries of the public ``privacy.json`` (none when it is absent or unreadable: the
    integrity checks report that)."""
    try:
        statement = json.loads((public / STATEMENT).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return []
    tables = statement.get("tables") if isinstance(statement, dict) else None
    return [t for t in tables if isinstance(t, dict)] if isinstance(tables, list) else []


def _table_problems(trusted: Trusted, public: Path) -> list[str]:
    """Only declared tables go out, each as the trusted policy declares it (rename-exact, gen-exact)."""
    problems: list[str] = []
    folder = public / TABLES
    files = sorted(p for p in folder.iterdir()) if folder.is_dir() else []
    for path in files:
        spec = trusted.spec(path.stem) if path.suffix == ".csv" and path.is_file() else None
        if spec is None:
            problems.append(f"public file {TABLES}/{path.name}: not a table {trusted.where} declares for "
                            f"{trusted.dataset} (rule tables)")
            continue
        statuses = _statuses(path)
        if statuses is not None and not statuses <= STATUSES[spec.mechanism]:
            problems.append(f"public table {spec.name}: its cells are not published as a {spec.mechanism} table's, "
                            f"which is how {trusted.where} declares it (rule mechanism)")
    published = {p.stem for p in files if p.is_file()}
    for number, entry in enumerate(stated_tables(public), start=1):
        where = f"public {STATEMENT} tables[{number}]"
        spec = trusted.spec(entry.get("table"))
        if spec is None:
            problems.append(f"{where}: states a table {trusted.where} does not declare for {trusted.dataset} "
                            "(rule tables)")
        elif entry.get("mechanism") != spec.mechanism:
            problems.append(f"{where}: states table {spec.name} with another mechanism than the {spec.mechanism} "
                            f"of {trusted.where} (rule mechanism)")
        elif spec.name not in published:
            problems.append(f"{where}: states table {spec.name}, which is not published (rule tables)")
    stated = {str(e.get("table")) for e in stated_tables(public)}
    problems += [f"public table {name}: published without its entry in {STATEMENT} (rule tables)"
                 for name in sorted(published - stated) if trusted.spec(name) is not None]
    return problems


def published_file(trusted: Trusted, public: Path, name: str) -> tuple[Path, Any] | None:
    """(path, frame) of the record-level file ``name`` (the trusted policy's file name) as published
    under ``public``; None when it is not published or not readable (the integrity checks report that)."""
    from release.bundle.read import read_public_record
    from release.errors import InputError

    file_policy = trusted.policy.files.get(name)
    if file_policy is None:
        return None
    relpath = file_policy.public_file.format(year=trusted.year)
    try:  # the file whole, its CSV parts joined as the trusted policy's row limit lays them out
        frame = read_public_record(public, relpath, trusted.policy.publish.csv_row_limit)
    except InputError:
        return None
    return (public / relpath, frame) if frame is not None else None
