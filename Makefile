# Entry points everyone uses. `make run` and `make test` work on a fresh machine: each builds the
# environment it needs first.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
# The Dagster instance (runs, materializations); one per deployment: set it beside your data.
export DAGSTER_HOME ?= $(CURDIR)/.dagster
# The deployment (docs/configuration.md): the demo's unless you name your own.
export CLIENTELE_CONFIG ?= $(CURDIR)/sources/demo/clientele.yml
DEMO_CUSTOMERS ?= 5000
DEMO_SEED ?= 7

.PHONY: run test ui lint typecheck manifest demo-data import pipeline clean env browser

env: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	@echo "==> creating $(VENV) and installing pinned dependencies"
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

$(DAGSTER_HOME)/dagster.yaml: orchestration/dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp orchestration/dagster.yaml $@

# dbt's manifest is built here, at build time, so code-location loads never parse the project (parsing
# opens no warehouse, but the profile names one).
manifest: env
	cd dbt_project && CLIENTELE_WAREHOUSE_PATH=$${CLIENTELE_WAREHOUSE_PATH:-parse-only.duckdb} \
		../$(BIN)/dbt parse --quiet --profiles-dir . --project-dir .

# With CLIENTELE_SHOP_DATABASE_URL set, the demo's sales also go into that PostgreSQL database (schema
# `shop`, replaced) and the pipeline extracts them from there instead of from the landing files.
demo-data: env
	$(BIN)/python -m sources.demo --customers $(DEMO_CUSTOMERS) --seed $(DEMO_SEED)
	@if [ -n "$$CLIENTELE_SHOP_DATABASE_URL" ]; then \
		$(BIN)/python -m sources.demo.shop_database --url "$$CLIENTELE_SHOP_DATABASE_URL"; \
	fi

# Your own flat transactions file into the landing folder, as the configuration maps it:
#   CLIENTELE_CONFIG=docs/examples/cdnow.yml make import FILE=../shared/data/CDNOW_sample.txt
import: env
	@test -n "$(FILE)" || { echo "usage: make import FILE=<transactions file> (columns mapped in CLIENTELE_CONFIG)"; exit 2; }
	$(BIN)/python -m sources.transactions $(FILE)

pipeline: env manifest $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/python -m orchestration.run_all

run: demo-data pipeline

ui: env manifest $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

lint: env
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: env
	$(BIN)/mypy ml orchestration sources expectations

# Debian's Chromium for the UI's browser test (tests/orchestration/test_ui_browser.py), never a downloaded one.
browser:
	@command -v chromium >/dev/null || { echo "==> installing Debian's chromium for the browser test"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		chromium >/dev/null; }

test: env manifest browser lint typecheck
	$(BIN)/pytest -q -n 2 --dist loadfile  # two workers, each test file on one: most of the time is waiting on servers and subprocesses

clean:
	rm -rf $(VENV) .dagster data dbt_project/target dbt_project/logs
