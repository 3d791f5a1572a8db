# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	$(BIN)/pip install --quiet -e '.[durable]' || echo "kam-policy: durable_rules did not build \
	(it needs a C compiler); the durable backend's tests will be skipped" >&2
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/kam-policy decide --facts examples/company.json --at 2026-11-27T09:00:00+08:00 --format table

test: $(STAMP)
	$(BIN)/pytest
	$(BIN)/ruff check kam_policy tests examples benchmarks
	$(BIN)/mypy

# At least 100,000 generated inputs: KAM_FUZZ_EXAMPLES for each of the six fuzz tests.
fuzz: $(STAMP)
	KAM_FUZZ_EXAMPLES=17000 $(BIN)/pytest tests/test_fuzz.py -q -p no:cacheprovider

lint: $(STAMP)
	$(BIN)/ruff check kam_policy tests examples benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

# W1-W4: kam_policy, the hand-written floor and the anchor engines side by side; writes
# docs/performance.md and benchmarks/results.json (about 12 minutes on 2 cores).
.PHONY: bench
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis
