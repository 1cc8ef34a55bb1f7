# The two set-up commands of a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
DATA   ?= vigil-data
ARGS   ?=

.PHONY: demo test install install-test system-deps lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Debian packages the demo and the tests use: fonts with Vietnamese glyphs (PDF reports),
# poppler-utils (pdftotext in tests), chromium (browser tests), PostgreSQL (store tests).
system-deps:
	@bash scripts/system-deps.sh

demo: system-deps install
	$(BIN)/vigil demo $(DATA) --force --serve $(ARGS)

test: system-deps install-test
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy --strict src
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) $(DATA) .pytest_cache .mypy_cache .ruff_cache
