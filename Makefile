# The two commands: `make run` (set up and serve on SQLite) and `make test` (set up and test).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
TOKEN_PORT ?= 8001
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed-stamp

.PHONY: run serve test bench install keys lint format clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## The token-signing key pair, where TOKEN_SIGNING_KEY_FILE/_CERT_FILE say (default var/).
keys: install
	@DEBUG=true $(PY) manage.py token_keys --if-missing

.env:
	printf '# Written by make run for local development (git-ignored); delete it to start over.\nDEBUG=true\n' > .env

var/secret_key:
	mkdir -p var
	$(PY) -c "import secrets; print(secrets.token_urlsafe(50))" > var/secret_key
	chmod 600 var/secret_key

## Development server on the embedded SQLite database, with demo data. Leaves a .env with
## DEBUG=true (if there is none) so that manage.py commands work the same way afterwards.
run: export DEBUG ?= true
## Ends with the demo accounts and the URL, just above the server's own output.
run: install .env keys
	@$(PY) manage.py migrate --no-input -v 0
	@$(PY) manage.py seed_demo
	@echo "Open http://$(HOST):$(PORT)/ and sign in (token service: http://$(HOST):$(PORT)/auth/token)"
	@$(PY) manage.py runserver $(HOST):$(PORT)

## The same app under gunicorn with production settings (DEBUG off), as two pools
## (gunicorn.conf.py): the pages and API on PORT (WEB_CONCURRENCY workers) and the registry's
## token service on TOKEN_PORT (TOKEN_WORKERS workers); deploy/nginx routes /auth/token to the
## second. Ctrl-C stops both. No demo accounts unless SEED_DEMO=1: their passwords are public.
serve: export DEBUG := false
serve: install keys var/secret_key
	export SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret_key)}"; \
	$(PY) manage.py collectstatic --no-input -v 0 && \
	$(PY) manage.py migrate --no-input && \
	if [ "$${SEED_DEMO:-}" = "1" ]; then $(PY) manage.py seed_demo; fi && \
	export HOST=$(HOST) PORT=$(PORT) TOKEN_PORT=$(TOKEN_PORT) && \
	{ PORTAL_POOL=token $(VENV)/bin/gunicorn -c gunicorn.conf.py portal.wsgi:application & } && \
	token_pool=$$! && trap 'kill $$token_pool 2>/dev/null; wait $$token_pool' EXIT && \
	echo "Pages and API: http://$(HOST):$(PORT)/  token service: http://$(HOST):$(TOKEN_PORT)/auth/token" && \
	PORTAL_POOL=web $(VENV)/bin/gunicorn -c gunicorn.conf.py portal.wsgi:application

## The whole test suite (SQLite locally; PostgreSQL when DATABASE_URL says so, as in CI).
test: export DEBUG := false
test: export SECRET_KEY ?= $(shell python3 -c "import secrets; print(secrets.token_urlsafe(50))")
test: install
	$(PY) -m pytest

## /healthz and /auth/token side by side under `make serve`'s gunicorn on PostgreSQL, loaded by
## wrk (apt-get install wrk). Knobs: see bench/run.py; quick: BENCH_ROUNDS=1 BENCH_ROUND_SECONDS=2
bench: install
	$(PY) bench/run.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) staticfiles db.sqlite3 .pytest_cache
