"""The bundle's manifest as a typed, versioned model: every key at every level is one the build writes.

Issue #12, attack round 25 (M-notes): an analyst holding the release key copied an honest paid bundle,
added the protected table's exact counts to ``manifest.json`` (a ``dataset_notes`` item, a new
top-level key), bound it again on the ledger, and approve, publish, the audit and ``verify`` passed:
the portal's copy of the manifest carried the counts. ``Manifest`` is the shape the build writes
(``release.build.assemble``, ``release.stages.publish``, ``release.bundle.manifest_parts``); every model forbids
keys it does not name, so a key the build never writes is refused wherever it is put. What the
strings may say is held by ``release.audit.trusted_manifest``.

``manifest_version`` 1 is the only version so far: the model also takes the keys older builds of
version 1 wrote (``outputs[].entries``, ``ledger_head.entries``). Since round 29 the file itself is
written one way only (sorted keys, each value of its type: ``release.bundle.file_form``, ``type_problems``),
so a bundle written before then is refused by rule file-form and is rebuilt.
A manifest is read as a whole (public part and, in a bundle, its private part merged:
``manifest_parts.merged``); a published copy has no private part, so those keys are optional.

One reader and one writer (issue #14): the build writes through ``written`` (the model's dump, in the
build's key order: the same bytes), and every reader gets a ``Recorded`` (``release.bundle.manifest_recorded``)
from ``release.bundle.read.read_manifest``. A bundle is a folder anyone can edit, and the checks that hold it
to this model (``shape_problems``, ``type_problems``, the trusted checks) run after others that must not stop
at a malformed value, each naming its own refusal; so ``Recorded`` reads each key as a typed value whatever
the file holds (none raises), and ``Recorded.checked()`` is this model once the checks have passed. Nothing
but ``Recorded`` and ``release.audit.trusted_manifest`` (which compares the raw JSON key by key) reads
the manifest as a dict (``tests/bundle/test_manifest_contract.py``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from release.bundle.decisions import Decision as _Decision
from release.bundle.manifest_privacy import Privacy, written_as
from release.bundle.manifest_privacy import Strict as _Strict
from release.model import Finding as _Finding
from release.model import InputFile as _InputFile
from release.privacy.record_risk import RiskResult as _RiskResult


class _Hashed(_Strict):
    path: str
    sha256: str


class PolicyFiles(_Strict):
    """The rules or suites folder: every file with its hash (``assemble.policy_files``)."""

    origin: str | None = None  # private part (round 30), as are folder, default and differs_from_installed
    folder: str | None = None
    files: list[_Hashed] = []
    default: bool | None = None
    differs_from_installed: list[str] = []
    trusted_signers: int | None = None


class Validation(_Strict):
    """One validation run's counts (``checks.validate_raw``, ``checks.validate_public``)."""

    expectations: int
    passed: int
    failed_critical: int
    failed_warning: int


class Checks(_Strict):
    """The build's checks: the validation runs, the blocking findings and the verify rounds (private part)."""

    validate_raw: Validation | None = None
    validate_public: Validation | None = None
    blocking_findings: int
    verify_rounds: int | None = None


class Band(_Strict):
    """A juvenile age band: its label and the highest age it holds."""

    label: str
    maximum: int


class Juvenile(_Strict):
    """The policy's juvenile rule, as ``parameters.policy.juvenile`` records it."""

    enabled: bool
    under: int
    age_column: str
    dob_column: str | None = None
    bands: list[Band] = []
    withhold: list[str] = []
    withheld_text: str
    date_precision: str


class Narrative(_Strict):
    """The policy's narrative settings, as ``parameters.policy.narrative`` records them."""

    rules_dir: str
    threshold: float
    second_scan_threshold: float
    officer_policy: str


class PolicyParameters(_Strict):
    """The policy's settings the packet shows (``parameters.policy``)."""

    juvenile: Juvenile | None = None
    narrative: Narrative | None = None
    public_keys: str | None = None


class Approvals(_Strict):
    """The approvals the policy asked for when the bundle was built (shown in the packet only)."""

    required: dict[str, int] = {}
    decide: list[str] = []
    raw_replay: bool | None = None  # absent in a bundle built before the setting existed


class Parameters(_Strict):
    """``parameters``: the year, the policy's settings and its approvals (``assemble.manifest_parameters``)."""

    year: int | None = None
    policy: PolicyParameters | None = None
    approvals: Approvals | None = None
    approvals_required: int | None = None  # older builds (read by nothing since issue #11)


class Purposes(_Strict):
    """The labels each derived key was made under (``hmac.purposes``)."""

    key_id: str
    log_trailer: str
    value_tokens: str


class Hmac(_Strict):
    """``hmac``: how the release's keys were derived from the master key."""

    derivation: str
    version: int
    key_id: str
    linkable_tokens: bool
    purposes: Purposes


class EngineVersions(_Strict):
    """The PII engine's versions (``{}`` when no engine ran)."""

    pii_engine: str | None = None
    presidio: str | None = None
    spacy: str | None = None
    model: str | None = None
    model_version: str | None = None
    model_fingerprint: str | None = None
    rules_digest: str | None = None


class WorkerVersions(_Strict):
    """The engine versions some of the run's workers reported, and how many did."""

    versions: EngineVersions
    workers: int


class Execution(_Strict):
    """Where the PII work ran: the engine, its workers and their versions (private part)."""

    engine: str
    workers: int
    started: bool | None = None
    cluster: bool | None = None
    ray: str | None = None
    worker_versions: list[WorkerVersions] = []
    leak_checks: Literal["workers"] | None = None  # on Ray: the leak checks ran on the actors
    table_counts: Literal["workers"] | None = None  # on Ray: the tables' group-by ran on the actors


class Generation(_Strict):
    """The record system the export came from and its policy (``generations.Choice.manifest_section``)."""

    name: str
    title: str
    policy: str
    years: str
    chosen_by: str


class Pseudonym(_Strict):
    """A column published as pseudonyms and how they are made (``pseudonyms.manifest_section``)."""

    file: str
    column: str
    form: str
    pattern: str
    hmac: str
    namespace: str
    scope: str


class DerivedFile(_Strict):
    """A file the dataset's module derives, with its columns (``derived_files``)."""

    path: str
    name: str
    columns: list[str]


if TYPE_CHECKING:  # to a type checker each model is the dataclass it validates (its instances are)
    Risk = _RiskResult
else:
    Risk = written_as(_RiskResult)  # ``record_risk.RiskResult``


class Output(_Strict):
    """A file listed with its hash and size (``outputs``; ``bundle_files`` in the private part)."""

    path: str
    sha256: str
    bytes: int
    rows: int | None = None
    entries: int | None = None  # older builds: the redaction log's entry count (now private)


class Supersedes(_Strict):
    """The version this one replaces: its folder and its manifest's hash."""

    version: int
    bundle: str
    manifest_sha256: str


# the private part's items, as the build writes them from its own dataclasses
if TYPE_CHECKING:
    Finding = _Finding
    Decision = _Decision
    InputFile = _InputFile
else:
    Finding = written_as(_Finding)
    Decision = written_as(_Decision)  # each signed by a trusted reviewer
    InputFile = written_as(_InputFile)


class Inputs(_Strict):
    """The raw export's files with their hashes (private part)."""

    origin: str | None = None
    files: list[InputFile] = []


class RedactionLog(_Strict):  # private part
    """The redaction log's entry count, head hash and counts by action and type."""

    entries: int
    head: str
    by_action_and_type: dict[str, int] = {}


class Manifest(_Strict):
    """``manifest.json`` (with ``review/manifest_private.json`` merged in a bundle)."""

    manifest_version: Literal[1]
    dataset: str
    year: int
    version: int | None = None
    supersedes: Supersedes | None = None
    status: str
    run_id: str | None = None  # private part (round 30), as are created_at, components, pii_engine, expectations
    created_at: str | None = None
    components: dict[str, str] = {}
    pii_engine: EngineVersions = EngineVersions()
    inputs: Inputs | None = None
    rules: PolicyFiles
    expectations: PolicyFiles | None = None
    parameters: Parameters | None = None
    hmac_key_id: str
    hmac: Hmac | None = None
    redaction_log: RedactionLog | None = None
    checks: Checks | None = None  # private part (round 26: its free numbers stay with the bundle)
    findings: list[Finding] = []
    review_decisions: list[Decision] = []
    dataset_notes: list[str] = []
    publication_notes: list[str] = []
    derived_files: list[DerivedFile] = []
    privacy: Privacy = Privacy()
    record_risk: list[Risk] = []
    execution: Execution | None = None  # private part
    generation: Generation | None = None
    pseudonyms: list[Pseudonym] = []
    outputs: list[Output] = []
    bundle_files: list[Output] = []  # private part (round 31, C1): the files that stay with the bundle


def read(manifest: Mapping[str, Any]) -> Manifest:
    """The manifest as the model (raises ``ValidationError``: ``shape_problems`` says where)."""
    return Manifest.model_validate(dict(manifest))


def written(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest as the build writes it (``release.build.assemble``; ``publish.write_bundle`` adds the files'
    hashes and splits it): held to the model, so a key it does not name or a value not of its type is the build's
    own error (``ValidationError``), and dumped from it with each object's keys in the order the build gave them
    (the private part is written in that order, ``manifest.json`` with its keys sorted): the bytes are the build's."""
    ordered: dict[str, Any] = _in_order(read(manifest).model_dump(mode="json", exclude_unset=True), manifest)
    return ordered


def _in_order(dumped: Any, given: Any) -> Any:
    """``dumped`` with each object's keys in ``given``'s order (a model dumps its fields in their own order)."""
    if isinstance(dumped, dict) and isinstance(given, Mapping):
        ordered = {key: _in_order(dumped[key], given[key]) for key in given if key in dumped}
        return {**ordered, **{key: value for key, value in dumped.items() if key not in ordered}}
    if isinstance(dumped, list) and isinstance(given, list | tuple) and len(dumped) == len(given):
        return [_in_order(item, like) for item, like in zip(dumped, given, strict=True)]
    return dumped


_EXTRA = ("extra_forbidden", "unexpected_keyword_argument")  # a model's, a dataclass's


def _named(part: str | int) -> str:
    """A key path's part as a message may show it: a position, or a key of the plain form the build's own
    keys have; any other key (text, digits: it may hold anything) is not repeated."""
    return str(part) if isinstance(part, int) or re.fullmatch(r"[a-z_]{1,40}", part) else "(a key)"


def shape_problems(manifest: Mapping[str, Any]) -> list[str]:
    """Every key path where the manifest is not of the shape the build writes: a key it does not write
    (rule manifest-keys) or a value not of its type. Names the path, never the value."""
    try:
        read(manifest)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(_named(part) for part in error["loc"]) or "(the whole manifest)"
            what = "a key the build does not write" if error["type"] in _EXTRA else \
                "missing" if error["type"] == "missing" else "not of the type the build writes"
            problems.append(f"manifest.json {where}: {what} (rule manifest-keys)")
        return sorted(set(problems))
    return []


def type_problems(manifest: Mapping[str, Any]) -> list[str]:
    """Where a value of the manifest file is not written with the type the build writes: the model's
    reading written back must give the same JSON. An integer written as ``18.0`` (or a decimal as
    ``1``) reads as the same number wherever values are compared, so the choice carried a bit per value
    (round 29). A value the model leaves open (``int | float``, a measurement's serialized arguments)
    is held by the checks that replay it."""
    try:
        typed = read(manifest).model_dump(mode="json", exclude_unset=True)
    except ValidationError:
        return []  # shape_problems names it
    where = _first_difference(typed, manifest, ())
    return [] if where is None else [
        f"manifest.json {'.'.join(_named(p) for p in where) or '(the whole manifest)'}: not written with the type the "
        "build writes (an integer as a decimal, or the reverse), rule manifest-keys"]


def _first_difference(ours: Any, theirs: Any, path: tuple[str | int, ...]) -> tuple[str | int, ...] | None:
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            found = _first_difference(ours.get(key), theirs.get(key), (*path, key))
            if found is not None:
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            found = _first_difference(a, b, (*path, index))
            if found is not None:
                return found
        return None
    return None if type(ours) is type(theirs) and ours == theirs else path
