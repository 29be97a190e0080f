"""What the witness signs carries nothing a client chose (round 31: a covert channel through the
public manifest).

The witness's receipts and draw statements are copied into the public ``manifest.json``. An analyst
who runs the build could patch the client and send a nonce of its choosing (the service signed it
back verbatim: up to 768 bits per statement), a run id (128 bits) and a measurement key of its
choosing (the service signed both in the draw's charge), and an outsider would read them off the
portal. Now the nonce is answered by a separate ``fresh`` signature the client keeps, the draw
statement signs only the charge fields the rules or the data determine, and a statement in the
old form is refused (a stored draw in it is drawn again). Fictitious values only.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import authoritative_ledger, trusted_rules
from witness.test_witness_service import PROTECTED, YEAR, World, _charges, _manifest
from witness.witnesskit import declared_draw

from release.keys.signing import sign_bytes
from release.privacy.ledger_entries import GENESIS, entry_hash
from release.witness.declared import load_declared
from release.witness.protocol import (
    CLIENT_CHOSEN,
    DRAW,
    FRESH,
    HEAD,
    OLD_FORM,
    RECEIPT,
    SIGNED_CHARGE,
    fresh_message,
    message,
    signed_charge,
    verified,
)
from release.witness.service import Witness, init_key, load_key
from release.witness.store import Refused

pytestmark = pytest.mark.slow  # every test needs the module build with a witness service (~27 s); most take 20-60 s more

CHOSEN_NONCE = "covert_bits_" + "01" * 40  # a nonce the service's pattern takes: 92 characters the analyst chose
CHOSEN_RUN = "5ec2e7" * 5 + "ab"           # 32 hex: a uuid4's form, every bit chosen
CHOSEN_KEY = "c0vertkeysuffix"

PATCHED = f"""
import runpy, sys, uuid
from release.build import budget as budget_run
from release.witness import client as witness_client
witness_client.new_nonce = lambda: {CHOSEN_NONCE!r}
uuid.uuid4 = lambda: uuid.UUID(hex={CHOSEN_RUN!r})
keyed = budget_run.RunPrivacy.key
budget_run.RunPrivacy.key = lambda self, request: keyed(self, request) + {CHOSEN_KEY!r}
sys.argv = ["release", *sys.argv[1:]]
runpy.run_module("release", run_name="__main__")
"""


# ---- the statement forms, in process ------------------------------------------------------------


@pytest.fixture()
def service(tmp_path: Path) -> tuple[Witness, str]:
    """A witness answering in process (heads and appends: no counts key, no rules), and its public key."""
    from release.keys.signing import one_line

    init_key(tmp_path / "witness.key")
    return Witness(tmp_path, tmp_path / "witness.key", None), one_line(load_key(tmp_path / "witness.key").public_key())


def _first_entry() -> dict:
    body = "{}"
    return {"seq": 1, "hash": entry_hash(GENESIS, "genesis", body), "prev": GENESIS, "kind": "genesis", "body": body,
            "mac": None}


def test_a_head_or_receipt_signs_no_nonce_and_fresh_answers_only_its_own(service: tuple[Witness, str]) -> None:
    witness, public_key = service
    entry = _first_entry()
    for op, kind, fields in (("head", HEAD, {}),
                             ("append", RECEIPT, {"ledger_id": entry["hash"], "entries": [entry]})):
        reply = witness.answer({"op": op, "nonce": CHOSEN_NONCE, **fields})
        assert reply["ok"] is True, reply
        assert CHOSEN_NONCE not in json.dumps(reply["signed"])  # what may be published
        assert isinstance(verified(reply["signed"], public_key, kind, CHOSEN_NONCE, reply["fresh"]), dict)
        replayed = verified(reply["signed"], public_key, kind, "another_nonce_of_16", reply["fresh"])
        assert isinstance(replayed, str) and "a replayed statement" in replayed


def test_asking_again_for_a_receipt_gives_the_same_receipt(service: tuple[Witness, str]) -> None:
    """No time, no nonce: a client that asks many times has nothing to choose among."""
    witness, _ = service
    entry = _first_entry()
    receipts = [witness.answer({"op": "append", "nonce": nonce, "ledger_id": entry["hash"], "entries": [entry]})
                for nonce in ("first_nonce_0000000", "second_nonce_000000")]
    assert receipts[0]["signed"] == receipts[1]["signed"] and receipts[0]["fresh"] != receipts[1]["fresh"]
    assert set(receipts[0]["signed"]["statement"]) == {"type", "ledger_id", "seq", "hash", "witness_key"}


def _old_form(signed: dict, witness: Witness) -> dict:
    """``signed`` as the service signed it before round 31: with the request's nonce (and a draw's run)."""
    statement = {**signed["statement"], "nonce": CHOSEN_NONCE}
    return {"statement": statement, "signature": sign_bytes(witness.private, message(statement))}


@pytest.mark.parametrize("form", ["old form", "fresh is not a statement", "wrong kind"])
def test_a_statement_that_is_not_this_form_or_kind_does_not_verify(service: tuple[Witness, str], form: str) -> None:
    witness, public_key = service
    reply = witness.answer({"op": "head", "nonce": CHOSEN_NONCE})
    if form == "old form":
        found = verified(_old_form(reply["signed"], witness), public_key, HEAD)
        assert found == OLD_FORM and "rebuild" in found and "drawn again" in found
        assert isinstance(verified(_old_form(reply["signed"], witness), public_key, HEAD, old_form_ok=True), dict)
    elif form == "fresh is not a statement":  # the fresh signature signs a FRESH message, never a statement
        fresh = fresh_message(reply["signed"]["statement"], CHOSEN_NONCE)
        assert json.loads(fresh.split(b"\n", 1)[1])["type"] == FRESH
        assert verified({"statement": json.loads(fresh.split(b"\n", 1)[1]), "signature": reply["fresh"]},
                        public_key, HEAD) == "it is not a head statement"
    else:
        assert verified(reply["signed"], public_key, DRAW) == "it is not a draw statement"


def test_a_draw_statement_signs_the_charge_but_what_the_client_chose() -> None:
    charge = {"unit": "person", "dataset": "fioe", "table": "t", "data_year": 2020, "release_year": 2020,
              "mechanism": "discrete_gaussian", "rho": 0.05, "epsilon": None, "run_id": CHOSEN_RUN,
              "measurement_key": f"{'a' * 64}:{CHOSEN_KEY}"}
    assert set(CLIENT_CHOSEN) == {"run_id", "measurement_key"}
    assert signed_charge(charge) == {f: charge[f] for f in SIGNED_CHARGE}
    assert CHOSEN_RUN not in json.dumps(signed_charge(charge)) and CHOSEN_KEY not in json.dumps(signed_charge(charge))


@pytest.mark.parametrize("field", ["rho", "budget"])
def test_a_declared_number_with_low_bits_of_the_clients_choosing_is_not_drawn(tmp_path: Path, field: str) -> None:
    """rho and the draw's budget within a billionth of the declaration were drawn and signed: about
    22 low bits of each for the client to set. Only the declared number, bit for bit, is drawn."""
    declared = load_declared(trusted_rules(tmp_path))
    charge, inputs = declared_draw(tmp_path / "rules", int(YEAR), PROTECTED)
    declared.refuse_undeclared(charge, inputs)  # the declared measurement is drawn
    nudged = {"rho": (dict(charge, rho=charge["rho"] * (1 + 1e-12)), inputs),
              "budget": (charge, dict(inputs, budget=inputs["budget"] * (1 + 1e-12)))}[field]
    with pytest.raises(Refused, match=r"\(rule rho"):
        declared.refuse_undeclared(*nudged)


# ---- through the CLI ------------------------------------------------------------------------------


def _public_text(bundle: Path) -> str:
    return "".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(bundle.rglob("*"))
                   if p.is_file() and "private" not in p.parts and p.suffix in (".json", ".csv", ".txt", ".md"))


def test_a_patched_client_choosing_nonce_run_and_key_puts_none_of_them_in_the_published_copy(world: World) -> None:
    """The analyst's patched client sends its own nonce, run id and measurement key with a new draw.
    The build, approval and publication go through; the published copy carries none of them, and
    its receipt and draw statements still verify offline under the pinned key."""
    from release.governance.verify_copy import charge_fields
    from release.witness.client import draw_problems, receipt_problems

    charges = _charges()
    out = world.tmp / "patched"
    build = subprocess.run([sys.executable, "-c", PATCHED, *world.build(out, world.changed_export())],
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, (build.stdout + build.stderr)[-3000:]
    assert _charges() == charges + 1  # a new draw, charged
    ledger_text = authoritative_ledger().read_bytes()
    assert CHOSEN_RUN.encode() in ledger_text and CHOSEN_KEY.encode() in ledger_text  # they did reach the ledger
    world.ok(*world.approve(out=out))
    world.ok(*world.publish(out=out))
    site = world.tmp / "site" / "fioe" / YEAR
    for published in (site, out / "fioe" / YEAR / "public"):
        text = _public_text(published)
        assert text and all(chosen not in text for chosen in (CHOSEN_NONCE, CHOSEN_RUN, CHOSEN_KEY))
    privacy = json.loads((site / "manifest.json").read_text(encoding="utf-8"))["privacy"]
    assert "ledger_head" not in privacy  # round 31, R1: in the bundle's private part, with its receipt
    assert receipt_problems(_manifest(out)["privacy"]["ledger_head"], world.witness.public_key) == []
    fresh = [m.get("reused") is False for m in _manifest(out)["privacy"]["measurements"]]  # the bundle's history
    drawn = [m["witness_draw"] for m, new in zip(privacy["measurements"], fresh, strict=True) if new]
    assert drawn, privacy["measurements"]
    for signed in drawn:
        assert set(signed["statement"]["charge"]) == set(SIGNED_CHARGE)
        assert "nonce" not in signed["statement"] and "at" not in signed["statement"]
    assert all(draw_problems(m["witness_draw"], world.witness.public_key, privacy["ledger_id"],
                             m["measurement_sha256"], charge_fields(m)) == [] for m in privacy["measurements"])
    code, checks = world.audit(out=out)
    assert code == 0 and checks["privacy_ledger"]["status"] == "pass", checks["privacy_ledger"]


def test_a_stored_draw_in_the_old_form_is_drawn_again_and_a_manifest_carrying_one_is_refused(world: World) -> None:
    """Draw statements the service signed before round 31 (with the client's nonce and run id) are
    never re-used: the rebuild draws again and is charged, and approves; a manifest carrying one
    fails the audit, which names the form and the fix."""
    witness = Witness.__new__(Witness)  # only its key, to sign as the service did before round 31
    witness.private = load_key(world.witness.key)
    with sqlite3.connect(authoritative_ledger()) as db:
        db.execute("DROP TRIGGER draws_no_update")
        for key, statement in db.execute("SELECT key, statement FROM draws").fetchall():
            old = _old_form(json.loads(statement), witness)
            old["statement"]["charge"] = {**old["statement"]["charge"], "run_id": CHOSEN_RUN}
            old["signature"] = sign_bytes(witness.private, message(old["statement"]))
            db.execute("UPDATE draws SET statement = ? WHERE key = ?", (json.dumps(old), key))
    charges = _charges()
    bundle = world.out / "fioe" / YEAR
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["privacy"]["measurements"][0]["witness_draw"] = _old_form(
        manifest["privacy"]["measurements"][0]["witness_draw"], witness)
    (bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    world.audit_fails("statement form before round 31")  # the audit lists every problem, this one named
    world.refused(7, "not on the authoritative ledger", *world.approve())  # approve names the first (the binding)
    rebuilt = world.tmp / "rebuilt"
    world.ok(*world.build(rebuilt))
    assert _charges() > charges  # drawn again, and charged
    assert all(m.get("reused") is False for m in _manifest(rebuilt)["privacy"]["measurements"])
    world.ok(*world.approve(out=rebuilt))
