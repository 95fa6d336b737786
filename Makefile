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

test: lint browser
	$(VENV)/bin/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# Browser tests drive Debian's chromium through Playwright (no downloaded browser builds).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null \
	      || echo "could not install chromium: browser tests will be skipped"; \
	  else echo "chromium is missing (install it as root): browser tests will be skipped"; fi; }

bench: check-python $(STAMP)
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) $(VENV)-py* $(TOOLS)
