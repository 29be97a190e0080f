"""Ray actors for the PII work and the leak checks (``--engine ray [--address ADDR]``): the only
module importing Ray.

Each actor holds an engine of its own (model and rules loaded once per actor) and runs the
engine's work units (``Batcher._work``) on the units the driver hands it. Plain actors and not
Ray Data's ``map_batches``: a build calls the engine several times (the redaction, each verify
round's second scan, the redaction of what a round found), and a Ray Data actor pool lives for
one dataset's execution, so every call would start its actors and load the model again (about
5 s of CPU per actor per call), and the caller's ``alongside`` work would wait on Ray Data's own
scheduling. These actors live for the whole run. Nor ``ray.util.ActorPool``: its in-order
``get_next`` keeps an actor that finished a later unit idle until the earlier one is taken
(10 synthetic years at 1/10 size: 52 s against 36 s for two forked workers). ``run`` hands each
actor its next unit as soon as one is done and gives the results back in the units' order, so
placeholder numbering, the log's order and the noise seed never depend on how they were spread.

The same actors run each verify round's leak checks in row partitions (``leak_check``), with the
build's checker sent to the object store once and kept by each actor for every round, so a
cluster's driver does not search the whole corpus itself; the leaks come back merged in the
order one process gives (``release.stages.leak_partitions``). And the tables' group-by
(``count``): each table's rows, in their keyed truncation order, cut by privacy unit; each actor
bounds its part's units and answers one bit per row, kept or not; the counts, the drops and the
profile the bounds are verified on are computed here from the driver's own rows. The driver keeps
reading the rows, the keyed priorities (the key never leaves it), the noise, suppression, the
ledger and publish.

Fail closed: every actor reports its versions (model fingerprint, rules digest) when it starts
and its fingerprint and digest with every result (with a leak check's or a count's result, the
digest of that code too); a run whose workers disagree with the driver stops (exit 9) before
anything is written. A worker that dies is restarted and its unit retried (``max_restarts``,
``max_task_retries``); once those run out the run stops, nothing written.

Without an address, Ray starts in this process for the run, its node address 127.0.0.1: no
dashboard, usage stats off, its logs and sockets in a temporary folder removed afterwards, shut
down when the run ends. Ray's own servers (GCS, raylet) still listen on every interface, which
Ray 2.60 has no setting to narrow; they require a token made for the run (Ray's token
authentication), so nothing from the network can use them. With an address, the run joins that cluster (whose workers must have
``release[ray]``, the model and the rules folder at the same path: the checks above refuse
anything else).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import hashlib
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from release.errors import EnvironmentProblem, ReleaseError
from release.pii.parallel import Execution

if TYPE_CHECKING:
    from release.pii.sentences import Entity, WindowKey

INSTALL = "pip install 'release[ray]'"
RESTARTS = 2  # a worker is restarted, and its unit retried, at most this many times
IN_FLIGHT = 2  # units queued on each actor at a time: the next is there when one is done
PROBE_SECONDS = 10.0  # how long an --address may take to answer before the run stops (Ray would retry for minutes)
CHECKED = ("model_fingerprint", "rules_digest")  # what every worker must share with the driver
CHECKS_CODE = "checks_code"  # ... and, with each leak check's and count's result, that code (checks_code_digest)
COUNT_ROWS = 50_000  # a table's rows per part of its group-by, at least one part per worker


def _ray() -> Any:
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"  # read when Ray starts: never report usage
    try:
        import ray
    except ImportError:
        raise EnvironmentProblem(f"--engine ray needs Ray, an optional extra: {INSTALL}") from None
    return ray


class Worker:
    """One actor: an engine of its own, loaded once, running units for the driver; and the leak
    checks' partitions, with the build's checker it keeps from the first (``leaks``)."""

    def __init__(self, settings: Any) -> None:
        from release.pii.engine import PiiEngine

        self.engine = PiiEngine(dataclasses.replace(settings, n_process=1))
        gc.freeze()  # the model and rules outlive every unit: the collector need never walk them
        self.reported = self.engine.versions()
        self.identity = {key: self.reported[key] for key in CHECKED}
        self.checks_identity = {**self.identity, CHECKS_CODE: checks_code_digest()}
        self.checker: tuple[str, Any] | None = None  # (the broadcast's object id, the checker it holds)
        self.configured: str | None = None  # the object id of the settings ``work`` last configured

    def versions(self) -> dict[str, str]:
        return self.reported

    def work(self, settings: list[Any], unit: Any) -> tuple[dict[str, str], list[tuple[int, Any]]]:
        """One unit, under the run's ``settings`` (by reference, in a list: fetched only when they
        change). A run of several years keeps its actors and sends each year's settings (its
        officer roster); the engine takes them sharing its loaded model and rules. Ray restarts a
        dead actor with the settings it was made with, so every unit names the ones it needs."""
        import ray

        from release.pii.engine import PiiEngine

        reference = settings[0]
        if self.configured != reference.hex():  # the last run's memos and checker went with ``forget``
            self.engine = PiiEngine(dataclasses.replace(ray.get(reference), n_process=1), self.engine)
            self.configured = reference.hex()
        done, _ = self.engine._work(unit)  # the windows it tagged stay in this actor's cache
        return self.identity, done

    def leaks(self, broadcast: list[Any], shared: Any, part: Any) -> tuple[dict[str, str], Any]:
        """Both leak checks over one partition. ``broadcast`` holds the build's checker by reference
        (in a list, so Ray does not fetch it for every call): fetched from the object store once,
        kept, with its memo, for every later round; a restarted actor fetches it again."""
        import ray

        from release.stages.leak_partitions import check_part

        reference = broadcast[0]
        if self.checker is None or self.checker[0] != reference.hex():
            self.checker = (reference.hex(), ray.get(reference))
        return self.checks_identity, check_part(self.checker[1], part, shared)

    def count(self, part: Any) -> tuple[dict[str, str], Any]:
        """One part of a table's group-by: which of its rows each unit keeps (``tabulate.kept``),
        as packed bits; the driver counts them."""
        import numpy as np

        from release.stages.tabulate import kept

        return self.checks_identity, np.packbits(kept(part))

    def forget(self) -> None:
        """The last run's texts, values and leak checker, let go (``RayWorkers.configure``)."""
        from release.execution.workers import forget_values

        self.engine.ner_cache.clear()
        forget_values()
        self.checker = None


WORKER: type[Worker] = Worker  # the actor class (a test swaps in one that dies or disagrees)


class RayWorkers:
    """``jobs`` actors, started and checked against the driver's versions (``UnitRunner``)."""

    def __init__(self, ray: Any, settings: Any, execution: Execution, driver: dict[str, str]) -> None:
        self._ray = ray
        self.workers = execution.jobs
        self._expected = {key: driver[key] for key in CHECKED}
        actor = ray.remote(num_cpus=1, max_restarts=RESTARTS, max_task_retries=RESTARTS)(WORKER)
        self._actors = [actor.remote(settings) for _ in range(execution.jobs)]
        reported = _guarded(lambda: ray.get([a.versions.remote() for a in self._actors]))
        for versions in reported:
            self._check(versions)
        distinct: list[dict[str, object]] = []
        for versions in reported:
            entry = next((d for d in distinct if d["versions"] == versions), None)
            if entry is None:
                distinct.append({"versions": versions, "workers": 1})
            else:
                workers = entry["workers"]
                assert isinstance(workers, int)  # set just above
                entry["workers"] = workers + 1
        self._broadcast: tuple[Any, Any] | None = None  # (the build's leak checker, its copy in the object store)
        self._settings = [_guarded(lambda: ray.put(settings))]  # what every unit runs under (Worker.work)
        self._section: dict[str, object] = {
            "engine": "ray", "workers": execution.jobs, "cluster": execution.address is not None,
            "ray": ray.__version__, "worker_versions": distinct}

    def section(self) -> dict[str, object]:
        return dict(self._section)

    def configure(self, settings: Any, driver: dict[str, str]) -> RayWorkers:
        """The same actors for the next run of a session (``kept``): its settings go to the object
        store and with every unit; the last run's leak checker is let go. The driver's versions
        must be the ones the actors were checked against (the same model and rules)."""
        self._check(driver)
        self._settings = [_guarded(lambda: self._ray.put(settings))]
        self._broadcast = None
        self.forget()
        return self

    def forget(self) -> None:
        """Every actor lets go of the last run's texts, values and leak checker (``Worker.forget``), at
        once: an actor that gets no unit in the next run (a year with few texts) holds no raw value
        of an earlier one while it runs that year's leak checks and counts."""
        _guarded(lambda: self._ray.get([actor.forget.remote() for actor in self._actors]))

    def _check(self, versions: dict[str, str]) -> None:
        differ = [key for key in CHECKED if versions.get(key) != self._expected[key]]
        if differ:
            raise EnvironmentProblem(
                f"a Ray worker runs a different {' and '.join(k.replace('_', ' ') for k in differ)} than this "
                "machine; install the same release, model and rules on every worker (nothing was written)")

    def _spread(self, next_for: Callable[[int], int | None], submit: Callable[[Any, int], Any],
                started: Callable[[], None] | None = None) -> Iterator[tuple[int, dict[str, str], Any]]:
        """Tasks kept ``IN_FLIGHT`` on each actor, an actor's next handed to it as soon as one of its
        tasks is done (so it never waits on a round trip, nor on another actor's slower task):
        ``next_for(worker)`` is the index of that worker's next task (None: none left), ``submit``
        hands a task to an actor; ``started`` runs here once the first tasks are out. Yields (index,
        identity, result) as tasks finish, each identity checked against the driver's."""
        ray = self._ray
        running: dict[Any, tuple[int, int]] = {}  # a task's result to come -> (its index, its worker)

        def feed(worker: int) -> None:
            index = next_for(worker)
            if index is not None:
                running[submit(self._actors[worker], index)] = (index, worker)

        for worker in range(len(self._actors)):
            for _ in range(IN_FLIGHT):
                feed(worker)
        if started is not None:
            started()
        while running:
            ready, _ = _guarded(lambda: ray.wait(list(running), num_returns=1))
            index, worker = running.pop(ready[0])
            identity, result = _guarded(functools.partial(ray.get, ready[0]))
            self._check(identity)
            feed(worker)
            yield index, identity, result

    def _dealt(self, parts: int) -> Callable[[int], int | None]:
        """``_spread``'s ``next_for`` when part ``i`` goes to actor ``i mod workers``, each actor's in order."""
        queues = [list(range(parts))[first::len(self._actors)][::-1] for first in range(len(self._actors))]
        return lambda worker: queues[worker].pop() if queues[worker] else None

    def run(self, units: list[Any], alongside: Callable[[], None] | None
            ) -> Iterator[tuple[list[tuple[int, Any]], dict[WindowKey, tuple[Entity, ...]]]]:
        """Each unit to whichever actor is free (``_spread``); the results handed back in the units' order."""
        waiting = list(range(len(units)))[::-1]
        finished: dict[int, list[tuple[int, Any]]] = {}
        following = 0
        for index, _, result in self._spread(lambda worker: waiting.pop() if waiting else None,
                                             lambda actor, index: actor.work.remote(self._settings, units[index]),
                                             alongside):
            finished[index] = result
            while following in finished:
                yield finished.pop(following), {}
                following += 1

    def leak_check(self, checker: Any, public: dict[str, Any]) -> list[Any]:
        """Both leak checks of ``checker`` over ``public``, in row partitions on the actors, merged in
        the order one process gives (``release.stages.leak_partitions``).

        The checker's raw values go to the object store once per build (``ray.put``) and every
        call hands the actors that reference (broadcast), not the values; what the checks compute
        across rows goes there once per call. Partition ``i`` goes to actor ``i mod workers`` in
        every round (each with ``IN_FLIGHT`` at a time), so an actor meets the same rows again and
        its checker's memo answers for the cells no round changed."""
        from release.stages import leak_partitions

        ray = self._ray
        if self._broadcast is None or self._broadcast[0] is not checker:
            self._broadcast = (checker, _guarded(lambda: ray.put(checker.shipped())))
        broadcast = [self._broadcast[1]]
        shared = _guarded(lambda: ray.put(leak_partitions.shared(checker, public)))
        parts = leak_partitions.partitions(checker, public)
        results: list[Any] = [None] * len(parts)
        for index, identity, found in self._spread(
                self._dealt(len(parts)), lambda actor, index: actor.leaks.remote(broadcast, shared, parts[index])):
            _check_code(identity)
            results[index] = found
        return leak_partitions.merged(results)

    def count(self, contributions: Any) -> Any:
        """A table's group-by on the actors: its rows cut by unit into at least one part per actor
        (``COUNT_ROWS`` rows a part), part ``i`` to actor ``i mod workers``; each actor says which
        rows its units keep (``tabulate.kept``) and the counts, drops and profile are computed here
        from the driver's own rows (``tabulate.counted``) and summed (``tabulate.merged``): the
        counts one process gives, and the bounds verified on the rows actually kept. An answer that
        is not one bit per row stops the run."""
        import numpy as np

        from release.stages import tabulate

        parts = tabulate.by_unit(contributions, max(len(self._actors), -(-len(contributions.cells) // COUNT_ROWS)))
        results: list[Any] = [None] * len(parts)
        for index, identity, packed in self._spread(self._dealt(len(parts)),
                                                    lambda actor, index: actor.count.remote(parts[index])):
            _check_code(identity)
            rows = len(parts[index].cells)
            if not (isinstance(packed, np.ndarray) and packed.dtype == np.uint8 and packed.shape == (-(-rows // 8),)):
                raise EnvironmentProblem("a Ray worker's answer for a table's rows is not one bit per row "
                                         "(nothing was written)")
            results[index] = tabulate.counted(parts[index], np.unpackbits(packed, count=rows).astype(bool))
        return tabulate.merged(contributions.size, results)


def _check_code(identity: dict[str, str]) -> None:
    if identity.get(CHECKS_CODE) != checks_code_digest():
        raise EnvironmentProblem("a Ray worker runs other leak checks or table counts than this machine; install "
                                 "the same release on every worker (nothing was written)")


@functools.cache
def checks_code_digest() -> str:
    """SHA-256 of the code the actors run besides the engine (the leak checks, ``leakcheck`` and
    ``leak_partitions``, and the tables' group-by, ``tabulate``) and of the numpy and pandas
    versions it runs on (their grouping decides which rows a unit keeps): a worker reports it with
    every such result, and a worker running another version of any is refused, as one running
    another model or rules is."""
    import numpy
    import pandas

    from release.stages import leak_partitions, leakcheck, tabulate

    digest = hashlib.sha256(f"numpy {numpy.__version__}\x1fpandas {pandas.__version__}\x1f".encode())
    for module in (leakcheck.__file__, leak_partitions.__file__, tabulate.__file__):
        digest.update(Path(module).read_bytes())
    return digest.hexdigest()


def _guarded(call: Callable[[], Any]) -> Any:
    """Ray's errors as ours: a worker's own ReleaseError as it was raised, the rest by type only
    (a message could quote a text)."""
    from ray import exceptions

    try:
        return call()
    except exceptions.RayTaskError as error:
        if isinstance(error.cause, ReleaseError):
            raise error.cause from None
        raise EnvironmentProblem(f"a Ray worker failed ({type(error.cause).__name__}); nothing was written") from None
    except exceptions.RayActorError:
        raise EnvironmentProblem(f"a Ray worker died and was restarted {RESTARTS} times without finishing "
                                 "its units; nothing was written") from None
    except exceptions.RayError as error:
        raise EnvironmentProblem(f"Ray failed ({type(error).__name__}); nothing was written") from None


@contextlib.contextmanager
def _local_token() -> Iterator[None]:
    """A token made for the run, that the in-process Ray's servers require (Ray's token
    authentication). Given through the environment, which Ray's processes inherit, so Ray neither
    writes one to ``~/.ray`` nor uses a token kept there; Ray reads its mode and token once per
    process, so both are read again here."""
    # ray/_raylet.pyi (Ray 2.60) does not declare these two, which _raylet.so defines
    from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]

    with _environment({"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}):
        Config.initialize("")
        AuthenticationTokenLoader.instance().reset_cache()
        yield


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@dataclasses.dataclass
class _Session:
    """Ray kept up across the runs of a ``kept`` block, with the actors its first run started."""

    execution: Execution
    workers: RayWorkers | None = None


_SESSION: list[_Session] = []  # the ``kept`` block this process is in, if any


@contextlib.contextmanager
def kept(execution: Execution) -> Iterator[None]:
    """Inside the block, every run with this execution (``started``) shares one Ray and one set of
    actors: the first run starts them, the next ones send their settings (``RayWorkers.configure``),
    so a run of many years (``release.build.years``) starts Ray and loads each actor's model once, not
    once a year. Ray stops when the block ends."""
    if _SESSION:
        raise RuntimeError("Ray sessions do not nest")
    with _ray_up(execution):
        _SESSION.append(_Session(execution))
        try:
            yield
        finally:
            _SESSION.clear()


def forget_kept() -> None:
    """The actors of the ``kept`` block this process is in, if it started any, let go of the last
    run's texts and values (``RayWorkers.forget``): between the years of a run, at once."""
    if _SESSION and _SESSION[0].workers is not None:
        _SESSION[0].workers.forget()


@contextlib.contextmanager
def started(settings: Any, execution: Execution, driver: dict[str, str]) -> Iterator[RayWorkers]:
    """Ray for the run (in-process, or the cluster at ``execution.address``) with its workers
    started and checked; shut down, and its temporary folder removed, when the block ends. Inside
    ``kept``, the session's Ray and actors, configured for this run, and left up."""
    session = _SESSION[0] if _SESSION else None
    if session is not None and session.execution == execution:
        if session.workers is None:
            session.workers = RayWorkers(_ray(), settings, execution, driver)
            yield session.workers
        else:
            yield session.workers.configure(settings, driver)
        return
    with _ray_up(execution) as ray:
        yield RayWorkers(ray, settings, execution, driver)


@contextlib.contextmanager
def _ray_up(execution: Execution) -> Iterator[Any]:
    """Ray started in this process (or joined at ``execution.address``) for the block."""
    ray = _ray()
    local = execution.address is None
    temp = tempfile.mkdtemp(prefix="release-ray-") if local else None
    with _local_token() if local else contextlib.nullcontext():
        try:
            if execution.address is None:  # local
                ray.init(num_cpus=execution.jobs, include_dashboard=False, log_to_driver=False,
                         configure_logging=False, _temp_dir=temp, _node_ip_address="127.0.0.1")
            else:
                _join(ray, execution.address)
        except EnvironmentProblem:
            raise
        except Exception as error:  # a port in use, a broken install: Ray's start raises plain Exception too
            _stop(ray, temp)
            raise EnvironmentProblem(f"cannot start or join Ray ({type(error).__name__})"
                                     + ("" if local else " at the address given")) from None
        try:
            yield ray
        finally:
            _stop(ray, temp)


def _join(ray: Any, address: str) -> None:
    """Join the cluster at ``address``. Ray itself retries an address where nothing listens for
    minutes on end, so a ``host:port`` (or ``ray://host:port``) is first probed: nothing answering
    within ``PROBE_SECONDS`` is an environment problem at once (``auto`` is Ray's own look-up)."""
    target = address.removeprefix("ray://")
    host, _, port = target.rpartition(":")
    if address != "auto":
        if not host or not port.isdigit():
            raise EnvironmentProblem("--address is HOST:PORT (or ray://HOST:PORT, or auto)", rule="ray-address")
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS).close()
        except OSError:
            raise EnvironmentProblem(f"cannot join the Ray cluster at the address given: nothing answers there "
                                     f"within {PROBE_SECONDS:g} s (is the head started, the port open?)") from None
    ray.init(address=address, log_to_driver=False, configure_logging=False)


def _stop(ray: Any, temp: str | None) -> None:
    with contextlib.suppress(Exception):
        ray.shutdown()
    if temp is not None:
        shutil.rmtree(temp, ignore_errors=True)


# ---- release doctor --address: what a worker on each node of a cluster would run ----------------

def versions_here(rules_dir: str) -> dict[str, str]:
    """What this machine (a cluster node, when run as a task there) would run: the release, Ray,
    Python, the model's fingerprint and the rules' digest (nothing is loaded: both are file hashes)."""
    import platform
    from importlib import metadata

    from release.pii.engine import model_fingerprint
    from release.pii.rulefiles import rules_digest

    return {"release": metadata.version("release"), "ray": metadata.version("ray"),
            "python": platform.python_version(), "model_fingerprint": model_fingerprint(),
            "rules_digest": rules_digest(Path(rules_dir))}


def node_versions(address: str, rules_dir: Path, timeout: float = 120.0) -> list[tuple[str, dict[str, str]]]:
    """Each alive node of the cluster at ``address`` with ``versions_here`` as a task pinned to it
    reports them (``release doctor --address``): a cluster that would refuse a run is found before
    the run. Unreachable, or a node that cannot run the release's code: EnvironmentProblem."""
    ray = _ray()
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    try:
        _join(ray, address)
    except EnvironmentProblem:
        raise
    except Exception as error:  # only Ray runs here, and its start raises plain Exception too (ray/_private/node.py)
        _stop(ray, None)
        raise EnvironmentProblem(f"cannot join the Ray cluster at the address given ({type(error).__name__})") from None
    try:
        nodes = sorted((n for n in ray.nodes() if n.get("Alive")), key=lambda n: str(n.get("NodeManagerHostname")))
        task = ray.remote(num_cpus=0, max_retries=0)(versions_here)
        refs = [task.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n["NodeID"], soft=False))
                .remote(str(rules_dir)) for n in nodes]
        reported = _guarded(lambda: ray.get(refs, timeout=timeout))
        return [(f"{n.get('NodeManagerHostname')} ({str(n['NodeID'])[:8]})", v) for n, v in zip(nodes, reported,
                                                                                                 strict=True)]
    finally:
        _stop(ray, None)
