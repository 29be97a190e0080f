"""Does a raw-only value appear verbatim in a public file?

Two checks. Per record: any raw-only value of a record (a first or last name alone
included, but only in free-text columns: a surname such as Washington is also a street
and a category may equal a nickname) in a public column of that same record. Across the release: any full
identifying value of any record (full name, date of birth, address, phone, licence,
plate) anywhere in any public file, found with one Aho–Corasick automaton. Used twice: before
publishing (its per-row flag feeds the public expectation suite) and by ``release audit --raw`` years
later. Matching is case-insensitive on word boundaries,
after NFKC and whitespace folding. Single name parts (a first or last name alone) are not
checked in officer columns, whose published names may share a subject's surname by
chance; nor in structured columns. The raw values of an identifier published as a keyed
pseudonym (``pseudonym`` rule) count as full values: the pseudonym never matches them, the raw
value anywhere does. Results name file, row key and column; never the value.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import ahocorasick
import pandas as pd

from release.config.policy import DatasetPolicy
from release.model import ROW_KEY
from release.pii.placeholders import LEAK_LABEL

_PERSON_NAME = ("first_name", "middle_name", "last_name")
_NAME_PARTS = {*_PERSON_NAME, "alias"}  # checked in free text only
_MIN_CHARS = 3
_HOUSE_NUMBER = re.compile(r"(?<![\w])\d+(?!\d)(?!(?:st|nd|rd|th)\b)", re.IGNORECASE)


def has_house_number(address: str) -> bool:
    """An address identifies by its number; "E 4th St & Silver St" is a public street."""
    return bool(_HOUSE_NUMBER.search(address))


# A surname is often a place too ("Washington St", "Franklin Park", "Savin Hill Ave"); the
# place is published, so a name part directly followed by a place word is not counted.
_PLACE_AFTER = re.compile(
    r"\s+(?:[a-z]+\s+)?(?:st|street|ave|av|avenue|rd|road|sq|square|park|pl|place|ter|terrace|blvd|"
    r"boulevard|way|station|ct|court|dr|drive|hwy|highway|pkwy|parkway|cir|circle|ln|lane|row|wharf|"
    r"playground|houses|development|school|high|academy|center|centre)\b\.?", re.IGNORECASE)


def _part_of_place(folded: str, end: int) -> bool:
    return bool(_PLACE_AFTER.match(folded, end))


def _informative_case(text: str) -> bool:
    """Mixed-case text: a name is written capitalised there, so "black hoodie" is not Black."""
    return any(ch.isupper() for ch in text) and any(ch.islower() for ch in text)


@dataclass(frozen=True)
class Leak:
    """A raw-only value found in a public cell: where it is (file, row key, column, spans) and what kind of
    value it is, never the value."""

    file: str
    row_key: str
    column: str
    kind: str
    # where in the public cell (its own offsets), with the placeholder label of the value
    spans: tuple[tuple[int, int, str], ...] = ()


_LABELS = {"first_name": "PERSON", "middle_name": "PERSON", "last_name": "PERSON", "full_name": "PERSON",
           "alias": "PERSON", "dob": "DOB", "address": "ADDRESS", "phone": "PHONE", "license": "ID",
           "plate": "PLATE", "identifier": "ID"}


def label_of(value: str, labels: dict[str, str]) -> str:
    return labels.get(value, LEAK_LABEL)


_NON_SPACE = re.compile(r"\S+")


@functools.lru_cache(maxsize=1 << 17)  # a cell is folded by both checks in every round; callers only read
def fold_map(text: str) -> tuple[str, list[int]]:
    """NFKC, whitespace runs folded to one space, lower case; and for each folded character
    the offset of the original character it came from (so a match names a span of the cell).

    NFKC is applied per base character with its combining marks, so a decomposed "é"
    folds like a composed one. ASCII text (most cells) takes a fast path with the same result:
    NFKC leaves it as it is and it has no combining marks."""
    if text.isascii():
        return _fold_ascii(text)
    return _fold_unicode(text)


def _fold_ascii(text: str) -> tuple[str, list[int]]:
    parts: list[str] = []
    origin: list[int] = []
    previous_end = -1
    for match in _NON_SPACE.finditer(text):
        start, end = match.span()
        if parts:
            parts.append(" ")
            origin.append(previous_end)  # the first character of the whitespace run
        parts.append(match.group().lower())
        origin.extend(range(start, end))
        previous_end = end
    return "".join(parts), origin


def _fold_unicode(text: str) -> tuple[str, list[int]]:
    out: list[str] = []
    origin: list[int] = []
    cluster_start = 0
    pending_space = -1

    def flush(end: int) -> None:
        nonlocal pending_space
        if cluster_start >= end:
            return
        if pending_space >= 0 and out:
            out.append(" ")
            origin.append(pending_space)
        pending_space = -1
        for ch in unicodedata.normalize("NFKC", text[cluster_start:end]).lower():
            out.append(ch)
            origin.append(cluster_start)

    for index, ch in enumerate(text):
        if ch.isspace():
            flush(index)
            if pending_space < 0:
                pending_space = index
            cluster_start = index + 1
        elif not unicodedata.combining(ch):
            flush(index)
            cluster_start = index
    flush(len(text))
    return "".join(out), origin


def _fold(text: str) -> str:
    return fold_map(text)[0]


def _original_span(origin: list[int], text: str, start: int, end: int) -> tuple[int, int]:
    last = origin[end - 1]
    stop = last + 1
    while stop < len(text) and unicodedata.combining(text[stop]):
        stop += 1
    return origin[start], stop


def _is_word_char(text: str, index: int, hyphen_is_letter: bool) -> bool:
    if index < 0 or index >= len(text):
        return False
    ch = text[index]
    return ch.isalnum() or ch == "_" or (hyphen_is_letter and ch == "-")


def _occurrences(folded: str, values: tuple[str, ...], hyphen_is_letter: bool = False) -> list[tuple[int, int, str]]:
    """Every whole-word occurrence of any value, in text order. A record has a handful of
    values, so plain substring search beats compiling a pattern per record; with
    ``hyphen_is_letter`` "jean" is not found in "jean-pierre"."""
    found = []
    for value in values:
        start = folded.find(value)
        while start != -1:
            end = start + len(value)
            if not _is_word_char(folded, start - 1, hyphen_is_letter) and not _is_word_char(folded, end, hyphen_is_letter):
                found.append((start, end, value))
            start = folded.find(value, start + 1)
    return sorted(found)


def _usable(values: set[str]) -> tuple[str, ...]:
    return tuple(sorted(v for v in values if sum(ch.isalnum() for ch in v) >= _MIN_CHARS))


@dataclass(frozen=True)
class RawValues:
    """record key -> {"full": identifying values (full names included), "parts": single name
    parts and aliases}, and the placeholder label of every folded value."""

    by_record: dict[str, dict[str, set[str]]]
    labels: dict[str, str]


def raw_values(raw: dict[str, pd.DataFrame], policy: DatasetPolicy) -> RawValues:
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: {"full": set(), "parts": set()})
    labels: dict[str, str] = {}
    for name, file_policy in policy.files.items():
        link = file_policy.link_column
        frame = raw[name]
        raw_only = {c: k for c, k in file_policy.raw_only_columns().items() if c in frame.columns}
        # an identifier published as its pseudonym: the raw value must appear nowhere (its
        # pseudonym, a prefix and hex digits, never reads as it)
        raw_only.update({c: "identifier" for c, r in file_policy.columns.items()
                         if r.type == "pseudonym" and c in frame.columns})
        for column, kind in raw_only.items():
            for key, value in zip(frame[link], frame[column], strict=True):
                if isinstance(key, str) and isinstance(value, str) and value.strip():
                    folded = _fold(value)
                    if kind == "address" and not has_house_number(folded):
                        continue  # "homeless", a bare street or intersection: published as the street
                    labels.setdefault(folded, _LABELS.get(kind, LEAK_LABEL))
                    found[key]["parts" if kind in _NAME_PARTS else "full"].add(folded)
        names = sorted((c for c, k in raw_only.items() if k in _PERSON_NAME),
                       key=lambda c: _PERSON_NAME.index(raw_only[c]))
        for row in frame[[link, *names]].itertuples(index=False):
            parts = [p for p in row[1:] if isinstance(p, str) and p.strip()]
            if len(parts) >= 2 and isinstance(row[0], str):
                # first [middle] last, first last without the middle name, and the records
                # forms "last, first [middle]" and "last first" that officer columns use
                last, rest = parts[-1], parts[:-1]
                for form in (" ".join(parts), f"{rest[0]} {last}", f"{last}, {' '.join(rest)}",
                             f"{last} {' '.join(rest)}", f"{last}, {rest[0]}", f"{last} {rest[0]}"):
                    full = _fold(form)
                    found[row[0]]["full"].add(full)
                    labels.setdefault(full, "PERSON")
    return RawValues(dict(found), labels)


def _leaks_in(cell: str, values: dict[str, set[str]], labels: dict[str, str], free_text: bool,
              usable: dict[tuple[str, str], tuple[str, ...]], key: str) -> list[tuple[int, int, str]]:
    """Spans of ``cell`` (its own offsets) that hold a raw-only value of the record."""
    folded, origin = fold_map(cell)
    found: list[tuple[int, int, str]] = []
    for scope in ("full", "parts") if free_text else ("full",):
        if (key, scope) not in usable:
            usable[(key, scope)] = _usable(values[scope])
        for start, end, value in _occurrences(folded, usable[(key, scope)], hyphen_is_letter=scope == "parts"):
            if scope == "parts":
                if _part_of_place(folded, end):
                    continue
                # in mixed-case text a single name part counts where it is written as a name
                if _informative_case(cell) and not cell[origin[start]].isupper():
                    continue
            found.append((*_original_span(origin, cell, start, end), label_of(value, labels)))
    return sorted(set(found))


# An officer column's value that names the officer of this many reports or more is a roster
# officer, not a subject typed into the wrong field: a subject who shares an officer's full
# name ("John Murphy") must not block every report that officer supervised.
ESTABLISHED_OFFICER_REPORTS = 3


def _shared_values(pairs: Iterable[tuple[object, object]]) -> frozenset[str]:
    """Folded values that stand in at least ``ESTABLISHED_OFFICER_REPORTS`` distinct reports,
    from (report key, cell) pairs."""
    reports: dict[str, set[str]] = defaultdict(set)
    for key, value in pairs:
        if isinstance(value, str) and value.strip():
            reports[_fold(value)].add(str(key))
    return frozenset(v for v, keys in reports.items() if len(keys) >= ESTABLISHED_OFFICER_REPORTS)


def established_officers(public: dict[str, pd.DataFrame], policy: DatasetPolicy) -> frozenset[str]:
    """Folded officer-column values that stand in at least ``ESTABLISHED_OFFICER_REPORTS`` reports."""
    pairs: list[tuple[object, object]] = []
    for name, file_policy in policy.files.items():
        frame = public.get(name)
        if frame is None:
            continue
        link = file_policy.link_column
        for column, rule in file_policy.columns.items():
            if rule.type == "officer" and column in frame.columns and link in frame.columns:
                pairs += zip(frame[link], frame[column], strict=True)
    return _shared_values(pairs)


def _common_values(frame: pd.DataFrame, link: str, columns: list[str]) -> dict[str, frozenset[str]]:
    """Per structured column, the folded values that stand in at least
    ``ESTABLISHED_OFFICER_REPORTS`` distinct reports: the column's vocabulary (a street, a
    model), which another record's name can only meet by coincidence."""
    return {column: _shared_values(zip(frame[link], frame[column], strict=True)) for column in columns}


def _officer_columns(policy: DatasetPolicy, name: str) -> set[str]:
    return {c for c, r in policy.files[name].columns.items() if r.type == "officer"}


def find_leaks(raw: dict[str, pd.DataFrame], public: dict[str, pd.DataFrame],
               policy: DatasetPolicy, year: int) -> tuple[dict[str, pd.Series], list[Leak]]:
    """Per public file a boolean Series (True = the row leaks) and the list of leaks.

    ``public`` frames carry the published columns plus the link column and ``_row_key``.
    An established officer's name in an officer column is not a leak (see
    ``ESTABLISHED_OFFICER_REPORTS``).
    """
    return LeakChecker(raw, policy, year).find_leaks(public)


def find_global_leaks(raw: dict[str, pd.DataFrame], public: dict[str, pd.DataFrame],
                      policy: DatasetPolicy, year: int,
                      other_files: dict[str, pd.DataFrame] | None = None) -> list[Leak]:
    """Any full raw-only value of any record, anywhere in any public column but an officer
    column: the record files (by policy name) and any other public file (``other_files``, by
    file name; row keys are then 1-based row numbers)."""
    return LeakChecker(raw, policy, year).find_global_leaks(public, other_files)


_Spans = tuple[tuple[int, int, str], ...]


class LeakChecker:
    """Both checks for one build's raw data, run again on the public files of every verify round.

    What a check finds in a cell is a function of the cell's text and of raw data, which a
    build never changes; so each distinct input is checked once and a later round looks it
    up. Every cell of every call is still visited, so the final public state is checked whole;
    only a cell whose text did not change is not searched again.
    - Per record (``find_leaks``): the spans depend on the cell's text, its record's raw-only
      values (keyed by the record key) and whether the column is free text; that triple is
      the memo key. The cross-record part of this check, the established-officer exemption,
      depends on every officer cell of the release: it is recomputed from the public frames
      of each call and applied outside the memo.
    - Across the release (``find_global_leaks``): the spans depend on the cell's text and on
      the automaton of every record's full values. The automaton is the cross-record part; it
      is built from the raw data once, so the memo key is the cell's text alone. Which columns
      are searched (not officer columns) is the policy's, the same in every call. Its
      cross-record exemption, a structured cell that 3 or more reports share (a street), is
      recomputed from the public frames of each call and applied outside the memo.
    A checker must not outlive its raw frames: build a new one for other raw data.

    Each check also runs on a run of one file's rows (``record_leaks_in``, ``global_leaks_in``)
    given its cross-record part computed from the whole frames: how ``--engine ray`` cuts the
    checks into partitions for its workers (``release.stages.leak_partitions``), each holding a
    copy of the checker without the raw frames (``shipped``).
    """

    def __init__(self, raw: dict[str, pd.DataFrame], policy: DatasetPolicy, year: int) -> None:
        self.raw = raw
        self._start(raw_values(raw, policy), policy, year)

    def _start(self, values: RawValues, policy: DatasetPolicy, year: int) -> None:
        """The checks' state: the raw values, and empty memos (a new checker's, or a worker's copy)."""
        self.policy, self.year, self.values = policy, year, values
        self._usable: dict[tuple[str, str], tuple[str, ...]] = {}
        self._per_record: dict[tuple[str, bool, str], _Spans] = {}
        self._global: dict[str, _Spans] = {}

    @functools.cached_property
    def automaton(self) -> ahocorasick.Automaton | None:
        return _automaton(self.values)

    def _record_spans(self, cell: str, key: str, free_text: bool) -> _Spans:
        memo = (key, free_text, cell)
        spans = self._per_record.get(memo)
        if spans is None:
            spans = self._per_record[memo] = tuple(
                _leaks_in(cell, self.values.by_record[key], self.values.labels, free_text, self._usable, key))
        return spans

    def _global_spans(self, automaton: ahocorasick.Automaton, cell: str) -> _Spans:
        spans = self._global.get(cell)
        if spans is None:
            spans = self._global[cell] = tuple(_contains(automaton, cell))
        return spans

    def find_leaks(self, public: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.Series], list[Leak]]:
        """See the module function ``find_leaks``."""
        officers = established_officers(public, self.policy)
        flags: dict[str, pd.Series] = {}
        leaks: list[Leak] = []
        for name in self.policy.files:
            frame = public[name]
            flag, found = self.record_leaks_in(name, frame, officers)
            flags[name] = pd.Series(flag, index=frame.index, dtype=bool)
            leaks += found
        return flags, leaks

    def record_leaks_in(self, name: str, frame: pd.DataFrame,
                        officers: frozenset[str]) -> tuple[list[bool], list[Leak]]:
        """The per-record check over the rows of ``frame`` (the whole public frame of file ``name``,
        or a run of its rows): a row's leaks depend on that row and on ``officers`` alone, which
        is computed across the whole release (``established_officers``), never from these rows."""
        file_policy, values = self.policy.files[name], self.values
        link = file_policy.link_column
        free_text = set(file_policy.free_text_columns())
        officer_columns = _officer_columns(self.policy, name)
        public_file = file_policy.public_file.format(year=self.year)
        columns = [c for c in file_policy.public_columns() if c in frame.columns]
        flag = [False] * len(frame)
        leaks: list[Leak] = []
        for position, row in enumerate(frame[[link, ROW_KEY, *columns]].itertuples(index=False)):
            key, row_key, cells = row[0], row[1], row[2:]
            if key not in values.by_record:
                continue
            for column, cell in zip(columns, cells, strict=True):
                if not isinstance(cell, str) or not cell or (column in officer_columns and _fold(cell) in officers):
                    continue
                spans = self._record_spans(cell, key, column in free_text)
                if spans:
                    flag[position] = True
                    leaks.append(Leak(public_file, str(row_key), column, "raw-only value", spans))
        return flag, leaks

    def find_global_leaks(self, public: dict[str, pd.DataFrame],
                          other_files: dict[str, pd.DataFrame] | None = None) -> list[Leak]:
        """See the module function ``find_global_leaks``."""
        automaton = self.automaton
        if automaton is None:
            return []
        leaks: list[Leak] = []
        for name in self.policy.files:
            frame = public.get(name)
            if frame is None:
                continue
            leaks += self.global_leaks_in(name, frame, self.common_values(name, frame))
        for file, frame in (other_files or {}).items():
            for number, row in enumerate(frame.astype(object).itertuples(index=False), start=1):
                for column, cell in zip(frame.columns, row, strict=True):
                    spans = self._global_spans(automaton, cell) if isinstance(cell, str) and cell else ()
                    if spans:
                        leaks.append(Leak(file, str(number), str(column), "raw-only value of a record", spans))
        return leaks

    def _global_columns(self, name: str, frame: pd.DataFrame) -> list[str]:
        # An officer column names an officer: another record's subject who shares that name
        # is a coincidence, not a leak (a record's own subject there is ``find_leaks``' case).
        officer_columns = _officer_columns(self.policy, name)
        return [c for c in self.policy.files[name].public_columns()
                if c in frame.columns and c not in officer_columns]

    def common_values(self, name: str, frame: pd.DataFrame) -> dict[str, frozenset[str]]:
        """The cross-record exemption of the release-wide check for file ``name``, over its whole
        public ``frame``: a structured cell that several reports share ("SAINT JAMES ST" of a
        person named James Saint elsewhere); a value typed into the wrong field is one report's.
        Like the officers' exemption, recomputed on every call, never remembered."""
        file_policy = self.policy.files[name]
        link = file_policy.link_column
        if link not in frame.columns:
            return {}
        free_text = set(file_policy.free_text_columns())
        return _common_values(frame, link, [c for c in self._global_columns(name, frame) if c not in free_text])

    def global_leaks_in(self, name: str, frame: pd.DataFrame, common: dict[str, frozenset[str]]) -> list[Leak]:
        """The release-wide check over the rows of ``frame`` (the whole public frame of file
        ``name``, or a run of its rows); ``common`` is ``common_values`` of the whole frame."""
        automaton = self.automaton
        if automaton is None:
            return []
        public_file = self.policy.files[name].public_file.format(year=self.year)
        columns = self._global_columns(name, frame)
        leaks: list[Leak] = []
        for row in frame[[ROW_KEY, *columns]].itertuples(index=False):
            for column, cell in zip(columns, row[1:], strict=True):
                if isinstance(cell, str) and column in common and _fold(cell) in common[column]:
                    continue
                spans = self._global_spans(automaton, cell) if isinstance(cell, str) and cell else ()
                if spans:
                    leaks.append(Leak(public_file, str(row[0]), column, "raw-only value of a record", spans))
        return leaks

    def check(self, public: dict[str, pd.DataFrame]) -> list[Leak]:
        """Both checks over the record files, in the build's order: every per-record leak (file by
        file, row by row), then every release-wide one. A partitioned run
        (``release.stages.leak_partitions``) merges its parts into this same list."""
        return self.find_leaks(public)[1] + self.find_global_leaks(public)

    def shipped(self) -> LeakChecker:
        """A checker for a worker (``release.stages.leak_partitions``): the raw values, the policy
        and the year; not the raw frames (read once, here), nor the memo, nor the automaton, which
        the worker builds from the values: its pickle is some 20 times their size (200,000 values:
        80 MB against 3.4 MB, against 2 s to build), and what it finds is a function of the set of
        values, whatever order they are added in."""
        slim = LeakChecker.__new__(LeakChecker)
        slim.raw = {}
        slim._start(self.values, self.policy, self.year)
        return slim


def _automaton(values: RawValues) -> ahocorasick.Automaton | None:
    automaton = ahocorasick.Automaton()
    for scopes in values.by_record.values():
        for value in scopes["full"]:
            if sum(ch.isalnum() for ch in value) >= 5:
                automaton.add_word(value, (len(value), label_of(value, values.labels)))
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def _contains(automaton: ahocorasick.Automaton, cell: str) -> list[tuple[int, int, str]]:
    """Spans of ``cell`` (its own offsets) holding a full raw-only value of any record."""
    text, origin = fold_map(cell)
    found = []
    for end, (length, label) in automaton.iter(text):
        start = end - length + 1
        before = text[start - 1] if start > 0 else " "
        after = text[end + 1] if end + 1 < len(text) else " "
        if not before.isalnum() and not after.isalnum():
            found.append((*_original_span(origin, cell, start, end + 1), label))
    return sorted(set(found))

