"""Reading the PII rule files: YAML in, ConfigError (file and key path) out.

Phase one of the three-phase config (read -> validate -> build): ``read_yaml`` only
parses, ``validate`` turns pydantic's errors into one ConfigError that names the file
and the key path (``redaction_rules/pii/recognizers.yaml: recognizers[3].score``),
and ``rules_digest`` fingerprints every file so the manifest can record which rules ran.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from release.config.policy import read_yaml as policy_yaml
from release.errors import ConfigError

Model = TypeVar("Model", bound=BaseModel)

RULE_FILES = ("recognizers.yaml", "allow_list.yaml", "lexicon.yaml", "names.yaml", "addresses.yaml")


def key_path(location: tuple[int | str, ...]) -> str:
    """('recognizers', 3, 'score') -> 'recognizers[3].score'."""
    text = ""
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def read_yaml(path: Path) -> Any:
    """Parse one rule file; a missing or malformed file is a ConfigError (``config.policy.read_yaml``, the one
    reader: a file that is not UTF-8 text or a folder is a ConfigError too, not an internal error or a model
    that cannot load)."""
    if not path.exists():
        raise ConfigError("rule file is missing", file=str(path))
    return policy_yaml(path)


def validate(model: type[Model], data: Any, path: Path, prefix: tuple[int | str, ...] = ()) -> Model:
    """Validate ``data`` into ``model``; errors name the file and key path, never values."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [
            f"{key_path(prefix + tuple(error['loc']))}: {error['msg']}"
            for error in exc.errors(include_input=False)
        ]
        raise ConfigError("; ".join(problems), file=str(path)) from None


def load_rule_file(model: type[Model], path: Path) -> Model:
    """Read and validate one rule file (an empty file is an empty mapping)."""
    return validate(model, read_yaml(path) or {}, path)


def rules_digest(rules_dir: Path) -> str:
    """SHA-256 over the rule files' names and bytes, in a fixed order."""
    digest = hashlib.sha256()
    for name in RULE_FILES:
        path = rules_dir / name
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes() if path.is_file() else b"<missing>")
        digest.update(b"\0")
    return digest.hexdigest()
