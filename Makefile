# `make run` serves the demo; `make test` runs the whole suite against PostgreSQL and Redis on localhost.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -ec
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/test
export TEST_DATABASE_URL

.PHONY: install run test lint chromium services

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $@

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo | tee $(VENV)/demo-logins.txt
	$(BIN)/python scripts/run_dev.py

# Debian's Chromium for the browser tests; Playwright's own browser download cannot work here.
# fonts-liberation: the statement PDF places its columns with Liberation Sans's metrics (portal/pdf/metrics.py).
chromium:
	@{ test -x /usr/bin/chromium && test -d /usr/share/fonts/truetype/liberation; } || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation; }

# PostgreSQL and Redis normally run already; start them if they have stopped. Redis keeps an
# append-only file as production must (docs/operations.md): queued tasks survive its restart.
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || { mkdir -p /var/lib/redis /var/log/redis && \
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 \
		--save "" --appendonly yes --appendfsync everysec --dir /var/lib/redis --logfile /var/log/redis/ci.log; }
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && exit 0; sleep 1; done; \
		echo "PostgreSQL or Redis did not start" >&2; exit 1

# axe-core (npm) for the accessibility check in tests/e2e.
node_modules/axe-core/axe.min.js: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

test: install chromium services node_modules/axe-core/axe.min.js
	$(BIN)/python -m pytest -n 2 --dist loadgroup -p no:cacheprovider

lint: install
	$(BIN)/ruff check .
