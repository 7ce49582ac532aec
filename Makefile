# Everything a fresh machine needs is installed here, into .venv (Python 3.11+).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export DAGSTER_HOME := $(CURDIR)/.dagster_home
UI_PORT ?= 3000

.PHONY: install demo test test-fast ui bench bench-quick clean

$(BIN)/uv:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

# Re-install only when the lock or the project metadata changes.
$(VENV)/.installed: requirements.lock pyproject.toml | $(BIN)/uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --config-settings editable_mode=compat -e .
	touch $@

install: $(VENV)/.installed
	@mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: install
	$(BIN)/disclosure demo

test: install
	$(BIN)/python -m pytest -q

# The unit layer alone (domain, parsers, discovery on saved pages): under 30 s. `make test` runs everything.
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

ui: install
	$(BIN)/disclosure ui --port $(UI_PORT)

# Benchmarks (not tests, never a CI gate): full ~15 min incl. a 100 000-report build; quick < 2 min.
bench: install
	$(BIN)/python -m benchmarks.run --out benchmarks/results.md

bench-quick: install
	$(BIN)/python -m benchmarks.run --quick --out benchmarks/results-quick.md

clean:
	rm -rf $(VENV) $(DAGSTER_HOME) data
