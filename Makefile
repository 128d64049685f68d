PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench bench-full bench-quality bench-peers install system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch goes first and exactly pinned: letting diffusers pull it would fetch a multi-GB CUDA build.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Debian packages the tests start for real: Redis (shared cache tier, job queue), Chromium (the playground
# in a real browser), Varnish (the CDN tier). Installed only when missing.
SYSTEM_PACKAGES := redis-server:redis-server chromium:chromium varnishd:varnish

system-deps:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/$${pair%%:*}" ] || missing="$$missing $${pair#*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian's packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: $(STAMP)
	$(BIN)/imgedge serve

test: $(STAMP) system-deps
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# wrk is the load generator (the benchmark falls back to a bounded httpx client without it); Node.js and npm
# run the Next.js peer (skipped, with a note in the report, where Node.js is older than Next.js 16 needs).
bench-peers:
	@missing=""; command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian's packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

bench: $(STAMP) bench-peers
	$(BIN)/python -m benchmarks.run --quick

bench-full: $(STAMP) bench-peers
	$(BIN)/python -m benchmarks.run --full

# Encoder efforts and the pyramid's level ratio against SSIMULACRA2 (benchmarks/results/encoders.md and
# pyramid.md); CPU-bound and long (about 15 minutes on 2 cores).
bench-quality: $(STAMP)
	$(BIN)/python -m benchmarks.encoder_sweep
	$(BIN)/python -m benchmarks.pyramid_quality

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
