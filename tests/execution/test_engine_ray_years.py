"""`release fioe FIRST-LAST --engine ray`: one Ray and one set of actors for every year of the run
(release.execution.workers.kept), each year's bundle the local run's. Its own module, so that pytest-xdist
can run it beside tests/execution/test_engine_ray.py (a module's tests stay on one worker: CI's time is short)."""

from __future__ import annotations

from pathlib import Path

import pytest
import ray  # noqa: F401 (fails the module, never skips it, when the extra is missing)
from conftest import invoke

from release.execution import ray_workers
from release.execution.ray_workers import Worker

RAY = ["--engine", "ray", "--jobs", "2"]


def _year_export(folder: Path, year: int, officer: str) -> None:
    """A tiny export of ``year`` whose narrative names the year's own officer (a roster name the
    policy keeps): under another year's roster the engine would redact it as a person."""
    from conftest import contact, person, write_export

    when = f"{year}-05-06 10:15:00"
    reason = f"Officer {officer.title()} observed the operator near Blue Hill Ave. Released."
    write_export(folder / str(year),
                 [contact(f"FC{year % 100}000001", contact_date=when, contact_officer_name=officer,
                          contact_reason=reason),
                  contact(f"FC{year % 100}000002", contact_date=when, contact_reason="Group observed. Released.")],
                 [person(f"FC{year % 100}000001", contact_date=when),
                  person(f"FC{year % 100}000002", contact_date=when, first_name="Hortensia",
                         last_name="Bramblewood", alias="", dob="1990-01-02", age=str(year - 1990))])


@pytest.mark.slow
@pytest.mark.shared_ledger
def test_a_range_of_years_keeps_one_ray_and_its_actors_and_gives_the_local_releases(
        tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``release fioe 2020-2021 --engine ray``: Ray starts and each actor loads its model once for
    both years (``execution.workers.kept``), each year's settings (its officer roster) reach the actors,
    and each year's bundle is the local run's, byte for byte."""
    exports = tmp_path_factory.mktemp("years")
    _year_export(exports, 2020, "IGNATIUS VANTONGEREN")
    _year_export(exports, 2021, "PERPETUA OKONKWO-LINDQVIST")
    local = tmp_path_factory.mktemp("local-years")
    code, _, stderr = invoke("fioe", "2020-2021", "--input", str(exports), "--out", str(local), "--json", "--jobs", "1")
    assert code == 0, stderr
    started = tmp_path / "actors"

    class Counted(Worker):  # defined here: Ray ships it to the workers by value
        def __init__(self, settings: object) -> None:
            with started.open("a") as handle:
                handle.write("started\n")
            super().__init__(settings)

    monkeypatch.setattr(ray_workers, "WORKER", Counted)
    on_ray = tmp_path / "ray"
    code, _, stderr = invoke("fioe", "2020-2021", "--input", str(exports), "--out", str(on_ray), "--json", *RAY)
    assert code == 0, stderr
    assert started.read_text().count("started") == 2  # two actors, for both years
    for year, officer in (("2020", "Vantongeren"), ("2021", "Okonkwo-Lindqvist")):
        mine, theirs = local / "fioe" / year, on_ray / "fioe" / year
        files = sorted(p.relative_to(mine).as_posix() for p in (mine / "public").rglob("*") if p.is_file())
        assert files == sorted(p.relative_to(theirs).as_posix() for p in (theirs / "public").rglob("*") if p.is_file())
        for name in files:
            assert (mine / name).read_bytes() == (theirs / name).read_bytes(), name
        assert (mine / "redaction_log.jsonl").read_bytes() == (theirs / "redaction_log.jsonl").read_bytes()
        # the year's own roster kept its officer's name in the narrative (another year's would not)
        assert officer in (theirs / "public" / f"fioe_{year}_contacts.csv").read_text(encoding="utf-8")
