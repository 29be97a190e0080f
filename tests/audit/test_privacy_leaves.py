"""Issue #12, attack round 33, through the CLI: the published privacy section's numbers are the build's, exactly.

An outside attacker holding the release key planted a raw-only date of birth in ``rho_cap``,
``rho_charged_by_this_build`` and a measurement's ``rounding`` of the portal's manifest, and moved the last
digits of every rho and delta (held to a relative tolerance of 1e-9), a spend's epsilon and data year;
approve, publish, the full audit and verify passed. A spend listed three times told the portal that three
times the charge was spent. Each edit below, on a copy of an honest paid bundle, re-hashed and bound again on
the ledger, is refused by approve (7, rule trusted-policy), naming the leaf and the rule, never the value.
The first is also refused by publish (7), the audit (8) and verify (8) of a copy laid out by hand.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from bundlekit import (
    YEAR,
    World,
    _audit_problems,
    _honest,
    _org,
    _raw_2021,
    _rebind,
    _rewrite,
    _sign_outside_approve,
    _verify_problems,
)
from conftest import invoke

DOB = 19750412  # the fictitious date of birth each edit plants: no refusal repeats it


def _unit(manifest: dict) -> str:
    return next(iter(manifest["privacy"]["rho_cap"]))


def _cap(manifest: dict) -> None:
    manifest["privacy"]["rho_cap"][_unit(manifest)] = float(f"0.{DOB}")


def _charged(manifest: dict) -> None:
    manifest["privacy"]["rho_charged_by_this_build"] = {_unit(manifest): -DOB / 2}


def _rounding(manifest: dict) -> None:
    manifest["privacy"]["measurements"][0]["rounding"] = f"optimal-{DOB}"


def _epsilon(manifest: dict) -> None:
    manifest["privacy"]["spends"][0]["epsilon"] = float(DOB)


def _data_year(manifest: dict) -> None:
    manifest["privacy"]["spends"][0]["data_year"] = DOB


def _last_digits(key: str) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        item = manifest["privacy"]["spends"][0] if key == "rho" else manifest["privacy"]
        item[key] = item[key] * (1 + 4.12e-10)  # inside the old tolerance of 1e-9
    return change


def _thrice(manifest: dict) -> None:
    privacy = manifest["privacy"]
    privacy["spends"] *= 3
    privacy["rho_spent"] = {u: r * 3 for u, r in privacy["rho_spent"].items()}


def _thrice_kept(bundle: Path) -> None:
    """The private part's charges and flags of the spends tripled to match (as round 33 did): each a
    charge the ledger holds."""
    from release.bundle.manifest_parts import PRIVATE_FILE, private_text

    private = json.loads((bundle / PRIVATE_FILE).read_text(encoding="utf-8"))
    private["privacy"]["item_fields"]["spends"] *= 3
    (bundle / PRIVATE_FILE).write_text(private_text(private), encoding="utf-8")


def _reused(manifest: dict) -> None:
    for key in ("spends", "measurements"):
        manifest["privacy"][key][0]["reused"] = bool(DOB % 2)


def _table_width(manifest: dict) -> None:
    manifest["privacy"]["tables"][0]["median_interval_width"] = float(DOB)


def _refused_everywhere(world: World, out: Path, said: str, rule: str, *, everywhere: bool,
                        hidden: tuple[str, ...]) -> None:
    """approve refuses the edited copy (7, ``rule``) saying ``said`` and none of ``hidden``; ``everywhere``:
    so do publish (7), the audit and verify (8) of a copy signed outside approve."""
    bundle = out / "fioe" / YEAR
    org = _org(out, world)
    code, stdout, stderr = invoke("approve", *org[:2], "--key", str(world.counsel), *org[2:], "--json")
    details = " ".join((stdout + stderr).split())
    assert code == 7 and "Traceback" not in details and rule in details and said in details, details
    assert not any(h in details for h in hidden), details
    if not everywhere:
        return
    _sign_outside_approve(world, bundle)
    world.refused(7, "rule trusted-policy", "publish", *org[:2], "--to", str(world.site), *org[2:])
    assert not (world.site / "fioe" / YEAR).exists()
    for problems in (_audit_problems(world, out, "trusted_policy"), _verify_problems(world, bundle)):
        assert any(said in p for p in problems) and not any(h in p for p in problems for h in hidden), problems
    shutil.rmtree(world.tmp / "portal", ignore_errors=True)


EDITS = {
    "cap": (_cap, "privacy.rho_cap: not the trusted caps"),
    # the build's history (drawn or re-used) stays with the bundle since round 33: put back, it is refused
    "charged": (_charged, "privacy.rho_charged_by_this_build: belongs to the bundle's private part"),
    "rounding": (_rounding, "a rounding status its post-processing does not give"),
    "epsilon": (_epsilon, "privacy.spends[1].epsilon: not the measurement's, or the trusted table's"),
    "data-year": (_data_year, "privacy.spends[1].data_year: not the measurement's, or the trusted table's"),
    "rho-digits": (_last_digits("rho"), "privacy.spends[1].rho: not the measurement's, or the trusted table's"),
    "delta-digits": (_last_digits("delta"), "privacy.delta: not the trusted privacy.yaml's delta"),
    # the spend policy's check (approve's ledger step) sees the tripled rho before the leaves are read
    "thrice": (_thrice, "states another rho for this release than the trusted tables policy gives"),
    "reused": (_reused, "privacy.spends[].reused: belongs to the bundle's private part"),
    # round 34 (N2): a table's counts that nothing compared stay with the bundle too
    "table-width": (_table_width, "privacy.tables[].median_interval_width: belongs to the bundle's private part"),
}


@pytest.mark.slow
def test_every_number_of_the_published_privacy_section_is_the_builds(world: World) -> None:  # noqa: F811
    honest = _honest(world)
    org = _org(honest, world)
    world.ok("approve", *org[:2], "--key", str(world.counsel), *org[2:])  # the honest bundle holds
    (honest / "fioe" / YEAR / "approvals.jsonl").unlink()
    (honest / "fioe" / YEAR / "approvals_bundle.jsonl").unlink()
    for number, (variant, (change, said)) in enumerate(EDITS.items()):
        out = world.tmp / f"rel-{variant}"
        shutil.copytree(honest, out)
        bundle = out / "fioe" / YEAR
        _rewrite(bundle, change)
        if change is _thrice:
            _thrice_kept(bundle)
        _rebind(world, bundle)
        _refused_everywhere(world, out, said, f"rule {'privacy-policy' if change is _thrice else 'trusted-policy'}",
                            everywhere=not number, hidden=(str(DOB), str(DOB // 2)))
    assert json.loads((honest / "fioe" / YEAR / "manifest.json").read_text(encoding="utf-8"))["privacy"]["spends"]


# ---- round 34: the record-level risk and each privacy.tables entry, whole and exact ----------------

def _entry(manifest: dict, mechanism: str) -> dict:
    return next(t for t in manifest["privacy"]["tables"] if t["mechanism"] == mechanism)


def _risk(key: str, value: object) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        manifest["record_risk"][0][key] = value
    return change


def _set(mechanism: str, key: str, value: object) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        _entry(manifest, mechanism)[key] = value
    return change


LETTERS = "".join("abcdefghij"[int(d)] for d in str(DOB))  # the date as letters: no scanner sees a date
RESTATED = {  # each edit with privacy.json and privacy.md written from the edited manifest, as the build would
    # N1: the counts, shares and verdict of a record-risk check were compared with nothing
    "risk-classes": (_risk("classes", DOB), "record_level_risk[1] (persons): states classes otherwise"),
    "risk-share": (_risk("unique_share", DOB / 1e8), "record_level_risk[1] (persons): states unique_share otherwise"),
    "risk-verdict": (_risk("verdict", "green"), "record_level_risk[1] (persons): states verdict otherwise"),
    # N2: keys a summary or a noisy table's entry never has carried any text or number
    "summary-bounds": (_set("summary", "bounds", f"enforced {LETTERS}"), "states bounds otherwise"),
    "summary-delta": (_set("summary", "delta", DOB * 1e-17), "states delta otherwise"),
    "noisy-summary-of": (_set("discrete_gaussian", "summary_of", f"persons{LETTERS}"), "states summary_of otherwise"),
    # N3: within the old tolerance (abs 1e-12, rel 1e-9)
    "summary-rho": (_set("summary", "rho", DOB * 1e-20), "states rho otherwise"),
    "noisy-delta": (lambda m: _set("discrete_gaussian", "delta", _entry(m, "discrete_gaussian")["delta"]
                                   * (1 + DOB * 1e-17))(m), "states delta otherwise"),
}


def _restate(bundle: Path) -> None:
    """privacy.json and privacy.md made from the edited manifest (as an analyst with the code would), re-hashed."""
    from conftest import ROOT

    from release.config.privacy import load_privacy_policy
    from release.privacy import statement as privacy_statement

    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    units = {u: s.model_dump(mode="json") for u, s in load_privacy_policy(ROOT / "redaction_rules").units.items()}
    for name, text in privacy_statement.files("fioe", int(YEAR), manifest["privacy"], manifest["record_risk"],
                                              units).items():
        (bundle / "public" / name).write_text(text, encoding="utf-8")
    _rewrite(bundle, lambda m: None, "public/privacy.json", "public/privacy.md")


def _dropped(name: str) -> Callable[[Path], None]:
    """Round 35 (F1): table ``name`` left out whole (its file, data package resource, statement entry and output)."""
    def edit(bundle: Path) -> None:
        from release.bundle.layout import json_text
        from release.bundle.manifest_parts import PRIVATE_FILE, private_text

        (bundle / "public" / "tables" / f"{name}.csv").unlink()
        package = bundle / "public" / "datapackage.json"
        descriptor = json.loads(package.read_text(encoding="utf-8"))
        descriptor["resources"] = [r for r in descriptor["resources"] if r["path"] != f"tables/{name}.csv"]
        package.write_text(json_text(descriptor, sort=True), encoding="utf-8")
        public = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
        place = [t["table"] for t in public["privacy"]["tables"]].index(name)
        private = json.loads((bundle / PRIVATE_FILE).read_text(encoding="utf-8"))
        del private["privacy"]["item_fields"]["tables"][place]
        (bundle / PRIVATE_FILE).write_text(private_text(private), encoding="utf-8")

        def change(manifest: dict) -> None:
            del manifest["privacy"]["tables"][place]
            manifest["outputs"] = [o for o in manifest["outputs"] if o["path"] != f"public/tables/{name}.csv"]
        _rewrite(bundle, change, "public/datapackage.json")
    return edit


def _package_minimum(bundle: Path) -> None:
    """Round 35 (F2): a resource's ``minimum: 1`` written as 1.0 (compared with ==, 1 == 1.0 == True)."""
    from release.bundle.layout import json_text

    package = bundle / "public" / "datapackage.json"
    descriptor = json.loads(package.read_text(encoding="utf-8"))
    constraint = next(f["constraints"] for r in descriptor["resources"] for f in r["schema"]["fields"]
                      if isinstance(f.get("constraints"), dict) and f["constraints"].get("minimum") == 1)
    constraint["minimum"] = 1.0
    package.write_text(json_text(descriptor, sort=True), encoding="utf-8")
    _rewrite(bundle, lambda m: None, "public/datapackage.json")


def _in_manifest(change: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda bundle: _rewrite(bundle, change)


@pytest.mark.slow
def test_the_record_risk_and_every_table_entry_are_the_builds_exactly(world: World) -> None:  # noqa: F811
    """Round 34 (N1-N3): a raw-only DOB in a record-risk count, a summary's added ``bounds``, a noisy table's
    added ``summary_of``, a summary's rho of 1e-13: each passed approve --raw, publish --raw, the full audit
    and verify. Now the risk is measured on the published files and each entry is regenerated whole:
    approve 7 (rule trusted-policy) naming the key, never the value; the first also publish 7, audit and
    verify 8. The honest bundle's statement is the one recomputed from its published files.
    Round 35: which tables go out and in what order (F1: a summary left out, the others reordered, about 7.7
    bits), and a number's type in datapackage.json (F2) carried the day and month of a DOB: refused too; a
    noisy table left out is the build's choice only when linking withholds it, which ``audit --raw`` replays."""
    from release.bundle.read import read_public_csv
    from release.config.policy import load_policy
    from release.config.privacy import load_privacy_policy
    from release.privacy import record_risk

    honest = _honest(world)
    bundle = honest / "fioe" / YEAR
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    rules = world.rules
    policy = load_policy(rules / "fioe.yaml")
    files = {"persons": read_public_csv(bundle / "public" / policy.files["persons"].public_file.format(year=YEAR)),
             "contacts": read_public_csv(bundle / "public" / policy.files["contacts"].public_file.format(year=YEAR))}
    again = record_risk.published(files, load_privacy_policy(rules).record_risk["fioe"], policy)
    assert manifest["record_risk"] == again and len(again) == 2 and again[0]["rows"] > 0
    assert "generalized_cells" not in again[0]
    tables = manifest["privacy"]["tables"]
    summaries = [t["table"] for t in tables if t["mechanism"] == "summary"]
    noisy = next(t["table"] for t in tables if t["mechanism"] == "discrete_gaussian")
    variants = {name: (_in_manifest(change), said) for name, (change, said) in RESTATED.items()}
    variants |= {
        "drop-summary": (_dropped(summaries[0]), f"leaves out the summary table {summaries[0]}"),
        "reorder": (_in_manifest(lambda m: m["privacy"]["tables"].reverse()), "privacy.tables: not in the order"),
        "package-minimum": (_package_minimum, "datapackage.json, resources["),
    }
    for number, (variant, (edit, said)) in enumerate(variants.items()):
        out = world.tmp / f"rel34-{variant}"
        shutil.copytree(honest, out)
        edited = out / "fioe" / YEAR
        edit(edited)
        _restate(edited)
        _rebind(world, edited)
        _refused_everywhere(world, out, said, "rule trusted-policy", everywhere=not number, hidden=(str(DOB), LETTERS))

    # the noisy table left out: nothing without the raw export tells it from a table linking withholds;
    # the replay does (the build publishes it from this export)
    out = world.tmp / "rel35-drop-noisy"
    shutil.copytree(honest, out)
    _dropped(noisy)(out / "fioe" / YEAR)
    _restate(out / "fioe" / YEAR)
    _rebind(world, out / "fioe" / YEAR)
    code, stdout, stderr = invoke("audit", *_org(out, world), "--raw", str(_raw_2021(world)), "--no-scan",
                                  "--allow-unverified", "--json")
    found = {c["name"]: c for c in json.loads(stdout)["checks"]}
    assert code == 8 and found["record_cells_replayed"]["status"] == "fail", stdout + stderr
    assert any(f"public table {noisy}: the build publishes it from this export and the bundle leaves it out" in p
               for p in found["record_cells_replayed"]["problems"]), found["record_cells_replayed"]
    honest_audit = invoke("audit", *_org(honest, world), "--raw", str(_raw_2021(world)), "--no-scan",
                          "--allow-unverified", "--json")[1]
    replayed = {c["name"]: c for c in json.loads(honest_audit)["checks"]}["record_cells_replayed"]
    assert replayed["status"] == "pass", replayed
