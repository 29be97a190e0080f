"""The review packet: plain summary first, placeholders in context, no value, no fetch."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from bundlekit import RAW_VALUES, TABLE, Built, new_key

from release.audit.run import audit
from release.bundle.layout import sha256_file
from release.bundle.read import read_manifest
from release.governance.decisions import Signing, record_decision
from release.review import inputs_from_bundle, render_review, review, write_review

URL = re.compile(r"""(?:src|href|action|data|poster)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//|@import""",
                 re.IGNORECASE)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.headings: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_heading = tag == "h2"

    def handle_data(self, data: str) -> None:
        if self._in_heading:
            self.headings.append(data.strip())
            self._in_heading = False


def _packet(built: Built) -> str:
    return (built.bundle / "review" / "index.html").read_text(encoding="utf-8")


def _parse(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser


def test_summary_comes_first_and_says_what_is_published(built: Built) -> None:
    text = _packet(built)
    parsed = _parse(text)
    assert parsed.headings[0] == "Summary"
    summary = text[text.index('id="summary"'):text.index('id="redactions"')]
    assert "No blocking finding" in summary
    assert "fioe_2020_contacts.csv (4 rows, 24 columns)" in summary
    assert "3 names of people redacted from free text" in summary


def test_blocking_findings_are_in_the_summary(make_bundle) -> None:
    summary = _packet(make_bundle(blocking=True)).split('id="redactions"')[0]
    assert "1 blocking finding(s)" in summary and "cannot be approved" in summary
    assert "possible PERSON left in the public text" in summary


def test_packet_is_self_contained_and_escaped(make_bundle) -> None:
    text = _packet(make_bundle(tables={"stops": TABLE}))
    tags = set(_parse(text).tags)
    assert not tags & {"script", "link", "img", "iframe", "object", "embed", "base", "form"}
    assert URL.search(text) is None and "http://" not in text and "https://" not in text
    assert "default-src 'none'" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; left." in text  # narrative text, escaped


def test_no_removed_value_appears_in_the_packet(built: Built) -> None:
    text = _packet(built).lower()
    assert [v for v in RAW_VALUES if v.lower() in text] == []


def test_sample_shows_placeholders_in_context(built: Built) -> None:
    samples = _packet(built).split('id="samples"')[1].split("</section>")[0]
    assert "Spoke with <mark>[PERSON 1]</mark> near the park. Released." in samples
    assert "[WITHHELD: JUVENILE]" not in samples  # wholly withheld cells are not samples
    assert "3 of 3 narratives" in samples


@pytest.mark.parametrize(
    ("section", "expected"),
    [("redactions", ["<td>redact</td><td>PERSON</td><td class=n>3</td>",
                     "<td>fieldcontact.csv</td><td>contact_reason</td><td class=n>4</td>"]),
     ("flagged", ["<td>FC20000001#2</td>", "<td class=n>0.45</td>"]),
     ("juvenile", ["Reports involving a minor: 1.", "<td>juvenile.withhold</td><td>withhold</td><td>street</td>"]),
     ("risk", ["<td>date, zip, sex, race, age</td><td class=n>3</td><td class=n>2</td><td class=n>1</td>"
               "<td class=n>33.3%</td><td class=n>3</td><td class=n>1</td>"]),
     ("expectations", ["<td>expect_column_values_to_be_in_set</td>", "<td>pass</td>"])],
    ids=["redactions-by-type-and-column", "low-confidence", "juvenile", "residual-risk", "expectations"])
def test_sections_show_the_log_and_public_figures(built: Built, section: str, expected: list[str]) -> None:
    part = _packet(built).split(f'id="{section}"')[1].split("</section>")[0]
    assert [e for e in expected if e not in part] == []


@pytest.mark.parametrize("tables", [True, False], ids=["with-tables", "without-tables"])
def test_tables_section_only_when_tables_exist(make_bundle, tables: bool) -> None:
    text = _packet(make_bundle(tables={"stops": TABLE} if tables else None))
    assert ('id="tables"' in text) is tables
    if tables:
        part = text.split('id="tables"')[1]
        assert "<svg" in part and "exact 1, noisy 2, suppressed 1" in part


def test_changes_since_the_previous_release(make_bundle) -> None:
    make_bundle(year=2019, privacy={"rho_spent": 0.2})
    built: Built = make_bundle(year=2020, extra_column=("persons", "entered_by"), privacy={"rho_spent": 0.3})
    part = _packet(built).split('id="changes"')[1].split("</section>")[0]
    assert "since the last release (2019)" in part
    assert "<td>fioe_{year}_persons.csv</td><td class=n>3</td><td class=n>3</td><td>entered_by</td><td>-</td>" in part
    assert "<td>rho_spent</td><td>0.2</td><td>0.3</td>" in part


def test_no_previous_release_is_said(built: Built) -> None:
    assert "No previous release of this dataset was found." in _packet(built)


def test_render_from_the_bundle_equals_the_listed_packet(make_bundle, tmp_path: Path) -> None:
    make_bundle(year=2019)
    built: Built = make_bundle(year=2020, tables={"stops": TABLE})
    previous = built.out_dir / "fioe" / "2019"
    assert render_review(inputs_from_bundle(built.bundle, previous)) == _packet(built)


def test_write_review_never_replaces_a_listed_packet(built: Built) -> None:
    before = sha256_file(built.bundle / "review" / "index.html")
    write_review(built.bundle, None)
    assert sha256_file(built.bundle / "review" / "index.html") == before


def test_write_review_restores_a_missing_listed_packet(built: Built) -> None:
    before = sha256_file(built.bundle / "review" / "index.html")
    (built.bundle / "review" / "index.html").unlink()
    write_review(built.bundle, None)
    assert sha256_file(built.bundle / "review" / "index.html") == before


def test_unlisted_packet_is_written_and_the_bundle_still_audits(make_bundle) -> None:
    built: Built = make_bundle(with_packet=False)
    path = write_review(built.bundle, None)
    assert _parse(path.read_text()).headings[0] == "Summary"
    assert audit("fioe", 2020, built.out_dir).failed == []


def test_decisions_are_listed_and_pending_ones_counted(built: Built, tmp_path: Path) -> None:
    key = new_key(tmp_path, "A. Reviewer")
    record_decision("fioe", 2020, built.out_dir, "2", "keep", "A. Reviewer", "officer's street",
                    signing=Signing(key, None, tmp_path / "rules"))
    result = review("fioe", 2020, built.out_dir, rules_dir=tmp_path / "rules")
    assert result["decisions_pending"] == 1 and result["listed_in_manifest"] is True
    assert result["approvals"] == "legal 0 of 1" and result["decisions_ignored"] == [] == result["decisions_missing"]
    decisions = [json.loads(line)["payload"]
                 for line in (built.out_dir / "fioe" / "2020.decisions.jsonl").read_text().splitlines()]
    inputs = inputs_from_bundle(built.bundle)
    applied = dataclasses.replace(inputs, manifest={**read_manifest(built.bundle), "review_decisions": decisions})
    part = render_review(applied).split("Decisions applied in this build")[1].split("</section>")[0]
    assert "<td>keep</td><td>A. Reviewer</td><td>fieldcontact.csv</td><td>FC20000001#2</td>" in part
    assert "officer&#39;s street" in part  # escaped by the template (markupsafe)


def test_a_non_default_policy_is_shown_in_the_summary(built: Built) -> None:
    inputs = inputs_from_bundle(built.bundle)
    rules = {"origin": "option", "folder": "/srv/lax-rules", "default": False, "differs_from_installed": ["fioe.yaml"],
             "files": []}
    summary = render_review(dataclasses.replace(inputs, manifest={**read_manifest(built.bundle), "rules": rules}))
    summary = summary.split('id="redactions"')[0]
    assert "Non-default policy." in summary and "fioe.yaml" in summary and "/srv/lax-rules" in summary
    assert "Non-default policy." not in _packet(built)


@pytest.mark.parametrize("public_keys", ["source", "pseudonym"])
def test_source_report_numbers_are_a_warning_in_the_summary(built: Built, public_keys: str) -> None:
    """``public_keys: source`` under juvenile protection: the summary says gaps give dates back."""
    inputs = inputs_from_bundle(built.bundle)
    manifest = read_manifest(built.bundle)
    policy = {"public_keys": public_keys, "juvenile": {"enabled": True}}
    summary = render_review(dataclasses.replace(inputs, manifest={**manifest, "parameters": {
        **manifest["parameters"], "policy": policy}})).split('id="redactions"')[0]
    assert ("Source report numbers." in summary) == (public_keys == "source")
    assert ("each gap in the published sequence is a withheld report" in summary) == (public_keys == "source")
    assert "Source report numbers." not in _packet(built)
