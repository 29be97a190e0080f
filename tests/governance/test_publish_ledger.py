"""Publishing a release with noisy tables: the ledger must bind its measurements to the very
manifest being published, and records which manifest went out.

Every draw is charged when it is made and never given back (issue #12), so ``publish`` no
longer makes a spend permanent: it refuses when the ledger does not hold the bundle's
measurements bound to this manifest (nothing is copied then), and appends a ``publish``
entry once the files are in place."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import authoritative_ledger, invoke, new_signer, trusted_rules

from release.bundle.read import read_manifest
from release.privacy.ledger import Ledger, spent_by_unit
from release.synth import best

YEAR = 2020


@pytest.fixture()
def approved(tmp_path: Path) -> tuple[Path, Path, str]:
    """A BEST bundle (noisy tables) built with its own ledger and signed by one reviewer."""
    raw, out, ledger = tmp_path / "raw", tmp_path / "out", authoritative_ledger()
    best.write_best(best.generate_best(YEAR, seed=7, first_year=2019), raw)
    code, stdout, stderr = invoke("best", str(YEAR), "--input", str(raw), "--out", str(out),
                                  "--ledger", str(ledger), "--json")
    assert code == 0, stdout + stderr
    key = new_signer(tmp_path, "A. Reviewer")
    code, stdout, stderr = invoke("approve", "best", str(YEAR), "--out", str(out), "--reviewer", "A. Reviewer",
                                  "--key", str(key), "--rules", str(trusted_rules(tmp_path)))
    assert code == 0, stdout + stderr
    manifest = read_manifest(out / "best" / str(YEAR))  # the run's id is in the private part
    return out, ledger, str(manifest["privacy"]["run_id"])


def _spent(ledger: Path) -> float:
    return spent_by_unit(Ledger(ledger).entries()).get("person", 0.0)


def _published(ledger: Path) -> list[dict[str, object]]:
    return [e.body for e in Ledger(ledger).entries() if e.kind == "publish"]


def test_publish_records_the_manifest_and_a_rebuild_reuses_the_draws(approved: tuple[Path, Path, str],
                                                                     tmp_path: Path) -> None:
    out, ledger, run_id = approved
    assert _published(ledger) == []
    code, stdout, stderr = invoke("publish", "best", str(YEAR), "--out", str(out), "--to", str(tmp_path / "site"),
                                  "--ledger", str(ledger), "--rules", str(trusted_rules(tmp_path)), "--json")
    assert code == 0, stdout + stderr
    assert json.loads(stdout)["ledger_run"] == run_id
    assert [(p["run_id"], p["manifest_sha256"]) for p in _published(ledger)] == [
        (run_id, json.loads(stdout)["manifest_sha256"])]
    spent_once = _spent(ledger)
    rules = str(trusted_rules(tmp_path))  # the ledger is anchored in its witness now: the rules naming it
    code, stdout, stderr = invoke("best", str(YEAR), "--input", str(tmp_path / "raw"), "--out", str(out),
                                  "--ledger", str(ledger), "--rules", rules, "--json")
    assert code == 7 and "--supersede" in stderr  # a published year is never replaced by a rebuild
    code, stdout, stderr = invoke("best", str(YEAR), "--input", str(tmp_path / "raw"), "--out", str(out),
                                  "--ledger", str(ledger), "--rules", rules, "--json", "--supersede")
    assert code == 0, stdout + stderr
    code, stdout, stderr = invoke("best", str(YEAR), "--input", str(tmp_path / "raw"), "--out", str(out),
                                  "--ledger", str(ledger), "--json")  # the unpublished version 2 again
    assert code == 6 and "names no witness" in stdout  # the installed rules name none: the anchored ledger refuses
    assert _spent(ledger) == pytest.approx(spent_once)  # the same data: every measurement re-used, nothing charged
    assert [p["run_id"] for p in _published(ledger)] == [run_id]  # the published version stays recorded


@pytest.mark.parametrize("break_ledger", ["missing", "other-ledger"], ids=["missing", "run-not-on-ledger"])
def test_publish_refuses_when_the_ledger_does_not_hold_the_spend(approved: tuple[Path, Path, str], tmp_path: Path,
                                                                 break_ledger: str) -> None:
    out, ledger, _ = approved
    if break_ledger == "missing":
        ledger.unlink()
    else:
        shutil.copyfile(ledger, tmp_path / "copy.sqlite")
        ledger.unlink()
        Ledger(ledger)  # a fresh, empty ledger at the same path
    site = tmp_path / "site"
    code, stdout, stderr = invoke("publish", "best", str(YEAR), "--out", str(out), "--to", str(site),
                                  "--ledger", str(ledger), "--rules", str(trusted_rules(tmp_path)))
    assert code == 7 and "ledger" in stderr and "Traceback" not in stderr
    assert not (site / "best" / str(YEAR)).exists()


def test_an_unreadable_ledger_is_named_without_a_traceback(approved: tuple[Path, Path, str], tmp_path: Path) -> None:
    out, ledger, _ = approved
    ledger.write_bytes(b"not a database" * 100)
    site = tmp_path / "site"
    code, stdout, stderr = invoke("publish", "best", str(YEAR), "--out", str(out), "--to", str(site),
                                  "--ledger", str(ledger), "--rules", str(trusted_rules(tmp_path)))
    assert code == 6 and f"file {ledger}" in stderr and "rule ledger" in stderr and "Traceback" not in stderr
    assert not (site / "best" / str(YEAR)).exists()


def test_a_failed_swap_records_no_publication(approved: tuple[Path, Path, str], tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from release.governance import publication

    out, ledger, run_id = approved

    def broken(staging: Path, target: Path) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(publication, "swap_into_place", broken)
    with pytest.raises(OSError):
        publication.publish("best", YEAR, out, tmp_path / "site", ledger, trusted_rules(tmp_path))
    assert _published(ledger) == []  # nothing went out, so no manifest is recorded as published
    assert not (tmp_path / "site" / "best" / str(YEAR)).exists()


def test_a_published_year_is_found_on_the_ledger_the_build_rules_name(tmp_path: Path) -> None:
    """The bundle's publication record deleted, a rebuild still refuses: the ledger that says the year
    was published is the one the build's ``--rules`` name, not the installed rules' (which names
    another file here)."""
    rules = trusted_rules(tmp_path)
    policy = rules / "privacy.yaml"
    org_ledger = tmp_path / "org" / "ledger.sqlite"
    policy.write_text(policy.read_text(encoding="utf-8").replace(
        "ledger: ~/.local/share/release/privacy_ledger.sqlite", f"ledger: {org_ledger}"), encoding="utf-8")
    raw, out = tmp_path / "raw", tmp_path / "out"
    best.write_best(best.generate_best(YEAR, seed=7, first_year=2019), raw)
    build = ("best", str(YEAR), "--input", str(raw), "--out", str(out), "--rules", str(rules), "--json")
    code, stdout, stderr = invoke(*build)
    assert code == 0, stdout + stderr
    key = new_signer(tmp_path, "A. Reviewer")
    code, stdout, stderr = invoke("approve", "best", str(YEAR), "--out", str(out), "--reviewer", "A. Reviewer",
                                  "--key", str(key), "--rules", str(rules))
    assert code == 0, stdout + stderr
    code, stdout, stderr = invoke("publish", "best", str(YEAR), "--out", str(out), "--to", str(tmp_path / "site"),
                                  "--rules", str(rules), "--json")
    assert code == 0, stdout + stderr
    assert [e.kind for e in Ledger(org_ledger).entries()].count("publish") == 1
    assert not authoritative_ledger().exists()  # the installed rules' ledger was never used
    (out / "best" / str(YEAR) / "publication.jsonl").unlink()  # the bundle's own record of it, gone
    before = (out / "best" / str(YEAR) / "manifest.json").read_bytes()
    code, stdout, stderr = invoke(*build)
    assert code == 7 and "--supersede" in stderr and "Traceback" not in stderr
    assert (out / "best" / str(YEAR) / "manifest.json").read_bytes() == before  # the published bundle stays


def test_a_noisy_table_edited_after_the_build_and_bound_again_is_refused(tmp_path: Path) -> None:
    """Round 23, exact-rebind (no modified tool): a noisy table's cells edited in the bundle, the file's
    hash redone in the manifest, and the manifest bound to the run's measurements again with the
    release key. The ledger's draws, post-processed again, are not the published cells: approve 7."""
    import csv
    import hashlib

    from release.bundle.read import manifest_sha256
    from release.keys.hmac import ledger_mac, master_key
    from release.privacy.ledger_open import open_ledger

    raw, out = tmp_path / "raw", tmp_path / "out"
    best.write_best(best.generate_best(YEAR, seed=7, first_year=2019), raw)
    rules = trusted_rules(tmp_path)
    code, stdout, stderr = invoke("best", str(YEAR), "--input", str(raw), "--out", str(out), "--rules", str(rules),
                                  "--json")
    assert code == 0, stdout + stderr
    bundle = out / "best" / str(YEAR)
    noisy = next(p for p in sorted((bundle / "public" / "tables").glob("*.csv")) if "noisy" in p.read_text())
    with noisy.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["value"] = str(int(rows[0]["value"] or 0) + 7)
    with noisy.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    manifest_path = bundle / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    for output in manifest["outputs"]:
        if output["path"] == f"public/tables/{noisy.name}":
            output["sha256"] = hashlib.sha256(noisy.read_bytes()).hexdigest()
            output["bytes"] = noisy.stat().st_size
    manifest_path.write_text(json.dumps(manifest, indent=1))
    ledger = open_ledger(rules, None, ledger_mac(master_key().material))
    run_id = read_manifest(bundle)["privacy"]["run_id"]
    bound = next(e for e in reversed(ledger.entries()) if e.kind == "bundle" and e.body.get("run_id") == run_id)
    ledger.bind_bundle(dataset="best", year=YEAR, run_id=run_id, manifest_sha256=manifest_sha256(bundle),
                       measurements=bound.body["measurements"], charges=bound.body["charges"])
    key = new_signer(tmp_path, "A. Reviewer")
    code, stdout, stderr = invoke("approve", "best", str(YEAR), "--out", str(out), "--reviewer", "A. Reviewer",
                                  "--key", str(key), "--rules", str(rules))
    assert code == 7 and "rule noisy-table" in stderr and noisy.name in stderr and "Traceback" not in stderr, stderr
    assert not (bundle / "approvals.jsonl").exists() or not (bundle / "approvals.jsonl").read_text().strip()


def test_a_superseding_version_names_the_one_before_and_nothing_else(approved: tuple[Path, Path, str],
                                                                      tmp_path: Path) -> None:
    """Version 2 of a published year records version 1's folder and manifest hash, approves, publishes beside
    it and verifies there. Round 30: nothing compared ``version`` and ``supersedes``, so an analyst holding
    the release key could put any 256 bits in its hash, bind the manifest again and have it published."""
    from release.bundle.layout import json_text
    from release.bundle.read import manifest_sha256
    from release.keys.hmac import ledger_mac, master_key
    from release.privacy.ledger_open import open_ledger

    out, ledger, _ = approved
    rules, site = trusted_rules(tmp_path), tmp_path / "site"
    org = ("--out", str(out), "--ledger", str(ledger), "--rules", str(rules))
    assert invoke("publish", "best", str(YEAR), "--to", str(site), *org)[0] == 0
    code, stdout, stderr = invoke("best", str(YEAR), "--input", str(tmp_path / "raw"), *org, "--json", "--supersede")
    assert code == 0, stdout + stderr
    first, second = out / "best" / str(YEAR), out / "best" / f"{YEAR}-v2"
    manifest = json.loads((second / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["version"] == 2 and manifest["supersedes"] == {
        "version": 1, "bundle": f"best/{YEAR}", "manifest_sha256": manifest_sha256(first)}
    key = tmp_path / "keys" / "a-reviewer.pem"  # the fixture's signer
    signed = ("--reviewer", "A. Reviewer", "--key", str(key), "--version", "2")
    shutil.copytree(out, tmp_path / "honest")  # the unsigned version 2, for the attack below
    assert invoke("approve", "best", str(YEAR), "--out", str(out), "--rules", str(rules), *signed)[0] == 0
    assert invoke("publish", "best", str(YEAR), "--to", str(site), *org, "--version", "2")[0] == 0
    assert invoke("verify", str(site / "best" / f"{YEAR}-v2"), "--rules", str(rules))[0] == 0

    attacked = tmp_path / "honest" / "best" / f"{YEAR}-v2"  # the hash made to carry a value, bound again
    manifest = json.loads((attacked / "manifest.json").read_text(encoding="utf-8"))
    manifest["supersedes"]["manifest_sha256"] = "4242" + manifest["supersedes"]["manifest_sha256"][4:]
    (attacked / "manifest.json").write_text(json_text(manifest, sort=True), encoding="utf-8")
    opened = open_ledger(rules, ledger, ledger_mac(master_key().material))
    run_id = read_manifest(attacked)["privacy"]["run_id"]
    bound = next(e for e in reversed(opened.entries()) if e.kind == "bundle" and e.body.get("run_id") == run_id)
    opened.bind_bundle(dataset="best", year=YEAR, run_id=run_id, manifest_sha256=manifest_sha256(attacked),
                       measurements=bound.body["measurements"], charges=bound.body["charges"])
    code, stdout, stderr = invoke("approve", "best", str(YEAR), "--out", str(tmp_path / "honest"), "--rules",
                                  str(rules), *signed)
    assert code == 7 and "rule supersedes" in stderr and "4242" not in stderr + stdout, stdout + stderr
