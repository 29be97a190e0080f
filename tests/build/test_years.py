"""A range of years in one run (``release fioe 2020-2021 --input EXPORTS``), through the CLI.

Each year is its own release, the same bundle a single-year build of its folder writes; every
year is resolved before the first is built; a blocked year leaves its packet and the run goes
on; an export breaking its contract stops the run at that year, naming it and the years built
before it. No raw value in any output.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import contact, invoke, person, write_export

from release.build.years import parse_years
from release.errors import ConfigError

NAME = "Zebulon Quartermaine"  # a fictitious subject (conftest.person)


def _export(folder: Path, year: int, *, blocked: bool = False) -> Path:
    """A tiny export of ``year``; ``blocked``: the subject's own name typed into the officer column (a
    raw value in a structured column, which redaction cannot fix)."""
    when = f"{year}-03-04 17:25:00"
    officer = {"contact_officer_name": NAME.upper()} if blocked else {}
    contacts = [contact(f"FC{year % 100}000001", contact_date=when, **officer),
                contact(f"FC{year % 100}000002", contact_date=when, contact_reason="Officers observed a group. Released.")]
    persons = [person(f"FC{year % 100}000001", contact_date=when),
               person(f"FC{year % 100}000002", contact_date=when, first_name="Hortensia", last_name="Bramblewood",
                      alias="", dob="1990-01-02", age=str(year - 1990))]
    return write_export(folder / str(year), contacts, persons)


def _hashes(bundle: Path) -> dict[str, str]:
    manifest = json.loads((bundle / "manifest.json").read_text())
    return {entry["path"]: entry["sha256"] for entry in manifest["outputs"]}


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, tuple[int, str, str]]:
    """2020 a draft, 2021 blocked, built in one run."""
    exports = tmp_path_factory.mktemp("exports")
    _export(exports, 2020)
    _export(exports, 2021, blocked=True)
    out = tmp_path_factory.mktemp("out")
    return exports, out, invoke("fioe", "2020-2021", "--input", str(exports), "--out", str(out), "--json")


@pytest.mark.slow
@pytest.mark.shared_ledger  # the rebuild below charges the ledger the module fixture built on
def test_each_year_is_its_own_release_and_a_blocked_year_does_not_stop_the_next(
        ran: tuple[Path, Path, tuple[int, str, str]]) -> None:
    exports, out, (code, stdout, stderr) = ran
    assert code == 5, stderr                       # the worst year's: one is blocked
    result = json.loads(stdout)
    assert result["years"] == [2020, 2021] and result["drafts"] == 1 and result["blocked"] == [2021]
    assert [(r["year"], r["status"], r["exit_code"]) for r in result["results"]] == [
        (2020, "draft", 0), (2021, "blocked", 5)]
    assert "2021" in stderr and "packet" in stderr
    from release.execution.workers import _WARM
    from release.pii.skeleton import skeleton_of
    from release.stages.leakcheck import fold_map
    assert _WARM and all(len(engine.ner_cache) == 0 for engine in _WARM.values())  # no year's texts held after it
    assert fold_map.cache_info().currsize == skeleton_of.cache_info().currsize == 0  # nor its values
    blocked = out / "fioe" / "2021"
    assert not (blocked / "public").exists() and (blocked / "review" / "index.html").is_file()
    evidence = json.loads((blocked / "review" / "blocking.json").read_text())
    assert [(e["row_key"], e["column"]) for e in evidence] == [("FC21000001", "contact_officer_name")]
    texts = [stdout, stderr, *(p.read_text(encoding="utf-8", errors="replace") for p in out.rglob("*") if p.is_file())]
    assert not any("quartermaine" in text.lower() for text in texts)

    # the year's bundle is the one a build of its folder alone writes (the same draft rebuilt:
    # same key, same ledger, so its noisy tables are the same draws)
    built = _hashes(out / "fioe" / "2020")
    code, _, stderr = invoke("fioe", "2020", "--input", str(exports / "2020"), "--out", str(out), "--json")
    assert code == 0, stderr
    assert _hashes(out / "fioe" / "2020") == built


def test_a_missing_year_folder_stops_the_run_before_any_year_is_built(tmp_path: Path) -> None:
    _export(tmp_path / "exports", 2020)
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", "2019-2021", "--input", str(tmp_path / "exports"), "--out", str(out))
    assert code == 4
    assert "missing: 2019, 2021" in stderr and "Traceback" not in stderr
    assert not out.exists()


def test_a_year_whose_export_breaks_the_contract_names_it_and_the_years_built(tmp_path: Path) -> None:
    exports = tmp_path / "exports"
    _export(exports, 2020)
    (exports / "2021").mkdir()                     # no files: the contract's files are missing
    out = tmp_path / "out"
    code, stdout, stderr = invoke("fioe", "2020-2021", "--input", str(exports), "--out", str(out), "--json")
    assert code == 4, stderr
    error = json.loads(stdout)
    assert error["message"].startswith("year 2021: ")
    assert "the years before it were built (2020)" in error["message"]
    assert (out / "fioe" / "2020" / "manifest.json").is_file() and not (out / "fioe" / "2021").exists()
    assert "Traceback" not in stderr


def test_a_range_needs_one_folder_per_year(tmp_path: Path) -> None:
    code, _, stderr = invoke("fioe", "2020-2021")
    assert code == 3 and "--input" in stderr
    # a range of one year reads the year's folder too, not --input itself (round 38, F5)
    _export(tmp_path / "exports", 2020)
    code, _, stderr = invoke("fioe", "2021-2021", "--input", str(tmp_path / "exports"), "--out", str(tmp_path / "x"))
    assert code == 4 and "missing: 2021" in stderr and not (tmp_path / "x").exists()


@pytest.mark.parametrize(("text", "years"), [("2020", (2020,)), ("2011-2013", (2011, 2012, 2013)),
                                             (" 2019-2019 ", (2019,))])
def test_years_are_a_year_or_a_range(text: str, years: tuple[int, ...]) -> None:
    assert parse_years(text) == years


@pytest.mark.parametrize("text", ["2021-2020", "20", "2020-", "1980-1990", "2020..2021", "twenty"])
def test_anything_else_is_refused_naming_the_rule(text: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_years(text)
    assert refused.value.rule == "year"


def test_the_cli_refuses_a_malformed_year_as_a_usage_error() -> None:
    code, _, stderr = invoke("fioe", "2021-2020")
    assert code == 2 and "YEAR" in stderr
