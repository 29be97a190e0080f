"""Dataset policies: YAML -> frozen typed models, in three phases (read, validate, build).

A policy names every column the raw export may carry and what happens to it. Columns
are allow-listed: anything the policy does not name is dropped and reported. A published
text column is one of two kinds, never a third: a closed vocabulary (``keep`` with a
domain, a codebook or a pattern), or free text that the PII engine redacts (``narrative``,
``free_text``). Errors name the file and the key path
(``redaction_rules/fioe.yaml: files.persons.columns.age.type``). The build phase
(``release.config.codebooks``) replaces codebook names by their values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, Field, StrictBool, StrictInt, ValidationError, model_validator

from release.config.column_rules import (
    DERIVED_OF,
    DERIVED_RULES,
    DERIVED_TYPES,
    FREE_TEXT_TYPES,
    RULE_TYPES,
    AgeRule,
    ColumnRule,
    DatetimeRule,
    DropRule,
    FreeTextRule,
    Frozen,
    IntegerRule,
    KeepRule,
    NarrativeRule,
    OfficerRule,
    PseudonymRule,
    RawOnlyRule,
    StreetNameRule,
    TermKind,
    ZipRule,
)
from release.errors import ConfigError

__all__ = ["DERIVED_TYPES", "FREE_TEXT_TYPES", "RULE_TYPES", "AgeRule", "ColumnRule", "DatasetPolicy", "DatetimeRule",
           "DropRule", "FilePolicy", "FreeTextRule", "InputLimits", "IntegerRule", "JuvenilePolicy", "KeepRule",
           "NarrativePolicy", "NarrativeRule", "OfficerRule", "PseudonymRule", "PublishPolicy", "RawOnlyRule",
           "StreetNameRule", "TermKind", "ZipRule", "load_policy", "load_yaml_model", "read_yaml"]


# The most a policy may allow for a cell or a line: also the CSV parser's own field limit,
# so no cell of any size is ever held whole before the policy's limit refuses it.
CELL_CEILING = 16 * 2**20


class InputLimits(Frozen):
    """How big a raw file, its header, lines, cells and words may be; past one, the load
    stops with an input error naming file and line (never a value).

    Why: a hostile or broken export must fail fast and say where, not become a 33 MB manifest
    (100,000 columns), an opaque exit (a 50 MB cell is past spaCy's text limit) or hours of
    NER (spaCy's tokenizer is quadratic in a run of punctuation inside one word). Defaults
    are several times what the City's files hold: at most 25 columns, a cell of 4,486
    characters, a line of 2,533, a word of 54 (``max_word_chars``: at 128 a word of punctuation
    costs spaCy about 9 ms; at 4,000 it cost 8.3 s).
    """

    max_file_bytes: int = Field(default=256 * 2**20, ge=1)
    max_columns: int = Field(default=200, ge=1, le=100_000)
    max_line_chars: int = Field(default=100_000, ge=1, le=CELL_CEILING)
    max_cell_chars: int = Field(default=20_000, ge=1, le=CELL_CEILING)
    max_word_chars: int = Field(default=128, ge=1, le=CELL_CEILING)


class ParentLink(Frozen):
    file: str
    column: str


class FilePolicy(Frozen):
    """One raw file of the export and the public file it becomes: a rule for every column (what is
    published, and how), the key that names its rows in every message, the date that places a row in a year,
    and the link to its parent file."""

    raw_file: str
    public_file: str  # may contain {year}
    description: str = ""
    key_column: str
    date_column: str
    aliases: dict[str, str] = Field(default_factory=dict)
    parent: ParentLink | None = None
    # Years of rows kept: the release year and this many before it (rolling windows, e.g. a
    # partner's monthly series published for the release year and the two before).
    years_before: int = Field(default=0, ge=0, le=50)
    # A row whose date cannot be read cannot be placed in a year: "exclude" drops it with a
    # warning; "block" stops the release (exact official counts would silently fall short).
    unreadable_dates: Literal["exclude", "block"] = "exclude"
    # False for a raw file whose rows are only counted (e.g. firearms): its record-level
    # public frame is checked but not published; the dataset module derives what is.
    publish: bool = True
    columns: dict[str, ColumnRule]
    # Public columns that identify a row in the published file (datapackage.json primaryKey);
    # every one must be a public column. The parent link becomes a foreign key.
    primary_key: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _names_exist(self) -> FilePolicy:
        for name in (self.key_column, self.date_column):
            if name not in self.columns:
                raise ValueError(f"'{name}' is not one of this file's columns")
        if getattr(self.columns[self.key_column], "pattern", None) is None:
            # row keys appear in every message, log entry and review file: a key column
            # without a declared format would let any typed value (a name) into them
            raise ValueError(f"key column '{self.key_column}' needs a 'pattern' (a keep rule with a format)")
        for alias, target in self.aliases.items():
            if target not in self.columns:
                raise ValueError(f"alias '{alias}' points to unknown column '{target}'")
        public = self.public_columns()
        for name, rule in self.columns.items():
            if isinstance(rule, DERIVED_RULES):  # the rules of DERIVED_TYPES
                of = rule.of
                wanted = DERIVED_OF[rule.type]
                if of not in public or (wanted is not None and self.columns[of].type != wanted):
                    what = f"a public {wanted} column" if wanted else "a public column"
                    raise ValueError(f"columns.{name}.of: '{of}' is not {what} of this file")
        for name in self.primary_key:
            if name not in public:
                raise ValueError(f"primary_key: '{name}' is not a public column of this file")
        return self

    @property
    def link_column(self) -> str:
        """The column that names a row's report: the parent link's, or the file's own key."""
        return self.parent.column if self.parent else self.key_column

    def public_columns(self) -> list[str]:
        return [name for name, rule in self.columns.items()
                if rule.type not in ("drop", "raw_only")]

    def raw_columns(self) -> dict[str, ColumnRule]:
        """The columns read from the export: every rule but the derived ones."""
        return {name: rule for name, rule in self.columns.items() if rule.type not in DERIVED_TYPES}

    def free_text_columns(self) -> list[str]:
        """Columns of free text: published only after redaction and verification."""
        return [name for name, rule in self.columns.items() if rule.type in FREE_TEXT_TYPES]

    def raw_only_columns(self) -> dict[str, str]:
        return {name: rule.term for name, rule in self.columns.items() if rule.type == "raw_only"}

    def required_columns(self) -> list[str]:
        return [name for name, rule in self.columns.items() if rule.required]


class AgeBand(Frozen):
    label: str
    maximum: int


class JuvenilePolicy(Frozen):
    """A person under ``under`` years gets an age band; their reports lose the narrative,
    the street and the time of day."""

    enabled: bool = True
    age_column: str  # "<file>.<column>"
    # "<file>.<column>" of the date of birth, in the age column's file: when it can be read,
    # the age at the row's date is computed from it (it wins over the age column).
    dob_column: str | None = None
    under: int = 18
    bands: tuple[AgeBand, ...]
    withhold: tuple[str, ...] = ()          # "<file>.<column>" blanked in reports involving a minor
    date_precision: Literal["day", "month"] = "month"
    withheld_text: str = "[WITHHELD: JUVENILE]"


class NarrativePolicy(Frozen):
    """How free text is redacted: the PII rules folder (beside the policy), the score a detection needs,
    the lower score of the second scan over the redacted text (it looks harder at what is about to go
    out), and whether officers' names are kept."""

    officer_policy: Literal["keep", "redact"] = "keep"
    threshold: float = 0.35
    second_scan_threshold: float = 0.25
    rules_dir: str = "pii"


class ApprovalsPolicy(Frozen):
    """Who must sign before publication, and whose decisions apply: roles of the trusted
    signers (``trusted_signers.yaml`` beside the policy). Read from the policy by approve,
    publish and audit, never from a bundle's manifest."""

    required: dict[str, int] = Field(default_factory=lambda: {"legal": 1}, min_length=1)
    decide: tuple[str, ...] = Field(default=("legal",), min_length=1)
    # approve and publish replay the bundle from the raw export first (their --raw is required): what
    # only the raw export tells (a narrative or a note edited after the build and bound again, a forged
    # redaction) is held before approval and publication, not left to an audit run later (issue #12)
    raw_replay: bool = False

    @model_validator(mode="after")
    def _counts(self) -> ApprovalsPolicy:
        if any(count < 1 for count in self.required.values()):
            raise ValueError("required: every role needs a count of at least 1")
        return self


# Excel opens at most 1,048,576 rows, the header included: a part of 1,000,000 rows opens whole in it.
EXCEL_ROWS = 1_048_576
DEFAULT_CSV_ROW_LIMIT = 1_000_000


class PublishPolicy(Frozen):
    """How the record-level files are written when they are large (issue #15, section 4).

    Why: a spreadsheet cuts a CSV past its last row without a word, so a file of more than
    ``csv_row_limit`` rows goes out as consecutive CSV parts of at most that many rows each (every
    part with the header, ``release.bundle.record_parts``), and, with ``parquet``, the whole file once more
    as one Parquet file beside them, for the tools that read large files. A file within the limit is
    one CSV and nothing else. Strict types: a limit written as text ("1000000") or a flag as a
    number is a mistake in the policy, not something to guess at.
    """

    csv_row_limit: StrictInt = Field(default=DEFAULT_CSV_ROW_LIMIT, ge=1, le=EXCEL_ROWS - 1)
    parquet: StrictBool = True


class DatasetPolicy(Frozen):
    """A dataset's rule file (``redaction_rules/<name>.yaml``, one per record system where there are
    several): what each file of its export publishes and how, and the settings its stages read. Approve,
    publish and the audit read it from the trusted rules folder, never from a bundle's manifest."""

    dataset: str
    description: str = ""
    files: dict[str, FilePolicy]
    juvenile: JuvenilePolicy | None = None
    limits: InputLimits = Field(default_factory=InputLimits)
    publish: PublishPolicy = Field(default_factory=PublishPolicy)  # large record-level files: parts and Parquet
    narrative: NarrativePolicy | None = None
    tables_file: str | None = None
    codebooks_dir: str = "codebooks"   # beside this file: the shared vocabularies keep columns name
    approvals: ApprovalsPolicy = Field(default_factory=ApprovalsPolicy)
    # Value tokens of the redaction log under one key for every year of this dataset (the
    # same person's tokens then match across years); by default each year has its own key.
    linkable_tokens: bool = False
    # With juvenile protection on, each public report key is a keyed pseudonym ("pseudonym"):
    # the source's sequential numbers would bracket a withheld (juvenile) report's date between
    # its neighbours'. "source" keeps the source's numbers for the other reports (the packet
    # warns); juvenile reports are published under a pseudonym either way.
    public_keys: Literal["pseudonym", "source"] = "pseudonym"
    # Cell values this export writes for "no value", read as missing beside the loader's own
    # ('', NULL, None, N/A): the legacy FIO system writes "NO DATA ENTERED".
    missing_tokens: tuple[str, ...] = ()
    # Dataset-specific rules (exclusions, counting rules, k-anonymity...), validated by the
    # dataset's own module in release/datasets/ against its own frozen model.
    dataset_rules: dict[str, object] = Field(default_factory=dict)
    # The legal basis of each treatment, by column rule type (and "juvenile" for what the
    # juvenile rule withholds), as counsel states it; the review packet shows it per column.
    legal_basis: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> DatasetPolicy:
        unknown = sorted(set(self.legal_basis) - set(RULE_TYPES) - {"juvenile"})
        if unknown:
            raise ValueError(f"legal_basis: unknown rule type(s) {', '.join(unknown)} "
                             f"(expected: {', '.join(RULE_TYPES)}, juvenile)")
        for name, file in self.files.items():
            if file.parent and file.parent.file not in self.files:
                raise ValueError(f"files.{name}.parent names unknown file '{file.parent.file}'")
            if file.free_text_columns() and self.narrative is None:
                # without the engine's settings no engine runs, and the text would pass as is
                raise ValueError(f"files.{name}: free-text columns need the 'narrative' section")
        if self.juvenile:
            dob = (self.juvenile.dob_column,) if self.juvenile.dob_column else ()
            for ref in (self.juvenile.age_column, *dob, *self.juvenile.withhold):
                try:
                    self.column_ref(ref)
                except ValueError as exc:
                    raise ValueError(f"juvenile: {exc}") from None
            if dob and self.column_ref(dob[0])[0] != self.column_ref(self.juvenile.age_column)[0]:
                raise ValueError("juvenile: dob_column must be in the age column's file")
        return self

    def column_ref(self, ref: str) -> tuple[str, str]:
        file, _, column = ref.partition(".")
        if file not in self.files or column not in self.files[file].columns:
            raise ValueError(f"'{ref}' does not name a <file>.<column> of this policy")
        return file, column


# yaml.safe_load's loader on libyaml's parser when the wheel has it: the same data, about ten
# times faster (every policy, codebook and rule file of a build is read with it).
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> object:
    """Parse one rule file: the one YAML reader of every rule file (policies, tables, privacy, signers, codebooks,
    the PII rules). Whatever is wrong with the file (missing, a folder, not UTF-8, not YAML) is a ConfigError
    naming the file and, where known, the line: never the content, never an internal error."""
    try:
        with path.open(encoding="utf-8") as handle:
            return yaml.load(handle, Loader=YAML_LOADER)  # noqa: S506 (a safe loader)
    except FileNotFoundError:
        raise ConfigError("rule file not found", file=str(path)) from None
    except IsADirectoryError:
        raise ConfigError("a folder where a rule file belongs", file=str(path), rule="rule-file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text (byte {exc.start})", file=str(path), rule="rule-file") from None
    except OSError as exc:
        raise ConfigError(f"rule file cannot be read ({type(exc).__name__})", file=str(path),
                          rule="rule-file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"not valid YAML{where}", file=str(path)) from None


def _key_path(loc: tuple[object, ...]) -> str:
    """Pydantic's error location as the YAML key a user would look for: files.contacts.columns.age."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif str(item) in RULE_TYPES or str(item).endswith("Rule"):
            continue  # pydantic's discriminator tag, not a YAML key
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


_Model = TypeVar("_Model", bound=BaseModel)


def load_yaml_model(path: Path, model: type[_Model], *, top_level: str = "a mapping") -> _Model:
    """Read a YAML rule file into ``model``; the first problem becomes one ConfigError that
    names the file and the key (never a value from it)."""
    data = read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError(f"expected {top_level} at the top level", file=str(path))
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = _key_path(tuple(first["loc"]))
        message = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "union_tag_invalid":
            message = f"unknown rule type; valid types: {', '.join(RULE_TYPES)}"
        elif first["type"] == "extra_forbidden":
            message = "unknown key"
        raise ConfigError(f"{key}: {message}" if key else message, file=str(path)) from None


def load_policy(path: Path) -> DatasetPolicy:
    """Read and validate a policy, then build it: codebook names become their values."""
    from release.config.codebooks import resolve_codebooks  # builds on the models above
    return resolve_codebooks(load_yaml_model(path, DatasetPolicy), path)


def pseudonym_scope(policy: DatasetPolicy, year: int | None = None) -> str:
    """Which pseudonyms equal each other, in words (manifest, packet, datapackage)."""
    release = f"{policy.dataset} {year}" if year is not None else f"one {policy.dataset} year"
    if policy.linkable_tokens:
        return (f"every {policy.dataset} release of every year (linkable_tokens): the same raw value of the same "
                f"namespace has the same pseudonym in each")
    return (f"one release ({release}): the same raw value of the same namespace has the same pseudonym in every "
            f"row and file of it, and another one in any other year or dataset")
