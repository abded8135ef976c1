# ssbkit: the two commands of the README, and a few for developers.
#   make demo   create .venv, install the pinned dependencies, run the example job
#   make test   the same set-up, then the whole test suite

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ssbkit-installed
# The newest Python >= 3.11 on PATH.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& { command -v $$p; break; }; done)

.PHONY: demo test lint bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PYTHON)" ]; then echo "error: ssbkit needs Python >= 3.11 on PATH" >&2; exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[eis,plot,dev]'
	@touch $(STAMP)

demo: $(STAMP)
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

test: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools

# The peers go into the benchmarks' own environment, never into the test one.
BENCH_VENV := benchmarks/.venv
bench:
	@if [ -z "$(PYTHON)" ]; then echo "error: ssbkit needs Python >= 3.11 on PATH" >&2; exit 1; fi
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -c constraints.txt -e '.[bench,eis]'
	$(BENCH_VENV)/bin/python benchmarks/run.py

lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --dry-run --ignore-installed --report $(VENV)/lock-report.json \
		'.[all,gpl,dev,bench]'
	$(PY) tools/lock.py $(VENV)/lock-report.json constraints.txt

clean:
	rm -rf $(VENV) $(BENCH_VENV) build src/*.egg-info .pytest_cache .hypothesis
