# The two commands a fresh clone needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint clean bench bench-full bench-typed compat

# Reinstall whenever pyproject.toml changes; the stamp keeps later runs instant.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/microasgi --app examples.hello.app:app run --host 127.0.0.1 --port 8000

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check microasgi tests examples benchmarks
	$(BIN)/ruff format --check microasgi tests examples benchmarks
	$(BIN)/mypy microasgi
	$(BIN)/python -m tests.layers  # nothing imports a layer above its own (DESIGN.md, Layers)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Flask extensions' own test suites under Flask and under microasgi (`import flask` through
# microasgi.as_flask), written to docs/compatibility.md. Needs PyPI; not part of `make test`.
# Scratch (sdists, one venv per extension, reports) in .compat/; each run is time-bounded.
compat: $(STAMP)
	$(BIN)/python -m tests.compat

# The throughput harness (benchmarks/README.md). The peers come from the bench extra; wrk
# (Debian's package) drives the network mode, which is skipped with a message without it.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1) || \
		echo "wrk is not installed (apt-get install wrk): the network mode will be skipped"
	$(BIN)/python -m benchmarks --quick

bench-full: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null 2>&1 || \
		(apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1) || \
		echo "wrk is not installed (apt-get install wrk): the network mode will be skipped"
	$(BIN)/python -m benchmarks --full

# Typed routes against Litestar and FastAPI, in-process (issue 15; docs/benchmarks.md).
bench-typed: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks --set typed
