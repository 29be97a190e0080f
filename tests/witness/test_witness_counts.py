"""The witness commits to the counts it drew on, and ``release audit --raw`` recounts them (issue #12,
round 23: 4s-scale), through the CLI with the service as a subprocess.

4s-scale: a patched tool sent the witness the protected table's bounded counts times 10 with the
trusted sensitivity. The witness drew, the ledger was charged rho 0.05, but the noise on the true
counts was a tenth of the declared one (rho 5.0 per person); approve, publish, the audit (``--raw``
too) and verify all passed. Now the service signs a commitment to the very counts it drew on, under
a key derived from the HMAC key, and the unmodified ``release audit --raw`` recounts them from the
raw export. Fictitious values only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke
from witness.test_witness_service import PROTECTED, YEAR, World, _charges, _drawn
from witness.witnesskit import WitnessServer

pytestmark = pytest.mark.slow  # every test needs the module build with a witness service (~27 s); most take 20-60 s more

RECOUNTED = "noisy_counts_recounted"

# The analyst's own copy of the tool, patched: the counts it sends the witness are scaled by 10
# (``noise.draw_inputs``); ``budget_run`` is patched to expect the scaled counts' commitment too.
SCALED = """
import runpy, sys
import numpy as np
from release.build import budget as budget_run
from release.stages import noise
K = 10
sent = noise.draw_inputs
noise.draw_inputs = lambda values, **kw: sent(np.asarray(values) * K, **kw)
budget_run.RunPrivacy.commitment = lambda self, request: self.counts.fields(
    request.spec_sha256, request.data_year, [K * int(v) for v in request.values])
sys.argv = ["release", *sys.argv[1:]]
runpy.run_module("release", run_name="__main__")
"""

# k10div: the same, the published cells the drawn values divided by 10 (the record left as drawn)
SCALED_DIVIDED = SCALED.replace("sys.argv =", """made = noise.from_record
def divided(record):
    release = made(record)
    return release.__class__(**{**release.__dict__, "values": np.rint(release.values / K).astype(np.int64)})
noise.from_record = divided
sys.argv =""")

# A witness of the version before commitments, and the analyst's tool that takes its statements.
UNCOMMITTED_SERVICE = """
import runpy, sys
from release.witness import counts as witness_counts
witness_counts.CountsKey.fields = lambda self, *args: {}
sys.argv = ["release", *sys.argv[1:]]
runpy.run_module("release", run_name="__main__")
"""
UNCOMMITTED_TOOL = """
import runpy, sys
from release.build import budget as budget_run
from release.witness import client as witness_client
witness_client.statement_problems = lambda statement: []
budget_run.RunPrivacy.commitment = lambda self, request: None
sys.argv = ["release", *sys.argv[1:]]
runpy.run_module("release", run_name="__main__")
"""


def _patched(script: str, *args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=900)
    return done.returncode, done.stdout + done.stderr


def _audit_raw(world: World, out: Path, raw: Path) -> tuple[int, dict]:
    """The unmodified ``release audit --raw`` (the scan skipped; what did not run allowed)."""
    code, stdout, stderr = invoke(*world.cmd("audit", "--raw", str(raw), "--no-scan", "--allow-unverified", "--json",
                                             out=out))
    assert "Traceback" not in stdout + stderr
    return code, {c["name"]: c for c in json.loads(stdout)["checks"]}


def _statements(out: Path) -> list[dict]:
    manifest = json.loads((out / "fioe" / YEAR / "manifest.json").read_text(encoding="utf-8"))
    return [m["witness_draw"]["statement"] for m in manifest["privacy"]["measurements"]]


def test_counts_a_patched_tool_scaled_are_paid_for_but_audit_raw_recounts_them(world: World) -> None:
    """The attack goes through the real witness and is charged; the unmodified audit with the raw
    export fails (8), naming the check, the table and the data year; the honest build passes."""
    raw, charges = world.changed_export(), _charges()
    code, said = _patched(SCALED, *world.build(world.tmp / "k10", raw))
    assert code == 0 and _drawn(world.tmp / "k10"), said
    assert _charges() == charges + 1  # a genuine, paid draw: only the raw export can tell
    world.ok(*world.approve(world.tmp / "k10"))  # nothing without the raw export tells
    got, checks = _audit_raw(world, world.tmp / "k10", raw)
    recounted = checks[RECOUNTED]
    assert [c["name"] for c in checks.values() if c["status"] == "fail"] == [RECOUNTED], checks
    assert got == 8 and recounted["status"] == "fail", recounted
    assert any(f"table {PROTECTED}, data year {YEAR}" in p and "not this raw export's counts" in p
               for p in recounted["problems"]), recounted
    # never a value: the problems name the table and data year, and no count of the table
    assert all(str(s["counts_commitment"]) not in json.dumps(recounted) for s in _statements(world.tmp / "k10"))

    # the organisation's unmodified build of the same data never re-uses the scaled draw: its own
    # counts' commitment is not the one stored, so it draws again (charged) and its audit passes
    world.ok(*world.build(world.tmp / "honest", raw))
    assert _charges() == charges + 2
    world.ok(*world.approve(world.tmp / "honest"))
    got, checks = _audit_raw(world, world.tmp / "honest", raw)
    assert got == 0 and checks[RECOUNTED]["status"] == "pass", [c for c in checks.values() if c["status"] == "fail"]
    assert checks[RECOUNTED]["detail"]["recounted"] == len(_statements(world.tmp / "honest")) >= 1


def test_scaled_counts_divided_back_are_refused_by_approve_and_caught_by_audit_raw(world: World) -> None:
    """k10div: cells that look normal, with a tenth of the noise. Approve refuses them (7, rule
    noisy-table: the values the manifest publishes are not the witnessed draw, and the cells are not
    the post-processing of the stored draw); the recount fails too."""
    raw = world.changed_export()
    code, said = _patched(SCALED_DIVIDED, *world.build(world.tmp / "k10div", raw))
    assert code == 0 and _drawn(world.tmp / "k10div"), said
    world.refused(7, "rule noisy-table", *world.approve(world.tmp / "k10div"))
    got, checks = _audit_raw(world, world.tmp / "k10div", raw)
    assert got == 8 and checks[RECOUNTED]["status"] == "fail", checks[RECOUNTED]


def test_the_audit_recounts_the_base_build_and_without_the_raw_export_it_does_not_run(world: World) -> None:
    world.ok(*world.approve())
    got, checks = _audit_raw(world, world.out, world.raw)
    assert got == 0 and checks[RECOUNTED]["status"] == "pass", checks[RECOUNTED]
    # another export (one report's city changed): its counts are not the ones drawn on
    got, checks = _audit_raw(world, world.out, world.changed_export())
    assert got == 8 and checks[RECOUNTED]["status"] == "fail"
    code, checks = world.audit()
    assert checks[RECOUNTED]["status"] == "not run" and "no raw folder" in checks[RECOUNTED]["detail"]["reason"]
    code, stdout, _ = invoke(*world.cmd("audit", "--no-scan", "--json", out=world.out))
    assert code == 8  # a check that did not run is not a pass


def test_a_statement_without_a_commitment_is_refused_by_approve_and_drawn_again(world: World) -> None:
    """A witness of the previous version signs no commitment (the analyst's tool patched to take
    it): approve refuses (7), the audit fails (8); the next build with the real witness draws the
    measurement again and charges it."""
    world.witness.stop()
    old = subprocess.Popen([sys.executable, "-c", UNCOMMITTED_SERVICE, "witness", "serve", "--dir",
                            str(world.witness.account / "store"), "--key", str(world.witness.key), "--counts-key",
                            str(world.witness.counts_key), "--rules", str(world.rules), "--socket",
                            world.witness.address],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening on" in (old.stdout.readline() if old.stdout else "")
        raw, charges = world.changed_export(), _charges()
        code, said = _patched(UNCOMMITTED_TOOL, *world.build(world.tmp / "old", raw))
        assert code == 0 and _charges() == charges + 1, said
        assert all("counts_commitment" not in s for s in _statements(world.tmp / "old"))
        said = world.refused(7, "carries no commitment to the counts", *world.approve(world.tmp / "old"))
        assert "rebuild it" in said
        code, checks = world.audit(world.tmp / "old")
        assert code == 8 and any("carries no commitment" in p for p in checks["privacy_ledger"]["problems"])
    finally:
        old.terminate()
        old.communicate(timeout=20)  # waits, and closes its pipes
    world.witness.start()
    world.ok(*world.build(world.tmp / "new", raw))
    assert _charges() == charges + 2 and all(s["counts_commitment"] for s in _statements(world.tmp / "new"))
    world.ok(*world.approve(world.tmp / "new"))


def test_a_witness_without_a_counts_key_answers_heads_and_makes_no_draw(world: World) -> None:
    world.witness.stop()
    plain = WitnessServer(world.witness.account, world.witness.socket_dir, world.rules).start(counts=False)
    try:
        charges = _charges()
        said = world.refused(6, "started without --counts-key", *world.build(world.tmp / "rel", world.changed_export()))
        assert "release witness counts-key --out FILE" in said and not _drawn(world.tmp / "rel")
        assert _charges() == charges
        world.ok(*world.approve())  # what was drawn before is approved as it is: heads and receipts go on
        world.refused(6, "started without --counts-key", "doctor", "--out", str(world.out), "--rules", str(world.rules))
    finally:
        plain.stop()


def test_counts_key_is_written_owner_only_and_prints_its_id_never_the_key(world: World, tmp_path: Path) -> None:
    from release.keys.hmac import existing_key
    from release.witness.counts import from_master

    path = tmp_path / "admin" / "counts.key"
    code, stdout, stderr = invoke("witness", "counts-key", "--out", str(path), "--json")
    assert code == 0, stdout + stderr
    key = from_master(existing_key())  # type: ignore[arg-type]
    assert json.loads(stdout)["counts_key_id"] == key.key_id and key.key.hex() not in stdout + stderr
    assert path.stat().st_mode & 0o777 == 0o600 and path.read_text().strip() == key.key.hex()
    world.refused(7, "refusing to overwrite", "witness", "counts-key", "--out", str(path))
    path.chmod(0o644)
    world.witness.stop()
    code, stdout, stderr = invoke("witness", "serve", "--dir", str(world.witness.account / "store"), "--key",
                                  str(world.witness.key), "--counts-key", str(path), "--socket", world.witness.address)
    said = " ".join((stdout + stderr).split())
    assert code == 3 and "the counts key is readable or writable by other accounts" in said, said


def test_a_witness_with_another_organisations_counts_key_draws_nothing_for_this_build(world: World) -> None:
    """A counts key made from another HMAC key: the build names its own key id and the service
    refuses before drawing (6, nothing charged); doctor fails (6) saying so."""
    import secrets

    from release.witness.counts import make_key_file

    world.witness.stop()
    other = world.tmp / "other-account"
    other.mkdir(mode=0o700)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RELEASE_HMAC_KEY", secrets.token_hex(32))
        make_key_file(other / "counts.key")
    served = subprocess.Popen([sys.executable, "-m", "release", "witness", "serve", "--dir",
                               str(world.witness.account / "store"), "--key", str(world.witness.key), "--counts-key",
                               str(other / "counts.key"), "--socket", world.witness.address],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "listening on" in (served.stdout.readline() if served.stdout else "")
        charges = _charges()
        said = world.refused(6, "is not the one derived from the HMAC key this build uses",
                             *world.build(world.tmp / "rel", world.changed_export()))
        assert not _drawn(world.tmp / "rel") and _charges() == charges, said
        world.refused(6, "is not the one this machine's HMAC key derives", "doctor", "--out", str(world.out),
                      "--rules", str(world.rules))
    finally:
        served.terminate()
        served.communicate(timeout=20)  # waits, and closes its pipes
