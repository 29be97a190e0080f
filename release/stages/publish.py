"""Write a bundle atomically: everything goes to a temporary folder beside the target,
then one rename puts it in place. A crash leaves the previous state intact, and a
blocked run leaves no ``public/`` folder at all. Staging folders are made with the umask's
permissions (``tempfile.mkdtemp`` makes 0700, which the rename kept: bundles and
published copies were unreadable to a web server or a harvester account).
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from release.bundle import manifest_parts, record_parts
from release.bundle.layout import (
    LOG,
    MANIFEST,
    json_text,
    resource_name,
    sha256_file,
    staging_dir,
    swap_into_place,
)
from release.stages.cells import safe_frame


@dataclass(frozen=True)
class PublicFile:
    """One public file: its frame, what its data package resource says of it (fields, keys, missing values)
    and how it is split into files."""

    relpath: str              # e.g. "public/fioe_2020_contacts.csv"
    frame: pd.DataFrame
    description: str = ""
    field_descriptions: Mapping[str, str] = field(default_factory=dict)
    # frictionless type names, or whole Table Schema field descriptors (release.bundle.portal)
    field_types: Mapping[str, str | Mapping[str, object]] = field(default_factory=dict)
    name: str = ""  # the table name its public expectation suite knows it by
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[Mapping[str, object], ...] = ()
    missing_values: tuple[str, ...] = ("",)
    cells_safe: bool = False  # the frame is already as ``cells.safe_frame`` writes it (assemble made it so)
    # a record-level file's ``publish`` policy (``release.bundle.record_parts``): past ``csv_row_limit`` rows it is
    # written as CSV parts, and with ``parquet`` as one Parquet file beside them; None: never split (tables)
    csv_row_limit: int | None = None
    parquet: bool = False
    layout_rows: int | None = None  # the rows its files follow from, when not the frame's (``public_content``)


@dataclass(frozen=True)
class Bundle:
    """Everything a bundle holds, in memory: ``publish`` writes it whole to a staging folder, then renames it
    into place."""

    public_files: tuple[PublicFile, ...]
    log_lines: tuple[str, ...]
    review_files: Mapping[str, str]        # relpath under review/ -> text
    manifest: Mapping[str, object]         # without outputs; publish adds them
    package_name: str
    package_title: str
    publishable: bool = True               # False: a blocked bundle, written without public/
    public_texts: Mapping[str, str] = field(default_factory=dict)  # relpath under public/ -> text (privacy.json)
    # license, sources, privacy statement, change note (release.bundle.portal.package_properties)
    package_properties: Mapping[str, object] = field(default_factory=dict)


def _field(public: PublicFile, column: str) -> dict[str, object]:
    declared = public.field_types.get(column, "string")
    descriptor: dict[str, object] = {"name": str(column), "type": declared} if isinstance(declared, str) else dict(declared)
    descriptor["name"] = str(column)
    description = public.field_descriptions.get(column, "")
    if description and "description" not in descriptor:
        descriptor["description"] = description
    return descriptor


def file_layout(public: PublicFile) -> record_parts.Layout:
    """The files ``public`` is written as: one CSV, or CSV parts and maybe a Parquet file beside them."""
    rows = len(public.frame) if public.layout_rows is None else public.layout_rows
    return record_parts.layout(public.relpath, rows, public.csv_row_limit, public.parquet)


def _inside(relpath: str) -> str:
    return Path(relpath).relative_to("public").as_posix()


def datapackage_descriptor(bundle: Bundle) -> dict[str, object]:
    """The Frictionless Data Package of the public files: typed fields, missing values, keys,
    license, sources, privacy statement and change note. A record file written as CSV parts is one
    multipart resource (its ``path`` the list of its parts, in row order: the Data Package spec's form
    for one table in several files), and its Parquet file a resource of its own right after it, with the
    same schema: a portal lists each as a download, and a validator reads each against the schema."""
    resources = []
    for public in bundle.public_files:
        schema: dict[str, object] = {"fields": [_field(public, c) for c in public.frame.columns],
                                     "missingValues": list(public.missing_values)}
        if public.primary_key:
            schema["primaryKey"] = list(public.primary_key)
        if public.foreign_keys:
            schema["foreignKeys"] = [dict(k) for k in public.foreign_keys]
        files = file_layout(public)
        parts = [_inside(p) for p in files.csv]
        resource: dict[str, object] = {
            "name": resource_name(public.relpath), "path": parts if files.split else parts[0],
            "profile": "tabular-data-resource", "format": "csv", "mediatype": "text/csv", "encoding": "utf-8"}
        description = public.description
        if files.split:
            description = (f"{description} " if description else "") + (
                f"Written as {len(parts)} CSV parts of at most {public.csv_row_limit:,} rows each, every part with "
                "the header, in row order" + (", and whole as Parquet" if files.parquet else "") + ".")
        if description:
            resource["description"] = description
        resource["schema"] = schema
        resources.append(resource)
        if files.parquet:
            resources.append({
                "name": f"{resource_name(public.relpath)}_parquet", "path": _inside(files.parquet),
                "profile": "tabular-data-resource", "format": "parquet", "mediatype": record_parts.PARQUET_MEDIATYPE,
                "description": f"Every row of {resource_name(public.relpath)} in one Parquet file, each column as "
                               "text exactly as the CSV parts have it (typed by this schema).",
                "schema": schema})
    package: dict[str, object] = {"name": bundle.package_name, "title": bundle.package_title,
                                  "profile": "tabular-data-package"}
    package.update(bundle.package_properties)
    package["resources"] = resources
    return package


def _datapackage(bundle: Bundle) -> str:
    return json_text(datapackage_descriptor(bundle), sort=True)


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def csv_text(public: PublicFile) -> str:
    """A public file's CSV text exactly as the bundle writes it (``assemble`` measures the record files'
    risk on it, as every check reads it back)."""
    frame = public.frame if public.cells_safe else safe_frame(public.frame)[0]
    return str(frame.to_csv(index=False, lineterminator="\n"))


def write_bundle(bundle: Bundle, target: Path) -> dict[str, object]:
    """Write the bundle to ``target`` atomically and return the final manifest."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(target.parent, f".{target.name}.staging-")
    try:
        outputs = []
        for public in bundle.public_files:
            text, files = csv_text(public), file_layout(public)
            limit = public.csv_row_limit if files.split else None
            texts = record_parts.split_text(text, limit) if limit else [text]
            counts = [min(limit, len(public.frame) - n * limit) for n in range(len(texts))] if limit \
                else [len(public.frame)]
            for relpath, part, rows in zip(files.csv, texts, counts, strict=True):
                path = staging / relpath
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(part.encode("utf-8"))
                outputs.append({"path": relpath, "rows": int(rows)})
            if files.parquet:  # the whole file, from the very text its parts hold (``file_form`` writes it again)
                (staging / files.parquet).write_bytes(record_parts.parquet_bytes(text))
                outputs.append({"path": files.parquet})
        if bundle.publishable:
            _write_text(staging / "public" / "datapackage.json", _datapackage(bundle))
            outputs.append({"path": "public/datapackage.json"})
            for relpath, text in sorted(bundle.public_texts.items()):
                _write_text(staging / "public" / relpath, text)
                outputs.append({"path": f"public/{relpath}"})
        # the files that stay with the bundle are listed in its private part, never in manifest.json:
        # their hashes and sizes would reach the portal, and their bytes are the analyst's (round 31, C1)
        kept: list[dict[str, object]] = []
        _write_text(staging / LOG, "\n".join(bundle.log_lines) + "\n")
        kept.append({"path": LOG})  # its entry count is private (manifest_parts)
        for relpath, text in sorted(bundle.review_files.items()):
            _write_text(staging / "review" / relpath, text)
            kept.append({"path": f"review/{relpath}"})
        for item in (*outputs, *kept):
            path = staging / str(item["path"])
            item["sha256"] = sha256_file(path)
            item["bytes"] = path.stat().st_size
        manifest = dict(bundle.manifest)
        manifest["outputs"], manifest[manifest_parts.BUNDLE_FILES] = outputs, kept
        published, private = manifest_parts.split(manifest)
        # the private part itself is bound by each approval's seal (``gate.approve``), not by manifest.json
        _write_text(staging / manifest_parts.PRIVATE_FILE, manifest_parts.private_text(private))
        # manifest.json (signed, and copied to the portal) carries no exact count about the raw data
        # keys sorted: their order carries nothing (round 29: a reordered object rewrote to its own bytes)
        _write_text(staging / MANIFEST, json_text(published, ascii_only=True, sort=True))
        swap_into_place(staging, target)
        return manifest
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


