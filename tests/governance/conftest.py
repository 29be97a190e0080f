"""Tiny release bundles built in tmp_path: load → fake redaction → generalize → write_bundle.

The PII engine is not needed: ``_redact`` replaces the subject's full name in a narrative
with ``[PERSON 1]`` and logs the event the real stage would log (offsets, HMAC token).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from conftest import ROOT, build_world, contact, new_signer, person, small_fioe_build, trusted_rules, write_export

from release import datasets
from release.build.assemble import (
    _spreadsheet_safe,
    manifest_parameters,
    policy_files,
    publication_notes,
    record_file,
    table_file,
)
from release.bundle import public_form
from release.bundle.log import build_log
from release.config.policy import DatasetPolicy, load_policy
from release.config.portal import package_properties
from release.config.privacy import risk_specs
from release.keys.hmac import ReleaseKeys, Tokenizer, derive_keys
from release.model import RedactionEvent, Tables
from release.review import inputs_from_build, render_review
from release.stages import pseudonyms
from release.stages.generalize import generalize
from release.stages.juvenile import minor_keys
from release.stages.load import ROW_KEY, load_export
from release.stages.publish import Bundle, write_bundle

if TYPE_CHECKING:
    from governance.test_ledger_anchor import World as LedgerWorld

KEY = b"371feae12cd63119ba19fd51d8ff205b69d787bd5e0f2e71f495bc66f4eeedd6"


def release_keys(year: int = 2020) -> ReleaseKeys:
    """The keys a build derives from ``KEY`` for fioe ``year``."""
    return derive_keys(KEY, "fioe", year)


RULES = ROOT / "redaction_rules"
NAME = "Zebulon Quartermaine"
# every raw-only value of the fixture's people: none may appear in any message or packet
RAW_VALUES = (NAME, "Zebulon", "Quartermaine", "Hortensia", "Bramblewood", "Zeebo", "03/14/1999",
              "12 Magazine St", "617-555-0142", "S12345678", "45 Blue Hill Ave", "7ZQ-K92")
TABLE = pd.DataFrame({
    "race": ["Black", "White", "Asian", "Black"], "sex": ["Male", "Female", "Male", "Female"],
    "value": ["25", "12", None, "40"], "lower": ["19", "12", None, "34"], "upper": ["31", "12", None, "46"],
    "status": ["noisy", "exact", "suppressed", "noisy"]})


@dataclass(frozen=True)
class Built:
    out_dir: Path
    raw_dir: Path
    bundle: Path
    dataset: str = "fioe"
    year: int = 2020

    @property
    def public_file(self) -> Path:
        return self.bundle / "public" / f"fioe_{self.year}_contacts.csv"


def _raw(folder: Path, year: int) -> Path:
    short = str(year)[2:]
    when = {"contact_date": f"{year}-03-04 17:25:00"}
    contacts = [contact(f"FC{short}000001", contact_reason=f"Spoke with {NAME} near the park. Released.", **when),
                contact(f"FC{short}000001", basis="Intel", contact_reason=f"Spoke with {NAME} near the park. Released.", **when),
                contact(f"FC{short}000002", contact_reason="Observed group. Released.", **when),
                contact(f"FC{short}000003", contact_reason=f"Met {NAME} at <script>alert(1)</script> & left.", **when)]
    persons = [person(f"FC{short}000001", **when),
               person(f"FC{short}000002", first_name="Hortensia", last_name="Bramblewood", age="16",
                      dob="2004-01-02", **when),
               person(f"FC{short}000003", **when)]
    return write_export(folder, contacts, persons)


def _redact(tables: Tables, policy: DatasetPolicy, withheld: frozenset[str],
            tokenizer: Tokenizer) -> tuple[Tables, list[RedactionEvent]]:
    frame = tables["contacts"].copy()
    events, texts = [], []
    for row_key, key, text in zip(frame[ROW_KEY], frame["fc_num"], frame["contact_reason"], strict=True):
        start = text.find(NAME) if key not in withheld else -1
        if start < 0:
            texts.append(text)
            continue
        texts.append(text[:start] + "[PERSON 1]" + text[start + len(NAME):])
        events.append(RedactionEvent(
            dataset="fioe", file="fieldcontact.csv", row_key=row_key, column="contact_reason", action="redact",
            entity_type="PERSON", detector="record_term", detector_version="test", rule_id="record.name",
            score=0.45, start=start, end=start + len(NAME), out_start=start, out_end=start + 10,
            removed_length=len(NAME), token=tokenizer.token(NAME), placeholder="[PERSON 1]"))
    frame["contact_reason"] = pd.Series(texts, index=frame.index, dtype=object)
    return tables.replace(contacts=frame), events


def _coarsening(policy: DatasetPolicy, rules: Path) -> dict[str, dict[str, str]]:
    """The linkage coarsening of the tables policy: the record-level files are published coarsened next
    to a protected table (approve, publish, the audit and verify check it)."""
    from release.config.tables import load_tables_policy
    from release.privacy import linkage

    tables = load_tables_policy(rules / policy.tables_file) if policy.tables_file else None
    return linkage.coarsening(tables)


def build_bundle(root: Path, *, year: int = 2020, tables: dict[str, pd.DataFrame] | None = None,
                 privacy: dict[str, object] | None = None, blocking: bool = False, rules: Path = RULES,
                 slip: tuple[str, str, str] | None = None, extra_column: tuple[str, str] | None = None,
                 with_packet: bool = True) -> Built:
    """Write ``root/out/fioe/<year>`` as the build writes it (``public_form``); ``slip`` = (file, column,
    raw value) put into the first row of the first report; ``extra_column`` = (file, column) published although
    the policy does not allow it."""
    policy = load_policy(rules / "fioe.yaml")
    raw_dir = _raw(root / "raw" / str(year), year)
    loaded = load_export(raw_dir, policy, year)
    minors = minor_keys(loaded.tables, policy)
    keys = release_keys(year)
    redacted, events = _redact(loaded.tables, policy, minors, keys.tokens)
    public, findings, more = generalize(redacted, policy, minors, keys.tokens)
    generalized = public
    public, risk_events, _, _ = public_form.finish(public, policy, _coarsening(policy, rules),
                                                   risk_specs(rules, "fioe"), dataset="fioe",
                                                   tokenizer=keys.tokens)
    events += more + risk_events
    files = []
    written, _ = public_form.written(policy, public, minors, dataset="fioe", tokenizer=keys.tokens)
    for name, frame in written.items():
        frame = frame.copy()
        if slip and slip[0] == name:  # the first row of the first report (the file is ordered by pseudonym)
            frame.loc[public[name].index[public[name]["fc_num"] == f"FC{str(year)[2:]}000001"][0], slip[1]] = slip[2]
        if extra_column and extra_column[0] == name:
            frame[extra_column[1]] = "1"
        files.append(record_file(policy, name, year, frame))
    files += [table_file(name, frame) for name, frame in (tables or {}).items()]
    log_lines = build_log(events, keys.trailer)
    found = [f.to_dict() for f in findings]
    if blocking:
        found.append({"stage": "second_scan", "code": "residual_pii", "severity": "blocking",
                      "message": "possible PERSON left in the public text at offsets 3-9",
                      "file": f"fioe_{year}_contacts.csv", "row_key": f"FC{str(year)[2:]}000001",
                      "column": "contact_reason", "rule": "ner", "count": 1, "row_keys": []})
    manifest: dict[str, object] = {
        "manifest_version": 1, "dataset": "fioe", "year": year, "status": "draft", "run_id": "7e57" * 8,
        "created_at": f"{year + 1}-01-15T10:00:00+00:00", "components": {"release": "0.0.0+test"},
        "inputs": {"origin": "option", "files": [vars(i) for i in loaded.inputs]},
        "rules": policy_files(rules, "option", "redaction_rules"),  # as the build records the folder
        "parameters": manifest_parameters(policy, year),  # as the build writes them (the trusted check compares them)
        "hmac_key_id": keys.key_id, "hmac": dict(keys.derivation),
        "redaction_log": {"entries": len(events), "head": json.loads(log_lines[-1])["head"]},
        "checks": {"blocking_findings": int(blocking)}, "findings": found,
        # as the build writes them, with the counts of these files (the trusted check recounts them)
        "publication_notes": publication_notes(0, _spreadsheet_safe(files)[1], policy, year),
        # the dataset's notes as its derive step writes them (audit --raw compares them with the export's)
        "dataset_notes": list(datasets.deriver("fioe")(datasets.DeriveContext(  # type: ignore[misc]
            "fioe", year, policy, loaded.tables, generalized, keys.tokens)).notes)}
    if pseudonymized := pseudonyms.manifest_section(policy, year):  # as the build records them
        manifest["pseudonyms"] = pseudonymized
    if privacy is not None:
        manifest["privacy"] = privacy
    review_files = {"validation_public.json": json.dumps([{
        "suite": "fioe_public", "table": "persons", "expectation": "expect_column_values_to_be_in_set",
        "column": "sex", "level": "critical", "success": True, "element_count": 3, "unexpected_count": 0,
        "unexpected_row_keys": []}])}
    previous = root / "out" / "fioe" / str(year - 1)
    if with_packet:
        review_files["index.html"] = render_review(inputs_from_build(
            files, log_lines, review_files, manifest, previous if previous.is_dir() else None))
    target = root / "out" / "fioe" / str(year)
    write_bundle(Bundle(tuple(files), tuple(log_lines), review_files, manifest, f"fioe-{year}",
                        f"FIOE {year} public release", package_properties=package_properties(policy, manifest)),
                 target)  # the data package as the build writes it (the trusted check regenerates it)
    return Built(root / "out", raw_dir, target, year=year)


@pytest.fixture(autouse=True)
def _release_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundles here are built with ``KEY``: approve and publish verify the log with it."""
    monkeypatch.setenv("RELEASE_HMAC_KEY", KEY.decode())


@pytest.fixture()
def built(tmp_path: Path) -> Built:
    return build_bundle(tmp_path)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small FIOE export and its draft bundle built through the CLI, once per module: the scene the
    attack rounds' ``world`` copies for each test."""
    return small_fioe_build(tmp_path_factory)


@pytest.fixture()
def world(base: tuple[Path, Path], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> LedgerWorld:
    """A test's copy of ``base`` (test_ledger_anchor's ``World``: a rules folder naming a witness and
    trusting "A. Counsel"), its ledger anchored by the honest first approval: the scene of attack round
    22 (test_trusted_release.py) and the rounds after it. test_ledger_anchor.py, test_record_parts.py
    and test_review_workspace.py have worlds of their own."""
    from governance.test_ledger_anchor import World

    monkeypatch.delenv("RELEASE_HMAC_KEY")  # the module's build used the session's key file, not ``KEY``
    scene = build_world(base, tmp_path, tmp_path_factory, monkeypatch, World)
    assert isinstance(scene, World)
    scene.anchor()
    return scene


@pytest.fixture()
def make_bundle(tmp_path: Path) -> Callable[..., Built]:
    return lambda **options: build_bundle(tmp_path, **options)


@pytest.fixture()
def signing_key(tmp_path: Path) -> Path:
    """A key trusted as "A. Reviewer" (role legal) in ``tmp_path/rules``."""
    return new_signer(tmp_path, "A. Reviewer")


@pytest.fixture()
def rules(tmp_path: Path) -> Path:
    """The rules folder the tests' trusted signers are listed in."""
    return trusted_rules(tmp_path)


def new_key(folder: Path, name: str, role: str = "legal", trusted: bool = True,
            passphrase: bytes | None = None) -> Path:
    return new_signer(folder, name, role, trusted=trusted, passphrase=passphrase)
