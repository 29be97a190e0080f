"""Recall (and rough precision) of the PII engine on Presidio-research's synthetic set.

A gold span counts as recalled when every letter and digit in it is covered by some
redaction (of any label). Precision is rough: the share of redactions that overlap a
gold span (the set does not label everything we redact, e.g. ages in words or titles).
No record terms are used: this measures the detectors alone.

    .venv/bin/python benchmarks/bench_presidio_synth.py
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
    hits = detections = 0
    for record, text, result in zip(records, texts, results):
        covered = bytearray(len(text))
        for r in result.replacements:
            covered[r.start : r.end] = b"\x01" * (r.end - r.start)
        gold = bytearray(len(text))
        for span in record["spans"]:
            s, e = span["start_position"], span["end_position"]
            gold[s:e] = b"\x01" * (e - s)
            kind = span["entity_type"]
            total[kind] += 1
            if all(covered[i] for i in range(s, e) if text[i].isalnum()):
                found[kind] += 1
            else:
                misses[kind].append(span["entity_value"])
        for r in result.replacements:
            detections += 1
            hits += any(gold[r.start : r.end])

    print(f"{len(texts):,} sentences, {sum(total.values()):,} gold spans, {elapsed:.1f}s")
    print(f"{'entity type':20s} {'gold':>6s} {'recall':>8s} {'target':>8s}")
    for kind in sorted(total, key=lambda k: -total[k]):
        target = TARGETS.get(kind)
        mark = "" if target is None else ("  ok" if found[kind] / total[kind] >= target else "  BELOW")
        target_text = f"{target:.2f}" if target else "-"
        print(f"{kind:20s} {total[kind]:6d} {found[kind] / total[kind]:8.3f} {target_text:>8s}{mark}")
    overall = sum(found.values()) / max(1, sum(total.values()))
    print(f"{'ALL':20s} {sum(total.values()):6d} {overall:8.3f}")
    print(f"rough precision: {hits}/{detections} redactions overlap a gold span = {hits / max(1, detections):.3f}")
    for kind, values in misses.items():
        for value in values[: args.show_misses]:
            print(f"  missed {kind}: {value!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
