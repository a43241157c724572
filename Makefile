# Switchboard: `make run` runs the whole centre on the embedded default; `make test` runs every test.
# Each target installs what it needs first (uv via pip, then the hash-pinned workspace).
# Everything is compiled to bytecode at install: where PYTHONDONTWRITEBYTECODE is set (as on these
# machines) or the files are not writable, every process would otherwise compile each module it
# imports, every time (about 5 s more CPU per service started: 8.6 s against 3.5 s for routing).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MEMBERS := libs/common libs/cli services/intake services/routing services/recording services/desktop services/escalation services/dispatch services/workforce services/catalogue
STAMP := $(VENV)/.installed
UV = $(shell command -v uv 2>/dev/null || echo $(BIN)/uv)

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: install system-packages test-packages run test lint bench chaos lock clean migration docs

install: system-packages $(STAMP)

# Debian packages: Tesseract reads scanned letters and faxes (the centre needs it); Chromium runs
# the desktop's browser tests (only the tests need it; Playwright never downloads a browser).
RUN_PACKAGES := $(if $(shell command -v tesseract),,tesseract-ocr tesseract-ocr-eng)
TEST_PACKAGES := $(if $(shell command -v chromium),,chromium)
define apt_install
	@if [ -n "$(strip $(1))" ]; then \
	  echo "Installing Debian's $(strip $(1)) ..."; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1) >/dev/null; fi
endef

system-packages:
	$(call apt_install,$(RUN_PACKAGES))

test-packages:
	$(call apt_install,$(TEST_PACKAGES))

$(STAMP): requirements.lock requirements-dev.lock $(addsuffix /pyproject.toml,$(MEMBERS)) pyproject.toml
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@test -x $(BIN)/python || uv venv --quiet --python $(PYTHON) $(VENV)
	uv pip sync --quiet --compile-bytecode --python $(BIN)/python --require-hashes requirements.lock requirements-dev.lock
	uv pip install --quiet --python $(BIN)/python --no-deps $(addprefix -e ,$(MEMBERS))
	$(BIN)/python -m compileall -q -j 0 $(addsuffix /src,$(MEMBERS))
	@touch $(STAMP)

run: install
	$(BIN)/switchboard up

# `make test` runs pytest in three workers (pytest-xdist); every integration test of one centre goes
# to the same worker, so each centre starts once (tests/scheduling.py). Three on a 2-core machine:
# the integration tests spend much of their time waiting on their centres, and with two workers a
# quarter of the CPU sat idle (1.45 of 2 cores busy; 1.75 with three). TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 3
test: install test-packages lint
	$(BIN)/pytest -q --numprocesses $(TEST_WORKERS) --dist loadgroup

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(addprefix -p switchboard.,common cli intake routing recording desktop escalation dispatch workforce catalogue)

bench: install
	$(BIN)/python -m switchboard.cli.bench

# The whole centre under load while services are killed, the broker cut and the database stalled,
# on SQLite and on the local PostgreSQL: prints what was lost, duplicated or stuck (all must be 0).
# CI runs the short form inside `make test` (tests/integration/test_chaos.py).
chaos: install
	$(BIN)/python -m switchboard.cli.chaos

# The AsyncAPI documents in docs/asyncapi/, generated from each service's FastStream broker.
docs: install
	SWITCHBOARD_VAR_DIR=$$(mktemp -d) $(BIN)/python -m switchboard.cli.asyncapi docs/asyncapi
	$(BIN)/python -m switchboard.cli.envfile .env.example
	$(BIN)/python -m switchboard.cli.manifests deploy/k8s/base

# The next schema migration, from the difference between the models and a database at head.
migration: install
	@test -n "$(MESSAGE)" || { echo 'usage: make migration MESSAGE="what changed"'; exit 2; }
	$(BIN)/python -m switchboard.cli.migrations.new "$(MESSAGE)"

# Re-resolve after editing a pyproject.toml: refreshes the hash-pinned exports (uv.lock stays
# untracked: it records download addresses). requirements.lock is what images install.
lock:
	uv lock
	uv export --quiet --no-header --no-emit-workspace --no-dev -o requirements.lock
	uv export --quiet --no-header --no-emit-workspace --only-dev -o requirements-dev.lock

clean:
	rm -rf $(VENV) var
