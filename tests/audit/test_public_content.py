"""Issue #12, attack round 24: the public folder held to the trusted policy as whole files, through the CLI.

The analyst holds the release key: an honest, paid 2021 bundle is copied, one public file edited
(a column of fictitious "exact counts" added to a table, a label changed or swapped, a summary's
values changed, text added to the statement, a new file), the file's hash redone in the manifest
and the manifest bound again on the organisation's ledger (``Ledger.bind_bundle``, round 24's
``rebind.py``). approve refuses it (7); with an approval signed outside approve, publish refuses
it (7) and nothing reaches the portal; the audit (8) and ``verify`` of a copy laid out by hand (8)
fail it. Each refusal names the file, the column or row count and the rule, never the value
written. Before the fix every one of them passed. Fictitious values only (``SECRET``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from bundlekit import (
    PROTECTED,
    YEAR,
    World,
    _audit_problems,
    _copy_by_hand,
    _honest,
    _org,
    _rebind,
    _rewrite,
    _rows,
    _sign_outside_approve,
    _verify_problems,
    _write,
)
from conftest import ROOT, invoke

SECRET = "4242"  # the fictitious "exact count" an edit publishes: it must appear in no refusal
TABLE = f"tables/{PROTECTED}.csv"
SUMMARY = "tables/fioe_frisks_by_race_sex.csv"
PERSONS = f"fioe_{YEAR}_persons.csv"


def _column(file: str, name: str, first: bool = False) -> Callable[[Path], str]:
    """A column ``name`` holding SECRET in every row, appended (or put first)."""
    def edit(public: Path) -> str:
        rows = _rows(public / file)
        _write(public / file, [([name if i == 0 else SECRET] + row) if first else row + [name if i == 0 else SECRET]
                               for i, row in enumerate(rows)])
        return file
    return edit


def _labels(change: Callable[[list[list[str]]], None]) -> Callable[[Path], str]:
    def edit(public: Path) -> str:
        rows = _rows(public / TABLE)
        change(rows)
        _write(public / TABLE, rows)
        return TABLE
    return edit


def _label_exact(rows: list[list[str]]) -> None:
    rows[1][1] += f" ({SECRET})"


def _label_swap(rows: list[list[str]]) -> None:
    assert rows[1][1] != rows[2][1]
    rows[1][1], rows[2][1] = rows[2][1], rows[1][1]


def _summary_plus_one(public: Path) -> str:
    rows = _rows(public / SUMMARY)
    at = rows[0].index("value")
    rows[1][at] = str(int(rows[1][at]) + 1)
    _write(public / SUMMARY, rows)
    return SUMMARY


def _text(name: str) -> Callable[[Path], str]:
    """SECRET written into the statement: a paragraph of privacy.md, a key of privacy.json or datapackage.json."""
    def edit(public: Path) -> str:
        path = public / name
        if name.endswith(".md"):
            path.write_text(path.read_text(encoding="utf-8") + f"\nBoston: {SECRET}\n", encoding="utf-8")
        else:
            document = json.loads(path.read_text(encoding="utf-8"))
            target = document["tables"][0] if name == "privacy.json" else document
            target["notes"] = f"Boston: {SECRET}"
            path.write_text(json.dumps(document, indent=2), encoding="utf-8")
        return name
    return edit


def _meaning_told(manifest: dict) -> None:
    for entry in manifest["privacy"]["tables"]:
        if entry["table"] == PROTECTED:
            entry["meaning"] += f" Boston: {SECRET}."


def _statement_from_edited_manifest(public: Path) -> str:
    """P-text moved into the manifest: the noisy table's ``meaning`` told the exact count there, and
    privacy.json and privacy.md written from it as the build would (so they match the manifest)."""
    from release.config.privacy import load_privacy_policy  # the trusted copy's units are the shipped ones
    from release.privacy import statement as privacy_statement

    manifest = json.loads((public.parent / "manifest.json").read_text(encoding="utf-8"))
    _meaning_told(manifest)
    units = {u: s.model_dump(mode="json") for u, s in load_privacy_policy(ROOT / "redaction_rules").units.items()}
    written = privacy_statement.files("fioe", int(YEAR), manifest["privacy"], manifest["record_risk"], units)
    for name, text in written.items():
        (public / name).write_text(text, encoding="utf-8")
    return "privacy.json privacy.md"


def _new_file(name: str) -> Callable[[Path], str]:
    def edit(public: Path) -> str:
        (public / name).parent.mkdir(parents=True, exist_ok=True)
        (public / name).write_text(f"neighbourhood,count\nBoston,{SECRET}\n", encoding="utf-8")
        return name
    return edit


def _listed(name: str) -> Callable[[dict], None]:
    def change(manifest: dict) -> None:
        manifest["outputs"].append({"path": f"public/{name}"})
    return change


def _refused(world: World, honest: Path, variant: str, edit: Callable[[Path], str] | None, said: str,
             manifest_edit: Callable[[dict], None] | None = None, after: Callable[[Path], None] | None = None) -> None:
    """A copy of the honest bundle edited (a public file, or ``manifest_edit`` the manifest), re-hashed and
    bound again: approve and publish 7, the audit and verify 8, each naming ``said`` (file and rule), none
    repeating the value the edit wrote."""
    out = world.tmp / f"rel-{variant}"
    shutil.copytree(honest, out)
    bundle = out / "fioe" / YEAR
    name = edit(bundle / "public") if edit is not None else ""
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    listed = {i["path"] for i in manifest["outputs"]}
    if manifest_edit is not None:
        _rewrite(bundle, manifest_edit)
    elif name == "privacy.json privacy.md":  # the statement regenerated from an edited manifest
        _rewrite(bundle, _meaning_told, *(f"public/{n}" for n in name.split()))
    else:
        _rewrite(bundle, (lambda m: None) if f"public/{name}" in listed else _listed(name), f"public/{name}")
    if after is not None:
        after(bundle)
    _rebind(world, bundle)
    org = _org(out, world)
    code, stdout, stderr = invoke("approve", *org[:2], "--key", str(world.counsel), *org[2:], "--json")
    details = " ".join((stdout + stderr).split())
    assert code == 7 and "rule trusted-policy" in details and "Traceback" not in details, (variant, details)
    assert said in details and SECRET not in details, (variant, details)
    _sign_outside_approve(world, bundle)
    world.refused(7, "rule trusted-policy", "publish", *org[:2], "--to", str(world.site), *org[2:])
    assert not (world.site / "fioe" / YEAR).exists()
    assert invoke("verify", str(world.site / "fioe" / YEAR), "--rules", str(world.rules))[0] == 4  # nothing went out
    for problems in (_audit_problems(world, out, "trusted_policy"), _verify_problems(world, bundle)):
        assert any(said in p for p in problems), (variant, problems)
        assert not any(SECRET in p for p in problems), (variant, problems)
    shutil.rmtree(world.tmp / "portal", ignore_errors=True)


TABLE_EDITS = {  # round 24, T-*: the protected noisy table's other columns and its labels
    "T-extra-col": (_column(TABLE, "count"),
                    f"{TABLE}, column count: not on the policy's allow-list (rule table-labels)"),
    "T-dup-value": (_column(TABLE, "value"), f"{TABLE}, column value: appears more than once (rule table-labels)"),
    "T-unnamed-col": (_column(TABLE, "", first=True), f"{TABLE}, column #1: has no name (rule table-labels)"),
    "T-dup-label-col": (_column(TABLE, "neighbourhood"),
                        f"{TABLE}, column neighbourhood: appears more than once (rule table-labels)"),
    "T-label-exact": (_labels(_label_exact), f"{TABLE}: 1 of "),
    "T-label-swap": (_labels(_label_swap), f"{TABLE}: 2 of "),
}
OTHER_EDITS = {  # round 24: Sum-*, C-extra-col, C-dup-col, P-text, X-readme, X-csv
    "Sum-col": (_column(SUMMARY, "note"), f"{SUMMARY}, column note: not on the policy's allow-list"),
    "Sum-value": (_summary_plus_one, f"{SUMMARY}: 1 cell(s) are not the recount of the public record-level files"),
    "C-extra-col": (_column(PERSONS, "build_"), f"{PERSONS}, column build_: not on the policy's allow-list "
                                                "(rule allow-list)"),
    "C-dup-col": (_column(PERSONS, "skin_tone"), f"{PERSONS}, column skin_tone: appears more than once"),
    "P-text-md": (_text("privacy.md"), "public file privacy.md: not the statement the build writes"),
    "P-text-json": (_text("privacy.json"), "public file privacy.json: not the statement the build writes"),
    "P-text-package": (_text("datapackage.json"), "datapackage.json: 1 key(s) the build does not write"),
    "P-text-manifest": (_statement_from_edited_manifest,
                        f"({PROTECTED}): states meaning otherwise than"),
    "X-readme": (_new_file("README.txt"), "public file README.txt: not a file the build writes"),
    "X-csv": (_new_file("notes/counts.csv"), "public file notes/counts.csv: not a file the build writes"),
    "X-dot-csv": (_new_file(".counts.csv"), "public file .counts.csv: not a file the build writes"),
}


def test_y_label_swap_a_per_year_tables_months_exchanged_between_years_are_refused(tmp_path: Path) -> None:
    """Y-label-swap: youthconnect's per-year table with the months of two data years exchanged, values
    in place (the counts of one year published under the other's months). Its labels are no longer
    the trusted codebooks' in the build's order (rule table-labels); the build's own labels pass."""
    from conftest import ROOT

    from release.audit.public_content import _table_problems, table_labels
    from release.audit.trusted_release import Trusted
    from release.config.policy import load_policy
    from release.config.privacy import load_privacy_policy
    from release.config.tables import load_tables_policy

    rules = ROOT / "redaction_rules"
    tables = load_tables_policy(rules / "youthconnect_tables.yaml")
    spec = next(s for s in tables.tables if s.per_year and s.per_year.years == 3)
    trusted = Trusted("youthconnect", 2021, rules, load_policy(rules / "youthconnect.yaml"),
                      tables.model_copy(update={"tables": [spec]}), load_privacy_policy(rules))
    labels = table_labels(spec, 2021)
    header = [d.name for d in spec.dimensions] + ["value", "lower", "upper", "status"]
    path = tmp_path / "tables" / f"{spec.name}.csv"
    path.parent.mkdir()

    def published(rows: list[list[str]]) -> list[str]:
        _write(path, [header] + [row + ["3", "0", "9", "noisy"] for row in rows])
        return _table_problems(trusted, tmp_path)

    assert published(labels) == []
    swapped = [[c.replace("2019-", "X-").replace("2021-", "2019-").replace("X-", "2021-") for c in row]
               for row in labels]
    assert sorted(map(tuple, swapped)) == sorted(map(tuple, labels)) and swapped != labels
    problems = published(swapped)
    assert len(problems) == 1 and "rule table-labels" in problems[0] and f"tables/{spec.name}.csv" in problems[0]


def _note_added(manifest: dict) -> None:  # M-notes: the exact counts as one more dataset note
    manifest["dataset_notes"].append(f"Boston by contacts {SECRET} 0 0 0 {SECRET}")


def _top_key(manifest: dict) -> None:  # M-notes: a new top-level key
    manifest["remarks"] = f"Boston by contacts {SECRET}"


def _nested_key(manifest: dict) -> None:  # M-notes: a key nested in a section the build writes
    manifest["generation"]["remarks"] = f"Boston by contacts {SECRET}"


def _note_slot(manifest: dict) -> None:  # a declared note, its number slot given words
    import re
    manifest["dataset_notes"][1] = re.sub(r"at most [0-9]+ reports", f"at most Boston {SECRET} reports",
                                          manifest["dataset_notes"][1])


def _publication_count(manifest: dict) -> None:  # a publication note's count made another number
    manifest["publication_notes"][-1] = manifest["publication_notes"][-1].replace("(0 cell(s)", f"({SECRET} cell(s)")


def _component(manifest: dict) -> None:  # a version string given words, in the public part (round 30: private)
    manifest["components"] = {"pandas": f"Boston {SECRET}"}


def _review_file(public: Path) -> str:  # a review file (not published) whose name says something
    (public.parent / "review" / f"Boston-{SECRET}.json").write_text("{}", encoding="utf-8")
    return ""


def _output_path(manifest: dict) -> None:  # ... listed in the manifest, which the portal copies
    import hashlib
    manifest["outputs"].append({"path": f"review/Boston-{SECRET}.json", "sha256": hashlib.sha256(b"{}").hexdigest(),
                                "bytes": 2})


def _path_in_public(manifest: dict) -> None:  # round 26, M-path: a build-machine path carrying the counts
    manifest["rules"]["folder"] = f"/srv/release-rules/Boston-{SECRET}-0-0-0-{SECRET}"


def _numbers_in_public(manifest: dict) -> None:  # round 26, M-numbers: the checks' free numbers in manifest.json
    manifest["checks"] = {"validate_raw": {"expectations": int(SECRET), "passed": 0}}


def _note_repeated(manifest: dict) -> None:  # round 26, M-notes-repeat: the count as the number of lines
    manifest["dataset_notes"] += [manifest["dataset_notes"][0]] * 3


def _note_numbers(manifest: dict) -> None:  # round 26, M-slot: a declared line again, only its numbers changed
    import re
    manifest["dataset_notes"].append(re.sub(r"at most [0-9]+ reports", f"at most {SECRET} reports",
                                            manifest["dataset_notes"][1]))


def _in_public(key: str, value: object) -> Callable[[dict], None]:  # round 30: a private key in manifest.json
    def edit(manifest: dict) -> None:
        manifest[key] = value
    return edit


def _rules_file_hash(manifest: dict) -> None:  # round 30, C1: a rules file's hash carrying the counts
    entry = manifest["rules"]["files"][0]  # the policy's (the others' are in the private part)
    entry["sha256"] = SECRET + entry["sha256"][len(SECRET):]


def _rules_file_added(manifest: dict) -> None:  # ... a rules file listed that the folder does not hold
    manifest["rules"]["files"].append({"path": f"zz/Boston-{SECRET}.yaml", "sha256": "0" * 64})


def _rules_differs_added(manifest: dict) -> None:  # ... and a difference from the installed copy
    manifest["rules"]["differs_from_installed"] = [f"zz-{SECRET}.yaml"]


def _tier_told(manifest: dict) -> None:  # round 30: the witness's tier, a bit (and a copy's receipt check skipped)
    manifest["privacy"]["witness_tier"] = "service" if manifest["privacy"]["witness_tier"] == "folder" else "folder"


def _rows_told(manifest: dict) -> None:  # round 30: a public file's row count, which nothing compared
    manifest["outputs"][0]["rows"] = int(SECRET)


MANIFEST_EDITS = {  # round 25, M-notes: the manifest's own keys and free text (the portal copies manifest.json)
    "M-notes-item": (_note_added, "manifest.json dataset_notes[3]: not a note the fioe build writes (only numbers in "
                                  "its slots), rule dataset-notes"),
    "M-notes-topkey": (_top_key, "manifest.json remarks: a key the build does not write (rule manifest-keys)"),
    "M-notes-nested": (_nested_key, "manifest.json generation.remarks: a key the build does not write "
                                    "(rule manifest-keys)"),
    "M-notes-slot": (_note_slot, "manifest.json dataset_notes[2]: not a note the fioe build writes"),
    "M-publication-count": (_publication_count, "manifest.json publication_notes: not the notes the build writes "
                                                "from the trusted policy with the counts of the public files "
                                                "(rule publication-notes)"),
    "M-component": (_component, "manifest.json components: belongs to the bundle's private part"),
    "M-output-path": (_output_path, "manifest.json outputs[].path: not of the form the build writes "
                                    "(rule manifest-text)"),
    "M-path": (_path_in_public, "manifest.json rules.folder: belongs to the bundle's private part"),
    "M-numbers": (_numbers_in_public, "manifest.json checks: belongs to the bundle's private part"),
    "M-notes-repeat": (_note_repeated, "manifest.json dataset_notes[3]: not a note the fioe build writes"),
    "M-slot": (_note_numbers, "manifest.json dataset_notes[3]: not a note the fioe build writes"),
    # round 30, C1 and R1: strings held to their form only. What no reader can regenerate is private now ...
    "R30-run-id": (_in_public("run_id", SECRET.rjust(32, "0")), "manifest.json run_id: belongs to the bundle's private"),
    "R30-created": (_in_public("created_at", f"2022-01-{SECRET[:2]}T10:00:00+00:00"),
                    "manifest.json created_at: belongs to the bundle's private part"),
    "R30-engine": (_in_public("pii_engine", {"model_fingerprint": SECRET.rjust(64, "0")}),
                   "manifest.json pii_engine: belongs to the bundle's private part"),
    # ... and what stays public is regenerated: the rules folder's files, hashes and differences, each file's rows
    "R30-rules-hash": (_rules_file_hash, "manifest.json rules.files: not what the trusted rules folder gives"),
    "R30-rules-added": (_rules_file_added, "manifest.json rules.files: not what the trusted rules folder gives"),
    "R30-differs": (_rules_differs_added, "manifest.json rules.differs_from_installed: belongs to the bundle's "
                                          "private part"),
    "R30-rows": (_rows_told, "manifest.json outputs[1].rows: not the count of the file's records"),
    "R30-witness-tier": (_tier_told, "manifest.json privacy.witness_tier: not the tier of the witness that holds"),
}


def test_d_desc_free_text_in_a_derived_files_resource_is_refused_everywhere(world: World) -> None:
    """Attack round 25, D-desc: the firearms bundle's derived file (daily counts) given a free-text
    ``description`` in its data package resource, the hash redone (firearms spends nothing: no ledger
    binding to redo). Before, approve, publish, the audit and verify passed: a derived resource was held
    to its keys only. Now its resource is regenerated from the dataset's module, values too."""
    from release.synth.firearms import generate_firearms, write_firearms

    raw, out = world.tmp / "raw-firearms", world.tmp / "rel-firearms"
    write_firearms(generate_firearms(2021, seed=7, first_year=2020, crime_guns_per_year=40), raw)
    org = ["firearms", YEAR, "--out", str(out), "--rules", str(world.rules)]
    world.ok("firearms", YEAR, "--input", str(raw), "--out", str(out), "--rules", str(world.rules), "--json")
    bundle = out / "firearms" / YEAR
    package_path = bundle / "public" / "datapackage.json"
    package = json.loads(package_path.read_text(encoding="utf-8"))
    resource = next(r for r in package["resources"] if r["path"].endswith("_daily_counts.csv"))
    resource["description"] = f"ANALYST TEXT: Boston {SECRET}"
    package_path.write_text(json.dumps(package, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    _rewrite(bundle, lambda manifest: None, "public/datapackage.json")
    said = "datapackage.json, resources[1]: not the resource the build writes for a public file of this release"
    refusal = world.refused(7, "rule trusted-policy", "approve", *org[:2], "--key", str(world.counsel), *org[2:])
    assert said in refusal or "rule statement-text" in refusal, refusal
    assert SECRET not in refusal
    from conftest import sign_outside_approve
    sign_outside_approve(bundle, world.counsel, "firearms", int(YEAR))
    world.refused(7, "rule trusted-policy", "publish", *org[:2], "--to", str(world.site), *org[2:])
    assert not (world.site / "firearms" / YEAR).exists()
    code, stdout, stderr = invoke("verify", str(world.site / "firearms" / YEAR), "--rules", str(world.rules))
    assert code == 4, stdout + stderr  # nothing reached the portal
    code, stdout, stderr = invoke("audit", *org, "--no-scan", "--allow-unverified", "--json")
    assert code == 8, stdout + stderr
    problems = {c["name"]: c for c in json.loads(stdout)["checks"]}["trusted_policy"]["problems"]
    assert any(said in p and "rule statement-text" in p for p in problems), problems
    assert not any(SECRET in p for p in problems), problems
    copy = _copy_by_hand(bundle, world.tmp / "portal" / "firearms" / YEAR)
    code, stdout, stderr = invoke("verify", str(copy), "--rules", str(world.rules), "--json")
    assert code == 8, stdout + stderr
    problems = {c["name"]: c for c in json.loads(stdout)["checks"]}["trusted_policy"]["problems"]
    assert any(said in p for p in problems) and not any(SECRET in p for p in problems), problems


def _quoted(file: str) -> Callable[[Path], str]:
    """R2: the same cells, every other row's fields quoted (a bit a row)."""
    def edit(public: Path) -> str:
        lines = (public / file).read_text(encoding="utf-8").split("\n")
        for n in range(2, len(lines) - 1, 2):
            if '"' not in lines[n]:
                lines[n] = ",".join(f'"{field}"' for field in lines[n].split(","))
        (public / file).write_text("\n".join(lines), encoding="utf-8")
        return file
    return edit


def _spaced_package(public: Path) -> str:
    """R2: a space at the end of chosen lines of datapackage.json (the same JSON)."""
    path = public / "datapackage.json"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(line + " " if n % 3 == 0 and line else line for n, line in enumerate(lines)),
                    encoding="utf-8")
    return "datapackage.json"


def _spaced_manifest(bundle: Path) -> None:
    """R2: the manifest's JSON with spaces after chosen commas (the portal copies the file as it is)."""
    path = bundle / "manifest.json"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(line + "  " if line.endswith(",") and n % 2 else line for n, line in enumerate(lines)),
                    encoding="utf-8")


def _reversed(value: object) -> object:
    """Every object's keys in reverse order (the same JSON value)."""
    if isinstance(value, dict):
        return {key: _reversed(value[key]) for key in reversed(list(value))}
    return [_reversed(v) for v in value] if isinstance(value, list) else value


def _manifest_written(bundle: Path, change: Callable[[dict], object]) -> None:
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    changed = change(manifest)
    path.write_text(json.dumps(manifest if changed is None else changed, indent=2) + "\n", encoding="utf-8")


def _package_written(change: Callable[[dict], object], sort: bool) -> Callable[[Path], str]:
    def edit(public: Path) -> str:
        package = json.loads((public / "datapackage.json").read_text(encoding="utf-8"))
        changed = change(package)
        (public / "datapackage.json").write_text(json.dumps(package if changed is None else changed, indent=2,
                                                            ensure_ascii=False, sort_keys=sort) + "\n", encoding="utf-8")
        return "datapackage.json"
    return edit


def _rows_as_decimal(manifest: dict) -> None:
    manifest["outputs"][0]["rows"] = float(manifest["outputs"][0]["rows"])


def _outputs_swapped(manifest: dict) -> None:
    manifest["outputs"][0], manifest["outputs"][1] = manifest["outputs"][1], manifest["outputs"][0]


FORM_EDITS = {  # round 28, R2: layout as a channel
    "R2-table-quoting": (_quoted(TABLE), None, f"public file {TABLE}, line "),
    "R2-records-quoting": (_quoted(PERSONS), None, f"public file {PERSONS}, line "),
    "R2-package-spaces": (_spaced_package, None, "public file datapackage.json: not in the form the build writes (the "
                                                 "same content in other bytes"),
    "R2-manifest-spaces": (None, _spaced_manifest, "manifest.json: not in the form the build writes (the same content "
                                                   "in other bytes"),
    # round 29: key order (the same JSON value), list order, an integer written as a decimal
    "R29-manifest-key-order": (None, lambda b: _manifest_written(b, lambda m: {k: m[k] for k in reversed(list(m))}),
                               "manifest.json: not in the form the build writes (the same content in other bytes"),
    "R29-package-key-order": (_package_written(_reversed, sort=False), None,
                              "public file datapackage.json: not in the form the build writes"),
    "R29-resources-order": (_package_written(lambda p: p["resources"].reverse(), sort=True), None,
                            "datapackage.json: its resources are not in the order the build writes them"),
    "R29-outputs-order": (None, lambda b: _manifest_written(b, lambda m: _outputs_swapped(m) or _sorted(m)),
                          "manifest.json outputs: not in the order the build lists them (rule manifest-text)"),
    "R29-integer-as-decimal": (None, lambda b: _manifest_written(b, lambda m: _rows_as_decimal(m) or _sorted(m)),
                               "manifest.json outputs.0.rows: not written with the type the build writes"),
    # round 30: the tables' order in the manifest (the statement regenerated in it is self-consistent)
    "R30-tables-order": (None, lambda b: _manifest_written(b, lambda m: m["privacy"]["tables"].reverse() or _sorted(m)),
                         "manifest.json privacy.tables: not in the order the build states them"),
}


def _sorted(value: object) -> object:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    return [_sorted(v) for v in value] if isinstance(value, list) else value


@pytest.mark.slow
def test_a_paid_bundle_edited_and_bound_again_is_refused_everywhere(world: World) -> None:
    """One honest build (charged once), then each edit on a copy of it, re-hashed and bound again with the
    release key (the rule each refusal names in the dicts); approve and publish 7, the audit and verify 8.
    The honest bundle itself holds (``test_an_honest_release_holds_to_the_trusted_policy``). One build
    serves every round (its cost was most of this module's time):

    - rounds 24 (``TABLE_EDITS``, ``OTHER_EDITS``): the protected table's columns and labels, a summary's
      recount, the record-level files' columns, the statement, new files;
    - round 25, M-notes (``MANIFEST_EDITS``): the exact counts put in the manifest (which the portal copies)
      as one more dataset note, a new top-level key, a key nested in a section, words in a note's number
      slot, a publication note's count; round 30, C1 and R1: strings held to their form only;
    - round 28, R2 (``FORM_EDITS``): the same content in other bytes (a table's or the persons file's rows
      quoted or not, trailing spaces in ``datapackage.json``, spaces inside ``manifest.json``, which the
      portal keeps), which carried a raw-only value in their layout: every file is held to the bytes the
      build's writer gives for its content (``release.bundle.file_form``, rule file-form);
    - round 29: the reviewer's signed approval repeated k times (the count of copies said a day of birth)
      passed publish, the audit and verify, each line on its own being a trusted approval; and a published
      copy's ``SHA256SUMS`` with files repeated or left out passed verify. Now a record given twice is
      refused (publish 7, rule file-form), and ``SHA256SUMS`` must list each file of the copy once, in
      publish's order (verify 8). This one runs last: it approves and publishes the honest bundle."""
    honest = _honest(world)
    for variant, (edit, said) in {**TABLE_EDITS, **OTHER_EDITS}.items():
        _refused(world, honest, variant, edit, said)
    manifest = json.loads((honest / "fioe" / YEAR / "manifest.json").read_text(encoding="utf-8"))
    assert len(manifest["dataset_notes"]) == 2 and " reports a year" in manifest["dataset_notes"][1]
    assert "(0 cell(s)" in manifest["publication_notes"][-1]
    for variant, (change, said) in MANIFEST_EDITS.items():
        _refused(world, honest, variant, _review_file if change is _output_path else None, said, manifest_edit=change)
    for variant, (edit, after, said) in FORM_EDITS.items():
        _refused(world, honest, variant, edit, said, manifest_edit=None if edit else (lambda m: None), after=after)

    bundle, org = honest / "fioe" / YEAR, _org(honest, world)
    world.ok("approve", *org[:2], "--key", str(world.counsel), *org[2:])
    approvals = bundle / "approvals.jsonl"
    line = approvals.read_text(encoding="utf-8")
    approvals.write_text(line * 4, encoding="utf-8")
    said = world.refused(7, "rule approvals-required", "publish", *org[:2], "--to", str(world.site), *org[2:])
    assert "approvals.jsonl: not one line per key in key-id order" in " ".join(said.split()), said  # round 32, D1
    assert not (world.site / "fioe" / YEAR).exists()
    approvals.write_text(line, encoding="utf-8")
    world.ok("publish", *org[:2], "--to", str(world.site), *org[2:])
    copy = world.site / "fioe" / YEAR
    assert invoke("verify", str(copy), "--rules", str(world.rules))[0] == 0
    sums = (copy / "SHA256SUMS").read_text(encoding="utf-8").splitlines(keepends=True)
    for variant, lines in (("repeated", sums[:1] + sums), ("left out", sums[1:])):
        (copy / "SHA256SUMS").write_text("".join(lines), encoding="utf-8")
        code, stdout, stderr = invoke("verify", str(copy), "--rules", str(world.rules), "--json")
        assert code == 8, (variant, stdout + stderr)
        problems = [p for c in json.loads(stdout)["checks"] for p in c["problems"]]
        assert any("public file SHA256SUMS: not one line for each file of the copy" in p for p in problems), problems


def test_measurements_and_spends_are_held_to_the_order_the_build_draws_them() -> None:
    """Round 31 (minor): a release's measurements and spends, reordered and bound again, carried log2(n!)
    bits. The build draws them table by table in the trusted tables policy's order, each table's data
    years in turn; any other order is refused (rule manifest-text)."""
    from types import SimpleNamespace

    from release.audit.public_content import _declared_order

    trusted = SimpleNamespace(tables=SimpleNamespace(tables=[SimpleNamespace(name=n, mechanism="discrete_gaussian", is_noisy=True)
                                                             for n in ("a", "b", "c")]))
    drawn = [{"table": "a", "data_year": 2019}, {"table": "a", "data_year": 2020}, {"table": "c", "data_year": 2020}]
    built = {"privacy": {"measurements": drawn, "spends": drawn}}
    assert _declared_order(trusted, built) == []  # type: ignore[arg-type]
    for moved in (drawn[::-1], [drawn[1], drawn[0], drawn[2]], [drawn[2], drawn[0], drawn[1]]):
        for key in ("measurements", "spends"):
            said = _declared_order(trusted, {"privacy": {**built["privacy"], key: moved}})  # type: ignore[arg-type]
            assert said == [f"manifest.json privacy.{key}: not in the order the build draws them (the trusted tables "
                            "policy's order, then data year), rule manifest-text"]
