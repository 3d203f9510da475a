# Parley's two commands: `make run` serves the app, `make test` runs the whole suite.
# Both create .venv on first use and install into it; nothing else needs to be set up.
# While editing, `make test-fast` runs the in-process tests on SQLite in a few minutes.
#
# Time budget: `make test` stays under 20 minutes on the 2-core development machine. Tests never
# assert speed; soaks and load runs live in bench/ (`make bench`, `make bench-tests`,
# `python -m bench.soak`); fault tests use small, bounded loads; tests wait for a condition rather
# than a fixed time wherever something can be waited for.

VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
DEV_ENV := DJANGO_DEBUG=1 CHANNEL_LAYER_URL=memory://
# PostgreSQL for the second pass of the domain and transport tests (trust auth on this machine).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/parley
# What runs again on PostgreSQL: the tests of everything that reads or writes the domain's tables,
# in the test process against the database (locking, seq allocation, full-text search and
# constraints differ between engines). Tests marked e2e are left out: tests/e2e, tests/browser,
# tests/faults, and any test that starts a server process (conftest.py marks those); their servers
# have databases of their own (SQLite, or the PostgreSQL database the test itself creates, as the
# cross-process and fault tests do), so running them twice would test the same thing twice.
POSTGRES_TESTS := tests/rooms tests/realtime tests/notifications tests/api tests/security \
	tests/orders tests/tasks tests/webhooks tests/mentions tests/search tests/moderation tests/direct \
	tests/readstate tests/wire

.PHONY: run test test-fast test-sqlite test-postgres system-packages chromium axe-core lint bench bench-tests clean

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

## Run the whole suite: everything on SQLite, then the domain, transport and API tests on PostgreSQL.
test: $(INSTALLED) system-packages test-sqlite test-postgres lint

test-sqlite: $(INSTALLED) system-packages axe-core
	$(PY) -m pytest

## axe-core for the browser tests' accessibility checks (tests/browser/accessibility.py), from npm
## at the version package-lock.json pins, into tests/browser/axe/node_modules (not committed).
AXE_CORE := tests/browser/axe/node_modules/axe-core/axe.min.js

axe-core: $(AXE_CORE)

$(AXE_CORE): tests/browser/axe/package.json tests/browser/axe/package-lock.json
	npm ci --prefix tests/browser/axe --no-audit --no-fund
	touch $(AXE_CORE)

test-postgres: $(INSTALLED)
	DATABASE_URL=$(TEST_POSTGRES_URL) $(PY) -m pytest $(POSTGRES_TESTS) -m "not e2e and not browser" -p no:cacheprovider

## The edit-test loop: every test that runs in the test process, on SQLite, with no server process,
## browser or outside service started (no tests/e2e, tests/browser, tests/faults, tests/deploy,
## nor any test marked e2e elsewhere). Not a substitute for `make test` before a commit.
test-fast: $(INSTALLED)
	$(PY) -m pytest -m "not e2e and not browser" -p no:cacheprovider -q

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(DEV_ENV) PYTHONPATH=example $(VENV)/bin/mypy parley example/config example/orders
	cd clients/python && ../../$(VENV)/bin/mypy --config-file pyproject.toml

## Benchmarks against the bare WebSocket server and the tutorial app in ../shared/tools (not part of test).
bench: $(INSTALLED)
	$(PY) -m bench.run $(BENCH_ARGS)

## Load checks written as pytest tests (bench/test_*.py: the slow-reader flood and its latency
## target), too long and too load-bound for `make test`.
bench-tests: $(INSTALLED)
	$(PY) -m pytest bench -p no:cacheprovider

## The Debian packages the tests drive: Chromium (browser tests), nginx (deployment tests, in
## front of Daphne and Gunicorn), redis-server and redis-sentinel (the Sentinel failover test runs
## a master, a replica and three sentinels of its own), iproute2 (the partition test's network
## namespaces) and npm (installs axe-core and the JS client's test dependencies). Installed when
## missing (needs root, as on CI).
system-packages:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || missing="$$missing nginx"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v redis-sentinel >/dev/null 2>&1 || missing="$$missing redis-sentinel"; \
	command -v ip >/dev/null 2>&1 || test -x /usr/sbin/ip || missing="$$missing iproute2"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	test -z "$$missing" || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing)

chromium: system-packages

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

## The JavaScript client (clients/js, npm package parley-client): its tests against real servers
## started with this checkout's Python, and its package (`npm pack`, into $TMPDIR).
.PHONY: test-js
test-js: $(INSTALLED)
	cd clients/js && (test -d node_modules || npm ci --no-audit --no-fund) && \
		PARLEY_PYTHON=$(abspath $(PY)) npm test && npm pack --pack-destination $${TMPDIR:-/tmp}
