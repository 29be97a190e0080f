"""Shared fixtures: a tiny hand-written raw FIOE export, the shipped policy, and signers.

Approvals and decisions count only when signed by a key in the rules folder's
``trusted_signers.yaml``, which ships empty: tests make their own keys and trust them in a
copy of the shipped rules under ``tmp_path`` (``trusted_rules``, ``new_signer``), and pass
that folder with ``--rules`` / ``rules_dir``.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import shutil
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from release.config.policy import DatasetPolicy, load_policy
from release.keys.signing import keygen

ROOT = Path(__file__).resolve().parents[1]

CONTACT_COLUMNS = [
    "fc_num", "contact_date", "contact_officer", "contact_officer_name", "supervisor",
    "supervisor_name", "street", "city", "state", "zip", "incident_address", "stop_duration",
    "circumstance", "basis", "vehicle_year", "vehicle_state", "vehicle_model", "vehicle_color",
    "vehicle_style", "vehicle_type", "vehicle_plate", "key_situations", "contact_reason", "weather",
]
PERSON_COLUMNS = [
    "person_id", "fc_num", "contact_date", "first_name", "middle_name", "last_name", "alias", "dob",
    "home_address", "phone", "license_number", "sex", "race", "age", "ethnicity", "build",
    "hair_style", "skin_tone", "otherclothing", "deceased", "license_state", "license_type",
    "was_frisked",
]


def contact(fc_num: str, **values: str) -> dict[str, str]:
    row = {c: "" for c in CONTACT_COLUMNS}
    row.update(fc_num=fc_num, contact_date="2020-03-04 17:25:00", contact_officer="111111",
               contact_officer_name="QUILLFEATHER, ODO", supervisor="022222",
               supervisor_name="MARGUERITE VANTASSEL", street="BLUE HILL AVE", city="DORCHESTER",
               state="MA", zip="02124", incident_address="45 Blue Hill Ave", stop_duration="15",
               circumstance="Stopped", basis="Reasonable Suspicion ", vehicle_plate="7ZQ-K92",
               key_situations=" Body Worn Camera", weather="Sunny",
               contact_reason="Officers observed the operator, near Blue Hill Ave. FIO'd and released.")
    row.update(values)
    return row


def person(fc_num: str, **values: str) -> dict[str, str]:
    """A persons row; unless given, its ``person_id`` is one per name and date of birth (a person
    has one id in every report, two people two ids: the build joins rows by either)."""
    row = {c: "" for c in PERSON_COLUMNS}
    row.update(fc_num=fc_num, contact_date="2020-03-04 17:25:00",
               first_name="Zebulon", last_name="Quartermaine", alias="Zeebo", dob="03/14/1999",
               home_address="12 Magazine St", phone="617-555-0142", license_number="S12345678",
               sex="Male", race="Black", age="21", ethnicity="Not of Hispanic Origin",
               build="Thin", was_frisked="0", license_state="MA", license_type="Class D")
    row.update(values)
    if "person_id" not in values:
        who = f"{row['first_name']}|{row['last_name']}|{row['dob']}".encode()
        row["person_id"] = str(30_000_000_000 + zlib.crc32(who) % 1_000_000_000)
    return row


def public_key(report: str, dataset: str = "fioe", year: int = 2020) -> str:
    """The pseudonym a report is published under, under the tests' HMAC key (what an auditor
    holding the key recomputes; the public files never map it back)."""
    from release.keys.hmac import derive_keys, existing_key
    from release.stages.juvenile import public_report_key

    master = existing_key()
    assert master is not None, "no HMAC key yet: build first"
    return public_report_key(report, dataset, derive_keys(master, dataset, year).tokens)


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None,
              encoding: str = "utf-8", newline: str = "\n") -> Path:
    columns = columns or list(rows[0])
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, lineterminator=newline,
                                extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_export(folder: Path, contacts: list[dict[str, str]], persons: list[dict[str, str]],
                 **kwargs: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(folder / "fieldcontact.csv", contacts, **kwargs)  # type: ignore[arg-type]
    write_csv(folder / "fieldcontact_name.csv", persons, **kwargs)  # type: ignore[arg-type]
    return folder


@pytest.fixture(scope="session")
def policy() -> DatasetPolicy:
    return load_policy(ROOT / "redaction_rules" / "fioe.yaml")


@pytest.fixture()
def tiny_export(tmp_path: Path) -> Path:
    contacts = [contact("FC20000001"), contact("FC20000001", basis="Intel"),
                contact("FC20000002", contact_reason="Observed group. Released.")]
    persons = [person("FC20000001"), person("FC20000002", first_name="Hortensia", last_name="Bramblewood",
                                             age="16", dob="2004-01-02")]
    return write_export(tmp_path / "raw", contacts, persons)


def authoritative_ledger() -> Path:
    """The ledger the shipped privacy policy names (``~/.local/share/release/...``), under the
    current ``$HOME``: the tests give each test a home of its own, as each deployment has one."""
    from release.config.privacy import load_privacy_policy
    rules = ROOT / "redaction_rules"
    return load_privacy_policy(rules).ledger_path(rules)


@pytest.fixture(autouse=True, scope="session")
def _session_ledger_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The authoritative ledger is the one redaction_rules/privacy.yaml names, never the user's:
    ``$HOME`` is a session folder while module fixtures build (their ledger is the session's), and
    each test then gets a home, hence a ledger, of its own (``_ledger_per_test``). Nothing else
    moves the ledger: ``$RELEASE_LEDGER`` may only name it (issue #12, attack 2f)."""
    saved = {k: os.environ.get(k) for k in ("HOME", "RELEASE_LEDGER")}
    os.environ.pop("RELEASE_LEDGER", None)
    os.environ["HOME"] = str(tmp_path_factory.getbasetemp() / "session-home")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def session_ledger(factory: pytest.TempPathFactory) -> Path:
    """The authoritative ledger the module fixtures charged (the session home's)."""
    return factory.getbasetemp() / "session-home" / ".local" / "share" / "release" / "privacy_ledger.sqlite"


@pytest.fixture(autouse=True)
def _ledger_per_test(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test charges a ledger of its own, in a home of its own (tests marked ``shared_ledger``
    keep the session's, where their module fixtures built)."""
    if request.node.get_closest_marker("shared_ledger") is None:
        monkeypatch.setenv("HOME", str(tmp_path / "home"))


def ledger_copy_for_test(factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, folder: Path) -> Path:
    """A test that works on a copy of a module fixture's bundle gets a copy of the session ledger
    that bundle charged, as its own authoritative ledger (in a home of its own: what it publishes
    stays its own)."""
    monkeypatch.setenv("HOME", str(folder / "home-copy"))
    ledger = authoritative_ledger()
    ledger.parent.mkdir(parents=True, exist_ok=True)
    if session_ledger(factory).is_file():
        shutil.copyfile(session_ledger(factory), ledger)
    return ledger


def build_copy_for_test(out: Path, folder: Path, factory: pytest.TempPathFactory,
                        monkeypatch: pytest.MonkeyPatch) -> Path:
    """``folder/out``: a copy of a module fixture's releases folder, with a copy of the ledger
    it charged as this test's authoritative ledger; the test may tamper with both."""
    copy = folder / "out"
    shutil.copytree(out, copy)
    ledger_copy_for_test(factory, monkeypatch, folder)
    return copy


@pytest.fixture(autouse=True, scope="session")
def _validation_engine_loaded() -> None:
    """Great Expectations imported and its context made once per test process, before any build: a
    build forks its validation process (``validation_process``), which then inherits both rather
    than importing GE again (about 3.5 s of a 40-report build's 6.5). A CLI run still imports GE in
    that process, as the subprocess tests show (``test_cli_help``, the witness and cluster tests)."""
    from release.stages.validate_engine import _engine

    _engine()


@pytest.fixture(autouse=True, scope="session")
def _hmac_key_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests never touch the user's key file (session-wide, before any module fixture)."""
    saved = {k: os.environ.get(k) for k in ("RELEASE_HMAC_KEY", "RELEASE_HMAC_KEY_FILE")}
    os.environ.pop("RELEASE_HMAC_KEY", None)
    os.environ["RELEASE_HMAC_KEY_FILE"] = str(tmp_path_factory.getbasetemp() / "keys" / "hmac.key")
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def trusted_rules(folder: Path) -> Path:
    """``folder/rules``: a copy of the shipped rules (same policy hashes) whose trusted signers
    the test fills in, with a witness for the ledger (``folder/rules/witness``), as an
    organisation's rules folder names one: approve and publish refuse noisy tables without it."""
    rules = folder / "rules"
    if not rules.is_dir():
        shutil.copytree(ROOT / "redaction_rules", rules)
        name_witness(rules, "witness")
    return rules


def rules_copy_for_test(rules: Path, folder: Path) -> Path:
    """``folder/rules``: a copy of a module fixture's rules folder (same policy, same signers) with a
    witness of the test's own. One witness anchors one ledger: a module fixture builds with rules
    naming none (the session ledger stays unanchored), and each test that writes to its copy of the
    ledger anchors it here (tests sharing one witness over copies of a ledger are attack 2f-2)."""
    copy = folder / "rules"
    shutil.copytree(rules, copy, ignore=shutil.ignore_patterns("witness"))
    name_witness(copy, "witness")
    return copy


def name_witness(rules: Path, witness: str | Path | None) -> Path:
    """Set (or, with None, remove) ``witness:`` in ``rules/privacy.yaml``, as an administrator would."""
    path = rules / "privacy.yaml"
    text = re.sub(r"(?m)^witness:.*\n", "", path.read_text(encoding="utf-8"))
    if witness is not None:
        text = text.replace("\nledger:", f"\nwitness: {witness}\nledger:", 1)
    path.write_text(text, encoding="utf-8")
    return path


def trust(rules: Path, public_key: str, name: str, role: str = "legal") -> None:
    """Add a signer to ``rules/trusted_signers.yaml``, as an administrator would."""
    path = rules / "trusted_signers.yaml"
    listed = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    signers = list(listed.get("signers") or [])
    signers.append({"name": name, "role": role, "public_key": public_key})
    path.write_text(yaml.safe_dump({"signers": signers}, sort_keys=False), encoding="utf-8")


def new_signer(folder: Path, name: str, role: str = "legal", *, trusted: bool = True,
               passphrase: bytes | None = None) -> Path:
    """A new key pair under ``folder/keys``, trusted (by default) in ``trusted_rules(folder)``."""
    path = folder / "keys" / (re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".pem")
    made = keygen(path, passphrase)
    if trusted:
        trust(trusted_rules(folder), made["public_key"], name, role)
    return path


@dataclass
class BuildWorld:
    """A test's scene around a copy of a module fixture's FIOE build: the raw export, the copied
    releases folder, a rules folder trusting "A. Counsel" (legal) and that signer's key."""

    tmp: Path
    raw: Path
    out: Path
    rules: Path
    counsel: Path
    monkeypatch: pytest.MonkeyPatch

    @property
    def site(self) -> Path:
        return self.tmp / "site"

    @property
    def bundle(self) -> Path:
        return self.out / "fioe" / "2020"

    def cmd(self, name: str, *more: str, out: Path | None = None) -> list[str]:
        return [name, "fioe", "2020", "--out", str(out or self.out), "--rules", str(self.rules), *more]


def build_world(base: tuple[Path, Path], tmp_path: Path, factory: pytest.TempPathFactory,
                monkeypatch: pytest.MonkeyPatch, world: type[BuildWorld] = BuildWorld) -> BuildWorld:
    raw, out = base
    copy = build_copy_for_test(out, tmp_path, factory, monkeypatch)
    return world(tmp_path, raw, copy, trusted_rules(tmp_path), new_signer(tmp_path, "A. Counsel"), monkeypatch)


def invoke(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> tuple[int, str, str]:
    """The CLI through click's runner, the one every CLI test uses: (exit code, stdout, stderr).
    ``env`` is set for the run only, ``input`` is what the user types (a passphrase). An exception
    the CLI lets escape fails the test with its traceback (``catch_exceptions=False``) instead of
    passing as exit code 1. A plain function, not a fixture: module-scoped fixtures build with it."""
    from click.testing import CliRunner

    from release import cli
    result = CliRunner().invoke(cli.main, list(args), env=env, input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def invoke_ok(*args: str) -> str:
    """Run a command that must succeed; its stdout."""
    code, stdout, stderr = invoke(*args)
    assert code == 0, stdout + stderr
    return stdout


def invoke_refused(code: int, refusal: str, *args: str) -> str:
    """Run a command that must be refused with ``code``, a message holding ``refusal`` and no traceback; the
    message with its whitespace collapsed."""
    got, stdout, stderr = invoke(*args)
    said = " ".join((stdout + stderr).split())
    assert got == code, said
    assert refusal in said, said
    assert "Traceback" not in said
    return said


def small_fioe_build(factory: pytest.TempPathFactory, seed: int = 11, reports: int = 40) -> tuple[Path, Path]:
    """A small generated FIOE export and its draft bundle, built through the CLI: (raw, out)."""
    from release.synth.fioe import generate_fioe, write_fioe

    raw = factory.mktemp("raw") / "export"
    write_fioe(generate_fioe(2020, seed=seed, n_reports=reports), raw)
    out = factory.mktemp("out")
    code, _, stderr = invoke("fioe", "2020", "--input", str(raw), "--out", str(out), "--json")
    assert code == 0, stderr
    return raw, out


def sign_outside_approve(bundle: Path, key: Path, dataset: str, year: int, reviewer: str = "A. Counsel",
                         role: str = "legal", timestamp: str | None = None) -> None:
    """A reviewer's key signs the bundle as it is, without ``release approve`` (its checks skipped): the
    approval line and its seal of the bundle's private part (``gate.approve`` writes both), which is what
    publish and the audit must check again."""
    from release.bundle.jsonl import utc_now
    from release.bundle.layout import APPROVALS, sha256_file
    from release.bundle.manifest_parts import private_sha256
    from release.bundle.trust import SEALS, seal_fields
    from release.keys.signing import append_record, insert_record, load_private_key, sign_record

    private = load_private_key(key)
    digest = sha256_file(bundle / "manifest.json")
    append_record(bundle / SEALS, sign_record(private, "seal", seal_fields(dataset, year, digest,
                                                                         private_sha256(bundle) or "")))
    insert_record(bundle / APPROVALS, sign_record(private, "approval", {
        "dataset": dataset, "year": year, "manifest_sha256": digest, "reviewer": reviewer, "role": role, "note": "",
        "timestamp": timestamp or utc_now()}))


def rehash_kept(bundle: Path) -> None:
    """Re-hash the files that stay with the bundle into its private part, as an analyst who edited one of
    them would (since round 31 they are listed there, ``bundle_files``, not in manifest.json)."""
    import json

    from release.bundle.layout import sha256_file
    from release.bundle.manifest_parts import BUNDLE_FILES, PRIVATE_FILE, private_text

    path = bundle / PRIVATE_FILE
    private = json.loads(path.read_text(encoding="utf-8"))
    for item in private[BUNDLE_FILES]:
        item["sha256"], item["bytes"] = sha256_file(bundle / item["path"]), (bundle / item["path"]).stat().st_size
    path.write_text(private_text(private), encoding="utf-8")


def valid_typed_package(public: Path) -> dict:
    """``frictionless.validate`` of a bundle's public folder, which must pass with typed fields
    (foreign keys resolved); returns the descriptor."""
    import json

    import frictionless

    report = frictionless.validate(str(public / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])[:20]
    package = json.loads((public / "datapackage.json").read_text(encoding="utf-8"))
    types = {f["type"] for r in package["resources"] for f in r["schema"]["fields"]}
    assert types - {"string"}, "every field is a string"
    assert package["licenses"] and package["sources"] and package["privacy"] and "created" not in package  # round 30
    assert package["changes"].startswith("Differences from the City's current public files")
    return package


class Recorder:
    """A ``Progress`` that keeps every stage's total and the increments it was advanced by."""

    def __init__(self) -> None:
        self.stages: list[tuple[str, int | None, list[int]]] = []

    @contextlib.contextmanager
    def stage(self, name: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        steps: list[int] = []
        self.stages.append((name, total, steps))
        yield steps.append

    def named(self, prefix: str) -> list[tuple[str, int | None, list[int]]]:
        return [s for s in self.stages if s[0].startswith(prefix)]


# The longest modules first (pytest --durations): ``make test`` hands modules to its workers in this
# order (xdist ``--dist loadscope``), so the last module a worker starts is a short one and neither
# worker waits long at the end for the other. Within a module, and among the rest, the order is kept.
LONGEST_FIRST = (
    "audit/test_public_content.py", "witness/test_witness_service.py", "witness/test_witness_draws.py",
    "execution/test_engine_ray.py", "execution/test_engine_ray_years.py", "execution/test_engine_ray_cluster.py",
    "witness/test_witness_counts.py", "audit/test_record_replay.py", "tables/test_suppress_years.py",
    "audit/test_trusted_release.py", "witness/test_witness_declared.py", "datasets/test_fioe_split_year.py",
    "datasets/test_fioe_generations.py", "governance/test_decision_ledger.py", "governance/test_ledger_anchor.py",
    "security/test_governance_attacks.py", "security/test_linkage_attacks.py", "review/test_review_workspace.py",
    "cli/test_exit_codes.py", "governance/test_publish_ledger.py", "witness/test_witness_statements.py",
    "governance/test_ledger_channels.py", "cli/test_cli_blocked.py", "cli/test_cli_governance.py", "pii/test_jobs.py",
    "stages/test_verify_rounds.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0].removeprefix("tests/"), len(rank)))
