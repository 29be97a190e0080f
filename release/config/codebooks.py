"""Closed vocabularies: the shared codebook files ``keep`` columns name, and how cells match them.

Why: a ``keep`` column publishes a value only when it belongs to a declared vocabulary (or
format); anything else, such as a name typed into ``weather``, is blanked and reported. One
vocabulary often serves several columns (US states for ``state``, ``vehicle_state`` and
``license_state``), so it is written once, in ``<rules>/codebooks/<name>.yaml``, and a policy
names it. Matching ignores case, spacing and punctuation, so ``Mass``, ``CR-V``/``CRV`` or
``Fog / Smog / Smoke`` need no declared spelling; ``spellings`` map the other variants
(``MASSACHUSETTS: MA``) onto the codebook's own spelling, which is what is published.

This module is the policy's build phase for codebooks (``resolve_codebooks``, called by
``config.load_policy``), the matcher the generalize stage uses (``Vocabulary``), and the
view of a raw table the raw suite checks closed columns on (``vocabulary_view``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from pydantic import Field, model_validator

from release.config.column_rules import Frozen, KeepRule, OfficerRule, StreetNameRule
from release.config.policy import DatasetPolicy, FilePolicy, load_yaml_model
from release.errors import ConfigError

OTHER = "Other"  # what on_unknown: other publishes


def fold(text: str) -> str:
    """A value as compared: trimmed, inner spaces collapsed, case-folded."""
    return " ".join(text.split()).casefold()


def compact(text: str) -> str:
    """A value with only its letters and digits, case-folded: ``C-R V`` reads as ``crv``."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def build_lookup(values: Iterable[str], spellings: Mapping[str, str]) -> dict[str, str]:
    """Every folded and compacted form of a value or spelling -> the value it stands for.

    Raises ValueError when two entries read alike but mean different values (the vocabulary
    would be ambiguous); the message names the entries (configuration, never data)."""
    table: dict[str, str] = {}
    origin: dict[str, str] = {}
    entries = [(value, value) for value in values] + list(spellings.items())
    for form, target in entries:
        for key in dict.fromkeys((fold(form), compact(form))):
            if not key:
                continue
            if table.setdefault(key, target) != target:
                raise ValueError(f"'{form}' and '{origin[key]}' read alike but mean "
                                 f"'{target}' and '{table[key]}'")
            origin.setdefault(key, form)
    return table


class Codebook(Frozen):
    """One shared vocabulary file: the published spellings, and variants mapped onto them."""

    description: str = Field(pattern=r"\S")
    values: tuple[str, ...] = Field(min_length=1)
    spellings: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Codebook:
        twice = next((value for index, value in enumerate(self.values) if value in self.values[:index]), None)
        if twice is not None:
            raise ValueError(f"values: '{twice}' is listed twice")
        for spelling, target in self.spellings.items():
            if target not in self.values:
                raise ValueError(f"spellings: '{spelling}' maps to '{target}', which is not one of values")
        build_lookup(self.values, self.spellings)
        return self


def codebook_path(folder: Path, name: str) -> Path:
    return folder / f"{name}.yaml"


def resolve_codebooks(policy: DatasetPolicy, path: Path) -> DatasetPolicy:
    """The policy with every keep rule's ``domain`` holding its codebooks' values and its
    ``spellings`` theirs (the rule's own win), checked for ambiguity. A name without a file
    or a broken codebook is a ConfigError naming the policy's key path or the codebook's."""
    folder = path.parent / policy.codebooks_dir
    books: dict[str, Codebook] = {}
    files = {}
    for file_name, file_policy in policy.files.items():
        columns = dict(file_policy.columns)
        for column, rule in file_policy.columns.items():
            where = f"files.{file_name}.columns.{column}"
            if isinstance(rule, KeepRule) and rule.pattern is None:
                columns[column] = _resolved(rule, where, folder, books, path)
            elif isinstance(rule, StreetNameRule):
                values = [v for name in rule.codebook for v in _book(name, where, folder, books, path).values]
                columns[column] = rule.model_copy(update={"domain": tuple(dict.fromkeys(values))})
        files[file_name] = file_policy.model_copy(update={"columns": columns})
    return policy.model_copy(update={"files": files})


def _book(name: str, where: str, folder: Path, books: dict[str, Codebook], path: Path) -> Codebook:
    if name not in books:
        if not codebook_path(folder, name).is_file():
            known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
            raise ConfigError(f"{where}.codebook: unknown codebook '{name}'; known: "
                              f"{', '.join(known) or f'none (no {folder.name}/ folder)'}", file=str(path))
        books[name] = load_yaml_model(codebook_path(folder, name), Codebook)
    return books[name]


def _resolved(rule: KeepRule, where: str, folder: Path, books: dict[str, Codebook], path: Path) -> KeepRule:
    values = list(rule.domain or ())
    spellings: dict[str, str] = {}
    for name in rule.codebook:
        book = _book(name, where, folder, books, path)
        values += [value for value in book.values if value not in values]
        spellings.update(book.spellings)
    spellings.update(rule.spellings)
    for spelling, target in rule.spellings.items():
        if target not in values and not (rule.on_unknown == "other" and target == OTHER):
            raise ConfigError(f"{where}.spellings: '{spelling}' maps to '{target}', which is not in the "
                              "domain", file=str(path))
    try:
        build_lookup(values, spellings)
    except ValueError as exc:
        raise ConfigError(f"{where}: {exc}", file=str(path)) from None
    return rule.model_copy(update={"domain": tuple(values), "spellings": spellings})


@dataclass(frozen=True)
class Reading:
    """How one cell reads: what is published, how many of its entries were unknown, and how
    many were read as the value they start with (the words after it dropped)."""

    value: str | None
    unknown: int
    trimmed: int = 0


class Vocabulary:
    """Reads the cells of one closed column: a codebook lookup, or a full-match pattern."""

    def __init__(self, *, domain: Iterable[str] = (), spellings: Mapping[str, str] | None = None,
                 pattern: str | None = None, separator: str | None = None,
                 free_entry_prefix: str | None = None, leading_value: bool = False,
                 other: bool = False) -> None:
        self._lookup = build_lookup(domain, spellings or {})
        self._leading = leading_value
        self._pattern = re.compile(pattern) if pattern is not None else None
        self._separator = separator
        self._prefix = free_entry_prefix.casefold() if free_entry_prefix else None
        self._other = other

    @classmethod
    def of(cls, rule: KeepRule | OfficerRule) -> Vocabulary:
        if isinstance(rule, OfficerRule):
            return cls(pattern=rule.pattern)
        return cls(domain=rule.domain or (), spellings=rule.spellings, pattern=rule.pattern,
                   separator=rule.list_separator, free_entry_prefix=rule.free_entry_prefix,
                   leading_value=rule.leading_value, other=rule.on_unknown == "other")

    def read(self, cell: str) -> Reading:
        """The published cell; an unknown entry is dropped (or becomes ``Other``), a list
        keeps its known items in order, each once, joined by the separator and a space."""
        entries = cell.split(self._separator) if self._separator else [cell]
        kept: list[str] = []
        unknown = trimmed = 0
        for entry in entries:
            if not entry.strip():
                continue
            value, cut = self._entry(entry)
            trimmed += cut
            if value is None:
                unknown += 1
                value = OTHER if self._other else None
            if value is not None and value not in kept:
                kept.append(value)
        joiner = f"{self._separator} " if self._separator else ""
        return Reading(joiner.join(kept) or None, unknown, trimmed)

    def _find(self, text: str) -> str | None:
        return self._lookup.get(fold(text)) or self._lookup.get(compact(text))

    def _entry(self, entry: str) -> tuple[str | None, bool]:
        """(the value an entry reads as, whether words after it were dropped)."""
        text = entry.strip()
        if self._pattern is not None:
            return (text if self._pattern.fullmatch(text) else None), False
        if self._prefix and text.casefold().startswith(self._prefix):
            text = text[len(self._prefix):].strip() or text
        found = self._find(text) or self._find(entry)
        if found is not None or not self._leading:
            return found, False
        words = text.split()
        for count in range(len(words) - 1, 0, -1):  # the longest leading run of whole words
            found = self._find(" ".join(words[:count]))
            if found is not None:
                return found, True
        return None, False


# Fewer values than this cannot tell a shifted column from a stray value or two.
SHIFT_MIN_VALUES = 10


def vocabulary_view(frame: pd.DataFrame, file_policy: FilePolicy) -> pd.DataFrame:
    """The table the raw suite sees: a closed cell whose every entry the vocabulary knows is
    read as generalize reads it (``MASS`` -> ``MA``), any other as typed, so the suite's domain
    check counts exactly the cells generalize would blank (``Other`` is never assumed here).

    A closed column with fewer than ``SHIFT_MIN_VALUES`` values is not judged: its unknown
    cells are shown blank (generalize still blanks and reports each), since one name typed
    into an otherwise empty ``vehicle_state`` is a stray value, not a shifted column."""
    out = frame.copy()
    for column, rule in file_policy.columns.items():
        if column not in out.columns or not isinstance(rule, (KeepRule, OfficerRule)) or \
                (isinstance(rule, OfficerRule) and rule.pattern is None):  # officers' names: no vocabulary
            continue
        vocabulary = Vocabulary.of(rule) if isinstance(rule, OfficerRule) or rule.pattern is not None else Vocabulary(
            domain=rule.domain or (), spellings=rule.spellings, separator=rule.list_separator,
            free_entry_prefix=rule.free_entry_prefix, leading_value=rule.leading_value)
        readings = {cell: vocabulary.read(cell) for cell in out[column].dropna().unique() if isinstance(cell, str)}
        judged = int(out[column].notna().sum()) >= SHIFT_MIN_VALUES
        out[column] = pd.Series([_seen(cell, readings, judged) for cell in out[column]], index=out.index, dtype=object)
    return out


def _seen(cell: object, readings: Mapping[str, Reading], judged: bool) -> object:
    """A cell as the raw suite sees it: its reading when every entry is known, else as typed
    (or blank, in a column too small to judge)."""
    if not isinstance(cell, str):
        return cell
    reading = readings[cell]
    if reading.unknown == 0 and reading.value is not None:
        return reading.value
    return cell if judged else None
