# NCA Studio: two commands from a fresh machine.
#   make studio   - set up (first time only) and serve the studio on http://127.0.0.1:8000
#   make test     - set up, make sure Chromium is there, lint, run the whole test suite
#
# TORCH_SPEC picks the PyTorch build. The default is the CPU build of the reference machine;
# with a GPU use e.g. `make studio TORCH_SPEC=torch` (PyPI's default CUDA build) or
# `TORCH_SPEC=` to keep whatever torch the venv already has.

PYTHON     ?= python3
VENV       ?= .venv
TORCH_SPEC ?= torch==2.13.0
HOST       ?= 127.0.0.1
PORT       ?= 8000
DATA       ?= data
PYTEST_ARGS ?=

BIN   := $(VENV)/bin
STAMP := $(VENV)/.nca-installed

.PHONY: setup studio test lint browser gallery bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-runs only when pyproject.toml changes (or the venv is new): a second `make` is instant.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	@if [ -n "$(TORCH_SPEC)" ]; then $(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"; fi
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

setup: $(STAMP)

studio: setup
	@echo "NCA Studio: open http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(BIN)/nca serve --host $(HOST) --port $(PORT) --data $(DATA)

browser:
	@bash scripts/ensure_chromium.sh

lint: setup
	$(BIN)/ruff check .

test: setup browser lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

gallery: setup
	$(BIN)/python gallery/build.py

bench: setup
	$(BIN)/python bench/train_speed.py
	$(BIN)/python bench/browser_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
