"""Throughput of the PII engine on a year-sized synthetic FIOE export.

Times three ways of processing the same narratives:
  (a) Presidio's default AnalyzerEngine + AnonymizerEngine, one text at a time (with the
      pinned small model and an offline e-mail recognizer, since the default would fetch);
  (b) a bare spaCy NER pass (nlp.pipe, only tok2vec+ner, one process): the floor;
  (c) release.pii.engine.PiiEngine.redact_many with each record's terms.
Prints the times and the ratios (a)/(c) (goal >= 2) and (c)/(b) (goal <= 1.5).

    .venv/bin/python benchmarks/bench_throughput.py            # ~5,700 narratives
    .venv/bin/python benchmarks/bench_throughput.py --limit 500
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from release.pii.engine import MODEL_PACKAGE, EngineSettings, PiiEngine  # noqa: E402
from release.pii.terms import RecordTerms  # noqa: E402

YEAR_REPORTS = 5_600


def synthetic_year(limit: int | None) -> tuple[list[str], list[RecordTerms], tuple[str, ...]]:
    """Narratives and record terms from the synthetic generator (one text per report)."""
    from release.synth.fioe import generate_fioe

    data = generate_fioe(2020, seed=2020, n_reports=limit or YEAR_REPORTS, evasions=True)
    persons: dict[str, list[dict[str, str]]] = collections.defaultdict(list)
    for person in data.persons:
        persons[person["fc_num"]].append(person)
    texts: list[str] = []
    terms: list[RecordTerms] = []
    for contact in data.contacts:
        people = persons[contact["fc_num"]]
        texts.append(contact["contact_reason"])
        terms.append(RecordTerms(
            name_parts=tuple((p["first_name"], p["middle_name"], p["last_name"]) for p in people),
            aliases=tuple(p["alias"] for p in people if p["alias"]),
            dobs=tuple(p["dob"] for p in people if p["dob"]),
            addresses=tuple([p["home_address"] for p in people if p["home_address"]]
                            + [contact["incident_address"]] * bool(contact["incident_address"])),
            phones=tuple(p["phone"] for p in people if p["phone"]),
            licenses=tuple(p["license_number"] for p in people if p["license_number"]),
            plates=(contact["vehicle_plate"],) if contact["vehicle_plate"] else (),
        ))
    if limit:
        texts, terms = texts[:limit], terms[:limit]
    return texts, terms, tuple(data.officers)


def presidio_default(texts: list[str]) -> float:
    """(a): the out-of-the-box Presidio way, one text at a time."""
    import tldextract
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider
    from presidio_analyzer.predefined_recognizers import EmailRecognizer
    from presidio_anonymizer import AnonymizerEngine

    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmail(EmailRecognizer):  # type: ignore[misc]
        def validate_result(self, pattern_text: str) -> bool:
            return extractor(pattern_text.rsplit("@", 1)[-1]).fqdn != ""

    nlp_engine = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": MODEL_PACKAGE}],
    }).create_engine()
    analyzer = AnalyzerEngine(nlp_engine=nlp_engine)
    analyzer.registry.remove_recognizer("EmailRecognizer")
    analyzer.registry.add_recognizer(OfflineEmail())
    anonymizer = AnonymizerEngine()
    start = time.perf_counter()
    for text in texts:
        results = analyzer.analyze(text=text, language="en")
        anonymizer.anonymize(text=text, analyzer_results=results)
    return time.perf_counter() - start


def bare_spacy(texts: list[str]) -> float:
    """(b): tok2vec + ner only, nlp.pipe, one process."""
    import spacy

    nlp = spacy.load(MODEL_PACKAGE, enable=["tok2vec", "ner"])
    start = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=64):
        pass
    return time.perf_counter() - start


def ours(texts: list[str], terms: list[RecordTerms], officers: tuple[str, ...], n_process: int) -> float:
    """(c): the release engine, terms and all (model load excluded, as for the others)."""
    engine = PiiEngine(EngineSettings(rules_dir=ROOT / "redaction_rules" / "pii", officers=officers,
                                      n_process=n_process))
    start = time.perf_counter()
    engine.redact_many(texts, terms)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="use only the first N narratives")
    parser.add_argument("--n-process", type=int, default=2, help="processes for our engine's NER")
    parser.add_argument("--skip-presidio", action="store_true", help="skip the slow (a) run")
    args = parser.parse_args()

    texts, terms, officers = synthetic_year(args.limit)
    words = sum(len(t.split()) for t in texts)
    chars = sum(len(t) for t in texts)
    print(f"{len(texts):,} narratives, {words:,} words, {chars:,} characters")
    timings: dict[str, float] = {}
    if not args.skip_presidio:
        timings["a"] = presidio_default(texts)
    timings["b"] = bare_spacy(texts)
    timings["c"] = ours(texts, terms, officers, args.n_process)
    labels = {
        "a": "(a) presidio default, one at a time",
        "b": "(b) bare spaCy tok2vec+ner, nlp.pipe",
        "c": f"(c) PiiEngine.redact_many (n_process={args.n_process})",
    }
    print(f"{'run':48s} {'seconds':>9s} {'chars/s':>10s}")
    for key, seconds in timings.items():
        print(f"{labels[key]:48s} {seconds:9.1f} {chars / seconds:10,.0f}")
    if "a" in timings:
        print(f"(a)/(c) = {timings['a'] / timings['c']:.2f}   (goal >= 2)")
    print(f"(c)/(b) = {timings['c'] / timings['b']:.2f}   (goal <= 1.5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
