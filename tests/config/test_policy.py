"""Policies load into typed models; every mistake names the file and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from release.config.policy import RULE_TYPES, load_policy
from release.errors import ConfigError

BROKEN = sorted((Path(__file__).resolve().parents[1] / "data" / "broken_policies").glob("*.yaml"))
ROOT = Path(__file__).resolve().parents[2]


def test_shipped_policy_loads() -> None:
    policy = load_policy(ROOT / "redaction_rules" / "fioe.yaml")
    persons = policy.files["persons"]
    assert {"first_name", "dob", "home_address", "phone", "license_number"} <= set(persons.raw_only_columns())
    assert "first_name" not in persons.public_columns()
    assert "incident_address" not in policy.files["contacts"].public_columns()


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_policy_names_file_and_key(path: Path) -> None:
    expected = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ")
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert caught.value.file == str(path)
    assert expected in caught.value.message
    assert caught.value.exit_code == 3


def test_every_rule_type_documented() -> None:
    readme = (ROOT / "redaction_rules" / "README.md").read_text(encoding="utf-8")
    for rule_type in RULE_TYPES:
        assert f"### `{rule_type}`" in readme, rule_type


def test_every_fioe_column_states_its_legal_basis() -> None:
    """The review packet shows, per column, the legal basis the policy states for its treatment."""
    from release.review.summary import column_rows

    rows = column_rows(load_policy(ROOT / "redaction_rules" / "fioe.yaml"))
    assert rows and all(r.legal_basis != "not stated in the policy" for r in rows)
    withheld = [r for r in rows if "involving a minor" in r.treatment]
    assert withheld and all("c. 119" in r.legal_basis for r in withheld)
