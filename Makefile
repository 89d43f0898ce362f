# Quick start: `make demo` (the built-in simulator) and `make test`.
# Each target creates the virtualenv and installs what it needs on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint format servers bench bench-quick sample-data clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	$(PY) -m compileall -q migration_tui  # as a wheel install would; not written where PYTHONDONTWRITEBYTECODE is set
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/migration-tui demo

servers:
	scripts/install-servers.sh

test: $(STAMP) servers
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check migration_tui tests benchmarks scripts
	$(VENV)/bin/ruff format --check migration_tui tests benchmarks scripts
	$(VENV)/bin/lint-imports  # the layering contracts in pyproject.toml [tool.importlinter]

format: $(STAMP)
	$(VENV)/bin/ruff format migration_tui tests benchmarks scripts
	$(VENV)/bin/ruff check --fix migration_tui tests benchmarks scripts

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

bench-quick: $(STAMP) servers  # prometheus_budget needs prometheus
	$(PY) benchmarks/run_all.py --quick

sample-data: $(STAMP)
	$(PY) scripts/make_sample_data.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
