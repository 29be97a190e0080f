"""The manifest held to what the build writes, key by key and string by string (issue #12, round 25).

``manifest.json`` is copied to the portal beside the public files. In attack round 25 (M-notes) an
analyst holding the release key added the protected table's exact counts to it (a ``dataset_notes``
item, a new top-level key), bound the manifest again on the ledger, and approve, publish, the audit
and ``verify`` passed. So, with the trusted rules, every reader also requires (``manifest_problems``):

1. **its shape** (``release.bundle_manifest``): every key at every level is one the build writes
   (rule manifest-keys);
2. **the dataset's notes**: each ``dataset_notes`` line is one of the lines its dataset's module
   declares (``NOTES``, ``datasets.Note``), with only numbers, or the trusted policy's words, in the
   slots (rule dataset-notes);
3. **the publication notes**: regenerated from the trusted policy and the counts recounted from the
   public files (the juvenile reports' rows under a pseudonymous key, the cells a leading ' makes
   text), equal line for line (rule publication-notes);
4. **the strings generated from the policy**: ``parameters`` and ``pseudonyms`` as the trusted policy
   gives them, the privacy units named in ``privacy`` those of the trusted ``privacy.yaml``, the
   components those the build records, the identifiers and hashes of their form (rule manifest-text).

Messages name the key path and rule, never the value.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from release.trusted_release import Trusted

_HEX32, _HEX64 = re.compile(r"[0-9a-f]{32}"), re.compile(r"[0-9a-f]{64}")
_INSTANT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00")
FORMS = {"run_id": _HEX32, "hmac_key_id": _HEX32, "created_at": _INSTANT}  # identifiers the build draws or stamps
STATUSES = ("draft", "blocked")


def manifest_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """Every way the manifest's keys and strings depart from what the build writes under the trusted rules."""
    from release import datasets
    from release.bundle_manifest import shape_problems

    problems = shape_problems(manifest)
    notes = manifest.get("dataset_notes")
    problems += [f"manifest.json dataset_notes[{n}]: not a note the {trusted.dataset} build writes (only numbers "
                 "in its slots), rule dataset-notes"
                 for n in datasets.note_problems(trusted.dataset, trusted.policy, notes if isinstance(notes, list) else [])]
    return problems + _publication_problems(trusted, manifest, public) + _text_problems(trusted, manifest)


def _csv_cells(path: Path) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.reader(handle))[1:]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []  # unreadable: the integrity checks report it


def recounted_notes(trusted: Trusted, public: Path) -> list[str]:
    """The publication notes the build writes for the public files under ``public``: the policy's text,
    with the rows of juvenile reports under a pseudonymous key and the cells a leading ' makes text
    recounted from the files."""
    from release.assemble import publication_notes
    from release.cells import neutralized
    from release.stages import juvenile

    made_text = sum(neutralized(row) for path in sorted(public.rglob("*.csv")) for row in _csv_cells(path))
    apart = 0
    rule = trusted.policy.juvenile
    if rule is not None and rule.enabled and not juvenile.pseudonymous_keys(trusted.policy):
        key = re.compile(juvenile.PUBLIC_KEY_PATTERN)
        for file_policy in (fp for fp in trusted.policy.files.values() if fp.publish):
            rows = _csv_cells(public / file_policy.public_file.format(year=trusted.year))
            header = _header(public / file_policy.public_file.format(year=trusted.year))
            if file_policy.link_column in header:
                at = header.index(file_policy.link_column)
                apart += sum(1 for row in rows if len(row) > at and key.fullmatch(row[at]))
    return publication_notes(apart, made_text, trusted.policy, trusted.year)


def _header(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _publication_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    if manifest.get("publication_notes") == recounted_notes(trusted, public):
        return []
    return ["manifest.json publication_notes: not the notes the build writes from the trusted policy with the counts "
            "of the public files (rule publication-notes)"]


def _text_problems(trusted: Trusted, manifest: Mapping[str, Any]) -> list[str]:
    """The strings the trusted policy generates, and the identifiers' forms."""
    from release.assemble import COMPONENTS
    from release.stages import pseudonyms

    problems = [f"manifest.json {key}: not of the form the build writes (rule manifest-text)"
                for key, form in FORMS.items() if not (isinstance(manifest.get(key), str) and form.fullmatch(manifest[key]))]
    if manifest.get("status") not in STATUSES:
        problems.append("manifest.json status: not a status the build writes (rule manifest-text)")
    policy, year = trusted.policy, trusted.year
    parameters = manifest.get("parameters")
    if isinstance(parameters, dict) and "policy" in parameters and parameters != {
            "year": year, "policy": policy.model_dump(mode="json", include={"juvenile", "narrative", "public_keys"}),
            "approvals": policy.approvals.model_dump(mode="json")}:
        problems.append("manifest.json parameters: not the parameters the trusted policy gives (rule manifest-text)")
    if manifest.get("pseudonyms", []) != pseudonyms.manifest_section(policy, year):
        problems.append("manifest.json pseudonyms: not what the trusted policy says of its pseudonymized columns "
                        "(rule manifest-text)")
    components = manifest.get("components")
    if isinstance(components, dict) and not set(components) <= {"python", "release", *COMPONENTS}:
        problems.append("manifest.json components: names a component the build does not record (rule manifest-text)")
    privacy, units = manifest.get("privacy"), set(trusted.privacy.units)
    for key in ("rho_cap", "rho_spent", "rho_charged_by_this_build"):
        named = privacy.get(key) if isinstance(privacy, dict) else None
        if isinstance(named, dict) and not set(named) <= units:
            problems.append(f"manifest.json privacy.{key}: names a privacy unit the trusted privacy.yaml does not "
                            "declare (rule manifest-text)")
    return problems
