"""Position-aware scoring of redacted narratives against the injection labels.

Both texts are cut into word tokens (maximal runs of letters and digits; spaces and
punctuation are not tokens); a placeholder (`[PERSON 1]`, `[DOB 2]`, `<PERSON>`) is one
opaque token that no word of the input equals. The two
token lists are aligned with `difflib.SequenceMatcher` (autojunk off: its popularity
heuristic would drop frequent words such as "the" from narratives over 200 tokens and
misalign the rest; no token is junk, since spaces and punctuation are not tokens). A
token of the injected narrative is "present unchanged at the aligned place" when it lies
in a matching block, i.e. the same token stands at the corresponding place of the output.

- A value **survives** when any of its identifying tokens is present unchanged: for names
  and nicknames a token of two letters or more that is not a title (Mr, Ms, Mrs, Miss,
  Dr); for dates of birth, plates, phones and house numbers any letter/digit group.
- **Other words kept**: of the tokens of the injected narrative outside every injected
  span (values and their connectors such as "aka") and outside the City's own marks left
  in place, the share present unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from .inject import ALIAS, NAME, TYPES, InjectedReport, Label

TOKEN = re.compile(r"[^\W_]+")
# A redactor's placeholder (`[PERSON 1]`, `[DOB 2]`, `<PERSON>`) is one opaque token: its
# number must not pass for a digit of a value ("[PERSON 6]" is not the 6 of 6-29-73).
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z_ ]*?(?:[ _]\d+)?\]|<[A-Z][A-Z_]*>")
TITLE_WORDS = {"mr", "ms", "mrs", "miss", "dr"}


def tokens(text: str) -> list[tuple[int, int, str]]:
    out, pos = [], 0
    for holder in PLACEHOLDER.finditer(text):
        out += [(m.start() + pos, m.end() + pos, m.group())
                for m in TOKEN.finditer(text[pos:holder.start()])]
        out.append((holder.start(), holder.end(), "\x00" + holder.group()))
        pos = holder.end()
    out += [(m.start() + pos, m.end() + pos, m.group()) for m in TOKEN.finditer(text[pos:])]
    return out


def identifying(kind: str, token: str) -> bool:
    if kind in (NAME, ALIAS):
        return sum(c.isalpha() for c in token) >= 2 and token.lower() not in TITLE_WORDS
    return True


def align(source: list[str], target: list[str]) -> dict[int, int]:
    """Index in `source` -> index in `target` for tokens kept unchanged in place."""
    matcher = SequenceMatcher(None, source, target, autojunk=False)
    mapping: dict[int, int] = {}
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            mapping[a + k] = b + k
    return mapping


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < b and a < end for a, b in spans)


@dataclass
class ValueResult:
    label: Label
    survived: bool
    out_span: tuple[int, int] | None  # where the surviving tokens stand in the output


@dataclass
class ReportResult:
    fc_num: str
    values: list[ValueResult]
    other_words: int
    other_kept: int
    output: str


def score_report(report: InjectedReport, output: str) -> ReportResult:
    source = tokens(report.narrative)
    target = tokens(output)
    mapping = align([t for _, _, t in source], [t for _, _, t in target])
    results = []
    for label in report.labels:
        kept = [i for i, (a, b, t) in enumerate(source)
                if a < label.end and label.start < b and identifying(label.type, t)
                and i in mapping]
        span = (target[mapping[kept[0]]][0], target[mapping[kept[-1]]][1]) if kept else None
        results.append(ValueResult(label, bool(kept), span))
    other = kept_other = 0
    for i, (a, b, _) in enumerate(source):
        if _overlaps(a, b, report.injected) or _overlaps(a, b, report.city_marks):
            continue
        other += 1
        kept_other += i in mapping
    return ReportResult(report.fc_num, results, other, kept_other, output)


@dataclass
class Tally:
    values: int = 0
    survived: int = 0

    def add(self, survived: bool) -> None:
        self.values += 1
        self.survived += survived

    @property
    def pct(self) -> float | None:
        return None if not self.values else 100.0 * self.survived / self.values

    def as_dict(self) -> dict:
        pct = self.pct
        return {"values": self.values, "survived": self.survived,
                "pct_survived": None if pct is None else round(pct, 2)}


@dataclass
class Summary:
    classes: dict[tuple[str, bool], Tally] = field(default_factory=dict)
    forms: dict[tuple[str, str], Tally] = field(default_factory=dict)
    overall: Tally = field(default_factory=Tally)
    unlinked_names: Tally = field(default_factory=Tally)
    other_words: int = 0
    other_kept: int = 0
    reports: int = 0
    reports_with_values: int = 0
    withheld_reports: int = 0  # narratives with other words, none of them kept
    withheld_words: int = 0

    @property
    def kept_pct(self) -> float | None:
        return None if not self.other_words else 100.0 * self.other_kept / self.other_words

    @property
    def kept_pct_not_withheld(self) -> float | None:
        words = self.other_words - self.withheld_words
        return None if not words else 100.0 * self.other_kept / words


def summarise(results: Iterable[ReportResult]) -> Summary:
    summary = Summary(classes={(t, linked): Tally() for t in TYPES for linked in (True, False)})
    for result in results:
        summary.reports += 1
        summary.reports_with_values += bool(result.values)
        summary.other_words += result.other_words
        summary.other_kept += result.other_kept
        if result.other_words and not result.other_kept:
            summary.withheld_reports += 1
            summary.withheld_words += result.other_words
        for value in result.values:
            label = value.label
            summary.classes[(label.type, label.linked)].add(value.survived)
            summary.forms.setdefault((label.type, label.form), Tally()).add(value.survived)
            summary.overall.add(value.survived)
            if label.type in (NAME, ALIAS) and label.outsider:
                summary.unlinked_names.add(value.survived)
    return summary


def table(summary: Summary) -> str:
    def pct(t: Tally) -> str:
        return "–" if t.pct is None else f"{t.pct:.2f} %"

    lines = ["| value type | record-linked | values | survive | % survive |",
             "|---|---|---:|---:|---:|"]
    for kind in TYPES:
        for linked in (True, False):
            t = summary.classes[(kind, linked)]
            lines.append(f"| {kind} | {'yes' if linked else 'no'} | {t.values:,} | "
                         f"{t.survived:,} | {pct(t)} |")
    t = summary.overall
    lines.append(f"| **all values** | | {t.values:,} | {t.survived:,} | **{pct(t)}** |")
    t = summary.unlinked_names
    lines.append(f"| **names of people in no structured field** (NAME + ALIAS of outsiders) | "
                 f"| {t.values:,} | {t.survived:,} | **{pct(t)}** |")
    kept = "–" if summary.kept_pct is None else f"{summary.kept_pct:.2f} %"
    lines.append(f"| other words kept | | {summary.other_words:,} | {summary.other_kept:,} "
                 f"kept | **{kept}** |")
    if summary.withheld_reports:
        rest = summary.kept_pct_not_withheld
        lines.append(f"| other words kept, leaving out {summary.withheld_reports:,} narratives "
                     f"withheld whole (no word kept) | | "
                     f"{summary.other_words - summary.withheld_words:,} | "
                     f"{summary.other_kept:,} kept | {'–' if rest is None else f'{rest:.2f} %'} |")
    return "\n".join(lines)


def summary_json(summary: Summary) -> dict:
    return {
        "classes": [{"type": kind, "linked": linked, **summary.classes[(kind, linked)].as_dict()}
                    for kind in TYPES for linked in (True, False)],
        "by_form": [{"type": kind, "form": form, **summary.forms[(kind, form)].as_dict()}
                    for kind, form in sorted(summary.forms)],
        "overall": summary.overall.as_dict(),
        "unlinked_names": summary.unlinked_names.as_dict(),
        "other_words": {"words": summary.other_words, "kept": summary.other_kept,
                        "pct_kept": None if summary.kept_pct is None
                        else round(summary.kept_pct, 2),
                        "withheld_reports": summary.withheld_reports,
                        "withheld_words": summary.withheld_words,
                        "pct_kept_not_withheld": None if summary.kept_pct_not_withheld is None
                        else round(summary.kept_pct_not_withheld, 2)},
        "reports_scored": summary.reports,
        "reports_with_values": summary.reports_with_values,
    }


def examples(results: Iterable[ReportResult], per_class: int, width: int = 60) -> str:
    """Up to `per_class` surviving values per (type, linked) class, in the public output."""
    found: dict[tuple[str, bool], list[str]] = {}
    for result in results:
        for value in result.values:
            if not value.survived:
                continue
            key = (value.label.type, value.label.linked)
            bucket = found.setdefault(key, [])
            if len(bucket) >= per_class:
                continue
            a, b = value.out_span
            half = max(0, (width - (b - a)) // 2)
            left = result.output[max(0, a - half):a]
            right = result.output[b:b + half]
            snippet = f"{left}«{result.output[a:b]}»{right}".replace("\n", " ")
            bucket.append(f"  {result.fc_num} [{value.label.form or '-'}] …{snippet}…")
    lines = []
    for kind in TYPES:
        for linked in (True, False):
            bucket = found.get((kind, linked))
            if bucket:
                lines.append(f"{kind}, {'record-linked' if linked else 'not linked'}:")
                lines.extend(bucket)
    return "\n".join(lines)
