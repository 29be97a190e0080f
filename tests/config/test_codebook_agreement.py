"""Each aggregate table's codebook agrees with the policy column it counts: a policy value renamed so that
a category, a mapping key or a row filter can never match stops the build at configuration (exit 3),
before the export is loaded, instead of every such row falling silently into ``Other`` or ``Unknown``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import invoke

from release.config.codebook_agreement import RULE, disagreements, policy_column, published_values
from release.config.policy import load_policy
from release.config.tables import FrameSpec, load_tables_policy
from release.stages import load

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "redaction_rules"
WITH_TABLES = sorted(p for p in RULES.glob("*.yaml") if not p.name.endswith("_tables.yaml")
                     and p.name not in ("privacy.yaml", "trusted_signers.yaml") and load_policy(p).tables_file)


@pytest.mark.parametrize("path", WITH_TABLES, ids=[p.stem for p in WITH_TABLES])
def test_shipped_tables_files_agree_with_their_policies(path: Path) -> None:
    """Coarser codebooks are fine (the FIOE tables' seven races for the policy's nine): only an entry no
    published value reaches is refused, and the shipped files have none."""
    policy = load_policy(path)
    assert policy.tables_file is not None
    assert disagreements(load_tables_policy(RULES / policy.tables_file), policy) == []


@pytest.mark.parametrize(("policy_file", "old", "new", "tables_file", "said"), [
    pytest.param("fioe.yaml", "        domain: [Stopped, Encountered, Observed]",
                 "        domain: [Stop, Encountered, Observed]", "fioe_tables.yaml",
                 "tables.fioe_report_bases_by_basis_circumstance.dimensions.circumstance (codebook 'circumstance'): "
                 "category 'Stopped' is reached by no published value of the policy column contacts.circumstance",
                 id="category"),
    pytest.param("fioe.yaml", "Male to Female Transgender, Female", "Transgender Woman, Female", "fioe_tables.yaml",
                 "tables.fioe_frisks_by_race_sex.dimensions.sex (codebook 'sex'): mapping key 'Male to Female "
                 "Transgender' is no published value of the policy column persons.sex", id="mapping-key"),
    pytest.param("fioe.yaml", 'domain: ["0", "1"], on_unknown: blank, description: "1 if the person was frisked',
                 'domain: ["N", "Y"], on_unknown: blank, description: "1 if the person was frisked',
                 "fioe_tables.yaml",
                 "tables.fioe_frisks_by_race_sex.where.was_frisked: value '1' is no published value of the policy "
                 "column persons.was_frisked", id="where"),
    pytest.param("shootings.yaml", "E13, E18, External]", "E13, E18, Outside]", "shootings_tables.yaml",
                 "tables.shootings_victims_by_district_type.dimensions.district: category 'External' is reached "
                 "by no published value of the policy column victims.district", id="inline-dimension"),
])
def test_a_renamed_policy_value_stops_the_build_before_the_export_is_loaded(
        policy_file: str, old: str, new: str, tables_file: str, said: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    rules, suites = tmp_path / "rules", tmp_path / "suites"
    shutil.copytree(RULES, rules)
    shutil.copytree(ROOT / "expectations", suites)
    text = (rules / policy_file).read_text(encoding="utf-8")
    assert text.count(old) == 1
    text = text.replace(old, new)
    if "Transgender Woman" in new:  # the policy's spelling of the renamed value follows it
        text = text.replace("Transgender Male to Female: Male to Female Transgender",
                            "Transgender Male to Female: Transgender Woman")
    (rules / policy_file).write_text(text, encoding="utf-8")

    def loaded(*args: object, **kwargs: object) -> None:
        raise AssertionError("the export was loaded before the tables file was held to its policy")

    monkeypatch.setattr(load, "load_export", loaded)
    dataset = policy_file.removesuffix(".yaml")
    code, out, err = invoke(dataset, "2020", "--rules", str(rules), "--expectations", str(suites),
                            "--out", str(tmp_path / "out"), "--json")
    refusal = json.loads(out)
    assert code == 3, (out, err)
    assert refusal["error"] == "ConfigError" and refusal["file"] == str(rules / tables_file)
    assert refusal["rule"] == RULE
    assert refusal["message"].startswith(said), refusal["message"]
    assert not (tmp_path / "out" / dataset / "2020").exists()


def test_every_unreachable_entry_is_counted_and_the_first_named(tmp_path: Path) -> None:
    """Renaming a race the tables map from two keys: the message names the first and counts the rest."""
    shutil.copytree(RULES, tmp_path / "rules")
    policy_path = tmp_path / "rules" / "fioe.yaml"
    text = policy_path.read_text(encoding="utf-8")
    policy_path.write_text(text.replace("[Male, Female, Male to Female Transgender, Female to Male Transgender,",
                                        "[Male, Female, Trans Woman, Trans Man,").replace(
        "Transgender Male to Female: Male to Female Transgender", "Transgender Male to Female: Trans Woman").replace(
        "Transgender Female to Male: Female to Male Transgender", "Transgender Female to Male: Trans Man"),
        encoding="utf-8")
    policy = load_policy(policy_path)
    found = disagreements(load_tables_policy(tmp_path / "rules" / "fioe_tables.yaml"), policy)
    assert [(d.table, d.key, d.problem) for d in found] == [
        ("fioe_frisks_by_race_sex", "dimensions.sex", "mapping key 'Male to Female Transgender' is no published value"),
        ("fioe_frisks_by_race_sex", "dimensions.sex", "mapping key 'Female to Male Transgender' is no published value"),
        ("fioe_frisks_by_race_sex", "dimensions.sex", "category 'Transgender' is reached by no published value")]


@pytest.mark.parametrize(("frame", "column", "expected"), [
    pytest.param(FrameSpec(recount_from="persons", parent="contacts", key="fc_num",
                           columns={"race": "race", "neighbourhood": "parent.city"}), "neighbourhood",
                 ("contacts", "city"), id="parent-column"),
    pytest.param(FrameSpec(recount_from="persons", columns={"race": "race"}), "race", ("persons", "race"), id="own"),
    pytest.param(FrameSpec(recount_from="persons", columns={"race": "race"}), "month", None, id="not-listed"),
    pytest.param(FrameSpec(not_public="the partner's counts"), "race", None, id="not-public"),
])
def test_where_a_frame_column_comes_from(frame: FrameSpec, column: str, expected: tuple[str, str] | None) -> None:
    """Only a frame the public files give says which policy column it holds; a partner's frame, FIOE's keyed
    persons (the city as the export wrote it) and a derived month or count are not held to a domain."""
    assert policy_column(frame, column) == expected


@pytest.mark.parametrize(("file", "column", "expected"), [
    pytest.param("persons", "was_frisked", ("0", "1"), id="domain"),
    pytest.param("contacts", "key_situations", None, id="list-cell"),
    pytest.param("contacts", "contact_date", None, id="datetime"),
    pytest.param("contacts", "fc_num", None, id="pattern"),
    pytest.param("contacts", "no_such_column", None, id="unnamed"),
])
def test_which_policy_columns_have_a_closed_domain(file: str, column: str, expected: tuple[str, ...] | None) -> None:
    assert published_values(load_policy(RULES / "fioe.yaml"), file, column) == expected


def test_other_counts_as_published_where_the_policy_publishes_unknown_values_as_other() -> None:
    values = published_values(load_policy(RULES / "youthconnect.yaml"), "referrals", "referral_reason")
    assert values is not None and values[-1] == "Other"
