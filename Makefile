# Switchboard: `make run` runs the whole centre on the embedded default; `make test` runs every test.
# Each target installs what it needs first (uv via pip, then the hash-pinned workspace).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MEMBERS := libs/common libs/cli services/intake services/routing services/recording
STAMP := $(VENV)/.installed
UV = $(shell command -v uv 2>/dev/null || echo $(BIN)/uv)

SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: install system-packages run test lint bench lock clean

install: system-packages $(STAMP)

# Debian packages the services use: Tesseract reads scanned letters and faxes.
system-packages:
	@command -v tesseract >/dev/null 2>&1 || { \
	  echo "Installing Debian's tesseract-ocr ..."; \
	  $(SUDO) apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr tesseract-ocr-eng >/dev/null; }

$(STAMP): requirements.lock requirements-dev.lock $(addsuffix /pyproject.toml,$(MEMBERS)) pyproject.toml
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@test -x $(BIN)/python || uv venv --quiet --python $(PYTHON) $(VENV)
	uv pip sync --quiet --python $(BIN)/python --require-hashes requirements.lock requirements-dev.lock
	uv pip install --quiet --python $(BIN)/python --no-deps $(addprefix -e ,$(MEMBERS))
	@touch $(STAMP)

run: install
	$(BIN)/switchboard up

test: install lint
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(addprefix -p switchboard.,common cli intake routing recording)

bench: install
	$(BIN)/python -m switchboard.cli.bench

# Re-resolve after editing a pyproject.toml: refreshes the hash-pinned exports (uv.lock stays
# untracked: it records download addresses). requirements.lock is what images install.
lock:
	uv lock
	uv export --quiet --no-header --no-emit-workspace --no-dev -o requirements.lock
	uv export --quiet --no-header --no-emit-workspace --only-dev -o requirements-dev.lock

clean:
	rm -rf $(VENV) var
