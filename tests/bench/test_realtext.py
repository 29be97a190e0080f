"""The real-text benchmark's injection and scorer, on short narratives written here.

No City data, no spaCy: every narrative and value below is made up for the test.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

from realtext import export as E  # noqa: E402
from realtext import inject as I  # noqa: E402
from realtext import score as S  # noqa: E402

STEMS = I.street_stems(["ELMWOOD ST", "QUILLBY AVE", "FARTHING HILL RD"])


def types(text: str, **kw) -> list[str]:
    marks, _ = I.find_marks(text)
    return [slot.type for slot in I.classify(text, marks, STEMS, **kw)]


# ----------------------------------------------------------------------------- marks

def test_runs_split_into_marks_and_date_masks():
    text = "seen XXXXX/XX/XXXXXXX left; XXXXXX ran; B4XXX6; size XXXL; XX/XX/XX."
    marks, unknown = I.find_marks(text)
    assert [(m.kind, text[m.start:m.end]) for m in marks] == [
        ("MARK", "XXX"), ("DATE", "XX/XX/XXXX"), ("MARK", "XXX"),
        ("MARK", "XXX"), ("MARK", "XXX"), ("MARK", "XXX"), ("DATE", "XX/XX/XX")]
    assert [text[a:b] for a, b in unknown] == ["XXX"]  # XXXL is a clothing size


def test_types_from_context():
    text = ("Officers stopped MA REG XXX operated by XXX (DOB: XX/XX/XXXX) in front of XXX "
            "Elmwood Street. His phone number is XXX. Sgt. XXX arrived. He goes by \"XXX\". "
            "Citation #XXX issued. A gray Zephyr XXX was parked on scene.")
    assert types(text, vehicle_words={"ZEPHYR"}) == [
        "PLATE", "NAME", "DOB", "HOUSE_NUMBER", "PHONE", "UNKNOWN", "ALIAS", "UNKNOWN", "PLATE"]


def test_house_numbers_need_a_street_and_names_do_not_take_one():
    assert types("XXX WAS ON ELMWOOD ST WITH XXX") == ["NAME", "NAME"]
    assert types("AT XXXQUILLBY AVE AND XXX FARTHING HILL") == ["HOUSE_NUMBER", "HOUSE_NUMBER"]
    assert types("OPERATOR - XXX - ACTIVE QUILLBY AVE") == ["NAME"]
    assert types("call at XXX annunciation rd.") == ["HOUSE_NUMBER"]
    assert types("WITH HIS AUNT, XXX ATXXX QUILLBY AVE") == ["NAME", "HOUSE_NUMBER"]
    assert types("OFFICERS OBSERVED XXX CROSSING QUILLBY AVE") == ["NAME"]
    assert types("NEAR THE XXX HOUSING DEVELOPMENT") == ["UNKNOWN"]


def test_a_mark_before_a_street_word_was_a_place_name():
    assert types("KNOWN XXX ST MEMBER NEAR XXX SQUARE; XXX ST. JAMES ST") == [
        "UNKNOWN", "UNKNOWN", "HOUSE_NUMBER"]


def test_two_marks_in_a_row_are_one_name_and_quoted_given_names_are_names():
    text = 'Officers stopped XXX XXX. He gave the name "XXX". Known as "XXX".'
    marks, _ = I.find_marks(text)
    slots = I.classify(text, marks, STEMS)
    assert [(s.type, len(s.parts)) for s in slots] == [("NAME", 2), ("NAME", 1), ("ALIAS", 1)]


def test_marks_inside_words_are_left_alone_when_the_city_masked_letters():
    # a person known by one letter, masked everywhere: the marks are not values
    text = "Traffic stXXXp fXXXr vals at TremXXXnt St. OperatorXXXwas released."
    assert types(text) == ["UNKNOWN", "UNKNOWN", "UNKNOWN", "NAME"]
    assert types("Officers observedXXXstanding at XXXElm St. XXXwas released.") == [
        "NAME", "HOUSE_NUMBER", "NAME"]
    # one letter masked in a word the year's narratives know well
    vocab = I.vocabulary(["On Wednesday officers provided care."] * 20)
    text = "On XXXednesday officers prXXXvided care to XXXvan."
    assert types(text, vocab=vocab) == ["UNKNOWN", "UNKNOWN", "NAME"]


# ---------------------------------------------------------------------------- inject

def report(text: str, rows=(("Male", "24"),), **kw) -> I.ReportInput:
    return I.ReportInput("FC20000001", text, dt.date(2020, 6, 2), street="ELMWOOD ST",
                         person_rows=list(rows), **kw)


def test_injection_labels_point_at_their_values_and_glued_marks_get_a_space():
    text = ("Officers observedXXX (DOB XX/XX/XXXX) near XXXElmwood St. XXXstated that "
            "Ms.XXX lives on MA REG XXX. Sgt. XXX ok.")
    for seed in range(20):
        done = I.inject_report(report(text), random.Random(seed), STEMS)
        labels = [label for label in done.labels if label.type != "ALIAS"]
        assert [label.type for label in labels] == [
            "NAME", "DOB", "HOUSE_NUMBER", "NAME", "NAME", "PLATE"]
        for label in done.labels:
            assert done.narrative[label.start:label.end] == label.text
            assert any(a <= label.start and label.end <= b for a, b in done.injected)
        assert done.narrative[labels[0].start - 9:labels[0].start] == "observed "
        at = done.narrative.index("stated that")
        assert done.narrative[at - 1] == " " and done.narrative[at - 2] != " "
        if labels[4].form == "city_title":
            assert done.narrative[labels[4].start - 3:labels[4].start] == "Ms."  # stays glued
        assert [done.narrative[a:b] for a, b in done.city_marks] == ["XXX"]  # Sgt. XXX
        assert "XXX" not in done.narrative.replace("Sgt. XXX", "")


def test_injection_is_deterministic_and_links_follow_the_record_columns():
    text = ("Officers stopped MA REG XXX. Operator identified as XXX (DOB: XX/XX/XXXX), "
            "passenger XXX (XX/XX/XXXX). XXX and XXX walked to XXX Elmwood St. "
            "XXX's friend \"XXX\" called.")
    for seed in range(30):
        one = I.inject_report(report(text, rows=[("Male", "31"), ("Female", "22")]),
                              random.Random(seed), STEMS)
        two = I.inject_report(report(text, rows=[("Male", "31"), ("Female", "22")]),
                              random.Random(seed), STEMS)
        assert one.narrative == two.narrative and one.labels == two.labels
        names = [set(S.TOKEN.findall(" ".join([f["first_name"], f["middle_name"],
                                                f["last_name"]])))
                 for f in one.person_fields]
        record_words = set().union(*names)
        for label in one.labels:
            words = {w for w in S.TOKEN.findall(label.text) if S.identifying(label.type, w)}
            if label.type in ("NAME", "DOB"):
                assert label.linked == (not label.outsider)
            if label.type == "NAME" and label.linked:
                assert any(w.lower() in {n.lower() for n in group} for group in names
                           for w in words), (label, names)
            if label.type == "ALIAS":
                assert label.linked == any(f["alias"].upper() == label.text.upper()
                                           for f in one.person_fields)
            if label.type == "PLATE":
                assert label.linked == (label.text == one.vehicle_plate)
            if label.type == "DOB" and label.linked:
                assert any(f["dob"] for f in one.person_fields)
            if label.type == "HOUSE_NUMBER":
                holders = [one.incident_address] + [f["home_address"] for f in one.person_fields]
                assert label.linked == any(h.startswith(label.text + " ") for h in holders)
            if label.type == "NAME" and not label.linked and label.form != "city_title":
                assert not {w.lower() for w in words} <= {w.lower() for w in record_words}


def test_injected_names_avoid_the_words_of_the_public_columns():
    text = "Officers observed XXX (DOB XX/XX/XXXX) and XXX. XXX stated XXX was XXX."
    public = {w for name in values_module().WORDLIKE_SURNAMES for w in [name]}
    for seed in range(10):
        done = I.inject_report(report(text, rows=[("Male", "30"), ("Female", "40")],
                                      public_words=public), random.Random(seed), STEMS)
        words = {w.lower() for label in done.labels for w in S.TOKEN.findall(label.text)}
        words |= {w.lower() for f in done.person_fields
                  for c in ("first_name", "middle_name", "last_name", "alias")
                  for w in S.TOKEN.findall(f[c])}
        assert not words & {w.lower() for w in public}


def values_module():
    from realtext import values
    return values


def test_all_caps_narratives_get_all_caps_values():
    text = ("OFFICERS OBSERVED XXX (XX/XX/XXXX) AND XXX STANDING AT XXX ELMWOOD ST. XXX "
            "STATED HE LIVES THERE AND XXX SAID NOTHING. MA REG XXX WAS PARKED NEARBY.")
    for seed in range(10):
        done = I.inject_report(report(text), random.Random(seed), STEMS)
        assert done.labels and all(label.text == label.text.upper() for label in done.labels)


def test_names_come_in_many_forms():
    text = " ".join(["Officers observed XXX (DOB XX/XX/XXXX). XXX stated he was fine."] * 6)
    forms = set()
    for seed in range(60):
        done = I.inject_report(report(text, rows=[("Male", "30")] * 3), random.Random(seed),
                               STEMS)
        forms |= {label.form for label in done.labels if label.type == "NAME"}
    assert {"full", "last_first", "last", "first", "title_last", "aka", "initial_last"} <= forms


# ----------------------------------------------------------------------------- score

def hand_made() -> I.InjectedReport:
    text = ("Officers stopped John Smith (DOB 01/02/1990) near 12 Elm St. Smith met "
            "Mr. Jones. Officer Smith stated XXX left.")
    def at(value, nth=0):
        start = -1
        for _ in range(nth + 1):
            start = text.index(value, start + 1)
        return start, start + len(value)
    spans = {"john": at("John Smith"), "dob": at("01/02/1990"), "house": at("12"),
             "smith": at("Smith", 1), "jones": at("Mr. Jones")}
    labels = [
        I.Label("FC1", "NAME", True, "John Smith", *spans["john"]),
        I.Label("FC1", "DOB", False, "01/02/1990", *spans["dob"]),
        I.Label("FC1", "HOUSE_NUMBER", True, "12", *spans["house"]),
        I.Label("FC1", "NAME", True, "Smith", *spans["smith"]),
        I.Label("FC1", "NAME", False, "Mr. Jones", *spans["jones"], person=I.OUTSIDER + "1"),
    ]
    return I.InjectedReport("FC1", text, labels, [at("XXX")], list(spans.values()), [], "",
                            "", {})


def test_scorer_counts_by_hand():
    output = ("Officers stopped John [PERSON 1] (DOB [DOB 1]) near 12 Elm St. [PERSON 1] met "
              "Mr. [PERSON 2]. Officer Smith halted XXX left.")
    result = S.score_report(hand_made(), output)
    # half-redacted "John Smith" survives (John); "Smith" replaced does not, though the
    # officer's "Smith" stands later in the output; "Mr." alone is not identifying.
    assert [v.survived for v in result.values] == [True, False, True, False, False]
    assert output[slice(*result.values[0].out_span)] == "John"
    # other words: Officers stopped DOB near Elm St met Officer Smith stated left = 11,
    # "stated" changed to "halted": 10 kept; XXX is the City's mark, not counted
    assert (result.other_words, result.other_kept) == (11, 10)
    summary = S.summarise([result])
    assert summary.classes[("NAME", True)].as_dict() == {
        "values": 2, "survived": 1, "pct_survived": 50.0}
    assert summary.classes[("NAME", False)].values == 1
    assert summary.classes[("DOB", False)].survived == 0
    assert summary.classes[("HOUSE_NUMBER", True)].survived == 1
    assert (summary.overall.values, summary.overall.survived) == (5, 2)
    assert (summary.unlinked_names.values, summary.unlinked_names.survived) == (1, 0)
    assert {(f["type"], f["form"], f["values"]) for f in S.summary_json(summary)["by_form"]} == {
        ("NAME", "", 3), ("DOB", "", 1), ("HOUSE_NUMBER", "", 1)}
    assert round(summary.kept_pct, 4) == round(100 * 10 / 11, 4)


def test_scorer_partial_dates_and_moved_tokens():
    output = ("Officers stopped [PERSON] (DOB 01/02/[YEAR]) near [ADDRESS] Elm St. Officer "
              "Smith stated XXX left. Smith met Mr. Jones.")
    result = S.score_report(hand_made(), output)
    # a DOB with its month and day left survives; "Smith met Mr. Jones", moved to the
    # end, is no longer at the aligned place: those values count as removed
    assert [v.survived for v in result.values] == [False, True, False, False, False]
    assert "survive" in S.table(S.summarise([result]))


def test_a_narrative_withheld_whole_is_counted_apart():
    withheld = S.score_report(hand_made(), "[WITHHELD]")
    kept = S.score_report(hand_made(), hand_made().narrative)
    summary = S.summarise([withheld, kept])
    assert (summary.withheld_reports, summary.withheld_words) == (1, 11)
    assert (summary.other_words, summary.other_kept) == (22, 11)
    assert summary.kept_pct == 50.0 and summary.kept_pct_not_withheld == 100.0
    assert (summary.overall.values, summary.overall.survived) == (10, 5)
    assert "withheld whole" in S.table(summary)


def test_placeholder_numbers_are_not_value_digits():
    text = "Officers stopped Kay Doe (DOB 6-29-73) and Lee Poe (DOB 2-1-80)."
    labels = [I.Label("FC1", "DOB", False, "6-29-73", text.index("6-29"), text.index("6-29") + 7),
              I.Label("FC1", "DOB", False, "2-1-80", text.index("2-1-"), text.index("2-1-") + 6)]
    report_ = I.InjectedReport("FC1", text, labels, [], [(label.start, label.end) for label in labels],
                               [], "", "", {})
    output = "Officers stopped [PERSON 1] (DOB [PERSON 6]) and <PERSON> (DOB [DOB_2])."
    assert [v.survived for v in S.score_report(report_, output).values] == [False, False]
    assert [t for *_, t in S.tokens("a [PERSON 6]b")] == ["a", "\x00[PERSON 6]", "b"]


def test_identical_output_keeps_everything():
    report_ = hand_made()
    result = S.score_report(report_, report_.narrative)
    assert all(v.survived for v in result.values)
    assert result.other_words == result.other_kept == 11


# ---------------------------------------------------------------------------- export

def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_rms_year_maps_to_mark43_and_raw_only_columns_hold_linked_values(tmp_path):
    contact = {c: "" for c in ["fc_num", "contact_date", "contact_officer",
                               "contact_officer_name", "supervisor", "supervisor_name", "street",
                               "city", "state", "zip", "frisked", "searchperson",
                               "searchvehicle", "summonsissued", "stop_duration", "circumstance",
                               "basis", "vehicle_year", "vehicle_state", "vehicle_make",
                               "vehicle_model", "vehicle_color", "vehicle_style", "vehicle_type",
                               "contact_reason"]}
    rows = []
    for n, text in enumerate([
            "OFFICERS STOPPED MA REG XXX. OPERATOR XXX (XX/XX/XXXX) STATED HE LIVES AT XXX "
            "ELMWOOD ST. XXX WAS RELEASED.",
            "Officers observed XXX and XXX near Quillby Ave. XXX (DOB: XX/XX/XXXX) stated..."]):
        rows.append({**contact, "fc_num": f"F19000000{n + 7}", "contact_date": "2019-03-0"
                     f"{n + 1} 00:00:00.0", "contact_officer_name": "QUILLFEATHER,ODO P",
                     "street": "ELMWOOD ST", "stop_duration": "Five to Ten Minutes",
                     "vehicle_style": "Sedan", "vehicle_type": "Passenger", "contact_reason": text})
    write_csv(tmp_path / "fieldcontact_2019_rms.csv", rows)
    person = {"recnum": "", "person_id": "", "fc_num": "", "contact_date": "", "sex": "Male",
              "race": "", "age": "27", "build": "", "hair_style": "", "skin_tone": "",
              "ethnicity": "", "otherclothing": "", "deceased": "", "license_state": "",
              "license_type": "", "was_frisked": ""}
    write_csv(tmp_path / "fieldcontact_name_2019_rms.csv", [
        {**person, "recnum": "501", "fc_num": "F190000007"},
        {**person, "recnum": "502", "fc_num": "F190000008", "sex": "Female"}])
    export = E.build(2019, seed=3, data_dir=tmp_path)
    E.write(export, tmp_path / "out")
    with (tmp_path / "out" / "fieldcontact.csv").open(encoding="utf-8") as handle:
        contacts = list(csv.DictReader(handle))
    with (tmp_path / "out" / "fieldcontact_name.csv").open(encoding="utf-8") as handle:
        persons = list(csv.DictReader(handle))
    assert list(contacts[0]) == E.CONTACT_COLUMNS and list(persons[0]) == E.PERSON_COLUMNS
    assert [c["fc_num"] for c in contacts] == ["FC19000001", "FC19000002"]
    assert [p["fc_num"] for p in persons] == ["FC19000001", "FC19000002"]
    assert contacts[0]["contact_officer_name"] == "QUILLFEATHER, ODO P"
    assert contacts[0]["stop_duration"] == "8"
    assert (contacts[0]["vehicle_style"], contacts[0]["vehicle_type"]) == ("Passenger", "Sedan")
    assert all(p["first_name"] and p["last_name"] and p["dob"] for p in persons)
    assert "XXX" not in "".join(c["contact_reason"] for c in contacts)
    for report_ in export.reports.values():
        row = next(c for c in contacts if c["fc_num"] == report_.fc_num)
        assert row["contact_reason"] == report_.narrative
        for label in report_.labels:
            if label.type == "PLATE":
                assert label.linked == (row["vehicle_plate"] == label.text)


def test_missing_city_data_is_reported(tmp_path):
    with pytest.raises(E.DataMissing):
        E.build(2020, seed=1, data_dir=tmp_path)


def test_runner_refuses_examples_for_the_held_out_year(capsys):
    import importlib.util
    spec = importlib.util.spec_from_file_location("bench_realtext",
                                                  ROOT / "benchmarks" / "bench_realtext.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    with pytest.raises(SystemExit) as exit_:
        runner.main(["--year", "2022", "--examples", "3"])
    assert exit_.value.code == 2
    assert "held out" in capsys.readouterr().err


# ------------------------------------------------------------------------ redactors

FAKE_RELEASE = '''#!{python}
import csv, sys, pathlib
args = sys.argv[1:]
year, src, out = args[1], pathlib.Path(args[args.index("--input") + 1]), \\
    pathlib.Path(args[args.index("--out") + 1])
if {blocked}:
    print("error: release blocked by 2 blocking finding(s)", file=sys.stderr)
    sys.exit(5)
public = out / "fioe" / year / "public"
public.mkdir(parents=True)
with (src / "fieldcontact.csv").open(encoding="utf-8") as handle:
    rows = list(csv.DictReader(handle))
with (public / f"fioe_{{year}}_contacts.csv").open("w", encoding="utf-8", newline="") as handle:
    writer = csv.DictWriter(handle, ["fc_num", "basis", "contact_reason"], extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        row["contact_reason"] = row["contact_reason"].replace("{name}", "[PERSON 1]")
        writer.writerow(row)
'''


def fake_release(tmp_path: Path, blocked: bool) -> Path:
    path = tmp_path / ("blocked" if blocked else "release")
    path.write_text(FAKE_RELEASE.format(python=sys.executable, blocked=blocked, name="Quint"))
    path.chmod(0o755)
    return path


def test_release_runner_reads_one_row_per_report(tmp_path):
    from realtext import redactors as R
    export = tmp_path / "export"
    export.mkdir()
    with (export / "fieldcontact.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["fc_num", "basis", "contact_reason"])
        writer.writeheader()
        writer.writerow({"fc_num": "FC20000001", "basis": "Encounter",
                         "contact_reason": "Officers met Quint Vale."})
        writer.writerow({"fc_num": "FC20000001", "basis": "Intel",
                         "contact_reason": "Officers met Quint Vale."})
    run = R.run_release(fake_release(tmp_path, False), 2020, export, tmp_path / "out")
    assert run.exit_status == 0 and run.duplicate_rows == 1
    assert run.outputs == {"FC20000001": "Officers met [PERSON 1] Vale."}
    blocked = R.run_release(fake_release(tmp_path, True), 2020, export, tmp_path / "out2")
    assert blocked.outputs is None and blocked.exit_status == 5
    assert blocked.error == "error: release blocked by 2 blocking finding(s)"


def test_release_runner_keeps_the_city_numbers_through_a_rules_copy(tmp_path):
    """The runner builds with a copy of the tree's rules whose FIOE policy says
    ``public_keys: source`` (the tool's default publishes pseudonyms); nothing else differs."""
    import yaml
    from realtext import redactors as R
    installed = Path(__file__).resolve().parents[2] / "redaction_rules"
    rules = R.source_key_rules(installed, tmp_path / "rules")
    assert yaml.safe_load((rules / "fioe.yaml").read_text())["public_keys"] == "source"
    assert yaml.safe_load((installed / "fioe.yaml").read_text())["public_keys"] == "pseudonym"
    assert sorted(p.name for p in rules.iterdir()) == sorted(p.name for p in installed.iterdir())
    original = yaml.safe_load((installed / "fioe.yaml").read_text())
    assert {**yaml.safe_load((rules / "fioe.yaml").read_text()), "public_keys": "pseudonym"} == original
