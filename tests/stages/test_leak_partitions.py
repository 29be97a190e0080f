"""The leak checks cut into row partitions (what ``--engine ray``'s actors run), in this process:
whatever the cut, the merged leaks are the one-process list, in its order; the exemptions that
span rows (established officers, shared structured values) hold across partitions because the
driver computes them from the whole frames."""

from __future__ import annotations

import pickle
from pathlib import Path

import pandas as pd
import pytest
from conftest import contact, person, write_export

from release.config import DatasetPolicy
from release.keys import Tokenizer
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
    assert leak_partitions.merged(results[::-1]) != expected or len(parts) == len(policy.files)  # order is the merge's


def test_exemptions_across_rows_come_from_the_whole_frames(tmp_path: Path, policy: DatasetPolicy) -> None:
    """Computed from a partition's own rows, the officer and shared-street exemptions would not hold
    (one row is never three reports): the driver computes them once, from the whole frames."""
    checker, frames = _reports(tmp_path, policy)
    parts = leak_partitions.partitions(checker, frames, 1)
    own = leak_partitions.merged(leak_partitions.check_part(checker, part, leak_partitions.shared(
        checker, {part.name: part.frame})) for part in parts)
    whole = checker.check(frames)
    assert {leak.column for leak in own} - {leak.column for leak in whole} == {"contact_officer_name", "street"}

