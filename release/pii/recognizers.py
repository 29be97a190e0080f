"""Custom recognizers declared in ``redaction_rules/pii/recognizers.yaml``.

Each YAML entry has an ``id``, an ``entity_type`` (the placeholder label), a ``score``
and a ``type`` naming one of the small classes registered in ``RULE_TYPES``:

- ``pattern``: regular expressions; the named group ``pii`` (if present) is the span.
- ``context_pattern``: a pattern that counts only with a context word nearby, matched on
  whole words (Presidio's substring context matching is what we avoid, issues #1061/#989);
  ``context_barrier`` (a regex) stops the context at the last value before the match, so
  one cue reaches one value.
- ``name_pattern``: a pattern whose ``pii`` group is a name ("aka X", "Mr. X",
  "Last, First", "associate of X"); rejected when the words are stop words, titles or
  public words; by default cut at words that are never part of a name (``trim``).

An unknown ``type`` fails at load with the file, the key path and the valid types.
Patterns may use ``{streets}``, replaced by the allow-listed street names, and
``{street_types_after}``, ``{street_types_before}``, ``{street_types_foreign}``,
``{street_type_endings}`` from ``addresses.yaml``, and ``{name}`` for any entry of the file's
``parts`` (named pieces of the long patterns, pasted as they are; a list is the alternation of
its items); a ``{name}`` that is none of these fails at load. ``description`` and ``examples``
(fictitious sentences the rule must redact, the part marked ``[[...]]``, and look-alikes it must
keep; ``tests/pii/test_recognizer_examples.py`` runs them) are for the reader. Rules run
on the ``digits`` view (spaced digits collapsed) unless they ask for ``restored``
(case-restored, for rules that need capitalisation) or ``normalized``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from re._constants import (  # type: ignore[import-not-found]  # CPython's regex internals: typeshed has no stubs
    ANY,
    ASSERT,
    ASSERT_NOT,
    AT,
    ATOMIC_GROUP,
    BRANCH,
    CATEGORY,
    GROUPREF,
    IN,
    LITERAL,
    MAX_REPEAT,
    MIN_REPEAT,
    NEGATE,
    NOT_LITERAL,
    POSSESSIVE_REPEAT,
    RANGE,
    SUBPATTERN,
)
from re._parser import parse as parse_pattern  # type: ignore[import-not-found]  # (as above)
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from release.errors import ConfigError
from release.pii.lexicon import Lexicon
from release.pii.rulefiles import key_path, load_rule_file, validate
from release.pii.spans import PLACEHOLDER, Candidate, Span, TextViews

_MARK = re.compile(r"\[\[(.+?)\]\]")


def marked_spans(example: str) -> tuple[str, list[Span]]:
    """A ``redact`` example without its ``[[...]]`` marks, and the spans the marks enclosed."""
    text, spans, last = "", [], 0
    for match in _MARK.finditer(example):
        text += example[last : match.start()]
        spans.append((len(text), len(text) + len(match.group(1))))
        text += match.group(1)
        last = match.end()
    return text + example[last:], spans


def _marked(example: str) -> str:
    text, spans = marked_spans(example)
    if not spans or "[[" in text or "]]" in text:
        raise ValueError("mark each part the rule must redact as [[...]]")
    return example


def _unmarked(example: str) -> str:
    if "[[" in example or "]]" in example:
        raise ValueError("a keep example marks nothing: the rule must find nothing in it")
    return example


_Sentence = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]


class Examples(BaseModel):
    """Fictitious sentences for the reader, run by the tests: ``redact`` ones with the part the
    rule must find marked ``[[...]]``, ``keep`` ones (look-alikes) where it must find nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    redact: list[Annotated[_Sentence, AfterValidator(_marked)]] = Field(default_factory=list)
    keep: list[Annotated[_Sentence, AfterValidator(_unmarked)]] = Field(default_factory=list)


class RuleSpec(BaseModel):
    """A ``pattern`` entry of ``recognizers.yaml``, and the keys every rule type shares."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    type: str
    entity_type: str = Field(pattern=r"^[A-Z][A-Z_]*$")
    score: float = Field(ge=0.0, le=1.0)
    patterns: list[str] = Field(min_length=1)
    view: Literal["digits", "normalized", "restored"] = "digits"
    ignore_case: bool = True
    modes: list[Literal["upper", "lower", "mixed"]] = Field(default=["upper", "lower", "mixed"], min_length=1)
    requires: list[str] = Field(default_factory=list)  # skip texts containing none of these (any case)
    description: str = ""
    examples: Examples = Field(default_factory=Examples)


class ContextRuleSpec(RuleSpec):
    """A ``context_pattern`` entry: the pattern counts only with a context word within reach, whole words, the
    reach stopped at ``context_barrier``."""

    context: list[str] = Field(min_length=1)
    context_before: int = Field(default=40, ge=0)
    context_after: int = Field(default=0, ge=0)
    score_without_context: float = Field(default=0.0, ge=0.0, le=1.0)
    context_barrier: str = ""  # a regex: the context before a match starts after its last hit

    @field_validator("context_barrier")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regular expression ({exc.msg})") from None
        return value


class NameRuleSpec(RuleSpec):
    """A ``name_pattern`` entry: the ``pii`` group is a name, rejected when made of stop words, titles or public
    words, and trimmed."""

    view: Literal["digits", "normalized", "restored"] = "restored"
    reject_common: Literal["all", "none"] = "none"
    respect_allow_list: bool = True
    trim: bool = True  # cut the capture at words that are never part of a name
    strip_lowercase: bool = False  # drop edge words the case-restored copy shows in lower case
    reject_places: bool = False  # drop a capture followed by a place word ("Dr. Martin Luther King Blvd")


_ASCII = "".join(map(chr, range(128)))


def _folds_to_ascii(code: int) -> bool:
    """A non-ASCII character that case-insensitive Unicode matching equates with an ASCII one
    ("ſ" with "s", the Kelvin sign with "k")."""
    return re.search(re.escape(chr(code)), _ASCII, re.IGNORECASE) is not None


def _same_on_ascii(items: Iterable[tuple[Any, Any]]) -> bool:
    """Every element of a parsed pattern means the same on ASCII text in both modes: literals and
    class members that are ASCII or fold to no ASCII character, classes with no range reaching
    past ASCII (``[«-’]`` holds "ſ"), and the operators below; anything else is refused."""
    for op, value in items:
        if op in (LITERAL, NOT_LITERAL):
            if value >= 128 and _folds_to_ascii(value):
                return False
        elif op is IN:
            for member, what in value:
                if member is RANGE and what[1] >= 128 or member is LITERAL and what >= 128 and _folds_to_ascii(what):
                    return False
                if member not in (LITERAL, RANGE, CATEGORY, NEGATE):
                    return False
        elif op in (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT):
            if not _same_on_ascii(value[2]):
                return False
        elif op is SUBPATTERN:
            if not _same_on_ascii(value[-1]):
                return False
        elif op in (ASSERT, ASSERT_NOT):
            if not _same_on_ascii(value[1]):
                return False
        elif op is BRANCH:
            if not all(_same_on_ascii(branch) for branch in value[1]):
                return False
        elif op is ATOMIC_GROUP:
            if not _same_on_ascii(value):
                return False
        elif op not in (AT, ANY, CATEGORY, GROUPREF):
            return False  # GROUPREF_EXISTS and the rest: not used by the rules, not vouched for
    return True


def ascii_twin(regex: re.Pattern[str]) -> re.Pattern[str] | None:
    """``regex`` compiled in ASCII mode, where that finds exactly the same matches in every
    ASCII text; else None. On ASCII characters Python's re gives \\w, \\d, \\b and case folding the
    same meaning in both modes, and Unicode \\s only adds \\x1c-\\x1f (``TextViews.plain_ascii``
    leaves such text out); what differs is a non-ASCII pattern character that folds to an
    ASCII one, which ``_same_on_ascii`` refuses. ASCII mode is the faster: the YAML rules take
    about a quarter less time on the bundled sample."""
    try:
        if not _same_on_ascii(parse_pattern(regex.pattern, regex.flags)):
            return None
        return re.compile(regex.pattern, (regex.flags & ~re.UNICODE) | re.ASCII)
    except (re.error, ValueError):  # an inline (?u) clashes with ASCII mode
        return None


class PatternRule:
    """Regexes; the ``pii`` group, when the pattern has one, is the redacted span."""

    spec_model: ClassVar[type[RuleSpec]] = RuleSpec

    def __init__(self, spec: RuleSpec, lexicon: Lexicon, compiled: list[re.Pattern[str]]) -> None:
        self.spec = spec
        self.lexicon = lexicon
        self.compiled = compiled
        self.ascii_compiled = [ascii_twin(regex) or regex for regex in compiled]  # for plain ASCII views
        self.requires = [need.lower() for need in spec.requires]

    def _view_text(self, views: TextViews) -> str:
        if self.spec.view == "digits":
            return views.digits.text
        if self.spec.view == "restored":
            return views.restored
        return views.base.text

    def _to_base(self, views: TextViews, start: int, end: int) -> tuple[int, int]:
        if self.spec.view == "digits":
            return views.digits.to_original(start, end)
        return start, end

    def matches(self, views: TextViews) -> list[tuple[int, int, float]]:
        if views.mode not in self.spec.modes:
            return []
        if self.spec.requires and not any(
            need in views.lower or need in views.digits_lower for need in self.requires
        ):
            return []
        text = self._view_text(views)
        found = []
        for regex in self.ascii_compiled if views.plain_ascii else self.compiled:
            group = "pii" if "pii" in regex.groupindex else 0
            for match in regex.finditer(text):
                start, end = match.span(group)
                if start < end:
                    found.append((start, end, self.spec.score))
        return found

    def find(self, views: TextViews) -> list[Candidate]:
        out = []
        for start, end, score in self.matches(views):
            base_start, base_end = self._to_base(views, start, end)
            out.append(Candidate(base_start, base_end, self.spec.entity_type, "regex", score, self.spec.id))
        return out


class ContextPatternRule(PatternRule):
    """A pattern whose score depends on a whole-word context term near the match."""

    spec_model: ClassVar[type[RuleSpec]] = ContextRuleSpec

    def __init__(self, spec: RuleSpec, lexicon: Lexicon, compiled: list[re.Pattern[str]]) -> None:
        super().__init__(spec, lexicon, compiled)
        assert isinstance(spec, ContextRuleSpec)
        self.context_spec = spec
        words = sorted((re.escape(w) for w in spec.context), key=len, reverse=True)
        self.context_regex = re.compile(
            r"(?<![A-Za-z0-9])(?:" + "|".join(words) + r")(?![A-Za-z0-9])", re.IGNORECASE
        )
        self.barrier = re.compile(spec.context_barrier, re.IGNORECASE) if spec.context_barrier else None

    def matches(self, views: TextViews) -> list[tuple[int, int, float]]:
        text = self._view_text(views)
        spec = self.context_spec
        found = []
        for start, end, score in super().matches(views):
            # a placeholder is no context and stands for a value: "born [DOB 1] was stopped on 11/16/2020"
            window = text[max(0, start - spec.context_before) : start]
            window = window[max((m.end() for m in PLACEHOLDER.finditer(window)), default=0) :]
            if self.barrier is not None:  # "born 4-17-93, stopped on 11/16/2020": a cue reaches one value
                window = window[max((m.end() for m in self.barrier.finditer(window)), default=0) :]
            if spec.context_after:
                window += " " + text[end : end + spec.context_after]
            if self.context_regex.search(window):
                found.append((start, end, score))
            elif spec.score_without_context > 0:
                found.append((start, end, spec.score_without_context))
        return found


class NamePatternRule(PatternRule):
    """A pattern capturing a name; drops captures made only of stop/title/public words."""

    spec_model: ClassVar[type[RuleSpec]] = NameRuleSpec

    def find(self, views: TextViews) -> list[Candidate]:
        spec = self.spec
        assert isinstance(spec, NameRuleSpec)
        out = []
        for start, end, score in self.matches(views):
            base_start, base_end = self._to_base(views, start, end)
            words = [
                (s, e) for s, e in views.words(base_start, base_end)
                if not any(ch.isdigit() for ch in views.base.text[s:e])
            ]
            lowered = [views.base.text[s:e].lower() for s, e in words]
            if not words or all(self.lexicon.is_stop_or_title(w) for w in lowered):
                continue
            if spec.respect_allow_list and all(
                views.is_public(s, e) or w in self.lexicon.allow_words for (s, e), w in zip(words, lowered, strict=True)
            ):
                continue
            if spec.reject_common == "all" and all(self.lexicon.is_common(w) for w in lowered):
                continue
            out.append(Candidate(base_start, base_end, spec.entity_type, "regex", score, spec.id))
        return out


RULE_TYPES: dict[str, type[PatternRule]] = {
    "pattern": PatternRule,
    "context_pattern": ContextPatternRule,
    "name_pattern": NamePatternRule,
}


class RecognizersFile(BaseModel):
    """``recognizers.yaml`` as read: the named ``parts``, and the entries, each validated by the model its
    ``type`` names."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    # {name} -> a piece of regex, or a list of them (their alternation, no group around it)
    parts: dict[
        Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")],
        Annotated[str, StringConstraints(min_length=1)]
        | Annotated[list[Annotated[str, StringConstraints(min_length=1)]], Field(min_length=1)],
    ] = Field(default_factory=dict)
    recognizers: list[dict[str, Any]] = Field(default_factory=list)


_REFERENCE = re.compile(r"(?<!\\)\{([A-Za-z_]\w*)\}")  # {name}, never a {1,4} count or an escaped \{


def _parts(top: RecognizersFile, taken: dict[str, str], path: Path) -> dict[str, str]:
    """The file's ``parts`` as ``{name}`` -> regex, each using the parts above it as they are."""
    found: dict[str, str] = {}
    for name, value in top.parts.items():
        if "{" + name + "}" in taken:
            raise ConfigError(f"parts.{name}: a word list of the rule files has this name", file=str(path))
        piece = _expand("|".join(value) if isinstance(value, list) else value, found)
        later = [m.group() for m in _REFERENCE.finditer(piece) if m.group(1) in top.parts]
        if later:  # else the order of expansion would decide what it means
            raise ConfigError(f"parts.{name}: {later[0]} is not above it; a part uses only the parts above it",
                              file=str(path))
        found["{" + name + "}"] = piece
    return found


def _alternation(phrases: list[str] | tuple[str, ...]) -> str:
    ordered = sorted(phrases, key=lambda phrase: (-len(phrase), phrase))  # longest first; ties in a fixed order
    return "(?:" + "|".join(r"\s+".join(re.escape(w) for w in p.split()) for p in ordered) + ")"


def _expansions(lexicon: Lexicon) -> dict[str, str]:
    """``{streets}`` and the address word lists of ``addresses.yaml``, as regex alternations."""
    found = {"{streets}": _alternation(lexicon.streets)}
    for key, words in lexicon.address_words.items():
        found["{" + key + "}"] = _alternation(words) if words else "(?!)"
    return found


def _expand(pattern: str, expansions: dict[str, str]) -> str:
    for key, value in expansions.items():
        if key in pattern:
            pattern = pattern.replace(key, value)
    return pattern


def declared_entity_types(rules_dir: Path) -> frozenset[str]:
    """The entity types ``recognizers.yaml`` declares (read as it is loaded; not built)."""
    top = load_rule_file(RecognizersFile, rules_dir / "recognizers.yaml")
    return frozenset(str(raw["entity_type"]) for raw in top.recognizers if isinstance(raw.get("entity_type"), str))


def load_recognizers(rules_dir: Path, lexicon: Lexicon) -> list[PatternRule]:
    """Read, validate and build every recognizer in ``recognizers.yaml``."""
    path = rules_dir / "recognizers.yaml"
    top = load_rule_file(RecognizersFile, path)
    valid = ", ".join(sorted(RULE_TYPES))
    rules: list[PatternRule] = []
    seen: set[str] = set()
    words = _expansions(lexicon)
    expansions = {**_parts(top, words, path), **words}  # parts first: a part may hold {streets}
    for index, raw in enumerate(top.recognizers):
        where = ("recognizers", index)
        kind = raw.get("type")
        if kind not in RULE_TYPES:
            problem = "missing" if kind is None else f"unknown type {kind!r}"
            raise ConfigError(
                f"{key_path(where + ('type',))}: {problem}; valid types: {valid}", file=str(path)
            )
        rule_class = RULE_TYPES[kind]
        spec = validate(rule_class.spec_model, raw, path, where)
        if spec.id in seen:
            raise ConfigError(f"{key_path(where + ('id',))}: duplicate id {spec.id!r}", file=str(path))
        seen.add(spec.id)
        flags = re.IGNORECASE if spec.ignore_case else 0
        compiled = []
        for number, pattern in enumerate(spec.patterns):
            expanded = _expand(pattern, expansions)
            unknown = _REFERENCE.search(expanded)
            if unknown:
                raise ConfigError(
                    f"{key_path(where + ('patterns', number))}: {unknown.group()} is no part of the file "
                    f"and no word list; valid: {', '.join(sorted(k.strip('{}') for k in expansions))}", file=str(path),
                )
            try:
                compiled.append(re.compile(expanded, flags))
            except re.error as exc:
                raise ConfigError(
                    f"{key_path(where + ('patterns', number))}: invalid regular expression ({exc.msg})",
                    file=str(path),
                ) from None
        rules.append(rule_class(spec, lexicon, compiled))
    return rules
