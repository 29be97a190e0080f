"""The manifest held to what the build writes, key by key and string by string (issue #12, round 25).

``manifest.json`` is copied to the portal beside the public files. In attack round 25 (M-notes) an
analyst holding the release key added the protected table's exact counts to it (a ``dataset_notes``
item, a new top-level key), bound the manifest again on the ledger, and approve, publish, the audit
and ``verify`` passed. So, with the trusted rules, every reader also requires (``manifest_problems``):

1. **its shape** (``release.bundle.manifest``): every key at every level is one the build writes
   (rule manifest-keys);
2. **the dataset's notes**: each ``dataset_notes`` line is one of the lines its dataset's module
   declares (``NOTES``, ``datasets.Note``), with only numbers, or the trusted policy's words, in the
   slots (rule dataset-notes);
3. **the publication notes**: regenerated from the trusted policy and the counts recounted from the
   public files (the juvenile reports' rows under a pseudonymous key, the cells a leading ' makes
   text), equal line for line (rule publication-notes);
4. **every other string** (rule manifest-text): ``parameters``, ``pseudonyms``, ``hmac``,
   ``generation`` and ``derived_files`` regenerated from the trusted policy, the key's labels and the
   dataset's module; ``rules`` (the policy file's and the signers list's hashes, the signers' count:
   the rest of the section is private) from the trusted rules folder; each public CSV's ``rows`` its
   count of records; ``privacy.witness_tier`` the tier of the witness holding its head, or in a published copy
   that made its draws (round 30); the privacy
   units named in ``privacy`` those of the trusted ``privacy.yaml``, the tables of its private part
   the trusted tables policy's, the components those the build records; identifiers, hashes,
   versions, names, statuses and listed paths of the form the build writes (``FORMS``).

Held elsewhere: ``privacy.tables`` and ``record_risk`` (the statement, ``trusted_statement``), the
measurements (their fields hash to ``measurement_sha256``, which the ledger stores and the witness
signs), the witness statements (signed), the spends (``spend_policy``). In the private part only, never
in ``manifest.json`` (round 26, M-path, M-numbers; round 30, C1 and R1): the build machine's paths
(``rules.folder``, ``expectations``, ``privacy.ledger``, ``privacy.witness``: a reader cannot know
them), the checks' counts, the run's execution, its ids (``run_id``, ``privacy.run_id``) and time
(``created_at``), the component and engine versions, and (round 31, R1) the privacy ledger's head and length
with the witness's receipt (``privacy.ledger_head``) and the charge entries' hashes
(``privacy.measurements[].ledger_charge``, ``privacy.spends[].charge``), which the analyst sets by what they
append to the ledger (the charges kept item by item: ``manifest_parts.SPLIT_ITEMS``); in the private part their
form is still held.
``version`` and ``supersedes`` are held by ``trusted_release`` (the folder, the previous version's
manifest). Also free in the private part, which never leaves the bundle: the findings' messages and row
keys and the reviewers' decisions (notes included), which only the raw export could regenerate. Messages
name the key path and rule, never the value.

With ``release.bundle.manifest`` this module is the manifest's contract (issue #14): it is the one reader
outside that module that reads the manifest as the raw JSON object, key by key, because it compares what
is written (its keys, types and forms included) with what the build writes, whatever an edited file holds.
Every other reader reads a ``Recorded`` (``release.bundle.read.read_manifest``).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from release.audit.trusted_release import Trusted

_HEX32, _HEX64 = re.compile("[0-9a-f]{32}"), re.compile("[0-9a-f]{64}")
_VERSION = re.compile(r"[0-9][0-9A-Za-z.+-]{0,39}|not installed")  # a component's version, as metadata gives it
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")  # a file or rule name: no spaces, no sentences
_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}")
_WORD = re.compile(r"[a-z][a-z-]{0,39}")
# every string of the manifest not regenerated elsewhere, held to the form of what the build writes there
# (a key path, ``[]`` for every item of a list): identifiers it draws, hashes, versions, names
FORMS: dict[str, re.Pattern[str]] = {
    "run_id": _HEX32, "hmac_key_id": re.compile("[0-9a-f]{32}|[0-9a-f]{16}"),  # 16: a legacy key's id
    "created_at": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00"),
    "status": re.compile("draft|blocked"),
    "supersedes.bundle": re.compile(r"[a-z_]+/[0-9]{4}(-[a-z0-9]+)?(-v[0-9]+)?"), "supersedes.manifest_sha256": _HEX64,
    "components.*": _VERSION,
    "pii_engine.pii_engine": _VERSION, "pii_engine.presidio": _VERSION, "pii_engine.spacy": _VERSION,
    "pii_engine.model": _NAME, "pii_engine.model_version": _VERSION, "pii_engine.model_fingerprint": _HEX64,
    "pii_engine.rules_digest": _HEX64,
    "execution.engine": re.compile("local|ray"), "execution.ray": _VERSION,
    "inputs.origin": _WORD, "inputs.files[].name": _PATH, "inputs.files[].sha256": _HEX64,
    "inputs.files[].encoding": _NAME,
    "rules.origin": _WORD, "rules.files[].path": _PATH, "rules.files[].sha256": _HEX64,
    "rules.differs_from_installed[]": _PATH,
    "expectations.origin": _WORD, "expectations.files[].path": _PATH, "expectations.files[].sha256": _HEX64,
    "expectations.differs_from_installed[]": _PATH,
    "redaction_log.head": _HEX64,
    "outputs[].sha256": _HEX64, "outputs[].path": re.compile(r"public/.+"),
    "bundle_files[].sha256": _HEX64,
    "bundle_files[].path": re.compile(r"redaction_log\.jsonl|review/(validation_raw|validation_public|findings|"
                                      r"blocking)\.json|review/index\.html"),
    "record_risk[].verdict": re.compile("green|amber|red"),
    "privacy.ledger_id": _HEX64, "privacy.run_id": _HEX32, "privacy.witness_tier": re.compile("service|folder"),
    "privacy.ledger_head.ledger_id": _HEX64, "privacy.ledger_head.head": _HEX64,
    "privacy.item_fields.spends[].charge": _HEX64,  # private part, as ledger_head (round 31, R1)
    "privacy.measurements[].measurement_sha256": _HEX64, "privacy.measurements[].spec_sha256": _HEX64,
    "privacy.item_fields.measurements[].ledger_charge": _HEX64,
    "findings[].stage": _NAME, "findings[].code": re.compile(r"[a-z_]+(:[a-z_]+)?"),
    "findings[].severity": re.compile("blocking|warning|info"), "findings[].rule": _NAME,
}


def manifest_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """Every way the manifest's keys and strings depart from what the build writes under the trusted rules."""
    from release import datasets
    from release.bundle.manifest import shape_problems

    problems = shape_problems(manifest) + _public_part_problems(trusted, manifest, public)
    notes = manifest.get("dataset_notes")
    problems += [f"manifest.json dataset_notes[{n}]: not a note the {trusted.dataset} build writes (only numbers "
                 "in its slots), rule dataset-notes"
                 for n in datasets.note_problems(trusted.dataset, trusted.policy, trusted.year,
                                                 notes if isinstance(notes, list) else [])]
    return problems + _publication_problems(trusted, manifest, public) + _text_problems(trusted, manifest, public)


def _public_part_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """``manifest.json`` itself (the file the portal copies) holds no key of the private part
    (``manifest_parts.PRIVATE_NESTED``: round 26, M-path, M-numbers; nor the ledger's head or a charge's
    hash: round 31, R1), and the charges the private part keeps line up with its measurements and spends
    (``manifest``, merged with the bundle's private part: ``manifest_parts.split_items_problems``)."""
    import json

    from release.bundle.manifest import type_problems
    from release.bundle.manifest_parts import public_part_problems, split_items_problems

    path = public / "manifest.json"  # a published copy: beside its files; a bundle: beside public/
    try:
        raw = json.loads((path if path.is_file() else public.parent / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []  # the integrity checks name an unreadable manifest
    if not isinstance(raw, dict):
        return []
    return public_part_problems(raw) + split_items_problems(manifest) + type_problems(raw) \
        + _rules_problems(trusted, raw)


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
    from release.audit.trusted_release import published_file
    from release.build.assemble import publication_notes
    from release.stages import juvenile
    from release.stages.cells import neutralized

    # every CSV, a record file's parts included (they hold each of its rows once)
    made_text = sum(neutralized(row) for path in sorted(public.rglob("*.csv")) for row in _csv_cells(path))
    apart = 0
    rule = trusted.policy.juvenile
    if rule is not None and rule.enabled and not juvenile.pseudonymous_keys(trusted.policy):
        key = re.compile(juvenile.PUBLIC_KEY_PATTERN)
        for name, file_policy in trusted.policy.files.items():
            # the file whole (its CSV parts joined), as every reader of a record file reads it
            found = published_file(trusted, public, name) if file_policy.publish else None
            if found is not None and file_policy.link_column in found[1].columns:
                apart += sum(1 for value in found[1][file_policy.link_column] if isinstance(value, str)
                             and key.fullmatch(value))
    return publication_notes(apart, made_text, trusted.policy, trusted.year)


def _publication_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    if manifest.get("publication_notes") == recounted_notes(trusted, public):
        return []
    return ["manifest.json publication_notes: not the notes the build writes from the trusted policy with the counts "
            "of the public files (rule publication-notes)"]


def _values(node: object, path: str) -> list[object]:
    """The values at a key path (``a.b``, ``a[]`` every item, ``a.*`` every value; a key missing: none)."""
    if not path:
        return [node]
    head, _, rest = path.partition(".")
    key, every = head.removesuffix("[]"), head.endswith("[]")
    if key == "*":
        return [v for child in (node.values() if isinstance(node, dict) else ()) for v in _values(child, rest)]
    child = node.get(key) if isinstance(node, dict) else None
    if every:
        return [v for item in (child if isinstance(child, list) else ()) for v in _values(item, rest)]
    return _values(child, rest) if isinstance(node, dict) and key in node else []


def _text_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """The strings the trusted policy generates, and the identifiers' forms."""
    from release.build.assemble import COMPONENTS, manifest_parameters
    from release.stages import pseudonyms

    problems = [f"manifest.json {path}: not of the form the build writes (rule manifest-text)"
                for path, form in FORMS.items()
                if any(v is not None and not (isinstance(v, str) and form.fullmatch(v)) for v in _values(manifest, path))]
    policy, year = trusted.policy, trusted.year
    parameters = manifest.get("parameters")
    if parameters is not None and parameters != manifest_parameters(policy, year):  # an older form: rebuilt once
        problems.append("manifest.json parameters: not the parameters the trusted policy gives (rule manifest-text)")
    if manifest.get("pseudonyms", []) != pseudonyms.manifest_section(policy, year):
        problems.append("manifest.json pseudonyms: not what the trusted policy says of its pseudonymized columns "
                        "(rule manifest-text)")
    problems += _regenerated_problems(trusted, manifest, public)
    components = manifest.get("components")
    if isinstance(components, dict) and not set(components) <= {"python", "release", *COMPONENTS}:
        problems.append("manifest.json components: names a component the build does not record (rule manifest-text)")
    privacy, units = manifest.get("privacy"), set(trusted.privacy.units)
    tier = privacy.get("witness_tier") if isinstance(privacy, dict) else None
    if tier is not None and isinstance(privacy, dict) and tier != _tier(privacy):  # privacy is a dict whenever tier is set
        # round 30: a bit of the analyst's, and "folder" skipped a published copy's draw statement checks
        problems.append("manifest.json privacy.witness_tier: not the tier of the witness that holds the release's "
                        "ledger head (a service's receipt, or a folder's none) or, in a published copy, that made its "
                        "draws (a service's signed statements, or none), rule manifest-text")
    for key in ("rho_cap", "rho_spent", "rho_charged_by_this_build"):
        named = privacy.get(key) if isinstance(privacy, dict) else None
        if isinstance(named, dict) and not set(named) <= units:
            problems.append(f"manifest.json privacy.{key}: names a privacy unit the trusted privacy.yaml does not "
                            "declare (rule manifest-text)")
    return problems


def _tier(privacy: Mapping[str, Any]) -> str:
    """The witness tier a manifest's privacy section shows. With the bundle's private part, its ledger head: a
    service's has the signed receipt (approve and publish require it after the ledger's anchor there), a
    folder's none. A published copy has no head (round 31, R1: it is private): a service made its draws and
    signed a statement for each (``verify`` checks them all), a folder none."""
    head = privacy.get("ledger_head")
    if isinstance(head, dict):
        return "service" if head.get("receipt") else "folder"
    measurements = privacy.get("measurements")
    drawn = any(isinstance(m, dict) and m.get("witness_draw") for m in measurements) \
        if isinstance(measurements, list) else False
    return "service" if drawn else "folder"


def _regenerated_problems(trusted: Trusted, manifest: Mapping[str, Any], public: Path) -> list[str]:
    """The sections the build writes from the policy, the key's labels and the dataset's module alone."""
    import pandas as pd

    from release import datasets
    from release.datasets import generations
    from release.keys.hmac import DERIVATION, DERIVATION_VERSION, purpose_labels

    problems: list[str] = []
    section = manifest.get("hmac")
    if section is not None and section not in [
            {"derivation": DERIVATION, "version": DERIVATION_VERSION, "key_id": manifest.get("hmac_key_id"),
             "linkable_tokens": linkable, "purposes": purpose_labels(trusted.dataset, trusted.year, linkable)}
            for linkable in (False, True)]:
        problems.append("manifest.json hmac: not the key derivation the build records (rule manifest-text)")
    recorded, generation = manifest.get("generation"), generations.of_manifest(trusted.dataset, manifest)
    if recorded is not None and (generation is None or recorded not in [
            generations.Choice(generation, by, trusted.year).manifest_section() for by in ("year", "option", "headers")]):
        problems.append("manifest.json generation: not the generation section the build writes (rule manifest-text)")
    derived = []
    columns = datasets.derived_columns(trusted.dataset, trusted.policy, trusted.year)
    for relpath in sorted(datasets.derived_files(trusted.dataset, trusted.year)):
        made = datasets.derived_public_file(trusted.dataset, trusted.policy, trusted.year, pd.DataFrame())
        if made is not None and columns and (public / relpath.removeprefix("public/")).is_file():
            derived.append({"path": made.relpath, "name": made.name, "columns": columns})
    if manifest.get("derived_files", []) != derived:
        problems.append("manifest.json derived_files: not the derived files the build writes (rule manifest-text)")
    problems += _rows_problems(manifest, public)
    tables = {s.name for s in trusted.tables.tables} if trusted.tables else set()
    privacy = manifest.get("privacy")
    for key in ("linkage", "rows_dropped"):  # the private part's tables
        named = privacy.get(key) if isinstance(privacy, dict) else None
        if isinstance(named, dict) and not set(named) <= tables:
            problems.append(f"manifest.json privacy.{key}: names a table {trusted.where} does not declare "
                            "(rule manifest-text)")
    return problems


def _rules_problems(trusted: Trusted, public_part: Mapping[str, Any]) -> list[str]:
    """``manifest.json``'s ``rules`` regenerated from the trusted rules folder: the bundle's policy file and
    (once it lists someone) the trusted-signers list with their hashes, and the signers' count; the other
    files are in the private part (round 30, C1: a hash, a path or a difference of any value passed, and
    the portal published it). Approve and publish hold the same hashes in the merged manifest
    (``trust.trust_for``); a count of signers other than 0 or the list's is refused here."""
    from release.bundle.layout import sha256_file
    from release.bundle.manifest_parts import public_rules
    from release.bundle.trust import load_signers

    rules = public_part.get("rules")
    if not isinstance(rules, dict):
        return []  # shape_problems names it
    listed = rules.get("trusted_signers")
    expected: dict[str, Any] = {"trusted_signers": 0 if listed == 0 else len(load_signers(trusted.rules_dir).by_key_id)}
    expected["files"] = [{"path": path, "sha256": sha256_file(trusted.rules_dir / path)}
                         for path in sorted(public_rules(public_part)) if (trusted.rules_dir / path).is_file()]
    which = sorted(k for k in set(rules) | set(expected) if rules.get(k) != expected.get(k))
    return [f"manifest.json rules.{key}: not what the trusted rules folder gives (rule manifest-text); approve with "
            "the rules folder the release was built with, or rebuild it after the change" for key in which]


def _rows_problems(manifest: Mapping[str, Any], public: Path) -> list[str]:
    """Each public CSV's ``rows`` in ``outputs`` is its count of records, and no other output has one
    (``publish.write_bundle``): a count nothing compared was a free integer per file (round 30)."""
    outputs = manifest.get("outputs")
    problems = []
    for number, item in enumerate(outputs if isinstance(outputs, list) else [], start=1):
        path = item.get("path") if isinstance(item, dict) else None
        if not isinstance(path, str) or not path.startswith("public/"):
            if isinstance(item, dict) and "rows" in item:
                problems.append(f"manifest.json outputs[{number}].rows: the build counts rows of public CSV files "
                                "only (rule manifest-text)")
            continue
        csv_file = path.endswith(".csv")
        file = public / path.removeprefix("public/")
        if csv_file != ("rows" in item) or (csv_file and file.is_file() and item["rows"] != len(_csv_cells(file))):
            problems.append(f"manifest.json outputs[{number}].rows: not the count of the file's records the build "
                            "writes (rule manifest-text)")
    return problems
