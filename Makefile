# Two commands do all the set-up (README.md): `make run` and `make test`.
SHELL := /bin/bash
# The interpreter: PYTHON=... if given (e.g. `make run PYTHON=python3.13`), else `python3`.
PYTHON ?= python3
PYTHON_CHOSEN_BY := $(if $(filter command line environment,$(origin PYTHON)),PYTHON=$(PYTHON) was given,the default python3; choose another with PYTHON=)
PY_VERSION := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.synced-$(PY_VERSION)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: run test lint browser sync bench clean check-python

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# Says which interpreter is used and why; stops with a clear message when it cannot work here.
check-python:
	@$(PYTHON) -c '' 2>/dev/null || { echo "[setup] error: '$(PYTHON)' does not run here; install Python 3.11+ or choose one with PYTHON=, e.g. PYTHON=python3.12" >&2; exit 2; }
	@mkdir -p $(TOOLS)
	@PYTHON_CHOSEN_BY="$(PYTHON_CHOSEN_BY)" $(PYTHON) - < config/preflight.py > $(TOOLS)/uv-sync-args

# Locked install (uv.lock) for this interpreter; re-synced when the lock, the project file or
# the interpreter's version changes.
$(STAMP): uv.lock pyproject.toml | $(UV)
	@echo "[setup] installing the $$(grep -c '^name = ' uv.lock) locked packages into $(VENV) (the first time: 2-3 minutes, downloads from the package registry)..."
	$(UV) sync --frozen --python $(PYTHON) $$(cat $(TOOLS)/uv-sync-args)
	@rm -f $(VENV)/.synced-*
	@touch $(STAMP)

sync: check-python $(STAMP)

run: check-python $(STAMP)
	$(PY) -m config.launcher

lint: check-python $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) manage.py makemigrations --check --dry-run

test: browser lint
	$(VENV)/bin/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# Browser tests drive Debian's chromium through Playwright (no downloaded browser builds). As
# root, a missing chromium is installed with apt-get; otherwise make stops and says what to do
# (the suite must run whole), unless SKIP_BROWSER_TESTS=1 opts out of tests/browser explicitly.
export SKIP_BROWSER_TESTS
CHROMIUM_MISSING_HELP := the browser tests need Chromium: install Debian/Ubuntu's \`chromium\` package (\`sudo apt-get install chromium\`, or run make test as root and it is installed for you), then run make test again. Or run everything else with SKIP_BROWSER_TESTS=1 make test
browser:
	@if [ -n "$(SKIP_BROWSER_TESTS)" ]; then \
	  echo "[test] SKIP_BROWSER_TESTS=$(SKIP_BROWSER_TESTS): the browser tests (tests/browser) will be skipped"; \
	elif ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "[test] chromium is missing: installing Debian's chromium package with apt-get..."; \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null \
	      || { echo "[test] error: apt-get could not install chromium; $(CHROMIUM_MISSING_HELP)" >&2; exit 2; }; \
	  else echo "[test] error: $(CHROMIUM_MISSING_HELP)" >&2; exit 2; fi; \
	fi

bench: check-python $(STAMP)
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) $(VENV)-py* $(TOOLS)
