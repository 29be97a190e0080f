"""Which FIOE generation a build uses (issue #16): chosen from the year, and from the headers in
a year two record systems shared; ``--generation`` overrides; a header set that fits none is an
input error naming the file and the columns (never a value); the manifest and packet name it."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import ROOT, invoke

from release.config.policy import load_policy
from release.datasets import generations
from release.errors import ConfigError, InputError
from release.synth.fioe import generate_fioe, write_fioe
from release.synth.fioe_legacy import generate_fioe_legacy, write_fioe_legacy
from release.synth.fioe_rms import generate_fioe_rms, write_fioe_rms

WRITERS: dict[str, Callable[[int, Path], object]] = {
    "mark43": lambda year, out: write_fioe(generate_fioe(year, seed=5, n_reports=6), out),
    "rms": lambda year, out: write_fioe_rms(generate_fioe_rms(year, seed=5, n_reports=6), out),
    "legacy": lambda year, out: write_fioe_legacy(generate_fioe_legacy(year, seed=5, n_reports=6), out),
}
# a header holding a value (a name and a date of birth typed into it) must never be echoed
VALUE_HEADER = "Zebulon Quartermaine 03/14/1999"


def _policy(name: str):  # type: ignore[no-untyped-def]
    return load_policy(ROOT / "redaction_rules" / f"{name}.yaml")


def _export(tmp_path: Path, shape: str, year: int) -> Path:
    folder = tmp_path / f"{shape}-{year}"
    WRITERS[shape](year, folder)
    return folder


@pytest.mark.parametrize(("year", "shape", "chosen", "how"), [
    (2013, "legacy", "legacy", "year"),
    (2011, "legacy", "legacy", "year"),
    (2015, "legacy", "legacy", "headers"),
    (2015, "rms", "rms", "headers"),
    (2017, "rms", "rms", "year"),
    (2019, "rms", "rms", "headers"),
    (2019, "mark43", "mark43", "headers"),
    (2020, "mark43", "mark43", "year"),
], ids=["2013-legacy", "2011-legacy", "2015-legacy", "2015-rms", "2017-rms", "2019-rms", "2019-mark43", "2020-mark43"])
def test_year_and_headers_choose_the_generation(tmp_path: Path, year: int, shape: str, chosen: str, how: str) -> None:
    folder = _export(tmp_path, shape, year)
    choice = generations.choose("fioe", year, None, lambda: folder, _policy)
    assert choice is not None
    assert (choice.generation.name, choice.chosen_by) == (chosen, how)
    assert choice.manifest_section()["policy"] == f"{choice.generation.policy}.yaml"


def test_a_dataset_with_one_schema_has_no_generation(tmp_path: Path) -> None:
    assert generations.choose("shootings", 2020, None, lambda: tmp_path, _policy) is None
    with pytest.raises(ConfigError, match="shootings has one schema"):
        generations.choose("shootings", 2020, "rms", lambda: tmp_path, _policy)


def test_the_option_wins_over_year_and_headers(tmp_path: Path) -> None:
    folder = _export(tmp_path, "mark43", 2019)
    choice = generations.choose("fioe", 2019, "rms", lambda: folder, _policy)
    assert choice is not None and (choice.generation.name, choice.chosen_by) == ("rms", "option")
    with pytest.raises(ConfigError, match="unknown generation 'rm' for fioe; known: mark43, rms, legacy"):
        generations.choose("fioe", 2019, "rm", lambda: folder, _policy)


def _mixed_export(tmp_path: Path) -> Path:
    """An RMS export whose contacts lost the frisk flag and gained Mark43's key situations and a
    header that holds a value: it fits neither generation of 2019."""
    folder = _export(tmp_path, "rms", 2019)
    path = folder / "fieldcontact.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = [c for c in rows[0] if c != "frisked"] + ["key_situations", VALUE_HEADER]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows([{**row, "key_situations": "", VALUE_HEADER: ""} for row in rows])
    return folder


def test_headers_that_fit_no_generation_name_the_file_and_columns(tmp_path: Path) -> None:
    folder = _mixed_export(tmp_path)
    with pytest.raises(InputError) as caught:
        generations.choose("fioe", 2019, None, lambda: folder, _policy)
    message = caught.value.one_line()
    assert caught.value.exit_code == 4
    assert "the headers fit no fioe generation of 2019" in message
    assert "rms (fioe_rms.yaml) lacks fieldcontact.csv:frisked and does not name fieldcontact.csv:key_situations, " \
           "fieldcontact.csv:#" in message
    assert "mark43 (fioe.yaml) does not name fieldcontact.csv:searchperson" in message
    assert "Zebulon" not in message and "1999" not in message


def test_cli_refuses_such_an_export_with_exit_4_and_no_value(tmp_path: Path) -> None:
    folder = _mixed_export(tmp_path)
    code, stdout, stderr = invoke("fioe", "2019", "--input", str(folder), "--out", str(tmp_path / "out"))
    assert code == 4
    assert stderr.startswith("error: file fieldcontact.csv, fieldcontact_name.csv, rule generation: the headers fit "
                             "no fioe generation of 2019")
    assert "lacks fieldcontact.csv:frisked" in stderr and "Traceback" not in stderr
    assert "Zebulon" not in stdout + stderr and "03/14" not in stdout + stderr
    assert not (tmp_path / "out" / "fioe" / "2019").exists()


def test_an_export_of_another_era_is_named_in_the_error(tmp_path: Path) -> None:
    folder = _export(tmp_path, "legacy", 2019)
    code, _, stderr = invoke("fioe", "2019", "--input", str(folder), "--out", str(tmp_path / "out"))
    assert code == 4
    assert "mark43 (fioe.yaml) lacks fieldcontact.csv (the file)" in stderr
    assert "they fit legacy" in stderr and "--generation legacy" in stderr


@pytest.mark.parametrize(("args", "code", "message"), [
    (["shootings", "2020", "--generation", "rms"], 2, "No such option '--generation'"),
    (["fioe", "2020", "--generation", "rm"], 2, "'rm' is not one of 'mark43', 'rms', 'legacy'"),
    (["sample", "shootings", "2020", "--out", "{tmp}/s", "--generation", "rms"], 3,
     "unknown generation 'rms' for shootings; known: none (shootings has one schema)"),
], ids=["one-schema-build", "misspelt", "one-schema-sample"])
def test_generation_option_errors(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    result = invoke(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result[0] == code
    assert message in result[2]


@pytest.mark.parametrize(("year", "generation", "files", "first_columns"), [
    ("2017", "rms", ["fieldcontact.csv", "fieldcontact_name.csv"], "fc_num,contact_date,contact_officer"),
    ("2013", "legacy", ["fio.csv"], "SEQ_NUM,FIO_ID,SEX,LOCATION"),
    ("2020", "mark43", ["fieldcontact.csv", "fieldcontact_name.csv"], "fc_num,contact_date,contact_officer"),
    ("2015", "rms", ["fieldcontact.csv", "fieldcontact_name.csv"], "fc_num,contact_date,contact_officer"),
], ids=["2017", "2013", "2020", "2015"])
def test_sample_writes_the_shape_of_the_system_that_held_most_of_the_year(tmp_path: Path, year: str, generation: str,
                                                                         files: list[str], first_columns: str) -> None:
    code, stdout, stderr = invoke("sample", "fioe", year, "--out", str(tmp_path / "s"), "--reports", "4", "--json")
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["generation"] == generation and result["files"] == files
    header = (tmp_path / "s" / files[0]).read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith(first_columns)
    choice = generations.choose("fioe", int(year), None, lambda: tmp_path / "s", _policy)
    assert choice is not None and choice.generation.name == generation  # the build reads it as written


def test_every_generation_has_its_policy_and_suites() -> None:
    for generation in generations.generations("fioe"):
        policy = _policy(generation.policy)
        assert policy.dataset == "fioe"
        for side in ("raw", "public"):
            suite = json.loads((ROOT / "expectations" / f"{generation.policy}_{side}.json").read_text(encoding="utf-8"))
            assert suite["name"] == f"{generation.policy}_{side}"
            assert set(suite["tables"]) == set(policy.files)
