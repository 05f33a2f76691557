#!/usr/bin/env bash
# `deno task test`: the test suite against a real Kafka broker and a real MariaDB. With
# KAFKA_BROKERS unset it uses the local broker (scripts/kafka.sh), starting it if none answers and
# stopping it afterwards only if it started it. Likewise with WAREHOUSE_TEST_URL unset it uses the
# local MariaDB (scripts/mariadb.sh) when mariadb-server is installed, so the warehouse tests run
# on both engines; without mariadbd they run on SQLite only (the MySQL variants say "skipped").
# Extra arguments go to `deno test` (e.g. a folder: tests/lake/). For the whole suite, tests/e2e/
# or the SASL_SSL and cluster tests, it also starts (and afterwards stops) a SASL_SSL listener and
# a three-node cluster: see scripts/kafka/test_services.sh.
# `--unit` (`deno task test:unit`): the fast lane, every `tests/**/*_unit_test.ts`, found by name
# (a new file joins by its name; no list to keep). A unit test starts no process, no broker and no
# database server (temporary files and in-process SQLite are fine), and the lane enforces that:
# it runs without --allow-net and --allow-run, so a unit test that tries fails. Nothing is started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "${1:-}" == "--unit" ]]; then
  shift
  mapfile -t unit_tests < <(find tests -name '*_unit_test.ts' | sort)
  exec env -u WAREHOUSE_TEST_URL -u KAFKA_BROKERS \
    deno test --allow-read --allow-write --allow-env --allow-sys --unstable-cron \
    "${unit_tests[@]}" "$@"
fi

# What the tests use besides Deno and Java (kcat, sqlite3, MariaDB, Chromium): installed when
# this user can, else the tests that need a missing part are ignored with how to get it.
bash scripts/setup.sh

started=false
if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-9092}"
  export KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-$((${KAFKA_PORT:-9092} + 2))}"
  if ! scripts/kafka.sh status >/dev/null 2>&1; then started=true; fi
  scripts/kafka.sh start
fi
mariadb_started=false
if [[ -z "${WAREHOUSE_TEST_URL:-}" ]] && { command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]]; }; then
  if ! scripts/mariadb.sh status >/dev/null 2>&1; then mariadb_started=true; fi
  scripts/mariadb.sh start
  WAREHOUSE_TEST_URL="$(scripts/mariadb.sh url | tail -n 1)"
  export WAREHOUSE_TEST_URL
fi
# shellcheck source=kafka/test_services.sh
source scripts/kafka/test_services.sh
needs_test_brokers() {
  (($# == 0)) && return 0
  local target
  for target in "$@"; do
    [[ "$target" =~ ^(\./)?tests/?$|tests/e2e/?$|sasl_ssl_test|cluster_test ]] && return 0
  done
  return 1
}
stop_servers() {
  if $started; then scripts/kafka.sh stop >/dev/null || true; fi
  test_brokers_stop >/dev/null
  if $mariadb_started; then scripts/mariadb.sh stop >/dev/null || true; fi
}
trap stop_servers EXIT
if needs_test_brokers "$@"; then test_brokers_start; fi

if (($#)); then targets=("$@"); else targets=(tests/); fi
deno test --allow-all --unstable-cron "${targets[@]}"
