"""A report's public key and row order reveal nothing beyond its published (coarsened) date."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from release.config.policy import DatasetPolicy
from release.keys.hmac import Tokenizer
from release.stages.juvenile import PUBLIC_KEY_PATTERN, pseudonymous_keys, public_report_key, publish_apart, publish_keys

KEY = Tokenizer(b"j" * 64)


def _contacts(reports: list[str], dates: list[str] | None = None) -> pd.DataFrame:
    dates = dates or [f"2020-03-{i + 1:02d} 10:00" for i in range(len(reports))]
    return pd.DataFrame({"fc_num": reports, "contact_date": dates}, dtype=object)


def test_the_shipped_fioe_policy_publishes_pseudonyms(policy: DatasetPolicy) -> None:
    assert policy.public_keys == "pseudonym" and pseudonymous_keys(policy)
    assert not pseudonymous_keys(policy.model_copy(update={"public_keys": "source"}))


def test_every_report_is_published_under_its_pseudonym_ordered_by_date(policy: DatasetPolicy) -> None:
    reports = [f"FC2000000{i}" for i in range(1, 6)]
    dates = ["2020-03-05 10:00", "2020-03-01 10:00", "2020-03", "2020-03-01 10:00", "2020-02-28 23:00"]
    out = publish_keys(_contacts(reports, dates), policy.files["contacts"], "fioe", KEY)
    keys = list(out["fc_num"])
    assert all(re.fullmatch(PUBLIC_KEY_PATTERN, k) for k in keys)
    assert not set(keys) & set(reports)
    assert sorted(keys) == sorted(public_report_key(r, "fioe", KEY) for r in reports)
    assert list(zip(out["contact_date"], keys, strict=True)) == sorted(zip(out["contact_date"], keys, strict=True))
    assert sorted(out["contact_date"]) == sorted(dates)


def test_persons_still_link_to_contacts_and_a_reports_rows_stay_together(policy: DatasetPolicy) -> None:
    contacts = _contacts(["FC20000001", "FC20000002", "FC20000002", "FC20000003"],
                         ["2020-03-02 10:00", "2020-03", "2020-03", "2020-03-01 09:00"])
    persons = pd.DataFrame({"fc_num": ["FC20000001", "FC20000002", "FC20000002", "FC20000003"],
                            "contact_date": ["2020-03-02 10:00", "2020-03", "2020-03", "2020-03-01 09:00"],
                            "age": ["30", "16-17", "40", "22"]}, dtype=object)
    public_contacts = publish_keys(contacts, policy.files["contacts"], "fioe", KEY)
    public_persons = publish_keys(persons, policy.files["persons"], "fioe", KEY)
    assert list(public_contacts["fc_num"][:2]) == [public_report_key("FC20000002", "fioe", KEY)] * 2
    assert list(public_persons["fc_num"]) == list(public_contacts["fc_num"])
    assert list(public_persons["age"]) == ["16-17", "40", "22", "30"]


def test_order_is_the_dates_and_pseudonyms_not_the_source_order(policy: DatasetPolicy) -> None:
    """However the reports sit in the export, the published file is the same: the order
    carries nothing of the source's numbers beyond the published dates."""
    reports = [f"FC200000{i:02d}" for i in range(1, 21)]
    dates = ["2020-03" if i % 4 == 3 else f"2020-03-{i // 2 + 1:02d} 10:00" for i in range(20)]
    forward = publish_keys(_contacts(reports, dates), policy.files["contacts"], "fioe", KEY)
    backward = publish_keys(_contacts(reports[::-1], dates[::-1]), policy.files["contacts"], "fioe", KEY)
    assert list(forward["fc_num"]) == list(backward["fc_num"])
    dated = list(zip(forward["contact_date"], forward["fc_num"], strict=True))
    assert dated == sorted(dated)


@pytest.mark.parametrize("position", [0, 2, 4], ids=["first", "middle", "last"])
def test_source_keys_move_juvenile_rows_apart_under_a_pseudonym(policy: DatasetPolicy, position: int) -> None:
    """``public_keys: source``: the other reports keep the source's numbers and order."""
    reports = [f"FC2000000{i}" for i in range(1, 6)]
    minor = reports[position]
    out, moved = publish_apart(_contacts(reports), policy.files["contacts"], frozenset({minor}), "fioe", KEY)
    assert moved == 1
    assert list(out["fc_num"][:4]) == [r for r in reports if r != minor]
    pseudonym = out["fc_num"].iloc[4]
    assert re.fullmatch(PUBLIC_KEY_PATTERN, pseudonym) and pseudonym == public_report_key(minor, "fioe", KEY)
    assert minor not in set(out["fc_num"])


def test_pseudonym_needs_the_key(policy: DatasetPolicy) -> None:
    assert public_report_key("FC20000002", "fioe", KEY) != public_report_key("FC20000002", "fioe", Tokenizer(b"k" * 64))
    assert public_report_key("FC20000002", "fioe", KEY) != public_report_key("FC20000003", "fioe", KEY)
    assert public_report_key("FC20000002", "fioe", KEY)[4:].lower() != KEY.token("FC20000002")[:16]  # not a value token
