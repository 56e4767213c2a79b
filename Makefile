# `make run` and `make test` are the two commands a newcomer needs; see README.md.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run install node dev test lint format worker beat bench migrate clean

# These targets are for a developer's machine and CI: development defaults. Anything else
# runs as production unless DJANGO_ENV=development is set (fabrknt/settings.py).
run migrate test lint worker beat bench: export DJANGO_ENV = development
# The development server's address: the settings' development defaults (allowed hosts,
# trusted origins, sign-in domains) follow it, so `make run PORT=8001` works as it is.
run: export DEV_SERVER_HOST = $(HOST)
run: export DEV_SERVER_PORT = $(PORT)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PIP) install -q -r requirements.txt
	touch $@

# deploy/aws's CDK app (about 460 MB) comes with the development tools: the suite
# synthesizes it (deploy/aws/tests).
$(VENV)/.dev-installed: requirements.txt requirements-dev.txt deploy/aws/requirements.txt $(VENV)/.installed
	$(PIP) install -q -r requirements-dev.txt -r deploy/aws/requirements.txt
	touch $@

install: $(VENV)/.installed

# The npm packages of package-lock.json: solc and OpenZeppelin (contracts/build.js), ganache
# (the development chain of `make run`). Without npm, `make run` serves without a chain and
# the artifact test is skipped.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: no development chain, contract artifacts not rechecked"; fi

node: node_modules/.installed

dev: $(VENV)/.dev-installed

migrate: install
	$(PY) manage.py migrate --noinput

# Without CHAIN_RPC_URLS, a development chain (ganache, chain id 1337, 127.0.0.1:8546) runs
# beside the server with our contracts deployed on it, and stops with it
# (fabrknt/chain/devchain.py); with CHAIN_RPC_URLS set, nothing is started.
run: migrate node
	mkdir -p staticfiles
	$(PY) -m fabrknt.chain.devchain -- \
		sh -c '$(PY) manage.py seed_demo && exec $(PY) manage.py runserver $(HOST):$(PORT)'

# The slowest tests are listed at the end: where the suite's time goes.
test: dev node
	$(PY) -m pytest --durations=30 --durations-min=5

# mypy's Django plugin loads the settings, hence DJANGO_ENV above.
lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

worker: install
	$(VENV)/bin/celery -A fabrknt worker --loglevel=INFO --concurrency=2

beat: migrate
	$(VENV)/bin/celery -A fabrknt beat --loglevel=INFO

# Printed figures, not tests. Needs PostgreSQL and Redis on 127.0.0.1, and wrk.
bench: dev
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) bench/aggregate.py
	$(PY) bench/clicks.py
	$(PY) bench/indexer.py
	$(PY) bench/reads.py
	$(PY) bench/scores.py
	$(PIP) install -q -r requirements-bench.txt
	$(PY) bench/load.py
	$(PY) bench/soak.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .mypy_cache
