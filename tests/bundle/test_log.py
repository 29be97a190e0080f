"""The redaction log detects any edit, deletion, reordering or truncation."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release.bundle.log import build_log, verify_log
from release.keys.hmac import derive_keys, normalize_value
from release.model import RedactionEvent

KEYS = derive_keys(b"k" * 64, "fioe", 2020)
KEY = KEYS.tokens
TRAILER = KEYS.trailer


def _event(n: int) -> RedactionEvent:
    return RedactionEvent(
        dataset="fioe", file="fieldcontact.csv", row_key=f"FC20{n:06d}", column="contact_reason",
        action="redact", entity_type="PERSON", detector="ner", detector_version="t", rule_id="r",
        score=0.9, start=n, end=n + 5, out_start=n, out_end=n + 10, removed_length=5,
        token=KEY.token(f"value {n}"), placeholder="[PERSON 1]")


def _log(n: int) -> list[str]:
    return build_log([_event(i) for i in range(n)], TRAILER)


@pytest.mark.parametrize("count", [0, 1, 7], ids=["empty", "one", "several"])
def test_intact_log_verifies(count: int) -> None:
    check = verify_log(_log(count), TRAILER)
    assert check.ok, check.problems
    assert check.entries == count
    assert check.trailer_mac_checked


def test_log_carries_tokens_not_values() -> None:
    text = "\n".join(_log(3))
    assert "value 1" not in text
    assert KEY.token("VALUE  1") in text  # tokens are of the normalized value


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=8), st.data())
def test_any_field_edit_is_detected(count: int, data: st.DataObject) -> None:
    lines = _log(count)
    index = data.draw(st.integers(0, len(lines) - 1))
    entry = json.loads(lines[index])
    field = data.draw(st.sampled_from(sorted(k for k in entry if k != "hash")))
    entry[field] = data.draw(st.one_of(st.integers(), st.text(max_size=5), st.none()).filter(
        lambda v: v != entry[field]))
    lines[index] = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    assert not verify_log(lines, TRAILER).ok


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=8), st.data())
def test_any_deletion_is_detected(count: int, data: st.DataObject) -> None:
    lines = _log(count)
    index = data.draw(st.integers(0, len(lines) - 1))
    del lines[index]
    assert not verify_log(lines, TRAILER).ok


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=2, max_value=8), st.data())
def test_any_reordering_is_detected(count: int, data: st.DataObject) -> None:
    lines = _log(count)
    order = data.draw(st.permutations(range(len(lines))).filter(lambda p: list(p) != sorted(p)))
    assert not verify_log([lines[i] for i in order], TRAILER).ok


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=8), st.data())
def test_any_truncation_is_detected(count: int, data: st.DataObject) -> None:
    lines = _log(count)
    keep = data.draw(st.integers(0, len(lines) - 1))
    assert not verify_log(lines[:keep], TRAILER).ok


def test_recomputed_trailer_without_key_fails_mac() -> None:
    lines = _log(3)[:-2]  # drop the last entry and the trailer, then forge a trailer
    forged = build_log([_event(i) for i in range(2)], derive_keys(b"x" * 64, "fioe", 2020).trailer)[-1]
    check = verify_log(lines + [forged], TRAILER)
    assert not check.ok
    assert any("MAC" in p for p in check.problems)


def test_problems_never_quote_content() -> None:
    lines = _log(2)
    lines[0] = lines[0].replace("fieldcontact.csv", "SECRETNAME.csv")
    check = verify_log(lines, TRAILER)
    assert not check.ok
    assert "SECRETNAME" not in " ".join(check.problems)


def test_a_value_token_is_never_a_trailer_mac() -> None:
    """Issue #11: a narrative reading ``count:head`` made the build log HMAC(key, that text) as a
    token, which was a valid trailer MAC for a truncated log. The trailer now has its own key
    and a labelled message, so neither the old message nor the new one's text forges it."""
    lines = _log(3)
    truncated = lines[:2]
    head = json.loads(truncated[-1])["hash"]
    for text in (f"1:2:{head}", f"2:2:{head}", f"release-log-trailer/v2 2 2 {head}"):
        trailer = {"trailer": True, "log_version": 2, "count": 2, "prev": head, "head": head,
                   "key_id": KEYS.key_id, "mac": KEY.token(text)}
        trailer["hash"] = hashlib.sha256(json.dumps(trailer, sort_keys=True, separators=(",", ":"))
                                         .encode()).hexdigest()
        check = verify_log(truncated + [json.dumps(trailer, sort_keys=True, separators=(",", ":"))], TRAILER)
        assert check.chain_problems == () and check.mac_problems == ("trailer MAC does not verify under this key",)
    assert normalize_value(f"2:2:{head}") == f"2:2:{head}"  # the token really is of that text


def test_without_a_key_the_mac_is_not_checked_and_a_rechained_log_passes_the_chain() -> None:
    """Why the audit must report "not run" without the key: the chain alone proves nothing
    about a log rebuilt with entries removed."""
    rebuilt = build_log([_event(i) for i in range(2)], derive_keys(b"z" * 64, "fioe", 2020).trailer)
    check = verify_log(rebuilt)
    assert check.ok and not check.trailer_mac_checked
    assert not verify_log(rebuilt, TRAILER).ok
