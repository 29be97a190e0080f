"""A damaged or hand-edited bundle is a user-facing error naming the file, never an
internal error or a traceback. The audit's reading of one: ``tests/audit/test_audit.py``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bundlekit import Built
from conftest import invoke

from release.bundle.read import read_public_csv
from release.errors import InputError

pytestmark = pytest.mark.usefixtures("release_key")  # ``built`` bundles use bundlekit's KEY


@pytest.mark.parametrize(("content", "problem"), [("{not json", "not valid JSON"), ("[1, 2]", "not a JSON object")],
                         ids=["broken-json", "not-an-object"])
def test_list_names_a_broken_manifest(built: Built, content: str, problem: str) -> None:
    (built.bundle / "manifest.json").write_text(content, encoding="utf-8")
    code, _, stderr = invoke("list", "--out", str(built.out_dir))
    assert code == 4 and problem in stderr and "manifest.json" in stderr and "Traceback" not in stderr


def test_list_tolerates_a_privacy_section_of_the_wrong_shape(built: Built) -> None:
    manifest = json.loads((built.bundle / "manifest.json").read_text(encoding="utf-8"))
    manifest["privacy"] = [1]
    (built.bundle / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    code, _, stderr = invoke("list", "--out", str(built.out_dir))
    assert code == 0, stderr


@pytest.mark.parametrize("content", [b"\xff\xfe\x00broken", b""], ids=["not-utf8", "empty"])
def test_an_unreadable_public_csv_is_an_input_error_naming_it(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fioe_2020_contacts.csv"
    path.write_bytes(content)
    with pytest.raises(InputError) as caught:
        read_public_csv(path)
    assert caught.value.file == str(path) and caught.value.exit_code == 4
