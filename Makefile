# The two set-up commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# Tests run in one process per core (pytest-xdist); each process has its own databases.
# `worksteal` hands a finished worker tests queued on the busy one, so the long tests end together.
XDIST ?= -n auto --dist worksteal

.PHONY: run test test-fast lint install install-test migrate demo serve bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,lint]"
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/upr-match migrate

# The tagger is trained first (once), so the demo import can tag recommendations that have no themes.
demo: migrate
	$(BIN)/upr-match train --if-missing
	$(BIN)/upr-match demo load --url http://$(HOST):$(PORT)

serve: install
	$(BIN)/upr-match serve --host $(HOST) --port $(PORT)

## make run: venv, install, migrate, load the demo data, serve on http://$(HOST):$(PORT) (printed once it answers)
## with the worker beside it (inbox, alerts, webhooks, e-mail); Ctrl-C stops both
run: demo
	$(BIN)/upr-match serve --host $(HOST) --port $(PORT) --with-worker

## make test: venv, install with test extras, run every test (on every core; XDIST= runs them in one process)
test: install-test
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

## make test-fast: every test but the slow, faults and browser ones
test-fast: install-test
	$(BIN)/python -m pytest $(XDIST) -m "not slow and not faults and not browser" -q $(PYTEST_ARGS)

## make lint: ruff (rules and format) and mypy (strict for matching/ and app/services/)
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: install-test
	$(BIN)/python -m pip install --quiet -e ".[bench]"

clean:
	rm -rf $(VENV) var .pytest_cache
