"""Large record-level files: consecutive CSV parts of at most the policy's row limit, and the whole
file once more as Parquet beside them (issue #15, section 4). The only module that imports pyarrow.

Why parts: a spreadsheet opens at most 1,048,576 rows and cuts the rest without a word, so a record
file of more than ``publish.csv_row_limit`` rows (``config.PublishPolicy``) is written as
``<stem>.part-001.csv``, ``<stem>.part-002.csv``, ... each with the header and exactly ``limit`` rows
but the last, in row order. No part carries the whole file's name: a reader that does not know about
parts finds no ``<stem>.csv`` and fails, instead of reading the first million rows as the whole year.
The number has at least three digits (as many as the count of parts needs), so the names sort in row
order. A file within the limit is one CSV under its own name, as before, and nothing else.

Why Parquet only beside a split file (``publish.parquet``, on by default): only then is there no one
CSV to download; a file within the limit is already whole and opens everywhere, and every release
within the limit (every release so far) keeps exactly the files, bytes and data package it had.

The Parquet file is a function of the published CSV text alone (``parquet_bytes``): every column a
non-null UTF-8 string holding the CSV's cell exactly (an empty cell is ``""``, as the data package's
``missingValues`` says), in the CSV's column and row order; no pandas index, no Arrow schema or other
key-value metadata, no statistics (every value is in the data pages and nowhere else), zstd at a fixed
level, fixed row groups, format 2.6 with version 1 data pages. ``created_by`` names the pinned pyarrow
(``requirements.lock``), which the manifest records among its components: the same CSV gives the same
bytes on every run and machine with that version. So a Parquet file is held by writing it again from
the CSV parts and comparing bytes (``file_form``): extra columns, rows, metadata or padding differ.

Every reader of a record file reads it whole through ``read_text`` (``gate.read_public_record``):
the file, or its parts joined in number order, refused (an ``InputError`` naming the file and rule
record-parts) when they are not the parts the build writes: a part missing, added, moved, merged or
split at another row, a header that differs, or both the file and parts of it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from release.errors import InputError

RULE = "record-parts"
_PART = re.compile(r"(.+)\.part-[0-9]+\.csv")
PARQUET_MEDIATYPE = "application/vnd.apache.parquet"
# pyarrow's writer, every choice fixed here rather than left to a default a later version may change
_WRITER: dict[str, object] = {
    "version": "2.6", "data_page_version": "1.0", "compression": "zstd", "compression_level": 3,
    "use_dictionary": True, "write_statistics": False, "store_schema": False, "write_page_index": False,
    "write_page_checksum": False, "use_content_defined_chunking": False, "row_group_size": 1 << 20,
}


@dataclass(frozen=True)
class Layout:
    """The files a record file is written as: its CSV files in row order (one: the file itself), and
    its Parquet file (None: not written)."""

    csv: tuple[str, ...]
    parquet: str | None = None

    @property
    def split(self) -> bool:
        return len(self.csv) > 1

    @property
    def paths(self) -> tuple[str, ...]:
        return self.csv + ((self.parquet,) if self.parquet else ())


def layout(relpath: str, rows: int, limit: int | None, parquet: bool = False) -> Layout:
    """The files the build writes for a CSV file of ``rows`` records at ``relpath`` under a row limit
    (None: never split, e.g. a table)."""
    if limit is None or rows <= limit:
        return Layout((relpath,))
    count = -(-rows // limit)
    width = max(3, len(str(count)))
    stem = relpath.removesuffix(".csv")
    return Layout(tuple(f"{stem}.part-{n:0{width}d}.csv" for n in range(1, count + 1)),
                  f"{stem}.parquet" if parquet else None)


def _written(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)  # what pandas' to_csv writes for these fields
    return out.getvalue()


def _reader(text: str) -> Iterator[list[str]]:
    return csv.reader(io.StringIO(text, newline=""))


def split_text(text: str, limit: int) -> list[str]:
    """The texts of the parts of a CSV text the build wrote: each the header and the next ``limit``
    records. Joined again (``_joined``) they are the text itself, byte for byte, or this refuses.
    Streamed: a file of millions of rows is never held as lists of cells."""
    reader = _reader(text)
    header = next(reader, [])
    header_text = _written([header])
    parts: list[str] = []
    out, count = io.StringIO(), 0
    writer = csv.writer(out, lineterminator="\n")  # replaced at the first row, which starts the first part
    for row in reader:
        if count % limit == 0:
            if count:
                parts.append(out.getvalue())
            out = io.StringIO(header_text)
            out.seek(0, io.SEEK_END)
            writer = csv.writer(out, lineterminator="\n")
        writer.writerow(row)
        count += 1
    if count <= limit:
        return [text]
    parts.append(out.getvalue())
    if _joined(parts, header_text) != text:  # a build that wrote other than csv's form: a bug, stop
        raise ValueError("the CSV text is not in the form its parts are written in")
    return parts


def _joined(parts: list[str], header_text: str) -> str:
    return parts[0] + "".join(part[len(header_text):] for part in parts[1:])


def part_names(folder: Path, name: str) -> list[str]:
    """The files in ``folder`` named like parts of the record file ``name``, by part number."""
    stem = name.removesuffix(".csv")
    pattern = re.compile(re.escape(Path(stem).name) + r"\.part-([0-9]+)\.csv")
    base = (folder / name).parent
    found = [(int(m.group(1)), p.name) for p in base.iterdir() if (m := pattern.fullmatch(p.name))] \
        if base.is_dir() else []
    prefix = name[:len(name) - len(Path(name).name)]
    return [prefix + n for _, n in sorted(found)]


def whole_name(name: str) -> str:
    """The record file a part's name is of (``x.part-002.csv`` -> ``x.csv``); any other name itself."""
    match = _PART.fullmatch(name)
    return f"{match.group(1)}.csv" if match else name


def present(folder: Path, name: str) -> bool:
    """Whether the record file ``name`` is under ``folder`` in any form: itself or a part of it."""
    return (folder / name).is_file() or bool(part_names(folder, name))


def _read(folder: Path, name: str) -> str:
    try:
        return (folder / name).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"published file is not readable UTF-8 CSV ({type(exc).__name__})", file=name,
                         rule="public-file") from None


def _shape(name: str, text: str) -> tuple[list[str], int]:
    """A CSV text's header and count of records (streamed), or an InputError naming the file."""
    try:
        reader = _reader(text)
        header = next(reader, None)
        count = sum(1 for _ in reader)
    except csv.Error:
        raise InputError("published file is not readable UTF-8 CSV (csv.Error)", file=name, rule="public-file") \
            from None
    if header is None:
        raise InputError("published file is empty: the build writes a header in every part", file=name, rule=RULE)
    return header, count


def read_text(folder: Path, name: str, limit: int | None = None) -> str | None:
    """The whole CSV text of the record file ``name`` under ``folder`` (a bundle's or a copy's public
    folder): the file itself, or its parts joined in order; None when it is there in neither form.
    ``limit``: the trusted policy's row limit, which the parts must follow; None where no policy is at
    hand (the parts must then follow the first part's count). Refused with an ``InputError`` naming
    the file and rule record-parts when the parts are not the ones the build writes."""
    parts = part_names(folder, name)
    if not parts:
        if not (folder / name).is_file():
            return None
        text = _read(folder, name)
        # records are at most lines: only a file with more lines than the limit is parsed to count them
        if limit is not None and text.count("\n") > limit and _shape(name, text)[1] > limit:
            raise InputError(f"more rows than the policy's csv_row_limit of {limit}: the build writes such a file "
                             "as parts", file=name, rule=RULE)
        return text
    if (folder / name).exists():
        raise InputError("both the file and parts of it are published: the build writes one or the other",
                         file=name, rule=RULE)
    texts = [_read(folder, part) for part in parts]
    shapes = [_shape(part, text) for part, text in zip(parts, texts, strict=True)]
    counts = [count for _, count in shapes]
    limit = counts[0] if limit is None else limit
    if parts != list(layout(name, sum(counts), limit).csv):
        raise InputError(f"its {len(parts)} part(s) are not the parts the build writes for its {sum(counts)} "
                         f"row(s) at a limit of {limit} (a part missing, added, moved or merged)", file=name, rule=RULE)
    for number, (part, count) in enumerate(zip(parts, counts, strict=True), start=1):
        if number < len(parts) and count != limit:
            raise InputError(f"holds {count} row(s): every part but the last holds exactly the limit of {limit}, "
                             "in row order", file=part, rule=RULE)
        if shapes[number - 1][0] != shapes[0][0]:
            raise InputError("its header is not the first part's", file=part, rule=RULE)
    header_text = _written([shapes[0][0]])
    if any(not text.startswith(header_text) for text in texts):
        raise InputError("its header is not written as the build writes it", file=name, rule=RULE)
    return _joined(texts, header_text)


def count_rows(folder: Path, name: str) -> int:
    """The records of every CSV file there for the record file ``name`` (itself and anything named like
    a part), read leniently: what the file set it should be written as follows from (an unreadable file
    counts nothing; the checks that read it name it)."""
    total = 0
    for each in ([name] if (folder / name).is_file() else []) + part_names(folder, name):
        try:
            total += _shape(each, _read(folder, each))[1]
        except InputError:
            continue
    return total


def parquet_bytes(text: str) -> bytes:
    """The Parquet file of a CSV text, as the build writes it (see the module's docstring): a
    deterministic function of the text. A ragged row is refused (the build writes none)."""
    reader = _reader(text)
    try:
        header = next(reader, [])
        columns: list[list[str]] = [[] for _ in header]
        for row in reader:  # column by column as it is read: the rows are never held whole a second time
            if len(row) != len(header):
                raise ValueError("a row with another number of fields than the header")
            for column, cell in zip(columns, row, strict=True):
                column.append(cell)
    except csv.Error:
        raise ValueError("not readable CSV") from None
    import pyarrow as pa  # here, not at the top: every command imports this module, few write Parquet (0.5 s)
    import pyarrow.parquet as pq

    schema = pa.schema([pa.field(name, pa.string(), nullable=False) for name in header])
    try:
        table = pa.Table.from_arrays([pa.array(column, pa.string()) for column in columns], schema=schema)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink, **_WRITER)
        return bytes(sink.getvalue().to_pybytes())
    except (pa.ArrowException, ValueError) as exc:  # pyarrow's exceptions stop here
        raise ValueError(f"pyarrow could not write the file ({type(exc).__name__})") from None


def parquet_problems(folder: Path, name: str) -> list[str]:
    """Why the Parquet file ``name`` under ``folder`` is not what the build writes from the CSV file
    or parts beside it (empty: it is, byte for byte)."""
    csv_name = name.removesuffix(".parquet") + ".csv"
    try:
        text = read_text(folder, csv_name)
    except InputError:
        return [": the CSV parts it is written from cannot be read as the build writes them"]
    if text is None:
        return [": no CSV file or parts beside it that it is the Parquet form of"]
    try:
        wanted = parquet_bytes(text)
        given = (folder / name).read_bytes()
    except (ValueError, OSError):
        return [": not the Parquet file the build writes from its CSV parts"]
    if given == wanted:
        return []
    if _writer_of(given) != _writer_of(wanted):  # round 38, F3: a pyarrow upgrade would look like an edit
        from importlib import metadata

        return [": written by another Parquet writer than this machine's pyarrow "
                f"{metadata.version('pyarrow')}, so it cannot be regenerated here to compare: check it where the "
                "pyarrow pinned when it was built (the manifest's components) is installed"]
    return [": not the Parquet file the build writes from its CSV parts (its columns, rows, metadata or layout "
            "differ)"]


def _writer_of(data: bytes) -> str | None:
    """The ``created_by`` a Parquet file's footer names (None: unreadable). Compared, never shown: an
    edited file's footer is the analyst's text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return str(pq.ParquetFile(pa.BufferReader(data)).metadata.created_by)
    except (pa.ArrowException, OSError, ValueError):  # a damaged file: the comparison above already failed it
        return None
