"""`--engine ray --address ADDR` against a Ray cluster started on its own (``ray start --head``, as an
operator would, in other processes than the run's), and ``release doctor --address``, which checks
that cluster before a run. Attacks: a cluster whose node runs other rules (doctor fails 9, naming the
node and what differs; the run is refused 9 with nothing written), an address where no cluster listens
(9, no traceback). Ray is a test dependency (`make test` installs `release[ray]`): these never skip."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import ray  # noqa: F401 (fails the module, never skips it, when the extra is missing)
from conftest import invoke
from pii.same_release import assert_same_release, build, leak_check_entries

# A node that runs other rules: its Python starts with this sitecustomize, which changes what its
# rules' digest reads as (what a node with another rules folder at the same path reports).
OTHER_RULES = """
import release.pii.rulefiles as rulefiles
rulefiles.rules_digest = lambda rules_dir: "0" * 64
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def cluster_factory() -> Iterator[object]:
    """Start clusters (``ray start --head --block``, each in its own session and short temp folder);
    every one is stopped, its processes with it, when the test ends."""
    started: list[tuple[subprocess.Popen[bytes], str]] = []

    def start(extra_env: dict[str, str] | None = None) -> str:
        port, temp = _free_port(), tempfile.mkdtemp(prefix="rc-", dir="/tmp")  # Ray's sockets need a short path
        env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", **(extra_env or {})}
        ray_cli = Path(sys.executable).with_name("ray")
        process = subprocess.Popen([str(ray_cli), "start", "--head", "--block", f"--port={port}", "--num-cpus=1",
                                    "--include-dashboard=false", "--node-ip-address=127.0.0.1", f"--temp-dir={temp}"],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        started.append((process, temp))
        address = f"127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # the head is up once its GCS port takes connections
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return address
            assert process.poll() is None, "ray start --head exited"
            time.sleep(0.5)
        raise AssertionError("the Ray head did not start within 90 s")

    yield start
    for process, temp in started:
        group = os.getpgid(process.pid)
        # SIGTERM to `ray start --block` alone: it stops the processes it started, in order, and exits
        # (about 2 s). Sent to the whole group, each process ended on its own and the head waited 30 s.
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        with contextlib.suppress(ProcessLookupError):  # anything that outlived it
            os.killpg(group, signal.SIGKILL)
        process.wait(timeout=30)
        shutil.rmtree(temp, ignore_errors=True)


def _cli(*args: str) -> tuple[int, str, str]:
    """The command in a process of its own, as an operator runs it against a cluster (a driver that
    ran an in-process Ray earlier in this test process keeps some of that Ray's state)."""
    done = subprocess.run([sys.executable, "-m", "release", *args], capture_output=True, text=True, timeout=600,
                          env={**os.environ, "RAY_USAGE_STATS_ENABLED": "0"})
    return done.returncode, done.stdout, done.stderr


def _doctor(address: str, tmp_path: Path) -> tuple[int, dict[str, object], str]:
    code, stdout, stderr = _cli("doctor", "--out", str(tmp_path / "none"), "--address", address, "--json")
    assert "Traceback" not in stdout + stderr
    return code, json.loads(stdout), stderr


def _ray_line(result: dict[str, object]) -> dict[str, str]:
    return next(c for c in result["checks"] if c["name"] == "ray")  # type: ignore[union-attr]


@pytest.mark.slow
@pytest.mark.shared_ledger
def test_a_run_on_a_cluster_started_apart_gives_the_local_release(export: Path, tmp_path: Path,
                                                                  cluster_factory: object) -> None:
    address = cluster_factory()  # type: ignore[operator]
    code, result, _ = _doctor(address, tmp_path)
    assert code == 0 and _ray_line(result)["status"] == "ok"
    assert "1 node(s) at the address given run release" in _ray_line(result)["detail"]
    local = build(export, tmp_path / "local", "--jobs", "1")
    code, _, stderr = _cli("fioe", "2020", "--input", str(export), "--out", str(tmp_path / "cluster"), "--json",
                           "--engine", "ray", "--address", address, "--jobs", "1")
    assert code == 0, stderr
    on_cluster = tmp_path / "cluster" / "fioe" / "2020"
    assert_same_release(local, on_cluster)
    from release.bundle.read import read_manifest

    execution = read_manifest(on_cluster)["execution"]  # in its private part
    assert (execution["engine"], execution["workers"], execution["cluster"]) == ("ray", 1, True)
    assert execution["leak_checks"] == "workers"  # the cluster's worker found the planted leak as the local run did
    assert leak_check_entries(local) and leak_check_entries(on_cluster) == leak_check_entries(local)


@pytest.mark.slow
def test_a_cluster_node_on_other_rules_fails_doctor_and_the_run(export: Path, tmp_path: Path,
                                                                cluster_factory: object) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(OTHER_RULES, encoding="utf-8")
    address = cluster_factory({"PYTHONPATH": str(site)})  # type: ignore[operator]
    code, result, _ = _doctor(address, tmp_path)
    line = _ray_line(result)
    assert (code, line["status"]) == (9, "fail")
    assert "another rules digest" in line["detail"] and "model" not in line["detail"]
    out = tmp_path / "out"
    code, stdout, stderr = _cli("fioe", "2020", "--input", str(export), "--out", str(out), "--engine", "ray",
                                "--address", address, "--jobs", "1")
    assert code == 9 and "different rules digest" in stderr and "Traceback" not in stdout + stderr
    assert not (out / "fioe" / "2020").exists()


@pytest.mark.slow
def test_an_address_where_no_cluster_listens_stops_doctor_and_the_run_at_once(export: Path, tmp_path: Path) -> None:
    """Ray alone retries such an address for minutes; the probe makes it a clear exit 9."""
    address = f"127.0.0.1:{_free_port()}"
    started = time.monotonic()
    code, result, _ = _doctor(address, tmp_path)
    line = _ray_line(result)
    assert (code, line["status"]) == (9, "fail") and "nothing answers there" in line["detail"]
    out = tmp_path / "out"
    code, stdout, stderr = _cli("fioe", "2020", "--input", str(export), "--out", str(out), "--engine", "ray",
                                "--address", address)
    assert code == 9 and "nothing answers there" in stderr and "Traceback" not in stdout + stderr
    assert not (out / "fioe" / "2020").exists()
    assert time.monotonic() - started < 120


def test_doctor_without_an_address_names_the_pinned_ray(tmp_path: Path) -> None:
    code, stdout, stderr = invoke("doctor", "--out", str(tmp_path / "none"), "--json")
    line = _ray_line(json.loads(stdout))
    assert line["status"] == "ok" and f"Ray {ray.__version__} (pinned)" in line["detail"]
