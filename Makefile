# Two commands for a fresh machine: `make up` (set up, then run the site) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
DATA ?= ../shared/data
# What `make up` imports on first start when the shared corpus is present (skipped otherwise).
IMPORT ?= $(wildcard $(DATA)/arxiv-daily/papers.jsonl.gz)

.PHONY: setup up test docs bench

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[torch,test]"
	touch $@

# KaTeX (math) and Swagger UI (/docs), served by the site itself: never from a CDN.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: math will show as LaTeX source and /docs without Swagger UI"; fi

up: setup
	$(BIN)/dailypapers up $(if $(IMPORT),--import $(IMPORT))

test: setup
	$(BIN)/python -m pytest

# The generated reference pages (tests/test_cli.py fails when either is stale).
docs: setup
	$(BIN)/dailypapers settings --markdown > docs/settings.md
	$(BIN)/python -m dailypapers.cli.docs > docs/cli.md

bench: setup
	$(BIN)/python bench/ingest.py
