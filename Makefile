# Two commands do all the set-up on a fresh machine (Python 3.11, no network but PyPI):
#   make extract   - extract the seed articles with the embedded default model
#   make test      - lint and run the test suite (what CI runs)
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.local: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local]'
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

.PHONY: extract test lint eval
extract: $(VENV)/.local
	$(BIN)/python -m service extract seeds/*.txt

test: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest

$(VENV)/.evals: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[local,evals]'
	touch $@

eval: $(VENV)/.evals
	$(BIN)/python -m evals run
