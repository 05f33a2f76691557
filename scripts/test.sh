#!/usr/bin/env bash
# `deno task test`: the test suite against a real Kafka broker and a real MariaDB. With
# KAFKA_BROKERS unset it uses the local broker (scripts/kafka.sh), starting it if none answers and
# stopping it afterwards only if it started it. Likewise with WAREHOUSE_TEST_URL unset it uses the
# local MariaDB (scripts/mariadb.sh) when mariadb-server is installed, so the warehouse tests run
# on both engines; without mariadbd they run on SQLite only (the MySQL variants say "skipped").
# Extra arguments go to `deno test` (e.g. a folder: tests/lake/). For the whole suite, tests/e2e/
# or the SASL_SSL and cluster tests, it also starts (and afterwards stops) a SASL_SSL listener and
# a three-node cluster: see scripts/kafka/test_services.sh.
# `--unit` (`deno task test:unit`): the fast lane, the tests below that need neither a broker nor
# MariaDB (checked by running them with no broker reachable); nothing is started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

UNIT_TESTS=(
  tests/config tests/contract tests/core tests/scheduler tests/e2e/compile_test.ts
  tests/governance/{accounts,permissions,pii_scan,retention,erasure_lake}_test.ts
  tests/hostile/{audit_pii,retention,warehouse}_test.ts
  tests/kafka/{retry,settings,supervise}_test.ts
  tests/lake/{layout,records,tables,writer}_test.ts
  tests/processor/{aggregates,transform}_test.ts
  tests/routes/dashboard_route_test.ts tests/service/history_test.ts
  tests/warehouse/{counts,lines,schema,loader,cli,disk_full}_test.ts
)
if [[ "${1:-}" == "--unit" ]]; then
  shift
  exec env -u WAREHOUSE_TEST_URL KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}" \
    deno test --allow-all --unstable-cron "${UNIT_TESTS[@]}" "$@"
fi

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
