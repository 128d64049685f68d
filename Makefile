PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Separate stamps: `make run` installs only what running needs; tests and lint add the dev extra.
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-js lint bench bench-full install system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch goes first and exactly pinned: letting diffusers pull it would fetch a multi-GB CUDA build.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[server,generator]'
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[server,generator,dev]'
	touch $(TEST_STAMP) $(RUN_STAMP)

install: $(TEST_STAMP)

# Debian packages the tests start for real: Redis (shared cache tier, job queue), Chromium (the playground
# in a real browser), Varnish (the CDN tier), ExifTool (an independent reader of the provenance metadata in
# served images), Node.js and npm (the JavaScript client, the Next.js example). Installed only when missing.
SYSTEM_PACKAGES := redis-server:redis-server chromium:chromium varnishd:varnish exiftool:libimage-exiftool-perl \
                   node:nodejs npm:npm

system-deps:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/$${pair%%:*}" ] || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian's packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: $(RUN_STAMP)
	$(BIN)/imgedge serve

test: $(TEST_STAMP) system-deps test-js
	$(BIN)/python -m pytest -q

# The JavaScript client against the shared vectors, with Node's built-in test runner (Node 18 or later).
test-js: system-deps
	@if ! command -v node >/dev/null 2>&1; then \
	  echo "skipping the JavaScript client's tests: node is not installed (make system-deps)"; \
	elif ! node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 18 ? 1 : 0)'; then \
	  echo "skipping the JavaScript client's tests: node $$(node --version) has no test runner (18 or later)"; \
	else cd clients/js && node --test test/; fi

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# wrk is the load generator (the benchmark falls back to a bounded httpx client without it).
bench: $(TEST_STAMP)
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk from Debian's packages"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m benchmarks.run --quick

bench-full: $(TEST_STAMP)
	@command -v wrk >/dev/null 2>&1 || { apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	$(BIN)/python -m benchmarks.run --full

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
