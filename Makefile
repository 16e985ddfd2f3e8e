# Lotsa: `make run` (demo server on http://localhost:8501) and `make test` (the whole suite).
# Everything runs inside .venv, created on first use with python3.11 (else python3) and
# reinstalled only when requirements*.txt change (stamp files in .venv/).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check --no-input
PORT ?= 8501
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help run dev test test-pg test-browser test-fast lint format-check bench clean run-replicas bench-load

help:
	@echo "make run           demo mode: migrate, seed the demo region, serve http://localhost:$(PORT)"
	@echo "make dev           like run, with full error details in the browser (LOTSA_ENV=development)"
	@echo "make test          the whole suite (Postgres and browser suites skip plainly when missing)"
	@echo "make test-pg       only the Postgres tests; an unreachable Postgres fails"
	@echo "make test-browser  only the browser tests (tests/e2e); a missing Chromium fails"
	@echo "make test-fast     everything except the browser tests"
	@echo "make lint          ruff check"
	@echo "make run-replicas  demo mode on Postgres: REPLICAS=2 Streamlit replicas behind HAProxy on http://localhost:$(PORT)"
	@echo "make bench         benchmarks in bench/"
	@echo "make bench-load    load benchmark: 5/10/20 simulated users on 1 and 2 replicas (bench/bench_load.py)"
	@echo "make clean         remove .venv, caches and artifacts/ (keeps data/)"

$(PY):
	@test -n "$(PYTHON)" || { echo "Python 3.11 not found: install python3.11 (or set PYTHON=/path/to/python3.11)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); echo "Could not create $(VENV): on Debian/Ubuntu install python3.11-venv" >&2; exit 1; }

# Runtime only (make run); the dev stamp implies it.
$(VENV)/.stamp-run: requirements.txt | $(PY)
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.stamp-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install -r requirements-dev.txt
	touch $@ $(VENV)/.stamp-run

# Demo mode, on data/lotsa.db unless LOTSA_DB_URL says otherwise. `demo` seeds only an empty
# database, so running this again keeps what you changed.
run: export LOTSA_DEMO := 1
run: $(VENV)/.stamp-run
	@mkdir -p data  # the default SQLite file lives here; a fresh clone has no data/ yet
	$(PY) manage.py migrate
	$(PY) manage.py demo
	$(PY) -m streamlit run serve.py --server.port $(PORT) --server.headless true

# Demo mode as `run`, but REPLICAS Streamlit processes on one Postgres (REPLICA_DB_URL, created if
# missing) behind HAProxy with sticky sessions on PORT (deploy/replicas.py). Installs Debian's
# haproxy when it is missing (apt-get; root or sudo), as .ci/run does for chromium.
REPLICAS ?= 2
REPLICA_DB_URL ?= postgresql://postgres@127.0.0.1:5432/lotsa_replicas
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
run-replicas: export LOTSA_DEMO := 1
run-replicas: export LOTSA_DB_URL := $(REPLICA_DB_URL)
run-replicas: $(VENV)/.stamp-run
	@command -v haproxy >/dev/null 2>&1 || test -x /usr/sbin/haproxy || $(SUDO) apt-get install -y --no-install-recommends haproxy || { $(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends haproxy; }
	$(PY) -m deploy.replicas --create-db
	$(PY) manage.py migrate
	$(PY) manage.py demo
	$(PY) -m deploy.replicas --replicas $(REPLICAS) --port $(PORT)

# As run, but uncaught exceptions show type, message and traceback in the browser
# (.streamlit/config.toml hides them; STREAMLIT_* variables override the file).
dev: export LOTSA_ENV := development
dev: export STREAMLIT_CLIENT_SHOW_ERROR_DETAILS := full
dev: run

# Two pytest-xdist workers, a test file each at a time (`--dist loadfile`: a file's fixtures and its
# browser server stay in one process). The suite waits on databases, servers and browsers as much as
# it computes: on a 2-core machine two workers took the non-browser tests from about 12-19 to 7 min
# and the browser tests from 10-13 to 6 min (Dec 2026). TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2
XDIST := $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)
test: $(VENV)/.stamp-dev
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

test-pg: export LOTSA_REQUIRE_PG := 1
test-pg: $(VENV)/.stamp-dev
	$(PY) -m pytest $(XDIST) -m pg $(PYTEST_ARGS)

test-browser: export LOTSA_REQUIRE_BROWSER := 1
test-browser: $(VENV)/.stamp-dev
	$(PY) -m pytest $(XDIST) tests/e2e $(PYTEST_ARGS)

test-fast: $(VENV)/.stamp-dev
	$(PY) -m pytest $(XDIST) -m "not browser" $(PYTEST_ARGS)

lint: $(VENV)/.stamp-dev
	$(PY) -m ruff check .

# Not part of lint yet: reports files ruff would reformat, changes nothing.
format-check: $(VENV)/.stamp-dev
	$(PY) -m ruff format --check .

bench: $(VENV)/.stamp-dev
	@set -e; for f in bench/bench_*.py; do \
		m=$$(basename $$f .py); [ $$m = bench_load ] && continue; echo "== bench.$$m"; $(PY) -m bench.$$m; \
	done

# CPU-heavy: starts replicas and simulated users on this machine (needs Postgres and haproxy).
bench-load: $(VENV)/.stamp-dev
	nice -n 10 $(PY) -m bench.bench_load

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis artifacts
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
