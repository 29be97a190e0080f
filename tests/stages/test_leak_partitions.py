"""The leak checks cut into row partitions (what ``--engine ray``'s actors run), in this process:
whatever the cut, the merged leaks are the one-process list, in its order; the exemptions that
span rows (established officers, shared structured values) hold across partitions because the
driver computes them from the whole frames. Then the driver's side of it (``RayWorkers.leak_check``)
with Ray's calls answered in this process (no Ray started): the checker goes to the object store
once per build, each worker fetches it once and meets the same rows every round, results that come
back out of order are merged in order, and a worker running other leak checks is refused."""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from conftest import contact, person, write_export
from in_process_ray import DRIVER, InProcessRay, in_process_workers

from release.config.policy import DatasetPolicy
from release.keys.hmac import Tokenizer
from release.stages import leak_partitions
from release.stages.generalize import generalize
from release.stages.juvenile import minor_keys
from release.stages.leakcheck import LeakChecker
from release.stages.load import load_export

KEY = Tokenizer(b"p" * 64)
# fictitious subjects, one per report (QUILLFEATHER, ODO is every report's officer: established)
NAMES = [("Ottoline", "Vandersnoot"), ("Odo", "Quillfeather"), ("Barnaby", "Pemberton"),
         ("Thaddeus", "Winterbottom"), ("Griselda", "Quackenbush"), ("Leopold", "Oddfellow")]


def _reports(tmp_path: Path, policy: DatasetPolicy) -> tuple[LeakChecker, dict[str, pd.DataFrame]]:
    """Six reports whose public frames hold: a record's own name in its narrative (both checks find
    it), another record's name in a narrative and in a person's clothing (release-wide), a subject
    who shares the established officer's name in that officer column (exempt), and another record's
    name as a structured value three reports share (exempt)."""
    numbers = [f"FC2000000{i}" for i in range(1, 7)]
    narratives = {numbers[2]: "Officers spoke with Barnaby Pemberton near the park.",
                  numbers[3]: "Later seen with Griselda Quackenbush on the corner."}
    contacts = [contact(n, **({"contact_reason": narratives[n]} if n in narratives else {})) for n in numbers]
    persons = [person(n, first_name=first, last_name=last, alias="", dob=f"0{i + 1}/1{i}/1990",
                      home_address=f"{20 + i} Elm St", phone=f"617-555-01{i}{i}", license_number=f"S0000000{i}",
                      **({"otherclothing": "JACKET SAYS BARNABY PEMBERTON"} if i == 5 else {}))
               for i, (n, (first, last)) in enumerate(zip(numbers, NAMES, strict=True))]
    loaded = load_export(write_export(tmp_path, contacts, persons), policy, 2020)
    public, _, _ = generalize(loaded.tables, policy, minor_keys(loaded.tables, policy), KEY)
    frames = {name: frame.copy() for name, frame in public.frames.items()}
    shared_street = frames["contacts"][frames["contacts"]["fc_num"].isin([numbers[0], numbers[4], numbers[5]])].index
    frames["contacts"].loc[shared_street, "street"] = "THADDEUS WINTERBOTTOM"
    return LeakChecker(loaded.tables.frames, policy, 2020), frames


@pytest.mark.parametrize("rows", [1, 2, 4, 1000], ids=["row-by-row", "pairs", "fours", "whole-files"])
def test_partitioned_leaks_are_the_one_process_leaks_in_its_order(tmp_path: Path, policy: DatasetPolicy,
                                                                  rows: int) -> None:
    checker, frames = _reports(tmp_path, policy)
    expected = checker.check(frames)
    assert {(leak.file.split("_")[-1], leak.kind) for leak in expected} == {
        ("contacts.csv", "raw-only value"), ("contacts.csv", "raw-only value of a record"),
        ("persons.csv", "raw-only value of a record")}  # both checks, both files
    parts = leak_partitions.partitions(checker, frames, rows)
    assert len(parts) == sum(-(-len(frames[name]) // rows) for name in policy.files)
    worker = pickle.loads(pickle.dumps(checker.shipped()))  # what an actor gets from the object store
    assert worker.raw == {} and "automaton" not in vars(worker)  # built there, from the values
    shared = pickle.loads(pickle.dumps(leak_partitions.shared(checker, frames)))
    results = [leak_partitions.check_part(worker, part, shared) for part in parts]
    assert leak_partitions.merged(results) == expected
    if len(parts) > len(policy.files):  # the order is the merge's: the parts' order, not the workers'
        assert leak_partitions.merged(results[::-1]) != expected


def test_exemptions_across_rows_come_from_the_whole_frames(tmp_path: Path, policy: DatasetPolicy) -> None:
    """Computed from a partition's own rows, the officer and shared-street exemptions would not hold
    (one row is never three reports): the driver computes them once, from the whole frames."""
    checker, frames = _reports(tmp_path, policy)
    parts = leak_partitions.partitions(checker, frames, 1)
    own = leak_partitions.merged(leak_partitions.check_part(checker, part, leak_partitions.shared(
        checker, {part.name: part.frame})) for part in parts)
    whole = checker.check(frames)
    assert {leak.column for leak in own} - {leak.column for leak in whole} == {"contact_officer_name", "street"}



# ---- the driver's side under --engine ray (release.execution.ray_workers), Ray's calls run in this process ----

@pytest.fixture()
def workers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[object, InProcessRay]]:
    monkeypatch.setattr(leak_partitions, "ROWS_PER_PART", 2)
    with in_process_workers(monkeypatch) as running:
        yield running


def test_the_checker_goes_out_once_and_every_round_cuts_the_same_rows_for_the_same_worker(
        tmp_path: Path, policy: DatasetPolicy, workers: tuple[object, InProcessRay]) -> None:
    checker, frames = _reports(tmp_path, policy)
    runner, fake = workers
    expected = checker.check(frames)
    rounds = [runner.leak_check(checker, frames) for _ in range(2)]  # type: ignore[attr-defined]
    assert rounds == [expected, expected]
    put = [type(value).__name__ for value in fake.put_values]
    # the run's engine settings once (every unit names them: execution.workers.kept), the raw values once per
    # build, what rows share once per call
    assert put == ["Settings", "LeakChecker", "Shared", "Shared"]
    assert fake.put_values[1].raw == {}  # type: ignore[attr-defined]  (the raw frames stay here)
    assert sum(isinstance(value, LeakChecker) for value in fake.fetched) == 2  # each worker's once, kept
    first, second = (actor.parts for actor in runner._actors)  # type: ignore[attr-defined]
    assert len(first) == len(second) == 6 and not set(first) & set(second)  # 12 rows in pairs, twice
    assert first[:3] == first[3:] and second[:3] == second[3:]  # round 2: the same rows as round 1, each


def test_a_worker_running_other_leak_checks_is_refused(tmp_path: Path, policy: DatasetPolicy,
                                                       workers: tuple[object, InProcessRay]) -> None:
    from release.errors import EnvironmentProblem
    from release.execution.ray_workers import CHECKS_CODE

    checker, frames = _reports(tmp_path, policy)
    runner, _ = workers
    runner._actors[1].worker.checks_identity[CHECKS_CODE] = "0" * 64  # type: ignore[attr-defined]
    with pytest.raises(EnvironmentProblem, match="a Ray worker runs other leak checks or table counts than this machine"):
        runner.leak_check(checker, frames)  # type: ignore[attr-defined]


def test_between_years_every_actor_lets_go_of_the_last_years_texts_and_values(
        tmp_path: Path, policy: DatasetPolicy, workers: tuple[object, InProcessRay]) -> None:
    """``forget_texts`` (called by ``release.build.years`` after each year) reaches the actors a run keeps,
    each of them, whether or not it will get a unit of the next year; so does the next year's
    settings (``configure``)."""
    from release.execution import ray_workers
    from release.execution import workers as execution_workers
    from release.pii.parallel import Execution
    from release.stages.leakcheck import fold_map

    checker, frames = _reports(tmp_path, policy)
    runner, _ = workers
    runner.leak_check(checker, frames)  # type: ignore[attr-defined]
    assert fold_map.cache_info().currsize > 0 and all(a.worker.checker for a in runner._actors)  # type: ignore[attr-defined]
    session = ray_workers._Session(Execution(engine="ray", jobs=2), runner)  # type: ignore[arg-type]
    ray_workers._SESSION.append(session)
    try:
        execution_workers.forget_texts()
    finally:
        ray_workers._SESSION.clear()
    assert [len(a.calls["forget"]) for a in runner._actors] == [1, 1]  # type: ignore[attr-defined]
    assert fold_map.cache_info().currsize == 0 and not any(a.worker.checker for a in runner._actors)  # type: ignore[attr-defined]
    runner.configure(runner._settings, DRIVER)  # type: ignore[attr-defined]
    assert [len(a.calls["forget"]) for a in runner._actors] == [2, 2]  # type: ignore[attr-defined]
