"""Progress: long steps advance text by text, spinners never pose as a ``0/1`` bar, and
nothing is drawn off a terminal or with --json."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from conftest import Recorder, write_csv
from rich.console import Console

from release import api
from release.terminal.progress import RichProgress


def _terminal() -> tuple[RichProgress, io.StringIO]:
    buffer = io.StringIO()
    return RichProgress(Console(file=buffer, force_terminal=True, width=100)), buffer


def test_a_counted_stage_shows_its_count_and_a_spinner_shows_none() -> None:
    progress, buffer = _terminal()
    with progress.stage("scan", total=3) as advance:
        for _ in range(3):
            advance(1)
    with progress.stage("load PII model"):
        pass
    lines = [line for line in buffer.getvalue().splitlines() if line.strip()]
    assert any("scan" in line and "3/3" in line for line in lines)
    model = [line for line in lines if "load PII model" in line]
    assert model and "/1" not in model[-1] and "0/" not in model[-1]


def test_a_stage_opened_inside_another_joins_its_display() -> None:
    progress, buffer = _terminal()
    with progress.stage("audit checks"), progress.stage("residual PII scan", total=2) as advance:
        advance(2)
    assert "residual PII scan" in buffer.getvalue() and "2/2" in buffer.getvalue()


def test_nothing_is_drawn_off_a_terminal() -> None:
    buffer = io.StringIO()
    progress = RichProgress(Console(file=buffer, force_terminal=False))
    with progress.stage("scan", total=5) as advance:
        advance(5)
    assert buffer.getvalue() == ""


def test_scan_advances_text_by_text(tmp_path: Path) -> None:
    """`scan` used to sit at 0/N until every text was done; now the engine reports each batch."""
    rows = [{"id": str(i), "text": f"Observed group number {i} near the park. Released."} for i in range(300)]
    path = write_csv(tmp_path / "public.csv", rows)
    recorder = Recorder()
    result = api.scan_file(path, "text", key_column="id", progress=recorder)
    assert result["rows"] == 300
    [(_, total, steps)] = recorder.named("scan")
    assert total == 300 and sum(steps) == 300 and len(steps) >= 2


def test_the_verify_rounds_second_scan_is_counted_per_text(tiny_export: Path, tmp_path: Path) -> None:
    """The second scan used to sit behind a 0/1 bar for half a minute."""
    recorder = Recorder()
    result = api.build_release(api.BuildOptions(dataset="fioe", year=2020, input_dir=tiny_export,
                                                out_dir=tmp_path / "out", progress=recorder))
    assert result["status"] == "draft"
    scans = recorder.named("verify (round 1): second scan")
    assert scans and all(total and sum(steps) == total for _, total, steps in scans)
    assert recorder.named("verify (round 1): leak checks")
    redact = recorder.named("redact free text")
    assert redact and all(sum(steps) == total for _, total, steps in redact)


@pytest.mark.parametrize("total", [None, 0])
def test_a_stage_without_a_count_finishes_cleanly(total: int | None) -> None:
    progress, buffer = _terminal()
    with progress.stage("publish", total=total) as advance:
        advance(1)
    assert "publish" in buffer.getvalue()
