# Two commands (see README): `make run` sets everything up and serves the portal;
# `make test` sets everything up and runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck browser-deps pytest bench bench-ledger bench-public conformance clean lock

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/portal demo-data --practitioners 2000 --if-empty
	$(BIN)/portal serve

test: $(STAMP) lint typecheck browser-deps pytest

# Browser tests drive Debian's chromium (never a downloaded browser); screenshots need a
# CJK font. Installed with apt-get when missing (root, as on CI); without them the browser
# tests are skipped with a message.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1; then \
	  echo "Installing Debian packages for the browser tests: chromium fonts-noto-cjk"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null) \
	    || echo "Could not install them (not root?): the browser tests will be skipped"; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The whole suite on SQLite; database tests run again on PostgreSQL when one answers at
# $(PG_TEST_URL) (CI machines run one), each test in a schema of its own.
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
pytest: $(STAMP)
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(PG_TEST_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "PostgreSQL answers at $(PG_TEST_URL): database tests run on SQLite and PostgreSQL"; \
	  TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -q; \
	else \
	  echo "No PostgreSQL at $(PG_TEST_URL): database tests run on SQLite only"; \
	  $(BIN)/pytest -q; \
	fi

conformance: $(STAMP)
	$(BIN)/python -m scoring check tests/conformance/cases

bench: $(STAMP)
	$(BIN)/python bench/engine.py

bench-ledger: $(STAMP)
	$(BIN)/python bench/ledger.py

bench-public: $(STAMP)
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python bench/public.py

# Regenerate the lock file after editing dependencies in pyproject.toml.
lock:
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
	  --python-platform x86_64-unknown-linux-gnu --generate-hashes --no-header -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
