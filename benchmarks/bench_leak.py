"""Leak rate of narrative redaction on the project's own labelled corpus.

A year-sized synthetic FIOE export (officers' style; subjects in the persons table,
associates only in the text; ALL-CAPS and lower-case narratives; with --evasions also
zero-width characters, full-width and Arabic-Indic digits, homoglyphs, spaced digits) is
run through the same path as `release fioe`: load → record-linked terms → engine.
A PII value counts as leaked if any of its letters or digits survives. Goal: at most
0.5% of PII values survive and at least 90% of the other words are kept.

Run: .venv/bin/python benchmarks/bench_leak.py [--reports N] [--seed S] [--no-evasions]
"""

from __future__ import annotations

import argparse
import collections
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from release.pii.engine import EngineSettings, PiiEngine  # noqa: E402
from release.pii.sentences import CONTEXT_WORDS, EntityCache  # noqa: E402
from release.synth.engine_inputs import engine_inputs  # noqa: E402
from release.synth.fioe import generate_fioe  # noqa: E402

WORD = re.compile(r"[^\W_]+")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=5600)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--no-evasions", action="store_true")
    parser.add_argument("--context-words", type=int, default=None,
                        help="NER windows with this many words of context (default: the engine's)")
    parser.add_argument("--whole-text-ner", action="store_true",
                        help="tag each narrative whole instead of sentence by sentence (A/B comparison)")
    args = parser.parse_args()
    data = generate_fioe(2020, seed=args.seed, n_reports=args.reports, evasions=not args.no_evasions)
    inputs = engine_inputs(data, 2020, one_per_report=True)
    texts, keys = inputs.texts, inputs.keys
    engine = PiiEngine(EngineSettings(rules_dir=ROOT / "redaction_rules" / "pii", officers=inputs.officers))
    engine.ner_cache = EntityCache(  # the A/B settings of benchmarks/README.md
        CONTEXT_WORDS if args.context_words is None else args.context_words, whole_text=args.whole_text_ner)
    started = time.perf_counter()
    results = engine.redact_many(texts, inputs.terms)
    elapsed = time.perf_counter() - started
    index = {k: i for i, k in enumerate(keys)}
    covered = []
    for text, result in zip(texts, results, strict=True):
        mask = bytearray(len(text))
        for r in result.replacements:
            mask[r.start:r.end] = b"\x01" * (r.end - r.start)
        covered.append(mask)
    pii_mask = [bytearray(len(t)) for t in texts]
    total, leaked = collections.Counter(), collections.Counter()
    officers_total = officers_kept = 0
    for mention in data.mentions:
        i = index.get(mention.fc_num)
        if i is None or texts[i][mention.start:mention.end] != mention.value:
            continue  # report excluded (orphan, empty narrative) or row not loaded
        pii_mask[i][mention.start:mention.end] = b"\x01" * (mention.end - mention.start)
        if mention.source == "officer":
            officers_total += 1
            officers_kept += not any(covered[i][mention.start:mention.end])
            continue
        total[mention.entity_type] += 1
        text = texts[i]
        if not all(covered[i][k] for k in range(mention.start, mention.end) if text[k].isalnum()):
            leaked[mention.entity_type] += 1
    words = kept = 0
    for i, text in enumerate(texts):
        for word in WORD.finditer(text):
            if any(pii_mask[i][word.start():word.end()]):
                continue
            words += 1
            kept += not any(covered[i][word.start():word.end()])
    all_total, all_leaked = sum(total.values()), sum(leaked.values())
    print(f"narratives {len(texts)}, words {sum(len(t.split()) for t in texts)}, "
          f"evasions {'on' if not args.no_evasions else 'off'}, redaction {elapsed:.1f} s")
    print(f"{'entity type':<20}{'values':>8}{'leaked':>8}{'leak %':>8}")
    for kind in sorted(total):
        print(f"{kind:<20}{total[kind]:>8}{leaked[kind]:>8}{100 * leaked[kind] / total[kind]:>8.2f}")
    print(f"{'ALL':<20}{all_total:>8}{all_leaked:>8}{100 * all_leaked / max(all_total, 1):>8.2f}   (goal <= 0.50)")
    print(f"other words kept: {kept}/{words} = {100 * kept / max(words, 1):.1f}%   (goal >= 90%)")
    print(f"officer names kept (policy keep): {officers_kept}/{officers_total}")


if __name__ == "__main__":
    main()
