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

# Debian packages no registry package serves: tesseract with its Simplified Chinese model (OCR of
# image-only reports: more accurate here than RapidOCR's wheel, see benchmarks/findings.md) and a
# CJK font the demo portal renders its scanned reports with. Installed when missing (as root);
# otherwise one line says what to install.
DEBIAN_PACKAGES := tesseract-ocr tesseract-ocr-chi-sim fonts-wqy-zenhei
DEBIAN_MARKERS := /usr/bin/tesseract /usr/share/tesseract-ocr/*/tessdata/chi_sim.traineddata /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc

$(VENV)/.debian: Makefile
	@missing=""; for f in $(DEBIAN_MARKERS); do [ -e $$f ] || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null) \
	      || { echo "could not install the Debian packages $(DEBIAN_PACKAGES)"; exit 1; }; \
	  else echo "missing Debian packages: run 'sudo apt-get install $(DEBIAN_PACKAGES)' (OCR of image-only reports)"; exit 1; fi; \
	fi
	@mkdir -p $(VENV) && touch $@

install: $(VENV)/.installed $(VENV)/.debian
	@mkdir -p $(DAGSTER_HOME) && cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: install
	$(BIN)/disclosure demo

# On up to two cores (pytest-xdist), a test file per worker at a time: a file's module fixtures are built once.
test: install
	$(BIN)/python -m pytest -q -n auto --maxprocesses 2 --dist loadfile

# The unit layer alone (domain, parsers, discovery on saved pages): under 45 s. `make test` runs everything.
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
