"""Rules a privacy officer can read (issue 14, part 6): every recognizer of ``recognizers.yaml``
says what it finds (``description``) and shows it (``examples``), and the examples are true.

Each example runs against its recognizer alone, as the engine builds and assembles it (the shipped
lexicon, name rules trimmed, the engine's threshold): a ``redact`` example must be redacted exactly
where it is marked ``[[...]]`` (its letters and digits), a ``keep`` example not at all. The README
documents every key an entry can have, and the file's ``parts`` and ``examples`` are validated at load.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from release.errors import ConfigError
from release.pii.assemble import Assembler
from release.pii.engine import PiiEngine
from release.pii.lexicon import load_lexicon
from release.pii.recognizers import RULE_TYPES, Examples, PatternRule, RecognizersFile, load_recognizers, marked_spans
from release.pii.rulefiles import read_yaml
from release.pii.spans import TextViews

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "redaction_rules" / "pii"
SHIPPED = read_yaml(RULES / "recognizers.yaml")
IDS = [entry["id"] for entry in SHIPPED["recognizers"]]
README_SECTION = "## PII recognizers (`pii/recognizers.yaml`)"


@pytest.fixture(scope="module")
def rules(engine: PiiEngine) -> dict[str, PatternRule]:
    return {rule.spec.id: rule for rule in engine.rules}


def redacted(engine: PiiEngine, rule: PatternRule, text: str) -> set[int]:
    """Offsets of the letters and digits of ``text`` that ``rule``, alone, redacts."""
    views = TextViews.build(text, engine.lexicon)
    prepared = Assembler(engine.lexicon, [rule], engine.roster, {}).prepare(views, [])
    found: set[int] = set()
    for candidate in prepared.base:
        if candidate.rule_id == rule.spec.id and candidate.score >= engine.settings.threshold:
            start, end = views.base.to_original(candidate.start, candidate.end)
            found.update(i for i in range(start, end) if text[i].isalnum())
    return found


def shown(text: str, offsets: set[int]) -> str:
    return "".join(ch if i in offsets else "." for i, ch in enumerate(text))


@pytest.mark.parametrize("rule_id", IDS)
def test_redact_examples_are_found_where_marked(engine: PiiEngine, rules: dict[str, PatternRule],
                                                rule_id: str) -> None:
    rule = rules[rule_id]
    wrong = []
    for example in rule.spec.examples.redact:
        text, marks = marked_spans(example)
        expected = {i for start, end in marks for i in range(start, end) if text[i].isalnum()}
        found = redacted(engine, rule, text)
        if found != expected:
            wrong.append(f"{example!r}: redacted {shown(text, found)!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("rule_id", IDS)
def test_keep_examples_are_left_alone(engine: PiiEngine, rules: dict[str, PatternRule], rule_id: str) -> None:
    rule = rules[rule_id]
    wrong = []
    for example in rule.spec.examples.keep:
        found = redacted(engine, rule, example)
        if found:
            wrong.append(f"{example!r}: redacted {shown(example, found)!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("entry", SHIPPED["recognizers"], ids=IDS)
def test_every_recognizer_has_a_description_and_examples(entry: dict[str, object]) -> None:
    spec = RULE_TYPES[str(entry["type"])].spec_model.model_validate(entry)
    assert spec.description.strip(), "no description"
    assert spec.examples.redact, "no redact example"
    assert spec.examples.keep, "no keep example (a look-alike the rule must leave alone)"


def test_every_part_is_used() -> None:
    patterns = [p for entry in SHIPPED["recognizers"] for p in entry["patterns"]]
    parts = SHIPPED["parts"]
    pieces = patterns + [p for value in parts.values() for p in (value if isinstance(value, list) else [value])]
    unused = [name for name in parts if not any("{" + name + "}" in piece for piece in pieces)]
    assert not unused, f"parts no pattern uses: {unused}"


def test_every_key_is_documented_in_the_readme() -> None:
    readme = (ROOT / "redaction_rules" / "README.md").read_text(encoding="utf-8")
    assert README_SECTION in readme
    section = readme.split(README_SECTION, 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE))
    keys = set(RecognizersFile.model_fields).union(*(kind.spec_model.model_fields for kind in RULE_TYPES.values()))
    missing = sorted(keys - rows)
    assert not missing, f"keys with no row in README.md's {README_SECTION!r}: {missing}"
    unnamed = sorted(name for name in Examples.model_fields if f"`{name}" not in section)
    assert not unnamed, f"examples keys not named in README.md's {README_SECTION!r}: {unnamed}"


# --- loading: parts expand as written, examples are checked -------------------------------------

ENTRY = """  - id: plate
    type: pattern
    entity_type: PLATE
    score: 0.8
    patterns: ['(?:{plate_words}) (?P<pii>\\w+)']
"""


def _load(tmp_path: Path, content: str) -> list[PatternRule]:
    rules_dir = tmp_path / "pii"
    shutil.copytree(RULES, rules_dir)
    (rules_dir / "recognizers.yaml").write_text(content, encoding="utf-8")
    return load_recognizers(rules_dir, load_lexicon(rules_dir, english_words=[], stop_words=[]))


def test_parts_expand_as_written(tmp_path: Path) -> None:
    parts = "parts:\n  plate_word: 'plate#?'\n  plate_words: [reg, '{plate_word}']\n"
    content = "version: 1\n" + parts + "recognizers:\n" + ENTRY
    (rule,) = _load(tmp_path, content)
    assert rule.compiled[0].pattern == r"(?:reg|plate#?) (?P<pii>\w+)"


BROKEN = [
    ("parts:\n  plate_words: [reg]\n", ENTRY.replace("{plate_words}", "{plate_wrds}"),
     r"recognizers\[0\]\.patterns\[0\]: \{plate_wrds\} is no part of the file and no word list; valid: plate_words, "),
    ("parts:\n  plate_words: [reg, '{later}']\n  later: plate\n", ENTRY,
     r"parts\.plate_words: \{later\} is not above it; a part uses only the parts above it"),
    ("parts:\n  streets: x\n", ENTRY, r"parts\.streets: a word list of the rule files has this name"),
    ("parts:\n  Plate-Words: [reg]\n", ENTRY, r"parts\.Plate-Words\.\[key\]"),
    ("parts:\n  plate_words: []\n", ENTRY, r"parts\.plate_words"),
    ("parts:\n  plate_words: [reg]\n", ENTRY + "    examples: {redact: ['reg 1AB234']}\n",
     r"recognizers\[0\]\.examples\.redact\[0\]: Value error, mark each part the rule must redact as \[\[\.\.\.\]\]"),
    ("parts:\n  plate_words: [reg]\n", ENTRY + "    examples: {keep: ['reg [[1AB234]]']}\n",
     r"recognizers\[0\]\.examples\.keep\[0\]: Value error, a keep example marks nothing"),
    ("parts:\n  plate_words: [reg]\n", ENTRY + "    examples: {keep: ['  ']}\n",
     r"recognizers\[0\]\.examples\.keep\[0\]: String should match pattern"),
    ("parts:\n  plate_words: [reg]\n", ENTRY + "    examples: {redact: ['reg [[1AB234]]'], maybe: ['x']}\n",
     r"recognizers\[0\]\.examples\.maybe"),
]


@pytest.mark.parametrize(("parts", "entry", "message"), BROKEN, ids=[
    "unknown-part", "part-used-before-defined", "part-named-like-a-word-list", "part-name", "empty-part",
    "redact-unmarked", "keep-marked", "blank-example", "examples-extra-key"])
def test_broken_parts_and_examples(tmp_path: Path, parts: str, entry: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        _load(tmp_path, "version: 1\n" + parts + "recognizers:\n" + entry)
    assert caught.value.file == str(tmp_path / "pii" / "recognizers.yaml")
