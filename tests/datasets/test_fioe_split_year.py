"""2019, the year two record systems shared, and the identifiers the City publishes (issue #16).

Through the CLI: the RMS export (1 Jan - 29 Sep) and the Mark43 export (27 Sep on) of 2019 are
each released under their own policy into their own bundle, ``OUT/fioe/2019-rms`` and
``OUT/fioe/2019-mark43``; neither build touches the other's, no table counts the other's rows,
and every command addresses a part with ``--generation`` (an input error naming both when both
are built and none is named). Both are approved and pass ``audit --raw``.

The persons files keep the City's ``recnum`` and ``person_id`` as keyed pseudonyms: present,
never the raw value in any public file (one planted in a clothing text included), the same
pseudonym for the same identifier within a release and another in another year, recomputed by
the audit under the key, and a tampered pseudonym fails the audit (exit 8).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ROOT, invoke, new_signer, trusted_rules, write_csv

from release.config.policy import load_policy
from release.errors import ConfigError

pytestmark = pytest.mark.slow  # its module build (both record systems of 2019) takes ~100 s

CITY_PERSONS = ["recnum", "person_id", "fc_num", "contact_date", "sex", "race", "age", "build", "hair_style",
                "skin_tone", "ethnicity", "otherclothing", "deceased", "license_state", "license_type", "was_frisked"]
FORM = {"recnum": re.compile(r"REC-[0-9A-F]{16}"), "person_id": re.compile(r"PER-[0-9A-F]{16}")}
PARTS = ("rms", "mark43")


@dataclass(frozen=True)
class World:
    tmp: Path
    out: Path
    rules: Path
    raw: dict[str, Path]            # "rms", "mark43" (2019), "rms2018", "mark43-2020"
    results: dict[str, dict]        # build results, same keys
    audits: dict[str, dict]         # audit --raw reports (with the process exit), same keys
    rms_manifest: tuple[str, str]   # the 2019 RMS manifest's text before and after the Mark43 build
    shared: dict[str, str]          # the identifier planted twice: "recnum" (RMS), "person_id" (Mark43)

    def bundle(self, key: str) -> Path:
        return self.out / "fioe" / {"rms": "2019-rms", "mark43": "2019-mark43", "rms2018": "2018",
                                    "mark43-2020": "2020"}[key]

    def persons(self, key: str) -> list[dict[str, str]]:
        bundle = self.bundle(key)
        return _rows(next((bundle / "public").glob("fioe_*_persons.csv")))

    def raw_persons(self, key: str) -> list[dict[str, str]]:
        return _rows(self.raw[key] / "fieldcontact_name.csv")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _plant(raw: Path, column: str, value: str | None = None, clothing: bool = False,
           same_report: bool = False) -> str:
    """Give the first person's ``column`` value (or ``value``) to a person of another report too
    (``same_report``: to another person of the first person's report); with ``clothing``, also
    write a third person's own identifier into their clothing text. Returns the shared identifier."""
    path = raw / "fieldcontact_name.csv"
    rows = _rows(path)
    shared = value or rows[0][column]
    other = next(r for r in rows[1:] if (r["fc_num"] == rows[0]["fc_num"]) is same_report)
    other[column] = shared
    if value is not None:
        rows[0][column] = value
    if clothing:
        third = next(r for r in rows[2:] if r is not other and r[column] and r["otherclothing"])
        third["otherclothing"] = f"{third['otherclothing']}, WRISTBAND {third[column]}"
    write_csv(path, rows)
    return shared


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("split")
    with pytest.MonkeyPatch.context() as patch:  # a home, so a ledger, of this module's own
        patch.setenv("HOME", str(tmp / "home"))
        return _world(tmp)


def _world(tmp: Path) -> World:
    out, raw = tmp / "out", {}
    for key, year, generation in (("rms", "2019", "rms"), ("mark43", "2019", "mark43"), ("rms2018", "2018", "rms"),
                                  ("mark43-2020", "2020", "mark43")):
        raw[key] = tmp / f"raw-{key}"
        code, _, stderr = invoke("sample", "fioe", year, "--out", str(raw[key]), "--reports", "30", "--seed", "4",
                                 "--generation", generation)
        assert code == 0, stderr
    recnum = _plant(raw["rms"], "recnum", clothing=True)
    _plant(raw["rms2018"], "recnum", value=recnum)          # the same record number in another year
    # A person id twice in one report, as the City's 2022 file has them: in two reports, the public
    # pseudonym would link that person's reports and withhold the person-level table, with nothing
    # charged (tests/security/test_linkage_attacks.py, 1c-id-only), which is not what this world tests.
    shared = {"recnum": recnum, "person_id": _plant(raw["mark43"], "person_id", same_report=True)}
    results: dict[str, dict] = {}

    def build(key: str, year: str) -> None:
        code, stdout, stderr = invoke("fioe", year, "--input", str(raw[key]), "--out", str(out), "--json")
        assert code == 0, stderr
        results[key] = json.loads(stdout)

    build("rms", "2019")
    before = (out / "fioe" / "2019-rms" / "manifest.json").read_text(encoding="utf-8")
    build("mark43", "2019")
    after = (out / "fioe" / "2019-rms" / "manifest.json").read_text(encoding="utf-8")
    build("rms2018", "2018")
    build("mark43-2020", "2020")  # the year after a split year: its packet compares with 2019's Mark43 part
    rules = trusted_rules(tmp)
    signer = new_signer(tmp, "A. Counsel")
    audits = {}
    for key, year, part in (("rms", "2019", "rms"), ("mark43", "2019", "mark43"), ("rms2018", "2018", None)):
        where = ["fioe", year, "--out", str(out), "--rules", str(rules), *(["--generation", part] if part else [])]
        code, _, stderr = invoke("approve", *where, "--key", str(signer))
        assert code == 0, stderr
        code, stdout, _ = invoke("audit", *where, "--raw", str(raw[key]), "--json")
        audits[key] = {**json.loads(stdout), "process_exit": code}
    return World(tmp, out, rules, raw, results, audits, (before, after), shared)


# ---- the split year ----------------------------------------------------------------------------

def test_each_record_system_of_2019_has_its_own_bundle(world: World) -> None:
    assert sorted(p.name for p in (world.out / "fioe").iterdir() if p.is_dir()) == \
        ["2018", "2019-mark43", "2019-rms", "2020"]
    for part in PARTS:
        bundle = world.bundle(part)
        assert world.results[part]["bundle"] == str(bundle) and world.results[part]["status"] == "draft"
        manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["generation"]["name"] == part and manifest["generation"]["chosen_by"] == "headers"
        package = json.loads((bundle / "public" / "datapackage.json").read_text(encoding="utf-8"))
        assert package["name"] == f"fioe-2019-{part}" and "not to be joined" in package["title"]
    # the Mark43 build wrote its own part and never touched the RMS one
    assert world.rms_manifest[0] == world.rms_manifest[1]
    # the year after: built beside both parts, its packet compares with the part of its own system
    packet = (world.bundle("mark43-2020") / "review" / "index.html").read_text(encoding="utf-8")
    assert "since the last release (2019)" in packet


def test_no_table_counts_the_other_systems_rows(world: World) -> None:
    """Each part reads only its own export; only Mark43 declares tables, counted from its part alone."""
    for part in PARTS:
        private = json.loads((world.bundle(part) / "review" / "manifest_private.json").read_text(encoding="utf-8"))
        digests = {f["name"]: f["sha256"] for f in private["inputs"]["files"]}
        other = "mark43" if part == "rms" else "rms"
        assert digests["fieldcontact_name.csv"] == hashlib.sha256(
            (world.raw[part] / "fieldcontact_name.csv").read_bytes()).hexdigest()
        assert digests["fieldcontact_name.csv"] != hashlib.sha256(
            (world.raw[other] / "fieldcontact_name.csv").read_bytes()).hexdigest()
    assert not (world.bundle("rms") / "public" / "tables").exists()
    rms = json.loads((world.bundle("rms") / "manifest.json").read_text(encoding="utf-8"))
    assert not rms["privacy"]
    assert list((world.bundle("mark43") / "public" / "tables").glob("*.csv"))


def test_a_command_names_the_part_when_both_are_built(world: World) -> None:
    code, _, stderr = invoke("audit", "fioe", "2019", "--out", str(world.out), "--allow-unverified")
    assert code == 4
    assert "fioe 2019 was split between record systems and has a bundle for each (mark43, rms): " \
           "pass --generation mark43 or rms" in stderr
    code, stdout, _ = invoke("list", "--out", str(world.out), "--json")
    rows = {(r["year"], r["part"]) for r in json.loads(stdout)["releases"]}
    assert {(2019, "rms"), (2019, "mark43"), (2018, None), (2020, None)} <= rows
    code, _, stderr = invoke("review", "fioe", "2019", "--out", str(world.out), "--generation", "legacy")
    assert code == 4 and "no bundle for the legacy part of fioe 2019" in stderr


@pytest.mark.shared_ledger
@pytest.mark.parametrize("key", ["rms", "mark43", "rms2018"])
def test_audit_with_the_raw_export_passes_on_each_part(world: World, key: str) -> None:
    audit = world.audits[key]
    assert audit["process_exit"] == 0 and audit["ok"], [(c["name"], c["problems"]) for c in audit["checks"]
                                                       if c["status"] != "pass"]
    checks = {c["name"]: c for c in audit["checks"]}
    assert {"raw_values_absent", "log_tokens", "identifier_pseudonyms", "approvals"} <= \
        {n for n, c in checks.items() if c["status"] == "pass"}
    recomputed = checks["identifier_pseudonyms"]["detail"]
    assert recomputed["cells"] > 20 and recomputed["mismatched"] == 0 and recomputed["row_not_found"] == 0


# ---- identifiers published as keyed pseudonyms --------------------------------------------------

@pytest.mark.parametrize("key", ["rms", "mark43"])
def test_the_persons_file_keeps_every_column_the_city_publishes(world: World, key: str) -> None:
    header = list(world.persons(key)[0])
    assert set(CITY_PERSONS) <= set(header) and header[:3] == ["recnum", "person_id", "fc_num"]  # the City's order
    column = "recnum" if key == "rms" else "person_id"
    assert all(FORM[column].fullmatch(r[column]) for r in world.persons(key))


@pytest.mark.parametrize("key", ["rms", "mark43", "rms2018"])
def test_no_raw_identifier_appears_in_any_public_file(world: World, key: str) -> None:
    identifiers = {r[c] for r in world.raw_persons(key) for c in ("recnum", "person_id") if r.get(c)}
    assert len(identifiers) > 20
    texts = {p.name: p.read_text(encoding="utf-8") for p in (world.bundle(key) / "public").rglob("*")
             if p.is_file()}
    leaked = [(name, i) for name, text in texts.items() for i in identifiers if re.search(rf"\b{i}\b", text)]
    assert leaked == []
    # the build blocked on nothing: a pseudonym is never taken for its raw identifier
    assert world.results[key]["findings"]["blocking"] == 0


def test_a_raw_identifier_typed_into_free_text_is_redacted(world: World) -> None:
    planted = next(r for r in world.raw_persons("rms") if "WRISTBAND" in r["otherclothing"])
    public = [r["otherclothing"] for r in world.persons("rms") if "WRISTBAND" in r["otherclothing"]]
    assert public and all(planted["recnum"] not in text for text in public)
    assert all(re.search(r"WRISTBAND \[[A-Z]+ \d+\]", text) for text in public), public


def test_same_identifier_same_pseudonym_within_a_release_another_in_another_year(world: World) -> None:
    for key, column in (("rms", "recnum"), ("mark43", "person_id")):
        published = [r[column] for r in world.persons(key) if r[column]]
        repeated = {p for p in published if published.count(p) > 1}
        assert len(repeated) == 1 and published.count(repeated.pop()) == 2, key  # the planted pair only
    shared_2019 = {p for p in (r["recnum"] for r in world.persons("rms")) if p}
    in_2018 = {r["recnum"] for r in world.persons("rms2018") if r["recnum"]}
    assert world.shared["recnum"] in {r["recnum"] for r in world.raw_persons("rms2018")}
    assert not shared_2019 & in_2018  # the same record number, another year: another pseudonym
    mark43_recnums = {r["recnum"] for r in world.persons("mark43")}
    assert mark43_recnums == {""}  # Mark43 exports carry no record number, as in the City's files


def test_manifest_codebook_and_packet_say_the_column_is_a_pseudonym(world: World) -> None:
    bundle = world.bundle("rms")
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    sections = {s["column"]: s for s in manifest["pseudonyms"]}
    assert set(sections) == {"recnum", "person_id"}
    assert sections["recnum"]["namespace"] == "rms-recnum" and sections["recnum"]["file"] == "fioe_2019_persons.csv"
    assert sections["recnum"]["scope"].startswith("one release (fioe 2019)")
    package = json.loads((bundle / "public" / "datapackage.json").read_text(encoding="utf-8"))
    field = next(f for r in package["resources"] for f in r["schema"]["fields"] if f["name"] == "recnum")
    assert field["constraints"] == {"pattern": r"REC\-[0-9A-F]{16}"} and "keyed pseudonym" in field["description"]
    assert "- persons.recnum: a keyed pseudonym (REC- and 16 hex digits)" in package["changes"]
    packet = (bundle / "review" / "index.html").read_text(encoding="utf-8")
    assert "Identifiers the City publishes are published as keyed pseudonyms" in packet


def _tampered_copy(world: World, tmp_path: Path, replace: str) -> tuple[Path, str]:
    """A copy of the releases folder whose 2019 RMS persons file has its first record-number
    pseudonym replaced (``replace``: "forged", another of the right form; "raw", the raw number)."""
    out = tmp_path / "out"
    shutil.copytree(world.out, out)
    path = out / "fioe" / "2019-rms" / "public" / "fioe_2019_persons.csv"
    text = path.read_text(encoding="utf-8")
    first = FORM["recnum"].search(text)
    assert first is not None
    new = "REC-0123456789ABCDEF" if replace == "forged" else world.shared["recnum"]
    path.write_text(text.replace(first.group(), new, 1), encoding="utf-8")
    return out, new


def test_a_tampered_pseudonym_fails_the_audit(world: World, tmp_path: Path) -> None:
    out, _ = _tampered_copy(world, tmp_path, "forged")
    code, stdout, _ = invoke("audit", "fioe", "2019", "--generation", "rms", "--out", str(out), "--rules",
                             str(world.rules), "--raw", str(world.raw["rms"]), "--json")
    assert code == 8
    checks = {c["name"]: c for c in json.loads(stdout)["checks"]}
    problems = checks["identifier_pseudonyms"]["problems"]
    assert checks["identifier_pseudonyms"]["status"] == "fail" and len(problems) == 1
    assert re.fullmatch(r"fioe_2019_persons\.csv, row F19\d{7}/p\d+, column recnum: does not recompute from the "
                        r"raw identifier under the release key", problems[0])


def test_a_raw_identifier_in_place_of_its_pseudonym_fails_even_without_the_raw_export(
        world: World, tmp_path: Path) -> None:
    out, raw = _tampered_copy(world, tmp_path, "raw")
    code, stdout, stderr = invoke("audit", "fioe", "2019", "--generation", "rms", "--out", str(out), "--rules",
                                  str(world.rules), "--allow-unverified", "--json")
    assert code == 8
    check = next(c for c in json.loads(stdout)["checks"] if c["name"] == "identifier_pseudonyms")
    assert check["status"] == "fail" and check["problems"][0].endswith(
        "column recnum: not of the pseudonym's form (REC- and 16 hex digits)")
    assert raw not in stdout + stderr


@pytest.mark.parametrize(("rule", "message"), [
    ({"prefix": "RPT-"}, "not RPT-, the report keys'"),
    ({"prefix": "rec-"}, "2 to 6 capital letters and a hyphen"),
    ({"namespace": "Two Words"}, "a namespace is a short name"),
    ({"pattern": "(\\d+"}, "not a valid regular expression"),
], ids=["report-key-prefix", "lower-case-prefix", "namespace", "pattern"])
def test_a_bad_pseudonym_rule_is_a_config_error(tmp_path: Path, rule: dict[str, str], message: str) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "redaction_rules", rules)
    path = rules / "fioe_rms.yaml"
    base = {"prefix": "REC-", "namespace": "rms-recnum", "pattern": "\\d{1,20}", **rule}
    text = path.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.strip().startswith("recnum: {type: pseudonym"))
    replacement = (f"      recnum: {{type: pseudonym, prefix: {json.dumps(base['prefix'])}, namespace: "
                   f"{json.dumps(base['namespace'])}, pattern: {json.dumps(base['pattern'])}}}")
    path.write_text(text.replace(line, replacement), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        load_policy(path)
    assert "files.persons.columns.recnum" in str(caught.value)
