# Everything runs from a virtual environment built from the lock files, so every machine gets
# exactly the same packages. Only Python 3.11 and make are needed beforehand.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test lint format lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.dev-installed: requirements-dev.lock pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@ $(VENV)/.run-installed

## run: chat with the bot in this terminal, on the embedded default (SQLite, sample school)
run: $(VENV)/.run-installed
	$(BIN)/policybot chat

## test: the whole test suite (SQLite and PostgreSQL), in TEST_WORKERS processes side by side.
## The suite mostly waits (fake servers, subprocesses, databases): one process keeps a core about
## a third busy, so four share two cores well. TEST_WORKERS=0 runs it in this process.
TEST_WORKERS ?= 4
test: $(VENV)/.dev-installed
	$(BIN)/pytest -n $(TEST_WORKERS) --dist worksteal

## lint: ruff (lint and format check), the import contracts (pyproject.toml) and mypy
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/mypy bench

format: $(VENV)/.dev-installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## lock: re-resolve the lock files after changing dependencies in pyproject.toml
lock: $(VENV)/.dev-installed
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml requirements-build.in --python-version 3.11 --generate-hashes -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml requirements-build.in --extra dev --python-version 3.11 --generate-hashes -q -o requirements-dev.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

## bench: policy answers (accuracy on both question sets, latency), the comment sweep and the
## commands' start-up; see bench/README.md. BASELINE=/other/checkout times its start-up too.
.PHONY: bench
bench: $(VENV)/.run-installed
	$(BIN)/python bench/policy_accuracy.py
	$(BIN)/python bench/staff_accuracy.py
	$(BIN)/python bench/policy_latency.py
	$(BIN)/python bench/comment_sweep.py
	$(BIN)/python bench/startup.py $(if $(BASELINE),--baseline $(BASELINE))

## bench-turns: dialog turns under load against the bare persisted turn; see bench/README.md
.PHONY: bench-turns
bench-turns: $(VENV)/.run-installed
	$(BIN)/python bench/turns.py $(ARGS)
