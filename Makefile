# The two set-up commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# The worker of `make run` syncs from OHCHR only when asked: `make run SYNC_INTERVAL_HOURS=24`.
SYNC_INTERVAL_HOURS ?= 0
# `make` alone prints the targets; it never starts anything.
.DEFAULT_GOAL := help
# Tests run in one process per core (pytest-xdist); each process has its own databases.
# `worksteal` hands a finished worker tests queued on the busy one, so the long tests end together.
XDIST ?= -n auto --dist worksteal
# Test processes and the servers they start reuse compiled bytecode (and pytest its rewritten test
# modules): where the environment turns bytecode writing off, each of them would compile it all again.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: i18n run test test-fast lint install install-test apertium axe-core migrate demo serve bench clean

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

## make install: venv and the package alone (no test tools), and Apertium where apt-get can install it
install: apertium $(VENV)/.installed

## make install-test: venv and the package with its test and lint tools, and Apertium
install-test: apertium axe-core $(VENV)/.installed-test

## make axe-core: a current axe-core 4.x from the npm registry into .cache/axe-core (never committed), which
## the browser tests inject into every page; they skip, saying so, when it is missing (no npm)
AXE_CORE_VERSION := 4
AXE_CORE_DIR := .cache/axe-core
axe-core:
	@if [ -f $(AXE_CORE_DIR)/node_modules/axe-core/axe.min.js ]; then :; \
	elif command -v npm >/dev/null 2>&1; then \
	  echo "installing axe-core@$(AXE_CORE_VERSION) (npm) into $(AXE_CORE_DIR)"; \
	  mkdir -p $(AXE_CORE_DIR) && npm install --silent --no-audit --no-fund --no-save --prefix $(AXE_CORE_DIR) axe-core@$(AXE_CORE_VERSION) \
	  || echo "warning: axe-core not installed: the browser tests will skip"; \
	else echo "note: install npm for axe-core, which the browser tests need"; fi

## make apertium: Debian's Apertium (English-Spanish, French-Spanish), which `upr-match train` builds the
## cross-language lexicon with; without it French and Spanish texts are ranked as written (and /health/ready says so)
APERTIUM_PACKAGES := apertium apertium-eng-spa apertium-fr-es
apertium:
	@if command -v apertium >/dev/null 2>&1 && apertium -l | grep -q spa-eng && apertium -l | grep -q fr-es; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  echo "installing $(APERTIUM_PACKAGES) (Debian)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -q --no-install-recommends $(APERTIUM_PACKAGES) >/dev/null 2>&1 \
	  || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends $(APERTIUM_PACKAGES) >/dev/null; } \
	  || echo "warning: $(APERTIUM_PACKAGES) not installed: French and Spanish texts will be ranked as written"; \
	else echo "note: install $(APERTIUM_PACKAGES) (Debian, as root) for cross-language matching"; fi

## make i18n: extract the pages' messages, update the French and Spanish catalogues, check they compile
# The .po files are the source (committed); the server compiles them in memory at start (app/web/i18n.py),
# so `compile` here only checks them and prints how complete each is.
i18n: install
	$(BIN)/pybabel extract --mapping-file babel.cfg --keywords N_ --no-location --sort-output \
		--project upr-match --omit-header --output-file app/locale/messages.pot .
	$(BIN)/pybabel update --input-file app/locale/messages.pot --output-dir app/locale \
		--ignore-obsolete --no-fuzzy-matching --width 0
	$(BIN)/pybabel compile --directory app/locale --statistics --use-fuzzy --output-file /dev/null \
		--locale fr --input-file app/locale/fr/LC_MESSAGES/messages.po
	$(BIN)/pybabel compile --directory app/locale --statistics --use-fuzzy --output-file /dev/null \
		--locale es --input-file app/locale/es/LC_MESSAGES/messages.po

## make migrate: upgrade the database to the latest schema (Alembic)
migrate: install
	$(BIN)/upr-match migrate

## make demo: migrate, train the theme tagger once, load the demo data
# The tagger is trained first (once), so the demo import can tag recommendations that have no themes.
demo: migrate
	$(BIN)/upr-match train --if-missing
	$(BIN)/upr-match demo load --url http://$(HOST):$(PORT)

## make serve: serve the API and the pages without the worker
serve: install
	$(BIN)/upr-match serve --host $(HOST) --port $(PORT)

## make run: venv, install, migrate, load the demo data, serve on http://$(HOST):$(PORT) (printed once it answers)
## with the worker beside it (inbox, alerts, webhooks, e-mail; no sync from OHCHR unless SYNC_INTERVAL_HOURS=24); Ctrl-C stops both
run: demo
	SYNC_INTERVAL_HOURS=$(SYNC_INTERVAL_HOURS) $(BIN)/upr-match serve --host $(HOST) --port $(PORT) --with-worker

## make test: venv, install with test extras, run every test (on every core; XDIST= runs them in one process)
test: install-test
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

## make test-fast: every test but the slow, faults and browser ones
test-fast: install-test
	$(BIN)/python -m pytest $(XDIST) -m "not slow and not faults and not browser" -q $(PYTEST_ARGS)

## make lint: ruff (rules and format) and mypy (strict over app/, matching/, evaluation/ and benchmarks/)
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## make bench: install the benchmarks' extra tools (locust, psutil, bm25s, tantivy)
bench: install-test
	$(BIN)/python -m pip install --quiet -e ".[bench]"

## make clean: remove the venv, var/ (database, models, keys) and the pytest cache
clean:
	rm -rf $(VENV) var .pytest_cache

.PHONY: help
## make help: this list (the first line of each `## make` comment in this file)
help:
	@awk -v host='$(HOST)' -v port='$(PORT)' '/^## make [a-z-]+:/ { sub(/^## make /, ""); \
		name = $$0; sub(/:.*/, "", name); sub(/^[a-z-]+: /, ""); \
		gsub(/\$$\(HOST\)/, host); gsub(/\$$\(PORT\)/, port); printf "  make %-13s %s\n", name, $$0 }' $(MAKEFILE_LIST)
