"""What approve, publish, decide, verify and audit trust: the rules folder, the dataset policy
in it (matched against the hash the manifest records), and its trusted-signers list.

The rules folder is ``--rules`` or the installed copy, never the bundle or the working
directory. The approvals a release needs (roles and counts) and the roles whose decisions
apply are read from the dataset policy there: whoever can edit a bundle can edit its
manifest, so the manifest's copy of those numbers is never consulted. The manifest does
record the policy's hash, so a policy other than the one the bundle was built with is
refused, not silently used.

``trusted_signers.yaml`` in the same folder works like ssh's ``allowed_signers``: each entry
is a public key, the person's name and a role. A signature by a key not on the list counts
for nothing, and the name shown for a signer is always the list's, never the one typed when
signing. The shipped list is empty: nothing can be approved until an administrator adds a
signer, and every refusal says how.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from release import paths
from release.bundle.jsonl import text_lines
from release.bundle.layout import APPROVALS, sha256_file
from release.config.policy import ApprovalsPolicy, DatasetPolicy, load_policy, load_yaml_model
from release.datasets.generations import manifest_problem, policy_of_manifest
from release.errors import ApprovalError, ConfigError, ReleaseError
from release.keys.signing import SignedRecord, public_key_id, short_id, verify_record

SIGNERS_FILE = paths.SIGNERS_FILE
# Each approval's second signature, its seal: the same key signs the manifest's hash with the hash of the
# bundle's private part, which manifest.json no longer names (round 31, C1). It stays with the bundle:
# published, the private part's hash would carry whatever the analyst ground into that file.
SEALS = "approvals_bundle.jsonl"


class TrustedSigner(BaseModel):
    """One line of ``trusted_signers.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    role: str = Field(min_length=1)
    public_key: str

    @field_validator("public_key")
    @classmethod
    def _readable(cls, value: str) -> str:
        public_key_id(value)  # ValueError names the accepted forms
        return value


class SignersFile(BaseModel):
    """``trusted_signers.yaml`` as read: its list may be empty (the shipped one is), and then nothing
    can be approved."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    signers: tuple[TrustedSigner, ...] = ()


@dataclass(frozen=True)
class Signer:
    """A trusted signer as every message and record shows them: the list's name and role, never the
    name typed when signing, and the id of their key."""

    name: str
    role: str
    key_id: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role, "key_id": self.key_id}

    def label(self) -> str:
        return f"{self.name} ({self.role}, key {short_id(self.key_id)})"


@dataclass(frozen=True)
class TrustedSigners:
    """The rules folder's trusted signers by key id, with the file they came from, so a refusal can
    say which file an administrator edits."""

    path: Path
    by_key_id: Mapping[str, Signer]

    def get(self, key_id: str) -> Signer | None:
        return self.by_key_id.get(key_id)

    def how_to_trust(self, key_id: str, public_key: str, roles: tuple[str, ...]) -> str:
        """The refusal for an untrusted key: exactly what an administrator adds, and where."""
        entry = (f'- {{name: "<full name>", role: {roles[0] if len(roles) == 1 else "|".join(roles) or "<role>"}, '
                 f'public_key: "{public_key}"}}')
        where = (f"{self.path} lists no trusted signer yet, so nothing can be approved or decided until an "
                 "administrator adds one" if not self.by_key_id else f"key {short_id(key_id)} is not in {self.path}")
        return (f"{where}: to trust key {short_id(key_id)}, an administrator adds the line {entry} under "
                f"'signers:' in that file (the rules folder passed with --rules, or the installed copy)")


def load_signers(rules_dir: Path) -> TrustedSigners:
    """The rules folder's trusted signers; a missing file trusts no one."""
    path = rules_dir / SIGNERS_FILE
    if not path.is_file():
        return TrustedSigners(path, {})
    listed = load_yaml_model(path, SignersFile)
    by_key_id: dict[str, Signer] = {}
    for number, signer in enumerate(listed.signers):
        key = public_key_id(signer.public_key)
        if key in by_key_id:
            raise ConfigError(f"signers[{number}].public_key: this key is listed twice", file=str(path))
        by_key_id[key] = Signer(signer.name.strip(), signer.role.strip(), key)
    return TrustedSigners(path, by_key_id)


# ---- the policy a bundle is judged by ---------------------------------------------------

def recorded_policy_hash(manifest: Mapping[str, object], policy_name: str) -> str | None:
    from release.bundle.manifest_recorded import Recorded

    recorded = {f.get("path"): f.get("sha256") for f in Recorded.of(manifest).rule_files}
    value = recorded.get(f"{policy_name}.yaml")
    return value if isinstance(value, str) else None


def bundle_policy_name(dataset: str, manifest: Mapping[str, object]) -> str:
    """The policy the bundle is judged by: the dataset's, or its generation's (the one that held its
    year; in a split year, by the name the manifest records, mapped through ``release.datasets.generations``;
    an unknown one is a ConfigError)."""
    return policy_of_manifest(dataset, manifest)


def bundle_policy(dataset: str, rules_dir: Path | None,
                  manifest: Mapping[str, object]) -> tuple[DatasetPolicy | None, list[str]]:
    """The bundle's policy from the rules folder, and why it cannot be trusted if so (a policy
    other than the one recorded, or a generation recorded that did not hold the bundle's year)."""
    folder = paths.chosen_dir("redaction_rules", rules_dir)[0]
    try:
        name = bundle_policy_name(dataset, manifest)
        path = folder / f"{name}.yaml"
        policy = load_policy(path)
    except ReleaseError as exc:
        return None, [exc.one_line()]
    if recorded_policy_hash(manifest, name) != sha256_file(path):
        return policy, [f"{path.name}: differs from the rule file recorded in the manifest; "
                        "use the rules folder the release was built with (--rules)"]
    generation = manifest_problem(dataset, manifest)
    return policy, [f"{path.name}: {generation}"] if generation else []


@dataclass(frozen=True)
class Trust:
    """What a command judges a bundle by: its policy's approval rules and the signers list."""

    rules_dir: Path
    approvals: ApprovalsPolicy
    signers: TrustedSigners


def trust_for(dataset: str, rules_dir: Path | None, manifest: Mapping[str, object],
              error: type[ReleaseError] = ApprovalError) -> Trust:
    """The trust of approve, publish and decide: refused when the policy differs from the one
    the bundle was built with."""
    folder = paths.chosen_dir("redaction_rules", rules_dir)[0]
    policy, problems = bundle_policy(dataset, rules_dir, manifest)
    if policy is None or problems:
        try:
            name = bundle_policy_name(dataset, manifest)
        except ReleaseError:
            name = dataset
        raise error(problems[0], file=str(folder / f"{name}.yaml"), rule="policy")
    changed = _signers_changed_since_build(folder, manifest)
    if changed:
        raise error(changed, file=str(folder / SIGNERS_FILE), rule="trusted-signers")
    return Trust(folder, policy.approvals, load_signers(folder))


def _signers_changed_since_build(folder: Path, manifest: Mapping[str, object]) -> str | None:
    """A bundle built while the policy trusted someone is judged by that same list: a rules
    copy in which anyone who can run ``approve`` added their own key is refused. (A bundle
    built before any signer was listed takes the list as it is now: an administrator adds
    the first signers after the first build.)"""
    from release.bundle.manifest_recorded import Recorded

    given = Recorded.of(manifest)
    rules = given.rules
    if rules is None or not rules.get("trusted_signers"):
        return None
    recorded = {f.get("path"): f.get("sha256") for f in given.rule_files}
    path = folder / SIGNERS_FILE
    current = sha256_file(path) if path.is_file() else None
    if recorded.get(SIGNERS_FILE) == current:
        return None
    return (f"{SIGNERS_FILE} differs from the list the bundle was built with ({rules.get('trusted_signers')} "
            "signer(s)); use the rules folder the release was built with, or rebuild it after the "
            "administrator's change to the list")


# ---- approvals of a bundle ----------------------------------------------------------------

@dataclass(frozen=True)
class ApprovalStatus:
    """A bundle's approvals against what its policy requires: counted per role from the valid ones,
    with every line that did not count and why; ``ok`` only with no problem and no role short."""

    signed: tuple[Signer, ...]           # valid approvals of this manifest by trusted signers, one per key
    problems: tuple[str, ...]            # lines that do not verify, are for another bundle, or untrusted
    required: Mapping[str, int]          # role -> distinct trusted signers, from the policy

    def counted(self) -> dict[str, int]:
        return {role: sum(1 for s in self.signed if s.role == role) for role in self.required}

    def missing(self) -> dict[str, int]:
        counted = self.counted()
        return {role: need - counted[role] for role, need in self.required.items() if counted[role] < need}

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing()

    def summary(self) -> str:
        counted = self.counted()
        return ", ".join(f"{role} {counted[role]} of {need}" for role, need in self.required.items())

    def to_dict(self) -> dict[str, object]:
        return {"signers": [s.to_dict() for s in self.signed], "required": dict(self.required),
                "counted": self.counted(), "missing": self.missing(), "problems": list(self.problems)}


def approval_problems(record: SignedRecord, *, dataset: str, year: int, manifest_sha256: str) -> list[str]:
    problems = verify_record(record, "approval")
    if record.payload.get("dataset") != dataset or record.payload.get("year") != year:
        problems.append("approval is for another dataset or year")
    if record.payload.get("manifest_sha256") != manifest_sha256:
        problems.append("approval is for another manifest (the bundle changed since it was approved)")
    return problems


def seal_fields(dataset: str, year: int, manifest_sha256: str, private_sha256: str) -> dict[str, object]:
    """What an approval's seal signs (``gate.approve``)."""
    return {"dataset": dataset, "year": year, "manifest_sha256": manifest_sha256, "private_sha256": private_sha256}


def sealed_keys(seals_file: Path, fields: Mapping[str, object]) -> set[str]:
    """The keys whose seal in ``seals_file`` signs exactly ``fields`` (the bundle as it is now)."""
    lines = text_lines(seals_file)
    found = set()
    for line in lines:
        try:
            record = SignedRecord.from_line(line)
        except ValueError:
            continue
        if not verify_record(record, "seal") and all(record.payload.get(k) == v for k, v in fields.items()):
            found.add(record.key_id)
    return found


def approval_keys(approvals_file: Path) -> list[str]:
    """The key id of each signed line of ``approvals_file``, in its order."""
    lines = text_lines(approvals_file)
    keys = []
    for line in lines:
        try:
            keys.append(SignedRecord.from_line(line).key_id)
        except ValueError:
            continue
    return keys


def approval_status(approvals_file: Path, *, dataset: str, year: int, manifest_sha256: str,
                    trust: Trust, private_sha256: str | None = None, sealed: bool = False) -> ApprovalStatus:
    """Every line of ``approvals.jsonl``, verified and matched against the trusted signers. With
    ``sealed`` (a bundle, not a published copy), an approval counts only with its signer's seal of this
    manifest and of the bundle's private part as it is now (``private_sha256``; None: it is missing)."""
    signed: dict[str, Signer] = {}
    problems: list[str] = []
    seals = sealed_keys(approvals_file.with_name(SEALS), seal_fields(dataset, year, manifest_sha256, private_sha256)) \
        if sealed and private_sha256 is not None else set()
    keys = approval_keys(approvals_file)
    if keys != sorted(set(keys)):  # round 32, D1: which lines, how many and in what order carried bits
        problems.append(f"{APPROVALS}: not one line per key in key-id order, as approve writes it (a key's second "
                        "approval, or lines reordered), rule duplicate-approval")
    lines = text_lines(approvals_file)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = SignedRecord.from_line(line)
        except ValueError:
            problems.append(f"{APPROVALS} line {number}: not a well-formed approval line")
            continue
        where = f"{APPROVALS} line {number} (key {short_id(record.key_id)})"
        found = approval_problems(record, dataset=dataset, year=year, manifest_sha256=manifest_sha256)
        signer = trust.signers.get(record.key_id)
        if signer is None and not found:
            found.append(f"not a trusted signer in {trust.signers.path}")
        if sealed and not found and record.key_id not in seals:
            found.append(f"no seal by the same key of the bundle's private part as it is now ({SEALS}): the private "
                         "part or its files changed since it was approved, or the approval was copied from another "
                         "bundle")
        problems += [f"{where}: {p}" for p in found]
        if signer is not None and not found:
            signed.setdefault(record.key_id, signer)
    return ApprovalStatus(tuple(signed.values()), tuple(problems), dict(trust.approvals.required))


def trusted_signer(trust: Trust, key_id: str, public_key: str, roles: tuple[str, ...],
                   reviewer: str | None = None) -> Signer:
    """The signer a key belongs to, refused unless trusted with one of ``roles``; a
    ``reviewer`` name given on the command line must be the list's name for that key."""
    signer = trust.signers.get(key_id)
    if signer is None:
        raise ApprovalError(trust.signers.how_to_trust(key_id, public_key, roles),
                            file=str(trust.signers.path), rule="trusted-signers")
    if signer.role not in roles:
        raise ApprovalError(f"{signer.label()} has role {signer.role}; this needs one of: {', '.join(roles)} "
                            "(the policy's approvals section)", file=str(trust.signers.path), rule="signer-role")
    if reviewer and reviewer.strip() != signer.name:
        raise ApprovalError(f"key {short_id(key_id)} belongs to {signer.name!r} in the trusted signers, "
                            "not to the --reviewer given; omit --reviewer or use that name",
                            file=str(trust.signers.path), rule="reviewer")
    return signer
