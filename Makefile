# Two commands for a new machine with Python 3.11+: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_PASSWORD ?= anw-demo-2026
# `make demo PORT=8001` serves elsewhere; links in e-mails follow the address served.
PORT ?= 8000
# The suite runs on every core (at most four: each worker builds its own test database);
# `make test PYTEST_ARGS=` runs it in one process.
PYTEST_ARGS ?= --numprocesses=auto --maxprocesses=4

.PHONY: demo test check install migrate seed clean graph deploy-check security bench bench-smoke

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.x")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

migrate: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.local $(BIN)/python manage.py migrate --noinput

seed: migrate
	@DJANGO_SETTINGS_MODULE=config.settings.local DJANGO_LOG_LEVEL=WARNING \
		$(BIN)/python manage.py seed_demo --password "$(DEMO_PASSWORD)"
	@echo "Password for every demo login: $(DEMO_PASSWORD)"

demo: seed
	@echo "Serving on http://127.0.0.1:$(PORT) (log in with a login above; Ctrl-C stops)"
	DJANGO_SETTINGS_MODULE=config.settings.local SITE_URL=http://127.0.0.1:$(PORT) \
		$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py check

# The deployment: the compose file is valid (Debian's docker-compose, no engine needed) and the
# production settings pass Django's deployment checks with a throwaway secret key.
deploy-check: $(STAMP)
	docker-compose -f docker/compose.yml config -q
	DJANGO_SETTINGS_MODULE=config.settings.production \
	DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	BSN_HASH_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

# Static analysis (bandit: high severity fails) and known vulnerabilities in the pinned
# dependencies (pip-audit; see .ci/pip-audit for when PyPI's API can't be reached).
security: $(STAMP)
	$(BIN)/bandit --quiet --recursive config hap_contracting checklist accounts docker -lll
	BIN=$(BIN) .ci/pip-audit

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles

# The state graph, generated from the transitions: docs/state-graph.dot and the diagram in
# docs/architecture.md (tests/procedure/test_graph.py fails when either drifts from the code).
graph: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -c 'import django; django.setup(); \
	from tests.procedure.test_graph import generated_dot; print(generated_dot(), end="")' > docs/state-graph.dot
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -c 'import django; django.setup(); \
	from tests.procedure.test_graph import architecture_with_graph as page; \
	text = page(); open("docs/architecture.md", "w").write(text)'

# The benchmarks (bench/, docs/performance.md), each against an honest floor in the same run, on
# PostgreSQL at 127.0.0.1:5432 in databases of their own (hap_bench_*), each ending with a line
# `RESULT {json}`. `make bench`: full size (tens of minutes; the data sets are built once and
# reused). `make bench-smoke`: small sizes; fails when a query count grows with the data or a
# benchmark breaks (.ci/run runs it).
BENCHMARKS := invoice_export claims_import daily_job triage_lookup procedure_pages
LOAD_STAMP := $(VENV)/.installed-load

$(LOAD_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,load]"
	@touch $(LOAD_STAMP)

bench: $(LOAD_STAMP)
	@set -e; for name in $(BENCHMARKS); do \
		echo "== bench/$$name.py"; $(BIN)/python bench/$$name.py; done
	@echo "== bench/load/run.py"; $(BIN)/python bench/load/run.py

bench-smoke: $(LOAD_STAMP)
	@set -e; for name in $(BENCHMARKS); do \
		echo "== bench/$$name.py --smoke"; $(BIN)/python bench/$$name.py --smoke; done
	@echo "== bench/load/run.py --smoke"; $(BIN)/python bench/load/run.py --smoke
