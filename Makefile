# contribsync: `make test` and `make demo` set up everything on a fresh Debian machine (as root).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
export AWS_DEFAULT_REGION ?= us-east-1
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export SAM_CLI_TELEMETRY := 0
# Test processes (pytest-xdist), each module's tests kept together in one (their module fixtures: a stack,
# a database). Two fit CI's two cores: the integration tests mostly wait on queues, servers and sleeps.
TEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: install test lint unit integration demo dev template bench fleet clean

# Python 3.11 with venv: present on the project's machines; installed from Debian if missing.
.python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq python3.11 python3.11-venv; }
	@touch $@

# Headless Chromium for the dashboard test (Playwright drives it; Playwright's own browser download is
# never used): Debian's chromium-headless-shell, without its recommends (about 100 MB to download).
.chromium:
	@command -v chromium-headless-shell >/dev/null 2>&1 || command -v chromium >/dev/null 2>&1 || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium-headless-shell; }
	@touch $@

# uv installs the pinned requirements: on a machine with no download cache, 11 s where pip took 56 s for
# requirements-dev.txt (and about as much again for SAM's). pip only installs uv itself.
UV_VERSION := 0.13.9
UV := $(BIN)/uv

$(VENV)/.installed: .python requirements-dev.txt shared/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q uv==$(UV_VERSION) 2>&1 | grep -v "^WARNING: Location" || true
	$(UV) pip install -q --python $(BIN)/python -r requirements-dev.txt
	$(UV) pip install -q --python $(BIN)/python --no-deps -e .
	$(BIN)/python -W ignore -c "import contribsync, contribsync_local, pgserver, moto, psycopg"
	@touch $@

$(SAM_VENV)/.installed: $(VENV)/.installed requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(UV) pip install -q --python $(SAM_VENV)/bin/python -r requirements-sam.txt
	$(SAM) --version
	@touch $@

install: $(VENV)/.installed $(SAM_VENV)/.installed .chromium

template: $(VENV)/.installed
	$(BIN)/python -m devtools.gen_template

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m devtools.gen_template --check
	$(BIN)/python -m devtools.gen_deploy_doc --check
	$(BIN)/cfn-lint template.yaml
	$(SAM) validate --lint -t template.yaml

test: lint .chromium
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_PARALLEL)

unit: $(VENV)/.installed
	$(BIN)/pytest -q $(PYTEST_PARALLEL) tests/unit

integration: $(VENV)/.installed .chromium
	$(BIN)/pytest -q $(PYTEST_PARALLEL) tests/integration

demo: $(VENV)/.installed
	$(BIN)/contribsync demo $(if $(KEEP),--keep) $(if $(VERBOSE),--verbose)

dev: $(VENV)/.installed
	$(BIN)/contribsync dev

# The benchmarks (about 75 minutes, most of it the peer tools at 150 ms per REST request): each writes
# bench/results/<scenario>.json; the last step gathers them into bench/results.json and bench/RESULTS.md.
# The fleet (issue 25): 1,000 repositories over 10 App installations, backfilled, then a simulated week of
# changes on a scaled clock, about 4 real hours at its defaults (FLEET_ARGS: e.g. --repositories 100
# --owners 3 --days 1 --factor 120); writes bench/results/fleet.json and its section of bench/RESULTS.md.
fleet: $(VENV)/.installed
	$(BIN)/python -m devtools.fleet $(FLEET_ARGS)
	$(BIN)/python -m devtools.bench_report

bench: $(VENV)/.installed
	$(BIN)/python -m devtools.bench
	$(BIN)/python -m devtools.bench_webhooks
	$(BIN)/python -m devtools.bench_workspaces
	$(BIN)/python -m devtools.bench_embeddings
	$(BIN)/python -m devtools.bench_imports
	$(BIN)/python -m devtools.bench_peers
	$(BIN)/python -m devtools.bench_report

# The chaos suite at full size (5 repositories of 2,000 PRs, 1,000 changes, every fault at once):
# figures in bench/results/chaos.json; a reduced run is part of `make test` (tests/integration/test_chaos.py).
# Then the webhook convergence test at its full size (500 changes, each delivered three times; `make test`
# runs 150).
.PHONY: chaos
chaos: $(VENV)/.installed
	$(BIN)/python -m devtools.chaos
	CONTRIBSYNC_TEST_SIZE=full $(BIN)/pytest -q -p no:cacheprovider --timeout 1800 \
		tests/integration/test_webhook_convergence.py

clean:
	-$(BIN)/python -c "from contribsync_local import postgres; postgres.stop()" 2>/dev/null
	rm -rf $(VENV) $(SAM_VENV) .local .python .chromium .aws-sam
