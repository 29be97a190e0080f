"""Two builds of the same export that must give the same release wherever their PII work ran
(``--jobs``, ``--engine ray``): the export's planted name, the build through the CLI and the
comparison, and the export itself (the ``export`` fixture, which ``tests/pii/conftest.py`` and
``tests/execution/conftest.py`` both offer: builds with ``--jobs`` are tested in the one, with Ray in the other)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import invoke

from release.bundle.manifest_parts import BUNDLE_FILES, PRIVATE_FILE, PRIVATE_NESTED
from release.synth.fioe import SyntheticFioe, generate_fioe, write_fioe

REPORTS = 60
# Files whose bytes carry the build's time or run id; each is compared apart, up to those. The data
# package carries neither since round 30 (its ``created`` time was free to whoever builds).
TIMESTAMPED = ("review/index.html",)


def plant_officer_namesake(data: SyntheticFioe) -> None:
    """One subject takes the name of an officer whom another report's narrative names. The redactor
    keeps that officer's name (the roster); the release-wide leak check finds the subject's full
    name there and the next round redacts it: leak hits, whose forced spans and log entries the
    builds must agree on (``leak_check_entries``)."""
    for row in data.contacts:
        last, _, first = row["contact_officer_name"].partition(", ")
        if first and f"{first.title()} {last.title()}" in row["contact_reason"]:
            break
    subject = next(p for p in reversed(data.persons) if p["fc_num"] != row["fc_num"] and p["first_name"])
    subject["first_name"], subject["last_name"] = first.title(), last.title()


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated FIOE export with an officer's namesake planted (``plant_officer_namesake``): the input of
    the builds that must give the same release wherever their PII work ran."""
    raw = tmp_path_factory.mktemp("raw") / "export"
    data = generate_fioe(2020, seed=23, n_reports=REPORTS)
    plant_officer_namesake(data)
    write_fioe(data, raw)
    return raw


def leak_check_entries(bundle: Path) -> list[dict[str, object]]:
    """The redaction log's entries of spans the leak checks found (row, column, offsets; no value)."""
    entries = [json.loads(line) for line in (bundle / "redaction_log.jsonl").read_text(encoding="utf-8").splitlines()]
    return [e for e in entries if e.get("detector") == "leak_check"]


def build(export: Path, out: Path, *options: str) -> Path:
    code, _, stderr = invoke("fioe", "2020", "--input", str(export), "--out", str(out), "--json", *options)
    assert code == 0, stderr
    return out / "fioe" / "2020"


def assert_same_release(local: Path, other: Path) -> None:
    """Byte-identical public files and redaction log, the same manifest hashes; the files that carry
    the build's time are equal once it is taken out."""
    files = sorted(p.relative_to(local).as_posix() for p in (local / "public").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(other).as_posix() for p in (other / "public").rglob("*") if p.is_file())
    assert len(files) >= 4
    for name in files:
        if name not in TIMESTAMPED:
            assert (local / name).read_bytes() == (other / name).read_bytes(), name
    assert (local / "redaction_log.jsonl").read_bytes() == (other / "redaction_log.jsonl").read_bytes()
    manifests = [json.loads((b / "manifest.json").read_text(encoding="utf-8")) for b in (local, other)]
    assert manifests[0]["outputs"] == manifests[1]["outputs"] and len(manifests[0]["outputs"]) >= 3
    # the private part records how and where each ran (engine, workers, the machine's paths) and the ledger's head
    # when it did (the second build's follows the first's entries): the rest is equal
    private = [json.loads((b / PRIVATE_FILE).read_text(encoding="utf-8")) for b in (local, other)]
    kept = [{o["path"]: o["sha256"] for o in part.pop(BUNDLE_FILES) if o["path"] not in TIMESTAMPED}
            for part in private]  # the files that stay with the bundle (the log, review/), hashed there
    assert kept[0] == kept[1] and len(kept[0]) >= 3
    for part in private:
        for key in ("execution", "run_id", "created_at"):  # the run's own
            part.pop(key, None)
        for section, keys in PRIVATE_NESTED.items():
            for key in keys if section != "privacy" else ("ledger", "witness", "run_id", "ledger_head", "item_fields",
                                                          "rho_charged_by_this_build"):  # the second build re-uses
                part.get(section, {}).pop(key, None)
    assert private[0] == private[1]
    entries = (local / "redaction_log.jsonl").read_text(encoding="utf-8").count("\n")
    assert entries > 50  # the narratives were redacted: there was work to split


