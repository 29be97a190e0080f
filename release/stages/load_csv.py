"""Read the bytes of one raw CSV file: one encoding, strict CSV, the policy's limits, line numbers.

Why a module of its own: everything that can go wrong with a raw file before any value is
trusted (a second encoding, an unclosed quote, a short row, a hostile size) is decided here,
and every refusal is an ``InputError`` naming the file and the physical line, never a value.
The parser is the standard library's (C, one pass, a field buffer that doubles: linear in
the input, quotes included), fed line by line so that a line past ``max_line_chars`` is
refused before it is parsed. A header name is raw input too: ``column_label`` shows it only
when it is a plain identifier, else its position.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from release.config.policy import CELL_CEILING, InputLimits
from release.errors import InputError
from release.stages.cells import strip_invisible

# The parser's own field limit (the standard 131,072 would refuse a policy that allows more);
# a policy's max_cell_chars can be at most this, so its check always comes first.
csv.field_size_limit(CELL_CEILING)

# A valid multi-byte UTF-8 sequence: a file holding one is a UTF-8 file.
_UTF8_SEQUENCE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
# A header name shown as it is: lower-case letters, digits and underscores, starting with a
# letter, at most 40 characters, and no run of three digits (a date, a phone, an ID).
_PLAIN_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")
_DIGIT_RUN = re.compile(r"\d{3}")
def header_name(raw: str) -> str:
    """A header as compared with the policy: invisible characters removed, trimmed, lower case."""
    return strip_invisible(raw).strip().lower()


def column_label(raw: str, position: int) -> str:
    """How a column of the file is named in a message: its name when that is a plain
    identifier (``mothers_maiden_name``), else ``#<position>`` (1-based), since a header
    may hold anything typed or mis-parsed into it (a name and a date of birth)."""
    name = header_name(raw)
    if _PLAIN_NAME.fullmatch(name) and not _DIGIT_RUN.search(name):
        return name
    return f"#{position + 1}"


@dataclass(frozen=True)
class RawCsv:
    """One raw file's header and rows as read, each row with the physical line it starts on (for messages),
    and the bytes that were decoded."""

    header: tuple[str, ...]        # as in the file
    header_line: int
    rows: tuple[list[str], ...]    # each as long as the header
    lines: tuple[int, ...]         # the physical line each row starts on
    encoding: str
    raw: bytes


def decode(raw: bytes, file: str) -> tuple[str, str]:
    """The text and its encoding: UTF-8 (with or without BOM), else cp1252 for a file with no
    UTF-8 in it. A file that is UTF-8 in places and not in others (one cp1252 byte in a UTF-8
    export) is refused at the first bad byte: decoding it all as cp1252 would silently turn
    every other accented letter of the file into two wrong ones."""
    try:
        return raw.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
    if raw.startswith(b"\xef\xbb\xbf") or _UTF8_SEQUENCE.search(raw):
        raise InputError("the file is UTF-8 but this line is not: one file, one encoding",
                         file=file, line=line, rule="encoding")
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as exc:
        raise InputError("cannot be decoded as UTF-8 or cp1252", file=file,
                         line=raw.count(b"\n", 0, exc.start) + 1, rule="encoding") from None


def _lines(text: str, file: str, limits: InputLimits) -> Iterator[str]:
    """The text's lines (LF or CRLF, ending kept) as slices, numbered from 1; a line past the
    limit is refused before the parser sees it. Slicing the text keeps memory to one line
    (``io.StringIO`` would copy the whole text at four bytes a character)."""
    start, number, size = 0, 0, len(text)
    while start < size:
        end = text.find("\n", start)
        end = size if end < 0 else end + 1
        number += 1
        if end - start > limits.max_line_chars and len(text[start:end].rstrip("\r\n")) > limits.max_line_chars:
            raise InputError(f"the line is longer than {limits.max_line_chars:,} characters (limits.max_line_chars)",
                             file=file, line=number, rule="limits")
        yield text[start:end]
        start = end


def _check_row(row: list[str], header: list[str], file: str, line: int, limits: InputLimits) -> None:
    if len(row) != len(header):
        raise InputError(f"malformed CSV: {len(row)} fields where the header has {len(header)}",
                         file=file, line=line, rule="csv")
    shortest_limit = min(limits.max_word_chars, limits.max_cell_chars)
    if max(map(len, row)) <= shortest_limit:
        return
    for position, cell in enumerate(row):
        if len(cell) <= shortest_limit:
            continue
        if len(cell) > limits.max_cell_chars:
            raise InputError(f"a cell is longer than {limits.max_cell_chars:,} characters (limits.max_cell_chars)",
                             file=file, line=line, column=column_label(header[position], position), rule="limits")
        if max(map(len, cell.split())) > limits.max_word_chars:
            raise InputError(f"a cell holds a word (a run without spaces) longer than {limits.max_word_chars:,} "
                             "characters (limits.max_word_chars)",
                             file=file, line=line, column=column_label(header[position], position), rule="limits")


def _problem(message: str, limits: InputLimits) -> tuple[str, str]:
    """The parser's complaint as a message of ours (it never quotes the input, but say it plainly)."""
    if "unexpected end of data" in message:
        return "the file ends inside a quoted field (truncated?)", "csv"
    if "field larger than field limit" in message:
        return f"a cell is longer than {limits.max_cell_chars:,} characters (limits.max_cell_chars)", "limits"
    if "expected after" in message:
        return "malformed CSV: a closing quote is followed by something other than a comma or a line end", "csv"
    return "malformed CSV", "csv"


def parse(text: str, file: str, limits: InputLimits) -> tuple[list[str], int, list[list[str]], list[int]]:
    """(header, its line, rows, the line each row starts on). Blank lines are skipped."""
    if not text.strip():
        raise InputError("the file is empty", file=file, rule="non-empty")
    reader = csv.reader(_lines(text, file, limits), strict=True)
    header: list[str] | None = None
    header_line = 1
    rows: list[list[str]] = []
    lines: list[int] = []
    start = 1
    try:
        for row in reader:
            if row and not (len(row) == 1 and not row[0].strip()):  # not a blank line
                if header is None:
                    if len(row) > limits.max_columns:
                        raise InputError(f"the header has {len(row):,} columns; at most {limits.max_columns:,} "
                                         "are allowed (limits.max_columns)", file=file, line=start, rule="limits")
                    header, header_line = row, start
                else:
                    _check_row(row, header, file, start, limits)
                    rows.append(row)
                    lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        message, rule = _problem(str(exc), limits)
        raise InputError(message, file=file, line=start, rule=rule) from None
    if header is None:
        raise InputError("the file has no header row", file=file, rule="header")
    return header, header_line, rows, lines


def read(path: Path, file: str, limits: InputLimits) -> RawCsv:
    """Read, decode and parse one raw file within the policy's limits."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise InputError(f"the file is larger than {limits.max_file_bytes:,} bytes (limits.max_file_bytes)",
                         file=file, rule="limits")
    raw = path.read_bytes()
    text, encoding = decode(raw, file)
    header, header_line, rows, lines = parse(text, file, limits)
    return RawCsv(tuple(header), header_line, tuple(rows), tuple(lines), encoding, raw)
