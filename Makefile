# One-word targets. Every target sets up .venv itself, so a fresh clone needs nothing by hand.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint typecheck check bench bench-lint bench-http bench-fuzz bench-pg clean graphviz chromium iproute2

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,postgres,server,sdks]'
	touch $(STAMP)

install: $(STAMP) graphviz chromium iproute2

# Graphviz's `dot` renders workflow graphs; install it from Debian when missing and we may.
graphviz:
	@command -v dot >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null) \
	      || echo "warning: could not install graphviz; drawing to SVG/PNG will be skipped"; \
	  else echo "warning: graphviz 'dot' not found and cannot be installed here"; fi; }

# Debian's Chromium runs the dashboard's browser tests (Playwright drives it by path: its own
# browser download cannot work here); install it when missing and we may.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the dashboard's browser tests will be skipped"; \
	  else echo "warning: chromium not found and cannot be installed here"; fi; }

# iproute2's `ip` makes the network namespaces of the multi-host test (simulated hosts);
# install it when missing and we may.
iproute2:
	@command -v ip >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null) \
	      || echo "warning: could not install iproute2; the multi-host test will be skipped"; \
	  else echo "warning: iproute2 'ip' not found and cannot be installed here"; fi; }

demo: install
	$(BIN)/python -m examples
	@mkdir -p demo-out/graphs
	@for f in examples/[a-z]*.py; do \
	  $(BIN)/durable compile $$f -o demo-out/graphs/ >/dev/null && \
	  $(BIN)/durable graph $$f --format svg -o demo-out/graphs/ || exit 1; \
	done
	@echo "compiled graphs and drawings: demo-out/graphs/"

test: install
	$(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/ruff check durableflow tests examples bench
	$(BIN)/ruff format --check durableflow tests examples bench

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

bench: install
	$(BIN)/python bench/runtime_vs_dbos.py

bench-lint: install
	$(BIN)/python bench/lint_vs_fixit.py

bench-http: install
	$(BIN)/python bench/http_load.py

bench-pg: install
	$(BIN)/python bench/pg_scale.py

bench-fuzz: install
	$(BIN)/python bench/fuzz_throughput.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info demo-out
