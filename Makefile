PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# Separate stamps: `make run` installs only what running needs; tests and lint add the dev extra.
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test test-js lint bench bench-full bench-quality bench-peers visual-references install system-deps \
  system-libvips test-system-libvips clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# pyvips compiles its binding against any libvips pkg-config finds at install time (Debian's libvips-dev
# is 8.14), and that binding, like pyvips-binary's, is _libvips.abi3.so: it replaces pyvips-binary's and
# the process runs on the system's libvips. So pyvips is built with pkg-config blinded (no wheel cache: one
# built elsewhere may be bound), then pyvips-binary is put back, in that order: reinstalling a bound pyvips
# deletes the shared file. `imgedge doctor` prints the same two commands for an install that went wrong.
define install_bundled_pyvips
	PKG_CONFIG_LIBDIR= PKG_CONFIG_PATH= $(1)/pip install --quiet --force-reinstall --no-deps --no-cache-dir pyvips
	$(1)/pip install --quiet --force-reinstall --no-deps pyvips-binary
endef

# torch goes first and exactly pinned: letting diffusers pull it would fetch a multi-GB CUDA build.
$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(call install_bundled_pyvips,$(BIN))
	$(BIN)/pip install --quiet -e '.[server,generator]'
	$(BIN)/python -m imgedge.imaging.requirements --expect pyvips-binary
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(call install_bundled_pyvips,$(BIN))
	$(BIN)/pip install --quiet -e '.[server,generator,dev]'
	$(BIN)/python -m imgedge.imaging.requirements --expect pyvips-binary
	touch $(TEST_STAMP) $(RUN_STAMP)

install: $(TEST_STAMP)

# Debian packages the tests start for real: Redis (shared cache tier, job queue), Chromium (the playground
# in a real browser), Varnish (the CDN tier), ExifTool (an independent reader of the provenance metadata in
# served images), Node.js and npm (the JavaScript client, the Next.js example), PostgreSQL (the metadata
# database of several hosts; its server programs live in /usr/lib/postgresql/<major>/bin, off PATH).
# Installed only when missing.
SYSTEM_PACKAGES := redis-server:redis-server chromium:chromium varnishd:varnish exiftool:libimage-exiftool-perl \
                   node:nodejs npm:npm

system-deps:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do \
	  command -v "$${pair%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/$${pair%%:*}" ] || missing="$$missing $${pair#*:}"; \
	done; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian's packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

run: $(RUN_STAMP)
	$(BIN)/imgedge serve

test: $(TEST_STAMP) system-deps test-system-libvips test-js
	$(BIN)/python -m pytest -q --durations=25

# The pipeline, canonicalisation, encoder and ingest tests again, on Debian's libvips (8.14: what Debian 12
# and most Dockerfiles for pyvips apps install), in a venv of its own whose pyvips is compiled against it,
# the way pip builds it on such a machine. Everything else comes from the main venv through a .pth, so the
# main venv keeps pyvips-binary and this one installs in seconds.
SYSVENV := .venv-syslibvips
SYSBIN  := $(SYSVENV)/bin
INGEST_TESTS := $(addprefix tests/generator/test_commands.py::test_ingest_,prints_ids_and_fails_on_bad_files \
  tells_a_library_failure_from_a_bad_file)
SYSTEM_LIBVIPS_TESTS := tests/imaging tests/proxy/test_pipeline.py tests/proxy/test_filters.py \
  tests/proxy/test_pyramid.py tests/proxy/test_auto_quality.py tests/proxy/test_hostile_inputs.py tests/proxy/test_library_failures.py \
  tests/generator/assets tests/generator/http/test_uploads.py $(INGEST_TESTS)

# libvips-dev, and a compiler and Python's headers for pyvips' binding. Installed only when missing.
system-libvips:
	@missing=""; pkg-config --exists vips 2>/dev/null || missing="libvips-dev"; \
	command -v cc >/dev/null 2>&1 || missing="$$missing gcc"; \
	include=$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_paths()["include"])'); \
	[ -f "$$include/Python.h" ] || missing="$$missing python3-dev"; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian's packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	    -o DPkg::Lock::Timeout=300 $$missing >/dev/null; \
	fi

$(SYSVENV)/.installed: | $(TEST_STAMP) system-libvips
	rm -rf $(SYSVENV)
	$(PYTHON) -m venv $(SYSVENV)
	$(SYSBIN)/pip install --quiet --no-cache-dir pyvips
	main=$$($(BIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	own=$$($(SYSBIN)/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	echo "import site; site.addsitedir('$$main')" > "$$own/zz-imgedge-main-venv.pth"
	$(SYSBIN)/python -m imgedge.imaging.requirements --expect system
	touch $@

# The main venv's recipe, on this machine now that libvips-dev is here: it must still bind pyvips-binary.
$(SYSVENV)/.recipe-checked: Makefile | $(SYSVENV)/.installed
	rm -rf build/pyvips-recipe
	$(PYTHON) -m venv build/pyvips-recipe
	build/pyvips-recipe/bin/pip install --quiet cffi
	$(call install_bundled_pyvips,build/pyvips-recipe/bin)
	build/pyvips-recipe/bin/python -m imgedge.imaging.requirements --expect pyvips-binary
	rm -rf build/pyvips-recipe
	touch $@

test-system-libvips: $(SYSVENV)/.recipe-checked
	$(SYSBIN)/python -m imgedge.imaging.requirements --expect system
	$(SYSBIN)/python -m pytest -q $(SYSTEM_LIBVIPS_TESTS)

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

# wrk is the load generator (the benchmark falls back to a bounded httpx client without it); Node.js and npm
# run the Next.js peer (skipped, with a note in the report, where Node.js is older than Next.js 16 needs).
bench-peers:
	@missing=""; command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  echo "installing from Debian's packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

bench: $(TEST_STAMP) bench-peers
	$(BIN)/python -m benchmarks.run --quick

bench-full: $(TEST_STAMP) bench-peers
	$(BIN)/python -m benchmarks.run --full

# Encoder efforts and the pyramid's level ratio against SSIMULACRA2 (benchmarks/results/encoders.md and
# pyramid.md); CPU-bound and long (about 15 minutes on 2 cores).
bench-quality: $(TEST_STAMP)
	$(BIN)/python -m benchmarks.encoder_sweep
	$(BIN)/python -m benchmarks.pyramid_quality

# Remake the visual regression references on purpose, after a change that is meant to move renders
# (tests/proxy/test_visual_regression.py); it prints how far each render moved. Review, then commit them.
visual-references: $(TEST_STAMP)
	$(BIN)/python -m tests.proxy.visual

clean:
	rm -rf $(VENV) $(SYSVENV) build/pyvips-recipe .pytest_cache .mypy_cache .ruff_cache
