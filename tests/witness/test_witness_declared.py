"""The witness service draws only what the organisation's trusted rules declare, charged to their caps
(issue #12, attack round 25: U-selfcap, U-tcp-cap, U-under-cap), through the CLI with the service as
a subprocess (``release witness serve --rules DIR``).

Round 24's service took its caps from ``cap`` entries on the chain it holds, which any writer
appends: the analyst's own cap entry (``Ledger.fix_caps``, release key) for a unit of its naming, or,
under ``--writer any``, another account's with a MAC the service cannot check; both were followed by
a rho-2 draw that recovery paid and the audit's advice put on ``person``'s cap for good. And a direct
draw of rho 0.9 on ``person`` (18 times the 0.05 declared) was drawn and paid, and nothing flagged
it. Each attack here is done as a writer does it; the service refuses at the draw, naming the field
and the rule (never a value), nothing is drawn or charged, and the honest next build, its approval
and the audit exit 0. Fictitious values only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import authoritative_ledger, invoke
from witness.test_witness_draws import _charges, _declared, _junk, _ledger_id, _mac, _store_key
from witness.test_witness_service import PROTECTED, YEAR, World, _drawn
from witness.witnesskit import pin_service

from release.privacy.ledger import Ledger, canonical, entry_hash, spent_by_unit
from release.privacy.ledger_open import open_ledger
from release.witness.protocol import exchange, new_nonce

pytestmark = pytest.mark.slow  # every test needs the module build with a witness service (~27 s); most take 20-60 s more


def _draw(address: str, charge: dict, inputs: dict, entries: list | None = None) -> dict:
    return exchange(address, {"op": "draw", "nonce": new_nonce(), "ledger_id": _ledger_id(), "entries": entries or [],
                              "charge": charge, "inputs": inputs})


def _head(address: str) -> dict:
    return exchange(address, {"op": "head", "nonce": new_nonce()})["signed"]["statement"]


def _attackers_draw(world: World, unit: str, rho: float) -> tuple[dict, dict]:
    """The round-25 harness's request (draw_req.py): the protected table, a made-up declaration hash,
    invented counts, sensitivity 1, the budget and charge at ``rho``, on ``unit``."""
    spec = "ab" * 32
    inputs = {"table": PROTECTED, "mechanism": "discrete_gaussian", "budget": rho, "l1": 1, "l2_squared": 1,
              "data_year": int(YEAR), "spec_sha256": spec, "counts": [7] * 56}
    charge = {"unit": unit, "dataset": "fioe", "table": PROTECTED, "data_year": int(YEAR), "release_year": int(YEAR),
              "mechanism": "discrete_gaussian", "rho": rho, "epsilon": None, "run_id": "direct",
              "measurement_key": f"{spec}:direct"}
    return charge, inputs


def _honest_next_build_unharmed(world: World, charges: int, address: str) -> None:
    """Nothing drawn, unpaid or charged by the attack; the honest next build (0), its approval (0) and
    the audit (0) go through, and only the honest build's own measurement is charged."""
    assert _charges() == charges and _head(address)["unpaid"] == 0
    nothing = json.loads(world.ok("witness", "recover", "--rules", str(world.rules), "--json"))
    assert nothing["recovered"] == [], nothing
    world.ok(*world.build(world.tmp / "next", world.changed_export()))
    assert _drawn(world.tmp / "next") and _charges() == charges + 1
    world.ok(*world.approve(world.tmp / "next"))
    code, checks = world.audit(world.tmp / "next")
    assert code == 0 and checks["privacy_ledger"]["status"] == "pass", checks["privacy_ledger"]
    entries = Ledger(authoritative_ledger()).entries()
    assert {e.body["unit"] for e in entries if e.kind == "charge"} == {"person"}


@pytest.mark.parametrize("request_form", ["attackers", "declared-but-the-unit"])
def test_u_selfcap_a_writers_own_cap_entry_for_a_new_unit_gives_no_draw(world: World, request_form: str) -> None:
    """U-selfcap: the analyst appends a cap entry (cap 5) for a new unit ``no`` with the unmodified
    ledger API, which the witness holds, then asks for a rho-2 draw on ``no``: as the harness sent it,
    or exactly the declared measurement but for its unit and rho. Refused at the draw (rule
    privacy_unit_name): the cap entry creates no cap, and the unit is not the one the table charges."""
    charges = _charges()
    fixed = open_ledger(world.rules, None, _mac()).fix_caps({"no": 5.0}, 1e-9)
    assert fixed == {"no": 5.0}
    if request_form == "attackers":
        charge, inputs = _attackers_draw(world, "no", 2.0)
    else:
        charge, inputs = _declared(world, unit="no", rho=2.0)
        inputs = {**inputs, "budget": 2.0}
    answer = _draw(world.witness.address, charge, inputs)
    assert answer["ok"] is False and "record" not in answer, answer
    assert answer["refused"] == (f"the draw's unit is not the privacy unit person that the trusted declaration of "
                                 f"table {PROTECTED} charges, declared for its dataset in the trusted privacy.yaml "
                                 "(rule privacy_unit_name)"), answer
    assert "2.0" not in answer["refused"] and '"no"' not in answer["refused"]
    _honest_next_build_unharmed(world, charges, world.witness.address)


def test_u_tcp_cap_another_accounts_junk_cap_entry_under_writer_any_gives_no_draw(world: World) -> None:
    """U-tcp-cap: under ``serve --port --writer any``, a client with no release key appends a cap entry
    for ``person8`` (cap 5, a MAC the service cannot check) and asks for a rho-2 draw on it. Refused
    (rule privacy_unit_name). The junk entry is the known lower-tier nuisance: the build names
    ``release witness void`` (6), the administrator voids it, and the next build and the audit pass."""
    world.witness.stop()
    process = subprocess.Popen(
        [sys.executable, "-m", "release", "witness", "serve", "--dir", str(world.witness.account / "store"),
         "--key", str(world.witness.key), "--counts-key", str(world.witness.counts_key), "--rules", str(world.rules),
         "--port", "0", "--writer", "any"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert "listening on 127.0.0.1:" in line, line
        address = line.rsplit(" ", 1)[-1].strip()
        pin_service(world.rules, address, world.witness.public_key)
        charges = _charges()
        head = _head(address)
        body = canonical({"unit": "person8", "cap_rho": 5.0, "delta": 1e-9})
        junk = {"seq": head["length"] + 1, "prev": head["head"], "kind": "cap", "body": body, "mac": "00" * 32,
                "hash": entry_hash(head["head"], "cap", body)}
        appended = exchange(address, {"op": "append", "nonce": new_nonce(), "ledger_id": _ledger_id(),
                                      "entries": [junk]})
        assert appended["ok"] is True, appended  # --writer any: any client appends (the lower tier)
        for charge, inputs in (_attackers_draw(world, "person8", 2.0), _declared(world, unit="person8", rho=2.0)):
            answer = _draw(address, charge, inputs)
            assert answer["ok"] is False and "record" not in answer, answer
            assert "(rule privacy_unit_name)" in answer["refused"], answer
        assert _head(address)["unpaid"] == 0 and _charges() == charges
        world.refused(6, f"--from {junk['seq']}", *world.build(world.tmp / "blocked", world.changed_export()))
        store, key = _store_key(world)
        world.ok("witness", "void", "--dir", store, "--key", key, "--from", str(junk["seq"]))
        _honest_next_build_unharmed(world, charges, address)
    finally:
        process.terminate()
        process.communicate(timeout=20)  # waits, and closes its pipes


def test_u_under_cap_a_draw_at_18_times_the_declared_rho_is_refused(world: World) -> None:
    """U-under-cap: a direct draw on ``person`` at rho 0.9 (18 times the declared 0.05, under the cap),
    everything else exactly the declared measurement. Refused (rule rho): no request spends more than
    the declaration's rho."""
    charges = _charges()
    entries = Ledger(authoritative_ledger()).entries()
    assert spent_by_unit(entries)["person"] + 0.9 < 1.0  # under the cap: only the declaration stops it
    charge, inputs = _declared(world, rho=0.9)
    for sent in ({**inputs, "budget": 0.9}, inputs):  # the draw at 0.9, or at 0.05 charged 0.9
        answer = _draw(world.witness.address, charge, sent)
        assert answer["ok"] is False and "record" not in answer, answer
        assert answer["refused"].startswith("the draw's charge: its rho or epsilon is not the one the trusted "
                                            f"declaration of table {PROTECTED} gives (rule rho; "), answer
        assert "restarts it" in answer["refused"], answer  # the way forward when the rules changed (round 26)
    charge, inputs = _declared(world)  # charged 0.05, drawn at 0.9: less noise for the same charge
    answer = _draw(world.witness.address, charge, {**inputs, "budget": 0.9})
    assert answer["ok"] is False and "the draw's budget is not the one" in answer["refused"], answer
    _honest_next_build_unharmed(world, charges, world.witness.address)


def _changed(world: World, field: str) -> tuple[dict, dict]:
    """The declared measurement with one field a writer changed."""
    charge, inputs = _declared(world)
    changes = {
        "table": ({"table": "t_test"}, {"table": "t_test"}),
        "summary-table": ({"table": "fioe_frisks_by_race_sex"}, {"table": "fioe_frisks_by_race_sex"}),
        "dataset": ({"dataset": "youthconnect"}, {}),
        "release-year": ({"release_year": 2013}, {}),
        "future-year": ({"release_year": 2099}, {}),  # round 26, U-years: draws for years to come
        "data-year": ({"data_year": 2019}, {"data_year": 2019}),
        "epsilon": ({"epsilon": 1.0}, {}),
        "spec": ({"measurement_key": "ab" * 32 + ":k"}, {"spec_sha256": "ab" * 32}),
        "l2": ({}, {"l2_squared": 1}),
        "units-may-merge": ({}, {"l1": inputs["l1"] // 2, "l2_squared": inputs["l2_squared"] // 2}),
        "counts": ({}, {"counts": [7] * 56}),
    }[field]
    return {**charge, **changes[0]}, {**inputs, **changes[1]}


REFUSALS = [("table", "(rule tables)"), ("summary-table", "never drawn (rule mechanism)"),
            ("dataset", "(rule tables)"), ("release-year", "(rule tables)"), ("future-year", "(rule release_year)"),
            ("data-year", "(rule per_year)"),
            ("epsilon", "(rule rho"), ("spec", "(rule spec_sha256"), ("l2", "(rule sensitivity"),
            ("units-may-merge", "(rule sensitivity"), ("counts", "(rule dimensions)")]


@pytest.mark.parametrize(("field", "rule"), REFUSALS, ids=[row[0] for row in REFUSALS])
def test_a_draw_that_is_not_the_declared_measurement_is_refused_naming_the_rule(world: World, field: str,
                                                                               rule: str) -> None:
    """Every field of the declared measurement is held: whatever a writer changes is refused before
    anything is drawn, naming the field and the rule and never the value sent; the declared one is drawn."""
    charge, inputs = _changed(world, field)
    answer = _draw(world.witness.address, charge, inputs)
    assert answer["ok"] is False and rule in answer["refused"] and "record" not in answer, answer
    assert "t_test" not in answer["refused"] and "abab" not in answer["refused"], answer
    assert _head(world.witness.address)["unpaid"] == 0
    charge, inputs = _declared(world)
    assert _draw(world.witness.address, charge, inputs)["ok"] is True


def test_without_rules_the_service_makes_no_draw_and_says_which_option(world: World) -> None:
    """``serve`` without ``--rules``: heads and appends are answered, every draw is refused naming the
    option; the build stops (6) naming it, doctor fails naming it; restarted with it, builds go on."""
    world.witness.stop()
    world.witness.rules = None
    world.witness.start()
    address = world.witness.address
    assert _head(address)["declarations_sha256"] is None
    charge, inputs = _declared(world)
    answer = _draw(address, charge, inputs)
    assert answer["ok"] is False and "started without --rules" in answer["refused"], answer
    assert "release witness serve ... --rules DIR" in answer["refused"]
    junk = _junk(world)
    assert exchange(address, {"op": "append", "nonce": new_nonce(), "ledger_id": _ledger_id(),
                              "entries": [junk]})["ok"] is True
    store, key = _store_key(world)
    world.ok("witness", "void", "--dir", store, "--key", key, "--from", str(junk["seq"]))
    said = world.refused(6, "started without --rules", *world.build(world.tmp / "rel", world.changed_export()))
    assert not _drawn(world.tmp / "rel") and "Traceback" not in said
    said = world.refused(6, "started without --rules", "doctor", "--out", str(world.out), "--rules", str(world.rules))
    assert "fail ledger" in said
    world.witness.restart(world.rules)
    world.ok(*world.build(world.tmp / "rel-2", world.changed_export()))


def test_doctor_tells_a_policy_change_needs_the_witness_restarted(world: World) -> None:
    """The service reads its rules once, at start: after the administrator lowers a cap, doctor warns
    that the witness draws by other declarations until it is restarted; after the restart, it is ok."""
    def ledger_line() -> str:
        _, stdout, stderr = invoke("doctor", "--out", str(world.out), "--rules", str(world.rules))
        return next(line for line in (stdout + stderr).splitlines() if "privacy unit(s) with a cap" in line)

    assert "other declarations" not in ledger_line()
    policy = world.rules / "privacy.yaml"
    policy.write_text(policy.read_text(encoding="utf-8").replace("cap_rho: 1.0", "cap_rho: 0.9", 1), encoding="utf-8")
    line = ledger_line()
    assert "warn" in line and "it draws by other declarations" in line and "restarts it" in line, line
    world.witness.restart()
    assert "other declarations" not in ledger_line()


def test_serve_refuses_rules_that_do_not_load(world: World, tmp_path: Path) -> None:
    """A rules folder that is missing, or whose privacy.yaml does not load: serve exits 3 naming the file."""
    world.witness.stop()
    broken = tmp_path / "broken-rules"
    broken.mkdir()
    (broken / "privacy.yaml").write_text("units: [\n", encoding="utf-8")
    for rules, said in ((tmp_path / "no-such-rules", "the trusted rules folder is not a folder"),
                        (broken, "privacy.yaml")):
        code, stdout, stderr = invoke("witness", "serve", "--dir", str(world.witness.account / "store"), "--key",
                                      str(world.witness.key), "--rules", str(rules), "--socket",
                                      world.witness.address)
        assert code == 3 and said in stdout + stderr and "Traceback" not in stdout + stderr, stdout + stderr


def test_serve_refuses_rules_another_account_could_change(world: World, tmp_path: Path) -> None:
    """The rules set every cap and measurement the service draws for: a rules folder, a file in it or a
    folder above it that another account may write (or a file there that is a link) stops serve with
    exit 3 naming the place and the rule; the analyst could otherwise write their own caps."""
    import shutil

    world.witness.stop()
    rules = tmp_path / "org" / "rules"
    shutil.copytree(world.rules, rules)
    (tmp_path / "org").chmod(0o755)
    privacy = rules / "privacy.yaml"

    def serve() -> tuple[int, str]:
        code, stdout, stderr = invoke("witness", "serve", "--dir", str(world.witness.account / "store"), "--key",
                                      str(world.witness.key), "--rules", str(rules), "--socket",
                                      world.witness.address)
        assert "Traceback" not in stdout + stderr
        return code, stdout + stderr

    for exposed, change, undo in (
            (rules, lambda: rules.chmod(0o777), lambda: rules.chmod(0o755)),                     # the folder
            (tmp_path / "org", lambda: (tmp_path / "org").chmod(0o777), lambda: (tmp_path / "org").chmod(0o755)),
            (privacy, lambda: privacy.chmod(0o666), lambda: privacy.chmod(0o644))):              # a file in it
        change()
        code, said = serve()
        undo()
        assert code == 3 and "witness-rules" in said and str(exposed) in said, said
    privacy.rename(rules / "privacy.real.yaml")
    privacy.symlink_to(rules / "privacy.real.yaml")                                               # a link
    code, said = serve()
    assert code == 3 and "witness-rules" in said and str(privacy) in said, said


def test_serve_refuses_a_tables_file_outside_the_rules_folder(world: World, tmp_path: Path) -> None:
    """Review of round 27: a policy's ``tables_file`` naming a file outside the checked rules folder
    (``../elsewhere.yaml``) would declare measurements another account could change: serve exits 3."""
    import shutil

    world.witness.stop()
    rules = tmp_path / "org" / "rules"
    shutil.copytree(world.rules, rules)
    (tmp_path / "org").chmod(0o755)
    policy = rules / "fioe.yaml"
    named = next(line.split(":", 1)[1].strip() for line in policy.read_text(encoding="utf-8").splitlines()
                 if line.startswith("tables_file:"))
    shutil.copyfile(rules / named, tmp_path / "org" / "elsewhere.yaml")
    policy.write_text(policy.read_text(encoding="utf-8").replace(f"tables_file: {named}",
                                                                 "tables_file: ../elsewhere.yaml"), encoding="utf-8")
    code, stdout, stderr = invoke("witness", "serve", "--dir", str(world.witness.account / "store"), "--key",
                                  str(world.witness.key), "--rules", str(rules), "--socket", world.witness.address)
    said = " ".join((stdout + stderr).split())
    assert code == 3 and "witness-rules" in said and "outside the trusted rules folder" in said, said
    assert "Traceback" not in said


def test_u_many_declared_a_release_year_before_the_units_first_is_refused(world: World) -> None:
    """Round 27, U-many-declared: a writer holding spending authority drew the declared measurements of
    past release years, each exactly as declared, until the cap was spent. The administrator declares
    the unit's first release year (``releases_from`` in the trusted privacy.yaml, read at start): a
    declared draw for an earlier year is refused before anything is drawn (rule release_year, naming
    releases_from), and from that year on it is drawn."""
    policy = world.rules / "privacy.yaml"
    text = policy.read_text(encoding="utf-8")
    assert "cap_rho: 1.0" in text
    policy.write_text(text.replace("cap_rho: 1.0", f"cap_rho: 1.0\n    releases_from: {int(YEAR) + 1}", 1),
                      encoding="utf-8")
    world.witness.restart()
    charges = _charges()
    charge, inputs = _declared(world)
    answer = _draw(world.witness.address, charge, inputs)
    assert answer["ok"] is False and "record" not in answer, answer
    assert "(releases_from)" in answer["refused"] and answer["refused"].endswith("(rule release_year)"), answer
    assert _head(world.witness.address)["unpaid"] == 0 and _charges() == charges
    policy.write_text(text.replace("cap_rho: 1.0", f"cap_rho: 1.0\n    releases_from: {YEAR}", 1), encoding="utf-8")
    world.witness.restart()
    assert _draw(world.witness.address, *_declared(world))["ok"] is True
