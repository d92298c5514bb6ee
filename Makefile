# Circle: the two commands a person needs are `make run` and `make test`.
#
#   make run    install everything, upgrade the database, seed the demo and serve
#               the site with gunicorn on http://127.0.0.1:5000, with a job-queue worker
#   make test   lint, the test suite on SQLite (and on PostgreSQL when
#               TEST_DATABASE_URL is set), then the browser tests in Chromium
#   make lint   ruff only
#   make clean  remove .venv, node_modules and static/vendor
#   make bench  import a generated WordPress export into a bench database and measure
#               the reader pages under gunicorn with wrk, beside bare Flask and nginx
#               (BENCH_ARGS="--posts 100000" or "--engine postgres")
#   make bench-import  time import-wxr of a generated 10,000-post export, then again, and
#               its peak memory (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)

PYTHON   ?= python3
VENV     := .venv
BIN      := $(VENV)/bin
CHROMIUM := /usr/bin/chromium
DESK     := static/vendor/desk

.DEFAULT_GOAL := help
.PHONY: help venv node run test lint clean check-chromium check-varnish bench bench-import

help:
	@echo "make run    install, upgrade the database, seed the demo, serve on http://127.0.0.1:5000"
	@echo "make test   ruff, the tests on SQLite (and PostgreSQL if TEST_DATABASE_URL is set), browser tests"
	@echo "make lint   ruff only"
	@echo "make clean  remove .venv, node_modules and static/vendor"
	@echo "make bench  import 10,000 generated WordPress posts, measure the reader pages with wrk (BENCH_ARGS=...)"
	@echo "make bench-import  time import-wxr of 10,000 generated posts, again, and its peak memory"

# --- Python --------------------------------------------------------------------
# The stamp is newer than both requirements files once they are installed, so
# pip runs again only when one of them changes.
venv: $(VENV)/.installed

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

# --- Node: the writing desk's editor, axe-core, the Nu HTML checker, Lighthouse -
# --ignore-scripts: vnu-jar's install script would download a Java runtime;
# the system `java` is used instead. Lighthouse drives Debian's Chromium
# (CHROME_PATH); package.json pins the two "latest" data packages of its trace
# engine (overrides), so a new release of them cannot put the lock out of date.
# esbuild bundles the editor's sources (static/src/editor/, Tiptap from
# node_modules) into static/vendor/desk/ (git-ignored): editor.js and the
# editor.css it imports.
node: node_modules/.installed $(DESK)/editor.js

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

$(DESK)/editor.js: node_modules/.installed $(wildcard static/src/editor/*)
	npm run --silent build:editor

# --- Serve ---------------------------------------------------------------------
# One job-queue worker runs beside gunicorn (mail, newsletters, webhooks, publish-due);
# Ctrl+C stops both.
run: venv node
	FLASK_APP=wsgi $(BIN)/flask db upgrade
	FLASK_APP=wsgi $(BIN)/flask seed-demo
	@trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	FLASK_APP=wsgi $(BIN)/flask worker & worker=$$!; \
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# --- Checks --------------------------------------------------------------------
lint: venv
	$(BIN)/ruff check .

check-chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		echo "Chromium is missing: sudo apt-get install -y chromium" >&2; \
		exit 1; \
	fi

# tests/test_varnish.py runs varnishd with deploy/varnish/circle.vcl (xkey from varnish-modules).
check-varnish:
	@if ! command -v varnishd >/dev/null 2>&1 && [ ! -x /usr/sbin/varnishd ]; then \
		echo "Varnish is missing: sudo apt-get install -y varnish varnish-modules" >&2; \
		exit 1; \
	fi

# Each step stops the run when it fails. The first pytest run ignores
# TEST_DATABASE_URL and REDIS_URL (SQLite, in-memory cache and limits); the
# second uses both as given; the browser tests use the environment as given.
# Both pytest runs include tests/test_api_schema.py: schemathesis calls every
# operation of /api/v1/openapi.json in process and fails the run on any failure.
test: check-chromium check-varnish venv node
	@echo "==> ruff check ."
	$(BIN)/ruff check --output-format=concise .
	@echo "==> pytest on SQLite"
	env -u TEST_DATABASE_URL -u REDIS_URL $(BIN)/pytest tests --ignore=tests/browser
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "==> pytest on PostgreSQL (TEST_DATABASE_URL is set)"; \
		echo "$(BIN)/pytest tests --ignore=tests/browser"; \
		$(BIN)/pytest tests --ignore=tests/browser || exit $$?; \
	else \
		echo "==> TEST_DATABASE_URL is not set: skipping the PostgreSQL run"; \
	fi
	@echo "==> browser tests in headless Chromium"
	$(BIN)/pytest tests/browser

clean:
	rm -rf $(VENV) node_modules static/vendor

# --- Benchmark -----------------------------------------------------------------
# Writes a WordPress export and imports it into bench/data/ (git-ignored) on first use,
# serves the app with gunicorn.conf.py and drives it with wrk; writes
# bench/results/<date>-<n>posts-<engine>.md.
#   make bench BENCH_ARGS="--posts 100000"     100,000 posts on SQLite
#   make bench BENCH_ARGS="--engine postgres"  PostgreSQL + Redis on 127.0.0.1
BENCH_ARGS ?=

bench: venv node
	@{ command -v wrk && { command -v nginx || test -x /usr/sbin/nginx; }; } >/dev/null 2>&1 || { \
		echo "==> installing wrk and nginx"; \
		if [ "$$(id -u)" -eq 0 ]; then SUDO=; else SUDO="sudo -n"; fi; \
		$$SUDO apt-get update -q && \
		$$SUDO apt-get install -y -q --no-install-recommends wrk nginx </dev/null; \
	}
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Times flask import-wxr of the generated export (first run and re-import) and its peak
# memory on a fresh SQLite database, and on PostgreSQL too when TEST_DATABASE_URL is set
# (a database of its own there); writes bench/results/<date>-<n>posts-import.md.
#   make bench-import BENCH_ARGS="--posts 1000"
bench-import: venv
	$(BIN)/python bench/import_speed.py $(BENCH_ARGS)
