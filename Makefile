# Prepaid Credits: developer and CI entry points.
# Every target works on a fresh clone: the venvs are created on demand.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test

# Python 3.13 (the Lambda runtime): the first that really runs 3.13 of python3.13 on PATH
# (a pyenv shim may not) and pyenv's 3.13 installs; else python3. Resolved to its real path.
ifeq ($(origin PY),undefined)
PY := $(shell for c in python3.13 $(HOME)/.pyenv/versions/3.13*/bin/python3; do \
	  "$$c" -c 'import sys; assert sys.version_info[:2] == (3, 13); print(sys.executable)' 2>/dev/null \
	  && exit 0; done; command -v python3)
endif
PY_BIN_DIR := $(shell dirname "$$(command -v $(PY))")

VENV := .venv
TOOLS := .tools
SAM_CLI_VERSION := 1.170.0
BUILD_DIR := .aws-sam/build

# Source directories that exist (lint runs only on those).
LINT_DIRS := $(wildcard layers functions devkit tests scripts bench credits_local credits_admin console/tests)

export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: venv tools browser lint typecheck cfn-lint validate unit test test-deep build bench bench-smoke dev clean openapi event-schemas

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@test -x $(VENV)/bin/python || $(PY) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[dev]'
	@touch $@

TOOLS_STAMP := $(TOOLS)/.installed-sam-$(SAM_CLI_VERSION)

tools: $(TOOLS_STAMP)

$(TOOLS_STAMP):
	@test -x $(TOOLS)/bin/python || $(PY) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --upgrade pip
	$(TOOLS)/bin/python -m pip install --quiet 'aws-sam-cli==$(SAM_CLI_VERSION)'
	@rm -f $(TOOLS)/.installed-sam-*
	@touch $@

# The console's browser tests: Debian's Chromium (Playwright drives it; no browser download) and axe-core,
# pinned by console/package-lock.json. The console's bundle itself has no build step and no dependency.
CHROMIUM := /usr/bin/chromium
CONSOLE_DEPS := console/node_modules/.package-lock.json

browser: $(CHROMIUM) $(CONSOLE_DEPS)

$(CHROMIUM):
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo -E ) apt-get install -y -qq chromium

$(CONSOLE_DEPS): console/package.json console/package-lock.json
	cd console && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: venv
	@if [ -n "$(LINT_DIRS)" ]; then \
		$(VENV)/bin/ruff check $(LINT_DIRS) && \
		$(VENV)/bin/ruff format --check $(LINT_DIRS); \
	else echo "lint: nothing to lint yet"; fi

typecheck: venv
	@if [ -d layers/ledger/ledger ]; then $(VENV)/bin/mypy; \
	else echo "typecheck: layers/ledger/ledger not present yet"; fi

cfn-lint: venv
	$(VENV)/bin/cfn-lint template.yaml

validate: tools
	$(TOOLS)/bin/sam validate --lint --template-file template.yaml

unit: venv
	$(VENV)/bin/pytest tests -m 'not e2e'

# Tests run in one process per core (TEST_WORKERS=0 runs them in this process), a module at a time, the modules
# with slow tests first (tests/conftest.py); the slowest are listed at the end.
TEST_WORKERS ?= auto
test: lint typecheck cfn-lint validate browser
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations=30

# The slow tests again at full depth (devkit/depth.py): the state machines with 25 examples, the races with all
# their operations. CI runs it after `make test`.
test-deep: venv
	LEDGER_TEST_DEPTH=deep $(VENV)/bin/pytest -m deep -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder --durations=15

build: tools
	PATH="$(PY_BIN_DIR):$$PATH" $(TOOLS)/bin/sam build --template-file template.yaml --build-dir $(BUILD_DIR)

openapi: venv
	$(VENV)/bin/python scripts/openapi.py

event-schemas: venv
	$(VENV)/bin/python scripts/event_schemas.py

# Benchmarks: bench/results.md and bench/results.json from one run (about 30 minutes on 2 cores).
bench: venv
	PYTHONPATH=layers/ledger $(VENV)/bin/python -m bench

# The same at tiny sizes (about a minute), into bench/smoke/: proves every table is still produced.
bench-smoke: venv
	PYTHONPATH=layers/ledger $(VENV)/bin/python -m bench --smoke

# The whole system on this machine, in the foreground (Ctrl-C stops it): see README, "Run it locally".
dev: venv
	$(VENV)/bin/credits-local up

clean:
	rm -rf $(VENV) $(TOOLS) console/node_modules console/test-results .credits-local .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
