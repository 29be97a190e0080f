"""The public folder held to the trusted rules as whole files (issue #12, attack round 24).

The earlier checks read chosen cells: the noisy values by position, the coarsened column, the
statement's claims. An analyst holding the release key copied an honest paid bundle, edited its
public files, redid the hashes in the manifest and bound it again on the ledger, and approve,
publish, the audit and ``verify`` passed with the exact counts in a new table column (``count``,
a second ``value``, an unnamed column, a second label column), in a label (``Boston (135)``), in a
summary table, in ``privacy.md``, ``privacy.json`` or ``datapackage.json``, or in a new file
(``README.txt``, ``notes/counts.csv``); labels swapped between rows moved the counts to other
places. So every reader also requires of the public folder (``content_problems``):

1. **the exact set of files**: the trusted policy's record-level files, the declared tables (under
   ``tables/``, ``release.audit.trusted_release``), the files the dataset's module derives
   (``datasets.derived_files``) and the build's own ``datapackage.json``, ``privacy.json`` and
   ``privacy.md``; a published copy's ``manifest.json``, ``approvals.jsonl`` and ``SHA256SUMS``
   beside them. Anything else is refused (rule public-files). A record file past the trusted policy's
   ``publish.csv_row_limit`` is exactly its numbered CSV parts (and its Parquet file when the policy
   writes one), each part but the last of exactly the limit's rows, read whole through the one reader
   (``record_parts``, issue #15; rule record-parts);
2. **record-level and derived headers**: exactly the allow-listed columns in the build's order,
   none repeated or unnamed (``audit_checks.header_problems``, the audit's own check; rule
   allow-list);
3. **tables**, read as text with ``csv`` (pandas renames a repeated column, so a second ``value``
   would go unseen): the header the build writes (the dimensions, then value, lower, upper,
   status), every row as many fields as the header, the label columns exactly the trusted
   codebooks' labels in the build's row order (rule table-labels), and every count written as
   the build writes an integer;
4. **summary tables** recounted from the public record-level files (``release.privacy.recount``, as the
   build counts them) and equal cell for cell (rule summary-recount);
5. **the statement**: ``privacy.json`` and ``privacy.md`` are what the build writes from the
   manifest and the trusted ``privacy.yaml`` (``release.privacy.statement``), byte for byte, and
   ``datapackage.json`` is what the build writes: its properties and every resource regenerated,
   a derived file's from its dataset's module (round 25, D-desc; rule statement-text);
6. **the manifest** held to the build's keys and text (``release.audit.trusted_manifest``, round 25);
7. **every file's bytes** as the build's writers give them for its content (``release.bundle.file_form``,
   round 28: quoting, spacing and line ends carried a value; a Parquet file written again from its
   CSV parts).

Messages name the file, column, row number and rule, never a published value.
"""

from __future__ import annotations

import csv
import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from release.bundle.integrity import shown
from release.bundle.jsonl import same_json
from release.bundle.manifest_recorded import Recorded

if TYPE_CHECKING:
    from release.audit.trusted_release import Trusted
    from release.config.tables import TableSpec

BUILD_FILES = ("datapackage.json", "privacy.json", "privacy.md")  # what the build writes beside the data
_INTEGER = re.compile(r"0|-?[1-9][0-9]*")  # fullmatch: "$" would take a trailing newline


def content_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """Every way the public folder's files depart from what the build writes under the trusted rules."""
    from release.audit.trusted_manifest import manifest_problems
    from release.bundle.file_form import form_problems

    rows = _record_rows(trusted, public)  # read once: every layout and resource follows from them
    return (_file_set_problems(trusted, public, rows) + _header_problems(trusted, manifest, public)
            + _table_problems(trusted, public) + _summary_problems(trusted, public)
            + _statement_problems(trusted, manifest, public, rows) + manifest_problems(trusted, manifest, public)
            + _parts_problems(trusted, public, rows) + form_problems(public) + _declared_order(trusted, manifest)
            + _outputs_order(manifest, _resource_files(_resources(trusted, manifest, public, rows))))


def _record_files(trusted: Trusted) -> dict[str, str]:
    """The trusted policy's published record-level files: policy file name -> path under public/."""
    return {name: fp.public_file.format(year=trusted.year) for name, fp in trusted.policy.files.items() if fp.publish}


def _file_set_problems(trusted: Trusted, public: Path, rows: Mapping[str, int]) -> list[str]:
    from release.audit.trusted_release import TABLES
    from release.bundle.layout import METADATA

    allowed = {*BUILD_FILES, *METADATA}
    allowed |= {path for files in _layouts(trusted, rows).values() for path in files.paths}  # parts, Parquet
    allowed |= {p.removeprefix("public/") for p in _derived_paths(trusted)}
    # round 35 (L1): under tables/ only the declared tables' files, never a folder named like one (its files
    # were allowed, and only a crash of the audit's reader refused them)
    allowed |= {f"{TABLES}/{spec.name}.csv" for spec in (trusted.tables.tables if trusted.tables else ())}
    present = sorted(p.relative_to(public).as_posix() for p in public.rglob("*") if not p.is_dir() or p.is_symlink())
    problems = [f"public file {shown(name)}: not a file the build writes for {trusted.dataset} under the trusted policy (only "
                "its record-level files, declared tables and statement go out), rule public-files"
                for name in present if name not in allowed]
    return problems + [f"public folder {shown(p.relative_to(public).as_posix())}: the build writes no folder there (rule "
                       "public-files)" for p in sorted(public.rglob("*"))
                       if p.is_dir() and not p.is_symlink() and p.relative_to(public).as_posix() != TABLES]


def _record_rows(trusted: Trusted, public: Path) -> dict[str, int]:
    """Each trusted record file's count of rows in every CSV file there for it (``record_parts.count_rows``),
    by path under public/: what its files and its data package resource follow from."""
    from release.bundle import record_parts

    return {relpath: record_parts.count_rows(public, relpath) for relpath in _record_files(trusted).values()}


def _layouts(trusted: Trusted, rows: Mapping[str, int]) -> dict[str, Any]:
    """Each published record file's files as the build writes them for the rows found (``record_parts``):
    the file itself within the trusted policy's ``publish.csv_row_limit``, past it exactly its numbered
    parts, and its Parquet file when the policy writes one. By path under public/."""
    from release.bundle import record_parts

    settings = trusted.policy.publish
    return {relpath: record_parts.layout(relpath, count, settings.csv_row_limit, settings.parquet)
            for relpath, count in rows.items()}


def _parts_problems(trusted: Trusted, public: Path, rows: Mapping[str, int]) -> list[str]:
    """Each record file as the build lays it out (rule record-parts): read whole through the one reader,
    which refuses parts missing, added, moved, merged, split at another row or with another header, or a
    file past the limit not in parts; no part or Parquet file the rows do not call for missing. The
    Parquet file's bytes are ``file_form``'s (written again from the parts)."""
    from release.bundle import record_parts
    from release.errors import InputError

    problems: list[str] = []
    limit = trusted.policy.publish.csv_row_limit
    for relpath, files in sorted(_layouts(trusted, rows).items()):
        if not record_parts.present(public, relpath):
            continue  # not published at all: the integrity and replay checks name it
        try:
            record_parts.read_text(public, relpath, limit)
        except InputError as exc:
            problems.append(f"public file {exc.file or relpath}: {exc.message} (rule {exc.rule})")
        problems += [f"public file {path}: the build writes it for this file's rows under the trusted policy and it "
                     f"is missing (rule {record_parts.RULE})" for path in files.paths if not (public / path).is_file()]
    return problems


def _record_header(public: Path, relpath: str) -> list[str] | None:
    """The header of a record or derived file read whole (its CSV parts joined, ``record_parts.read_text``);
    None when it cannot be read (the parts check names why)."""
    import io

    from release.bundle import record_parts
    from release.errors import InputError

    try:
        text = record_parts.read_text(public, relpath)
        return next(csv.reader(io.StringIO(text, newline="")), []) if text is not None else None
    except (InputError, csv.Error):
        return None


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]] | None:
    """A CSV's header and rows as text, every field kept (None when it is not readable UTF-8 CSV:
    the integrity checks report it)."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError, csv.Error):
        return None
    return (rows[0], rows[1:]) if rows else ([], [])


def _header_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    from release.audit.checks import expected_columns, header_problems

    problems: list[str] = []
    for relpath, columns in sorted(expected_columns(trusted.policy, trusted.year, manifest).items()):
        header = _record_header(public, relpath.removeprefix("public/"))
        if header is not None:
            problems += header_problems(f"public file {relpath.removeprefix('public/')}", header, columns,
                                        "allow-list")
    return problems


def table_labels(spec: TableSpec, year: int) -> list[list[str]]:
    """The label columns of each row of a table, as the build writes them (``tables.labels``)."""
    from release.build.tables import labels
    from release.stages.cells import safe_frame

    frame = safe_frame(labels(spec, year))[0]
    return [["" if pd.isna(v) else str(v) for v in row] for row in frame.itertuples(index=False)]


def _table_problems(trusted: Trusted, public: Path) -> list[str]:
    """Each declared table's header, labels and count format as the build writes them."""
    from release.audit.checks import header_problems
    from release.audit.trusted_release import TABLES
    from release.config.tables import VALUE_COLUMNS

    problems: list[str] = []
    for spec in trusted.tables.tables if trusted.tables else ():
        where = f"public file {TABLES}/{spec.name}.csv"
        read = _csv_rows(public / TABLES / f"{spec.name}.csv")
        if read is None:
            continue
        header, rows = read
        dimensions = [d.name for d in spec.dimensions]
        found = header_problems(where, header, [*dimensions, *VALUE_COLUMNS], "table-labels")
        problems += found
        if found:
            continue  # the cells below are read by the build's header
        ragged = sum(1 for row in rows if len(row) != len(header))
        if ragged:
            problems.append(f"{where}: {ragged} row(s) with another number of fields than its header (rule "
                            "table-labels)")
            continue
        want = table_labels(spec, trusted.year)
        if len(rows) != len(want):
            problems.append(f"{where}: {len(rows)} row(s), but the trusted codebooks give {len(want)} (rule "
                            "table-labels)")
            continue
        moved = sum(1 for row, labels in zip(rows, want, strict=True) if row[:len(dimensions)] != labels)
        if moved:
            problems.append(f"{where}: {moved} of {len(rows)} row(s) do not carry the trusted codebooks' labels in "
                            "the build's order (edited, swapped or reordered), rule table-labels")
        counts = len(dimensions)
        unwritten = sum(1 for row in rows for cell in row[counts:counts + 3] if cell and not _INTEGER.fullmatch(cell))
        if unwritten:
            problems.append(f"{where}: {unwritten} count(s) not written as the build writes an integer (rule "
                            "table-labels)")
    return problems


def _public_frames(trusted: Trusted, public: Path) -> dict[str, pd.DataFrame]:
    """The published record-level files by policy file name, as the build recounts them (missing or
    unreadable: left out, which the integrity and column checks report)."""
    from release.audit.trusted_release import published_file

    found = {name: published_file(trusted, public, name) for name in _record_files(trusted)}
    return {name: read[1] for name, read in found.items() if read is not None}


def _summary_problems(trusted: Trusted, public: Path) -> list[str]:
    from release.audit.trusted_release import TABLES
    from release.privacy import recount

    summaries = [s for s in (trusted.tables.tables if trusted.tables else ()) if s.mechanism == "summary"
                 and (public / TABLES / f"{s.name}.csv").is_file()]
    if not summaries or trusted.tables is None:  # summaries come from trusted.tables: it is set when there are any
        return []
    files, model = _public_frames(trusted, public), trusted.tables.frames
    problems: list[str] = []
    for spec in summaries:
        where = f"public file {TABLES}/{spec.name}.csv"
        values = recount.recount(spec, model.get(spec.source), files, trusted.year)
        read = _csv_rows(public / TABLES / f"{spec.name}.csv")
        if values is None or read is None:
            problems.append(f"{where}: a summary the public record-level files do not give (rule summary-recount)")
            continue
        header, rows = read
        want = [str(int(v)) for v in values]
        # strict=False: a ragged row keeps the cells it has (one it lacks is None, which differs from any count)
        cells = [[dict(zip(header, row, strict=False)).get(k) for k in ("value", "lower", "upper")] for row in rows]
        if len(rows) != len(want):
            problems.append(f"{where}: {len(rows)} row(s), but its recount from the public record-level files "
                            f"gives {len(want)} (rule summary-recount)")
            continue
        differ = sum(1 for got, v in zip(cells, want, strict=True) if got != [v, v, v])
        if differ:
            problems.append(f"{where}: {differ} cell(s) are not the recount of the public record-level files, "
                            "which a summary is (rule summary-recount)")
    return problems


def _statement_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path,
                        rows: Mapping[str, int]) -> list[str]:
    from release.bundle.read import manifest_privacy
    from release.privacy import statement as privacy_statement

    risk = Recorded.of(manifest).record_risk
    units = {u: s.model_dump(mode="json") for u, s in trusted.privacy.units.items()}
    try:
        written = privacy_statement.files(trusted.dataset, trusted.year, manifest_privacy(manifest), risk, units)
    except (KeyError, TypeError, ValueError, AttributeError):
        written = {}  # a manifest the generator cannot read: nothing can match it
    problems: list[str] = []
    for name in ("privacy.json", "privacy.md"):
        path = public / name
        if not path.is_file():
            continue
        try:
            same = path.read_text(encoding="utf-8") == written.get(name)
        except (OSError, UnicodeDecodeError):
            same = False
        if not same:
            problems.append(f"public file {name}: not the statement the build writes from the manifest and the "
                            "trusted privacy.yaml (text or keys added or changed), rule statement-text")
    return problems + _package_problems(trusted, manifest, public, rows)


def _package_name(trusted: Trusted, manifest: Mapping[str, Any]) -> tuple[str, str]:
    """The package's name and title as ``assemble`` gives them (a split year's part named)."""
    from release.datasets import generations

    generation = generations.of_manifest(trusted.dataset, manifest)
    name, title = f"{trusted.dataset}-{trusted.year}", f"{trusted.policy.dataset.upper()} {trusted.year} public release"
    if generation is None or not generations.split_year(trusted.dataset, trusted.year):
        return name, title
    return (f"{name}-{generation.name}",
            f"{title}, {generation.title} part (not to be joined with the year's other part)")


def _resources(trusted: Trusted, manifest: Mapping[str, Any], public: Path,
               rows: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """The data package resources the build writes for the record-level files, tables and derived files
    present, by path: they follow from the trusted policy and each file's header alone (a derived
    file's from its dataset's module, ``datasets.derived_public_file``: round 25, D-desc)."""
    from release import datasets
    from release.audit.checks import expected_columns
    from release.audit.trusted_release import TABLES
    from release.build.assemble import record_file, table_file
    from release.bundle import record_parts
    from release.config.tables import VALUE_COLUMNS
    from release.stages.publish import Bundle, datapackage_descriptor

    columns = expected_columns(trusted.policy, trusted.year)
    # a record file's resource follows from the policy and its count of rows (one path or its parts, and Parquet)
    files = [dataclasses.replace(record_file(trusted.policy, name, trusted.year,
                                             pd.DataFrame(columns=columns[f"public/{relpath}"])),
                                 layout_rows=rows[relpath])
             for name, relpath in _record_files(trusted).items() if record_parts.present(public, relpath)]
    for spec in trusted.tables.tables if trusted.tables else ():
        if (public / TABLES / f"{spec.name}.csv").is_file():
            header = [*(d.name for d in spec.dimensions), *VALUE_COLUMNS]
            files.append(table_file(spec.name, pd.DataFrame(columns=header)))
    derived_columns = datasets.derived_columns(trusted.dataset, trusted.policy, trusted.year)
    for relpath in sorted(_derived_paths(trusted)):
        derived = datasets.derived_public_file(trusted.dataset, trusted.policy, trusted.year,
                                               pd.DataFrame(columns=derived_columns)) \
            if (public / relpath.removeprefix("public/")).is_file() else None
        files += [derived] if derived is not None and derived.relpath == relpath else []
    package = datapackage_descriptor(Bundle(tuple(files), (), {}, manifest, "", ""))
    built = cast("list[dict[str, Any]]", package["resources"])  # as ``datapackage_descriptor`` builds them
    return {key: r for r in built if (key := resource_key(r)) is not None}  # each has its path: none is left out


def resource_key(resource: object) -> str | None:
    """A resource's files as one key: its path, or a multipart resource's paths in order (None: neither)."""
    from release.bundle.layout import resource_paths

    if not isinstance(resource, dict):
        return None
    path = resource.get("path")
    if not (isinstance(path, str) or (isinstance(path, list) and path and all(isinstance(p, str) for p in path))):
        return None
    return "\n".join(resource_paths(resource))


def _resource_files(resources: Mapping[str, Any]) -> list[str]:
    """Every file of the resources, in their order (a multipart resource's parts in row order)."""
    from release.bundle.layout import resource_paths

    return [path for resource in resources.values() for path in resource_paths(resource)]


def _package_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path,
                      rows: Mapping[str, int]) -> list[str]:
    """``datapackage.json`` as the build writes it: its properties from the trusted policy and the
    manifest, each resource
    of a record-level file, table or derived file regenerated, keys and values. Keys are counted, not
    named (a key can hold anything)."""
    import json

    from release.bundle import portal

    path, where = public / BUILD_FILES[0], f"public file {BUILD_FILES[0]}"
    if not path.is_file():
        return []
    try:
        package = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        package = None
    if not isinstance(package, dict) or not isinstance(package.get("resources"), list):
        return [f"{where}: not the data package the build writes (rule statement-text)"]
    try:
        properties = portal.package_properties(trusted.policy, manifest)
    except (KeyError, TypeError, ValueError, AttributeError):  # a manifest the portal text cannot be made from
        return [f"{where}: not the data package the build writes from the manifest (rule statement-text)"]
    name, title = _package_name(trusted, manifest)
    expected = {"name": name, "title": title, "profile": "tabular-data-package", **properties}
    problems = [f"{where}: {len(set(package) - set(expected) - {'resources'})} key(s) the build does not write "
                "(rule statement-text)"] if set(package) - set(expected) - {"resources"} else []
    # round 35 (F2): compared as JSON text (type-strict): with ``==`` a minimum of 1 passed as 1.0 or true
    problems += [f"{where}, key {k}: not what the build writes from the manifest and the trusted policy (rule "
                 "statement-text)" for k, v in expected.items() if not same_json(package.get(k), v)]
    regenerated = _resources(trusted, manifest, public, rows)
    given = [resource_key(r) for r in package["resources"] if isinstance(r, dict)]
    if not in_order([str(p) for p in given], list(regenerated)):  # round 29: the order said something; round 35: of a subset too
        problems.append(f"{where}: its resources are not in the order the build writes them (rule statement-text)")
    for number, resource in enumerate(package["resources"], start=1):
        path_of = resource_key(resource)
        if isinstance(path_of, str) and path_of in regenerated and same_json(resource, regenerated.pop(path_of)):
            continue
        problems.append(f"{where}, resources[{number}]: not the resource the build writes for a public file of this "
                        "release (rule statement-text)")
    problems += [f"{where}: no resource for public file {p.splitlines()[0]} (rule statement-text)"
                 for p in sorted(regenerated)]
    return problems


def in_order(given: list[str], order: list[str]) -> bool:
    """Whether ``given`` lists its items in the order ``order`` does (only items of ``order``, each once)."""
    place = {item: number for number, item in enumerate(order)}
    return all(item in place for item in given) and len(set(given)) == len(given) and \
        [place[item] for item in given] == sorted(place[item] for item in given)


def _outputs_order(manifest: Mapping[str, Any], resources: list[str]) -> list[str]:
    """The manifest's ``outputs`` in the order ``publish.write_bundle`` lists them: the public CSVs as the
    data package's resources, ``datapackage.json``, then the other public files (the files that stay with
    the bundle are listed in its private part: round 31, C1); and its rules and suites files by path. A
    list the build orders one way carries nothing in its order (round 29)."""
    recorded = Recorded.of(manifest)
    given = [str(o.get("path")) for o in recorded.listed("outputs") if isinstance(o, dict)]
    csvs = [f"public/{path}" for path in resources if f"public/{path}" in given]
    package = [p for p in ("public/datapackage.json",) if p in given]
    public = sorted(p for p in given if p.startswith("public/") and p not in csvs and p not in package)
    expected = csvs + package + public
    # round 32 (M1): a path listed twice made the lists differ and turned the order check off
    problems = ["manifest.json outputs: lists a file more than once (rule manifest-text)"] \
        if len(set(given)) != len(given) else []
    problems += ["manifest.json outputs: not in the order the build lists them (rule manifest-text)"] \
        if sorted(expected) == sorted(given) and expected != given else []
    for section, files in (("rules", recorded.rule_files), ("expectations", recorded.expectation_files)):
        paths = [str(f.get("path")) for f in files]
        if paths != sorted(paths):
            problems.append(f"manifest.json {section}.files: not in the order the build lists them (rule manifest-text)")
    return problems


def _declared_order(trusted: Trusted, manifest: Mapping[str, Any]) -> list[str]:
    """The manifest's ``privacy.tables`` in the trusted tables policy's order (round 30: reordered, with the
    statement regenerated in that order, the choice among 5! orders passed)."""
    recorded = Recorded.of(manifest)
    privacy, names = recorded.privacy, [str(t.get("table")) for t in recorded.table_claims]
    specs = trusted.tables.tables if trusted.tables else ()
    # the build states its summary and noisy tables in the policy's order, then its exact tables (``release.build.tables``)
    order = [s.name for s in specs if s.mechanism == "summary" or s.is_noisy] + \
            [s.name for s in specs if not (s.mechanism == "summary" or s.is_noisy)]
    # round 35 (F1): the order was held only when every declared table was listed, so a table left out freed it
    problems = ["manifest.json privacy.tables: not in the order the build states them (the trusted tables policy's "
                "order, exact tables last), rule manifest-text"] if not in_order(names, order) else []
    problems += ["manifest.json privacy.tables: lists a table more than once (rule manifest-text)"] \
        if len(set(names)) != len(names) else []
    # a summary is always published (nothing withholds it), so leaving one out was a bit of the analyst's choice.
    # A release that states no table at all is not held here (one bit: a bundle written without its tables)
    problems += [f"manifest.json privacy.tables: leaves out the summary table {s.name}, which the trusted tables policy "
                 "declares and every release publishes (rule tables)" for s in specs
                 if names and s.mechanism == "summary" and s.name not in names]
    # round 31 (minor): the measurements and spends are drawn table by table in the policy's order, each
    # table's data years in turn; in any other order their arrangement carried log2(n!) bits
    place = {name: number for number, name in enumerate(order)}
    for key in ("measurements", "spends"):
        items = privacy.get(key) if privacy is not None else None
        keys = [(place.get(str(i.get("table")), len(order)), i.get("data_year") if type(i.get("data_year")) is int else 0)
                for i in items if isinstance(i, dict)] if isinstance(items, list) else []
        if keys != sorted(keys):
            problems.append(f"manifest.json privacy.{key}: not in the order the build draws them (the trusted tables "
                            "policy's order, then data year), rule manifest-text")
    return problems


def _derived_paths(trusted: Trusted) -> frozenset[str]:
    from release import datasets

    return datasets.derived_files(trusted.dataset, trusted.year)
