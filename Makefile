# The one way in: `make demo`, `make test`, `make lint`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint format schema clean

DEMO_STAMP := $(VENV)/.demo-stamp

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,emulator]'
	touch $(STAMP)

install: $(STAMP)

# The demo needs the tool and its emulator extra only, not the development toolchain:
# an up-to-date `make install` serves, else only '.[emulator]' is installed.
$(DEMO_STAMP): pyproject.toml
	if [ -f $(STAMP) ] && [ $(STAMP) -nt pyproject.toml ]; then :; else \
	  $(PYTHON) -m venv $(VENV) && \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[emulator]'; \
	fi
	touch $(DEMO_STAMP)

demo: $(DEMO_STAMP)
	./examples/demo.sh

# Every Python directory: the package, its tests, the benchmarks and the mutation runner.
PYTHON_DIRS := reconciler tests benchmarks mutation

lint: $(STAMP)
	$(BIN)/ruff check $(PYTHON_DIRS)
	$(BIN)/ruff format --check $(PYTHON_DIRS)
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

format: $(STAMP)
	$(BIN)/ruff format $(PYTHON_DIRS)
	$(BIN)/ruff check --fix $(PYTHON_DIRS)

schema: $(STAMP)
	$(BIN)/reconciler schema > schemas/manifest.schema.json
	$(BIN)/reconciler schema --plan > schemas/plan.schema.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis

# Plan, apply, latency, rate-limit and start-up benchmarks against the emulator (6-8
# minutes): prints Markdown tables, writes benchmarks/results/latest.json, and
# fails when a target is missed. BENCH_ARGS="--repeat 5" etc.: python -m benchmarks -h.
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# Mutation score of the modules that keep secrets and safety (cosmic-ray, each module in a
# scratch copy under mutation/.work; some 12 minutes on 2 cores): prints a score per
# module and fails under 90%. MUTATION_ARGS="secrets --survivors" etc.: mutation/run.py -h.
.PHONY: mutation
mutation: $(STAMP)
	$(BIN)/python mutation/run.py $(MUTATION_ARGS)

# The release artifacts: the sdist and the wheel built from it, into a fresh dist/ (the
# `build` package, in an isolated environment), each checked by `twine check --strict`.
# tests/e2e/test_dist.py builds them too, installs the wheel into a clean venv and runs it.
.PHONY: dist
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --outdir dist .
	$(BIN)/twine check --strict dist/*
