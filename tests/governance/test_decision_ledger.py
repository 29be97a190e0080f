"""Attack round 30, R3, M1, M2: reviewer decisions ordered by the privacy ledger, never by line, and a
deleted decision seen, through the CLI.

R3: a trusted reviewer signs ``keep`` on a third party's name, then, on reflection, ``redact``. The
decisions file sits outside the bundle, where the analyst writes: moving the later line above the
earlier one, or deleting it, put the ``keep`` back in force, and approve --raw, publish --raw, audit
--raw and verify passed the name. Now ``decide`` records each line's hash on the ledger: a reordered
file changes nothing (the rebuild redacts the name), a deleted line blocks the build (its packet says
to restore the decisions file from its backup) and approve --raw (7) and audit --raw (8) refuse the
bundle that applied the keep. M1: the log's kept spans are held to the decisions in force (a keep
in force left out of the log fails audit --raw). M2: a reviewer's keep is reversed on the rebuilt
bundle with ``decide --log-id <the kept entry> --decision redact``. No message carries the name.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from bundlekit import RAW_VALUES, REPLAYED, YEAR, Built, World, _audit_raw, _log_events, _org, _raw_2021, _respanned
from conftest import authoritative_ledger, invoke

from release.audit.record_replay import DECISIONS
from release.bundle.decisions import decisions_path
from release.privacy.ledger import Ledger

REDETECTED = "redactions_redetected"
RESTORE = "restore the decisions file from its backup"
CONTACTS = f"fioe_{YEAR}_contacts.csv"


def _raw_replay(world: World) -> None:
    policy = world.rules / "fioe.yaml"
    text = policy.read_text(encoding="utf-8")
    policy.write_text(text.replace("  decide: [legal]", "  decide: [legal]\n  raw_replay: true", 1), encoding="utf-8")


def _entries(bundle: Path) -> list[dict[str, Any]]:
    lines = (bundle / "redaction_log.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if "seq" in e]


def _target(world: World, bundle: Path, raw: Path) -> tuple[dict[str, Any], str]:
    """A third party's name the engine redacts in a report that has one narrative: its log entry and the name."""
    contacts = pd.read_csv(raw / "fieldcontact.csv", dtype=str, keep_default_na=False)
    counts = Counter(contacts["fc_num"])
    text_of = dict(zip(contacts["fc_num"], contacts["contact_reason"], strict=True))
    public = (bundle / "public" / CONTACTS).read_text(encoding="utf-8")
    return next((e, name) for e in _entries(bundle) if e.get("column") == "contact_reason"
                and e.get("entity_type") == "PERSON" and e.get("detector") in ("ner", "regex") and counts[e["row_key"]] == 1
                for name in [text_of[e["row_key"]][e["start"]:e["end"]]] if len(name) >= 5 and name not in public)


def _decide(world: World, out: Path, seq: int, decision: str) -> None:
    world.ok("decide", "fioe", YEAR, "--log-id", str(seq), "--decision", decision, "--key", str(world.counsel),
             "--out", str(out), "--rules", str(world.rules), "--note", f"{decision} on reflection")


def _public_text(out: Path) -> str:
    return (out / "fioe" / YEAR / "public" / CONTACTS).read_text(encoding="utf-8")


def _kept(bundle: Path, row_key: str) -> list[dict[str, Any]]:
    return [e for e in _entries(bundle) if e.get("row_key") == row_key and e.get("action") == "keep"]


def _decision_entries() -> list[Any]:
    return [e for e in Ledger(authoritative_ledger()).entries() if e.kind == "decision"]


@pytest.mark.slow
def test_r3_reordered_or_deleted_decisions_never_publish_what_the_reviewer_last_ruled_redact(world: World) -> None:
    _raw_replay(world)
    out, raw = world.tmp / "rel-decisions", world.tmp / "raw-2021"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR))
    bundle = out / "fioe" / YEAR
    entry, name = _target(world, bundle, raw)
    assert name in (raw / "fieldcontact.csv").read_text(encoding="utf-8") and name not in _public_text(out)
    _decide(world, out, entry["seq"], "keep")
    world.ok(*world.build(out, "--json", raw=raw, year=YEAR))  # the keep applied: the name is public
    assert _kept(bundle, entry["row_key"]) and name in _public_text(out)
    _decide(world, out, entry["seq"], "redact")  # on reflection; the bundle that kept the name stays
    path = decisions_path("fioe", int(YEAR), out)
    keep_line, redact_line = path.read_text(encoding="utf-8").splitlines()
    recorded = _decision_entries()
    assert len(recorded) == 2 and all(set(e.body) == {"dataset", "year", "decision_sha256", "at"} for e in recorded)
    assert name not in json.dumps([e.body for e in recorded])
    org = _org(out, world)

    # the analyst deletes the later line: the bundle that applied the keep is refused everywhere
    path.write_text(keep_line + "\n", encoding="utf-8")
    said = world.refused(7, "rule raw-replay", "approve", *org[:2], "--key", str(world.counsel), *org[2:],
                         "--raw", str(raw))
    assert RESTORE in said and f"ledger entry {recorded[1].seq}" in said and name not in said, said
    said = world.refused(7, "rule raw-replay", "publish", *org[:2], "--to", str(world.site), *org[2:],
                         "--raw", str(raw))
    assert RESTORE in said and name not in said and not (world.site / "fioe" / YEAR).exists(), said
    code, checks = _audit_raw(world, out, raw)
    problems = checks[REPLAYED]["problems"]
    assert code == 8 and any(RESTORE in p and p.startswith(f"ledger entry {recorded[1].seq}:") for p in problems)
    assert name not in json.dumps(checks), problems
    code, checks = _audit_plain(world, out)  # without the raw export the audit sees it too
    problems = checks[DECISIONS]["problems"]
    assert code == 8 and any(RESTORE in p and p.startswith(f"ledger entry {recorded[1].seq}:") for p in problems)
    assert name not in json.dumps(checks), problems
    code, stdout, stderr = invoke("review", *org, "--json")  # the reviewer's view says so too
    missing = json.loads(stdout)["decisions_missing"]
    assert code == 0 and len(missing) == 1 and RESTORE in missing[0] and name not in stdout + stderr
    # the analyst moves the later line above the earlier one: still refused (the keep is not in force)
    path.write_text(redact_line + "\n" + keep_line + "\n", encoding="utf-8")
    said = world.refused(7, "rule raw-replay", "approve", *org[:2], "--key", str(world.counsel), *org[2:],
                         "--raw", str(raw))
    assert "no signed decision of a trusted reviewer in force makes" in said and name not in said, said
    code, checks = _audit_raw(world, out, raw)
    assert code == 8 and checks[REPLAYED]["status"] == "fail" and name not in json.dumps(checks)
    assert DECISIONS not in checks  # with the raw export, the replay reports it
    code, checks = _audit_plain(world, out)
    assert code == 8 and checks[DECISIONS]["status"] == "fail" and name not in json.dumps(checks)

    # a rebuild with the lines reordered applies the reviewer's last word: the name is redacted
    world.ok(*world.build(out, "--json", raw=raw, year=YEAR))
    assert not _kept(bundle, entry["row_key"]) and name not in _public_text(out)
    code, checks = _audit_raw(world, out, raw)
    assert checks[REPLAYED]["status"] == "pass" and checks[REDETECTED]["status"] == "pass", checks
    # a rebuild with the later line deleted is blocked, its packet saying what to fix
    path.write_text(keep_line + "\n", encoding="utf-8")
    code, stdout, stderr = invoke(*world.build(out, "--json", raw=raw, year=YEAR))
    said = " ".join((stdout + stderr).split())
    assert code == 5 and RESTORE in said and name not in said, said
    packet = (bundle / "review" / "index.html").read_text(encoding="utf-8")
    assert RESTORE in packet and name not in packet
    code, stdout, stderr = invoke("approve", *org[:2], "--key", str(world.counsel), *org[2:], "--raw", str(raw))
    assert code == 7 and name not in stdout + stderr


def _audit_plain(world: World, out: Path) -> tuple[int, dict[str, dict]]:
    code, stdout, stderr = invoke("audit", *_org(out, world), "--no-scan", "--allow-unverified", "--json")
    assert "Traceback" not in stdout + stderr and stdout.startswith("{"), stdout + stderr
    return code, {c["name"]: c for c in json.loads(stdout)["checks"]}


@pytest.mark.slow
def test_m2_a_reviewer_reverses_their_keep_on_the_rebuilt_bundle(world: World) -> None:
    out, raw = world.tmp / "rel-reverse", world.tmp / "raw-2021"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR))
    bundle = out / "fioe" / YEAR
    entry, name = _target(world, bundle, raw)
    _decide(world, out, entry["seq"], "keep")
    world.ok(*world.build(out, "--json", raw=raw, year=YEAR))
    kept = _kept(bundle, entry["row_key"])
    assert len(kept) == 1 and kept[0]["detector"] == "reviewer" and name in _public_text(out)
    _decide(world, out, kept[0]["seq"], "redact")  # the kept entry of the rebuilt bundle: once refused (3)
    lines = decisions_path("fioe", int(YEAR), out).read_text(encoding="utf-8").splitlines()
    spans = [{k: json.loads(line)["payload"][k] for k in ("row_key", "column", "start", "end", "token")}
             for line in lines]
    assert spans[0] == spans[1]  # the same span: the later decision replaces the earlier
    world.ok(*world.build(out, "--json", raw=raw, year=YEAR))
    assert not _kept(bundle, entry["row_key"]) and name not in _public_text(out)
    code, checks = _audit_raw(world, out, raw)
    assert checks[REPLAYED]["status"] == "pass" and checks[REDETECTED]["status"] == "pass", checks


@pytest.mark.slow
def test_m1_a_keep_in_force_left_out_of_the_log_fails_audit_raw(world: World) -> None:
    """The analyst drops the kept span from the log of the bundle that applied it (the engine's own
    redaction put back, the log re-chained, the manifest bound again): the cell replays from the log
    and every engine span is there, so only the decisions in force tell."""
    out, raw = world.tmp / "rel-m1", world.tmp / "raw-2021"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR))
    bundle = out / "fioe" / YEAR
    entry, name = _target(world, bundle, raw)
    engine = [e for e in _log_events(bundle)[0] if e.row_key == entry["row_key"] and e.column == "contact_reason"]
    _decide(world, out, entry["seq"], "keep")
    world.ok(*world.build(out, "--json", raw=raw, year=YEAR))
    code, checks = _audit_raw(world, out, raw)
    assert checks[REPLAYED]["status"] == "pass" and checks[REDETECTED]["status"] == "pass", checks
    forged, _, fc_num = _respanned(world, out, "m1-keep-dropped", lambda text, first, spans, keys: engine,
                                   only=entry["row_key"])
    code, checks = _audit_raw(world, forged, raw)
    problems = checks[REDETECTED]["problems"]
    assert code == 8 and checks[REDETECTED]["status"] == "fail", checks[REDETECTED]
    assert any(p.startswith(f"fieldcontact.csv, row {fc_num}, column contact_reason: the log's reviewer spans")
               for p in problems), problems
    assert name not in json.dumps(checks)



# ---- the order and the anchors, unit by unit -------------------------------------------------

def _signed_again(key: Path, line: str, **changes: object) -> str:
    """The decision ``line`` signed again by ``key`` with ``changes`` (what a reviewer's own key can do)."""
    from release.keys.signing import load_private_key, sign_record
    payload = json.loads(line)["payload"]
    return sign_record(load_private_key(key), "decision", {k: v for k, v in {**payload, **changes}.items()
                                                           if k not in ("kind", "record_version")}).to_line()


def _record(built: Built, key: Path, rules: Path, decision: str, log_id: str = "1") -> dict[str, Any]:
    from release.governance.decisions import Signing, record_decision
    return record_decision("fioe", 2020, built.out_dir, log_id, decision, None, "", signing=Signing(key, None, rules))


def _force(built: Built, rules: Path, **anchors: Any) -> Any:
    from release.bundle.decisions import decisions_in_force
    from release.bundle.trust import Trust, load_signers
    from release.config.policy import load_policy
    trust = Trust(rules, load_policy(rules / "fioe.yaml").approvals, load_signers(rules))
    return decisions_in_force("fioe", 2020, built.out_dir, trust, **anchors)


def test_decide_records_the_lines_hash_on_the_ledger_and_its_order_wins_over_the_files(
        built: Built, rules: Path, signing_key: Path) -> None:
    from release.privacy.decision_anchors import decision_id
    first = _record(built, signing_key, rules, "keep")
    second = _record(built, signing_key, rules, "redact")
    path = decisions_path("fioe", 2020, built.out_dir)
    keep, redact = path.read_text(encoding="utf-8").splitlines()
    recorded = _decision_entries()
    assert [e.seq for e in recorded] == [first["ledger_entry"], second["ledger_entry"]]
    assert [e.body["decision_sha256"] for e in recorded] == [decision_id(keep), decision_id(redact)]
    assert [json.loads(line)["payload"]["ledger_prev"] for line in (keep, redact)] == [e.prev for e in recorded]
    assert not any(value in json.dumps([e.body for e in recorded]) for value in RAW_VALUES)
    path.write_text(redact + "\n" + keep + "\n", encoding="utf-8")  # the later line moved up
    force = _force(built, rules)
    assert [d.decision for d in force.decisions] == ["redact"] and force.missing == () and force.ignored == ()
    path.write_text(keep + "\n", encoding="utf-8")  # the later line deleted
    force = _force(built, rules)
    assert [d.decision for d in force.decisions] == ["keep"] and len(force.missing) == 1
    blocking = [f for f in force.findings() if f.severity == "blocking"]
    assert [f.code for f in blocking] == ["reviewer_decision_missing"] and RESTORE in blocking[0].message
    assert f"ledger entry {second['ledger_entry']}:" in force.missing[0]


def test_a_line_the_ledger_does_not_record_keep_is_ignored_redact_applies(built: Built, rules: Path,
                                                                           signing_key: Path) -> None:
    _record(built, signing_key, rules, "keep")
    path = decisions_path("fioe", 2020, built.out_dir)
    keep = path.read_text(encoding="utf-8").splitlines()[0]
    later = "2099-01-01T00:00:00+00:00"
    stray_keep = _signed_again(signing_key, keep, recorded_at=later, note="never on the ledger")
    path.write_text(keep + "\n" + stray_keep + "\n", encoding="utf-8")
    force = _force(built, rules)
    assert [d.note for d in force.decisions] == [""] and len(force.ignored) == 1  # the anchored keep
    assert "line 2: the privacy ledger does not record this decision" in force.ignored[0]
    stray_redact = _signed_again(signing_key, keep, decision="redact", recorded_at=later)
    path.write_text(keep + "\n" + stray_redact + "\n", encoding="utf-8")
    force = _force(built, rules)
    assert [d.decision for d in force.decisions] == ["redact"] and force.ignored == ()
    assert len(force.unanchored) == 1 and "a redact only withholds text" in force.unanchored[0]
    assert [f.code for f in force.findings()] == ["reviewer_decision_unanchored", "reviewer_decisions_conflict"]


@pytest.mark.parametrize("lines", [(0, 1), (1, 0)], ids=["file-order", "reversed"])
def test_without_a_ledger_the_signed_time_orders_a_signers_decisions(built: Built, rules: Path, signing_key: Path,
                                                                    lines: tuple[int, int]) -> None:
    _record(built, signing_key, rules, "keep")
    path = decisions_path("fioe", 2020, built.out_dir)
    keep = path.read_text(encoding="utf-8").splitlines()[0]
    early = _signed_again(signing_key, keep, recorded_at="2020-01-01T00:00:00+00:00")
    late = _signed_again(signing_key, keep, decision="redact", recorded_at="2020-01-02T00:00:00+00:00")
    path.write_text("".join([early, late][i] + "\n" for i in lines), encoding="utf-8")
    force = _force(built, rules, anchors=None)
    assert [d.decision for d in force.decisions] == ["redact"] and force.missing == () and force.conflicts == ()


def test_a_rules_folder_without_a_privacy_policy_names_no_ledger(built: Built, rules: Path,
                                                                 signing_key: Path) -> None:
    from release.privacy.decision_anchors import anchors_for
    (rules / "privacy.yaml").unlink()
    assert _record(built, signing_key, rules, "keep")["ledger_entry"] is None
    assert anchors_for(rules, "fioe", 2020) is None and not authoritative_ledger().exists()
    assert [d.decision for d in _force(built, rules).decisions] == ["keep"]


def test_a_ledger_write_that_fails_takes_the_line_back(built: Built, rules: Path, signing_key: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from release.errors import BudgetError
    _record(built, signing_key, rules, "keep")
    path = decisions_path("fioe", 2020, built.out_dir)
    before = path.read_text(encoding="utf-8")

    def refused(self: Ledger, **_: object) -> int:
        raise BudgetError("the witness refused", rule="witness")
    monkeypatch.setattr(Ledger, "record_decision", refused)
    with pytest.raises(BudgetError):
        _record(built, signing_key, rules, "redact")
    assert path.read_text(encoding="utf-8") == before and len(_decision_entries()) == 1


def test_deciding_needs_the_release_key_when_the_ledger_records_decisions(built: Built, rules: Path,
                                                                          signing_key: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from release.errors import EnvironmentProblem
    monkeypatch.delenv("RELEASE_HMAC_KEY")
    monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(built.out_dir / "no-such-key"))
    with pytest.raises(EnvironmentProblem, match="RELEASE_HMAC_KEY_FILE") as caught:
        _record(built, signing_key, rules, "keep")
    assert caught.value.exit_code == 9 and not decisions_path("fioe", 2020, built.out_dir).exists()


def test_approve_shows_the_decisions_and_refuses_while_a_recorded_one_is_missing(built: Built, rules: Path,
                                                                                 signing_key: Path) -> None:
    from release.errors import ApprovalError
    from release.governance.gate import approve
    from release.terminal.render import approve as shown
    _record(built, signing_key, rules, "keep")
    _record(built, signing_key, rules, "redact")
    path = decisions_path("fioe", 2020, built.out_dir)
    keep, redact = path.read_text(encoding="utf-8").splitlines()
    path.write_text(keep + "\n", encoding="utf-8")
    with pytest.raises(ApprovalError, match=RESTORE) as caught:
        approve("fioe", 2020, built.out_dir, None, signing_key, "", rules_dir=rules)
    assert caught.value.exit_code == 7 and caught.value.rule == "decision-ledger"
    assert not any(value in caught.value.one_line() for value in RAW_VALUES)
    path.write_text(keep + "\n" + redact + "\n" + "not a signed line\n", encoding="utf-8")
    result = approve("fioe", 2020, built.out_dir, None, signing_key, "", rules_dir=rules)
    decided = result["review_decisions"]
    assert decided["in_force"] == 1 and decided["applied_by_build"] == 0 and decided["not_applied_by_build"] == 1
    assert len(decided["ignored"]) == 1 and "line 3: not signed" in decided["ignored"][0]
    text = shown(result)
    assert "reviewer decisions: 1 in force, 0 applied by the build, 1 not yet applied (rebuild)" in text
    assert "decision line ignored: " in text and not any(value in text for value in RAW_VALUES)


def _analyst_records(rules: Path, line: str) -> None:
    """What an analyst holding the release key can do: record any line's id on the ledger, at its end."""
    from release.keys.hmac import ledger_mac, master_key
    from release.privacy.decision_anchors import decision_id
    from release.privacy.ledger_open import open_ledger
    ledger = open_ledger(rules, None, ledger_mac(master_key().material))
    ledger.record_decision(dataset="fioe", year=2020, write=lambda prev: decision_id(line))


def test_r31_c3_r2_a_decision_is_its_signed_content_recorded_where_its_signer_saw_the_ledger(
        built: Built, rules: Path, signing_key: Path) -> None:
    """Round 31, C3: the reviewer's keep written again with other spacing, appended and recorded on the
    ledger after their redact, was a new line by its bytes, so it was their latest word and the name was
    published. R2: a keep signed before the ledger recorded decisions (or whose recording failed), its
    later redact deleted (nothing recorded it either), then recorded by the analyst: the keep was in force.
    Now a decision is its signer's key and signed payload, and it counts as recorded only by the entry
    right after the ledger head its signer signed."""
    _record(built, signing_key, rules, "keep")
    _record(built, signing_key, rules, "redact")
    path = decisions_path("fioe", 2020, built.out_dir)
    keep, redact = path.read_text(encoding="utf-8").splitlines()
    respaced = json.dumps(json.loads(keep), separators=(" , ", " : "))  # the same record in other bytes
    assert respaced != keep
    path.write_text(keep + "\n" + redact + "\n" + respaced + "\n", encoding="utf-8")
    _analyst_records(rules, respaced)
    force = _force(built, rules)
    assert [d.decision for d in force.decisions] == ["redact"] and force.missing == ()  # C3: still the redact
    # R2: a keep never recorded where its signer saw the ledger, recorded later by the analyst, does not count
    early = _signed_again(signing_key, keep, recorded_at="2030-01-01T00:00:00+00:00", ledger_prev="")
    path.write_text(early + "\n", encoding="utf-8")
    _analyst_records(rules, early)
    force = _force(built, rules)
    assert force.decisions == () or [d.decision for d in force.decisions] != ["keep"]
    assert any("does not record this decision right after the head its signer signed" in why for why in force.ignored)
