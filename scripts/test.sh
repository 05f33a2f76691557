#!/usr/bin/env bash
# `deno task test`: the test suite against a real Kafka broker. With KAFKA_BROKERS unset it uses
# the local broker (scripts/kafka.sh), starting it if none answers and stopping it afterwards
# only if it started it. Extra arguments go to `deno test` (e.g. a folder: tests/lake/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

started=false
if [[ -z "${KAFKA_BROKERS:-}" ]]; then
  export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-9092}"
  if ! scripts/kafka.sh status >/dev/null 2>&1; then started=true; fi
  scripts/kafka.sh start
fi
stop_broker() { if $started; then scripts/kafka.sh stop >/dev/null || true; fi; }
trap stop_broker EXIT

if (($#)); then targets=("$@"); else targets=(tests/); fi
deno test --allow-all --unstable-cron "${targets[@]}"
