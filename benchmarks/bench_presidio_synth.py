"""Recall and precision of the PII engine on Presidio-research's synthetic set.

Recall: a gold span counts as recalled when every letter and digit in it is covered by
some redaction (of any label; boundaries and labels are not judged, since the engine
replaces spans, it does not classify them for a downstream model). Spaces and
punctuation inside a gold span need not be covered.

Precision is printed two ways, both rough because the set does not label everything
that is PII-like (ages in words, some titles) and labels some things that are not
(country names inside addresses are GPE): the share of redactions that overlap a gold
span of any type, and the share of redacted letters and digits that lie inside a gold
span. ``--show-false-positives N`` lists, per rule, redactions that touch no gold span.
No record terms are used: this measures the detectors alone.

    .venv/bin/python benchmarks/bench_presidio_synth.py [--show-misses N] [--show-false-positives N]
Targets: PERSON >= 0.97, STREET_ADDRESS >= 0.95, PHONE_NUMBER, EMAIL_ADDRESS, US_SSN,
CREDIT_CARD >= 0.99. The data set lives outside the repository (../shared/...); without
it the script says so and exits 0.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATASET = ROOT.parent / "shared" / "data" / "pii-benchmarks" / "presidio_synth_dataset_v2.json"
TARGETS = {"PERSON": 0.97, "STREET_ADDRESS": 0.95, "PHONE_NUMBER": 0.99, "EMAIL_ADDRESS": 0.99,
           "US_SSN": 0.99, "CREDIT_CARD": 0.99}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=DATASET)
    parser.add_argument("--show-misses", type=int, default=0, help="print up to N missed spans per type")
    parser.add_argument("--show-false-positives", type=int, default=0,
                        help="print up to N redactions per rule that overlap no gold span")
    args = parser.parse_args()
    if not args.dataset.is_file():
        print(f"benchmark data not found at {args.dataset}; nothing to measure")
        return 0

    from release.pii.engine import EngineSettings, PiiEngine
    from release.pii.terms import RecordTerms

    records = json.loads(args.dataset.read_text(encoding="utf-8"))
    texts = [r["full_text"] for r in records]
    engine = PiiEngine(EngineSettings(rules_dir=ROOT / "redaction_rules" / "pii"))
    start = time.perf_counter()
    results = engine.redact_many(texts, [RecordTerms()] * len(texts))
    elapsed = time.perf_counter() - start

    total: collections.Counter[str] = collections.Counter()
    found: collections.Counter[str] = collections.Counter()
    misses: dict[str, list[str]] = collections.defaultdict(list)
    false_positives: dict[str, list[str]] = collections.defaultdict(list)
    hits = detections = redacted_chars = redacted_gold_chars = 0
    for record, text, result in zip(records, texts, results, strict=True):
        covered = bytearray(len(text))
        for r in result.replacements:
            covered[r.start : r.end] = b"\x01" * (r.end - r.start)
        gold = bytearray(len(text))
        for span in record["spans"]:
            s, e = span["start_position"], span["end_position"]
            gold[s:e] = b"\x01" * (e - s)
            kind = span["entity_type"]
            total[kind] += 1
            if recalled(text, covered, s, e):
                found[kind] += 1
            else:
                misses[kind].append(span["entity_value"])
        for r in result.replacements:
            detections += 1
            overlaps = any(gold[r.start : r.end])
            hits += overlaps
            if not overlaps:
                false_positives[r.rule_id].append(text[r.start : r.end])
        for i, ch in enumerate(text):
            if covered[i] and ch.isalnum():
                redacted_chars += 1
                redacted_gold_chars += gold[i]

    print(f"{len(texts):,} sentences, {sum(total.values()):,} gold spans, {elapsed:.1f}s")
    print(f"{'entity type':20s} {'gold':>6s} {'recalled':>9s} {'recall':>8s} {'target':>8s}")
    for kind in sorted(total, key=lambda k: -total[k]):
        target = TARGETS.get(kind)
        mark = "" if target is None else ("  ok" if found[kind] / total[kind] >= target else "  BELOW")
        target_text = f"{target:.2f}" if target else "-"
        print(f"{kind:20s} {total[kind]:6d} {found[kind]:9d} {found[kind] / total[kind]:8.3f} {target_text:>8s}{mark}")
    overall = sum(found.values()) / max(1, sum(total.values()))
    print(f"{'ALL':20s} {sum(total.values()):6d} {sum(found.values()):9d} {overall:8.3f}")
    print(f"precision (redactions overlapping a gold span): {hits}/{detections} = {hits / max(1, detections):.3f}")
    print(f"precision (redacted letters/digits inside a gold span): {redacted_gold_chars}/{redacted_chars} = "
          f"{redacted_gold_chars / max(1, redacted_chars):.3f}")
    for kind, values in misses.items():
        for value in values[: args.show_misses]:
            print(f"  missed {kind}: {value!r}")
    if args.show_false_positives:
        for rule, values in sorted(false_positives.items(), key=lambda kv: -len(kv[1])):
            print(f"  {len(values):4d} outside gold, rule {rule}: {values[: args.show_false_positives]!r}")
    return 0


def recalled(text: str, covered: bytearray, start: int, end: int) -> bool:
    """Every letter and digit of text[start:end] is inside some redaction."""
    return all(covered[i] for i in range(start, end) if text[i].isalnum())


if __name__ == "__main__":
    raise SystemExit(main())
