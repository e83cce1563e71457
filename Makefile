# Campus: two commands to start (see README).
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-unit test-fast test-docs test-slow lint format bench serve clean assets

# Modules compiled with Cython (setup.py): those with a .pxd; rebuilt when they change.
COMPILED := $(wildcard src/campus/*/*.pxd) $(patsubst %.pxd,%.py,$(wildcard src/campus/*/*.pxd))
COMPILED += $(wildcard src/campus/*/*.pyx) $(wildcard src/campus/*/native/*.hpp)

$(STAMP): pyproject.toml constraints.txt setup.py $(COMPILED)
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

## demo: create the embedded database and warehouse under ./var, load the demo data, serve on :8000
demo: $(STAMP)
	$(BIN)/campus demo

## test: lint, then the whole test suite (SQLite and PostgreSQL, DuckDB, Spark, headless Chromium)
test: $(STAMP) lint
	$(BIN)/pytest -n 2 --dist loadfile tests

## test-unit: the pure tests (no database, no server), without those marked slow
test-unit: $(STAMP)
	$(BIN)/pytest -q -m "not slow" tests/unit tests/docs

## test-fast: unit, docs and integration tests on SQLite only, without slow, e2e and Spark tests
test-fast: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile -m "not slow and not e2e and not spark" -k "not postgres" tests/unit tests/docs tests/integration

## test-docs: the reference docs against the code (settings, commands, permissions)
test-docs: $(STAMP)
	$(BIN)/pytest -q tests/docs

## test-slow: only the tests marked slow
test-slow: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile -m slow tests

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

## assets: reinstall the vendored front-end assets from frontend/package-lock.json (npm)
VENDOR := src/campus/web/static/vendor
assets:
	cd frontend && npm ci --ignore-scripts
	cp frontend/node_modules/htmx.org/dist/htmx.min.js frontend/node_modules/htmx.org/LICENSE $(VENDOR)/htmx/
	cp frontend/node_modules/chart.js/dist/chart.umd.js $(VENDOR)/chartjs/chart.umd.min.js
	cp frontend/node_modules/chart.js/LICENSE.md $(VENDOR)/chartjs/
	cp frontend/node_modules/jsqr/dist/jsQR.js frontend/node_modules/jsqr/LICENSE $(VENDOR)/jsqr/
	cp frontend/node_modules/axe-core/axe.min.js frontend/node_modules/axe-core/LICENSE tests/e2e/vendor/axe-core/
	rm -rf frontend/node_modules

bench: $(STAMP)
	$(BIN)/python -m bench

serve: $(STAMP)
	$(BIN)/campus serve

clean:
	rm -rf $(VENV) var .pytest_cache
