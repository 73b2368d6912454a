# tutordesk — build and run plumbing. Needs only Python 3.11+ and GNU make:
# uv is installed into .tools/ and the locked workspace into .venv/.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON      ?= python3
UV_VERSION  ?= 0.13.9
PYTEST_ARGS ?=
COMPOSE     ?= docker compose
UP_ARGS     ?=

TOOLS := .tools
VENV  := .venv
UV    := $(TOOLS)/bin/uv
VPY   := $(VENV)/bin/python

# Everything that decides what goes into .venv: a change to any of these re-syncs it.
LOCK_INPUTS := uv.lock pyproject.toml $(wildcard */pyproject.toml services/*/pyproject.toml)
UV_STAMP    := $(TOOLS)/.uv-$(UV_VERSION)
SYNC_STAMP  := $(VENV)/.synced

# Defaults for running one service as an operator does (only where not already set).
LOCAL_RABBITMQ_URL := amqp://guest:guest@127.0.0.1:5672/
LOCAL_DATABASE_URL := postgresql+psycopg://postgres@127.0.0.1:5432/tutordesk

SERVICES := gateway conversation payments notifier

.PHONY: help install run run-gateway run-conversation run-payments run-notifier run-sandbox \
        db test lint format up down bench clean

help: ## list the targets
	@echo "Usage: make <target>"
	@echo
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN {FS = ":.*## "} {printf "  %-18s %s\n", $$1, $$2}'
	@echo
	@echo "Variables: PYTHON=$(PYTHON) PYTEST_ARGS='$(PYTEST_ARGS)' PORT, RABBITMQ_URL, DATABASE_URL"

# --- bootstrap -----------------------------------------------------------------------

$(UV_STAMP):
	@echo ">>> installing uv $(UV_VERSION) into $(TOOLS)/"
	rm -rf $(TOOLS)
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	@touch $@

$(SYNC_STAMP): $(LOCK_INPUTS) $(UV_STAMP)
	@echo ">>> syncing the locked workspace into $(VENV)/"
	UV_PROJECT_ENVIRONMENT=$(VENV) UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen \
		--python "$$($(PYTHON) -c 'import sys; print(sys.executable)')"
	@touch $@

install: $(SYNC_STAMP) ## install uv (.tools/) and the locked workspace with dev tools (.venv/)
	@:

# --- run -----------------------------------------------------------------------------

# Creates the database(s) named by DATABASE_URL and the per-service overrides if missing,
# connecting to the server's `postgres` database. Non-PostgreSQL URLs are left alone.
define CREATE_DB_PY
import os, sys
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

names = ("DATABASE_URL", "CONVERSATION_DATABASE_URL", "PAYMENTS_DATABASE_URL", "NOTIFIER_DATABASE_URL")
for name in names:
    raw = os.environ.get(name)
    if not raw:
        continue
    url = make_url(raw)
    if not url.drivername.startswith("postgresql") or not url.database:
        continue
    where = f"{url.host or '127.0.0.1'}:{url.port or 5432}"
    admin = create_engine(
        url.set(drivername="postgresql+psycopg", database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            found = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
            ).scalar()
            if found is None:
                quoted = url.database.replace('"', '""')
                conn.execute(text(f'CREATE DATABASE "{quoted}"'))
                print(f"created database {url.database} on {where}")
    except Exception as exc:
        sys.exit(f"{name}: cannot create database {url.database!r} on PostgreSQL at {where}: {exc}")
    finally:
        admin.dispose()
endef
export CREATE_DB_PY

# `make run` must stay embedded when nothing is configured: no broker/database defaults here.
run: install ## start everything (embedded unless RABBITMQ_URL and DATABASE_URL are set)
	@if [ -n "$$RABBITMQ_URL" ] && [ -n "$$DATABASE_URL" ]; then $(VPY) -c "$$CREATE_DB_PY"; fi
	$(VPY) -m stack

db run-gateway run-conversation run-payments run-notifier: export RABBITMQ_URL ?= $(LOCAL_RABBITMQ_URL)
db run-gateway run-conversation run-payments run-notifier: export DATABASE_URL ?= $(LOCAL_DATABASE_URL)

db: install ## create the PostgreSQL database of DATABASE_URL if it is missing
	@$(VPY) -c "$$CREATE_DB_PY"

run-gateway: db ## start the gateway (port 8000) against RABBITMQ_URL and DATABASE_URL
	$(VPY) -m gateway

run-conversation: db ## start a conversation replica (port 8001; PORT=... for more)
	$(VPY) -m conversation

run-payments: db ## start a payments replica (port 8002; PORT=... for more)
	$(VPY) -m payments

run-notifier: db ## start a notifier replica (port 8003; PORT=... for more)
	$(VPY) -m notifier

run-sandbox: install ## start the provider sandbox and chat page (port 8010)
	$(VPY) -m sandbox

# --- checks --------------------------------------------------------------------------

test: install ## run the test suite (PYTEST_ARGS="..." to narrow it)
	@rc=0; $(VENV)/bin/pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then \
		echo "make test: FAILED - pytest collected no tests (exit 5)" >&2; \
	fi; \
	exit $$rc

lint: install ## ruff check, ruff format --check, mypy on shared/src
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy shared/src

format: install ## sort imports and format with ruff
	$(VENV)/bin/ruff check --select I --fix .
	$(VENV)/bin/ruff format .

bench: export PYTHONPATH := tools$(if $(PYTHONPATH),:$(PYTHONPATH))
bench: install ## run the benchmark (python -m bench, in tools/bench): ~3 min, loads the machine
	@if $(VPY) -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('bench') is None)" 2>/dev/null; then \
		$(VPY) -m bench; \
	else \
		echo "bench: not yet"; \
	fi

# --- containers ----------------------------------------------------------------------

up: ## docker compose up --build of the full stack (UP_ARGS="-d" etc.)
	$(COMPOSE) up --build $(UP_ARGS)

down: ## docker compose down
	$(COMPOSE) down

# --- housekeeping --------------------------------------------------------------------

clean: ## remove .venv .tools var and caches
	rm -rf $(VENV) $(TOOLS) var .pytest_cache .mypy_cache .ruff_cache
