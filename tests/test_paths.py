"""A policy changes only in the open (issue #11, build item 10): rules and suites come from
--rules / --expectations or the installed copy, and a folder that differs is recorded."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import ROOT

from release import paths
from release.review.facts import _non_default_policy


def test_a_rules_folder_in_the_working_directory_is_never_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "redaction_rules").mkdir()
    (tmp_path / "redaction_rules" / "fioe.yaml").write_text("dataset: fioe\n")
    monkeypatch.chdir(tmp_path)
    folder, origin = paths.default_dir("redaction_rules")
    assert origin == "installed-package" and folder != (tmp_path / "redaction_rules").resolve()
    assert paths.chosen_dir("redaction_rules", Path("redaction_rules")) == (
        (tmp_path / "redaction_rules").resolve(), "option")  # only when named


@pytest.mark.parametrize(
    ("change", "differs"),
    [(None, []), ("edit", ["fioe.yaml"]), ("add", ["extra.yaml"]), ("remove", ["best.yaml"]),
     ("signers", [])],
    ids=["identical-copy", "edited-policy", "added-file", "removed-file", "own-trusted-signers-is-not-a-policy-change"])
def test_differences_from_the_installed_copy(tmp_path: Path, change: str | None, differs: list[str]) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "redaction_rules", rules)
    if change == "edit":
        (rules / "fioe.yaml").write_text((rules / "fioe.yaml").read_text() + "\n# keep names\n")
    elif change == "add":
        (rules / "extra.yaml").write_text("a: 1\n")
    elif change == "remove":
        (rules / "best.yaml").unlink()
    elif change == "signers":
        (rules / paths.SIGNERS_FILE).write_text("signers: []\n# ours\n")
    assert paths.differences_from_installed(rules, "redaction_rules") == differs


def test_the_packet_names_a_non_default_policy() -> None:
    manifest = {"rules": {"origin": "option", "folder": "/tmp/lax", "default": False,
                          "differs_from_installed": ["fioe.yaml"]},
                "expectations": {"origin": "installed-package", "default": True, "differs_from_installed": []}}
    assert _non_default_policy(manifest) == (
        "The rules (option: /tmp/lax) differ from the installed copy in 1 file(s): fioe.yaml.",)
    assert _non_default_policy({"rules": {"origin": "working-directory"}}) == (
        "The rules came from the working directory (not compared with the installed copy).",)
