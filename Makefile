# Two commands a newcomer needs: `make run` (the product on 127.0.0.1) and `make test` (everything CI runs).
# Each creates the virtual environment it needs first.

SHELL := /bin/bash
PYTHON313 := $(shell scripts/find-python.sh 2>/dev/null)
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := SAM_CLI_TELEMETRY=0 PATH="$(dir $(PYTHON313)):$$PATH" $(SAM_VENV)/bin/sam
PORT ?= 3000

.PHONY: help run demo test soak lint types unit integration e2e validate build package-check bench clean

help:
	@echo "make run            start the whole product locally on 127.0.0.1:$(PORT) (no Docker)"
	@echo "make demo           walk every journey against a running 'make run'"
	@echo "make test           lint, types, unit, integration, e2e, browser, template validation and packaging proof"
	@echo "make soak           the attacks at length: the fuzzer with $(SOAK_EXAMPLES) examples per operation and mode, faults, limits, the lifecycle machine"
	@echo "make build          sam build (arm64 layer and functions)"
	@echo "make bench          benchmarks against their floors -> docs/benchmarks.md (BENCH_LARGE=1: 20,000 due)"

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

# sam build ships sources only, and Lambda's /var/task and /opt are read-only: every cold start would
# compile every module it imports (about twice the import time, docs/benchmarks.md). So the build is
# byte-compiled here with the runtime's Python (3.13), hash-checked (zip extraction does not keep the
# timestamps a .pyc is otherwise checked against), with the paths Lambda puts the code at.
build: $(SAM_VENV)/.installed
	$(SAM) build
	@for dir in .aws-sam/build/*/; do dir=$${dir%/}; \
	  if [ -d "$$dir/python" ]; then src="$$dir/python"; dest=/opt/python; else src="$$dir"; dest=/var/task; fi; \
	  $(PYTHON313) -m compileall -q -j 0 --invalidation-mode checked-hash -s "$$src" -p "$$dest" "$$src" >/dev/null \
	    || { echo "byte-compiling $$src failed" >&2; exit 1; }; \
	done

package-check: $(VENV)/.installed build
	$(VENV)/bin/pytest tests/built -m packaging

test: lint types validate
	$(VENV)/bin/pytest tests/unit tests/integration tests/e2e tests/browser
	$(MAKE) package-check

# The hardening tests at length (docs/security.md): schemathesis with many more examples per operation, the
# authorization matrix, faults, abuse limits, mass assignment, the lifecycle state machine (150 examples of
# 40 steps) and the concurrency run, with Hypothesis' soak profile for whatever
# does not set its own example count (tests/conftest.py). `make test` runs the same tests briefly.
SOAK_EXAMPLES ?= 300
SOAK_LIFECYCLE_EXAMPLES ?= 150
soak: $(VENV)/.installed
	FUZZ_EXAMPLES=$(SOAK_EXAMPLES) LIFECYCLE_EXAMPLES=$(SOAK_LIFECYCLE_EXAMPLES) LIFECYCLE_STEPS=40 \
	  HYPOTHESIS_PROFILE=soak $(VENV)/bin/pytest -s tests/e2e/test_fuzz_openapi.py \
	  tests/e2e/test_authorization_matrix.py tests/integration/test_faults.py tests/integration/test_abuse_limits.py \
	  tests/integration/test_mass_assignment.py tests/integration/test_card_token_isolation.py \
	  tests/integration/test_lifecycle_state_machine.py tests/e2e/test_concurrency_local_run.py

# Benchmarks against their floors (benchmarks/): cold init, warm flows and AWS calls, the applier, the
# invoice PDF, and the package sizes of the build. Writes docs/benchmarks.md.
bench: $(VENV)/.installed build
	$(PY) -m benchmarks

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
