# The README's two commands are `make run` and `make test`; both set up first (idempotently).
VENV ?= .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE ?= 1

.PHONY: setup run test test-core test-slow reproduce docs clean

setup:
	@bash scripts/setup.sh

## the main job on the embedded default: the GNN on the mock TNG50 universe, logged to MLflow
run: setup
	$(BIN)/astrozoo run halo-mass --model gnn

## the default test suite (< ~15 min on 2 cores)
test: setup
	$(BIN)/python -m pytest -q

## the core's tests with no task plugin installed: a second venv (.venv-core) holds the core only
test-core:
	bash scripts/test-core.sh

## long checks: full-size mocks, statmorph on every galaxy, training to the stated results
test-slow: setup
	$(BIN)/python -m pytest -q -m slow

## every halo-mass model in the quick profile, then Table 2 and the figures
reproduce: setup
	bash scripts/reproduce.sh

docs: setup
	$(BIN)/mkdocs build --strict

clean:
	rm -rf .astrozoo site .venv-core
