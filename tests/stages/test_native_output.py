"""What a native solver prints to file descriptor 1 must not reach ``--json`` output."""

from __future__ import annotations

import os

import pytest

from release.stages.native_output import quiet_stdout


def test_writes_to_the_descriptor_are_silenced_and_it_is_restored(capfd: pytest.CaptureFixture[str]) -> None:
    with quiet_stdout():
        os.write(1, b"HighsMipSolverData::transformNewIntegerFeasibleSolution tmpSolver.run();\n")
    os.write(1, b"after\n")
    assert capfd.readouterr().out == "after\n"
