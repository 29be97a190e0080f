"""Where bundles live: registered datasets only, and a published year never replaced."""

from __future__ import annotations

from pathlib import Path

import pytest
from bundlekit import Built

from release.bundle.places import (
    build_target,
    bundle_dir,
    check_dataset,
    folder_name,
    folder_part,
    is_published,
    parse_folder,
    record_publication,
    versions,
)
from release.config.datasets import DATASETS
from release.errors import ApprovalError, ConfigError

pytestmark = pytest.mark.usefixtures("release_key")  # ``built`` bundles use bundlekit's KEY


@pytest.mark.parametrize("name", ["../../fioe", "fioe/../x", "", "FIOE", "fioe "],
                         ids=["parent-traversal", "inner-traversal", "empty", "case", "trailing-space"])
def test_only_registered_dataset_names_become_paths(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="unknown dataset") as caught:
        bundle_dir(name, 2020, tmp_path)
    assert caught.value.exit_code == 3
    assert check_dataset("fioe") == "fioe" and "fioe" in DATASETS


@pytest.mark.parametrize(("name", "parsed", "part"), [
    ("2020", (2020, 1), None), ("2020-v2", (2020, 2), None), ("2020-v12", (2020, 12), None), ("2020-v1", None, None),
    ("2020-v0", None, None), ("x2020", None, None), ("2020.decisions.jsonl", None, None),
    ("2019-rms", (2019, 1), "rms"), ("2019-mark43-v2", (2019, 2), "mark43"), ("2019-RMS", None, None),
    ("2019-rms-v1", None, None)])
def test_bundle_folder_names(name: str, parsed: tuple[int, int] | None, part: str | None) -> None:
    assert parse_folder(name) == parsed and folder_part(name) == part
    if parsed is not None:
        assert folder_name(parsed[0], parsed[1], part) == name


def test_a_published_year_is_never_replaced_and_a_new_version_gets_its_own_folder(built: Built) -> None:
    assert build_target("fioe", 2020, built.out_dir, supersede=False).bundle == built.bundle  # a draft: rebuilt
    with pytest.raises(ApprovalError, match="nothing to supersede"):
        build_target("fioe", 2020, built.out_dir, supersede=True)
    record_publication(built.bundle, built.out_dir.parent / "site" / "fioe" / "2020", "0" * 64)
    assert is_published(built.bundle, built.out_dir)
    with pytest.raises(ApprovalError, match="never replaced by a rebuild; .* --supersede") as caught:
        build_target("fioe", 2020, built.out_dir, supersede=False)
    assert caught.value.exit_code == 7
    target = build_target("fioe", 2020, built.out_dir, supersede=True)
    assert target.bundle == built.out_dir / "fioe" / "2020-v2" and target.version == 2
    assert target.supersedes is not None and target.supersedes["version"] == 1
    target.bundle.mkdir()
    assert versions("fioe", 2020, built.out_dir) == [1, 2]
    assert bundle_dir("fioe", 2020, built.out_dir) == target.bundle  # commands address the latest
    assert bundle_dir("fioe", 2020, built.out_dir, 1) == built.bundle
