"""Issue #12, attacks 2f-1..2f-6, 3m-strip and 4u-unit: the privacy ledger anchored by its witness, and its
charges held to the trusted policy, through the CLI.

Each attack gave a second, selected noisy draw of the same data with approve, publish and audit
all passing, because nothing outside the SQLite ledger anchored it. The scene is a copy of a
small real FIOE build (with its protected noisy table) and of the ledger it charged, in a home
of the test's own, with a rules folder whose ``privacy.yaml`` names a witness (``rules/witness``)
and trusts "A. Counsel". The first approval anchors the ledger in the witness; each test then does
what the attacker did and asserts the refusal and its exit code. Fictitious values only.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from bundlekit import PROTECTED, World, _copy_by_hand, _rewrite, _sign_outside_approve
from conftest import authoritative_ledger, build_world, invoke, name_witness, new_signer

from release.errors import BudgetError
from release.privacy.ledger import Entry, Ledger, entry_hash
from release.witness.folder import Witness

YEAR = "2020"


def _drawn(out: Path) -> bool:
    return (out / "fioe" / YEAR / "public" / "tables" / f"{PROTECTED}.csv").is_file()


def _charges(ledger: Path) -> int:
    return sum(1 for e in Ledger(ledger).entries() if e.kind == "charge")


def _roll_back(ledger: Path) -> None:
    """The insider's rollback: drop the append-only triggers, delete every entry from the first
    charge on and the stored measurements. What is left is a valid prefix of the chain."""
    with closing(sqlite3.connect(ledger, isolation_level=None)) as db:
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            db.execute(f"DROP TRIGGER {trigger}")
        first = db.execute("SELECT min(seq) FROM entries WHERE kind = 'charge'").fetchone()[0]
        db.execute("DELETE FROM entries WHERE seq >= ?", (first,))
        db.execute("DELETE FROM measurements")


def _append_by_hand(ledger: Path) -> None:
    """An entry chained onto the ledger with sqlite, outside the tool (which refuses to append to an
    anchored ledger without its witness)."""
    with closing(sqlite3.connect(ledger, isolation_level=None)) as db:
        last = db.execute("SELECT hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()[0]
        body = json.dumps({"unit": "person", "cap_rho": 1.0, "delta": 1e-9})
        db.execute("INSERT INTO entries (kind, body, prev, hash, mac) VALUES ('cap', ?, ?, ?, NULL)",
                   (body, last, entry_hash(last, "cap", body)))


@pytest.fixture()
def world(base: tuple[Path, Path], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> World:
    """The scene before its first approval: the ledger not anchored yet (conftest's ``world`` is anchored)."""
    monkeypatch.delenv("RELEASE_HMAC_KEY")  # this folder's bundles use a fixed key; this build used the session's
    return build_world(base, tmp_path, tmp_path_factory, monkeypatch, World)  # type: ignore[return-value]


# ---- 2f-1: the ledger's tail cut off, then a rebuild ---------------------------------------


def test_2f1_a_rolled_back_ledger_is_refused_at_build_approve_publish_and_audit(world: World) -> None:
    world.anchor()
    ledger = authoritative_ledger()
    _roll_back(ledger)
    said = world.refused(6, "rolled back", *world.build(world.tmp / "again", "--json"))
    assert "Restore the authoritative ledger" in said
    assert not _drawn(world.tmp / "again")  # blocked before any draw: no second draw of the same data
    assert _charges(ledger) == 0  # and nothing was appended to the rolled-back file
    world.refused(7, "rule ledger", *world.cmd("publish", "--to", str(world.site)))
    assert not (world.site / "fioe").exists()
    problems = world.audit_ledger_problems()
    assert any("lacks" in p and "rolled back" in p for p in problems), problems


# ---- 2f-2: copies of the ledger in other homes, one draw on each, the one liked copied back --


def test_2f2_only_one_copy_of_the_ledger_can_draw_and_a_stale_copy_approves_nothing(world: World) -> None:
    world.anchor()
    authoritative = authoritative_ledger()
    changed = world.changed_export()
    ledgers = []
    for name in ("copy-1", "copy-2"):
        world.home(name)
        ledgers.append(authoritative_ledger())
        ledgers[-1].parent.mkdir(parents=True)
        shutil.copyfile(authoritative, ledgers[-1])
    world.home("copy-1")
    world.ok(*world.build(world.tmp / "rel-1", "--json", raw=changed))  # the first copy draws, witnessed
    assert _drawn(world.tmp / "rel-1")
    world.home("copy-2")
    world.refused(6, "witness", *world.build(world.tmp / "rel-2", "--json", raw=changed))
    assert not _drawn(world.tmp / "rel-2")  # a second draw of the same data is never made
    # back home: the authoritative file lacks what copy 1 appended, so copy 1's draw is not approved on it
    world.home("home-copy")
    world.refused(7, "lacks", *world.cmd("approve", "--key", str(world.counsel), out=world.tmp / "rel-1"))
    # the only way on is copy 1's ledger, the one draw made, which is charged and witnessed
    shutil.copyfile(ledgers[0], authoritative)
    world.ok(*world.cmd("approve", "--key", str(world.counsel), out=world.tmp / "rel-1"))
    assert _charges(authoritative) == _charges(ledgers[1]) + 1


# ---- 2f-3: another $HOME, so another ledger (the policy's path starts with ~) --------------


def test_2f3_another_home_is_another_ledger_and_is_refused(world: World) -> None:
    world.anchor()
    world.home("other-home")
    said = world.refused(6, "not the authoritative ledger", *world.build(world.tmp / "free", "--json"))
    assert "witness" in said and not _drawn(world.tmp / "free")
    # the same with the installed rules, which name no witness: a draft, free, but never approved
    world.ok("fioe", YEAR, "--input", str(world.raw), "--out", str(world.tmp / "free-2"), "--json")
    assert _drawn(world.tmp / "free-2")
    world.refused(7, "not the authoritative ledger", *world.cmd("approve", "--key", str(world.counsel),
                                                               out=world.tmp / "free-2"))
    world.refused(7, "approval", *world.cmd("publish", "--to", str(world.tmp / "portal-2"),
                                             out=world.tmp / "free-2"))
    assert not (world.tmp / "portal-2").exists()


# ---- 2f-4: a rules copy naming another ledger, its own witness and its own signers ----------


@pytest.mark.slow
def test_2f4_a_rules_copy_is_its_own_trust_root_and_the_organisations_rules_refuse_its_release(
        world: World) -> None:
    """The organisation publishes 2020. A rules copy names another ledger, another witness and a
    signer of the attacker's own: with that copy, approve passes (whoever holds the rules folder
    is the trust root; that is what the organisation's rules folder under version control and its
    signers are for). The organisation's rules refuse the result: approve (7), publish to the
    organisation's portal even with the copy's rules (7: the portal's 2020 was charged on another
    chain) and ``release audit`` (8)."""
    from release.synth.fioe import generate_fioe, write_fioe

    world.anchor()
    world.ok(*world.cmd("publish", "--to", str(world.site)))
    copy = world.tmp / "copy" / "rules"
    shutil.copytree(world.rules, copy, ignore=shutil.ignore_patterns("witness"))
    policy = copy / "privacy.yaml"
    policy.write_text(policy.read_text().replace("ledger: ~/.local/share/release/privacy_ledger.sqlite",
                                                 f"ledger: {world.tmp / 'copy' / 'other.sqlite'}"))
    attacker = new_signer(world.tmp / "copy", "A. Attacker")  # trusted in world.tmp/copy/rules
    raw = world.tmp / "raw-2021"
    write_fioe(generate_fioe(2021, seed=5, n_reports=40), raw)
    out = world.tmp / "rel-copy"
    world.ok(*world.build(out, "--json", raw=raw, year="2021", rules=copy))
    copy_cmd = ["--out", str(out), "--rules", str(copy)]
    world.ok("approve", "fioe", "2021", "--key", str(attacker), *copy_cmd)  # the trust root: documented
    org_cmd = ["--out", str(out), "--rules", str(world.rules)]
    world.refused(7, "rule", "approve", "fioe", "2021", "--key", str(world.counsel), *org_cmd)
    world.refused(7, "already published at the destination spent from another privacy ledger",
                  "publish", "fioe", "2021", "--to", str(world.site), *copy_cmd)
    world.refused(7, "rule", "publish", "fioe", "2021", "--to", str(world.site), *org_cmd)
    assert not (world.site / "fioe" / "2021").exists()
    code, stdout, stderr = invoke("audit", "fioe", "2021", *org_cmd, "--no-scan", "--allow-unverified", "--json")
    assert code == 8, stdout + stderr
    failed = {c["name"] for c in json.loads(stdout)["checks"] if c["status"] == "fail"}
    assert "privacy_ledger" in failed, failed


# ---- 3m-strip: a free draft whose manifest was edited to record no spend -----------------

STRIPPED = ("spends", "measurements", "ledger", "ledger_id", "ledger_head", "witness", "rho_charged_by_this_build",
            "rho_spent")
NO_CHARGE = "records no measurement of it charged on a privacy ledger"


def _strip(manifest: dict) -> None:
    for key in STRIPPED:
        manifest["privacy"].pop(key, None)


@pytest.mark.slow
def test_3m_strip_a_manifest_recording_no_spend_is_refused_whatever_its_public_files_hold(world: World) -> None:
    """The organisation publishes 2020. A rules copy names a throwaway ledger and no witness: a free
    draft of 2021, whose manifest (unsigned before approval) is edited to record no spend. Which
    tables spend is read from public/ and the organisation's tables policy, never from that claim:
    approve and publish (even with an approval signed outside approve) refuse it (7), the audit
    (8) and ``release verify`` of a copy laid out by hand (8) fail it. The same with the table's
    cells relabelled ``exact`` and its privacy.json entry removed (the files re-hashed): the policy
    still declares the published table noisy. Nothing is charged on the organisation's ledger."""
    from release.synth.fioe import generate_fioe, write_fioe

    world.anchor()
    world.ok(*world.cmd("publish", "--to", str(world.site)))
    charged = _charges(authoritative_ledger())
    copy = world.tmp / "copy" / "rules"
    shutil.copytree(world.rules, copy, ignore=shutil.ignore_patterns("witness"))
    name_witness(copy, None)
    policy = copy / "privacy.yaml"
    policy.write_text(policy.read_text().replace("ledger: ~/.local/share/release/privacy_ledger.sqlite",
                                                 f"ledger: {world.tmp / 'throwaway.sqlite'}"))
    raw = world.tmp / "raw-2021"
    write_fioe(generate_fioe(2021, seed=5, n_reports=40), raw)
    out = world.tmp / "free"
    world.ok(*world.build(out, "--json", raw=raw, year="2021", rules=copy))
    bundle = out / "fioe" / "2021"
    assert (bundle / "public" / "tables" / f"{PROTECTED}.csv").is_file()  # the free draw
    _rewrite(bundle, _strip)
    org = ["fioe", "2021", "--out", str(out), "--rules", str(world.rules)]
    said = world.refused(7, NO_CHARGE, "approve", *org[:2], "--key", str(world.counsel), *org[2:])
    assert PROTECTED in said and "rule ledger" in said
    _sign_outside_approve(world, bundle)
    world.refused(7, NO_CHARGE, "publish", *org[:2], "--to", str(world.site), *org[2:])
    assert not (world.site / "fioe" / "2021").exists()
    code, stdout, stderr = invoke("audit", *org, "--no-scan", "--allow-unverified", "--json")
    assert code == 8, stdout + stderr
    checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
    assert checks["privacy_ledger"]["status"] == "fail"
    assert any(NO_CHARGE in p for p in checks["privacy_ledger"]["problems"]), checks["privacy_ledger"]
    portal = _copy_by_hand(bundle, world.tmp / "portal" / "fioe" / "2021")
    code, stdout, stderr = invoke("verify", str(portal), "--rules", str(world.rules), "--json")
    assert code == 8, stdout + stderr
    checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
    assert checks["published_files"]["status"] == "pass" and checks["approvals"]["status"] == "pass"
    assert checks["privacy_charges"]["status"] == "fail" and checks["privacy_charges"]["detail"]["noisy_tables"] \
        == [PROTECTED], checks["privacy_charges"]
    # the cells relabelled exact and the statement's entry removed: the policy still declares the table noisy
    table = bundle / "public" / "tables" / f"{PROTECTED}.csv"
    table.write_text(table.read_text(encoding="utf-8").replace(",noisy\n", ",exact\n"), encoding="utf-8")
    statement = bundle / "public" / "privacy.json"
    stated = json.loads(statement.read_text(encoding="utf-8"))
    stated["tables"] = [t for t in stated["tables"] if t["table"] != PROTECTED]
    statement.write_text(json.dumps(stated), encoding="utf-8")
    _rewrite(bundle, lambda m: None, f"public/tables/{PROTECTED}.csv", "public/privacy.json")
    assert "noisy" not in table.read_text(encoding="utf-8")
    world.refused(7, NO_CHARGE, "approve", *org[:2], "--key", str(world.counsel), *org[2:])
    assert _charges(authoritative_ledger()) == charged  # the draw never reached the organisation's ledger


# ---- 2f-5: the ledger path (or the witness's) through a symbolic link ---------------------


def _ledger_linked(world: World) -> None:
    ledger = authoritative_ledger()
    ledger.rename(world.tmp / "real.sqlite")
    ledger.symlink_to(world.tmp / "fresh.sqlite")


def _ledger_folder_linked(world: World) -> None:
    folder = authoritative_ledger().parent
    folder.rename(world.tmp / "real-folder")
    (world.tmp / "fresh-folder").mkdir()
    folder.symlink_to(world.tmp / "fresh-folder")


def _witness_linked(world: World) -> None:
    world.witness.rename(world.tmp / "real-witness")
    (world.tmp / "fresh-witness").mkdir()
    world.witness.symlink_to(world.tmp / "fresh-witness")


def _witness_in_home(world: World) -> None:
    name_witness(world.rules, "~/witness")


def _witness_from_environment(world: World) -> None:
    name_witness(world.rules, "$RELEASE_WITNESS/w")


@pytest.mark.parametrize(("move", "refusal"), [
    (_ledger_linked, "symbolic link"), (_ledger_folder_linked, "symbolic link"), (_witness_linked, "symbolic link"),
    (_witness_in_home, "never ~"), (_witness_from_environment, "never ~, $VARIABLES"),
], ids=["ledger-file-linked", "ledger-folder-linked", "witness-linked", "witness-in-home", "witness-from-env"])
def test_2f5_a_ledger_or_witness_that_moves_without_the_policy_is_a_config_error(world: World, move, refusal) -> None:
    world.anchor()
    move(world)
    world.refused(3, refusal, *world.build(world.tmp / "free", "--json"))
    assert not (world.tmp / "free").exists()
    world.refused(3, refusal, *world.cmd("publish", "--to", str(world.site)))
    assert not (world.site / "fioe").exists()


# ---- 2f-6: the ledger deleted (a fresh one at the same path), a new --out, a new portal ---------


def test_2f6_a_deleted_ledger_recreated_fresh_is_refused_and_the_audit_fails(world: World) -> None:
    world.anchor()
    ledger = authoritative_ledger()
    ledger.rename(world.tmp / "saved.sqlite")
    world.refused(6, "ledger is empty, but its witness anchors", *world.build(world.tmp / "new-out", "--json"))
    assert not _drawn(world.tmp / "new-out")
    world.refused(7, "rule ledger", *world.cmd("publish", "--to", str(world.tmp / "new-portal")))
    assert not (world.tmp / "new-portal").exists()
    problems = world.audit_ledger_problems()
    assert any("not the authoritative ledger" in p or "ledger_id differs" in p for p in problems), problems
    # the restored ledger is the witnessed chain again: the release goes out
    (world.tmp / "saved.sqlite").replace(ledger)
    world.ok(*world.cmd("publish", "--to", str(world.site)))


def test_the_audit_fails_a_ledger_replaced_by_a_copy_extended_elsewhere(world: World) -> None:
    """A copy of the anchored ledger extended without the witness (a rules folder naming none),
    copied back over the authoritative file: its new entries were never witnessed."""
    world.anchor()
    authoritative = authoritative_ledger()
    world.home("elsewhere")
    shutil.copytree(authoritative.parent, authoritative_ledger().parent)
    rules = world.tmp / "no-witness" / "rules"
    shutil.copytree(world.rules, rules, ignore=shutil.ignore_patterns("witness"))
    name_witness(rules, None)
    world.refused(6, "names no witness", *world.build(world.tmp / "fork", "--json", raw=world.changed_export(),
                                                      rules=rules))
    extended = authoritative_ledger()
    _append_by_hand(extended)
    world.home("home-copy")
    shutil.copyfile(extended, authoritative)
    problems = world.audit_ledger_problems()
    assert any("never witnessed" in p for p in problems), problems


# ---- no witness: drafts, never releases --------------------------------------------------


def test_without_a_witness_a_build_is_a_draft_that_warns_and_approve_says_what_an_administrator_adds(
        world: World) -> None:
    """The fixture's bundle was built with the installed rules, which name no witness: a draft
    whose packet warns, refused by approve and publish with the line an administrator adds; once
    the witness is named, the same bundle is approved (its ledger anchored at that first use)."""
    from release.bundle.read import read_manifest

    manifest = read_manifest(world.bundle)  # with its private part (the witness, the ledger path)
    assert manifest["status"] == "draft" and manifest["privacy"]["witness"] is None
    assert manifest["privacy"]["ledger_head"]["length"] >= 1
    findings = json.loads((world.bundle / "review" / "findings.json").read_text())
    assert [f["code"] for f in findings if f["code"] == "ledger_not_anchored"] == ["ledger_not_anchored"]
    assert "ledger not anchored" in (world.bundle / "review" / "index.html").read_text()
    name_witness(world.rules, None)
    said = world.refused(7, "rule witness", *world.cmd("approve", "--key", str(world.counsel)))
    assert "release witness init-key, then release witness serve" in said and "'witness: /absolute/path'" in said
    assert str(world.rules / "privacy.yaml") in said
    name_witness(world.rules, "witness")
    world.ok(*world.cmd("approve", "--key", str(world.counsel)))
    assert (world.witness / "ledger_id").is_file()


def test_an_anchored_ledger_refuses_a_policy_without_its_witness_or_with_another(world: World) -> None:
    world.anchor()
    name_witness(world.rules, None)
    world.refused(7, "rule witness", *world.cmd("publish", "--to", str(world.site)))
    name_witness(world.rules, str(world.tmp / "another-witness"))
    world.refused(7, "anchored to the witness at", *world.cmd("publish", "--to", str(world.site)))
    assert not (world.site / "fioe").exists()


def test_an_emptied_or_unmounted_witness_is_not_taken_for_a_first_use(world: World) -> None:
    world.anchor()
    world.witness.rename(world.tmp / "unmounted")
    world.witness.mkdir()
    world.refused(7, "holds nothing, but the ledger was anchored to it",
                  *world.cmd("publish", "--to", str(world.site)))
    assert not any(world.witness.iterdir())  # nothing re-anchored


def test_two_copies_cannot_both_witness_the_same_entry(tmp_path: Path) -> None:
    """The race behind 2f-2: two copies of one ledger, each past its check, append entry N; the
    witness's O_EXCL lets the first in and refuses the second, whose transaction rolls back."""
    witness = Witness(tmp_path / "witness")
    first = Ledger(tmp_path / "a.sqlite", witness=witness)
    first.fix_caps({"person": 1.0}, 1e-9)
    shutil.copyfile(tmp_path / "a.sqlite", tmp_path / "b.sqlite")
    second = Ledger(tmp_path / "b.sqlite", witness=witness)
    first.bind_bundle(dataset="fioe", year=2020, run_id="a", manifest_sha256="a" * 64, measurements=[], charges=[])
    witness_files = sorted(p.name for p in witness.folder.iterdir())
    with pytest.raises(BudgetError, match="lacks"):  # the check before the write
        second.bind_bundle(dataset="fioe", year=2020, run_id="b", manifest_sha256="b" * 64, measurements=[],
                           charges=[])
    entries = second.entries()
    with pytest.raises(BudgetError, match="witnessed already with another hash"):  # the race: past the check
        witness.record(entries[0].hash, [Entry(len(entries) + 1, "bundle", {}, entries[-1].hash, "f" * 64, None, "{}")])
    assert sorted(p.name for p in witness.folder.iterdir()) == witness_files
    assert len(second.entries()) == len(entries)  # the refused write left the copy as it was


def _doctor_ledger_line(world: World, doctor: list[str]) -> str:
    line = next(x for x in world.ok(*doctor).splitlines() if "ledger" in x and "witness" in x)
    assert line.lstrip().startswith("warn") and str(world.witness) in line, line
    assert "(append-only)" not in line and "WORM storage" in line, line  # what a deployment needs (2f-doc)
    assert "witness: the folder tier (lower)" in line and "release witness serve" in line, line
    return line


def test_doctor_shows_the_witness_warns_when_it_can_be_deleted_and_fails_a_rolled_back_ledger(world: World) -> None:
    """2f-doc: doctor never calls a witness this account writes append-only, and always warns that a
    folder is the lower tier (pointing to the witness service). Before the first use (an empty
    folder it can create files in) it warns of rewriting and of a copy mounted over the path; once
    its builds made files there, that it owns them and can rewrite them (chmod u+w)."""
    doctor = ["doctor", "--out", str(world.out), "--rules", str(world.rules)]
    world.witness.mkdir()
    line = _doctor_ledger_line(world, doctor)
    assert "can create files in it" in line and "unshare" in line and "can delete its files" in line, line
    world.anchor()
    owned = sum(1 for _ in world.witness.iterdir())
    line = _doctor_ledger_line(world, doctor)
    assert f"NOT append-only for this account: it owns {owned} of its files" in line and "chmod u+w" in line, line
    name_witness(world.rules, None)
    said = world.refused(6, "names no witness", *doctor)  # the anchored ledger, under rules naming none
    assert "fail ledger" in said
    name_witness(world.rules, "witness")
    _roll_back(authoritative_ledger())
    world.refused(6, "lacks", *doctor)


# ---- 4u-unit: a rules copy charging the protected table otherwise than the trusted policy ---
#
# The copy keeps the organisation's ledger and witness but declares a unit of its own (person2,
# cap 10) and charges the table to it at rho 4.0 (near-exact counts), or keeps person and raises
# the rho. The charge is on the authoritative ledger and witnessed; before the fix approve, publish
# and audit with the organisation's rules passed while person had really spent past its cap.

OTHER_UNIT = "charged to another privacy unit than person"
OTHER_RHO = "spends another rho than the 0.05"
UNDECLARED = "does not declare"


def _rules_copy(world: World, unit: str, rho: str) -> Path:
    """The organisation's rules copied by the analyst, naming the same witness (and so the same
    ledger), with a unit ``person2`` (cap 10) and the protected table charged to ``unit`` at ``rho``."""
    copy = world.tmp / "analyst" / "rules"
    shutil.copytree(world.rules, copy, ignore=shutil.ignore_patterns("witness"))
    name_witness(copy, world.witness)
    policy = copy / "privacy.yaml"
    policy.write_text(policy.read_text().replace(
        "units:\n", "units:\n  person2:\n    description: x\n    datasets: [fioe]\n    cap_rho: 10.0\n", 1))
    tables = copy / "fioe_tables.yaml"
    text = tables.read_text()
    start = text.index(f"name: {PROTECTED}")
    end = text.index("rho: 0.05", start)
    tables.write_text(text[:start] + text[start:end].replace("privacy_unit_name: person",
                                                             f"privacy_unit_name: {unit}")
                      + f"rho: {rho}" + text[end + len("rho: 0.05"):])
    return copy


@pytest.mark.parametrize(("unit", "rho", "refusal"), [
    ("person2", "4.0", OTHER_UNIT), pytest.param("person", "0.1", OTHER_RHO, marks=pytest.mark.slow)],
                         ids=["new-unit", "same-unit-larger-rho"])
def test_4u_a_charge_the_trusted_policy_does_not_declare_is_refused_at_approve_publish_and_audit(
        world: World, unit: str, rho: str, refusal: str) -> None:
    from release.synth.fioe import generate_fioe, write_fioe

    world.anchor()
    copy = _rules_copy(world, unit, rho)
    raw = world.tmp / "raw-2021"
    write_fioe(generate_fioe(2021, seed=5, n_reports=40), raw)
    out = world.tmp / "rel-copy"
    world.ok(*world.build(out, "--json", raw=raw, year="2021", rules=copy))
    charges = [e.body for e in Ledger(authoritative_ledger()).entries() if e.kind == "charge"]
    assert any(c["unit"] == unit and c["rho"] == float(rho) for c in charges), "the attack's charge is on the ledger"

    org = ["fioe", "2021", "--out", str(out), "--rules", str(world.rules)]
    said = world.refused(7, refusal, "approve", *org[:2], "--key", str(world.counsel), *org[2:])
    assert "differ from the trusted policy" in said and PROTECTED in said
    bundle = out / "fioe" / "2021"
    _sign_outside_approve(world, bundle)
    world.refused(7, refusal, "publish", *org[:2], "--to", str(world.site), *org[2:])
    assert not (world.site / "fioe" / "2021").exists()

    code, stdout, stderr = invoke("audit", *org, "--no-scan", "--allow-unverified", "--json")
    assert code == 8, stdout + stderr
    problems = {c["name"]: c for c in json.loads(stdout)["checks"]}["privacy_ledger"]["problems"]
    assert any(refusal in p for p in problems), problems
    assert any(p.startswith("fioe 2021: public privacy.json") for p in problems), problems
    if unit == "person2":  # its charge counts against no cap the organisation set
        assert any("ledger entry" in p and UNDECLARED in p for p in problems), problems
        assert any("privacy.rho_cap" in p and UNDECLARED in p for p in problems), problems
    portal = _copy_by_hand(bundle, world.tmp / "portal" / "fioe" / "2021")
    code, stdout, stderr = invoke("verify", str(portal), "--rules", str(world.rules), "--json")
    assert code == 8, stdout + stderr
    checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
    assert checks["privacy_charges"]["status"] == "fail"
    assert any(refusal in p for p in checks["privacy_charges"]["problems"]), checks["privacy_charges"]


def test_the_honest_release_is_approved_published_and_audited_with_the_trusted_policy(world: World) -> None:
    """The control: a release built with the organisation's rules passes every spend check."""
    world.anchor()
    world.ok(*world.cmd("publish", "--to", str(world.site)))
    code, stdout, stderr = invoke(*world.cmd("audit", "--no-scan", "--allow-unverified", "--json"))
    checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
    assert checks["privacy_ledger"]["status"] == "pass", checks["privacy_ledger"]
    code, stdout, stderr = invoke("verify", str(world.site / "fioe" / "2020"), "--rules", str(world.rules), "--json")
    assert code == 0, stdout + stderr
