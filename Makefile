# The two set-up commands of a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= vigil-data
ARGS   ?=

.PHONY: demo test install install-test system-deps system-deps-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

# The tests run the lake on Spark too: pyspark (a 450 MB download) comes with them, not the demo.
# pySigma's Windows pipelines, which tests/test_monitor_security_mapping.py compares our field
# mapping with, declare pySigma below 2 but run on pySigma 2: installed without their deps.
$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test,spark]'
	$(BIN)/pip install --quiet --no-deps 'pysigma-pipeline-windows==2.0.1'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian packages the demo and the tests use: fonts with Vietnamese glyphs (PDF reports),
# poppler-utils (pdftotext in tests), chromium (browser tests), PostgreSQL (store tests);
# for the tests only, a Java runtime (the lake's tests on Spark).
system-deps:
	@bash scripts/system-deps.sh

system-deps-test:
	@bash scripts/system-deps.sh --test

demo: system-deps install
	$(BIN)/vigil demo $(DATA) --force --serve $(ARGS)

test: system-deps-test install-test
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy --strict src
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache .mypy_cache .ruff_cache
