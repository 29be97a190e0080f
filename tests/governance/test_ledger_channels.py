"""Round 31, R1: no covert channel through the privacy ledger's head, its length or a charge's hash,
through the CLI.

The analyst holds the release key and may append to the organisation's ledger: a ``decision`` entry
for another year (1999) carries 256 bits of their choosing. Ground so that its hash starts with a
DOB's day number (16 bits), with enough of them appended before it that the ledger's length is that
number mod 256, the entry became the head a rebuild recorded, and the public manifest published
``privacy.ledger_head`` (head, length, the witness's receipt for them) and every measurement's and
spend's charge hash; every audit passed. Now they stay in the bundle's private part: the published
copy carries none of them, and ``verify`` checks the witness's draw statements instead. Put back
into ``manifest.json`` and bound again on the ledger they are refused: approve and publish 7, the
audit and ``verify`` 8 (rule manifest-keys). The ledger audit also refuses a decision entry that no
trusted reviewer's signed line backs at the head it signed. One module build with the witness
service, grind and padding done once; fictitious values only.
"""

from __future__ import annotations

import csv
import datetime
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bundlekit import _copy_by_hand, _rebind
from conftest import invoke, new_signer, trusted_rules
from witness.witnesskit import WitnessServer, new_account, pin_service

from release.privacy.ledger import Ledger
from release.privacy.ledger_entries import canonical, entry_hash
from release.witness.protocol import SIGNED_CHARGE

pytestmark = pytest.mark.slow  # its module scene (a build with a witness service) takes ~2 min

YEAR = "2020"
OTHER_YEAR = 1999  # a year with no bundle and no decisions file: nothing orders a rebuild by its entries
PRIVATE_FIELDS = ("privacy.ledger_head", "privacy.measurements[].ledger_charge", "privacy.spends[].charge")


@dataclass
class Scene:
    tmp: Path
    out: Path
    rules: Path
    counsel: Path
    home: Path
    site: Path
    target: str                     # 4 hex digits: a DOB's day number, ground into the ledger's head
    residue: int                    # the same day number mod 256, padded into the ledger's length
    codes: dict[str, int]           # each command of the honest path, by name

    @property
    def bundle(self) -> Path:
        return self.out / "fioe" / YEAR

    def org(self, out: Path | None = None) -> list[str]:
        return ["fioe", YEAR, "--out", str(out or self.out), "--rules", str(self.rules)]


def _run(codes: dict[str, int], name: str, *args: str) -> str:
    code, stdout, stderr = invoke(*args)
    codes[name] = code
    assert code == 0, (name, stdout + stderr)
    return stdout


def _day_number(raw: Path) -> int:
    """A person's date of birth (the first written YYYY-MM-DD; fictitious) as days since 1900-01-01."""
    with (raw / "fieldcontact_name.csv").open(encoding="utf-8", newline="") as handle:
        dob = next(row["dob"] for row in csv.DictReader(handle) if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", row["dob"]))
    return (datetime.date.fromisoformat(dob) - datetime.date(1900, 1, 1)).days


def _ledger(rules: Path) -> Ledger:
    """The organisation's ledger, opened as the analyst can: with the release key."""
    from release.keys.hmac import existing_key, ledger_mac
    from release.privacy.ledger_open import open_ledger

    key = existing_key()
    assert key is not None
    return open_ledger(rules, None, ledger_mac(key))


def _pad_and_grind(rules: Path, target: str, residue: int) -> None:
    """Decision entries for another year, each written with the release key (no reviewer signed
    anything): as many as make the ledger's length the residue mod 256 once the last is appended, the
    last one's free hash ground so that its entry hash starts with ``target`` (its time fixed)."""
    import release.privacy.ledger as ledger_module

    ledger = _ledger(rules)
    count = len(ledger.entries())
    for number in range((residue - count - 1) % 256):
        ledger.record_decision(dataset="fioe", year=OTHER_YEAR, write=lambda prev, n=number: f"{n:064x}")
    prev, at = ledger.entries()[-1].hash, "2026-01-01T00:00:00+00:00"
    chosen = next(f"{n:064x}" for n in range(1 << 24) if entry_hash(prev, "decision", canonical(
        {"dataset": "fioe", "year": OTHER_YEAR, "decision_sha256": f"{n:064x}", "at": at})).startswith(target))
    with pytest.MonkeyPatch.context() as fixed:
        fixed.setattr(ledger_module, "_now", lambda: at)
        ledger.record_decision(dataset="fioe", year=OTHER_YEAR, write=lambda prev: chosen)
    head = ledger.entries()[-1]
    assert head.hash.startswith(target) and head.seq % 256 == residue  # the attack, as round 31 ran it


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    """A FIOE build with the witness service; then the ledger padded and ground as the analyst did, the
    bundle rebuilt (it re-uses its draws and records the ground head), approved, published, audited
    and its copy verified: the honest commands, each exit code kept."""
    from release.synth.fioe import generate_fioe, write_fioe

    tmp = tmp_path_factory.mktemp("ledger-channels")
    witness: WitnessServer = new_account(tmp / "witness-account")
    rules = trusted_rules(tmp)
    pin_service(rules, witness.address, witness.public_key)
    counsel = new_signer(tmp, "A. Counsel")
    raw, out, home, site = tmp / "raw", tmp / "out", tmp / "home", tmp / "site"
    write_fioe(generate_fioe(int(YEAR), seed=11, n_reports=40), raw)
    day = _day_number(raw)
    scene = Scene(tmp, out, rules, counsel, home, site, f"{day % (1 << 16):04x}", day % 256, {})
    build = ["fioe", YEAR, "--input", str(raw), "--out", str(out), "--rules", str(rules), "--json"]
    witness.start(rules=rules)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("HOME", str(home))
            patch.delenv("RELEASE_HMAC_KEY", raising=False)  # the session's key file, as the scene's tests use
            _run(scene.codes, "build", *build)
            _pad_and_grind(rules, scene.target, scene.residue)
            _run(scene.codes, "rebuild", *build)
            _run(scene.codes, "approve", "approve", *scene.org(), "--key", str(counsel))
            _run(scene.codes, "publish", "publish", *scene.org(), "--to", str(site))
            _run(scene.codes, "audit", "audit", *scene.org(), "--no-scan", "--allow-unverified", "--json")
            _run(scene.codes, "verify", "verify", str(site / "fioe" / YEAR), "--rules", str(rules), "--json")
        yield scene
    finally:
        witness.close()


@pytest.fixture()
def here(scene: Scene, monkeypatch: pytest.MonkeyPatch) -> Scene:
    """The scene's home and key for one test (the governance tests' own key is set per test)."""
    monkeypatch.delenv("RELEASE_HMAC_KEY", raising=False)
    monkeypatch.setenv("HOME", str(scene.home))
    return scene


def _private(bundle: Path) -> dict:
    from release.bundle.read import manifest_privacy, read_manifest

    return dict(manifest_privacy(read_manifest(bundle)))  # with the bundle's private part


def _published_text(folder: Path) -> str:
    return "".join(p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*")) if p.is_file())


def test_the_ground_head_and_padded_length_stay_with_the_bundle_and_the_honest_path_passes(here: Scene) -> None:
    assert here.codes == {"build": 0, "rebuild": 0, "approve": 0, "publish": 0, "audit": 0, "verify": 0}
    private = _private(here.bundle)
    head = private["ledger_head"]
    assert head["head"].startswith(here.target) and head["length"] % 256 == here.residue  # what R1 published
    charges = [m["ledger_charge"] for m in private["measurements"]] + [s["charge"] for s in private["spends"]]
    assert charges and all(charges)
    copy = here.site / "fioe" / YEAR
    public = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))["privacy"]
    assert "ledger_head" not in public and "item_fields" not in public
    assert all("ledger_charge" not in m for m in public["measurements"])
    assert all("charge" not in s for s in public["spends"])
    text = _published_text(copy)
    assert "ledger_head" not in text and "ledger_charge" not in text
    for value in (head["head"], head["receipt"]["signature"], *charges):
        assert value not in text
    assert public["measurements"] and all(m.get("witness_draw") for m in public["measurements"])
    for measurement in public["measurements"]:  # what verify checks now: no ledger entry's hash, seq or count
        statement = measurement["witness_draw"]["statement"]
        assert set(statement) == {"type", "ledger_id", "draw_id", "record_sha256", "charge", "counts_commitment",
                                  "counts_key_id", "witness_key"}
        assert statement["ledger_id"] == public["ledger_id"] and set(statement["charge"]) == set(SIGNED_CHARGE)
    verified = json.loads(invoke("verify", str(copy), "--rules", str(here.rules), "--json")[1])
    drawn = next(c for c in verified["checks"] if c["name"] == "privacy_charges")
    assert drawn["status"] == "pass" and drawn["detail"]["witness_draws"] == "verified under the pinned key"


def _sign_outside_approve(scene: Scene, bundle: Path) -> None:
    """The reviewer's key signs the edited manifest without ``approve`` (publish checks again), in place
    of the approval of the manifest the scene published: the line and its seal (round 31, C1)."""
    from conftest import sign_outside_approve

    for name in ("approvals.jsonl", "approvals_bundle.jsonl"):
        (bundle / name).unlink(missing_ok=True)
    sign_outside_approve(bundle, scene.counsel, "fioe", int(YEAR))


def _refused(code: int, *args: str) -> str:
    got, stdout, stderr = invoke(*args)
    said = " ".join((stdout + stderr).split())
    assert got == code and "Traceback" not in said, said
    return said


def _put_back(bundle: Path) -> None:
    """The head and the charges written back into ``manifest.json`` as the build writes it."""
    from release.bundle.layout import json_text

    private = _private(bundle)
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["privacy"]["ledger_head"] = private["ledger_head"]
    manifest["privacy"]["measurements"] = private["measurements"]
    manifest["privacy"]["spends"] = private["spends"]
    (bundle / "manifest.json").write_text(json_text(manifest, ascii_only=True, sort=True), encoding="utf-8")


def test_the_head_and_charges_put_back_in_the_public_part_and_bound_again_are_refused(here: Scene,
                                                                                     tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(here.out, out)
    bundle = out / "fioe" / YEAR
    _put_back(bundle)
    _rebind(here, bundle)  # type: ignore[arg-type]  (it reads .rules only)
    said = _refused(7, "approve", *here.org(out), "--key", str(here.counsel))
    assert "rule manifest-keys" in said and "privacy.ledger_head" in said
    _sign_outside_approve(here, bundle)
    said = _refused(7, "publish", *here.org(out), "--to", str(tmp_path / "site"))
    assert "rule manifest-keys" in said
    assert not (tmp_path / "site" / "fioe" / YEAR).exists()
    code, stdout, _ = invoke("audit", *here.org(out), "--no-scan", "--allow-unverified", "--json")
    assert code == 8
    problems = {c["name"]: c for c in json.loads(stdout)["checks"]}["trusted_policy"]["problems"]
    for field in PRIVATE_FIELDS:
        assert any(f"manifest.json {field}: belongs to the bundle's private part" in p for p in problems), field
    portal = _copy_by_hand(bundle, tmp_path / "portal" / "fioe" / YEAR)
    code, stdout, _ = invoke("verify", str(portal), "--rules", str(here.rules), "--json")
    assert code == 8
    problems = {c["name"]: c for c in json.loads(stdout)["checks"]}["trusted_policy"]["problems"]
    assert any("privacy.ledger_head: belongs to the bundle's private part" in p for p in problems), problems
    assert _private(bundle)["ledger_head"]["head"] not in stdout  # named by key path and rule, never a value


def test_a_decision_entry_no_signed_line_backs_fails_the_ledger_audit(here: Scene) -> None:
    """A reviewer's decision (signed, recorded by decide) passes; an entry for this year with a hash of the
    analyst's, and that decision's hash recorded again after another head, are refused by entry. The
    scene's 1999 entries are not checked (no bundle, no decisions file). Last: it writes on the ledger."""
    log = [json.loads(line) for line in (here.bundle / "redaction_log.jsonl").read_text(encoding="utf-8").splitlines()]
    seq = next(e["seq"] for e in log if "seq" in e)
    assert invoke("decide", "fioe", YEAR, "--log-id", str(seq), "--decision", "redact", "--key", str(here.counsel),
                  "--out", str(here.out), "--rules", str(here.rules))[0] == 0
    ledger = _ledger(here.rules)
    honest = ledger.entries()[-1]
    assert honest.kind == "decision"
    free = ledger.record_decision(dataset="fioe", year=int(YEAR), write=lambda prev: "c0" * 32)
    replayed = ledger.record_decision(dataset="fioe", year=int(YEAR),
                                      write=lambda prev: str(honest.body["decision_sha256"]))
    code, stdout, _ = invoke("audit", *here.org(), "--no-scan", "--allow-unverified", "--json")
    assert code == 8
    problems = {c["name"]: c for c in json.loads(stdout)["checks"]}["privacy_ledger"]["problems"]
    unbacked = [p for p in problems if "that no signed decision line" in p]
    assert [p.split(":")[0] for p in unbacked] == [f"ledger entry {free}", f"ledger entry {replayed}"], problems
    assert all(f"fioe {YEAR}" in p and str(OTHER_YEAR) not in p for p in unbacked)
