# The two commands: `make run` (demo: dashboard + worker on SQLite and the seeded sandbox) and
# `make test` (the whole suite; uses DATABASE_URL when set). Everything else is set-up they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
PAYMENTS ?= 300
PYTEST_ARGS ?=

.PHONY: run test install browser migrate seed users-reset lint bench torture clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

.env: | $(BIN)/python
	$(BIN)/python scripts/write_env.py .env

migrate: install .env
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	SITE_URL=http://$(HOST):$(PORT) $(BIN)/python manage.py sandbox_seed --payments $(PAYMENTS) --seed 1 --if-empty

run: seed
	@$(BIN)/python manage.py demo_users
	@echo ""
	@echo "  Dashboard:  http://$(HOST):$(PORT)/   (log in with a user above; Ctrl-C stops web and worker)"
	@echo ""
	@# Once the server answers, demo_connect connects the sandbox Xero and Procore (client
	@# credentials) where not connected yet: the page opens ready to click Get All Payments.
	@# The worker runs in a process group of its own, so Ctrl-C reaches it once, from the trap, as
	@# the SIGINT django-q2 stops on (signalled twice while stopping, it stops in a loop of tracebacks).
	@export SITE_URL=http://$(HOST):$(PORT); \
	  export SANDBOX_XERO_WEBHOOK_URL=http://$(HOST):$(PORT)/webhooks/xero/; \
	  $(BIN)/python -c 'import os, sys; os.setpgid(0, 0); os.execv(sys.executable, [sys.executable, *sys.argv[1:]])' \
	    manage.py qcluster & worker=$$!; \
	  $(BIN)/python manage.py demo_connect --wait-for http://$(HOST):$(PORT) & connector=$$!; \
	  stop() { trap - EXIT; trap '' INT TERM HUP; kill $$connector 2>/dev/null; kill -INT $$worker 2>/dev/null; wait $$worker; }; \
	  trap 'stop; exit 0' INT TERM HUP; trap stop EXIT; \
	  $(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

users-reset: migrate
	$(BIN)/python manage.py demo_users --reset

# Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# Four test workers (pytest-xdist), each with its own test database; tests/conftest.py keeps the
# browser and torture tests on one of them. Four on two cores: most tests wait on HTTP to the
# sandbox and on PostgreSQL, not on the CPU. TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 4

test: install browser
	@$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; exit $$rc

lint: install
	$(BIN)/ruff check .

# Benchmarks: every figure printed with its target and written to bench/RESULTS.md by the scripts.
# They need the local PostgreSQL and make their own bench_* databases (see bench/README.md).
PG := postgres://postgres@127.0.0.1:5432
bench: install .env
	$(BIN)/python bench/report.py start "make bench"
	-dropdb -h 127.0.0.1 -U postgres --if-exists bench_seed; createdb -h 127.0.0.1 -U postgres bench_seed
	DATABASE_URL=$(PG)/bench_seed $(BIN)/python bench/seed_sandbox.py --payments 10000 100000
	$(BIN)/python bench/procore_pacing.py --spike-limit 25 --window 10 --seconds 60
	$(BIN)/python bench/sync_end_to_end.py --payments 10000 --paced-payments 300 --database bench_sync
	$(BIN)/python bench/index_scale.py --projects 500 --commitments 5000 --invoices 20000 --payments 1000 --database bench_index
	-dropdb -h 127.0.0.1 -U postgres --if-exists bench_dash; createdb -h 127.0.0.1 -U postgres bench_dash
	DATABASE_URL=$(PG)/bench_dash $(BIN)/python bench/dashboard_pages.py --sizes 10000 100000 --repeat 20
	$(BIN)/python bench/reconcile_export.py --sizes 10000 100000 --database bench_reconcile
	$(BIN)/python bench/list_exports.py --sizes 10000 100000 --database bench_list_exports
	$(BIN)/python bench/webhook_latency.py --samples 5 --burst 5 --database bench_webhooks
	@echo "Written: bench/RESULTS.md"

# The torture suite in full (tests/torture; `make test` runs its short version): kill -9 with
# TORTURE_SEEDS seeds and every other scenario of issue 9 with worker processes, on PostgreSQL.
# Prints Procore against the expected payments (duplicates, missing, wrong) per scenario and seed.
# Replay one seed: make torture TORTURE_SEED=7
TORTURE_SEEDS ?= 20
torture: install
	TORTURE_SEEDS=$(TORTURE_SEEDS) TORTURE_SEED=$(TORTURE_SEED) DATABASE_URL=$${DATABASE_URL:-$(PG)/torture} \
	  $(BIN)/python -m pytest tests/torture -p no:randomly -q -rxX $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles
