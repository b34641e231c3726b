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
# e2e files about the API's edge and the web page, not the MCP server: the official-server pass skips them
NOT_MCP_E2E = --ignore=tests/e2e/test_edge_sessions.py --ignore=tests/e2e/test_edge_uploads.py \
	--ignore=tests/e2e/test_api_errors.py --ignore=tests/e2e/test_web_page.py
UP_FLAGS = $(if $(filter 1 yes true,$(DETACH)),--detach) $(if $(COMPONENTS),--components $(COMPONENTS))

.PHONY: help install install-test system-packages up down status lint test test-one bench clean distclean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'
	@echo "  variables: DETACH=1 (up in background), COMPONENTS=infra,mcp (subset), PYTEST_ARGS=..., *_PORT=..."

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

up: install ## run the stack (Ctrl-C stops it; DETACH=1 in the background; COPIES=2 doubles each service)
	$(if $(COPIES),DEVSTACK_COPIES=$(COPIES)) $(PY) -m devstack up $(UP_FLAGS)

down: ## stop a stack started with DETACH=1 (or left behind)
	$(PY_ANY) -m devstack down

status: ## show what runs
	$(PY_ANY) -m devstack status

lint: install-test ## ruff (lint and format) over the whole tree, then mypy (its file list: pyproject.toml)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: install-test lint ## lint, then the whole suite (our MCP server), then the e2e suite against the official docling-mcp
	$(PY) -m pytest $(PYTEST_ARGS)
	TEST_MCP_SERVER=official $(PY) -m pytest tests/e2e $(NOT_MCP_E2E) $(PYTEST_ARGS)

test-one: install-test ## one pytest run: PYTEST_ARGS="-m unit", TEST_MCP_SERVER=official, ...
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install ## pipeline vs direct MCP benchmark
	$(PY) bench/pipeline_vs_direct.py

clean: ## remove the state dir (.stack, or DOCLING_JOBS_HOME); refuses while a stack runs
	$(PY_ANY) -m devstack clean

distclean: clean ## clean, and remove both virtual environments
	rm -rf $(VENV) $(VENV_MCP) $(STAMPS)

$(STAMPS)/python: | $(STAMPS)
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "need Python 3.11, got " + sys.version)'
	touch $@

$(STAMPS)/venv: requirements/services.txt $(wildcard pyproject.toml) | $(STAMPS)/python
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip 2>&1 | $(PIP_QUIET)
	$(PY) -m pip install -q -r requirements/services.txt 2>&1 | $(PIP_QUIET)
	if [ -f pyproject.toml ]; then $(PY) -m pip install -q -e . --no-deps 2>&1 | $(PIP_QUIET); fi
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
