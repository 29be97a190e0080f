"""The suites' vocabulary and schema checks, generated from the policies: one source of truth.

Why: a closed column's vocabulary lives in the policy (and its codebooks); writing it again
by hand in ``expectations/<dataset>_*.json`` would let the two drift apart, and a
vocabulary of 760 vehicle models is not something to keep in step by hand. Every published
closed column (a ``keep`` column, an officer ID with a ``pattern``) gets exactly one
critical check in each suite: ``expect_column_values_to_be_in_set`` with the policy's domain
(and, in the public suite, ``Other`` when unknown values become ``Other``), or
``expect_column_values_to_match_regex`` for a format or a list cell. An identifier published as
a keyed pseudonym is checked against the pseudonym's form in the public suite (so a raw id
there fails it) and against its raw format in the raw suite. The public check holds
every row to it. The raw check sees each closed cell read as the policy reads it
(``codebooks.vocabulary_view``: spellings, case and punctuation ignored, an unknown value
left as typed) and holds the column to ``mostly: 0.5``: one stray value is the generalize
stage's to blank and report, but a column mostly outside its vocabulary holds another
column's values (the City's 2022 ``weather`` holds key situations and bases) and blocks (a
column of fewer than ten values is not judged). A row key (and a parent link) is checked at
load, so it gets no raw check. Hand-written
checks on other columns are left as they are.

The public suite's schema block is the policy's too: each table's allow-list
(``expect_table_columns_to_match_ordered_list`` of ``FilePolicy.public_columns()``) and one critical
``expect_column_to_not_exist`` per raw-only column (the allow-list refuses it as well, but counts
unexpected columns without naming them; this check names it), in policy order, where the first of
them was. Each keeps the ``meta.why`` the suite gave it (a sentence for reviewers: "raw-only:
identifies the person"); a new raw-only column's reason is its description. Absence checks of
other columns (the legacy file's dropped timestamps, named because they would date a minor's
report) are hand-written and kept. The raw suite gets no schema check: the loader gives the raw
frame exactly ``raw_columns()`` (it refuses a missing required column, fills an absent optional
one and drops, reporting, any column no rule names), so a column-set or existence check there
could never fail.

A column set to ``drop`` loses its generated checks and leaves the public allow-list, so the fix a
blocked build gives for a shifted column (drop it, regenerate) ends in a release.
``python -m release.config.suite_domains`` rewrites the suites in place (``--check`` only reports
which differ); ``tests/config/test_suite_domains.py`` fails when a suite and its policy disagree.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from release.config.codebooks import OTHER
from release.config.column_rules import KeepRule, OfficerRule, PseudonymRule, RawOnlyRule
from release.config.policy import DatasetPolicy, FilePolicy, load_policy
from release.errors import ReleaseError

IN_SET = "expect_column_values_to_be_in_set"
REGEX = "expect_column_values_to_match_regex"
WHY = "closed vocabulary, generated from the policy"
RAW_WHY = ("read as the policy reads it (case, spacing, punctuation and spellings ignored); a column mostly "
           "outside it holds another column's values (a shifted export)")
RAW_FIX = ("compare the export's column with the raw-export contract and re-export it with the right values "
           "(nothing of it is published meanwhile); if it is to stay unpublished this year, set its rule to "
           "`drop` in the policy, run `python -m release.config.suite_domains --rules DIR --expectations DIR` (it takes the "
           "column's checks out of the suites) and have both changes reviewed")
RAW_MOSTLY = 0.5
PSEUDONYM_WHY = "a keyed pseudonym's form, generated from the policy (the raw identifier never matches it)"
_SPECIAL = re.compile(r"([.^$*+?{}\[\]\\|()])")


def _escape(text: str) -> str:
    """Only what a regex would read specially (spaces stay readable in the suite)."""
    return _SPECIAL.sub(r"\\\1", text)


def _check(column: str, rule: KeepRule | OfficerRule | PseudonymRule, side: str = "public") -> dict[str, Any] | None:
    books = f" ({', '.join(rule.codebook)})" if isinstance(rule, KeepRule) and rule.codebook else ""
    raw = side == "raw"
    why = f"{WHY}{books}{', ' + RAW_WHY if raw else ''}: {rule.description or column}"
    meta = {"level": "critical", "why": why, **({"fix": RAW_FIX} if raw else {})}
    mostly = {"mostly": RAW_MOSTLY} if raw else {}
    if isinstance(rule, PseudonymRule):  # published: the pseudonym's form only (the raw id never)
        pattern = rule.pattern if raw else rule.public_pattern
        if not raw:
            meta = {**meta, "why": f"{PSEUDONYM_WHY}: {rule.description or column}"}
        return {"type": REGEX, "kwargs": {"column": column, "regex": f"^(?:{pattern})$", **mostly}, "meta": meta}
    if rule.pattern is not None:
        return {"type": REGEX, "kwargs": {"column": column, "regex": f"^(?:{rule.pattern})$", **mostly}, "meta": meta}
    if not isinstance(rule, KeepRule) or rule.domain is None:
        return None
    other = rule.on_unknown == "other" and OTHER not in rule.domain and not raw  # raw: an unknown stays unknown
    values = list(rule.domain) + ([OTHER] if other else [])
    if rule.list_separator is not None:
        item = "(?:" + "|".join(_escape(v) for v in values) + ")"
        separator = _escape(f"{rule.list_separator} ")
        return {"type": REGEX, "kwargs": {"column": column, "regex": f"^{item}(?:{separator}{item})*$", **mostly},
                "meta": meta}
    return {"type": IN_SET, "kwargs": {"column": column, "value_set": values, **mostly}, "meta": meta}


def checked_at_load(file_policy: FilePolicy) -> set[str]:
    """Columns whose format the loader enforces (a row key, a parent link): no raw check can fail on them."""
    return {file_policy.key_column, *([file_policy.parent.column] if file_policy.parent else [])}


def domain_checks(policy: DatasetPolicy, side: str = "public") -> dict[str, list[dict[str, Any]]]:
    """Table -> the generated checks of its published closed columns, in policy order."""
    checks: dict[str, list[dict[str, Any]]] = {}
    for name, file_policy in policy.files.items():
        skip = checked_at_load(file_policy) if side == "raw" else set()
        for column in file_policy.public_columns():
            rule = file_policy.columns[column]
            if not isinstance(rule, (KeepRule, OfficerRule, PseudonymRule)) or column in skip:
                continue  # not a closed column, or one the loader checks
            check = _check(column, rule, side)
            if check is not None:
                checks.setdefault(name, []).append(check)
    return checks


ALLOW_LIST = "expect_table_columns_to_match_ordered_list"
ABSENT = "expect_column_to_not_exist"
RAW_ONLY_WHY = "raw-only: "
ALLOW_WHY = "allow-list: the public file carries exactly these columns, in this order (internal '_' columns excluded)"
CHECKED_ONLY_WHY = "allow-list of the checked frame (not published: publish is false)"


def _critical(meta: object, why: str) -> dict[str, Any]:
    """A generated schema check's meta: critical, with the sentence the suite already gives it (written for
    reviewers, who read it beside a finding), else ``why``."""
    written = meta.get("why") if isinstance(meta, dict) else None
    return {"level": "critical", "why": written if isinstance(written, str) and written else why}


def _raw_only_why(rule: RawOnlyRule) -> str:
    """A new raw-only column's reason, from its description (the suites' sentences are lower case)."""
    text = rule.description.strip().rstrip(".")
    if not text:
        return f"{RAW_ONLY_WHY}never published; its value is searched for in the public columns ({rule.term})"
    return RAW_ONLY_WHY + (text[0].lower() + text[1:] if text[1:2].islower() else text)


def _schema_owned(check: dict[str, Any], raw_only: Mapping[str, RawOnlyRule]) -> bool:
    """A check this module writes: the allow-list, or an absence check of a raw-only column (or one it
    wrote for a column that is raw-only no longer). Absence checks of other columns are hand-written."""
    if check.get("type") == ALLOW_LIST:
        return True
    if check.get("type") != ABSENT:
        return False
    why = check.get("meta", {}).get("why", "") if isinstance(check.get("meta"), dict) else ""
    return check.get("kwargs", {}).get("column") in raw_only or str(why).startswith(RAW_ONLY_WHY)


def with_schema_checks(checks: list[dict[str, Any]] | None, file_policy: FilePolicy) -> list[dict[str, Any]]:
    """A public table's checks with its schema block generated from the policy: the allow-list
    (``public_columns()``, in order) and one critical ``expect_column_to_not_exist`` per raw-only column,
    in policy order, where the first of them was (else the absence checks at the end). Each keeps the
    sentence the suite gave it. A table the suite lacks (``checks`` None) starts with the block; a table
    written without an allow-list gets none (that is the suite's decision, and
    ``test_every_public_table_has_its_allow_list`` holds the shipped suites to having one)."""
    raw_only = {name: rule for name, rule in file_policy.columns.items() if isinstance(rule, RawOnlyRule)}
    written = checks if checks is not None else []
    owned = [check for check in written if _schema_owned(check, raw_only)]
    metas = {(check["type"], check.get("kwargs", {}).get("column")): check.get("meta") for check in reversed(owned)}
    block: list[dict[str, Any]] = []
    if checks is None or (ALLOW_LIST, None) in metas:
        why = ALLOW_WHY if file_policy.publish else CHECKED_ONLY_WHY
        block.append({"type": ALLOW_LIST, "kwargs": {"column_list": file_policy.public_columns()},
                      "meta": _critical(metas.get((ALLOW_LIST, None)), why)})
    block += [{"type": ABSENT, "kwargs": {"column": column},
               "meta": _critical(metas.get((ABSENT, column)), _raw_only_why(rule))} for column, rule in raw_only.items()]
    at = next((i for i, check in enumerate(written) if _schema_owned(check, raw_only)), None)
    rest = [check for check in written if not _schema_owned(check, raw_only)]
    if at is None:
        return block + rest if checks is None else rest + block
    return rest[:at] + block + rest[at:]


def _without_dropped(tables: dict[str, Any], policy: DatasetPolicy, generated: dict[str, list[dict[str, Any]]]
                     ) -> dict[str, Any]:
    """A column the policy no longer publishes closed loses the checks generated for it: the way forward
    a blocked build's packet gives for a column of another column's values (set it to ``drop``, then run
    this) must not end in the next block (the column also leaves the generated allow-list)."""
    out = dict(tables)
    for table, body in tables.items():
        if table not in policy.files:
            continue
        closed = {check["kwargs"]["column"] for check in generated.get(table, [])}
        kept = []
        for check in body.get("expectations", []):
            why = str(check.get("meta", {}).get("why", ""))
            if check.get("type") in (IN_SET, REGEX) and why.startswith((WHY, PSEUDONYM_WHY)) \
                    and check.get("kwargs", {}).get("column") not in closed:
                continue
            kept.append(check)
        out[table] = {**body, "expectations": kept}
    return out


def with_domain_checks(document: dict[str, Any], policy: DatasetPolicy) -> dict[str, Any]:
    """The suite with each closed column's value check replaced by the generated one (in the
    place of the first it had, else at the end of its table); a generated check of a column no
    longer closed taken out; in the public suite, each table's schema block generated
    (``with_schema_checks``); others are kept. The suite's name says which side it is
    (``<dataset>_raw`` or ``<dataset>_public``)."""
    side = "raw" if str(document.get("name", "")).endswith("_raw") else "public"
    made = domain_checks(policy, side)
    tables = _without_dropped(dict(document["tables"]), policy, made)
    if side == "public":
        for table, file_policy in policy.files.items():
            body = tables.get(table)
            tables[table] = {**(body or {}), "expectations": with_schema_checks(
                body.get("expectations", []) if body is not None else None, file_policy)}
    for table, generated in made.items():
        wanted = {check["kwargs"]["column"]: check for check in generated}
        placed: set[str] = set()
        out: list[dict[str, Any]] = []
        for check in tables.get(table, {"expectations": []})["expectations"]:
            column = check.get("kwargs", {}).get("column")
            if check.get("type") in (IN_SET, REGEX) and column in wanted:
                if column not in placed:
                    out.append(wanted[column])
                    placed.add(column)
                continue
            out.append(check)
        out += [check for column, check in wanted.items() if column not in placed]
        tables[table] = {**tables.get(table, {}), "expectations": out}
    return {**document, "tables": tables}


def render(document: dict[str, Any]) -> str:
    """A suite as the repository writes it: one expectation per line."""
    head = {key: value for key, value in document.items() if key != "tables"}
    lines = ["{"] + [f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}," for key, value in head.items()]
    lines.append('  "tables": {')
    tables = list(document["tables"].items())
    for index, (table, body) in enumerate(tables):
        lines.append(f'    {json.dumps(table)}: {{"expectations": [')
        checks = body["expectations"]
        lines += [f"      {json.dumps(check, ensure_ascii=False)}{',' if i < len(checks) - 1 else ''}"
                  for i, check in enumerate(checks)]
        lines.append("    ]}" + ("," if index < len(tables) - 1 else ""))
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def synced(suite_path: Path, policy_path: Path) -> tuple[str, str]:
    """(the suite's text, the text it should have)."""
    text = suite_path.read_text(encoding="utf-8")
    return text, render(with_domain_checks(json.loads(text), load_policy(policy_path)))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m release.config.suite_domains", description=__doc__)
    parser.add_argument("--rules", type=Path, default=Path("redaction_rules"))
    parser.add_argument("--expectations", type=Path, default=Path("expectations"))
    parser.add_argument("--check", action="store_true", help="only list the suites that differ (exit 1 if any)")
    args = parser.parse_args(argv)
    differ = []
    for suite in sorted([*args.expectations.glob("*_raw.json"), *args.expectations.glob("*_public.json")]):
        policy = args.rules / f"{suite.stem.rsplit('_', 1)[0]}.yaml"
        try:
            text, wanted = synced(suite, policy)
        except ReleaseError as exc:  # a policy mistake: named by file, key and rule, never a traceback
            print(f"error: {exc.one_line()}", file=sys.stderr)
            return exc.exit_code
        if text != wanted:
            differ.append(suite)
            if not args.check:
                suite.write_text(wanted, encoding="utf-8")
        print(f"{suite}: {'differs' if text != wanted else 'in step'}{'' if args.check or text == wanted else ' (rewritten)'}")
    return 1 if args.check and differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
