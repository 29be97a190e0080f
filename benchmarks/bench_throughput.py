"""Throughput: the whole `release fioe 2020` run against Presidio's default loop, side by side.

All runs use the same narratives, those of the bundled sample (seeded generator, 5,744 report
rows, 5,484 distinct narratives; `--evasions` uses the harder variant with evasions planted):
  (a) Presidio's default AnalyzerEngine + AnonymizerEngine, one distinct text at a time, with
      the pinned small model and an offline e-mail recognizer (the default would fetch);
  (b) a bare spaCy NER pass (nlp.pipe, NER pipe only, one process): the floor;
  (c) release.pii.engine.PiiEngine.redact_many with each record's terms (the redaction stage),
      with two processes and with one;
  (d) the whole `release fioe 2020` on the bundled sample, as a fresh process: start-up, model
      load, validation, redaction, leak checks, second scan, tables and bundle all included.
Goals (issue 10), for the whole year: (a)/(d) >= 2 and (d)/(b) <= 1.5; (a)/(c) and (c)/(b)
(the redaction stage alone, issue 3's old goal) are printed as extra information. Model
loading is excluded from (a)-(c) and included in (d). The load average is printed before and
after: on a shared machine the ratios are only comparable within one run.
`--city` adds (a), (b), (c) on the City's real 2020 FIO narratives (../shared/data/boston/,
no record terms), to check the ratios do not rest on the synthetic text's repeated sentences.

    .venv/bin/python benchmarks/bench_throughput.py             # ~6 minutes on 2 cores
    .venv/bin/python benchmarks/bench_throughput.py --city      # ~12 minutes
    .venv/bin/python benchmarks/bench_throughput.py --limit 500 # quick: no (d)
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CITY_2020 = ROOT.parent / "shared" / "data" / "boston" / "fieldcontact_2020_mark43.csv"

from release.pii.engine import MODEL_PACKAGE, EngineSettings, PiiEngine  # noqa: E402
from release.pii.terms import RecordTerms  # noqa: E402

YEAR_REPORTS = 5_600


def synthetic_year(limit: int | None, evasions: bool = False) -> tuple[list[str], list[RecordTerms], tuple[str, ...]]:
    """Narratives (one per report row), record terms and roster of the bundled sample's
    generator call, as the release's loader and term collection give them to the engine."""
    from release.synth.engine_inputs import engine_inputs
    from release.synth.fioe import generate_fioe

    inputs = engine_inputs(generate_fioe(2020, seed=2020, n_reports=limit or YEAR_REPORTS, evasions=evasions), 2020)
    return inputs.texts, inputs.terms, inputs.officers


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


def city_narratives() -> list[str]:
    with CITY_2020.open(encoding="utf-8", newline="") as handle:
        return [row["contact_reason"] for row in csv.DictReader(handle) if row["contact_reason"].strip()]


def bare_spacy(texts: list[str]) -> float:
    """(b): the NER pipe alone (it has its own tok2vec layer), nlp.pipe, one process."""
    import spacy

    nlp = spacy.load(MODEL_PACKAGE, enable=["ner"])
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


def whole_release() -> float:
    """(d): `release fioe 2020` on the bundled sample, a fresh process, wall time."""
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, RELEASE_HMAC_KEY_FILE=str(Path(out) / "hmac.key"))
        command = [sys.executable, "-c", "import cli; cli.main()", "fioe", "2020", "--out", out, "--json"]
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"release fioe 2020 exited {done.returncode}")
    return elapsed


def _table(title: str, texts: list[str], timings: dict[str, float], labels: dict[str, str]) -> None:
    chars = sum(len(t) for t in texts)
    print(f"\n{title}: {len(texts):,} distinct narratives, {sum(len(t.split()) for t in texts):,} words")
    print(f"{'run':52s} {'seconds':>9s} {'chars/s':>10s}")
    for key, seconds in timings.items():
        print(f"{labels[key]:52s} {seconds:9.1f} {chars / seconds:10,.0f}")
    ratios = [("a", "d", ">= 2"), ("d", "b", "<= 1.5"), ("a", "c"), ("c", "b"), ("c1", "b")]
    for ratio in ratios:
        top, bottom = ratio[0], ratio[1]
        if top in timings and bottom in timings:
            goal = f"   (goal {ratio[2]})" if len(ratio) > 2 else ""
            print(f"({top})/({bottom}) = {timings[top] / timings[bottom]:.2f}{goal}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="only the first N reports (skips (d))")
    parser.add_argument("--evasions", action="store_true", help="the variant with evasions planted (skips (d))")
    parser.add_argument("--skip-presidio", action="store_true", help="skip the slow (a) runs")
    parser.add_argument("--city", action="store_true", help="also run (a), (b), (c) on the City's 2020 narratives")
    args = parser.parse_args()

    labels = {
        "a": "(a) Presidio default, one text at a time",
        "b": "(b) bare spaCy NER pipe, nlp.pipe, 1 process",
        "c": "(c) PiiEngine.redact_many, 2 processes",
        "c1": "(c1) PiiEngine.redact_many, 1 process",
        "d": "(d) whole `release fioe 2020`, fresh process",
    }
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    texts, terms, officers = synthetic_year(args.limit, args.evasions)
    distinct = list(dict.fromkeys(t for t in texts if t.strip()))
    timings: dict[str, float] = {}
    if not args.skip_presidio:
        timings["a"] = presidio_default(distinct)
    timings["b"] = bare_spacy(distinct)
    timings["c"] = ours(texts, terms, officers, 2)
    timings["c1"] = ours(texts, terms, officers, 1)
    if args.limit is None and not args.evasions:
        timings["d"] = whole_release()
    _table("bundled sample" + (" (evasions)" if args.evasions else ""), distinct, timings, labels)
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    if args.city:
        if not CITY_2020.is_file():
            print(f"\n--city: {CITY_2020} not found; skipped")
            return 0
        city = list(dict.fromkeys(city_narratives()))[: args.limit]
        no_terms = [RecordTerms()] * len(city)
        city_timings = {"b": bare_spacy(city), "c": ours(city, no_terms, (), 2), "c1": ours(city, no_terms, (), 1)}
        if not args.skip_presidio:
            city_timings = {"a": presidio_default(city), **city_timings}
        _table("City of Boston 2020 FIO narratives (no record terms)", city, city_timings, labels)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
