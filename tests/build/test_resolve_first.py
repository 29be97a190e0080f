"""Every rule file a build reads is parsed before its first stage (issue 14, part 3).

A broken tables policy, privacy policy or expectation suite stops ``release fioe 2020`` with exit 3
and a message naming the file, before the export is loaded: not after the redaction, which takes
most of a real year's build.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import invoke

from release.stages import load

ROOT = Path(__file__).resolve().parents[2]


def _break_yaml(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\nnot_a_key_of_this_file: 1\n", encoding="utf-8")


def _break_suite(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    document["not_a_key_of_a_suite"] = 1
    path.write_text(json.dumps(document), encoding="utf-8")


@pytest.mark.parametrize(("folder", "name", "breaks"), [
    pytest.param("redaction_rules", "fioe_tables.yaml", _break_yaml, id="tables-policy"),
    pytest.param("redaction_rules", "privacy.yaml", _break_yaml, id="privacy-policy"),
    pytest.param("expectations", "fioe_raw.json", _break_suite, id="raw-suite"),
    pytest.param("expectations", "fioe_public.json", _break_suite, id="public-suite"),
])
def test_a_broken_rule_file_stops_the_build_before_the_export_is_loaded(
        folder: str, name: str, breaks: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rules, suites = tmp_path / "rules", tmp_path / "suites"
    shutil.copytree(ROOT / "redaction_rules", rules)
    shutil.copytree(ROOT / "expectations", suites)
    broken = (rules if folder == "redaction_rules" else suites) / name
    breaks(broken)  # type: ignore[operator]

    def loaded(*args: object, **kwargs: object) -> None:
        raise AssertionError("the export was loaded before the rule files were checked")

    monkeypatch.setattr(load, "load_export", loaded)
    code, out, err = invoke("fioe", "2020", "--rules", str(rules), "--expectations", str(suites),
                            "--out", str(tmp_path / "out"), "--json")
    refusal = json.loads(out)
    assert code == 3, (out, err)
    assert refusal["error"] == "ConfigError" and refusal["file"] == str(broken)
    assert not (tmp_path / "out" / "fioe" / "2020").exists()
