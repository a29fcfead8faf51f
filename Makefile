# The two commands of the README: `make run` (the demo workflow) and `make test`.
PYTHON ?= python3
VENV ?= .venv
CORES ?= 2
BIN := $(VENV)/bin

.PHONY: install run test test-fast lint docs clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: install
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html

test: install
	$(BIN)/python -m pytest

test-fast: install  # the tier to run before every commit: no end-to-end runs, a test file per core
	$(BIN)/python -m pytest -m "not slow" -n $(CORES) --dist loadfile

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile rules

docs: install  # the rule graph picture in docs/architecture.md
	$(BIN)/snakemake --rulegraph --nolock | $(BIN)/python -m zeostem.figures.rulegraph docs/rulegraph.png

clean:
	rm -rf results logs .snakemake
