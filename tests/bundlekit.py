"""The bundles the governance, audit, review and bundle-reader tests judge, and their fixtures, which
``tests/{governance,audit,review,bundle}/conftest.py`` import (``built``, ``base``, ``world``, ...).

Tiny release bundles built in tmp_path: load → fake redaction → generalize → write_bundle. The PII
engine is not needed: ``_redact`` replaces the subject's full name in a narrative with ``[PERSON 1]``
and logs the event the real stage would log (offsets, HMAC token). They are built with the fixed
``KEY``: ``_release_key`` sets it for every test of a folder whose conftest imports it (``release_key``
for a module that asks).

The attack rounds' scene: ``world``, a copy of a small real build (``base``) whose ledger its witness
anchored, and the paid 2021 bundle an analyst holding the release key edits, re-hashes and binds again
on the ledger; approve, publish, the audit and ``verify`` must each refuse the edit.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import (
    ROOT,
    BuildWorld,
    authoritative_ledger,
    build_world,
    contact,
    invoke,
    invoke_ok,
    invoke_refused,
    new_signer,
    person,
    small_fioe_build,
    trusted_rules,
    write_export,
)

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
from release.bundle.portal import package_properties
from release.config.policy import DatasetPolicy, load_policy
from release.config.privacy import RiskSpec, load_privacy_policy
from release.keys.hmac import ReleaseKeys, Tokenizer, derive_keys
from release.model import ROW_KEY, RedactionEvent, Tables
from release.privacy.ledger import Ledger
from release.review import inputs_from_build, render_review
from release.stages import pseudonyms
from release.stages.generalize import generalize
from release.stages.juvenile import minor_keys
from release.stages.load import load_export
from release.stages.publish import Bundle, write_bundle

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


def _risk_specs(rules: Path) -> tuple[RiskSpec, ...]:
    """The record files whose re-identification risk the privacy policy measures, as the build reads them."""
    return load_privacy_policy(rules).record_risk.get("fioe", ()) if (rules / "privacy.yaml").is_file() else ()


def engine_versions(pii_rules: Path) -> dict[str, str]:
    """What the build records of its PII engine (``PiiEngine.versions``), without loading the model: the scene's
    redaction stands in for the engine, and the audit holds the bundle to the model and rules recorded here."""
    from importlib import metadata

    from release.pii.engine import ENGINE_VERSION, MODEL_PACKAGE, model_fingerprint
    from release.pii.rulefiles import rules_digest

    return {"pii_engine": ENGINE_VERSION, "presidio": metadata.version("presidio_analyzer"),
            "spacy": metadata.version("spacy"), "model": MODEL_PACKAGE, "model_version": metadata.version(MODEL_PACKAGE),
            "model_fingerprint": model_fingerprint(), "rules_digest": rules_digest(pii_rules)}


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
                                                   _risk_specs(rules), dataset="fioe",
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
            "fioe", year, policy, loaded.tables, generalized, keys.tokens)).notes),
        "pii_engine": engine_versions(rules / "pii")}  # the engine the build ran, as it records it
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


@pytest.fixture()
def release_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundles here are built with ``KEY``: approve and publish verify the log with it."""
    monkeypatch.setenv("RELEASE_HMAC_KEY", KEY.decode())


@pytest.fixture(autouse=True)
def _release_key(release_key: None) -> None:
    """``release_key`` for every test of the folder whose conftest imports this (governance, audit, review)."""


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
          monkeypatch: pytest.MonkeyPatch) -> World:
    """A test's copy of ``base`` (``World``: a rules folder naming a witness and trusting "A. Counsel"),
    its ledger anchored by the honest first approval: the scene of attack round 22
    (audit/test_trusted_release.py) and the rounds after it. governance/test_ledger_anchor.py,
    bundle/test_record_parts.py and review/test_review_workspace.py have worlds of their own."""
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


# ---- the attack rounds' world: a copy of ``base`` with its ledger and witness -----------------------

BASE_YEAR = "2020"  # the year of ``base``, the build ``World`` copies
PROTECTED = "fioe_people_by_contacts_neighbourhood"


class World(BuildWorld):
    """``BuildWorld`` whose rules name a witness (``rules/witness``), with the commands the rounds run."""

    @property
    def witness(self) -> Path:
        return self.rules / "witness"

    def ok(self, *args: str) -> str:
        return invoke_ok(*args)

    def refused(self, code: int, refusal: str, *args: str) -> str:
        """Run a command that must be refused with ``code`` and a message holding ``refusal``."""
        return invoke_refused(code, refusal, *args)

    def anchor(self) -> None:
        """The honest approval: the witness's first use anchors the ledger (its charge included)."""
        self.ok(*self.cmd("approve", "--key", str(self.counsel)))
        assert (self.witness / "ledger_id").read_text().strip() == Ledger(authoritative_ledger()).ledger_id()

    def home(self, name: str) -> Path:
        """Another ``$HOME``: the policy's ``~/...`` ledger is then another file."""
        home = self.tmp / name
        self.monkeypatch.setenv("HOME", str(home))
        return home

    def build(self, out: Path, *more: str, raw: Path | None = None, year: str = BASE_YEAR,
              rules: Path | None = None) -> list[str]:
        return ["fioe", year, "--input", str(raw or self.raw), "--out", str(out), "--rules", str(rules or self.rules),
                *more]

    def changed_export(self) -> Path:
        """The export with one report's city changed (a correction): new bounded counts, a new draw."""
        raw = self.tmp / "raw-changed"
        shutil.copytree(self.raw, raw)
        path = raw / "fieldcontact.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        rows[3]["city"] = "MATTAPAN" if rows[3]["city"] != "MATTAPAN" else "ROXBURY"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return raw

    def audit_ledger_problems(self, out: Path | None = None, rules: Path | None = None) -> list[str]:
        code, stdout, stderr = invoke("audit", "fioe", BASE_YEAR, "--out", str(out or self.out), "--rules",
                                      str(rules or self.rules), "--no-scan", "--allow-unverified", "--json")
        assert code == 8, stdout + stderr
        checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
        assert checks["privacy_ledger"]["status"] == "fail", checks["privacy_ledger"]
        return list(checks["privacy_ledger"]["problems"])


def _rewrite(bundle: Path, change: Callable[[dict], None], *files: str) -> None:
    """The manifest edited by ``change``, with the outputs it lists re-hashed for ``files`` (edited too)."""
    from release.bundle.layout import sha256_file
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    change(manifest)
    for item in manifest["outputs"]:
        if item["path"] in files:
            item["sha256"], item["bytes"] = sha256_file(bundle / item["path"]), (bundle / item["path"]).stat().st_size
    # as the build writes it
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if any(not f.startswith("public/") for f in files):  # the files that stay with the bundle: hashed in its private part
        from conftest import rehash_kept
        rehash_kept(bundle)


def _sign_outside_approve(world: World, bundle: Path) -> None:
    """The reviewer's key signs the edited manifest without ``approve`` (publish must check again)."""
    from conftest import sign_outside_approve
    sign_outside_approve(bundle, world.counsel, "fioe", 2021)


def _copy_by_hand(bundle: Path, portal: Path) -> Path:
    """The bundle laid out as a published copy without ``publish`` (files, manifest, approvals, sums)."""
    from release.bundle.layout import sha256_file
    shutil.copytree(bundle / "public", portal)
    for name in ("manifest.json", "approvals.jsonl"):
        shutil.copyfile(bundle / name, portal / name)
    names = sorted(p.relative_to(portal).as_posix() for p in portal.rglob("*") if p.is_file())
    (portal / "SHA256SUMS").write_text("".join(f"{sha256_file(portal / n)}  {n}\n" for n in names), encoding="utf-8")
    return portal


# ---- the paid 2021 bundle the analyst edits, re-hashes and binds again ---------------------------------

YEAR = "2021"


def _raw_2021(world: World) -> Path:
    from release.synth.fioe import generate_fioe, write_fioe
    raw = world.tmp / "raw-2021"
    write_fioe(generate_fioe(2021, seed=5, n_reports=40), raw)
    return raw


def _org(out: Path, world: World) -> list[str]:
    return ["fioe", YEAR, "--out", str(out), "--rules", str(world.rules)]


def _audit_problems(world: World, out: Path, check: str) -> list[str]:
    code, stdout, stderr = invoke("audit", *_org(out, world), "--no-scan", "--allow-unverified", "--json")
    assert code == 8, stdout + stderr
    found = {c["name"]: c for c in json.loads(stdout)["checks"]}[check]
    assert found["status"] == "fail", found
    return list(found["problems"])


def _verify_problems(world: World, bundle: Path, check: str = "trusted_policy") -> list[str]:
    portal = _copy_by_hand(bundle, world.tmp / "portal" / "fioe" / YEAR)
    code, stdout, stderr = invoke("verify", str(portal), "--rules", str(world.rules), "--json")
    assert code == 8, stdout + stderr
    found = {c["name"]: c for c in json.loads(stdout)["checks"]}[check]
    assert found["status"] == "fail", found
    return list(found["problems"])


def _rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _write(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _rebind(world: World, bundle: Path) -> None:
    """The edited manifest bound again to the run's measurements and charges with the release key."""
    from release.bundle.read import manifest_sha256, read_manifest
    from release.keys.hmac import ledger_mac, master_key
    from release.privacy.ledger_open import open_ledger

    ledger = open_ledger(world.rules, None, ledger_mac(master_key().material))
    run_id = read_manifest(bundle)["privacy"]["run_id"]  # in the private part
    bound = next(e for e in reversed(ledger.entries()) if e.kind == "bundle" and e.body.get("run_id") == run_id)
    ledger.bind_bundle(dataset="fioe", year=int(YEAR), run_id=run_id, manifest_sha256=manifest_sha256(bundle),
                       measurements=bound.body["measurements"], charges=bound.body["charges"])


def _honest(world: World) -> Path:
    out = world.tmp / "rel-honest"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR))
    return out


# ---- its record-level cells replayed from the raw export (``audit --raw``) ------------------------------

REPLAYED = "record_cells_replayed"
CONTACTS = f"fioe_{YEAR}_contacts.csv"


def _audit_raw(world: World, out: Path, raw: Path) -> tuple[int, dict[str, dict]]:
    code, stdout, stderr = invoke("audit", *_org(out, world), "--raw", str(raw), "--no-scan", "--allow-unverified",
                                  "--json")
    assert "Traceback" not in stdout + stderr and stdout.startswith("{"), stdout + stderr
    return code, {c["name"]: c for c in json.loads(stdout)["checks"]}


def _log_events(bundle: Path) -> tuple[list, Any]:
    from release.bundle.read import read_manifest
    from release.keys.hmac import keys_for_manifest, master_key
    from release.model import RedactionEvent

    keys = keys_for_manifest(master_key().material, read_manifest(bundle))
    entries = [json.loads(line) for line in (bundle / "redaction_log.jsonl").read_text(encoding="utf-8").splitlines()]
    fields = set(RedactionEvent.__dataclass_fields__)
    return [RedactionEvent(**{k: v for k, v in e.items() if k in fields}) for e in entries if "seq" in e], keys


def _respanned(world: World, honest: Path, variant: str,
               pick: Callable[[str, Any, list, Any], list | None], only: str | None = None) -> tuple[Path, Path, str]:
    """Round 28: a copy of the honest bundle whose first narrative ``pick`` accepts carries the spans it
    returns instead of its own (``pick(text, first_span, spans, keys)``: None passes the cell over). The
    public cell is rendered again, every span placed at the renderer's output offsets, the log re-chained
    with the release key, the private manifest's log figures, the manifest's hashes and the ledger
    binding redone: every step an analyst holding the key can take. Returns the report key."""
    import dataclasses
    from collections import Counter

    import pandas as pd

    from release.bundle.log import build_log, verify_log
    from release.stages.redact import render_logged

    out = world.tmp / f"rel-{variant}"
    shutil.copytree(honest, out)
    bundle = out / "fioe" / YEAR
    for name in ("approvals.jsonl", "publication.jsonl"):
        (bundle / name).unlink(missing_ok=True)
    events, keys = _log_events(bundle)
    raw = pd.read_csv(world.tmp / "raw-2021" / "fieldcontact.csv", dtype=str, keep_default_na=False)
    table = _rows(bundle / "public" / CONTACTS)
    at = table[0].index("contact_reason")
    published = [row[at] for row in table[1:]]
    reports = list(raw["fc_num"])

    def render(text: str, spans: list) -> tuple[str, list]:
        return render_logged(text, [(e.start, e.end, e.placeholder, e.action == "keep") for e in spans])

    for fc_num, text in zip(raw["fc_num"], raw["contact_reason"], strict=True):
        mine = sorted((e for e in events if e.row_key == fc_num and e.column == "contact_reason"), key=lambda e: e.start)
        if reports.count(fc_num) != 1 or not mine or (fc_num != only if only else any(e.detector == "reviewer"
                                                                                      for e in mine)) \
                or published.count(render(text, mine)[0]) != 1:
            continue
        new = pick(text, mine[0], mine, keys)
        if new is not None:
            break
    else:
        raise AssertionError(f"{variant}: no narrative to edit")
    row = 1 + published.index(render(text, mine)[0])
    new = sorted(new, key=lambda e: e.start)
    table[row][at], placed = render(text, new)
    events = [e for e in events if e not in mine] + [
        dataclasses.replace(e, out_start=s, out_end=t) for e, (s, t) in zip(new, placed, strict=True)]
    (bundle / "redaction_log.jsonl").write_text("\n".join(build_log(events, keys.trailer)) + "\n", encoding="utf-8")
    _write(bundle / "public" / CONTACTS, table)
    chained = verify_log((bundle / "redaction_log.jsonl").read_text(encoding="utf-8").splitlines())
    private = bundle / "review" / "manifest_private.json"
    figures = json.loads(private.read_text(encoding="utf-8"))
    figures["redaction_log"].update(entries=chained.entries, head=chained.head, by_action_and_type=dict(sorted(
        Counter(f"{e.action}:{e.entity_type}" for e in events).items())))
    private.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    _rewrite(bundle, lambda m: None, f"public/{CONTACTS}", "redaction_log.jsonl", "review/manifest_private.json")
    _rebind(world, bundle)
    return out, bundle, fc_num
