# Two commands do everything on a fresh clone with Python 3.11:
#   make demo   -- plan, apply and garbage-collect a realistic fake project
#   make test   -- ruff, mypy --strict and the whole test suite
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
export HYPOTHESIS_PROFILE ?= dev

.PHONY: install demo test lint typecheck pytest nightly bench clean browser lowest tmux

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or make PYTHON=python3)"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@

demo: install
	$(BIN)/artifact-guard demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest

test: lint typecheck pytest

# Headless Chromium (Debian's package) for the HTML report tests; they skip, saying why, without it.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends chromium \
	  || { $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y \
	       --no-install-recommends chromium; } \
	  || echo "warning: could not install chromium; the HTML report tests will skip"; }

# The lowest versions pyproject.toml's bounds admit (uv's lowest-direct resolution) in a second venv:
# the CLI's --help and the CLI tests must pass there too, or a bound is a lie.
LOWEST ?= .venv-lowest
lowest: install
	$(BIN)/python -m pip install --quiet 'uv>=0.4'
	rm -rf $(LOWEST)
	$(BIN)/uv venv --quiet --python $(PYTHON) $(LOWEST)
	$(BIN)/uv pip install --quiet --python $(LOWEST)/bin/python --resolution lowest-direct -e '.[test]'
	$(BIN)/uv pip list --python $(LOWEST)/bin/python 2>/dev/null | grep -iE '^(typer|click|rich|wandb|tenacity|orjson) '
	$(LOWEST)/bin/artifact-guard --help >/dev/null
	$(LOWEST)/bin/python -m pytest -q -p no:cacheprovider tests/cli tests/test_exported_members.py \
	  tests/audit/test_plugin_audit.py tests/audit/test_plugin_ergonomics.py tests/audit/test_simulate.py

# tmux (Debian's package) for the terminal-session test (tests/cli/test_terminal.py); it skips without.
tmux:
	@command -v tmux >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends tmux \
	  || echo "warning: could not install tmux; the terminal-session test will skip"; }

nightly: install
	HYPOTHESIS_PROFILE=nightly $(BIN)/python -m pytest -m "slow or not slow" --timeout=0

bench: install
	$(BIN)/python bench/plan_scale.py
	$(BIN)/python bench/adapter_requests.py

clean:
	rm -rf $(VENV) $(LOWEST) .pytest_cache .mypy_cache .ruff_cache .hypothesis
