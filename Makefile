# The targets are what the README tells a person to type. Each creates .venv on first use.
# Two installs, each with its stamp: the service alone (what `make demo` and `make simulate`
# need) and the test tools on top of it (what `make test` and `make lint` need; the Genesys
# Cloud SDK the tests check the simulator against is about 170 MB).
VENV := .venv
BIN := $(VENV)/bin
BASE := $(VENV)/.installed-base
DEV := $(VENV)/.installed-dev
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: install test lint demo simulate clean

$(BIN)/python:
	@echo "== creating the virtual environment $(VENV) (python3 -m venv)"
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(BASE): pyproject.toml | $(BIN)/python
	@echo "== installing the service into $(VENV): flask, gunicorn, requests, cerberus,"
	@echo "   sqlite-utils, python-dotenv, prometheus-client, dulwich (a few MB)"
	$(PIP) install -e .
	touch $@

$(DEV): $(BASE)
	@echo "== installing the test tools into $(VENV): pytest, ruff, mypy, standardwebhooks and"
	@echo "   the Genesys Cloud Python SDK (PureCloudPlatformClientV2, about 170 MB: a while)"
	$(PIP) install -e '.[dev]'
	touch $@

install: $(BASE)

lint: $(DEV)
	$(BIN)/ruff check service tests scripts
	$(BIN)/ruff format --check service tests scripts
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

demo: $(BASE)
	$(BIN)/archiver demo

simulate: $(BASE)
	$(BIN)/archiver simulate --port 8765

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
