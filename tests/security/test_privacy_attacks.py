"""Issue #12's privacy attacks left open by the attacker pass, each through the CLI: the attack, the
refusal (or the defeated attack) and the exit code. Fictitious values only. ``README.md`` beside
this file explains the format; the scene is a fresh copy of a small real FIOE build (with its
protected noisy table) and of the ledger it charged, in a home of the test's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BuildWorld, authoritative_ledger, build_world, invoke, sign_outside_approve, small_fioe_build

from release.bundle.read import read_manifest

YEAR = "2020"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return small_fioe_build(tmp_path_factory)


class World(BuildWorld):
    def run(self, *args: str) -> None:
        code, stdout, stderr = invoke(*args)
        assert code == 0, stdout + stderr

    def elsewhere(self, name: str) -> Path:
        """Another home: the policy's ``~/...`` ledger is then a fresh, empty one (another machine,
        or an analyst who set ``$HOME`` for one build)."""
        home = self.tmp / name
        self.monkeypatch.setenv("HOME", str(home))
        return home

    def build_elsewhere(self, out: Path) -> None:
        """A build of the same export, with the same policy, on a fresh ledger: its draws were free."""
        home = str(self.tmp / "home-copy")
        self.elsewhere("other-home")
        self.run("fioe", YEAR, "--input", str(self.raw), "--out", str(out))
        self.monkeypatch.setenv("HOME", home)

    def sign_by_hand(self, bundle: Path) -> None:
        """A trusted reviewer's approval line for the bundle's manifest, written without ``release approve``
        (its checks skipped): what ``publish`` must check again."""
        sign_outside_approve(bundle, self.counsel, "fioe", 2020, timestamp="2021-01-15T10:00:00+00:00")


@pytest.fixture()
def world(base: tuple[Path, Path], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> World:
    return build_world(base, tmp_path, tmp_path_factory, monkeypatch, World)  # type: ignore[return-value]


# ---- 2f: noise drawn on another ledger than the policy's ---------------------------------


def throwaway_ledger_build(w: World) -> list[str]:
    """RELEASE_LEDGER=/tmp/x release fioe 2020: a fresh ledger, free draws (the attack as found)."""
    w.monkeypatch.setenv("RELEASE_LEDGER", str(w.tmp / "throwaway.sqlite"))
    return ["fioe", YEAR, "--input", str(w.raw), "--out", str(w.tmp / "free")]


def free_draws_approved(w: World) -> list[str]:
    w.build_elsewhere(w.tmp / "free")
    return w.cmd("approve", "--key", str(w.counsel), out=w.tmp / "free")


def free_draws_signed_by_hand_published(w: World) -> list[str]:
    w.build_elsewhere(w.tmp / "free")
    w.sign_by_hand(w.tmp / "free" / "fioe" / YEAR)
    return w.cmd("publish", "--to", str(w.site), out=w.tmp / "free")


def free_draws_approved_where_the_ledger_is_known(w: World) -> list[str]:
    """The honest 2020 goes out first (its approval anchors the ledger in the rules' witness); then
    2021 is built in another home (whose policy path names its own fresh ledger) and approved there
    with the organisation's rules, to publish it to the same portal. Before the witness, approve
    passed there and only publish's destination check refused it; now the witness refuses the
    other home's ledger at approve (a rules copy naming its own witness: test_ledger_anchor, 2f-4)."""
    from release.synth.fioe import generate_fioe, write_fioe

    w.run(*w.cmd("approve", "--key", str(w.counsel)))
    w.run(*w.cmd("publish", "--to", str(w.site)))
    raw = w.tmp / "raw-2021"
    write_fioe(generate_fioe(2021, seed=5, n_reports=40), raw)
    w.elsewhere("other-home")
    free = w.tmp / "free"
    w.run("fioe", "2021", "--input", str(raw), "--out", str(free))
    return ["approve", "fioe", "2021", "--out", str(free), "--rules", str(w.rules), "--key", str(w.counsel)]


def _free_bundle_unapproved(w: World) -> bool:
    return not (w.tmp / "free" / "fioe" / YEAR / "approvals.jsonl").exists()


def _nothing_published_from_free(w: World) -> bool:
    return not (w.site / "fioe" / "2021").exists() and not (w.site / "fioe" / YEAR / "SHA256SUMS").exists() \
        or (w.site / "fioe" / YEAR / "manifest.json").read_bytes() == (w.bundle / "manifest.json").read_bytes()


@dataclass(frozen=True)
class Attack:
    attack: str
    run: Callable[[World], list[str]]
    exit_code: int
    refusal: str
    then: Callable[[World], bool] = lambda w: True


ATTACKS: dict[str, Attack] = {
    "throwaway-ledger-build": Attack(
        "RELEASE_LEDGER=/tmp/x release fioe 2020 (a fresh ledger, free draws)", throwaway_ledger_build,
        3, "may only name that file",
        lambda w: not (w.tmp / "throwaway.sqlite").exists() and not (w.tmp / "free" / "fioe" / YEAR).exists()),
    "free-draws-approved": Attack(
        "a build in another $HOME (the policy's ~ ledger is then a fresh one), then release approve",
        free_draws_approved, 7, "spent from another privacy ledger", _free_bundle_unapproved),
    "free-draws-signed-by-hand-published": Attack(
        "the same bundle, an approval line signed outside release approve, then release publish",
        free_draws_signed_by_hand_published, 7, "spent from another privacy ledger", _nothing_published_from_free),
    "free-draws-approved-where-the-ledger-is-known": Attack(
        "2021 built in another $HOME and approved there with the organisation's rules (whose witness "
        "anchors the ledger 2020 was charged on), to publish it to the same portal",
        free_draws_approved_where_the_ledger_is_known,
        7, "differs from the one its witness anchors", _nothing_published_from_free),
}


@pytest.mark.parametrize("case", list(ATTACKS.values()), ids=list(ATTACKS))
def test_privacy_attack_is_refused(world: World, case: Attack) -> None:
    code, stdout, stderr = invoke(*case.run(world))
    assert code == case.exit_code, stdout + stderr
    assert case.refusal in " ".join((stdout + stderr).split()), stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert case.then(world), case.attack


def test_the_honest_release_is_approved_and_published(world: World) -> None:
    """The control: the same commands on the bundle whose charges are on the policy's ledger pass."""
    assert authoritative_ledger().is_file()
    world.run(*world.cmd("approve", "--key", str(world.counsel)))
    world.run(*world.cmd("publish", "--to", str(world.site)))


# ---- 1e: exact counts about the raw data in the published manifest -----------------------


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def test_the_published_manifest_holds_no_exact_count_of_the_raw_data_and_still_verifies(world: World) -> None:
    """Attack 1e: the portal's manifest.json listed every finding with its count (rows without a
    person key bounded the protected table's total exactly). Publish, then read the portal copy."""
    world.run(*world.cmd("approve", "--key", str(world.counsel)))
    world.run(*world.cmd("publish", "--to", str(world.site)))
    copy = world.site / "fioe" / YEAR
    published = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    keys = _keys(published)
    assert not keys & {"findings", "count", "row_keys", "inputs", "redaction_log", "rows_dropped",
                       "review_decisions", "entries"}, keys
    assert not (copy / "review").exists()
    # what a portal or an auditor needs to verify the public files is all there
    assert {"outputs", "status", "version", "rules", "privacy"} <= set(published)
    assert published["privacy"]["spends"] and published["privacy"]["ledger_id"]
    code, stdout, stderr = invoke("verify", str(copy), "--rules", str(world.rules))
    assert code == 0, stdout + stderr
    # an auditor with the bundle still sees every count, covered by the signed manifest's hashes
    full = read_manifest(world.bundle)
    assert full["findings"] == json.loads((world.bundle / "review" / "findings.json").read_text(encoding="utf-8"))
    assert "rows_dropped" in full["privacy"] and "entries" in full["redaction_log"]
    code, stdout, stderr = invoke("audit", "fioe", YEAR, "--out", str(world.out), "--rules", str(world.rules),
                                  "--no-scan", "--allow-unverified", "--json")
    assert code == 0, stdout + stderr


# ---- 1c: one person's reports linked through the public files (the attacks: test_linkage_attacks.py) --


def test_the_shipped_policy_publishes_a_persons_file_that_does_not_link_and_keeps_the_table(world: World) -> None:
    """With the shipped policy the person-level table stays protected and the persons file gives up
    what linked one person's reports (descriptors blank, adult ages in bands). The build's linkage
    check ran, found no one exposed and kept its figure in the bundle's private part only."""
    import pandas as pd

    assert read_manifest(world.bundle)["status"] == "draft"
    public = world.bundle / "public"
    persons = pd.read_csv(public / "fioe_2020_persons.csv", dtype=str, keep_default_na=False)
    assert (persons[["build", "hair_style", "skin_tone", "license_state", "license_type"]] == "").all().all()
    assert (persons["age"] == "").all() and set(persons["age_band"]) & {"18-24", "25-34", "35-44"}
    statement = json.loads((public / "privacy.json").read_text(encoding="utf-8"))
    protected = [t for t in statement["tables"] if t["table"] == "fioe_people_by_contacts_neighbourhood"]
    assert protected and protected[0]["protection"] == "differential privacy"
    figure = read_manifest(world.bundle)["privacy"]["linkage"]["fioe_people_by_contacts_neighbourhood"]
    assert figure["exposed_people"] == 0 and figure["min_people_per_class"] == 5 and "pairs_compared" in figure
    assert "linkage" not in json.loads((world.bundle / "manifest.json").read_text(encoding="utf-8"))["privacy"]

