"""What the engine reports as an environment problem (exit 9): what spaCy or Presidio raise for a broken
install or model (``engine.LIBRARY_ERRORS``), and nothing else. A bug of ours (an AssertionError, a
TypeError) stops the run as itself, an internal error (exit 1), never as "reinstall the model"."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from release.errors import EnvironmentProblem
from release.pii import engine as engine_module
from release.pii.engine import EngineSettings, PiiEngine
from release.pii.terms import RecordTerms
from tests.pii.conftest import RULES

BUGS = [AssertionError("a bug of ours"), TypeError("a bug of ours"), AttributeError("a bug of ours")]
LIBRARY = [ValueError("[E088] Text of length 2000001 exceeds maximum"), KeyError("[E001] No component"),
           OSError("[E050] Can't find model")]


def _raising(error: Exception) -> Callable[..., None]:
    def raise_it(*_args: object, **_kwargs: object) -> None:
        raise error

    return raise_it


@pytest.mark.parametrize("error", BUGS, ids=lambda e: type(e).__name__)
def test_a_bug_of_ours_during_analysis_is_not_an_environment_problem(
        engine: PiiEngine, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    # release.pii.sentences.EntityCache is ours; it runs inside the analysis that translates spaCy's errors
    monkeypatch.setattr(engine.ner_cache, "entities", _raising(error))
    with pytest.raises(type(error)) as raised:
        engine.redact_many(["Quillon Vardemar was stopped on Elm Street."], [RecordTerms()])
    assert not isinstance(raised.value, EnvironmentProblem)


@pytest.mark.parametrize("error", LIBRARY, ids=lambda e: type(e).__name__)
def test_what_spacy_raises_during_analysis_is_an_environment_problem(
        engine: PiiEngine, monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    monkeypatch.setattr(engine.nlp, "make_doc", _raising(error))
    with pytest.raises(EnvironmentProblem, match="PII analysis failed") as raised:
        engine.redact_many(["Orrin Belmanto was stopped on Elm Street."], [RecordTerms()])
    assert raised.value.exit_code == 9 and type(error).__name__ in raised.value.message
    assert "Orrin" not in str(raised.value) and raised.value.__suppress_context__


def test_a_bug_of_ours_while_loading_is_not_an_environment_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "load_lexicon", _raising(AssertionError("a bug of ours")))
    with pytest.raises(AssertionError):
        PiiEngine(EngineSettings(rules_dir=RULES, n_process=1))


def test_a_model_without_a_pinned_pipe_is_an_environment_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    from spacy.language import Language

    monkeypatch.setattr(Language, "get_pipe", _raising(KeyError("[E001] No component 'lemmatizer'")))
    with pytest.raises(EnvironmentProblem, match=r"cannot load the PII engine \(KeyError\)") as raised:
        PiiEngine(EngineSettings(rules_dir=RULES, n_process=1))
    assert raised.value.exit_code == 9
