# ssbkit: the two commands of the README, and a few for developers.
#   make demo   create .venv, install the pinned dependencies, run the example job
#   make test   the same set-up, then the whole test suite

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.ssbkit-installed
# The test environment holds every technique's extras. gpl (galvani, GPL-3.0) is here so the
# BioLogic .mpr tests run; it stays an opt-in extra for users, never a core dependency.
EXTRAS := eis,cycling,pressure,xrd,nmr,study,plot,gpl,dev
# Arbin .res files are read with mdb-export (Debian package mdbtools).
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo)
# The newest Python >= 3.11 on PATH.
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& { command -v $$p; break; }; done)

.PHONY: demo test lint bench lock clean

$(STAMP): pyproject.toml constraints.txt
	@if [ -z "$(PYTHON)" ]; then echo "error: ssbkit needs Python >= 3.11 on PATH" >&2; exit 1; fi
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[$(EXTRAS)]'
	@command -v mdb-export >/dev/null 2>&1 || $(SUDO) apt-get install -y -q mdbtools >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update -q >/dev/null 2>&1 && $(SUDO) apt-get install -y -q mdbtools >/dev/null 2>&1; } \
		|| echo "warning: could not install mdbtools (apt-get); Arbin .res files will not be read" >&2
	@touch $(STAMP)

demo: $(STAMP)
	@PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/demo.sh

# The report's test opens it in Debian's headless Chromium; CI=true or SSBKIT_REQUIRE_CHROMIUM=1
# make that test fail, not skip, where it is missing.
CHROMIUM_STAMP := $(VENV)/.chromium-checked
$(CHROMIUM_STAMP): $(STAMP)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
		|| $(SUDO) apt-get install -y -q chromium >/dev/null 2>&1 \
		|| { $(SUDO) apt-get update -q >/dev/null 2>&1 && $(SUDO) apt-get install -y -q chromium >/dev/null 2>&1; } \
		|| echo "warning: could not install chromium (apt-get); the report's browser test will skip" >&2
	@touch $(CHROMIUM_STAMP)

# The fits solve many small linear systems: BLAS threads only contend for the cores.
test: $(STAMP) $(CHROMIUM_STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks tools

# The peers go into the benchmarks' own environment, never into the test one.
BENCH_VENV := benchmarks/.venv
# navani (cycling peer) needs numpy < 2 (no wheel for Python 3.13) and installs a galvani fork
# that replaces galvani: a venv of its own, every package pinned; the '*' .gitignore keeps it
# out of git (Python 3.13's venv writes the same file itself).
NAVANI_VENV := benchmarks/.venv-navani
# rietx (XRD peer) brings gemmi, spglib, pydantic and compiled kernels: a pinned venv of its own.
RIETX_VENV := benchmarks/.venv-rietx
NAVANI_PYTHON ?= $(shell for p in python3.11 python3.12; do command -v $$p >/dev/null 2>&1 \
	&& $$p -c 'import sys' 2>/dev/null && { command -v $$p; break; }; done)
bench:
	@if [ -z "$(PYTHON)" ]; then echo "error: ssbkit needs Python >= 3.11 on PATH" >&2; exit 1; fi
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -c constraints.txt -e '.[bench,eis,cycling,xrd]'
	@if [ -n "$(NAVANI_PYTHON)" ]; then \
		{ test -x $(NAVANI_VENV)/bin/python || $(NAVANI_PYTHON) -m venv $(NAVANI_VENV); } \
		&& echo '*' > $(NAVANI_VENV)/.gitignore \
		&& $(NAVANI_VENV)/bin/python -m pip install --quiet -r benchmarks/navani-constraints.txt; \
	else echo "warning: navani needs Python 3.11 or 3.12 on PATH; the cycling benchmark skips it" >&2; fi
	@if [ -n "$(NAVANI_PYTHON)" ]; then \
		{ test -x $(RIETX_VENV)/bin/python || $(NAVANI_PYTHON) -m venv $(RIETX_VENV); } \
		&& echo '*' > $(RIETX_VENV)/.gitignore \
		&& $(RIETX_VENV)/bin/python -m pip install --quiet -r benchmarks/rietx-constraints.txt; \
	else echo "warning: rietx's pinned venv needs Python 3.11 or 3.12 on PATH; the XRD benchmark skips it" >&2; fi
	$(BENCH_VENV)/bin/python benchmarks/run.py

lock:
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --dry-run --ignore-installed --report $(VENV)/lock-report.json \
		'.[all,gpl,dev,bench]'
	$(PY) tools/lock.py $(VENV)/lock-report.json constraints.txt

clean:
	rm -rf $(VENV) $(BENCH_VENV) $(NAVANI_VENV) $(RIETX_VENV) build src/*.egg-info .pytest_cache .hypothesis
