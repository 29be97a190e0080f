"""`--jobs N`: the PII work in N forked workers (release.pii.parallel), with outputs that do not
depend on N. A build with one worker and one with two give byte-identical public files, the same
redaction log and the same manifest hashes; the manifest says which engine and how many workers
ran; a worker that dies stops the build with exit 9 and nothing written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import invoke, write_csv
from pii.same_release import assert_same_release, build

from release.bundle.read import read_manifest
from release.pii import batches, parallel


@pytest.fixture()
def pools(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every pass of the engine goes to the workers (not only inputs of 256 distinct texts or more);
    the list gets the worker count of each pool started."""
    started: list[int] = []
    real = parallel.ProcessPoolExecutor

    def counted(workers: int, **kwargs: object) -> object:
        started.append(workers)
        return real(workers, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batches, "MIN_TEXTS_FOR_PROCESSES", 2)
    monkeypatch.setattr(parallel, "ProcessPoolExecutor", counted)
    return started


@pytest.mark.slow
def test_one_and_two_workers_give_the_same_release(export: Path, tmp_path: Path, pools: list[int]) -> None:
    one = build(export, tmp_path / "one", "--jobs", "1")
    assert pools == []  # one job: in this process
    two = build(export, tmp_path / "two", "--jobs", "2")
    assert pools and set(pools) == {2}  # the redaction and the scans ran in two forked workers
    assert_same_release(one, two)
    for bundle, workers in ((one, 1), (two, 2)):
        manifest = read_manifest(bundle)  # execution is in its private part
        assert manifest["execution"] == {"engine": "local", "workers": workers}


def test_jobs_default_to_the_usable_cores(export: Path, tmp_path: Path) -> None:
    bundle = build(export, tmp_path / "out")
    manifest = read_manifest(bundle)
    assert manifest["execution"]["workers"] == len(os.sched_getaffinity(0)) == parallel.usable_cores()


def test_a_worker_that_dies_stops_the_build_with_nothing_written(export: Path, tmp_path: Path, pools: list[int],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Attack: a worker killed mid-run (out of memory, a signal). The build must not write a bundle
    from the units that did come back."""
    from release.pii.engine import PiiEngine

    parent, real = os.getpid(), PiiEngine._work

    def dies_in_a_worker(self: PiiEngine, unit: object) -> object:
        if os.getpid() != parent:
            os._exit(1)
        return real(self, unit)

    monkeypatch.setattr(PiiEngine, "_work", dies_in_a_worker)
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", "2020", "--input", str(export), "--out", str(out), "--jobs", "2")
    assert code == 9 and pools
    assert "a PII worker process died mid-run; nothing was written" in stderr
    assert "Traceback" not in stdout + stderr
    assert not (out / "fioe" / "2020").exists()


@pytest.mark.parametrize("options, message", [
    (["--jobs", "0"], "0 is not in the range x>=1"),
    (["--address", "ray://head:10001"], "--address needs --engine ray"),
    (["--engine", "spark"], "'spark' is not one of 'local', 'ray'"),
], ids=["no-workers", "address-without-ray", "unknown-engine"])
def test_bad_execution_options_are_usage_errors(tmp_path: Path, options: list[str], message: str) -> None:
    code, _, stderr = invoke("fioe", "2020", "--out", str(tmp_path / "out"), *options)
    assert code == 2 and message in stderr
    assert not (tmp_path / "out").exists()


def test_scan_finds_the_same_with_any_number_of_workers(tmp_path: Path, pools: list[int]) -> None:
    rows = [{"fc_num": f"FC2000{n:04d}", "narrative": f"Officers stopped Tyrone Davis{n} at {n} Blue Hill Ave. "
             f"Call 617-555-{n:04d}. Observed a group near the store."} for n in range(1, 13)]
    path = write_csv(tmp_path / "city.csv", rows)
    reports = []
    for jobs in ("1", "2"):
        code, stdout, stderr = invoke("scan", str(path), "--column", "narrative", "--key", "fc_num",
                                      "--jobs", jobs, "--json")
        assert code == 0, stderr
        reports.append(json.loads(stdout))
    assert pools and set(pools) == {2}
    assert reports[0]["findings"] == reports[1]["findings"] and len(reports[0]["findings"]) >= 24
    assert [r["execution"] for r in reports] == [{"engine": "local", "workers": 1}, {"engine": "local", "workers": 2}]
