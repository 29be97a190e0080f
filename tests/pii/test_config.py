"""Broken rule files fail at load with the file and the key path, never silently."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from release.errors import ConfigError
from release.pii.engine import EngineSettings, PiiEngine
from release.pii.lexicon import load_lexicon
from release.pii.recognizers import RULE_TYPES, load_recognizers
from release.pii.rulefiles import rules_digest

RULES = Path(__file__).resolve().parents[2] / "redaction_rules" / "pii"

GOOD_RULE = """version: 1
recognizers:
  - id: plate
    type: pattern
    entity_type: PLATE
    score: 0.8
    patterns: ['reg (?P<pii>\\w+)']
"""

BROKEN = [
    ("recognizers.yaml", GOOD_RULE.replace("type: pattern", "type: magic"),
     r"recognizers\[0\]\.type: unknown type 'magic'; valid types: context_pattern, name_pattern, pattern"),
    ("recognizers.yaml", GOOD_RULE.replace("    type: pattern\n", ""), r"recognizers\[0\]\.type: missing"),
    ("recognizers.yaml", GOOD_RULE.replace("score: 0.8", "score: 3"), r"recognizers\[0\]\.score"),
    ("recognizers.yaml", GOOD_RULE.replace("reg (?P<pii>", "reg (?P<pii"),
     r"recognizers\[0\]\.patterns\[0\]: invalid regular expression"),
    ("recognizers.yaml", GOOD_RULE + "    colour: red\n", r"recognizers\[0\]\.colour"),
    ("recognizers.yaml", GOOD_RULE + GOOD_RULE.split("recognizers:\n")[1], r"recognizers\[1\]\.id: duplicate id 'plate'"),
    ("recognizers.yaml", "version: 1\nrecognizers: [\n", r"not valid YAML"),
    ("allow_list.yaml", "streets: [Blue Hill Ave]\nparks: [Franklin Park]\n", r"parks"),
    ("lexicon.yaml", "name_words: [[nested]]\n", r"name_words\[0\]"),
    ("names.yaml", "version: 1\ngiven_names: [ada]\nnicknames: [Ace]\n", r"nicknames"),
    ("names.yaml", "version: 2\n", r"version"),
    ("addresses.yaml", "version: 1\nstreet_types_after: [close, [lane]]\n", r"street_types_after\[1\]"),
]


def _rules_with(tmp_path: Path, name: str, content: str) -> Path:
    target = tmp_path / "pii"
    shutil.copytree(RULES, target)
    (target / name).write_text(content, encoding="utf-8")
    return target


@pytest.mark.parametrize(("name", "content", "message"), BROKEN,
                         ids=["unknown-type", "missing-type", "score-range", "bad-regex", "extra-key",
                              "duplicate-id", "bad-yaml", "allow-extra-section", "lexicon-type",
                              "names-extra-section", "names-version", "addresses-type"])
def test_broken_rule_file(tmp_path: Path, name: str, content: str, message: str) -> None:
    rules = _rules_with(tmp_path, name, content)
    with pytest.raises(ConfigError, match=message) as caught:
        lexicon = load_lexicon(rules, english_words=[], stop_words=[])
        load_recognizers(rules, lexicon)
    assert caught.value.file == str(rules / name)


def test_missing_rule_file(tmp_path: Path) -> None:
    rules = tmp_path / "pii"
    shutil.copytree(RULES, rules)
    (rules / "recognizers.yaml").unlink()
    lexicon = load_lexicon(rules, english_words=[], stop_words=[])
    with pytest.raises(ConfigError, match="rule file is missing"):
        load_recognizers(rules, lexicon)


def test_engine_surfaces_config_errors_unchanged(tmp_path: Path) -> None:
    rules = _rules_with(tmp_path, "recognizers.yaml", GOOD_RULE.replace("type: pattern", "type: magic"))
    with pytest.raises(ConfigError, match="valid types"):
        PiiEngine(EngineSettings(rules_dir=rules, n_process=1))


def test_bad_officer_policy_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="officer_policy"):
        PiiEngine(EngineSettings(rules_dir=RULES, officer_policy="sometimes"))


def test_shipped_rules_load_and_every_type_is_used() -> None:
    lexicon = load_lexicon(RULES, english_words=["street"], stop_words=["the"])
    rules = load_recognizers(RULES, lexicon)
    assert {rule.spec.type for rule in rules} == set(RULE_TYPES)


@pytest.mark.parametrize("name", ["allow_list.yaml", "names.yaml", "addresses.yaml"])
def test_rules_digest_changes_with_any_rule_file(tmp_path: Path, name: str) -> None:
    rules = _rules_with(tmp_path, name, (RULES / name).read_text() + "\n# edited\n")
    assert rules_digest(rules) != rules_digest(RULES)


@pytest.mark.parametrize("name", ["names.yaml", "addresses.yaml"])
def test_missing_word_file(tmp_path: Path, name: str) -> None:
    rules = tmp_path / "pii"
    shutil.copytree(RULES, rules)
    (rules / name).unlink()
    with pytest.raises(ConfigError, match="rule file is missing") as caught:
        load_lexicon(rules, english_words=[], stop_words=[])
    assert caught.value.file == str(rules / name)
