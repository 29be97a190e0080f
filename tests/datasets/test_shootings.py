"""Shootings counting rules on tiny hand-written exports: exclusions and k-anonymity."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from release.build.tables import build_tables
from release.config.tables import load_tables_policy
from release.errors import ConfigError
from release.keys.hmac import Tokenizer

TABLES = Path(__file__).resolve().parents[2] / "redaction_rules" / "shootings_tables.yaml"
BLACK, WHITE, ASIAN = "Black or African American", "White", "Asian"
HISP, NOT_HISP = "Hispanic or Latinx", "Not Hispanic or Latinx"


def victim(num: str, when: str = "2020-03-14 01:30:00+00", district: str = "B2", gender: str = "Male",
           race: str = BLACK, ethnicity: str = NOT_HISP, **values: str) -> dict[str, str]:
    row = {"incident_num": num, "shooting_date": when, "district": district,
           "shooting_type_v2": "Non-Fatal", "victim_gender": gender, "victim_race": race,
           "victim_ethnicity_NIBRS": ethnicity, "multi_victim": "f", "victim_name": "Ottoline Quaresma",
           "victim_dob": "05/06/1990", "incident_address": "12 Quillfeather St", "latitude": "42.3012345",
           "longitude": "-71.0712345", "self_inflicted": "f", "justifiable": "f"}
    row.update(values)
    return row


# ---- exclusions ----------------------------------------------------------------------

FLAGS = [("t", True), ("TRUE", True), ("yes", True), ("1", True), ("Y", True),
         ("f", False), ("", False), ("No", False), ("0", False), ("maybe", True)]


@pytest.mark.parametrize("flag", ["self_inflicted", "justifiable"])
def test_flagged_and_unreadable_victims_are_not_published(run_derive: Callable[..., Any], flag: str) -> None:
    rows = [victim(f"I20000000{i}", **{flag: value}) for i, (value, _) in enumerate(FLAGS)]
    run = run_derive("shootings", rows, k_anonymity={"k": 2})
    published = set(run.frame("victims")["incident_num"])
    # hand-computed: t, TRUE, yes, 1, Y read yes; "maybe" reads neither (fail closed)
    assert published == {f"I20000000{i}" for i in (5, 6, 7, 8)}
    excluded = next(f for f in run.derived.findings if f.code == f"excluded_{flag}")
    assert excluded.count == 5 and excluded.severity == "info"
    unreadable = next(f for f in run.derived.findings if f.code == "flag_unreadable")
    assert (unreadable.count, unreadable.column, unreadable.severity) == (1, flag, "warning")
    assert f"5 victim(s) of {flag.replace('_', '-')} shootings are not in the public file." in run.derived.notes
    assert "6 of 10 victim row(s) of the year are excluded in all; 4 are published." in run.derived.notes


def test_victim_flagged_both_ways_is_excluded_once(run_derive: Callable[..., Any]) -> None:
    rows = [victim("I201", self_inflicted="t", justifiable="t"), victim("I202"), victim("I203")]
    run = run_derive("shootings", rows, k_anonymity={"k": 2})
    assert list(run.frame("victims")["incident_num"]) == ["I202", "I203"]
    assert "1 of 3 victim row(s) of the year are excluded in all; 2 are published." in run.derived.notes


def test_public_frame_has_the_city_columns_only(run_derive: Callable[..., Any]) -> None:
    run = run_derive("shootings", [victim("I201"), victim("I202")], k_anonymity={"k": 2})
    assert list(run.frame("victims").columns) == [
        "incident_num", "victim_in_incident", "shooting_date", "shooting_date_precision", "district",
        "shooting_type_v2", "victim_gender", "victim_race", "victim_ethnicity_NIBRS", "multi_victim", "_row_key"]
    assert list(run.frame("victims")["shooting_date"]) == ["2020-03-14", "2020-03-14"]


@pytest.mark.parametrize(
    ("column", "raw", "published"),
    [("victim_race", "BLACK", BLACK), ("victim_race", "white", WHITE), ("victim_race", "Martian", "Other"),
     ("victim_ethnicity_NIBRS", "hispanic or latino", HISP),
     ("victim_ethnicity_NIBRS", "NOT HISPANIC OR LATINX", NOT_HISP),
     ("victim_ethnicity_NIBRS", "Martian", None), ("shooting_type_v2", " non-fatal ", "Non-Fatal"),
     ("shooting_type_v2", "FATAL", "Fatal"), ("multi_victim", "TRUE", "t"), ("multi_victim", "0", "f"),
     ("district", "B-2", "B2"), ("district", "Z9", None), ("victim_gender", "m", "Male")],
    ids=lambda v: repr(v))
def test_spellings_map_onto_the_city_codebook(run_derive: Callable[..., Any], column: str, raw: str,
                                              published: str | None) -> None:
    rows = [victim(f"I20{i}", **{column: raw}) for i in range(2)]
    run = run_derive("shootings", rows, k_anonymity={"k": 2})
    values = run.frame("victims")[column].tolist()
    assert values == [published, published]


# ---- k-anonymity -----------------------------------------------------------------------

def _ladder_rows() -> list[dict[str, str]]:
    """a: a group of 3; b: three rows that meet once ethnicity is Unknown (one was blank,
    one Unknown already); c: two women of different races; d: a group of 3 elsewhere."""
    march, april = "2020-03-14 01:30:00+00", "2020-04-02 22:10:00+00"
    return [
        victim("I2001", march), victim("I2002", march), victim("I2003", march),
        victim("I2004", march, ethnicity=HISP), victim("I2005", march, ethnicity=""),
        victim("I2006", march, ethnicity="Unknown"),
        victim("I2007", march, gender="Female", race=ASIAN), victim("I2008", march, gender="Female", race=WHITE),
        victim("I2009", april, "C11", race=WHITE, ethnicity=HISP),
        victim("I2010", april, "C11", race=WHITE, ethnicity=HISP),
        victim("I2011", april, "C11", race=WHITE, ethnicity=HISP),
    ]


DAY, MONTH = "2020-03-14", "2020-03"
# (gender, race, ethnicity, date) of each row, by hand
EXPECTED = {
    3: {"I2001": ("Male", BLACK, NOT_HISP, DAY), "I2004": ("Male", BLACK, "Unknown", DAY),
        "I2005": ("Male", BLACK, None, DAY), "I2006": ("Male", BLACK, "Unknown", DAY),
        "I2007": ("Unknown", "Unknown", "Unknown", MONTH), "I2008": ("Unknown", "Unknown", "Unknown", MONTH),
        "I2009": ("Male", WHITE, HISP, "2020-04-02")},
    2: {"I2001": ("Male", BLACK, NOT_HISP, DAY), "I2004": ("Male", BLACK, "Unknown", DAY),
        "I2005": ("Male", BLACK, None, DAY), "I2006": ("Male", BLACK, "Unknown", DAY),
        "I2007": ("Female", "Unknown", "Unknown", DAY), "I2008": ("Female", "Unknown", "Unknown", DAY),
        "I2009": ("Male", WHITE, HISP, "2020-04-02")},
}
# cells changed per step, by hand: k=3 -> ethnicity: I2004, I2007, I2008; race coarse: I2007
# (Asian -> Other); race unknown: I2007, I2008; gender: I2007, I2008; date: I2007, I2008.
EVENTS = {3: {"ethnicity_unknown": 3, "race_coarse": 1, "race_unknown": 2, "gender_unknown": 2,
              "date_month": 2},
          2: {"ethnicity_unknown": 3, "race_coarse": 1, "race_unknown": 2}}
RESIDUAL = {3: 2, 2: 0}


@pytest.mark.parametrize("k", [3, 2], ids=["k3", "k2"])
def test_ladder_generalizes_small_groups_only(run_derive: Callable[..., Any], k: int) -> None:
    run = run_derive("shootings", _ladder_rows(), k_anonymity={"k": k})
    public = run.frame("victims").set_index("incident_num")
    for num, expected in EXPECTED[k].items():
        row = public.loc[num]
        got = tuple(None if pd.isna(v) else v for v in
                    (row["victim_gender"], row["victim_race"], row["victim_ethnicity_NIBRS"], row["shooting_date"]))
        assert got == expected, num
    steps = Counter(event.rule_id.removeprefix("k_anonymity.") for event in run.derived.events)
    assert dict(steps) == EVENTS[k]
    residual = [f for f in run.derived.findings if f.code == "k_anonymity_residual"]
    assert sum(f.count or 0 for f in residual) == RESIDUAL[k]


def test_events_carry_tokens_of_the_raw_cells_not_values(run_derive: Callable[..., Any]) -> None:
    rows = _ladder_rows()
    rows[3]["victim_ethnicity_NIBRS"] = "Hispanic or Latino"       # I2004, the older NIBRS spelling
    run = run_derive("shootings", rows, k_anonymity={"k": 3})
    tokenizer = Tokenizer(b"d" * 64)                              # the fixtures' key
    first = next(e for e in run.derived.events if e.row_key == "I2004")
    assert (first.action, first.entity_type, first.column, first.rule_id) == (
        "generalize", "ETHNICITY", "victim_ethnicity_NIBRS", "k_anonymity.ethnicity_unknown")
    # the token and length are of the raw cell, so an auditor can recompute them from the export
    assert (first.token, first.removed_length) == (tokenizer.token("Hispanic or Latino"), len("Hispanic or Latino"))
    dated = next(e for e in run.derived.events if e.row_key == "I2007" and e.column == "shooting_date")
    assert dated.token == tokenizer.token("2020-03-14 01:30:00+00")
    assert all("Latin" not in str(event.to_dict()) for event in run.derived.events)


def test_every_group_reaches_k_or_shows_nothing(run_derive: Callable[..., Any]) -> None:
    run = run_derive("shootings", _ladder_rows(), k_anonymity={"k": 3})
    public = run.frame("victims")
    demo = public[["victim_gender", "victim_race", "victim_ethnicity_NIBRS"]].fillna("Unknown")
    groups = list(zip(public["shooting_date"].str[:7], public["district"], *(demo[c] for c in demo.columns), strict=True))
    sizes = Counter(groups)
    small = [sizes[group] < 3 for group in groups]
    assert sum(small) == 2
    for group, date_value, is_small in zip(groups, public["shooting_date"], small, strict=True):
        if is_small:
            assert group[2:] == ("Unknown", "Unknown", "Unknown") and len(date_value) == 7


def test_suppress_step_blanks_and_logs_suppress(run_derive: Callable[..., Any]) -> None:
    rows = [victim("I2001", district="A7"), victim("I2002", district="E5")]
    run = run_derive("shootings", rows, k_anonymity={"k": 2, "steps": ["gender_unknown", "district_suppress"]})
    assert run.frame("victims")["district"].isna().all()
    suppressed = [e for e in run.derived.events if e.action == "suppress"]
    assert {(e.row_key, e.column, e.entity_type) for e in suppressed} == {
        ("I2001", "district", "LOCATION"), ("I2002", "district", "LOCATION")}


@pytest.mark.parametrize(
    ("rules", "key"),
    [({"k_anonymity": {"k": 1}}, "dataset_rules.k_anonymity.k"),
     ({"k_anonymity": {"steps": ["shuffle"]}}, "dataset_rules.k_anonymity.steps.0"),
     ({"exclude_when_flagged": ["victim_name"]}, "dataset_rules.exclude_when_flagged.0"),
     ({"k_anon": {}}, "dataset_rules.k_anon")],
    ids=["k-too-small", "unknown-step", "not-a-flag", "unknown-key"])
def test_bad_dataset_rules_name_the_key(run_derive: Callable[..., Any], rules: dict[str, object], key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        run_derive("shootings", [victim("I2001")], **rules)
    assert caught.value.message.startswith(key)
    assert caught.value.file == "shootings.yaml"


# ---- the annual summary through the tables path --------------------------------------

def test_table_frame_and_annual_summary(run_derive: Callable[..., Any]) -> None:
    counts = {("B2", "Fatal"): 6, ("B2", "Non-Fatal"): 12, ("B3", "Fatal"): 5, ("B3", "Non-Fatal"): 9,
              ("A1", "Non-Fatal"): 1}
    cells = [(d, t) for (d, t), n in counts.items() for _ in range(n)]
    rows = [victim(f"I3{i:04d}", district=d, shooting_type_v2=t) for i, (d, t) in enumerate(cells)]
    rows.append(victim("I399", district="A1", self_inflicted="t"))
    run = run_derive("shootings", rows)
    frame = run.derived.table_frames["victims"]
    assert list(frame.columns) == ["unit_id", "district", "shooting_type", "month"]
    assert frame["unit_id"].is_unique and len(frame) == 33     # the self-inflicted victim is out
    assert set(frame["month"]) == {"2020-03"}                  # before generalization: every month kept
    policy = load_tables_policy(TABLES)
    specs = policy.tables
    # issue #12: the victims file shows every victim's district and type, so the annual table is a
    # summary of it, counted from the public rows (hiding the 1 would hide nothing the file does not show)
    public = {"victims": run.derived.public["victims"]}
    result = build_tables(run.derived.table_frames, specs, dataset="shootings", year=2020, model=policy.frames,
                          public_files=public)
    assert not [f for f in result.findings if f.severity == "blocking"] and result.spends == []
    cells = result.tables[specs[0].name].set_index(["district", "shooting_type"])
    assert int(cells.loc[("B2", "Fatal"), "value"]) == 6
    assert cells.loc[("A1", "Non-Fatal"), "status"] == "exact" and int(cells.loc[("A1", "Non-Fatal"), "value"]) == 1
    assert int(cells.loc[("All", "All"), "value"]) == 33
    assert result.privacy_summary[0]["protection"] == "summary"
