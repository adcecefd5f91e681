# Two commands (see README): `make run` sets everything up and serves the portal;
# `make test` sets everything up and runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck browser-deps pytest bench bench-ledger bench-public conformance clean lock \
    check-pythons

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

# The demo's secret (it seals ID numbers, birth dates and phones): a random one in
# portal.secret beside portal.db (mode 0600, git-ignored), unless PORTAL_SECRET or
# PORTAL_SECRET_FILE is set already. The portal never falls back to a built-in key.
ifeq ($(PORTAL_SECRET)$(PORTAL_SECRET_FILE),)
RUN_ENV := PORTAL_SECRET_FILE=$(CURDIR)/portal.secret
endif

run: $(STAMP)
	@if [ -z "$(PORTAL_SECRET)$(PORTAL_SECRET_FILE)" ] && [ ! -f portal.secret ]; then \
	  (umask 077 && $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(32))" > portal.secret); \
	  echo "Made a random demo secret in portal.secret (mode 0600): keep it with portal.db;" \
	       "in production set PORTAL_SECRET or PORTAL_SECRET_FILE yourself."; \
	fi
	$(RUN_ENV) $(BIN)/portal demo-data --practitioners 2000 --if-empty
	$(RUN_ENV) $(BIN)/portal serve

test: $(STAMP) lint typecheck browser-deps pytest

# Browser tests drive Debian's chromium (never a downloaded browser); screenshots need a
# CJK font. Installed with apt-get when missing (root, as on CI); without them the browser
# tests are skipped with a message.
browser-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! ls /usr/share/fonts/opentype/noto/NotoSansCJK* >/dev/null 2>&1 || ! command -v pdftoppm >/dev/null 2>&1; then \
	  echo "Installing Debian packages for the browser tests: chromium fonts-noto-cjk poppler-utils"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk poppler-utils >/dev/null) \
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

# Regenerate the lock file after editing dependencies in pyproject.toml. One universal lock
# for every supported Python (3.11 is the lower bound; markers cover the rest) and platform,
# with the hashes of every file of each pinned release. Pins already in the lock are kept
# unless the new constraints need otherwise; `make check-pythons` proves it afterwards.
lock:
	$(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
	  --generate-hashes --no-header -o requirements.lock

# Proves, without those Pythons installed, that every package the lock pins for CPython
# X.Y on Linux has a wheel whose hash is in the lock (pip download --only-binary=:all:
# --require-hashes), and that pyproject.toml's requires-python admits X.Y. It downloads
# (through pip's cache) into a temporary folder, so it is not part of `make test`.
# pip evaluates a requirement's markers against the Python running it, not the target, so
# each target's requirements are first picked from the lock by its own markers.
# pip's --platform takes exact tags: every manylinux_2_N tag from glibc 2.5 up
# to CHECK_GLIBC (2.28: Debian 10, RHEL 8) is passed, and manylinux2014 brings its aliases.
CHECK_PYTHONS ?= 3.11 3.12 3.13
CHECK_ARCHS   ?= x86_64 aarch64
CHECK_GLIBC   ?= 28

define LOCK_FOR_TARGET
import sys, tomllib
from pip._vendor.packaging.markers import Marker
from pip._vendor.packaging.specifiers import SpecifierSet
ver, arch = sys.argv[1], sys.argv[2]
with open("pyproject.toml", "rb") as f:
    rp = tomllib.load(f)["project"]["requires-python"]
if not SpecifierSet(rp).contains(ver + ".0"):
    sys.exit("pyproject.toml: requires-python " + rp + " refuses Python " + ver)
env = dict(python_version=ver, python_full_version=ver + ".0", implementation_name="cpython",
           implementation_version=ver + ".0", platform_python_implementation="CPython",
           sys_platform="linux", platform_system="Linux", os_name="posix", platform_machine=arch)
blocks, kept, skipped = [], 0, []
for line in open("requirements.lock"):
    if line.strip().startswith("#") or not line.strip():
        continue
    if not line[0].isspace():
        blocks.append([])
    blocks[-1].append(line.rstrip("\n"))
for block in blocks:
    head = block[0].rstrip(" \\")
    name, _, marker = head.partition(";")
    if marker.strip() and not Marker(marker.strip()).evaluate(env):
        skipped.append(name.strip())
        continue
    block[0] = name.strip() + " \\"
    print("\n".join(block))
    kept += 1
print("CPython " + ver + " " + arch + ": " + str(kept) + " pinned, not for this target: "
      + (", ".join(skipped) or "none"), file=sys.stderr)
endef
export LOCK_FOR_TARGET

check-pythons:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	for py in $(CHECK_PYTHONS); do for arch in $(CHECK_ARCHS); do \
	  plats="--platform manylinux2014_$$arch"; \
	  for g in $$(seq 5 $(CHECK_GLIBC)); do plats="$$plats --platform manylinux_2_$${g}_$$arch"; done; \
	  $(PYTHON) -c "$$LOCK_FOR_TARGET" $$py $$arch > $$tmp/req-$$py-$$arch.txt; \
	  mkdir -p $$tmp/$$py-$$arch; \
	  if ! $(PYTHON) -m pip download --disable-pip-version-check --no-deps --require-hashes \
	      --only-binary=:all: --implementation cp --python-version $$py $$plats \
	      -d $$tmp/$$py-$$arch -r $$tmp/req-$$py-$$arch.txt > $$tmp/log 2>&1; then \
	    grep -v -e '^WARNING: Location' -e '^Looking in' $$tmp/log | tail -n 25; \
	    echo "CPython $$py $$arch: FAILED: see pip's words above"; exit 1; \
	  fi; \
	  n=$$(ls $$tmp/$$py-$$arch | wc -l); want=$$(grep -c '^[^ ]' $$tmp/req-$$py-$$arch.txt); \
	  if [ "$$n" != "$$want" ]; then echo "CPython $$py $$arch: FAILED ($$n of $$want wheels)"; exit 1; fi; \
	  echo "CPython $$py $$arch: all $$n wheels found, hashes match the lock"; \
	  rm -rf $$tmp/$$py-$$arch; \
	done; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
