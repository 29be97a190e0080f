"""Sentence-by-sentence NER against whole-text NER: the entities, and what the engine finds.

The engine runs NER on sentences (release.pii.sentences) so each distinct sentence is tagged
once and the second scan re-tags only changed sentences. On the bundled sample and (when
../shared/data is present) the City's real 2020 FIO narratives this prints:
  1. NER agreement: narratives whose entities (label, start, end) are exactly those of
     whole-text NER, with bare sentences (context 0, the engine's) and with 4 words of context;
  2. what the engine's scan (all detectors, threshold 0.25) finds with sentence NER and with
     whole-text NER: detections in one and not the other.
Only counts are printed, never text.

    .venv/bin/python benchmarks/bench_sentence_ner.py [--limit N]    # ~5 minutes
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_throughput import CITY_2020, city_narratives, synthetic_year  # noqa: E402

from release.pii.engine import EngineSettings, PiiEngine  # noqa: E402
from release.pii.sentences import Entity, EntityCache  # noqa: E402
from release.pii.spans import TextViews  # noqa: E402


def agreement(engine: PiiEngine, texts: list[str], context_words: int) -> tuple[int, int, int]:
    """(narratives identical, entities only in whole-text NER, entities only in sentence NER)."""
    restored = [TextViews.build(text, engine.lexicon).restored for text in texts]
    whole = _entities(engine, restored, EntityCache(whole_text=True))
    split = _entities(engine, restored, EntityCache(context_words))
    return (sum(a == b for a, b in zip(whole, split, strict=True)),
            sum(len(a - b) for a, b in zip(whole, split, strict=True)),
            sum(len(b - a) for a, b in zip(whole, split, strict=True)))


def _entities(engine: PiiEngine, restored: list[str], cache: EntityCache) -> list[set[Entity]]:
    return [set(entities) for entities in cache.entities(restored, engine._tag)]


def scan_difference(engine: PiiEngine, texts: list[str]) -> tuple[int, int, int]:
    """(detections with sentence NER, only with sentence NER, only with whole-text NER)."""
    def run(cache: EntityCache) -> set[tuple[int, str, int, int]]:
        engine.ner_cache = cache
        found = engine.scan_many(texts, threshold=0.25)
        return {(i, d.entity_type, d.start, d.end) for i, hits in enumerate(found) for d in hits}

    by_sentence, whole = run(EntityCache()), run(EntityCache(whole_text=True))
    return len(by_sentence), len(by_sentence - whole), len(whole - by_sentence)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    engine = PiiEngine(EngineSettings(rules_dir=ROOT / "redaction_rules" / "pii", n_process=2))
    corpora = {"bundled sample": list(dict.fromkeys(synthetic_year(None)[0]))}
    if CITY_2020.is_file():
        corpora["City 2020 FIO"] = list(dict.fromkeys(city_narratives()))
    print("1. NER entities: sentence by sentence against whole text")
    print(f"{'corpus':16s} {'context':>8s} {'texts':>6s} {'identical':>10s} {'only whole':>11s} {'only sentence':>14s}")
    for name, texts in corpora.items():
        texts = texts[: args.limit]
        for context in (0, 4):
            same, only_whole, only_sentence = agreement(engine, texts, context)
            print(f"{name:16s} {context:>8d} {len(texts):>6,} {same / len(texts):>10.1%} {only_whole:>11,} "
                  f"{only_sentence:>14,}")
    print("\n2. the engine's scan (every detector, threshold 0.25): sentence NER against whole-text NER")
    print(f"{'corpus':16s} {'texts':>6s} {'detections':>11s} {'only sentence':>14s} {'only whole':>11s}")
    for name, texts in corpora.items():
        texts = texts[: args.limit]
        total, only_sentence, only_whole = scan_difference(engine, texts)
        print(f"{name:16s} {len(texts):>6,} {total:>11,} {only_sentence:>14,} {only_whole:>11,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
