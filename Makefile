# The two commands a new user needs: `make demo` and `make test` (lint, then tests).
# Both create (or refresh) .venv idempotently: packages are reinstalled only when
# setup.cfg or pyproject.toml changed since the last install.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export TF_CPP_MIN_LOG_LEVEL ?= 2
export KERAS_BACKEND ?= tensorflow

.PHONY: demo test lint bench clean-venv

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev,audio,music,nlp,video]"
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m applications.dates_nmt train --size default --logdir runs/dates_nmt --output dates_nmt.keras

test: $(STAMP)
	$(VENV)/bin/ruff check keras_seq applications tests benchmarks
	$(PY) -m pytest -n 2 --durations=15 --nbmake

lint: $(STAMP)
	$(VENV)/bin/ruff check keras_seq applications tests benchmarks

bench: $(STAMP)
	$(PY) -m pip install --quiet -e ".[bench]"
	$(PY) -m pip install --quiet --no-deps pyctcdecode pygtrie
	$(PY) benchmarks/attention.py

clean-venv:
	rm -rf $(VENV)
