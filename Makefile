# Kompanion: `make run` serves the site with demo data; `make test` runs the whole suite.
# Needs only Python 3.11+ and make: dependencies come from uv.lock into .venv.

PYTHON_BOOTSTRAP ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
HOST ?= 127.0.0.1
PORT ?= 8000
# runserver, migrate and the seed all see them: dev settings build SITE_URL (links in emails and WhatsApp,
# the sites row allauth greets from) from HOST and PORT.
export HOST PORT

.DEFAULT_GOAL := help
.PHONY: help install run serve migrate translations seed test lint format css totp clean bench

help:
	@echo "make run     set up everything and serve http://$(HOST):$(PORT)/ with demo data"
	@echo "make test    lint + the whole test suite (DATABASE_URL/REDIS_URL used when set)"
	@echo "make bench   seed 20,000 companions into kompanion_bench (PostgreSQL); time the trivial page, search, profile"
	@echo "             and slot picker (cache off, then warm; BENCH_ARGS='--runs 3'), a summary of ratios to the trivial"
	@echo "             page at the end; then bookings, Midtrans notifications and WhatsApp deliveries (checked);"
	@echo "             analytics: two years (1M bookings, 10M views), the nightly rollup, its full recompute, the dashboard"
	@echo "make soak    locust for 120 s with 30 users (browse, request, accept, pay, chat) against gunicorn + a Celery worker"
	@echo "             on kompanion_soak; prints req/s, p50/p95, errors; checks ledger and overlaps (SOAK_ARGS='--users 50')"
	@echo "make css     rebuild static/css/app.css with Tailwind (needs npm)"
	@echo "make totp    print the demo admin's current two-factor code"
	@echo "make format  ruff format + fix"

$(UV):
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Re-sync only when the lock changes.
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	UV_PROJECT_ENVIRONMENT=$(VENV) $(UV) sync --frozen --inexact --quiet
	@touch $@

install: $(VENV)/.synced

migrate: install
	$(PY) manage.py migrate --noinput

translations: install
	$(PY) manage.py compiletranslations

seed: migrate
	$(PY) manage.py seed_demo

run: install translations migrate seed serve

serve:
	$(PY) manage.py runserver $(HOST):$(PORT)

# ruff, then the import contracts in pyproject.toml ([tool.importlinter]): the layering, no circles.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

test: install translations lint
	$(VENV)/bin/pytest

# Measures, never asserts: prints server-side p50/p95, requests per second and queries per request.
# Any options of tests/bench/run.py, e.g. make bench BENCH_ARGS="--scenarios trivial,search,profile,slots,terms_in --runs 3"
bench: install translations
	$(PY) -m tests.bench.run $(BENCH_ARGS)

# Load and soak (issue 19): tests/soak/run.py; fails on a broken run, a failed check or over 5% errors.
# SOAK_ARGS="--capacity" measures one web process on the browse mix instead.
.PHONY: soak
soak: install translations
	$(PY) -m tests.soak.run $(SOAK_ARGS)

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

css:
	npm ci --no-audit --no-fund
	npm run build:css

totp: install
	@$(PY) manage.py demo_totp

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm media staticfiles .pytest_cache .ruff_cache .import_linter_cache
