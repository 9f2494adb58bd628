# make demo / make test do all the set-up on a fresh machine: venv, pinned packages, system packages.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup system test check lint types bench demo clean lock

$(STAMP): pyproject.toml requirements.lock setup.py
	PYTHON=$(PYTHON) bash scripts/setup-system.sh  # first: installing builds a C extension
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

system:
	PYTHON=$(PYTHON) bash scripts/setup-system.sh

setup: $(STAMP) system

test: setup
	$(PY) -m pytest -q -x

lint: $(STAMP)
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

types: $(STAMP)
	$(VENV)/bin/mypy

check: lint types test

bench: setup
	$(PY) bench/run.py

demo: setup
	$(VENV)/bin/custodes demo run

lock:
	$(PY) -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV)
