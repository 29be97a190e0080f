"""One typed bundle contract (issue 14): the build writes its manifest through the model (the same bytes), every
reader reads it through ``release.bundle.read.read_manifest`` as a ``Recorded``, and the redaction log through
``release.bundle.log``; a manifest read and written again is the same JSON (``manifest.json``: the same bytes)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from conftest import ROOT, build_copy_for_test, invoke, small_fioe_build

from release.bundle import manifest_parts
from release.bundle.layout import MANIFEST, json_text
from release.bundle.log import read_entries, read_trailer
from release.bundle.manifest import Manifest, written
from release.bundle.manifest_recorded import Recorded
from release.bundle.read import read_manifest
from release.errors import ConfigError

# the manifest's contract: the model, its typed reading, and the trusted check that compares the raw JSON
CONTRACT = ("release/bundle/manifest.py", "release/bundle/manifest_recorded.py", "release/audit/trusted_manifest.py")


def _dict_reads(path: Path) -> list[str]:
    """Each ``manifest.get(...)`` and ``manifest[...]`` read (not a write) in ``path``, by line."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "manifest":
            found.append(f"line {node.lineno}: manifest.get(...)")
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) \
                and isinstance(node.value, ast.Name) and node.value.id == "manifest":
            found.append(f"line {node.lineno}: manifest[...]")
    return found


def test_no_reader_outside_the_contract_reads_the_manifest_as_a_dict() -> None:
    reads = {path.relative_to(ROOT).as_posix(): found for path in sorted((ROOT / "release").rglob("*.py"))
             if path.relative_to(ROOT).as_posix() not in CONTRACT and (found := _dict_reads(path))}
    assert reads == {}
    assert _dict_reads(ROOT / CONTRACT[-1])  # the check itself finds what it looks for


WRITTEN: list[tuple[str, str]] = []  # (the manifest the build assembled, what the writer gave back), as JSON


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A draft bundle the build wrote (its privacy section, measurements, record risk and packet included)."""
    from release.build import assemble

    def writer(manifest: dict[str, object]) -> dict[str, object]:
        given = json.dumps(manifest)  # before: the writer returns a new dict and leaves this one as it is
        result = written(manifest)
        WRITTEN.append((given, json.dumps(result)))
        return result

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(assemble, "written", writer)
        _, out = small_fioe_build(tmp_path_factory)
    return out / "fioe" / "2020"


def test_the_build_writes_through_the_model_and_its_bytes_are_the_same(bundle: Path) -> None:
    assert len(WRITTEN) == 1
    given, result = WRITTEN[0]
    assert result == given  # every value, in the build's key order: the bundle's bytes are the ones it always wrote


def test_a_built_manifest_round_trips_through_the_reader_and_the_writer(bundle: Path) -> None:
    recorded = read_manifest(bundle)
    assert isinstance(recorded, Recorded)
    typed = recorded.checked()
    assert isinstance(typed, Manifest) and (typed.dataset, typed.year, typed.status) == ("fioe", 2020, "draft")
    assert typed.outputs and typed.bundle_files and typed.privacy.measurements
    again = written(recorded)
    assert json.dumps(again) == json.dumps(recorded)  # the same JSON text: values, types and key order
    public, private = manifest_parts.split(again)  # as ``publish.write_bundle`` splits and writes it
    assert json_text(public, ascii_only=True, sort=True).encode("utf-8") == (bundle / MANIFEST).read_bytes()
    # the private part as the bundle holds it (merging it moved its ``item_fields`` among its keys: same content)
    assert json.loads(manifest_parts.private_text(private)) == \
        json.loads((bundle / manifest_parts.PRIVATE_FILE).read_text(encoding="utf-8"))


def test_the_typed_reading_agrees_with_the_model(bundle: Path) -> None:
    recorded = read_manifest(bundle)
    typed = recorded.checked()
    assert recorded.is_for("fioe", 2020) and not recorded.is_for("fioe", 2021)
    assert (recorded.dataset, recorded.year, recorded.status, recorded.hmac_key_id, recorded.version) == \
        (typed.dataset, typed.year, typed.status, typed.hmac_key_id, 1)
    assert typed.checks is not None and recorded.blocking == typed.checks.blocking_findings == 0
    assert [f["path"] for f in recorded.rule_files] == [f.path for f in typed.rules.files]
    assert len(recorded.table_claims) == len(typed.privacy.tables) and recorded.publication_notes == typed.publication_notes


@pytest.mark.parametrize(("edit", "reading"), [
    ({"privacy": [1]}, ("privacy", None)),
    ({"year": "2020"}, ("year", None)),
    ({"year": "2020"}, ("year_number", 2020)),
    ({"dataset": 5}, ("dataset_name", "5")),
    ({"findings": "blocking"}, ("findings", [])),
    ({"checks": {"blocking_findings": "none"}}, ("blocking", 1)),
    ({"publication_notes": "ab"}, ("publication_notes", ["a", "b"])),
    ({"version": 2.0}, ("version", None)),
], ids=["privacy-a-list", "year-a-text", "year-number", "dataset-a-number", "findings-a-text", "count-a-text",
        "notes-a-text", "version-a-decimal"])
def test_an_edited_manifest_reads_as_the_readers_read_it_and_nothing_raises(
        edit: dict[str, object], reading: tuple[str, object]) -> None:
    recorded = Recorded({"manifest_version": 1, "dataset": "fioe", "year": 2020, **edit})
    assert getattr(recorded, reading[0]) == reading[1]


@pytest.mark.parametrize(("part", "section", "key"), [
    (manifest_parts.PRIVATE_FILE, "rules", "files"), (manifest_parts.PRIVATE_FILE, "inputs", "files"),
    (MANIFEST, "privacy", "tables")], ids=["rules-files", "inputs-files", "privacy-tables"])
def test_a_number_written_for_a_list_is_refused_not_a_crash(bundle: Path, tmp_path: Path,
                                                             tmp_path_factory: pytest.TempPathFactory,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             part: str, section: str, key: str) -> None:
    """Readers iterated ``value or []``: a number there was a TypeError (an internal error, a traceback) in
    ``list``, approve and the audit. ``Recorded`` reads it as no item, and the checks refuse it by name."""
    out = build_copy_for_test(bundle.parent.parent, tmp_path, tmp_path_factory, monkeypatch)
    path = out / "fioe" / "2020" / part
    written_part = json.loads(path.read_text(encoding="utf-8"))
    written_part[section][key] = 5
    path.write_text(json.dumps(written_part), encoding="utf-8")
    code, _, stderr = invoke("list", "--out", str(out))
    assert code == 0, stderr
    code, stdout, _ = invoke("audit", "fioe", "2020", "--out", str(out), "--no-scan", "--json")
    assert code == 8 and f"{section}.{key}: not of the type the build writes (rule manifest-keys)" in stdout


def test_the_log_is_read_one_way() -> None:
    lines = ['{"seq": 1}', "not json", "[1]", '{"seq": 2, "trailer": false}', '{"trailer": true, "head": "h"}']
    assert read_entries(lines) == [{"seq": 1}, {"seq": 2, "trailer": False}]
    assert read_entries(lines, trailer=True)[-1] == {"trailer": True, "head": "h"}
    assert read_trailer(lines) == {"trailer": True, "head": "h"} and read_trailer(lines[:-1]) is None
    assert read_trailer(["not json"]) is None and read_trailer([]) is None

    def refuse(number: int) -> None:
        raise ConfigError(f"line {number} of the redaction log is not JSON", rule="decision")

    with pytest.raises(ConfigError, match="line 2 of the redaction log is not JSON") as caught:
        read_entries(lines, not_json=refuse)
    assert caught.value.__cause__ is None and caught.value.__context__ is None  # raised outside the parser's error


def test_the_log_readers_parse_no_line_themselves() -> None:
    readers = ["release/review/facts.py", "release/review/evidence.py", "release/review/queue.py",
               "release/audit/checks.py", "release/audit/raw.py", "release/governance/decisions.py"]
    assert [name for name in readers if "json.loads(line" in (ROOT / name).read_text(encoding="utf-8")] == []
