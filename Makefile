# Two commands a newcomer needs: `make run` (the product on 127.0.0.1) and `make test` (everything CI runs).
# Each creates the virtual environment it needs first.

SHELL := /bin/bash
PYTHON313 := $(shell scripts/find-python.sh 2>/dev/null)
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 PATH="$(dir $(PYTHON313)):$$PATH" $(SAM_VENV)/bin/sam
PORT ?= 3000

.PHONY: help run demo test lint types unit integration e2e validate build package-check clean

help:
	@echo "make run            start the whole product locally on 127.0.0.1:$(PORT) (no Docker)"
	@echo "make demo           walk every journey against a running 'make run'"
	@echo "make test           lint, types, unit, integration, e2e, browser, template validation and packaging proof"
	@echo "make build          sam build (arm64 layer and functions)"

python313:
	@scripts/find-python.sh >/dev/null

$(VENV)/.installed: pyproject.toml | python313
	@test -x $(PY) || $(PYTHON313) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

$(SAM_VENV)/.installed: | python313
	@test -x $(SAM_VENV)/bin/python || $(PYTHON313) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet 'aws-sam-cli>=1.130'
	@touch $@

venv: $(VENV)/.installed

run: $(VENV)/.installed
	$(PY) -m selfservice_local --port $(PORT)

demo: $(VENV)/.installed
	$(PY) -m selfservice_local.demo --base-url http://127.0.0.1:$(PORT)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

types: $(VENV)/.installed
	$(VENV)/bin/mypy

unit: $(VENV)/.installed
	$(VENV)/bin/pytest tests/unit

integration: $(VENV)/.installed
	$(VENV)/bin/pytest tests/integration

e2e: $(VENV)/.installed
	$(VENV)/bin/pytest tests/e2e

validate: $(VENV)/.installed $(SAM_VENV)/.installed
	$(VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint

build: $(SAM_VENV)/.installed
	$(SAM) build

package-check: $(VENV)/.installed build
	$(VENV)/bin/pytest tests/packaging -m packaging

test: lint types validate
	$(VENV)/bin/pytest tests/unit tests/integration tests/e2e tests/browser
	$(MAKE) package-check

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
