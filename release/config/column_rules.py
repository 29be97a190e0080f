"""Column rules: one small frozen model per YAML ``type`` of a policy's column.

Kept apart from ``release.config.policy`` (the dataset policy and its loading) so each stays small.
A published text column is one of two kinds: a closed vocabulary (``keep`` with a domain, a
codebook or a pattern) or free text the PII engine redacts (``FREE_TEXT_TYPES``).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Frozen(BaseModel):
    """Base of every policy model: immutable, and an unknown key is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# ---- column rules: one small model per YAML `type` ---------------------------------

class _Rule(Frozen):
    description: str = ""
    required: bool = False
    legal_basis: str = ""   # this column's basis, where it differs from the policy's for its type


def _check_regex(pattern: str | None) -> str | None:
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression ({exc})") from None
    return pattern


class KeepRule(_Rule):
    """Publish a value of a closed vocabulary, in its codebook spelling, or of a declared format.

    Without a vocabulary or a format a column would publish whatever an officer typed (a
    name in ``weather``), so one of ``domain``, ``codebook`` or ``pattern`` is required;
    free text is a ``narrative`` or ``free_text`` column instead.
    """

    type: Literal["keep"]
    domain: tuple[str, ...] | None = None   # after the build phase: inline values + codebooks'
    codebook: tuple[str, ...] = ()          # names of files in the policy's codebooks_dir
    spellings: dict[str, str] = Field(default_factory=dict)
    pattern: str | None = None              # full match, for formats such as report numbers
    list_separator: str | None = None       # a cell is a list; each item must be in the domain
    free_entry_prefix: str | None = None    # "Other: SUV" is read as "SUV" (a form's free entry)
    leading_value: bool = False             # "Accord LX" is read as "Accord" (the words after it dropped)
    # What to do with a value outside the vocabulary: blank it (default), publish "Other", or block.
    on_unknown: Literal["other", "blank", "block"] = "blank"
    # The value a blank cell stands for, where the form makes blank an answer: the RMS writes its
    # frisk and search flags as "Y" or nothing (an unticked box), published as 1 or 0. A value
    # outside the vocabulary is still blanked, so a blank public cell means "not a flag".
    blank_means: str | None = None

    @field_validator("codebook", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @field_validator("pattern")
    @classmethod
    def _valid_pattern(cls, value: str | None) -> str | None:
        return _check_regex(value)

    @model_validator(mode="after")
    def _closed(self) -> KeepRule:
        if self.pattern is None and self.domain is None and not self.codebook:
            raise ValueError("a keep column needs a domain, a codebook or a pattern "
                             "(free text is a narrative or free_text column)")
        for name in self.codebook:
            if not re.fullmatch(r"[a-z0-9_]+", name):
                raise ValueError(f"codebook: '{name}' is not a codebook name (a-z, 0-9, _)")
        if self.pattern is not None:
            if self.domain is not None or self.codebook or self.spellings or self.list_separator \
                    or self.free_entry_prefix or self.leading_value:
                raise ValueError("pattern cannot be combined with domain, codebook, spellings, "
                                 "list_separator, free_entry_prefix or leading_value")
            if self.on_unknown == "other":
                raise ValueError("on_unknown: other needs a domain; a value outside a pattern "
                                 "is blanked or blocks")
        if self.blank_means is not None and (self.domain is None or self.blank_means not in self.domain
                                             or self.list_separator is not None):
            raise ValueError("blank_means must be one of the column's own domain values (not a list column)")
        if self.blank_means is not None and not self.required:
            # an optional column absent from an export is read as blank in every row: it must
            # stop the load, not become a column of answers nobody gave
            raise ValueError("blank_means needs required: true")
        return self


class DropRule(_Rule):
    """Not identifying, but not published either (e.g. an internal record number)."""

    type: Literal["drop"]
    reason: str


TermKind = Literal[
    "first_name", "middle_name", "last_name", "full_name", "alias", "dob",
    "address", "phone", "license", "plate", "other",
]


class RawOnlyRule(_Rule):
    """Identifying; never published. Its value feeds the record-linked PII terms."""

    type: Literal["raw_only"]
    term: TermKind


PSEUDONYM_DIGITS = 16  # hex digits of the HMAC a pseudonym keeps: 64 bits, checked for collisions


class PseudonymRule(_Rule):
    """An identifier the City publishes (a record number, a person id), published as a keyed
    pseudonym: ``prefix`` and 16 hex digits of an HMAC of the raw value under the release's
    value-token key, with a purpose label naming the dataset and the ``namespace``.

    Its scope: within one release the same raw value always gets the same pseudonym (in every
    row and file), so the joins the City's column allows within a year still work; another
    year (another key, unless the policy sets ``linkable_tokens``), another dataset or another
    namespace gives another pseudonym, so nothing links across them. Only the key holder can
    recompute one; the raw value is never published and is searched for by the leak checks. A
    raw value not of ``pattern`` (its declared format) is blanked and reported."""

    type: Literal["pseudonym"]
    prefix: str                 # "REC-": what the public value starts with
    namespace: str              # two columns share pseudonyms only when they share a namespace
    pattern: str                # the raw value's format (full match)

    @field_validator("pattern")
    @classmethod
    def _valid_pattern(cls, value: str) -> str:
        _check_regex(value)
        return value

    @field_validator("prefix")
    @classmethod
    def _valid_prefix(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Z]{2,6}-", value) or value == "RPT-":
            raise ValueError("a pseudonym prefix is 2 to 6 capital letters and a hyphen (not RPT-, the report keys')")
        return value

    @field_validator("namespace")
    @classmethod
    def _valid_namespace(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", value):
            raise ValueError("a namespace is a short name of a-z, 0-9, _ and -")
        return value

    @property
    def public_pattern(self) -> str:
        """What every published value of the column matches (a blank aside)."""
        return f"{re.escape(self.prefix)}[0-9A-F]{{{PSEUDONYM_DIGITS}}}"


class DatetimeRule(_Rule):
    """A date and time published no finer than ``precision`` (an hour by default: the minute of a stop
    narrows who was stopped); a value that is not a real date, or is coarser, is blanked and reported."""

    type: Literal["datetime"]
    precision: Literal["minute", "hour", "day", "month"] = "hour"


class StreetNameRule(_Rule):
    """Street name only: any house number, unit or range is removed, and what is left must read
    as a street: its last word a street type from ``codebook`` (or an intersection of such, or
    a numbered route). Anything else (a name typed into the field) is blanked and reported."""

    type: Literal["street_name"]
    codebook: tuple[str, ...] = ("street_types",)
    domain: tuple[str, ...] | None = None   # after the build phase: the codebooks' street types

    @field_validator("codebook", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value


class AgeRule(_Rule):
    """Whole years; outside [minimum, maximum] is blanked (and reported).

    Minors are banded by the dataset's ``juvenile`` rule, not here.
    """

    type: Literal["age"]
    minimum: int = 0
    maximum: int = 110


class IntegerRule(_Rule):
    """A whole number (at most 15 digits) within [minimum, maximum] when they are set; anything else is
    blanked and reported."""

    type: Literal["integer"]
    minimum: int | None = None
    maximum: int | None = None


class ZipRule(_Rule):
    """Five-digit ZIP with its leading zero; anything else is blanked."""

    type: Literal["zip"]


class NarrativeRule(_Rule):
    """Free text: published only after PII redaction and the second scan."""

    type: Literal["narrative"]


class FreeTextRule(_Rule):
    """Short free text (a clothing description): redacted, verified and scanned like a narrative."""

    type: Literal["free_text"]


class OfficerRule(_Rule):
    """An officer's name or ID: published per ``narrative.officer_policy`` (the City publishes them)."""

    type: Literal["officer"]
    roster: bool = True  # names in this column form the officer roster for the narratives
    # The format of an ID column (full match); anything else is blanked and reported.
    pattern: str | None = None

    @field_validator("pattern")
    @classmethod
    def _valid_pattern(cls, value: str | None) -> str | None:
        return _check_regex(value)


# ---- derived columns: computed from published columns, never read from an export ---------
# They say how coarse a published value is or where a row sits among rows already published,
# so they add no detail; each is named by the policy like every other public column.

class DatePrecisionRule(_Rule):
    """How precise each row's value of the ``datetime`` column ``of`` is (``hour``, ``day``,
    ``month``...): a date coarsened by the juvenile rule or by k-anonymity is published as the
    start of its period, and this column says so. Blank where the date is blank."""

    type: Literal["date_precision"]
    of: str


class AgeBandRule(_Rule):
    """The band of the ``age`` column ``of`` where the age is banded (a minor's), else blank;
    the age column then holds whole years only, blank where banded."""

    type: Literal["age_band"]
    of: str


class SequenceRule(_Rule):
    """The row's position (1, 2, ...) among the published rows with the same ``of`` value (a
    report's bases or persons): with ``of`` it identifies a row. It repeats what the file's order
    already shows."""

    type: Literal["sequence"]
    of: str


ColumnRule = Annotated[
    KeepRule | DropRule | RawOnlyRule | PseudonymRule | DatetimeRule | StreetNameRule | AgeRule | IntegerRule | ZipRule
    | NarrativeRule | FreeTextRule | OfficerRule | DatePrecisionRule | AgeBandRule | SequenceRule,
    Field(discriminator="type"),
]

FREE_TEXT_TYPES = frozenset({"narrative", "free_text"})
DERIVED_TYPES = frozenset({"date_precision", "age_band", "sequence"})
DERIVED_RULES = (DatePrecisionRule, AgeBandRule, SequenceRule)  # their rules, each naming the column it is ``of``
DERIVED_OF = {"date_precision": "datetime", "age_band": "age", "sequence": None}  # the type ``of`` must name
RULE_TYPES = ("keep", "drop", "raw_only", "pseudonym", "datetime", "street_name", "age", "integer",
              "zip", "narrative", "free_text", "officer", "date_precision", "age_band", "sequence")
