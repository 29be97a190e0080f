"""A juvenile report's public key and row order reveal nothing beyond its coarsened date."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from release.config import DatasetPolicy
from release.keys import Tokenizer
from release.stages.juvenile import JUVENILE_KEY_PATTERN, public_report_key, publish_apart

KEY = Tokenizer(b"j" * 64)


def _contacts(reports: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"fc_num": reports, "contact_date": [f"2020-03-{i + 1:02d} 10:00" for i in range(len(reports))]},
                        dtype=object)


@pytest.mark.parametrize("position", [0, 2, 4], ids=["first", "middle", "last"])
def test_juvenile_rows_move_apart_under_a_pseudonym(policy: DatasetPolicy, position: int) -> None:
    reports = [f"FC2000000{i}" for i in range(1, 6)]
    minor = reports[position]
    contacts = _contacts(reports)
    out, moved = publish_apart(contacts, policy.files["contacts"], frozenset({minor}), "fioe", KEY)
    assert moved == 1
    assert list(out["fc_num"][:4]) == [r for r in reports if r != minor]   # the others keep their order
    pseudonym = out["fc_num"].iloc[4]
    assert re.fullmatch(JUVENILE_KEY_PATTERN, pseudonym) and pseudonym == public_report_key(minor, "fioe", KEY)
    assert minor not in set(out["fc_num"])


def test_persons_still_link_to_contacts_and_both_basis_rows_share_the_key(policy: DatasetPolicy) -> None:
    contacts = _contacts(["FC20000001", "FC20000002", "FC20000002", "FC20000003"])
    persons = pd.DataFrame({"fc_num": ["FC20000001", "FC20000002", "FC20000002", "FC20000003"],
                            "age": ["30", "16-17", "40", "22"]}, dtype=object)
    minors = frozenset({"FC20000002"})
    public_contacts, _ = publish_apart(contacts, policy.files["contacts"], minors, "fioe", KEY)
    public_persons, _ = publish_apart(persons, policy.files["persons"], minors, "fioe", KEY)
    assert list(public_contacts["fc_num"][2:]) == [public_report_key("FC20000002", "fioe", KEY)] * 2
    assert set(public_persons["fc_num"][2:]) == set(public_contacts["fc_num"][2:])
    assert list(public_persons["age"]) == ["30", "22", "16-17", "40"]


def test_order_of_juvenile_rows_is_their_pseudonyms_not_their_dates(policy: DatasetPolicy) -> None:
    """However the minors' reports sit among the others, the published block is the same
    set of rows sorted by pseudonym: the order carries nothing of the raw order (or date)."""
    reports = [f"FC200000{i:02d}" for i in range(1, 21)]
    minors = frozenset(reports[3:20:4])
    forward, _ = publish_apart(_contacts(reports), policy.files["contacts"], minors, "fioe", KEY)
    backward, _ = publish_apart(_contacts(reports[::-1]), policy.files["contacts"], minors, "fioe", KEY)
    block = list(forward["fc_num"][-len(minors):])
    assert block == sorted(block) == list(backward["fc_num"][-len(minors):])


def test_pseudonym_needs_the_key(policy: DatasetPolicy) -> None:
    assert public_report_key("FC20000002", "fioe", KEY) != public_report_key("FC20000002", "fioe", Tokenizer(b"k" * 64))
    assert public_report_key("FC20000002", "fioe", KEY) != public_report_key("FC20000003", "fioe", KEY)
