# Channel Hub: every entry point a person or CI needs. The first target installs on demand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
UV_VERSION := 0.13.9

.PHONY: install demo demo-tryton up down reset test test-fast lint bench bench-airflow bench-waits bench-parse bench-erp bench-api bench-sync bench-console lock clean

# Bytecode compiled at install: where PYTHONDONTWRITEBYTECODE is set (as on the reference machine and
# many images) every Airflow process and every task process would otherwise compile each module it
# imports from source, a third of a task's start-up (make bench-airflow).
$(STAMP): requirements.txt requirements-dev.txt constraints.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-dev.txt -c constraints.txt
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q include plugins dags
	touch $(STAMP)

install: $(STAMP)

demo: install  ## the main job on embedded defaults
	$(BIN)/python -m channelhub_dev.demo

demo-tryton: install  ## documents from the ledger into a real Tryton ERP through the channel-job DAGs
	$(BIN)/python -m channelhub_dev.demo_tryton

up: install  ## the full local Airflow (UI, scheduler, dag-processor, triggerer) with SFTP/SMTP and the shipped clients' partners (ERP, Tryton, shop), in the background
	$(BIN)/python -m channelhub_dev.up up

down:  ## stops everything make up started
	@if [ -x $(BIN)/python ]; then $(BIN)/python -m channelhub_dev.up down; else echo "Nothing to stop"; fi

# Two pytest workers: the end-to-end tests mostly wait on Airflow processes, so two of them side
# by side fit 2 cores. One test file goes to one worker (its module-scoped Airflow stack is
# started once), in the order given, so the two longest files start first (pytest skips the
# repeated paths when it collects tests/ after them).
PYTEST_WORKERS ?= 2
LONGEST_FIRST := tests/e2e/test_airflow_celery.py tests/e2e/test_airflow_local.py

reset: down  ## a clean start: make down, then forget make up's runs, connections, mail and SFTP files (keeps .venv)
	rm -rf .up .demo .demo-tryton

test: install  ## lint, then every test (real SFTP/SMTP servers, Airflow, PostgreSQL when it answers)
	$(BIN)/ruff check .
	$(BIN)/python -m channelhub.cli config check
	bash tests/system-packages.sh
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile --no-loadscope-reorder --durations=15 $(LONGEST_FIRST) tests

test-fast: install  ## the unit layer (tests/unit): logic only, no server, no Airflow process; seconds
	$(BIN)/pytest -q tests/unit

lint: install
	$(BIN)/ruff check .

bench: install  ## speed and memory figures, each a ratio against a baseline measured in the same run
	$(BIN)/python -m bench

bench-airflow: install  ## 50 tenant runs vs the orchestrator's floor and vs Celery, dag-processor parse of 1,000 projects
	$(BIN)/python -m bench.airflow_runs

bench-waits: install  ## 1,000 projects waiting for files in the triggerer: CPU per round of checks vs the sensor's own hook
	$(BIN)/python -m bench.waiting_files

bench-parse: install  ## 10,000 projects as the DAG bundle's parts: parse per file and in total vs the same DAGs in Python; a one-tenant change
	$(BIN)/python -m bench.dag_parts

bench-erp: install  ## 10,000 sales documents to a local ERP answering in 20 ms (vs the concurrency ceiling); sales into Tryton vs a direct client
	$(BIN)/python -m bench.erp_posting

bench-api: install  ## the push API: a verified partner's call vs its first (scrypt) call, and under a login flood
	$(BIN)/python -m bench.inbound_api

bench-console: install  ## the operations console at 1M deliveries and 1M activity rows on PostgreSQL: pages, retry, purge, recording cost
	$(BIN)/python -m bench.console

bench-sync: install  ## INVEX of 10,000 SKUs vs the shop rate-limit floor and into Oscar; order sync into Tryton (from both shops) customer sync of 2,000 each way vs a direct client; 1,000 products x 5 variants into Oscar
	$(BIN)/python -m bench.sync_flows
	$(BIN)/python -m bench.sync_oscar
	$(BIN)/python -m bench.sync_customers
	$(BIN)/python -m bench.sync_variants

lock: install
	$(BIN)/uv pip compile requirements-dev.txt -o constraints.txt --python-version 3.11 --no-header

clean:
	rm -rf $(VENV) .demo .demo-tryton .up .bench .pytest_cache
