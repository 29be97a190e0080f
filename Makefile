# Every target does its own set-up: a fresh machine needs only python3 (3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RAY_STAMP := $(VENV)/.ray-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: demo test check bench clean browser

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.lock
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The optional extra release[ray] (--engine ray): the tests need it, the demo does not.
$(RAY_STAMP): $(STAMP) requirements-ray.lock
	$(BIN)/python -m pip install -q -r requirements-ray.lock
	touch $(RAY_STAMP)

# ruff, mypy and the stubs mypy needs, for `make check` (the tests and the demo do not need them;
# mypy also reads Ray's types, so `check` installs the ray extra too).
$(DEV_STAMP): $(STAMP) requirements-dev.lock
	$(BIN)/python -m pip install -q -r requirements-dev.lock
	touch $(DEV_STAMP)

demo: $(STAMP)  ## run `release fioe 2020` on the bundled synthetic sample
	$(BIN)/release fioe 2020
	@echo "Bundle: releases/fioe/2020/ (public/, manifest.json, redaction_log.jsonl, review/)"

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

browser:  ## Debian's headless Chromium and its WebDriver, for the review packet and workspace browser tests
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }

# One worker (pytest-xdist) per core plus one: many tests wait on another process (the witness
# service, Ray's workers, the browser, a CLI build's validation process) while a core idles. A
# module's tests stay on one worker (its module fixtures and the session ledger they charge are that
# worker's). The 40 slowest tests are listed at the end: CI must stay under 20 minutes.
test: $(STAMP) $(RAY_STAMP) browser  ## run the whole test suite (with Ray, for the --engine ray tests)
	$(BIN)/python -m pytest -n $$(( $$(nproc) + 1 )) --dist loadscope --durations=40

check: $(DEV_STAMP) $(RAY_STAMP)  ## ruff (pyproject's rules) and mypy --strict on release/: both must be clean
	$(BIN)/ruff check release tests benchmarks
	$(BIN)/mypy

bench: $(STAMP)  ## run the benchmarks (not part of the tests)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) releases build *.egg-info
