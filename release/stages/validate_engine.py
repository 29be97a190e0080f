"""The Great Expectations engine of the validate stage; the only module importing GE.

GE results carry raw cell values (``partial_unexpected_list``, observed values, index lists
with the checked column), so every result is reduced here to counts and row positions
(``Outcome``) before it leaves the module, GE never prints, and every GE exception becomes
``ConfigError`` (bad suite, through the caller's ``fail``) or ``ReleaseError`` (anything
else) with its traceback dropped (``from None``: tracebacks may quote values).
"""

from __future__ import annotations

import contextlib
import io
import logging
import numbers
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from release.config.suites import Check, Fail
from release.errors import EnvironmentProblem, ReleaseError

MAX_ROW_KEYS = 20
LOCK = threading.RLock()  # one GE context per process; GE objects are not thread-safe


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """No warnings or prints from GE: what it would print may hold cell values."""
    sink = io.StringIO()  # discarded; redirecting is process-wide, the stage is single-threaded
    with warnings.catch_warnings(), contextlib.redirect_stdout(sink), \
            contextlib.redirect_stderr(sink):
        warnings.simplefilter("ignore")
        yield


def _gx() -> Any:
    """Import GE once, silenced, with our one custom expectation registered."""
    with LOCK:
        logger = logging.getLogger("great_expectations")
        if not logger.handlers:  # some GE loggers set INFO themselves: stop records here
            logger.addHandler(logging.NullHandler())
            logger.propagate = False
            logger.setLevel(logging.CRITICAL + 1)
        try:
            with _quiet():
                import great_expectations as gx
                from great_expectations.exceptions.exceptions import ExpectationNotFoundError, GreatExpectationsError
                from great_expectations.expectations.registry import get_expectation_impl
        except ImportError:  # not installed, or broken: nothing of ours has run
            raise EnvironmentProblem("great_expectations cannot be imported; "
                                     "reinstall the pinned version") from None
        try:
            with _quiet():
                try:
                    get_expectation_impl("expect_column_to_not_exist")
                except ExpectationNotFoundError:
                    _register_column_to_not_exist()
                _configuration_once_per_call(gx.__version__)
        except (ImportError, GreatExpectationsError):  # GE's own failures; a bug of ours is not one
            raise EnvironmentProblem("great_expectations cannot be imported; "
                                     "reinstall the pinned version") from None
        return gx


GE_ORIGINALS: dict[str, Any] = {}  # GE's own methods, which the test compares the restated ones with
PATCHED_GE = "1.24.1"  # the pinned version whose three methods ``_configuration_once_per_call`` restates


def _configuration_once_per_call(version: str) -> None:
    """GE 1.24 rebuilds an expectation's whole configuration (a pydantic ``dict()`` and a new
    ``ExpectationConfiguration``) once for every key it looks up: ``_get_domain_kwargs``,
    ``_get_success_kwargs`` and ``_get_success_kwarg`` did so about 8,400 times in a 40-report build,
    3.3 s of its 6 s of validation. The three are restated with one configuration per call: the same
    values from the same fresh object, nothing cached between calls. Only on the pinned version, whose
    code this restates (``tests/stages/test_validate.py`` compares them with GE's own on every check of
    the shipped suites); any other version keeps GE's methods."""
    if version != PATCHED_GE:
        return
    from great_expectations.exceptions.exceptions import InvalidExpectationKwargsError
    from great_expectations.expectations.expectation import Expectation

    def _get_success_kwarg(self: Any, key: str, default: Any = None) -> Any:
        kwargs = self.configuration.kwargs
        if key in kwargs:
            return kwargs[key]
        field = self.__fields__.get(key)
        if field is not None:
            return field.default if not field.required else default
        return default

    def _get_domain_kwargs(self: Any) -> dict[str, Any]:
        kwargs = self.configuration.kwargs
        domain = {key: kwargs.get(key, self._get_default_value(key)) for key in self.domain_keys}
        missing = set(self.domain_keys) - set(domain)
        if missing:
            raise InvalidExpectationKwargsError(f"Missing domain kwargs: {sorted(missing)}")
        return domain

    def _get_success_kwargs(self: Any) -> dict[str, Any]:
        domain = self._get_domain_kwargs()
        kwargs = self.configuration.kwargs
        success = {key: kwargs.get(key, self._get_default_value(key)) for key in self.success_keys}
        success.update(domain)
        return success

    restated = {"_get_success_kwarg": _get_success_kwarg, "_get_domain_kwargs": _get_domain_kwargs,
                "_get_success_kwargs": _get_success_kwargs}
    for name, method in restated.items():
        GE_ORIGINALS.setdefault(name, getattr(Expectation, name))
        setattr(Expectation, name, method)  # on GE's own class: every expectation gets the restated one


def _register_column_to_not_exist() -> None:
    """GE 1.x has no negative of expect_column_to_exist; defining the class registers it."""
    from great_expectations.compatibility.pydantic import Field as GxField
    from great_expectations.compatibility.pydantic import StrictStr
    from great_expectations.expectations.expectation import BatchExpectation

    def _validate(self: Any, metrics: dict[str, Any], runtime_configuration: Any = None,
                  execution_engine: Any = None) -> dict[str, Any]:
        return {"success": self._get_success_kwarg("column") not in metrics["table.columns"]}

    # Built through the metaclass: with ``from __future__ import annotations`` a class
    # statement would leave "StrictStr" as an unresolvable string annotation.
    metaclass: Callable[..., object] = type(BatchExpectation)
    metaclass("ExpectColumnToNotExist", (BatchExpectation,), {
        "__module__": __name__, "__annotations__": {"column": StrictStr},
        "column": GxField(min_length=1), "metric_dependencies": ("table.columns",),
        "success_keys": ("column",), "domain_keys": ("batch_id",), "args_keys": ("column",),
        "_validate": _validate})


def build_expectation(check: Check, index: int, fail: Fail) -> Any:
    """GE expectation for a check; GE's (pydantic 1) errors name the offending kwarg."""
    _gx()
    from great_expectations.compatibility.pydantic import ValidationError as GxValidationError
    from great_expectations.expectations.registry import get_expectation_impl

    try:
        with _quiet():
            return get_expectation_impl(check.type)(**check.kwargs, meta={"index": index})
    except GxValidationError as exc:
        error = exc.errors()[0]
        raise fail("".join(f".{part}" for part in error["loc"]), error["msg"]) from None
    except Exception:
        raise fail("", "rejected by Great Expectations") from None


@dataclass(frozen=True)
class Outcome:
    """What survives of a GE result: no values, only counts and row positions."""

    success: bool
    evaluated: bool = False
    element_count: int | None = None
    unexpected_count: int | None = None
    positions: tuple[int, ...] = ()


def run_checks(name: str, checks: Mapping[int, Check], frame: pd.DataFrame, *,
               suite_name: str, file: str) -> dict[int, Outcome]:
    """Run a suite part (``name`` is unique per suite digest) on a frame, silenced; any
    foreign exception becomes a ReleaseError naming the suite and the table's file."""
    try:
        with _quiet():
            return _engine().run(name, checks, frame)
    except ReleaseError:
        raise
    except Exception:
        raise ReleaseError(f"Great Expectations failed on suite {suite_name}",
                           file=file) from None


class _Engine:
    """One ephemeral GE context per process; validation definitions cached per suite digest."""

    def __init__(self) -> None:
        self.gx = _gx()
        from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults, ProgressBarsConfig

        self.context = self.gx.get_context(mode="ephemeral", project_config=DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
            progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
            analytics_enabled=False))
        self.source = self.context.data_sources.add_pandas("release")
        self.definitions: dict[str, Any] = {}

    def run(self, name: str, checks: Mapping[int, Check],
            frame: pd.DataFrame) -> dict[int, Outcome]:
        if name not in self.definitions:
            fail: Fail = lambda key, problem: ReleaseError(f"suite {name}: {problem}")  # noqa: E731
            suite = self.context.suites.add(self.gx.ExpectationSuite(name=name, expectations=[
                build_expectation(check, index, fail) for index, check in checks.items()]))
            asset = self.source.add_dataframe_asset(name)
            batch = asset.add_batch_definition_whole_dataframe("all")
            self.definitions[name] = self.context.validation_definitions.add(
                self.gx.ValidationDefinition(name=name, data=batch, suite=suite))
        # SUMMARY with a default index: partial_unexpected_index_list holds row positions.
        # (unexpected_index_column_names costs ~0.1 s per 1,000 failing rows.)
        results = self.definitions[name].run(batch_parameters={"dataframe": frame}, result_format={
            "result_format": "SUMMARY", "partial_unexpected_count": MAX_ROW_KEYS,
            "exclude_unexpected_values": True})
        store = self.context.validation_results_store  # keeps every result, values included
        for key in store.list_keys():
            store.remove_key(key)
        return {int(r.expectation_config.meta["index"]): _reduce(r) for r in results.results}


def _reduce(result: Any) -> Outcome:
    info = result.exception_info or {}
    # one {raised_exception, ...} dict, or one per failed metric
    infos = [info] if "raised_exception" in info else [
        v for v in info.values() if isinstance(v, dict)]
    raised = any(bool(i.get("raised_exception")) for i in infos)
    body = result.result or {}
    count = {k: int(v) if isinstance(v, numbers.Integral) else None
             for k in ("element_count", "unexpected_count") for v in [body.get(k)]}
    positions = [int(p) for p in body.get("partial_unexpected_index_list") or []
                 if isinstance(p, numbers.Integral)]
    return Outcome(bool(result.success) and not raised, not raised, count["element_count"],
                   count["unexpected_count"], tuple(positions[:MAX_ROW_KEYS]))


_ENGINE: _Engine | None = None


def _engine() -> _Engine:
    """The process's GE context, created on first use (importing GE takes ~2 s)."""
    global _ENGINE
    if _ENGINE is None:
        _ENGINE = _Engine()
    return _ENGINE
