"""Every file that goes out in the form the build writes it (issue #12, attack round 28, R2).

The content checks (``public_content``, ``trusted_manifest``) read what a file says: its cells, keys
and values. The same cells in other bytes said more. An analyst holding the release key re-wrote an
honest paid bundle's table with each row quoted or not (a bit a row), ``datapackage.json`` with a
space at the end of chosen lines, ``manifest.json`` with spaces inside its JSON (which the portal
keeps), re-hashed and bound again: approve, publish, the audit and ``verify`` passed, and a raw-only
value was read back from the layout alone.

The build writes each kind of file one way, so each is held to it here: the file is parsed and
written again by that writer, and the bytes must be the same.

- **CSV** (record-level files, tables, derived files): pandas' ``to_csv`` (``csv`` with minimal
  quoting, ``\\n`` line ends), which writes every field as the text it parses back to;
- **JSON** (``datapackage.json``, ``privacy.json``, ``manifest.json``): ``layout.json_text`` (an
  indent of 2 and a final line end), no key given twice; the manifest escapes non-ASCII, the public files do
  not. ``manifest.json`` and ``datapackage.json`` are written with sorted keys (round 29: objects
  whose keys were swapped re-wrote to their own bytes, a bit an object), so only the order of their
  lists is the build's own: ``public_content`` holds the data package's resources and the manifest's
  outputs to it, and ``bundle_manifest`` each value to the type the build writes (``18.0`` for 18);
- **approvals.jsonl**: each line the signed record's own ``to_line`` (sorted keys, no spaces), no
  record twice (round 29: the number of copies of an approval said a day of birth);
- **Parquet** (a large record file's whole form beside its CSV parts, issue #15): written again from
  the CSV text its parts hold (``record_parts.parquet_bytes``, a deterministic function of that text)
  and compared byte for byte, so a column, row, key-value entry or padding the build does not write
  is refused (the exact set of parts and Parquet files is ``public_content``'s);
- **SHA256SUMS** (a published copy): ``<sha256>  <name>`` lines, each file of the copy once, in the
  order publish writes them (round 29: files repeated or left out said digits).

A file that cannot be read at all is left to the integrity and content checks, which name it; an
``approvals.jsonl`` that is not UTF-8 text is refused here (round 36, H2: it was skipped here while the
approvals reader read its lines on, with an extra key beside the signed ones carrying any text).
Messages name the file, the line where there is one, and the rule, never a value.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

RULE = "rule file-form"
WHY = "not in the form the build writes (the same content in other bytes: quoting, spacing, line ends or escapes)"
_SUM_LINE = re.compile(r"([0-9a-f]{64})  ([^\n]+)")
SORTED = ("manifest.json", "datapackage.json")  # written with sorted keys: an object's key order carries nothing


def form_problems(public: Path) -> list[str]:
    """The files of a bundle's ``public/`` (and its ``manifest.json`` and ``approvals.jsonl`` beside
    it), or of a published copy (``public`` is the copy: its metadata is inside), not byte for byte
    what the build's writers give for their content."""
    problems = []
    for path in sorted(p for p in public.rglob("*") if p.is_file()):
        name = path.relative_to(public).as_posix()
        if path.suffix == ".parquet":  # written again from the CSV parts beside it: the same bytes, or refused
            from release.bundle.record_parts import parquet_problems
            problems += [f"public file {name}{why}, {RULE}" for why in parquet_problems(path.parent, path.name)]
            continue
        if path.suffix == ".csv":
            found = _csv_form(path)
        elif path.suffix == ".json":
            found = _json_form(path, ascii_only=name == "manifest.json", sort=name in SORTED)
        else:
            continue
        problems += [f"public file {name}{where}: {WHY}, {RULE}" for where in found]
    for name in ("manifest.json", "approvals.jsonl"):
        beside = public.parent / name
        if (public / name).is_file() or not beside.is_file():
            continue
        found = _json_form(beside, ascii_only=True, sort=True) if name == "manifest.json" else _lines_form(beside)
        problems += [f"{name}{where}: {WHY}, {RULE}" for where in found]
    if (public / "approvals.jsonl").is_file():
        problems += [f"public file approvals.jsonl{where}: {WHY}, {RULE}" for where in _lines_form(public / "approvals.jsonl")]
    if (public / "SHA256SUMS").is_file():
        problems += [f"public file SHA256SUMS{where}: {WHY}, {RULE}" for where in _sums_form(public / "SHA256SUMS")]
    return problems


def _text(path: Path) -> str | None:
    try:
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _csv_form(path: Path) -> list[str]:
    text = _text(path)
    if text is None:
        return []
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error:
        return []
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)  # what pandas' to_csv writes for these fields
    if out.getvalue() == text:
        return []
    written = out.getvalue().splitlines(keepends=True)
    given = text.splitlines(keepends=True)
    # strict=False: the texts may differ in length; past the shorter one, the first line it lacks differs
    first = next((n for n, (a, b) in enumerate(zip(written, given, strict=False), start=1) if a != b),
                 min(len(written), len(given)) + 1)
    return [f", line {first}"]


def _json_form(path: Path, *, ascii_only: bool, sort: bool) -> list[str]:
    from release.bundle.layout import json_text

    text = _text(path)
    if text is None:
        return []
    try:
        value = json.loads(text, object_pairs_hook=_no_repeats)
    except (ValueError, RecursionError):  # a key given twice (json keeps the last), nested past reading, or
        return [""]                       # not JSON (the content checks name the last)
    return [] if json_text(value, ascii_only=ascii_only, sort=sort) == text else [""]


def _no_repeats(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError("a key given twice")
    return dict(pairs)


def _lines_form(path: Path) -> list[str]:
    from release.keys.signing import SignedRecord

    text = _text(path)
    if text is None:  # round 36 (H2): skipped, while the approvals reader reads such a line on
        return [": not UTF-8 text"]
    if text and not text.endswith("\n"):
        return [", its last line"]
    found, seen = [], set()
    for number, line in enumerate(text.split("\n")[:-1], start=1):
        try:
            record = SignedRecord.from_line(line)
        except ValueError:
            found.append(f", line {number}")
            continue
        if record.to_line() != line or line in seen:  # a record given again: the count of copies said something
            found.append(f", line {number}")
        seen.add(line)
    return found


def _sums_form(path: Path) -> list[str]:
    from release.bundle.layout import APPROVALS, MANIFEST, sums_order

    text = _text(path)
    if text is None:
        return []
    lines = text.split("\n")
    if lines[-1] != "":
        return [", its last line"]
    found = [f", line {n}" for n, line in enumerate(lines[:-1], start=1) if not _SUM_LINE.fullmatch(line)]
    names = [m.group(2) for line in lines[:-1] if (m := _SUM_LINE.fullmatch(line))]
    copy = path.parent
    present = sorted(p.relative_to(copy).as_posix() for p in copy.rglob("*") if p.is_file() and p != path
                     and p.name not in (MANIFEST, APPROVALS))
    if not found and names != sums_order(present):  # each file of the copy once, in publish's order
        found.append(": not one line for each file of the copy, in the order publish writes them")
    return found
