"""The ledger's witness service through the CLI: a witness the analyst cannot forge (issue #12,
attack round 5: 2f-ns, 2f-rw, 2f-pre).

The folder witness was written by the analyst's own builds, so the analyst could rewrite it or
mount a copy over its path and draw there. Here the witness is ``release witness serve``, run as a
subprocess with its key and store in a folder of its own that no analyst command is given; the
organisation's rules pin its socket and public key. The scene is a copy of a small FIOE build made
with those rules (its ledger anchored in the service from the first build) in a home of the
test's own, and a copy of the witness's store served by a new process with the same key. Each
test does what an analyst could do and asserts the refusal and its exit code; the honest path
goes through. Fictitious values only.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import authoritative_ledger, invoke, invoke_ok, invoke_refused, name_witness, trusted_rules
from witness.witnesskit import CannedServer, WitnessServer, new_account, pin_service, wait_gone

from release.privacy.ledger import Ledger, entry_hash
from release.witness.client import receipt_problems
from release.witness.protocol import exchange, new_nonce

pytestmark = pytest.mark.slow  # every test needs the module build with a witness service (~27 s); most take 20-60 s more

YEAR = "2020"
PROTECTED = "fioe_people_by_contacts_neighbourhood"


@dataclass(frozen=True)
class Base:
    raw: Path
    out: Path
    home: Path                # the module's home: its ledger, anchored in the module's witness
    witness: WitnessServer    # stopped; its account folder holds the key and the store


@dataclass
class World:
    tmp: Path
    raw: Path
    out: Path
    rules: Path
    counsel: Path
    witness: WitnessServer
    monkeypatch: pytest.MonkeyPatch

    def ok(self, *args: str) -> str:
        return invoke_ok(*args)

    def refused(self, code: int, refusal: str, *args: str) -> str:
        """Run a command that must be refused with ``code`` and a message holding ``refusal``."""
        return invoke_refused(code, refusal, *args)

    def cmd(self, name: str, *more: str, out: Path | None = None, rules: Path | None = None) -> list[str]:
        return [name, "fioe", YEAR, "--out", str(out or self.out), "--rules", str(rules or self.rules), *more]

    def approve(self, out: Path | None = None, rules: Path | None = None) -> list[str]:
        return self.cmd("approve", "--key", str(self.counsel), out=out, rules=rules)

    def publish(self, out: Path | None = None, rules: Path | None = None) -> list[str]:
        return self.cmd("publish", "--to", str(self.tmp / "site"), out=out, rules=rules)

    def build(self, out: Path, raw: Path | None = None, rules: Path | None = None) -> list[str]:
        return ["fioe", YEAR, "--input", str(raw or self.raw), "--out", str(out), "--rules", str(rules or self.rules),
                "--json"]

    def audit(self, out: Path | None = None, rules: Path | None = None) -> tuple[int, dict]:
        code, stdout, stderr = invoke(*self.cmd("audit", "--no-scan", "--allow-unverified", "--json", out=out,
                                                rules=rules))
        assert "Traceback" not in stdout + stderr
        return code, {c["name"]: c for c in json.loads(stdout)["checks"]}

    def audit_fails(self, refusal: str, out: Path | None = None) -> None:
        code, checks = self.audit(out)
        assert code == 8 and checks["privacy_ledger"]["status"] == "fail", checks["privacy_ledger"]
        assert any(refusal in p for p in checks["privacy_ledger"]["problems"]), checks["privacy_ledger"]

    def changed_export(self, row: int = 3) -> Path:
        """The export with one report's city changed (a correction): new counts, so a new draw."""
        raw = self.tmp / f"raw-changed-{row}"
        if raw.is_dir():
            return raw
        shutil.copytree(self.raw, raw)
        path = raw / "fieldcontact.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        rows[row]["city"] = "MATTAPAN" if rows[row]["city"] != "MATTAPAN" else "ROXBURY"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        return raw


def _drawn(out: Path) -> bool:
    return (out / "fioe" / YEAR / "public" / "tables" / f"{PROTECTED}.csv").is_file()


def _charges() -> int:
    return sum(1 for e in Ledger(authoritative_ledger()).entries() if e.kind == "charge")


def _table(out: Path) -> str:
    return (out / "fioe" / YEAR / "public" / "tables" / f"{PROTECTED}.csv").read_text(encoding="utf-8")


def _manifest(out: Path) -> dict:
    from release.bundle.read import read_manifest

    return read_manifest(out / "fioe" / YEAR)  # with its private part (the witness's address)


# ---- the honest path -------------------------------------------------------------------------


def test_the_honest_path_builds_approves_publishes_and_audits_with_the_service(world: World) -> None:
    privacy = _manifest(world.out)["privacy"]
    assert privacy["witness_tier"] == "service" and privacy["witness"].startswith("the witness service at")
    assert receipt_problems(privacy["ledger_head"], world.witness.public_key) == []  # checkable offline
    world.ok(*world.approve())
    world.ok(*world.publish())
    code, checks = world.audit()
    assert code == 0 and checks["privacy_ledger"]["status"] == "pass", checks["privacy_ledger"]
    assert "witness service" in checks["privacy_ledger"]["detail"]["witness"]
    assert "privacy_ledger_witness" not in checks
    verified = json.loads(world.ok("verify", str(world.tmp / "site" / "fioe" / YEAR), "--rules", str(world.rules),
                                   "--json"))
    charges = next(c for c in verified["checks"] if c["name"] == "privacy_charges")
    assert charges["status"] == "pass" and charges["detail"]["witness_draws"] == "verified under the pinned key"
    line = next(x for x in world.ok("doctor", "--out", str(world.out), "--rules", str(world.rules)).splitlines()
                if "ledger" in x and "witness" in x)
    assert "the service tier" in line and "signed by the pinned key" in line, line
    assert line.lstrip().startswith("warn") and "runs under this very account" in line, line  # tests: one account


# ---- a witness the analyst runs, at the real one's address -------------------------------------


def test_a_witness_run_with_the_analysts_own_key_is_refused(world: World) -> None:
    """2f-ns with the service: the analyst stands up their own witness (their own key) where the
    organisation's listens, as a private mount namespace would. Nothing it says verifies under the
    pinned key: the build draws nothing (6), approve and publish refuse (7), the audit fails (8).
    A rules copy pinning the analyst's key is refused too: the ledger names the organisation's."""
    world.ok(*world.approve())  # approved while the organisation's witness answered: publish must ask again
    world.witness.stop()
    wait_gone(world.witness.address)
    fake = new_account(world.tmp / "analyst-witness", world.witness.socket_dir).start(rules=world.rules)
    try:
        said = world.refused(6, "does not verify under the witness key privacy.yaml pins",
                             *world.build(world.tmp / "free", world.changed_export()))
        assert "It is not the organisation's witness" in said and not _drawn(world.tmp / "free")
        world.refused(7, "does not verify under the witness key", *world.approve())
        world.refused(7, "does not verify under the witness key", *world.publish())
        world.audit_fails("does not verify under the witness key")
        copy = world.tmp / "analyst-rules"
        shutil.copytree(world.rules, copy)
        pin_service(copy, fake.address, fake.public_key)
        world.refused(6, "the ledger was anchored to the witness service with key",
                      *world.build(world.tmp / "free-2", world.changed_export(), copy))
        assert not _drawn(world.tmp / "free-2")
    finally:
        fake.close()
    assert not (world.tmp / "site").exists()


# ---- rollbacks ------------------------------------------------------------------------------------


def test_a_ledger_rolled_back_after_a_witnessed_draw_adopts_it_again_and_pays_it_once(world: World) -> None:
    """2f-rw with the service: the analyst rolls back the file they own; the witness's store is not
    theirs, and it holds the draw's entries with their bodies and MACs. The next build adopts them
    (5k-kill's recovery), so the rebuild re-uses draw 1: no second draw, one charge."""
    ledger = authoritative_ledger()
    backup = shutil.copyfile(ledger, world.tmp / "backup.sqlite")
    charges = _charges()
    world.ok(*world.build(world.tmp / "rel-1", world.changed_export()))
    assert _drawn(world.tmp / "rel-1") and _charges() == charges + 1
    shutil.copyfile(backup, ledger)
    said = world.ok(*world.build(world.tmp / "rel-2", world.changed_export()))
    assert "recovered from the witness service" in said and "ledger_recovered" in said
    assert _charges() == charges + 1 and _table(world.tmp / "rel-2") == _table(world.tmp / "rel-1")
    world.ok(*world.approve(world.tmp / "rel-1"))
    world.ok(*world.approve(world.tmp / "rel-2"))  # its head is an adopted entry: its receipt was kept too
    world.ok(*world.approve())  # the bundle built before the draw
    code, checks = world.audit()
    assert code == 0 and checks["privacy_ledger"]["status"] == "pass", checks["privacy_ledger"]


def test_three_witnessed_draws_with_the_ledger_of_draw_two_put_back_are_all_charged(world: World) -> None:
    ledger = authoritative_ledger()
    charges = _charges()
    kept = []
    for draw in (1, 2, 3):
        world.ok(*world.build(world.tmp / f"rel-{draw}", world.changed_export(draw)))
        kept.append(shutil.copyfile(ledger, world.tmp / f"ledger-{draw}.sqlite"))
    shutil.copyfile(kept[1], ledger)
    world.ok(*world.approve(world.tmp / "rel-2"))  # the ledger adopts draw 3's entries from the witness first
    assert _charges() == charges + 3
    assert [e.hash for e in Ledger(ledger).entries()] == [e.hash for e in Ledger(kept[2]).entries()]
    world.ok(*world.publish(world.tmp / "rel-2"))


def test_copies_of_the_ledger_draw_only_through_the_real_witness_which_takes_one(world: World) -> None:
    """2f-2 with the service: each copy's draw is the real witness's, and every copy catches up with
    what it holds before it writes: the second copy adopts the first copy's draw and re-uses it
    (two appends racing past that meet the service's refusal of a seq it holds with another hash:
    the protocol test below)."""
    authoritative = authoritative_ledger()
    charges = _charges()
    for name in ("copy-1", "copy-2"):
        world.monkeypatch.setenv("HOME", str(world.tmp / name))
        authoritative_ledger().parent.mkdir(parents=True)
        shutil.copyfile(authoritative, authoritative_ledger())
    world.monkeypatch.setenv("HOME", str(world.tmp / "copy-1"))
    world.ok(*world.build(world.tmp / "rel-1", world.changed_export()))
    world.monkeypatch.setenv("HOME", str(world.tmp / "copy-2"))
    assert "recovered from the witness service" in world.ok(*world.build(world.tmp / "rel-2", world.changed_export()))
    assert _table(world.tmp / "rel-2") == _table(world.tmp / "rel-1") and _charges() == charges + 1
    world.ok(*world.approve(world.tmp / "rel-2"))
    world.monkeypatch.setenv("HOME", str(world.tmp / "home"))
    world.ok(*world.approve(world.tmp / "rel-1"))  # the stale authoritative file catches up, one draw charged once
    assert _charges() == charges + 1


# ---- the witness down, a replayed answer ------------------------------------------------------------


def test_the_witness_down_fails_closed_and_says_what_to_fix(world: World) -> None:
    world.ok(*world.approve())  # approved while it answered: publish asks again
    world.witness.stop()
    said = world.refused(6, "cannot be reached", *world.build(world.tmp / "rel", world.changed_export()))
    assert "release witness serve" in said and not _drawn(world.tmp / "rel")
    world.refused(7, "cannot be reached", *world.approve())
    world.refused(7, "cannot be reached", *world.publish())
    world.audit_fails("cannot be reached")
    said = world.refused(6, "cannot be reached", "doctor", "--out", str(world.out), "--rules", str(world.rules))
    assert "fail ledger" in said
    world.witness.start()  # back up, nothing lost
    world.ok(*world.publish())


def test_a_replayed_head_statement_is_refused(world: World) -> None:
    """The analyst records a head the witness signed (anyone may ask), draws, rolls the ledger back
    and answers at the witness's address with the recorded head: its nonce is not the request's."""
    recorded = exchange(world.witness.address, {"op": "head", "nonce": new_nonce()})
    assert recorded["ok"] is True
    ledger = authoritative_ledger()
    backup = shutil.copyfile(ledger, world.tmp / "backup.sqlite")
    world.ok(*world.build(world.tmp / "rel-1", world.changed_export()))
    shutil.copyfile(backup, ledger)
    world.witness.stop()
    wait_gone(world.witness.address)
    replay = CannedServer(world.witness.address, recorded)
    try:
        world.refused(7, "a replayed statement", *world.approve())
        world.refused(6, "a replayed statement", *world.build(world.tmp / "rel-2", world.changed_export()))
        assert not _drawn(world.tmp / "rel-2")
        world.audit_fails("a replayed statement")
    finally:
        replay.close()


# ---- 2f-pre: draws selected before the witness existed ------------------------------------------------


def test_a_bundle_built_before_the_services_anchor_is_refused_and_its_rebuild_draws_again(world: World) -> None:
    """Before the administrator pins the service, the analyst draws three times (the ledger deleted
    in between) and keeps draw 2's ledger. Once the service anchors it, draw 2 is never approved,
    published or passed by the audit; a rebuild of the same data draws again, and is charged."""
    world.monkeypatch.setenv("HOME", str(world.tmp / "pre-home"))
    rules = world.tmp / "pre" / "rules"
    shutil.copytree(world.rules, rules)
    name_witness(rules, None)
    ledger = authoritative_ledger()
    for draw in (1, 2, 3):
        ledger.unlink(missing_ok=True)
        world.ok(*world.build(world.tmp / f"pre-{draw}", rules=rules))
        shutil.copyfile(ledger, world.tmp / f"pre-ledger-{draw}.sqlite")
    shutil.copyfile(world.tmp / "pre-ledger-2.sqlite", ledger)
    fresh = new_account(world.tmp / "fresh-witness").start(rules=rules)
    try:
        pin_service(rules, fresh.address, fresh.public_key)
        said = world.refused(7, "built before the ledger was anchored", *world.approve(world.tmp / "pre-2", rules))
        assert "2f-pre" in said and "drawn again and charged" in said
        world.refused(7, "approval", *world.publish(world.tmp / "pre-2", rules))
        code, checks = world.audit(world.tmp / "pre-2", rules)
        assert code == 8 and any("built before the ledger was anchored" in p
                                 for p in checks["privacy_ledger"]["problems"]), checks["privacy_ledger"]
        charges, old = _charges(), _manifest(world.tmp / "pre-2")["privacy"]["measurements"]
        world.ok(*world.build(world.tmp / "pre-2b", rules=rules))  # the same data
        new = _manifest(world.tmp / "pre-2b")["privacy"]["measurements"]
        assert _charges() == charges + len(new) and new
        assert not {m["measurement_sha256"] for m in new} & {m["measurement_sha256"] for m in old}
        world.ok(*world.approve(world.tmp / "pre-2b", rules))
        world.ok(*world.build(world.tmp / "pre-2c", rules=rules))  # after the anchor, a rebuild re-uses: free
        assert _charges() == charges + len(new)
    finally:
        fresh.close()


def test_a_ledger_moves_up_from_a_folder_witness_to_the_service_and_never_back(world: World) -> None:
    """An organisation that started with the folder tier pins the service: the ledger is anchored
    there at its next write, the year published under the folder stays valid (the portal's history,
    the audit), a new year goes out through the service, and rules naming the folder again are
    refused (a ledger never goes back to the lower tier)."""
    from release.synth.fioe import generate_fioe, write_fioe

    world.monkeypatch.setenv("HOME", str(world.tmp / "folder-home"))
    rules = world.tmp / "org" / "rules"
    shutil.copytree(world.rules, rules)
    name_witness(rules, "witness")
    out = world.tmp / "org-out"
    world.ok(*world.build(out, rules=rules))
    world.ok(*world.approve(out, rules))
    world.ok(*world.publish(out, rules))
    fresh = new_account(world.tmp / "org-witness").start(rules=rules)
    try:
        pin_service(rules, fresh.address, fresh.public_key)
        raw = world.tmp / "raw-2021"
        write_fioe(generate_fioe(2021, seed=5, n_reports=40), raw)
        later = ["--out", str(out), "--rules", str(rules)]
        world.ok("fioe", "2021", "--input", str(raw), *later, "--json")
        world.ok("approve", "fioe", "2021", "--key", str(world.counsel), *later)
        world.ok("publish", "fioe", "2021", "--to", str(world.tmp / "site"), *later)  # the portal's 2020 still counts
        code, checks = world.audit(out, rules)  # 2020, published before the anchor, and 2021 after it
        assert code == 0 and checks["privacy_ledger"]["status"] == "pass", checks["privacy_ledger"]
        name_witness(rules, "witness")
        world.refused(6, "a lower tier a ledger never goes back to",
                      *world.build(world.tmp / "downgraded", world.changed_export(), rules))
    finally:
        fresh.close()


# ---- the service itself: what it refuses, how it starts ---------------------------------------------


def _append(world: World, ledger_id: str, *entries: dict) -> dict:
    return exchange(world.witness.address, {"op": "append", "nonce": new_nonce(), "ledger_id": ledger_id,
                                            "entries": list(entries)})


def test_the_service_refuses_a_forked_gapped_or_foreign_chain_and_takes_a_resent_entry(world: World) -> None:
    entries = Ledger(authoritative_ledger()).entries()
    ledger_id, last = entries[0].hash, entries[-1]

    def mark(seq: int, prev: str, body: str = "{}", digest: str | None = None) -> dict:
        return {"seq": seq, "hash": digest or entry_hash(prev, "bundle", body), "prev": prev, "kind": "bundle",
                "body": body, "mac": None}

    cases = {
        "another hash": mark(last.seq, last.prev),
        "leaves a gap": mark(last.seq + 2, last.hash),
        "does not follow": mark(last.seq + 1, "d" * 64),
        "does not match its body": mark(last.seq + 1, last.hash, digest="e" * 64),
    }
    for refusal, entry in cases.items():
        answer = _append(world, ledger_id, entry)
        assert answer["ok"] is False and refusal in answer["refused"], (refusal, answer)
    answer = _append(world, ledger_id, {k: v for k, v in mark(last.seq + 1, last.hash).items() if k != "body"})
    assert answer["ok"] is False and "is not {seq, hash, prev, kind, body, mac}" in answer["refused"]
    answer = _append(world, "c" * 64, mark(last.seq + 1, last.hash))
    assert answer["ok"] is False and "anchors another ledger" in answer["refused"]
    answer = _append(world, ledger_id, {"seq": last.seq, "hash": last.hash, "prev": last.prev, "kind": last.kind,
                                        "body": last.raw_body, "mac": last.mac})  # sent again: harmless
    statement = answer["signed"]["statement"]
    assert answer["ok"] is True and (statement["seq"], statement["hash"]) == (last.seq, last.hash)
    assert exchange(world.witness.address, {"op": "head"})["ok"] is False  # no nonce, no answer


SERVE_REFUSALS = [("key-readable-by-others", 3, "chmod 600 it"),
                  ("store-writable-by-others", 3, "can be changed by another account"),
                  ("store-in-a-folder-others-write", 3, "can be changed by another account"),
                  ("socket-in-use", 3, "already listens")]


@pytest.mark.parametrize(("scene", "code", "refusal"), SERVE_REFUSALS, ids=[row[0] for row in SERVE_REFUSALS])
def test_serve_refuses_an_exposed_key_or_store_and_a_taken_socket(base: Base, tmp_path: Path, scene: str, code: int,
                                                                  refusal: str) -> None:
    account = base.witness.copy(tmp_path / "witness-account")
    socket = tmp_path / "w.sock"
    if scene == "key-readable-by-others":
        account.key.chmod(0o644)
    elif scene == "store-writable-by-others":
        (account.account / "store").chmod(0o777)
    elif scene == "store-in-a-folder-others-write":  # whoever writes the folder above can swap the store
        account.account.chmod(0o777)
    else:
        account.start()
        socket = Path(account.address)
    try:
        got, stdout, stderr = invoke("witness", "serve", "--dir", str(account.account / "store"), "--key",
                                     str(account.key), "--socket", str(socket))
    finally:
        account.close()
    said = " ".join((stdout + stderr).split())
    assert got == code and refusal in said and "Traceback" not in said, said


def test_a_pinned_key_that_is_not_an_ed25519_key_is_a_config_error(base: Base, tmp_path: Path) -> None:
    rules = pin_service(trusted_rules(tmp_path), "/run/release-witness/sock", "ed25519:AAAA").parent
    code, stdout, stderr = invoke("fioe", YEAR, "--input", str(base.raw), "--out", str(tmp_path / "rel"), "--rules",
                                  str(rules))
    assert code == 3 and "not an Ed25519 public key" in stderr and "Traceback" not in stdout + stderr, stderr
