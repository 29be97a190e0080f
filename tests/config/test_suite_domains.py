"""The suites' vocabulary checks are generated from the policies and stay in step; no raw
check is one that can never fail."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from release.config.codebooks import SHIFT_MIN_VALUES, vocabulary_view
from release.config.policy import load_policy
from release.config.suite_domains import IN_SET, RAW_MOSTLY, REGEX, checked_at_load, main, synced, with_domain_checks
from release.stages.validate import TableData, validate

ROOT = Path(__file__).resolve().parents[2]
DATASETS = sorted(p.stem.removesuffix("_public") for p in (ROOT / "expectations").glob("*_public.json"))


@pytest.mark.parametrize("side", ["public", "raw"])
@pytest.mark.parametrize("dataset", DATASETS)
def test_shipped_suite_is_in_step_with_its_policy(dataset: str, side: str) -> None:
    text, wanted = synced(ROOT / "expectations" / f"{dataset}_{side}.json", ROOT / "redaction_rules" / f"{dataset}.yaml")
    assert text == wanted, "run `python -m release.config.suite_domains` and commit the suites it rewrites"


def _checks(dataset: str, table: str) -> dict[str, dict]:
    suite = json.loads((ROOT / "expectations" / f"{dataset}_public.json").read_text(encoding="utf-8"))
    return {c["kwargs"]["column"]: c for c in suite["tables"][table]["expectations"]
            if c["type"] in (IN_SET, REGEX) and "column" in c["kwargs"]}


def test_every_published_closed_column_of_fioe_has_its_check() -> None:
    policy = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
    for table, file_policy in policy.files.items():
        checks = _checks("fioe", table)
        for column in file_policy.public_columns():
            rule = file_policy.columns[column]
            if rule.type == "keep" or getattr(rule, "pattern", None):
                assert column in checks, (table, column)
                assert checks[column]["meta"]["level"] == "critical"
    weather = policy.files["contacts"].columns["weather"]
    assert checks_value_set("contacts", "weather") == list(weather.domain)  # type: ignore[union-attr]


def checks_value_set(table: str, column: str) -> list[str]:
    return list(_checks("fioe", table)[column]["kwargs"]["value_set"])


@pytest.mark.parametrize(
    ("cell", "ok"),
    [("Body Worn Camera, Gang", True), ("Gang", True), ("Other Agency/Unit Notified", True),
     ("Gang, Zebulon Quartermaine", False), ("Gang,Drugs", False)],
    ids=["two", "one", "slash", "name", "unspaced"])
def test_list_regex_reads_published_lists_only(cell: str, ok: bool) -> None:
    regex = _checks("fioe", "contacts")["key_situations"]["kwargs"]["regex"]
    assert bool(re.match(regex, cell)) is ok


def test_hand_written_value_check_is_replaced_once_and_the_rest_kept() -> None:
    policy = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
    keep = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "weather"},
            "meta": {"level": "warning", "why": "hand-written"}}
    stale = {"type": IN_SET, "kwargs": {"column": "weather", "value_set": ["Sunny"]},
             "meta": {"level": "warning", "why": "stale"}}
    document = {"name": "fioe_public", "tables": {"contacts": {"expectations": [stale, keep, stale]}}}
    once = with_domain_checks(document, policy)
    checks = once["tables"]["contacts"]["expectations"]
    assert checks[1] == keep
    assert [c["kwargs"]["column"] for c in checks].count("weather") == 2
    assert checks[0]["kwargs"]["value_set"] != ["Sunny"]
    assert with_domain_checks(once, policy) == once


def test_check_mode_reports_a_stale_suite(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suites = tmp_path / "expectations"
    suites.mkdir()
    text = (ROOT / "expectations" / "shots_fired_public.json").read_text(encoding="utf-8")
    (suites / "shots_fired_public.json").write_text(text.replace('"External"', '"Elsewhere"'), encoding="utf-8")
    args = ["--rules", str(ROOT / "redaction_rules"), "--expectations", str(suites)]
    assert main([*args, "--check"]) == 1
    assert main(args) == 0
    assert (suites / "shots_fired_public.json").read_text(encoding="utf-8") == text
    assert "differs" in capsys.readouterr().out



def test_a_column_set_to_drop_leaves_both_suites_so_the_packets_fix_ends_in_a_release(tmp_path: Path) -> None:
    """The City's 2022 export holds key situations in ``weather``: the raw suite blocks the build and its
    fix says to set the column to ``drop`` and run this. Its generated checks go and it leaves the public
    allow-list (before, they stayed: the rebuild blocked again on the missing column). Other columns'
    checks stay as they were."""
    import shutil

    rules, suites = tmp_path / "rules", tmp_path / "expectations"
    shutil.copytree(ROOT / "redaction_rules", rules)
    shutil.copytree(ROOT / "expectations", suites)
    policy = rules / "fioe.yaml"
    text = policy.read_text(encoding="utf-8")
    line = '      weather: {type: keep, codebook: weather, description: "Weather at the time."}'
    assert line in text
    policy.write_text(text.replace(line, '      weather: {type: drop, reason: "another column\'s values this year"}'),
                      encoding="utf-8")
    assert main(["--rules", str(rules), "--expectations", str(suites)]) == 0
    for side in ("raw", "public"):
        before = json.loads((ROOT / "expectations" / f"fioe_{side}.json").read_text(encoding="utf-8"))
        after = json.loads((suites / f"fioe_{side}.json").read_text(encoding="utf-8"))
        assert "weather" not in json.dumps(after), side
        kept = [{**c, "kwargs": {**c["kwargs"], "column_list": [n for n in c["kwargs"]["column_list"] if n != "weather"]}}
                if c["type"] == "expect_table_columns_to_match_ordered_list" else c
                for c in before["tables"]["contacts"]["expectations"]
                if c["type"] == "expect_table_columns_to_match_ordered_list" or "weather" not in json.dumps(c)]
        assert after["tables"]["contacts"]["expectations"] == kept, side
        assert after["tables"]["persons"] == before["tables"]["persons"]
    assert main(["--rules", str(rules), "--expectations", str(suites), "--check"]) == 0  # in step now

# --- raw suites: every check can fail ------------------------------------------------------

RAW_SUITES = sorted((ROOT / "expectations").glob("*_raw.json"))


def _raw_suite(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", RAW_SUITES, ids=[p.stem for p in RAW_SUITES])
def test_raw_suite_has_no_check_the_loader_makes_unfailable(path: Path) -> None:
    """The loader fills an absent optional column and refuses an absent required one, refuses
    a row key (or parent link) not of its format, and drops rows without a readable date or
    a parent: a raw check on any of these could never fail, so none is written."""
    policy = load_policy(ROOT / "redaction_rules" / f"{path.stem.removesuffix('_raw')}.yaml")
    for table, body in _raw_suite(path)["tables"].items():
        file_policy = policy.files[table]
        for check in body["expectations"]:
            column = check["kwargs"].get("column")
            assert check["type"] != "expect_column_to_exist", (table, column)
            if column in checked_at_load(file_policy):
                assert check["type"] not in (IN_SET, REGEX), (table, column)
                assert check["type"] != "expect_column_values_to_not_be_null" or file_policy.parent is None
            if column == file_policy.date_column:
                assert check["type"] != "expect_column_values_to_not_be_null", (table, column)


@pytest.mark.parametrize("path", RAW_SUITES, ids=[p.stem for p in RAW_SUITES])
def test_every_raw_check_can_fail(path: Path) -> None:
    """A table of one all-blank row and two equal rows of a value in no vocabulary or format
    fails every check of the suite: none is always true."""
    suite = _raw_suite(path)
    tables = []
    for table, body in suite["tables"].items():
        columns = sorted({c for check in body["expectations"]
                          for c in ([check["kwargs"]["column"]] if "column" in check["kwargs"]
                                    else check["kwargs"].get("column_list", []))})
        frame = pd.DataFrame({c: [None, "\u0001nothing-valid", "\u0001nothing-valid"] for c in columns}, dtype=object)
        frame["_row_key"] = ["r0", "r1", "r2"]
        tables.append(TableData(table, f"{table}.csv", frame, "_row_key"))
    results, _ = validate(tables, path, stage="validate_raw")
    assert [(r.table, r.expectation, r.column) for r in results if r.success] == []


@pytest.mark.parametrize("path", RAW_SUITES, ids=[p.stem for p in RAW_SUITES])
def test_every_closed_column_has_a_raw_domain_check(path: Path) -> None:
    policy = load_policy(ROOT / "redaction_rules" / f"{path.stem.removesuffix('_raw')}.yaml")
    suite = _raw_suite(path)
    for table, file_policy in policy.files.items():
        checks = {c["kwargs"]["column"]: c for c in suite["tables"][table]["expectations"]
                  if c["type"] in (IN_SET, REGEX) and "column" in c["kwargs"]}
        for column in file_policy.public_columns():
            rule = file_policy.columns[column]
            if (rule.type == "keep" or getattr(rule, "pattern", None)) and column not in checked_at_load(file_policy):
                assert checks[column]["meta"]["level"] == "critical", (table, column)
                assert checks[column]["kwargs"]["mostly"] == RAW_MOSTLY, (table, column)


def test_raw_view_reads_closed_cells_as_the_policy_does() -> None:
    policy = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
    filler = [None] * (SHIFT_MIN_VALUES - 2)
    frame = pd.DataFrame({"state": ["mass", "Zebulon", *filler], "key_situations": ["gang,drugs", "Gang, Zebulon", *filler],
                          "weather": ["sunny", "Body Worn Camera", *filler]}, dtype=object)
    judged = pd.concat([frame] * 5, ignore_index=True)  # enough values to judge a shift
    view = vocabulary_view(judged, policy.files["contacts"]).head(2)
    assert view.to_dict("list") == {"state": ["MA", "Zebulon"], "key_situations": ["Gang, Drugs", "Gang, Zebulon"],
                                    "weather": ["Sunny", "Body Worn Camera"]}
    assert judged["state"].tolist()[:2] == ["mass", "Zebulon"]  # the input is not changed
    small = vocabulary_view(frame, policy.files["contacts"]).head(2)  # too few values: unknowns not judged
    assert small.to_dict("list") == {"state": ["MA", None], "key_situations": ["Gang, Drugs", None],
                                     "weather": ["Sunny", None]}


def test_a_policy_mistake_is_named_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The way forward the City's 2022 packet gives (set ``weather`` to ``drop``, regenerate the suites):
    a drop rule without its reason is a configuration error (3) naming the file and key, never a traceback."""
    import shutil

    from conftest import ROOT

    shutil.copytree(ROOT / "redaction_rules", tmp_path / "rules")
    shutil.copytree(ROOT / "expectations", tmp_path / "exp")
    policy = tmp_path / "rules" / "fioe.yaml"
    policy.write_text(re.sub(r"(?m)^      weather: \{.*\}$", '      weather: {type: drop, description: "x"}',
                             policy.read_text(encoding="utf-8")), encoding="utf-8")
    assert main(["--rules", str(tmp_path / "rules"), "--expectations", str(tmp_path / "exp")]) == 3
    said = capsys.readouterr().err
    assert "fioe.yaml" in said and "weather.reason" in said and "Traceback" not in said


# --- the public schema block: allow-list and raw-only absence checks, from the policy -----------------

ALLOW_LIST = "expect_table_columns_to_match_ordered_list"
ABSENT = "expect_column_to_not_exist"


def _copy_rules(tmp_path: Path) -> tuple[Path, Path]:
    import shutil

    rules, suites = tmp_path / "rules", tmp_path / "expectations"
    shutil.copytree(ROOT / "redaction_rules", rules)
    shutil.copytree(ROOT / "expectations", suites)
    return rules, suites


def _edit_policy(rules: Path, old: str, new: str) -> None:
    policy = rules / "fioe.yaml"
    text = policy.read_text(encoding="utf-8")
    assert text.count(old) == 1
    policy.write_text(text.replace(old, new), encoding="utf-8")


def _table(suites: Path, side: str, table: str) -> list[dict]:
    return json.loads((suites / f"fioe_{side}.json").read_text(encoding="utf-8"))["tables"][table]["expectations"]


def test_one_more_raw_only_column_gains_its_absence_check(tmp_path: Path) -> None:
    """A column the policy makes raw-only gains a critical absence check, after the others in policy order,
    whose reason is its description; it leaves the allow-list and its value checks go. Nothing else moves."""
    rules, suites = _copy_rules(tmp_path)
    _edit_policy(rules, '      weather: {type: keep, codebook: weather, description: "Weather at the time."}',
                 '      weather: {type: raw_only, term: other, description: "Weather at the time."}')
    assert main(["--rules", str(rules), "--expectations", str(suites)]) == 0
    before, after = _table(ROOT / "expectations", "public", "contacts"), _table(suites, "public", "contacts")
    assert [c["kwargs"].get("column") for c in after[:4]] == [None, "incident_address", "vehicle_plate", "weather"]
    assert after[3] == {"type": ABSENT, "kwargs": {"column": "weather"},
                        "meta": {"level": "critical", "why": "raw-only: weather at the time"}}
    assert after[0]["kwargs"]["column_list"] == [c for c in before[0]["kwargs"]["column_list"] if c != "weather"]
    assert after[0]["meta"] == before[0]["meta"]
    assert after[4:] == [c for c in before[3:] if c["kwargs"].get("column") != "weather"]
    assert "weather" not in json.dumps(_table(suites, "raw", "contacts"))
    assert main(["--rules", str(rules), "--expectations", str(suites), "--check"]) == 0


def test_a_column_published_again_loses_its_absence_check_and_joins_the_allow_list(tmp_path: Path) -> None:
    rules, suites = _copy_rules(tmp_path)
    _edit_policy(rules, "      alias: {type: raw_only, term: alias}\n", "")
    _edit_policy(rules, "      phone: {type: raw_only, term: phone}\n",
                 '      phone: {type: raw_only, term: phone}\n      alias: {type: free_text, description: "Alias."}\n')
    assert main(["--rules", str(rules), "--expectations", str(suites)]) == 0
    after = _table(suites, "public", "persons")
    assert "alias" in after[0]["kwargs"]["column_list"]
    assert [c["kwargs"]["column"] for c in after if c["type"] == ABSENT] == [
        "first_name", "middle_name", "last_name", "dob", "home_address", "phone", "license_number"]


def test_the_schema_block_is_rewritten_where_it_was_and_keeps_its_sentences() -> None:
    """A stale allow-list and absence checks out of order are rewritten in place, in policy order; a
    hand-written absence check of a column that is not raw-only (the legacy file's dropped timestamps)
    stays where it is."""
    policy = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
    hand = {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "fc_num"},
            "meta": {"level": "critical", "why": "hand-written"}}
    dropped = {"type": ABSENT, "kwargs": {"column": "seq_num"}, "meta": {"level": "critical", "why": "dropped"}}
    document = {"name": "fioe_public", "tables": {"contacts": {"expectations": [
        hand,
        {"type": ABSENT, "kwargs": {"column": "vehicle_plate"}, "meta": {"level": "warning", "why": "raw-only: plate"}},
        {"type": ALLOW_LIST, "kwargs": {"column_list": ["fc_num", "incident_address"]},
         "meta": {"level": "critical", "why": "allow-list"}},
        dropped,
        {"type": ABSENT, "kwargs": {"column": "weather"}, "meta": {"level": "critical", "why": "raw-only: stale"}},
    ]}}}
    checks = with_domain_checks(document, policy)["tables"]["contacts"]["expectations"]
    assert checks[0] == hand
    assert checks[1] == {"type": ALLOW_LIST, "kwargs": {"column_list": policy.files["contacts"].public_columns()},
                         "meta": {"level": "critical", "why": "allow-list"}}
    assert checks[2]["kwargs"]["column"] == "incident_address"
    assert checks[2]["meta"]["why"] == "raw-only: full address of the stop"
    assert checks[3] == {"type": ABSENT, "kwargs": {"column": "vehicle_plate"},
                         "meta": {"level": "critical", "why": "raw-only: plate"}}
    assert checks[4] == dropped
    assert "weather" not in [c["kwargs"].get("column") for c in checks if c["type"] == ABSENT]


def test_a_table_the_suite_lacks_starts_with_its_schema_block() -> None:
    policy = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
    checks = with_domain_checks({"name": "fioe_public", "tables": {}}, policy)["tables"]["persons"]["expectations"]
    assert checks[0]["type"] == ALLOW_LIST
    assert checks[0]["kwargs"]["column_list"] == policy.files["persons"].public_columns()
    assert [c["kwargs"]["column"] for c in checks[1:9]] == list(policy.files["persons"].raw_only_columns())
    assert checks[1]["meta"]["why"].startswith("raw-only: never published")


PUBLIC_SUITES = sorted((ROOT / "expectations").glob("*_public.json"))


@pytest.mark.parametrize("path", PUBLIC_SUITES, ids=[p.stem for p in PUBLIC_SUITES])
def test_every_public_table_has_its_allow_list_and_absence_checks(path: Path) -> None:
    """Every file of the policy has, in the public suite, exactly one allow-list (its public columns, in
    order) and a critical absence check per raw-only column; the legacy suite's seven other absence
    checks are of dropped columns (a minor's report dated by a timestamp, criminal history), kept as written."""
    policy = load_policy(ROOT / "redaction_rules" / f"{path.stem.removesuffix('_public')}.yaml")
    suite = json.loads(path.read_text(encoding="utf-8"))
    for table, file_policy in policy.files.items():
        checks = suite["tables"][table]["expectations"]
        allow = [c for c in checks if c["type"] == ALLOW_LIST]
        assert [c["kwargs"]["column_list"] for c in allow] == [file_policy.public_columns()], table
        absent = {c["kwargs"]["column"]: c for c in checks if c["type"] == ABSENT}
        assert all(absent[column]["meta"]["level"] == "critical" for column in file_policy.raw_only_columns())
        others = set(absent) - set(file_policy.raw_only_columns())
        assert all(file_policy.columns[column].type == "drop" for column in others), (table, others)


@pytest.mark.parametrize("path", RAW_SUITES, ids=[p.stem for p in RAW_SUITES])
def test_raw_suite_has_no_column_set_check(path: Path) -> None:
    """The loader gives the raw frame exactly the policy's raw columns (a required one missing stops it,
    an absent optional one is filled, an unnamed one dropped and reported): a column-set check there
    could never fail, so none is generated or written."""
    for body in _raw_suite(path)["tables"].values():
        assert not [c for c in body["expectations"]
                    if c["type"] in (ALLOW_LIST, "expect_table_columns_to_match_set", "expect_column_to_exist")]
