"""Issue #11's governance attacks, each end to end through the CLI, each refused by a named check.

One table (``ATTACKS``): every row is an attack, reproduced on a fresh copy of a small real
build with fictitious values only; the command that must now refuse it; the exit code; and
the text the refusal must contain (the check or rule that caught it). ``README.md`` beside
this file explains the format.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import (
    build_copy_for_test,
    invoke,
    new_signer,
    public_key,
    rehash_kept,
    sign_outside_approve,
    small_fioe_build,
    trust,
    trusted_rules,
)

from release.bundle.layout import sha256_file
from release.bundle.log import build_log
from release.keys.hmac import keys_for_manifest, load_or_create_key
from release.keys.signing import load_private_key, one_line, sign_record
from release.model import RedactionEvent

YEAR = "2020"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One small real FIOE build (a draft), copied afresh for every attack."""
    return small_fioe_build(tmp_path_factory)


@dataclass
class World:
    """A fresh copy of the build, a rules folder trusting "A. Counsel" (legal), and an attacker's
    key of their own making (``release keygen`` works for anyone)."""

    tmp: Path
    raw: Path
    out: Path
    rules: Path
    counsel: Path
    attacker: Path
    monkeypatch: pytest.MonkeyPatch

    @property
    def bundle(self) -> Path:
        return self.out / "fioe" / YEAR

    @property
    def site(self) -> Path:
        return self.tmp / "site"

    def manifest(self) -> dict:
        return json.loads((self.bundle / "manifest.json").read_text())

    def approve(self) -> None:
        code, _, stderr = invoke("approve", "fioe", YEAR, "--out", str(self.out), "--key", str(self.counsel),
                                 "--rules", str(self.rules))
        assert code == 0, stderr

    def publish(self) -> None:
        code, _, stderr = invoke("publish", "fioe", YEAR, "--out", str(self.out), "--to", str(self.site),
                                 "--rules", str(self.rules))
        assert code == 0, stderr

    def sign_by_hand(self, key: Path) -> None:
        """An approval line for the current manifest, written without ``release approve``."""
        sign_outside_approve(self.bundle, key, "fioe", 2020, timestamp="2021-01-15T10:00:00+00:00")

    def rehash(self, manifest: dict | None = None) -> None:
        """Re-hash every output into the manifest, as an attacker who edited files would."""
        manifest = manifest or self.manifest()
        for output in manifest["outputs"]:
            path = self.bundle / output["path"]
            output["sha256"], output["bytes"] = sha256_file(path), path.stat().st_size
        (self.bundle / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        rehash_kept(self.bundle)

    def cmd(self, name: str, *more: str) -> list[str]:
        return [name, "fioe", YEAR, "--out", str(self.out), "--rules", str(self.rules), *more]


@pytest.fixture()
def world(base: tuple[Path, Path], tmp_path: Path, tmp_path_factory: pytest.TempPathFactory,
          monkeypatch: pytest.MonkeyPatch) -> World:
    raw, out = base
    copy = build_copy_for_test(out, tmp_path, tmp_path_factory, monkeypatch)
    counsel = new_signer(tmp_path, "A. Counsel")
    attacker = new_signer(tmp_path, "A. Counsel (forged)", trusted=False)
    return World(tmp_path, raw, copy, trusted_rules(tmp_path), counsel, attacker, monkeypatch)


# ---- what the attacker does ----------------------------------------------------------------

def _plant_name_in_weather(w: World) -> None:
    """A subject's full name typed into the structured weather column, manifest re-hashed."""
    with (w.raw / "fieldcontact_name.csv").open(encoding="utf-8") as handle:
        person = next(p for p in csv.DictReader(handle) if p["first_name"] and p["last_name"])
    contacts = w.bundle / "public" / "fioe_2020_contacts.csv"
    with contacts.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    row = next(r for r in rows if r["fc_num"] == public_key(person["fc_num"]))
    row["weather"] = f"{person['first_name']} {person['last_name']}"
    with contacts.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    w.rehash()


def _rechain_log(w: World, trailer_mac: Callable[[int, str], str] | None = None) -> None:
    """Remove the last report's entries, re-chain the log and re-hash the manifest. Without the
    key a trailer can only be made under another key (or, given ``trailer_mac``, forged)."""
    log = w.bundle / "redaction_log.jsonl"
    entries = [json.loads(line) for line in log.read_text().splitlines()[:-1]]
    last = entries[-1]["row_key"].split("/")[0].split("#")[0]
    kept = [e for e in entries if not e["row_key"].startswith(last)]
    events = [RedactionEvent(**{k: v for k, v in e.items() if k not in ("seq", "prev", "hash")}) for e in kept]
    lines = build_log(events, keys_for_manifest(b"an attacker's own key, 32 bytes+", w.manifest()).trailer)
    if trailer_mac is not None:
        trailer = json.loads(lines[-1])
        trailer.pop("hash")
        trailer["mac"] = trailer_mac(trailer["count"], trailer["head"])
        trailer["hash"] = hashlib.sha256(_canonical(trailer).encode()).hexdigest()
        lines[-1] = _canonical(trailer)
    log.write_text("\n".join(lines) + "\n")
    private = w.bundle / "review" / "manifest_private.json"  # the log's counts are the manifest's private part
    recorded = json.loads(private.read_text())
    recorded["redaction_log"].update(entries=len(kept), head=json.loads(lines[-1])["head"])
    private.write_text(json.dumps(recorded, indent=2))
    w.rehash()


def _forged_from_a_token(w: World) -> None:
    """The build logs HMAC(token key, text) for a narrative whose text is ``count:head``: that
    token was a valid trailer MAC when tokens and trailer shared the key."""
    tokens = keys_for_manifest(load_or_create_key(), w.manifest()).tokens
    _rechain_log(w, lambda count, head: tokens.token(f"2:{count}:{head}"))


def _unsigned_keep_decision(w: World) -> None:
    """A "keep" on a redacted name, appended in the old unsigned format by anyone."""
    entry = next(json.loads(line) for line in (w.bundle / "redaction_log.jsonl").read_text().splitlines()
                 if '"entity_type":"PERSON"' in line and '"action":"redact"' in line)
    decision = {"decision": "keep", "reviewer": "A. Counsel", "note": "", "recorded_at": "", "manifest_sha256": "",
                "log_seq": entry["seq"], "log_hash": entry["hash"], "file": entry["file"], "row_key": entry["row_key"],
                "column": entry["column"], "start": entry["start"], "end": entry["end"],
                "entity_type": entry["entity_type"], "rule_id": entry["rule_id"], "token": entry["token"]}
    (w.out / "fioe" / "2020.decisions.jsonl").write_text(json.dumps(decision) + "\n")


def _canonical(entry: dict) -> str:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _first_redaction(w: World) -> str:
    return str(next(json.loads(line)["seq"] for line in (w.bundle / "redaction_log.jsonl").read_text().splitlines()
                    if '"action":"redact"' in line))


# ---- the table --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attack:
    attack: str                                  # what the attacker (or a careless exporter) does
    run: Callable[[World], list[str]]            # sets the scene; returns the command that must refuse it
    exit_code: int
    refusal: str                                 # the named check or rule, in stdout or stderr
    then: Callable[[World], bool] = lambda w: True  # and what must still hold afterwards


def self_made_key_approves(w: World) -> list[str]:
    return w.cmd("approve", "--key", str(w.attacker), "--reviewer", "A. Counsel")


def self_approved_published(w: World) -> list[str]:
    w.sign_by_hand(w.attacker)
    return w.cmd("publish", "--to", str(w.site))


def requirement_lowered_in_manifest(w: World) -> list[str]:
    w.rehash({**w.manifest(), "parameters": {"approvals_required": 0, "approvals": {"required": {}}}})
    w.sign_by_hand(w.attacker)
    return w.cmd("publish", "--to", str(w.site))


def planted_name_published(w: World) -> list[str]:
    _plant_name_in_weather(w)
    w.sign_by_hand(w.attacker)
    return w.cmd("publish", "--to", str(w.site))


def planted_name_audited(w: World) -> list[str]:
    _plant_name_in_weather(w)
    w.sign_by_hand(w.attacker)
    return w.cmd("audit", "--raw", str(w.raw), "--no-scan", "--allow-unverified")


def approvals_deleted_audited(w: World) -> list[str]:
    w.approve()
    (w.bundle / "approvals.jsonl").unlink()
    return w.cmd("audit", "--no-scan", "--allow-unverified")


def untrusted_approval_audited(w: World) -> list[str]:
    w.sign_by_hand(w.attacker)
    return w.cmd("audit", "--no-scan", "--allow-unverified")


def truncated_log_audited_without_key(w: World) -> list[str]:
    _rechain_log(w)
    w.sign_by_hand(w.counsel)  # even approved: without the key the re-chained log cannot be told apart
    w.monkeypatch.setenv("RELEASE_HMAC_KEY_FILE", str(w.tmp / "no-such.key"))
    return w.cmd("audit", "--no-scan")


def forged_trailer_audited(w: World) -> list[str]:
    _forged_from_a_token(w)
    w.sign_by_hand(w.counsel)
    return w.cmd("audit", "--raw", str(w.raw), "--no-scan")


def rechained_log_approved(w: World) -> list[str]:
    _rechain_log(w)
    return w.cmd("approve", "--key", str(w.counsel))


def rechained_log_published(w: World) -> list[str]:
    _rechain_log(w)
    w.sign_by_hand(w.counsel)  # approved outside release approve
    return w.cmd("publish", "--to", str(w.site))


def dataset_traversal_published(w: World) -> list[str]:
    return ["publish", "../../fioe", YEAR, "--out", str(w.out), "--to", str(w.site), "--rules", str(w.rules)]


def manifest_dataset_traversal_published(w: World) -> list[str]:
    w.rehash({**w.manifest(), "dataset": "../../fioe"})
    w.sign_by_hand(w.counsel)
    return w.cmd("publish", "--to", str(w.site))


def published_to_out(w: World) -> list[str]:
    w.approve()
    return w.cmd("publish", "--to", str(w.out))


def published_into_bundle(w: World) -> list[str]:
    w.approve()
    return w.cmd("publish", "--to", str(w.bundle / "public"))


def published_over_a_portal_page(w: World) -> list[str]:
    w.approve()
    (w.site / "fioe" / YEAR).mkdir(parents=True)
    (w.site / "fioe" / YEAR / "index.html").write_text("portal page")
    return w.cmd("publish", "--to", str(w.site))


def published_through_a_linked_dataset_folder(w: World) -> list[str]:
    """The portal's ``fioe/`` is a link to the releases' ``fioe/``: the copy would land on the bundle."""
    w.approve()
    w.site.mkdir()
    (w.site / "fioe").symlink_to(w.out / "fioe", target_is_directory=True)
    return w.cmd("publish", "--to", str(w.site))


def published_year_rebuilt(w: World) -> list[str]:
    w.approve()
    w.publish()
    return ["fioe", YEAR, "--input", str(w.raw), "--out", str(w.out), "--rules", str(w.rules)]


def decided_with_self_made_key(w: World) -> list[str]:
    return w.cmd("decide", "--log-id", _first_redaction(w), "--decision", "keep", "--key", str(w.attacker))


def unsigned_keep_rebuilt(w: World) -> list[str]:
    _unsigned_keep_decision(w)
    return ["fioe", YEAR, "--input", str(w.raw), "--out", str(w.out), "--rules", str(w.rules)]


def weak_hmac_key_build(w: World) -> list[str]:
    w.monkeypatch.setenv("RELEASE_HMAC_KEY", "summer2020")
    return ["fioe", YEAR, "--input", str(w.raw), "--out", str(w.tmp / "o")]


def long_chosen_hmac_key_build(w: World) -> list[str]:
    w.monkeypatch.setenv("RELEASE_HMAC_KEY", "summer2020summer2020summer2020!!")
    return ["fioe", YEAR, "--input", str(w.raw), "--out", str(w.tmp / "o")]


def self_trusted_in_a_rules_copy(w: World) -> list[str]:
    """The release is built with the organisation's rules (which trust A. Counsel); the attacker
    copies them, lists their own key as "A. Counsel" and approves with the copy."""
    code, _, stderr = invoke("fioe", YEAR, "--input", str(w.raw), "--out", str(w.out), "--rules", str(w.rules))
    assert code == 0, stderr
    mine = w.tmp / "mine"
    shutil.copytree(w.rules, mine)
    trust(mine, one_line(load_private_key(w.attacker).public_key()), "A. Counsel")
    return ["approve", "fioe", YEAR, "--out", str(w.out), "--rules", str(mine), "--key", str(w.attacker)]


def lax_policy_approved(w: World) -> list[str]:
    lax = w.tmp / "lax"
    shutil.copytree(w.rules, lax)
    policy = lax / "fioe.yaml"
    policy.write_text(policy.read_text().replace("first_name: {type: raw_only, term: first_name}",
                                                 "first_name: {type: narrative}"))  # published, not a term
    return ["approve", "fioe", YEAR, "--out", str(w.out), "--rules", str(lax), "--key", str(w.counsel)]


def _weakened_pii_rules(w: World) -> Path:
    """A copy of the organisation's rules whose PII recognizers lost their e-mail rule, the dataset policy the same
    file (so its recorded hash still matches): what an analyst would build with to publish more."""
    weak = w.tmp / "weak"
    shutil.copytree(w.rules, weak)
    recognizers = weak / "pii" / "recognizers.yaml"
    text = recognizers.read_text(encoding="utf-8")
    start = text.index("\n  - id: email\n")
    end = text.index("\n  - id: ", start + 1)
    recognizers.write_text(text[:start] + text[end:], encoding="utf-8")
    return weak


def built_with_weakened_pii_rules(w: World) -> list[str]:
    code, _, stderr = invoke("fioe", YEAR, "--input", str(w.raw), "--out", str(w.out),
                             "--rules", str(_weakened_pii_rules(w)))
    assert code == 0, stderr
    return w.cmd("approve", "--key", str(w.counsel))


def weakened_build_signed_then_published(w: World) -> list[str]:
    built_with_weakened_pii_rules(w)
    w.sign_by_hand(w.counsel)  # an approval signed outside approve: publish must check again
    return w.cmd("publish", "--to", str(w.site))


def fifo_in_public(w: World) -> list[str]:
    """A FIFO named like a public CSV: every reader that opened it waited for ever (approve, publish, audit)."""
    os.mkfifo(w.bundle / "public" / "notes.csv")
    return w.cmd("approve", "--key", str(w.counsel))


def fifo_in_public_audited(w: World) -> list[str]:
    os.mkfifo(w.bundle / "public" / "notes.csv")
    return w.cmd("audit", "--no-scan", "--allow-unverified")


NAMED = "Zebulon_Quartermaine_1999-03-14"  # fictitious


def file_named_after_a_person(w: World) -> list[str]:
    """A file the build did not write, under public/, whose name carries a person's name and birth date: the
    refusal printed the name into the approver's terminal and logs."""
    (w.bundle / "public" / f"{NAMED}.txt").write_text("x\n", encoding="utf-8")
    return w.cmd("audit", "--no-scan", "--allow-unverified")


def _broken_rule_file(w: World, name: str) -> Path:
    broken = w.tmp / "broken"
    shutil.copytree(w.rules, broken)
    with (broken / name).open("ab") as handle:
        handle.write(b"\xff\xfe\n")  # not UTF-8: was an internal error (exit 1), or blamed the model (exit 9)
    return broken


def tables_policy_not_utf8(w: World) -> list[str]:
    return ["fioe", YEAR, "--input", str(w.raw), "--out", str(w.tmp / "o"),
            "--rules", str(_broken_rule_file(w, "fioe_tables.yaml"))]


def pii_rules_not_utf8(w: World) -> list[str]:
    return ["fioe", YEAR, "--input", str(w.raw), "--out", str(w.tmp / "o"),
            "--rules", str(_broken_rule_file(w, "pii/names.yaml"))]


def signers_list_not_utf8(w: World) -> list[str]:
    return w.cmd("approve", "--key", str(w.counsel))[:-4] + [
        "--rules", str(_broken_rule_file(w, "trusted_signers.yaml")), "--key", str(w.counsel)]


def published_copy_edited(w: World) -> list[str]:
    w.approve()
    w.publish()
    (w.site / "fioe" / YEAR / "fioe_2020_contacts.csv").write_text("fc_num\nFC20000001\n")
    return ["verify", str(w.site / "fioe" / YEAR), "--rules", str(w.rules)]


def published_copy_self_approved(w: World) -> list[str]:
    w.approve()
    w.publish()
    copy = w.site / "fioe" / YEAR
    record = sign_record(load_private_key(w.attacker), "approval", {
        "dataset": "fioe", "year": 2020, "manifest_sha256": sha256_file(copy / "manifest.json"),
        "reviewer": "A. Counsel", "role": "legal", "note": "", "timestamp": "2021-01-15T10:00:00+00:00"})
    (copy / "approvals.jsonl").write_text(record.to_line() + "\n")
    sums = copy / "SHA256SUMS"
    names = [line.split("  ")[1] for line in sums.read_text().splitlines()]
    sums.write_text("".join(f"{sha256_file(copy / name)}  {name}\n" for name in names))
    return ["verify", str(copy), "--rules", str(w.rules)]


def _bundle_intact(w: World) -> bool:
    return (w.bundle / "manifest.json").is_file() and (w.bundle / "redaction_log.jsonl").is_file()


def _no_keep_applied(w: World) -> bool:
    log = (w.bundle / "redaction_log.jsonl").read_text()
    return '"action":"keep"' not in log and '"action":"redact"' in log


ATTACKS: dict[str, Attack] = {
    "self-made-key-approves": Attack(
        "release keygen, then release approve with that key", self_made_key_approves, 7, "is not in",
        lambda w: not (w.bundle / "approvals.jsonl").exists()),
    "self-approved-bundle-published": Attack(
        "an approval line signed with one's own key, then release publish", self_approved_published,
        7, "not a trusted signer", lambda w: not w.site.exists()),
    "manifest-requirement-lowered": Attack(
        "approvals_required set to 0 in the manifest, re-hashed and self-approved, then publish",
        requirement_lowered_in_manifest, 7, "legal 0 of 1", lambda w: not w.site.exists()),
    "name-planted-self-approved-published": Attack(
        "a name planted in weather, the manifest re-hashed and self-approved, then publish",
        planted_name_published, 7, "rule approvals-required", lambda w: not w.site.exists()),
    "name-planted-self-approved-audited": Attack(
        "the same bundle given to release audit (which said PASS)", planted_name_audited,
        8, "approvals: approvals.jsonl line 1"),
    "audit-approvals-deleted": Attack(
        "approvals.jsonl deleted (audited PASS: {'valid': 0, 'required': 1})", approvals_deleted_audited,
        8, "trusted approvals legal 0 of 1"),
    "audit-approved-by-untrusted-key": Attack(
        "a bundle approved only by a key no one trusts, given to release audit", untrusted_approval_audited,
        8, "not a trusted signer"),
    "audit-truncated-log-without-key": Attack(
        "a report's log entries removed and the log re-chained, audited without the HMAC key",
        truncated_log_audited_without_key, 8, "log_trailer_mac: not run (no HMAC key given"),
    "audit-forged-trailer": Attack(
        "a truncated log whose trailer MAC is the value token of 'count:head', audited --raw with the key",
        forged_trailer_audited, 8, "log_trailer_mac: redaction_log.jsonl: trailer MAC does not verify"),
    "approve-rechained-log": Attack(
        "a re-chained log, then release approve (which never checked the trailer MAC)", rechained_log_approved,
        7, "rule log-trailer-mac"),
    "publish-rechained-log": Attack(
        "a re-chained log approved outside release approve, then release publish", rechained_log_published,
        7, "rule log-trailer-mac", lambda w: not w.site.exists()),
    "publish-dataset-path-traversal": Attack(
        "release publish ../../fioe 2020 --to site", dataset_traversal_published,
        2, "Invalid value for 'DATASET'", lambda w: not (w.tmp.parent / "fioe").exists()),
    "manifest-dataset-path-traversal": Attack(
        "the manifest's dataset set to ../../fioe, re-hashed and approved, then publish",
        manifest_dataset_traversal_published, 7, "manifest is for another dataset or year",
        lambda w: not w.site.exists() and not (w.tmp.parent / "fioe").exists()),
    "publish-to-equals-out": Attack(
        "release publish --to the releases folder (it replaced the bundle with its public files)",
        published_to_out, 7, "--to overlaps the releases folder", _bundle_intact),
    "publish-into-the-bundle": Attack(
        "release publish --to a folder inside the bundle", published_into_bundle, 7, "--to overlaps",
        _bundle_intact),
    "publish-over-a-folder-it-did-not-write": Attack(
        "release publish to a destination holding others' files (it deleted them)", published_over_a_portal_page,
        7, "not a copy this tool published", lambda w: (w.site / "fioe" / YEAR / "index.html").is_file()),
    "publish-through-a-linked-dataset-folder": Attack(
        "release publish --to a folder whose fioe/ links to the releases folder (it replaced the bundle "
        "with its public copy, deleting the redaction log and the packet)", published_through_a_linked_dataset_folder,
        7, "a folder of the destination is a link", _bundle_intact),
    "rebuild-replaces-published-year": Attack(
        "a rebuild of a published, approved year (its approvals were lost, its status back to draft)",
        published_year_rebuilt, 7, "--supersede", lambda w: (w.bundle / "approvals.jsonl").is_file()),
    "decide-with-self-made-key": Attack(
        "release decide --decision keep signed with one's own key", decided_with_self_made_key,
        7, "trusted_signers.yaml", lambda w: not (w.out / "fioe" / "2020.decisions.jsonl").exists()),
    "unsigned-keep-decision": Attack(
        "an unsigned 'keep' on a redacted name written into the decisions file, then a rebuild",
        unsigned_keep_rebuilt, 0, "reviewer decision not applied: 2020.decisions.jsonl line 1: not signed",
        _no_keep_applied),
    "weak-hmac-key": Attack(
        "RELEASE_HMAC_KEY=summer2020 (a 5-word list recovered it from the key id)", weak_hmac_key_build,
        9, "at least 32 are needed", lambda w: not (w.tmp / "o" / "fioe").exists()),
    "long-chosen-hmac-key": Attack(
        "RELEASE_HMAC_KEY=summer2020summer2020summer2020!! (32 bytes, so the length check passed; the key id "
        "then confirmed it from a word list)", long_chosen_hmac_key_build,
        9, "does not look random", lambda w: not (w.tmp / "o" / "fioe").exists()),
    "self-trusted-in-a-rules-copy": Attack(
        "a copy of the organisation's rules with one's own key listed as A. Counsel, passed to release approve",
        self_trusted_in_a_rules_copy, 7, "differs from the list the bundle was built with",
        lambda w: not (w.bundle / "approvals.jsonl").is_file() or "approval" not in (w.bundle / "approvals.jsonl").read_text()),
    "policy-swapped-at-approve": Attack(
        "a rules folder that publishes first names, passed to release approve", lax_policy_approved,
        7, "differs from the rule file recorded in the manifest"),
    "weakened-pii-rules-approved": Attack(
        "a build with a rules copy whose PII recognizers lost one (the dataset policy unchanged), approved with "
        "the organisation's rules (it was approved and published)", built_with_weakened_pii_rules, 7,
        "rule engine-as-built", lambda w: not (w.bundle / "approvals.jsonl").is_file()),
    "weakened-pii-rules-published": Attack(
        "the same build, signed outside approve, then published", weakened_build_signed_then_published, 7,
        "the release's PII engine is not the trusted one", lambda w: not w.site.exists()),
    "fifo-in-public-approved": Attack(
        "a FIFO named notes.csv under public/ (approve, publish and the audit hung reading it)", fifo_in_public, 7,
        "1 special entry", lambda w: not (w.bundle / "approvals.jsonl").is_file()),
    "fifo-in-public-audited": Attack(
        "the same FIFO, then release audit", fifo_in_public_audited, 8, "1 special entry"),
    "file-named-after-a-person": Attack(
        "a file under public/ whose name is a person's name and birth date (its name was printed)",
        file_named_after_a_person, 8, "(a name not of the build's form, not printed)"),
    "tables-policy-not-utf8": Attack(
        "a tables policy that is not UTF-8 text (an internal error, exit 1)", tables_policy_not_utf8, 3,
        "fioe_tables.yaml, rule rule-file: not UTF-8 text"),
    "pii-rules-not-utf8": Attack(
        "a PII rule file that is not UTF-8 text (exit 9: the model was blamed)", pii_rules_not_utf8, 3,
        "names.yaml, rule rule-file: not UTF-8 text"),
    "signers-list-not-utf8": Attack(
        "a trusted-signers list that is not UTF-8 text, at approve (an internal error, exit 1)",
        signers_list_not_utf8, 3, "trusted_signers.yaml, rule rule-file: not UTF-8 text"),
    "published-copy-edited": Attack(
        "a file of the published copy edited on the portal, checked with release verify", published_copy_edited,
        8, "published_files: fioe_2020_contacts.csv: content differs from the manifest"),
    "published-copy-self-approved": Attack(
        "a published copy whose approval is replaced by a self-signed one, checked with release verify",
        published_copy_self_approved, 8, "approvals: approvals.jsonl line 1"),
}


@pytest.mark.parametrize("case", list(ATTACKS.values()), ids=list(ATTACKS))
def test_governance_attack_is_refused(world: World, case: Attack) -> None:
    code, stdout, stderr = invoke(*case.run(world))
    assert code == case.exit_code, stdout + stderr
    assert case.refusal in stdout + stderr, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert NAMED not in stdout + stderr
    assert case.then(world), case.attack
