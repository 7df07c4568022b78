# Everything runs from a virtual environment built from the lock files, so every machine gets
# exactly the same packages. Only Python 3.11 and make are needed beforehand.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test test-pythons lint format lock clean

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

## test-pythons: a part of the suite (PYTHONS_TESTS) on each newer Python policybot supports,
## each in a .venv-3.X of its own built from requirements-dev.lock. The lock is resolved for
## 3.11, but it pins every wheel of each version with its hash, so pip picks 3.12's and 3.13's.
## An interpreter that is not found (python3.X on PATH that runs, or pyenv's) is named and skipped.
EXTRA_PYTHONS ?= 3.12 3.13
PYTHONS_TESTS ?= tests/storage tests/dialogs tests/deploy tests/bot/test_config.py tests/bot/test_startup.py
test-pythons:
	@for version in $(EXTRA_PYTHONS); do \
	    python=; \
	    for candidate in $$(command -v python$$version) $$(ls -d $$HOME/.pyenv/versions/$$version.*/bin/python$$version 2>/dev/null | sort -rV); do \
	        if [ -z "$$python" ] && "$$candidate" -c 'pass' >/dev/null 2>&1; then python=$$candidate; fi; \
	    done; \
	    if [ -z "$$python" ]; then echo "test-pythons: Python $$version not found, skipped"; continue; fi; \
	    venv=$(VENV)-$$version; \
	    if [ ! -f $$venv/.dev-installed ] || [ requirements-dev.lock -nt $$venv/.dev-installed ] || [ pyproject.toml -nt $$venv/.dev-installed ]; then \
	        rm -rf $$venv && $$python -m venv $$venv \
	        && $$venv/bin/pip install --quiet --disable-pip-version-check --require-hashes -r requirements-dev.lock \
	        && $$venv/bin/pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e . \
	        && touch $$venv/.dev-installed || exit 1; \
	    fi; \
	    echo "test-pythons: $$($$venv/bin/python --version)"; \
	    $$venv/bin/pytest -n $(TEST_WORKERS) --dist worksteal -q $(PYTHONS_TESTS) || exit 1; \
	done

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
	rm -rf $(VENV) $(VENV)-3.* .pytest_cache .mypy_cache .ruff_cache

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
