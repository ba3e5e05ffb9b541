# ainative: everyday commands. `make test` is the one test command (README, CI).

SHELL := /bin/bash
CARGO ?= cargo

# The PostgreSQL server the tests use (the same default as the test harness).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: run test services lint fmt migrate check-config bench clean

## run: start the API on the embedded default (SQLite under ./data, no other services)
run:
	$(CARGO) run --release

## test: every test of the workspace; needs PostgreSQL (TEST_DATABASE_URL)
test: services
	$(CARGO) test --workspace --all-targets

## services: check that PostgreSQL (TEST_DATABASE_URL) and Redis (127.0.0.1:6379) answer; never starts anything
services:
	@url='$(TEST_DATABASE_URL)'; \
	hostport="$${url#*://}"; hostport="$${hostport##*@}"; \
	hostport="$${hostport%%/*}"; hostport="$${hostport%%\?*}"; \
	case "$$hostport" in \
	  *:*) host="$${hostport%:*}"; port="$${hostport##*:}" ;; \
	  *)   host="$$hostport"; port=5432 ;; \
	esac; \
	host="$${host:-127.0.0.1}"; \
	if command -v pg_isready >/dev/null 2>&1; then \
	  pg_isready -q -h "$$host" -p "$$port" && ok=1; \
	else \
	  timeout 3 bash -c "exec 3<>/dev/tcp/$$host/$$port" 2>/dev/null && ok=1; \
	fi; \
	if [ -z "$${ok:-}" ]; then \
	  echo "PostgreSQL is not reachable at $$host:$$port; the tests need it."; \
	  echo "Start it, for example:"; \
	  echo "  Debian (as root): pg_ctlcluster --skip-systemctl-redirect \$$(ls /etc/postgresql) main start"; \
	  echo "  systemd:          sudo systemctl start postgresql"; \
	  echo "  Docker:           docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16"; \
	  echo "or point TEST_DATABASE_URL at a server whose user may create databases."; \
	  exit 1; \
	fi; \
	if ! timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/6379" 2>/dev/null; then \
	  echo "Redis is not reachable at 127.0.0.1:6379; the Redis adapter tests need it (and redis-server on PATH for the fault tests)."; \
	  echo "Start it, for example: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no"; \
	  exit 1; \
	fi

## lint: formatting and clippy, warnings are errors
lint:
	$(CARGO) fmt --all -- --check && $(CARGO) clippy --workspace --all-targets -- -D warnings

## fmt: format the workspace
fmt:
	$(CARGO) fmt --all

## migrate: apply pending migrations to DATABASE_URL
migrate:
	$(CARGO) run --release -- migrate up

## check-config: print the effective configuration, secrets masked
check-config:
	$(CARGO) run --release -- check-config

## bench: criterion micro-benchmarks, the load scenarios and a 1 MiB material end to end, against the release binary (docs/benchmarks.md)
bench:
	$(CARGO) bench -p ainative-benches
	bash benches/load.sh
	python3 benches/material_e2e.py

## clean: remove build output (./data, with its database and secret, is left alone)
clean:
	$(CARGO) clean
