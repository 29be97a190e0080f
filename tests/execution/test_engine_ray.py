"""`--engine ray`: the PII work on Ray actors, one engine each (release.execution.ray_workers), giving the
release the local run gives. Attacks: workers on another model or rules (refused, exit 9, nothing
written), a worker that dies mid-run (its units retried on a restarted actor: the same release; or,
once the restarts run out, exit 9 and nothing written), Ray not installed (exit 9, how to install).
Ray is a test dependency (`make test` installs `release[ray]`): these tests never skip."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import ray  # noqa: F401 (fails the module, never skips it, when the extra is missing)
from conftest import invoke
from pii.same_release import assert_same_release, build, leak_check_entries

from release.execution import ray_workers
from release.execution.ray_workers import Worker

pytestmark = pytest.mark.slow  # Ray and its actors start for each build; a worker dies and is restarted: 20-110 s a test

RAY = ["--engine", "ray", "--jobs", "2"]


@pytest.fixture(scope="module")
def local(export: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local run's bundle, in this module's own home (its ledger: the Ray builds re-use its draws)."""
    return build(export, tmp_path_factory.mktemp("local"), "--jobs", "1")


def refused(export: Path, out: Path, message: str) -> None:
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(export), "--out", str(out), *RAY)
    assert code == 9, stderr
    assert message in stderr and "Traceback" not in stdout + stderr
    assert not (out / "fioe" / "2020").exists()


@pytest.mark.shared_ledger
def test_ray_gives_the_local_release_even_when_a_worker_dies_once(
        export: Path, local: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The must-show of issue 15: byte-identical public files, the same redaction log and manifest
    hashes; the manifest names the engine, the workers and the versions they ran. One worker dies
    mid-run: its unit is retried on a restarted actor and nothing changes. The export plants a leak
    (``plant_officer_namesake``): the leak checks, in row partitions on the actors, find what the
    local run's find, and the next round redacts the same spans. (One Ray build, not two: a clean
    run on Ray is compared with the local one in ``test_engine_ray_cluster``.)"""
    marker = tmp_path / "died"

    class DiesOnce(Worker):  # defined here: Ray ships it to the workers by value
        def work(self, *args: object) -> object:
            if not marker.exists():
                marker.touch()
                os._exit(1)
            return super().work(*args)

    monkeypatch.setattr(ray_workers, "WORKER", DiesOnce)
    temp = Path(os.environ.get("TMPDIR", "/tmp"))
    before = set(temp.glob("release-ray-*"))  # another run's Ray on this machine (a benchmark) keeps its own
    on_ray = build(export, tmp_path / "ray", *RAY)
    assert marker.exists()  # a worker did die mid-run
    assert_same_release(local, on_ray)
    found = leak_check_entries(local)
    assert found and leak_check_entries(on_ray) == found  # the leak hits, their spans and their order
    from release.bundle.read import read_manifest

    manifest = read_manifest(on_ray)  # execution is in its private part
    execution = manifest["execution"]
    assert (execution["engine"], execution["workers"], execution["cluster"]) == ("ray", 2, False)
    assert execution["leak_checks"] == execution["table_counts"] == "workers"
    local_execution = read_manifest(local)["execution"]
    assert "leak_checks" not in local_execution and "table_counts" not in local_execution  # the local run's: here
    assert execution["ray"] == ray.__version__
    [ran] = execution["worker_versions"]
    assert ran["workers"] == 2 and ran["versions"] == manifest["pii_engine"]
    assert not set(temp.glob("release-ray-*")) - before  # Ray's folder removed


def test_a_worker_that_keeps_dying_stops_the_build_with_nothing_written(
        export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class AlwaysDies(Worker):
        def work(self, *args: object) -> object:
            os._exit(1)

    monkeypatch.setattr(ray_workers, "WORKER", AlwaysDies)
    monkeypatch.setattr(ray_workers, "RESTARTS", 1)  # each restart loads a model: one shows the limit
    refused(export, tmp_path / "out", f"a Ray worker died and was restarted {ray_workers.RESTARTS} times")


@pytest.mark.parametrize("key", ray_workers.CHECKED)
def test_workers_on_another_model_or_rules_are_refused(export: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch, key: str) -> None:
    """A worker whose model fingerprint or rules digest is not the driver's (a cluster node with
    another model or rules folder) could redact differently: the run stops before any output."""
    class Disagrees(Worker):
        def __init__(self, settings: object) -> None:
            super().__init__(settings)
            self.reported = {**self.reported, key: "0" * 64}

    monkeypatch.setattr(ray_workers, "WORKER", Disagrees)
    refused(export, tmp_path / "out", f"a Ray worker runs a different {key.replace('_', ' ')} than this machine")


def test_ray_missing_is_an_environment_problem_that_says_how_to_install(
        export: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError, as without the extra
    refused(export, tmp_path / "out", "pip install 'release[ray]'")

