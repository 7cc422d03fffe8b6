# fmgov — the two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
export DJANGO_SETTINGS_MODULE ?= fmgov.settings.development

.PHONY: install install-test run test lint format bench screenshots migrate seed clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python requirements.txt
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-dev.txt requirements-ml.txt
	$(PIP) install --quiet -r requirements-dev.txt -r requirements-ml.txt
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo
	@# Seeding ends signed: a checkpoint of the head by the development key in var/audit-keys.
	$(PY) manage.py checkpoint_audit_trail

## make run: install, migrate, demo data, then web + Celery worker + beat; ends saying where and how to log in.
run: seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) -m fmgov.core.devserver

## make test: the whole suite (SQLite + embedded broker, or DATABASE_URL / CELERY_BROKER_URL),
## in one process per CPU (PYTEST_WORKERS=0 runs it in this process); a test file stays in one process.
PYTEST_WORKERS ?= auto
test: install-test
	DJANGO_SETTINGS_MODULE=fmgov.settings.test $(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# No repeated block of six or more lines in the application code (tests, migrations and
	@# benchmarks aside; verify_export.py is a standalone stdlib-only copy of the canonical encoding by design).
	git ls-files '*.py' | grep -v -e '/migrations/' -e '/tests/' -e '^tests/' -e '^benchmarks/' -e 'conftest.py' \
	  -e '^audits/verify_export.py' | xargs $(VENV)/bin/pylint --disable=all --enable=duplicate-code \
	  --min-similarity-lines=6 --ignore-imports=yes --ignore-signatures=yes --ignore-docstrings=yes --ignore-comments=yes

format: install-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

## make bench: every benchmark (not the _helpers), each figure a JSON line kept in var/bench.log, then one table.
bench: install-test
	@mkdir -p var && : > var/bench.log
	@for script in benchmarks/[!_]*.py; do echo "== $$script"; $(PY) $$script | tee -a var/bench.log; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; done
	@$(PY) benchmarks/_table.py var/bench.log

screenshots: install-test
	DJANGO_SETTINGS_MODULE=fmgov.settings.test $(PY) -m pytest -p no:randomly -m screenshots docs/screenshots.py -q

clean:
	rm -rf var/test-* staticfiles
