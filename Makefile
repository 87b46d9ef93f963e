# baryir: `make demo` installs what is missing and runs the main job; `make test` runs the tests.
# GPU users pick their torch build, e.g.:
#   make demo TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
PYTEST_ARGS ?=
BIN := $(VENV)/bin
STAMP := $(VENV)/.baryir-installed
DEMO_DIR := runs/quickstart

.PHONY: install demo test test-slow tables lint clean bench

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install $(TORCH)
	$(BIN)/python -m pip install -e ".[dev]"
	@touch $(STAMP)

demo: install
	$(BIN)/baryir fit --config configs/quickstart.yaml --fresh true
	$(BIN)/baryir test --config configs/quickstart.yaml --ckpt_path $(DEMO_DIR)/checkpoints/last.ckpt

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# the slow tests: the docs' blocks that train or load the full network, long studies
test-slow: install
	$(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

# rewrite the docs' generated tables from docs/results (after benchmarks/demo_seeds.py)
tables: install
	$(BIN)/python docs/tables.py

bench: install
	$(BIN)/python benchmarks/run_all.py

lint: install
	$(BIN)/ruff check src tests studies
	$(BIN)/ruff format --check src tests studies
	$(BIN)/lint-imports

clean:
	rm -rf $(DEMO_DIR) .pytest_cache .ruff_cache
