# Parley's two commands: `make run` serves the app, `make test` runs the whole suite.
# Both create .venv on first use and install into it; nothing else needs to be set up.

VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DEV_ENV := DJANGO_DEBUG=1 CHANNEL_LAYER_URL=memory://
# PostgreSQL for the second pass of the domain and transport tests (trust auth on this machine).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/parley

.PHONY: run test test-sqlite test-postgres chromium lint bench clean

$(INSTALLED): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(INSTALLED)

## Serve Parley on http://127.0.0.1:8000 with Daphne, SQLite and the in-memory channel layer.
run: $(INSTALLED)
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py setupdemo
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:8000

## Run the whole suite: everything on SQLite, then the domain and transport tests on PostgreSQL.
test: $(INSTALLED) chromium test-sqlite test-postgres lint

test-sqlite: $(INSTALLED)
	$(PY) -m pytest

test-postgres: $(INSTALLED)
	DATABASE_URL=$(TEST_POSTGRES_URL) $(PY) -m pytest tests/rooms tests/realtime -m "not e2e and not browser" -p no:cacheprovider

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(DEV_ENV) $(VENV)/bin/mypy parley config

## Benchmarks against the bare WebSocket server and the tutorial app in ../shared/tools (not part of test).
bench: $(INSTALLED)
	$(PY) -m bench.run $(BENCH_ARGS)

## Browser tests drive Debian's Chromium; install it when it is missing (needs root, as on CI).
chromium:
	@command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
