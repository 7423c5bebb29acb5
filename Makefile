# Two commands on a fresh machine: `make run` and `make test`. DATABASE_URL=postgres://… switches
# both to PostgreSQL; without it they use the embedded SQLite file db.sqlite3.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install run test lint format reset bench bench-refunds

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo
	$(PY) manage.py setup_schedules
	PY=$(PY) scripts/run_dev.sh

# The browser tests never skip: Chromium is installed here when it can be, or make test stops with
# the command to run (scripts/ensure_chromium.sh).
test: install
	scripts/ensure_chromium.sh
	$(VENV)/bin/pytest -n auto

# ruff, and import-linter's layer contracts (pyproject.toml, [tool.importlinter]).
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Start again from an empty SQLite database (the demo's "escalates in two minutes" case included).
reset:
	rm -f db.sqlite3 db.sqlite3-wal db.sqlite3-shm

# The benchmark at a platform's scale (README, "Benchmark"): generates the dataset if missing,
# drives gunicorn with wrk, times the deadline sweep, writes bench/results/latest.md.
# DATABASE_URL=postgres://…/bench for PostgreSQL (a database of its own); BENCH_SCALE=0.05 for a quick run.
bench: install
	$(PY) bench/run.py

# Only the sweep's refund row (bench/refund_rate.py), on the dataset make bench generated.
bench-refunds: install
	$(PY) -m bench.refund_rate
