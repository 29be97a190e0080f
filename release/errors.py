"""One exception tree for the whole toolkit; each class owns its exit code.

    ReleaseError (1)                  base; never raised directly
    ├── ConfigError (3)               a rule file, suite or option is wrong (the user's config)
    ├── InputError (4)                the raw export cannot be read as the contract says
    ├── BlockingFinding (5)           the data were read, but a check says "do not publish"
    ├── BudgetError (6)               the privacy ledger refuses the spend
    ├── ApprovalError (7)             approve/publish refused (missing or invalid approval, changed files)
    ├── AuditFailure (8)              an audit check failed
    └── EnvironmentProblem (9)        a pinned component (spaCy model, key file) is missing or broken

Exit code 2 is click's usage error; 0 is success. Messages name file, line (of the raw
file, for an input error), row key, column and rule, and never carry a cell value: callers
must build them from names and counts only.
"""

from __future__ import annotations


class ReleaseError(Exception):
    """The base of the tree: a message built from names and counts, and where it points (file, line, row key,
    column, rule)."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        row_key: str | None = None,
        column: str | None = None,
        rule: str | None = None,
        details: list[dict[str, object]] | None = None,
    ) -> None:
        self.message = message
        self.details = details or []
        self.file = file
        self.line = line
        self.row_key = row_key
        self.column = column
        self.rule = rule
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = [
            f"{label} {value}"
            for label, value in (
                ("file", self.file),
                ("line", self.line),
                ("row", self.row_key),
                ("column", self.column),
                ("rule", self.rule),
            )
            if value
        ]
        prefix = f"{', '.join(where)}: " if where else ""
        return f"{prefix}{self.message}"

    def to_dict(self) -> dict[str, object]:
        return {
            "error": type(self).__name__,
            "exit_code": self.exit_code,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "row_key": self.row_key,
            "column": self.column,
            "rule": self.rule,
            "details": self.details,
        }


class ConfigError(ReleaseError):
    """A rule file, suite or option is wrong: the user fixes the configuration, not the data."""

    exit_code = 3


class InputError(ReleaseError):
    """The raw export cannot be read as the contract says (a file, column, encoding or row key is not as declared)."""

    exit_code = 4


class BlockingFinding(ReleaseError):
    """The data were read, but a check says "do not publish"; the findings say which."""

    exit_code = 5


class BudgetError(ReleaseError):
    """The privacy ledger refuses the spend, or cannot be used to record it."""

    exit_code = 6


class ApprovalError(ReleaseError):
    """Approve or publish refused: a missing or invalid approval, or files changed since it was signed."""

    exit_code = 7


class AuditFailure(ReleaseError):
    """A check of a finished bundle, or of a published copy of one, failed."""

    exit_code = 8


class EnvironmentProblem(ReleaseError):
    """A pinned component (spaCy model, key file, Ray) is missing or broken: this machine is at fault, not the
    configuration or the data."""

    exit_code = 9


EXIT_CODES: dict[str, int] = {
    "success": 0,
    "internal error": ReleaseError.exit_code,
    "usage error (click)": 2,
    **{cls.__name__: cls.exit_code for cls in (
        ConfigError, InputError, BlockingFinding, BudgetError,
        ApprovalError, AuditFailure, EnvironmentProblem,
    )},
}
