# Two commands for a fresh machine: `make up` (set up, then run the site) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DATA ?= ../shared/data
# What `make up` imports on first start when the shared corpus is present (skipped otherwise).
IMPORT ?= $(wildcard $(DATA)/arxiv-daily/papers.jsonl.gz)

.PHONY: setup up test docs bench

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[torch,test]"
	touch $@

up: setup
	$(BIN)/dailypapers up $(if $(IMPORT),--import $(IMPORT))

test: setup
	$(BIN)/python -m pytest

docs: setup
	$(BIN)/dailypapers settings --markdown > docs/settings.md

bench: setup
	$(BIN)/python bench/ingest.py
