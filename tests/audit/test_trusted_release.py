"""Issue #12, attack round 22: a release held to the TRUSTED policy as a whole, not only its spends,
through the CLI.

Each scene keeps the organisation's ledger and witness (the trusted rules of ``bundlekit``'s
``world``, its first approval anchoring the ledger) and builds 2021 with a rules copy that changes one
thing the round-22 attacker changed; approve and publish (7), the audit and ``verify`` of a copy laid
out by hand (8) with the trusted rules refuse it, naming the rule. Before the fix every one of them
passed. Fictitious values only.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from bundlekit import (
    PROTECTED,
    YEAR,
    World,
    _audit_problems,
    _org,
    _raw_2021,
    _rewrite,
    _sign_outside_approve,
    _verify_problems,
)
from conftest import ROOT, authoritative_ledger, invoke, name_witness

from release.bundle.read import read_manifest
from release.datasets import generations
from release.privacy.ledger import Ledger

TABLES = "fioe_tables.yaml"
RULES = ROOT / "redaction_rules"
PROTECTED_BLOCK = f"  - name: {PROTECTED}\n"


def _in_protected_block(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        start = text.index(PROTECTED_BLOCK)
        end = text.find("\n  - name:", start + 1)
        end = len(text) if end < 0 else end
        assert old in text[start:end], old
        return text[:start] + text[start:end].replace(old, new, 1) + text[end:]
    return edit


def _renamed_exact(keep: bool) -> Callable[[str], str]:
    """The protected table under a new name as exact counts (default suppression), the noisy one kept or not."""
    def edit(text: str) -> str:
        start = text.index(PROTECTED_BLOCK)
        end = text.find("\n  - name:", start + 1)
        end = len(text) if end < 0 else end
        block = text[start:end]
        exact = block.replace(f"name: {PROTECTED}", f"name: {PROTECTED}_exact", 1).replace(
            "mechanism: discrete_gaussian\n    rho: 0.05", "mechanism: exact", 1)
        return text[:start] + (block.rstrip("\n") + "\n\n" if keep else "") + exact + text[end:]
    return edit


def _no_coarsening(text: str) -> str:
    edited = re.sub(r"      coarsen: \{age: age_band[^}]*\}\n", "", text)
    assert edited != text
    return edited


def _rules_copy(world: World, file: str, edit: Callable[[str], str]) -> Path:
    """The organisation's rules copied by the analyst, with the same witness (so the same ledger) and
    ``file`` edited."""
    copy = world.tmp / "analyst" / "rules"
    shutil.copytree(world.rules, copy, ignore=shutil.ignore_patterns("witness"))
    name_witness(copy, world.witness)
    (copy / file).write_text(edit((copy / file).read_text(encoding="utf-8")), encoding="utf-8")
    return copy


def _refused_everywhere(world: World, out: Path, rule: str) -> str:
    """approve and publish 7, the audit and verify 8, each naming ``rule``; nothing reaches the portal.
    Returns what approve said (its first problem) and every problem the audit listed."""
    org = _org(out, world)
    said = world.refused(7, rule, "approve", *org[:2], "--key", str(world.counsel), *org[2:])
    assert "differs from the trusted policy" in said and "rule trusted-policy" in said
    bundle = out / "fioe" / YEAR
    _sign_outside_approve(world, bundle)  # publish must check again
    world.refused(7, rule, "publish", *org[:2], "--to", str(world.site), *org[2:])
    assert not (world.site / "fioe" / YEAR).exists()
    audited = _audit_problems(world, out, "trusted_policy")
    assert any(rule in p for p in audited)
    assert any(rule in p for p in _verify_problems(world, bundle))
    return " ".join([said, *audited])


# ---- A: a rules copy changing the protected table's declaration, delta or coarsening -------

MERGE = _in_protected_block("units_may_merge: true", "units_may_merge: false")
NO_MARGINS = _in_protected_block("margins: [[contacts], [neighbourhood], []]", "margins: []")


def _build_past_the_merge_check(world: World, out: Path, copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Build 2021 with the rules copy. A copy that drops ``units_may_merge`` is blocked by the build
    itself (exit 5, nothing drawn); the checks below are for an analyst who also changed the tool
    to get past that, so the build's check is then patched out."""
    from release.build import tables
    args = world.build(out, "--json", raw=_raw_2021(world), year=YEAR, rules=copy)
    before = len(Ledger(authoritative_ledger()).entries())
    code, stdout, stderr = invoke(*args)
    if code == 5:
        assert "units_may_merge_undeclared" in stdout and len(Ledger(authoritative_ledger()).entries()) == before
        monkeypatch.setattr(tables, "_merged_units_declared", lambda spec, frame: [])
        world.ok(*args)
    else:
        assert code == 0, stdout + stderr


@pytest.mark.parametrize(("file", "edit", "rule", "charged"), [
    pytest.param(TABLES, MERGE, "rule spec_sha256", True, marks=pytest.mark.slow),
    (TABLES, lambda t: NO_MARGINS(MERGE(t)), "rule spec_sha256", True),
    (TABLES, _in_protected_block("max_cells_per_unit: 1\n", "max_cells_per_unit: 1\n    bounds: declared\n"),
     "rule spec_sha256", True),
    ("privacy.yaml", lambda t: t.replace("delta: 1.0e-9", "delta: 1.0e-5", 1), "rule delta", True),
    (TABLES, _renamed_exact(keep=False), "rule tables", False),
    (TABLES, _renamed_exact(keep=True), "rule tables", True),
    (TABLES, _no_coarsening, "rule linkage.coarsen", True),
    ("privacy.yaml", lambda t: t.replace("k: 5", "k: 2"), "rule record_risk.k", True),
], ids=["pol-merge", "pol-margins", "pol-declared", "delta5", "rename-exact", "rename-exact-keep", "nocoarsen", "k2"])
def test_a_rules_copy_is_held_to_the_trusted_declaration(world: World, file: str, edit: Callable[[str], str],
                                                         rule: str, charged: bool,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    copy = _rules_copy(world, file, edit)
    before = sum(1 for e in Ledger(authoritative_ledger()).entries() if e.kind == "charge")
    out = world.tmp / "rel-copy"
    _build_past_the_merge_check(world, out, copy, monkeypatch)
    after = sum(1 for e in Ledger(authoritative_ledger()).entries() if e.kind == "charge")
    assert (after > before) == charged  # the copy's draw is on the organisation's ledger (or there is none)
    _refused_everywhere(world, out, rule)


@pytest.mark.parametrize(("edit", "loss"), [(MERGE, "0.1"), (lambda t: NO_MARGINS(MERGE(t)), "0.4")],
                         ids=["pol-merge", "pol-margins"])
def test_a_measurement_is_replayed_at_the_trusted_sensitivity(world: World, edit: Callable[[str], str],
                                                              loss: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The noise of a copy without units_may_merge (L2 squared 4 instead of 8) costs twice the rho
    charged at the trusted d_in; without margins too (1 instead of 8), eight times."""
    out = world.tmp / "rel-copy"
    _build_past_the_merge_check(world, out, _rules_copy(world, TABLES, edit), monkeypatch)
    problems = _audit_problems(world, out, "trusted_policy")
    assert any(f"its noise costs {loss}, above the 0.05 declared" in p and "rule units_may_merge" in p
               for p in problems), problems


# ---- B: the generation from the year, not from the manifest -------------------------------

def _relabel_rms(world: World, bundle: Path) -> None:
    """The manifest (unsigned before approval) says rms, whose policy declares no table; its hash is added."""
    from release.bundle.layout import sha256_file

    def change(manifest: dict) -> None:
        manifest["generation"] = {"name": "rms", "title": "New RMS", "policy": "fioe_rms.yaml", "years": "2015-2019",
                                  "chosen_by": "option"}
        files = [f for f in manifest["rules"]["files"] if f.get("path") != "fioe_rms.yaml"]
        manifest["rules"]["files"] = files + [{"path": "fioe_rms.yaml",
                                               "sha256": sha256_file(world.rules / "fioe_rms.yaml")}]
    _rewrite(bundle, change)


def test_gen_exact_a_bundle_relabelled_with_another_generation_is_judged_by_its_years(world: World) -> None:
    copy = _rules_copy(world, TABLES, _in_protected_block("mechanism: discrete_gaussian\n    rho: 0.05",
                                                           "mechanism: exact"))
    out = world.tmp / "rel-copy"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR, rules=copy))
    bundle = out / "fioe" / YEAR
    _relabel_rms(world, bundle)
    _refused_everywhere_generation(world, out, bundle)


def test_gen_draft_a_free_draft_relabelled_is_refused(world: World) -> None:
    """A draft on a throwaway ledger (no witness), relabelled rms: the generation comes from 2021."""
    throwaway = f"ledger: {world.tmp / 'throwaway.sqlite'}"
    copy = _rules_copy(world, "privacy.yaml", lambda text: re.sub(r"(?m)^ledger: .*$", throwaway, text, count=1))
    name_witness(copy, None)
    out = world.tmp / "draft"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR, rules=copy))
    bundle = out / "fioe" / YEAR
    _relabel_rms(world, bundle)
    _strip_spend(bundle)
    _refused_everywhere_generation(world, out, bundle)


def _strip_spend(bundle: Path) -> None:
    """The draft's spends deleted from its manifest, its noisy table relabelled exact (small cells shown
    suppressed) and its privacy.json entry dropped, the files re-hashed."""
    import csv

    path = bundle / "public" / "tables" / f"{PROTECTED}.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        small = int(row["value"] or 0) < 10
        row.update(value="", lower="", upper="", status="suppressed") if small else row.update(status="exact")
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    statement = bundle / "public" / "privacy.json"
    document = json.loads(statement.read_text(encoding="utf-8"))
    document["tables"] = [t for t in document["tables"] if t["table"] != PROTECTED]
    statement.write_text(json.dumps(document, indent=2), encoding="utf-8")
    _rewrite(bundle, lambda m: [m["privacy"].pop(k, None) for k in ("spends", "measurements")],
             f"public/tables/{PROTECTED}.csv", "public/privacy.json")


def _refused_everywhere_generation(world: World, out: Path, bundle: Path) -> None:
    org = _org(out, world)
    world.refused(7, "rule generation", "approve", *org[:2], "--key", str(world.counsel), *org[2:])
    _sign_outside_approve(world, bundle)
    world.refused(7, "rule generation", "publish", *org[:2], "--to", str(world.site), *org[2:])
    assert not (world.site / "fioe" / YEAR).exists()
    assert any("rule generation" in p for p in _audit_problems(world, out, "approvals"))
    problems = _audit_problems(world, out, "trusted_policy")
    assert any("rule generation" in p for p in problems) and any(PROTECTED in p for p in problems), problems
    assert any("rule generation" in p for p in _verify_problems(world, bundle))


@pytest.mark.parametrize(("year", "recorded", "part", "problem"), [
    (2021, "mark43", None, None), (2021, None, None, None), (2021, "rms", None, "mark43 held 2021"),
    (2021, "nosuch", None, "unknown fioe generation"),
    (2019, "rms", "rms", None), (2019, "rms", "mark43", "the bundle's folder is the mark43 part"),
    (2019, None, "rms", "records no generation"), (2019, "legacy", "legacy", "mark43 and rms held 2019"),
    (2012, "mark43", None, "legacy held 2012"),
], ids=["2021", "2021-none", "2021-rms", "2021-unknown", "2019-rms", "2019-part", "2019-none", "2019-legacy",
        "2012-mark43"])
def test_the_generation_a_manifest_records_must_have_held_its_year(year: int, recorded: str | None, part: str | None,
                                                                   problem: str | None) -> None:
    manifest = {"year": year, **({"generation": {"name": recorded}} if recorded else {})}
    found = generations.manifest_problem("fioe", manifest, part)
    assert (found is None) if problem is None else (found is not None and problem in found), found
    judged = generations.of_manifest("fioe", manifest)
    if year != 2019:  # a one-system year takes its system, whatever the manifest says
        assert judged is not None and judged.holds(year) and judged.name == {2021: "mark43", 2012: "legacy"}[year]


# ---- D: 4u-poison, a stray unit's charge on the ledger, and the way forward ----------------

def test_4u_poison_absorbs_gives_the_audit_a_truthful_way_forward(world: World) -> None:
    """A rules copy charges ``person2`` (0.5) on the organisation's ledger; approve refuses it. The
    audit of the organisation's own honest release then fails, naming the fix; an administrator
    declares ``absorbs: [person2]`` under ``person``: the audit counts it against person's cap and
    passes (0.05 + 0.5 <= 1), the copy's release stays refused. Absorbing a larger stray charge
    (person then past its cap) fails on the cap, which is the truth."""
    world.ok(*world.cmd("publish", "--to", str(world.site)))
    copy = _rules_copy(world, "privacy.yaml", lambda t: t.replace(
        "units:\n", "units:\n  person2:\n    description: x\n    datasets: [fioe]\n    cap_rho: 10.0\n", 1))
    table = copy / TABLES
    table.write_text(_in_protected_block("privacy_unit_name: person", "privacy_unit_name: person2")(
        _in_protected_block("rho: 0.05", "rho: 0.5")(table.read_text())))
    out = world.tmp / "rel-copy"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR, rules=copy))
    org_2021 = _org(out, world)
    world.refused(7, "charged to another privacy unit than person", "approve", *org_2021[:2], "--key",
                  str(world.counsel), *org_2021[2:])

    problems = world.audit_ledger_problems()  # the honest 2020, on the same ledger
    fix = "an administrator adds the entry {unit: person2, dataset: fioe} to the absorbs list of units.person"
    assert any("counts against no cap" in p and fix in p for p in problems), problems

    policy = world.rules / "privacy.yaml"
    honest = policy.read_text()
    assert "\n    cap_rho: 1.0\n" in honest
    policy.write_text(honest.replace("\n    cap_rho: 1.0\n", "\n    cap_rho: 1.0\n    absorbs: [person2]\n", 1))
    _, stdout, _ = invoke(*world.cmd("audit", "--no-scan", "--allow-unverified", "--json"))
    checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
    assert checks["privacy_ledger"]["status"] == "pass", checks["privacy_ledger"]
    world.refused(7, "charged to another privacy unit than person", "approve", *org_2021[:2], "--key",
                  str(world.counsel), *org_2021[2:])

    policy.write_text(honest.replace("\n    cap_rho: 1.0\n", "\n    cap_rho: 0.5\n    absorbs: [person2]\n", 1))
    problems = world.audit_ledger_problems()
    assert any("charged over all releases (the stray charges it absorbs included), above the cap 0.5" in p
               for p in problems), problems


YOUTH = "  youth:\n    description: a young person referred to YouthConnect\n    datasets: [youthconnect]\n"


def _with_absorbs(text: str, entry: str, cap: str = "1.0") -> str:
    """The organisation's privacy.yaml with ``person`` absorbing ``entry`` (and its cap set to ``cap``)."""
    assert "\n    cap_rho: 1.0\n" in text
    return text.replace("\n    cap_rho: 1.0\n", f"\n    cap_rho: {cap}\n    absorbs: [{entry}]\n", 1)


@pytest.mark.slow
def test_4u_poison_declared_a_declared_units_charge_for_another_dataset_is_absorbed_by_that_datasets_unit(
        world: World) -> None:
    """Round 23, 4u-poison-declared: the organisation declares ``youth`` for YouthConnect; a rules copy
    charges the protected FIOE table to ``youth`` (its privacy.yaml lists fioe there). Approve refuses
    that release, and every audit on the ledger failed advising ``absorbs: [youth]``, which privacy.yaml
    then refused to load: a dead end. Now the advice is ``{unit: youth, dataset: fioe}`` under
    ``person`` (FIOE's people); done, the audit passes, the copy's release stays refused, and the
    charge counts against person's cap in the audit and in the next build's precheck."""
    policy = world.rules / "privacy.yaml"
    policy.write_text(policy.read_text().replace("units:\n", "units:\n" + YOUTH, 1))
    honest = policy.read_text()
    world.ok(*world.cmd("publish", "--to", str(world.site)))
    copy = _rules_copy(world, TABLES, _in_protected_block("privacy_unit_name: person", "privacy_unit_name: youth"))
    mine = copy / "privacy.yaml"
    mine.write_text(mine.read_text().replace("datasets: [youthconnect]", "datasets: [youthconnect, fioe]", 1))
    out = world.tmp / "rel-copy"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR, rules=copy))
    stray = [e for e in Ledger(authoritative_ledger()).entries() if e.kind == "charge"][-1]
    assert (stray.body["unit"], stray.body["dataset"]) == ("youth", "fioe")
    org_2021 = _org(out, world)
    approve_copy = ("approve", *org_2021[:2], "--key", str(world.counsel), *org_2021[2:])
    world.refused(7, "charged to another privacy unit than person", *approve_copy)

    entry = "{unit: youth, dataset: fioe}"
    problems = world.audit_ledger_problems()  # the honest, published 2020 on the same ledger
    assert any(f"ledger entry {stray.seq}: " in p and f"adds the entry {entry} to the absorbs list of units.person" in p
               for p in problems), problems

    policy.write_text(_with_absorbs(honest, "youth"))  # round 22's advice: not a way forward
    said = world.refused(8, "units.person.absorbs: youth is a declared unit", *world.cmd("audit", "--no-scan",
                                                                                        "--allow-unverified"))
    assert entry.replace("fioe", "DATASET") in said and "privacy.yaml" in said

    policy.write_text(_with_absorbs(honest, entry))  # the advice as printed
    _, stdout, _ = invoke(*world.cmd("audit", "--no-scan", "--allow-unverified", "--json"))
    checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
    assert checks["privacy_ledger"]["status"] == "pass", checks["privacy_ledger"]
    world.refused(7, "charged to another privacy unit than person", *approve_copy)

    # person's cap counts it: with a cap of person's own charges plus the stray youth charge, the next
    # honest build (0.05 more) is refused before it draws, and the audit holds at the cap
    counted = sum(e.body["rho"] for e in Ledger(authoritative_ledger()).entries()
                  if e.kind == "charge" and e.body["unit"] in ("person", "youth"))
    policy.write_text(_with_absorbs(honest, entry, cap=repr(counted)))
    before = len(Ledger(authoritative_ledger()).entries())
    world.refused(6, f"privacy unit 'person' would spend rho {counted + 0.05:.4g}", *world.build(
        world.tmp / "rel-honest", "--json", raw=_raw_2021(world), year=YEAR))
    assert [e.kind for e in Ledger(authoritative_ledger()).entries()[before:]] in ([], ["cap"])
    problems = world.audit_ledger_problems()  # 2020 states the cap 1.0 it was built under, but the sum holds
    assert not any("charged over all releases" in p or "ledger entry" in p for p in problems), problems
    policy.write_text(_with_absorbs(honest, entry, cap=repr(counted - 0.01)))
    problems = world.audit_ledger_problems()
    assert any(f"privacy unit person: rho {counted:.4g} charged over all releases (the stray charges it absorbs "
               "included)" in p for p in problems), problems


@pytest.mark.parametrize(("units", "message"), [
    ("  person:\n    description: p\n    datasets: [fioe]\n    absorbs: [person]\n", "is a declared unit"),
    (("  a:\n    description: p\n    datasets: [fioe]\n    absorbs: [x]\n"
      "  b:\n    description: p\n    datasets: [fioe]\n    absorbs: [x]\n"), "absorbed by two units"),
    ("  person:\n    description: p\n    datasets: [fioe]\n    absorbs: [{unit: person, dataset: fioe}]\n",
     "person is declared for fioe; its charges there count against its own cap"),
    (("  person:\n    description: p\n    datasets: [fioe]\n"
      "  youth:\n    description: p\n    datasets: [youthconnect]\n    absorbs: [{unit: youth, dataset: fioe}]\n"),
     "units.youth.absorbs: the people of fioe are those of unit(s) person; a charge on it is absorbed there"),
    (("  a:\n    description: p\n    datasets: [fioe]\n    absorbs: [{unit: x, dataset: nowhere}]\n"
      "  b:\n    description: p\n    datasets: [best]\n    absorbs: [{unit: x, dataset: nowhere}]\n"),
     "absorbed by two units"),
    ("  a:\n    description: p\n    datasets: [fioe]\n    absorbs: [{unit: x}]\n",
     "units.a.absorbs: each entry is an undeclared unit's name or {unit: UNIT, dataset: DATASET}"),
], ids=["a-declared-unit", "twice", "in-place", "another-units-people", "nowhere-twice", "no-dataset"])
def test_absorbs_names_only_an_undeclared_unit_once(tmp_path: Path, units: str, message: str) -> None:
    from release.config.privacy import load_privacy_policy
    from release.errors import ConfigError

    (tmp_path / "privacy.yaml").write_text("units:\n" + units, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)) as refused:
        load_privacy_policy(tmp_path)
    assert refused.value.file is not None and refused.value.file.endswith("privacy.yaml")


@pytest.mark.parametrize("units", [
    ("  person:\n    description: p\n    datasets: [fioe, youthconnect]\n"
     "    absorbs: [person2, {unit: youth, dataset: fioe}, {unit: person9, dataset: nowhere}]\n"
     "  youth:\n    description: p\n    datasets: [youthconnect]\n    absorbs: [{unit: zz, dataset: youthconnect}]\n")])
def test_absorbs_attributes_each_stray_charge_to_the_units_whose_people_it_touched(tmp_path: Path, units: str) -> None:
    """Which units a stray charge counts against: a bare name for each of the unit's datasets, a
    {unit, dataset} entry for exactly that pair; a charge in place is never stray."""
    from release.config.privacy import load_privacy_policy

    (tmp_path / "privacy.yaml").write_text("units:\n" + units, encoding="utf-8")
    policy = load_privacy_policy(tmp_path)
    assert policy.absorbers("fioe", "person2") == ("person",) and policy.absorbers("best", "person2") == ()
    assert policy.absorbers("fioe", "youth") == ("person",) and policy.absorbers("youthconnect", "youth") == ()
    assert policy.absorbers("nowhere", "person9") == ("person",) and policy.absorbers("fioe", "person9") == ()
    assert policy.absorbers("youthconnect", "zz") == ("youth",) and policy.owners("youthconnect") == ("person", "youth")
    assert policy.placed("youthconnect", "youth") and not policy.placed("fioe", "youth")


@pytest.mark.parametrize(("unit", "dataset"), [
    ("no", "fioe"), ("null", "fioe"), ("person", "off"), ("Person 9", "fioe"), ("yes", "true"), ("a: [b]", "fioe"),
    ('say "x"', "fioe"), ("person9", "fioe")],
    ids=["no", "null", "dataset-off", "space", "yes-true", "flow-characters", "quotes", "plain"])
def test_the_absorbs_advice_loads_as_written(tmp_path: Path, unit: str, dataset: str) -> None:
    """Round 24, U-yaml-unit, U-yaml-dataset, U-nonplain: the audit's advice printed ``{unit: no,
    dataset: fioe}`` bare; written in privacy.yaml as printed it read ``no`` as false (``off`` too,
    ``null`` as None) and the file no longer loaded: every build stopped (3). The entry the refusal
    prints, written verbatim where it says, now loads as that very charge's unit and dataset, and the
    charge is absorbed."""
    from release.config.privacy import load_privacy_policy
    from release.privacy.ledger import GENESIS, Entry
    from release.privacy.trusted_units import ledger_problems

    (tmp_path / "privacy.yaml").write_text((RULES / "privacy.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    charge = Entry(7, "charge", {"unit": unit, "dataset": dataset, "rho": 0.05}, GENESIS, "f" * 64, None, "{}")
    advice = ledger_problems([charge], load_privacy_policy(tmp_path))
    assert len(advice) == 1 and "to the absorbs list of units.person" in advice[0], advice
    entry = re.search(r"adds the entry (\{.*?\}) to the absorbs list", advice[0])
    assert entry is not None and "<its" not in entry.group(1), advice
    text = (tmp_path / "privacy.yaml").read_text(encoding="utf-8")
    assert "\n    cap_rho: 1.0\n" in text
    (tmp_path / "privacy.yaml").write_text(text.replace(
        "\n    cap_rho: 1.0\n", f"\n    cap_rho: 1.0\n    absorbs: [{entry.group(1)}]\n", 1), encoding="utf-8")
    policy = load_privacy_policy(tmp_path)
    assert policy.absorbers(dataset, unit) == ("person",)
    assert ledger_problems([charge], policy) == []


def test_a_name_that_does_not_print_is_not_repeated_in_the_advice(tmp_path: Path) -> None:
    """A control or direction character in a charge's unit is not echoed to the terminal; the advice
    points to the ledger entry instead."""
    from release.config.privacy import load_privacy_policy
    from release.privacy.ledger import GENESIS, Entry
    from release.privacy.trusted_units import ledger_problems

    charge = Entry(9, "charge", {"unit": "per\u202eson", "dataset": "fioe", "rho": 0.05}, GENESIS, "f" * 64, None, "{}")
    advice = ledger_problems([charge], load_privacy_policy(RULES))
    assert "<its unit exactly as ledger entry 9 records it>" in advice[0] and "\u202e" not in advice[0], advice


# ---- the control: an honest 2021 passes every check ----------------------------------------

def test_an_honest_release_holds_to_the_trusted_policy(world: World) -> None:
    out = world.tmp / "rel-honest"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR))
    org = _org(out, world)
    world.ok("approve", *org[:2], "--key", str(world.counsel), *org[2:])
    world.ok("publish", *org[:2], "--to", str(world.site), *org[2:])
    code, stdout, stderr = invoke("audit", *org, "--no-scan", "--allow-unverified", "--json")
    checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
    assert checks["trusted_policy"]["status"] == "pass", checks["trusted_policy"]
    assert checks["privacy_ledger"]["status"] == "pass", checks["privacy_ledger"]
    code, stdout, stderr = invoke("verify", str(world.site / "fioe" / YEAR), "--rules", str(world.rules), "--json")
    assert code == 0, stdout + stderr
    assert {c["name"]: c["status"] for c in json.loads(stdout)["checks"]}["trusted_policy"] == "pass"


# ---- the published record-level files: the coarsening and the juvenile rule as allow-lists ----

def _rebind(world: World, bundle: Path, *files: str) -> None:
    """The analyst's own edit, re-hashed and re-bound with the release key (no patched tool): a second
    ``bundle`` entry for the run on the organisation's ledger, which its witness takes."""
    from release.bundle.read import manifest_sha256
    from release.keys.hmac import ledger_mac, master_key
    from release.privacy.ledger_open import open_ledger

    _rewrite(bundle, lambda manifest: None, *files)
    run_id = read_manifest(bundle)["privacy"]["run_id"]  # in the private part
    ledger = open_ledger(world.rules, None, ledger_mac(master_key().material))
    bound = next(e for e in reversed(ledger.entries()) if e.kind == "bundle" and e.body.get("run_id") == run_id)
    ledger.bind_bundle(dataset="fioe", year=int(YEAR), run_id=run_id, manifest_sha256=manifest_sha256(bundle),
                       measurements=bound.body["measurements"], charges=bound.body["charges"])


def _edit_rows(path: Path, edit: Callable[[dict[str, str]], bool]) -> int:
    import csv
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    edited = sum(1 for row in rows if edit(row))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return edited


ADULT_BANDS = {"18-24": "21", "25-34": "30", "35-44": "40", "45-54": "50", "55-64": "60", "65 and over": "70"}
MINOR_BANDS = {"under 14": "12", "14-15": "15", "16-17": "16"}


def _exact_in_age_band(row: dict[str, str]) -> bool:  # C-ageband-col: an adult's years where the band was
    row["age_band"] = ADULT_BANDS.get(row["age_band"], row["age_band"])
    return row["age_band"] in ADULT_BANDS.values()


def _crash_age(row: dict[str, str]) -> bool:  # C-age-crash: a digit int() cannot read
    row["age"] = "1\u00b2" if row["age_band"] in ADULT_BANDS else row["age"]
    return row["age"] == "1\u00b2"


def _minor_years(row: dict[str, str]) -> bool:  # C-minor-age: a minor's years beside the band
    row["age"] = MINOR_BANDS.get(row["age_band"], row["age"])
    return row["age"] in MINOR_BANDS.values()


@pytest.mark.parametrize(("edit", "rule"), [
    (_exact_in_age_band, "rule linkage.coarsen"), (_crash_age, "rule linkage.coarsen"),
    (_minor_years, "rule linkage.coarsen")], ids=["ageband-col", "age-crash", "minor-juv"])
def test_an_edited_persons_file_is_held_to_the_coarsening_and_juvenile_rule(
        world: World, edit: Callable[[dict[str, str]], bool], rule: str) -> None:
    """Attack round 24 (C-ageband-col, C-age-crash, C-minor-juv): the analyst edits the persons file of
    an honest paid bundle (an adult's exact years in age_band; a digit no int() reads; a minor's exact
    years, and for the minors' reports the withheld street and the exact date-time given back in the
    contacts file), re-hashes and re-binds it. Before, approve, publish, the audit and verify passed
    (or approve and the audit stopped with an internal error); now each refuses (7, 8) naming the
    file, column and rule, never the value."""
    out = world.tmp / "rel-records"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR))
    bundle, persons, contacts = out / "fioe" / YEAR, f"public/fioe_{YEAR}_persons.csv", f"public/fioe_{YEAR}_contacts.csv"
    assert _edit_rows(bundle / persons, edit)
    edited = [persons]
    if edit is _minor_years:
        def restore(row: dict[str, str]) -> bool:
            if row["street"] != "[WITHHELD: JUVENILE]":
                return False
            row["street"], row["contact_date"], row["contact_date_precision"] = \
                "Blue Hill Ave", row["contact_date"][:8] + "05T14:27:00", "minute"
            return True
        assert _edit_rows(bundle / contacts, restore)
        edited.append(contacts)
    _rebind(world, bundle, *edited)
    said = _refused_everywhere(world, out, rule)
    assert "internal error" not in said and "1\u00b2" not in said and "Blue Hill" not in said, said
    assert f"fioe_{YEAR}_persons.csv" in said, said
    if edit is _minor_years:
        assert all(f"rule juvenile.{part}" in said for part in ("bands", "withhold", "date_precision")), said


# ---- the published draws: a reader of a copy replays the noisy tables without the ledger ------

def _edit_first_cell(path: Path, change: int) -> None:
    import csv
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    rows[0]["value"] = str(int(rows[0]["value"] or 0) + change)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


@pytest.mark.parametrize("values_too", [False, True], ids=["cells", "cells-and-published-draw"])
def test_a_copy_whose_noisy_cells_are_not_its_published_draws_fails_verify(world: World, values_too: bool) -> None:
    """A copy a reader holds without the ledger: a noisy cell edited, the manifest re-hashed and signed by
    the legal key outside approve (an insider, or a key that leaked). verify recomputes the table from
    the noisy values the manifest publishes (8, rule noisy-table); edited too, those values are no longer
    the draw the witness signed. Before the draws were published, verify passed both."""
    out = world.tmp / "rel-cells"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR))
    bundle = out / "fioe" / YEAR
    table = f"public/tables/{PROTECTED}.csv"
    _edit_first_cell(bundle / table, 5)

    def change(manifest: dict) -> None:
        if values_too:
            first = next(m for m in manifest["privacy"]["measurements"] if m["table"] == PROTECTED)
            first["noisy_values"][0] += 5
    _rewrite(bundle, change, table)
    _sign_outside_approve(world, bundle)
    problems = _verify_problems(world, bundle)
    assert any("rule noisy-table" in p for p in problems), problems
    said = "not the draw it names" if values_too else "not the post-processing of the draws"
    assert any(said in p for p in problems), problems


def test_every_measurement_publishes_the_draw_the_ledger_stored(world: World) -> None:
    """The manifest's noisy values, with the measurement's own fields, hash to the record the ledger
    stored and charged (the hash a witness service signs in its tier): the link verify relies on."""
    from release.privacy.ledger_entries import record_of, record_sha256
    out = world.tmp / "rel-draws"
    world.ok(*world.build(out, "--json", raw=_raw_2021(world), year=YEAR))
    manifest = json.loads((out / "fioe" / YEAR / "manifest.json").read_text(encoding="utf-8"))
    from release.config.privacy import load_privacy_policy
    stored = Ledger(load_privacy_policy(world.rules).ledger_path(world.rules)).stored_records()
    measurements = manifest["privacy"]["measurements"]
    assert measurements
    for measurement in measurements:
        assert record_sha256(record_of(measurement)) == measurement["measurement_sha256"]
        assert stored[measurement["measurement_sha256"]]["noisy_values"] == measurement["noisy_values"]


def test_a_measurement_whose_data_year_is_not_a_year_is_left_out_never_a_crash() -> None:
    """Review of round 27: ``data_year: null`` passed the shape model and crashed the statement's sort."""
    from release.audit.table_replay import measurements_of

    manifest = {"privacy": {"measurements": [{"table": "t", "data_year": 2021}, {"table": "t", "data_year": None},
                                             {"table": "t", "data_year": 2020}, {"table": "u", "data_year": 2019},
                                             "not a measurement"]}}
    assert [m["data_year"] for m in measurements_of(manifest, "t")] == [2020, 2021]
