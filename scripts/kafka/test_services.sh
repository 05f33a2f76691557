# The brokers the security and cluster tests need, for .ci/run and scripts/test.sh (sourced):
#   test_brokers_start   a SASL_SSL listener and a three-node cluster; exports their settings
#   test_brokers_stop    stops what test_brokers_start started, and nothing else
# Exported to the tests:
#   KAFKA_TEST_SASL_BROKERS, KAFKA_TEST_SASL_USERNAME, KAFKA_TEST_SASL_PASSWORD,
#   KAFKA_TEST_SASL_CA_FILE   the SASL_SSL listener (one user for PLAIN and both SCRAMs); also as
#                             KAFKA_TEST_SASL_SSL_BROKERS and KAFKA_TEST_SSL_CA_FILE
#   KAFKA_TEST_SASL_PLAINTEXT_BROKERS   the same broker's plaintext listener (creating SCRAM
#                             users with `KAFKA_PORT=<its port> scripts/kafka.sh scram-user`)
#   KAFKA_TEST_CLUSTER_BROKERS  the three nodes (`KAFKA_CLUSTER_PORT=<first port> scripts/kafka.sh
#                             cluster kill|restart N`)
# The SASL_SSL listener is the one of the broker on KAFKA_PORT when that broker has it (it has
# when this run started it with KAFKA_SASL_SSL_PORT); otherwise, e.g. beside a developer's own
# broker, a broker of its own on KAFKA_TEST_SASL_KAFKA_PORT (default 9096, SASL_SSL on +2).
# The cluster is on KAFKA_CLUSTER_PORT (default 9192-9197); when this starts it, it starts it
# empty. Already set KAFKA_TEST_* settings are kept and nothing is started for them.
# shellcheck shell=bash

_tb_repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
_tb_sasl_port="" # the KAFKA_PORT of a SASL broker this started
_tb_cluster=false

# Starts on a loaded machine can take a minute per broker.
_tb_kafka() { KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-180}" "$_tb_repo/scripts/kafka.sh" "$@"; }

# Exports KAFKA_TEST_SASL_* from `sasl-env` of the broker on port $1.
_tb_export_sasl() {
  local env
  env="$(KAFKA_PORT="$1" _tb_kafka sasl-env 2>/dev/null)" || return 1
  KAFKA_TEST_SASL_BROKERS="$(sed -n 's/^KAFKA_BROKERS=//p' <<<"$env")"
  KAFKA_TEST_SASL_USERNAME="$(sed -n 's/^KAFKA_SASL_USERNAME=//p' <<<"$env")"
  KAFKA_TEST_SASL_PASSWORD="$(sed -n 's/^KAFKA_SASL_PASSWORD=//p' <<<"$env")"
  KAFKA_TEST_SASL_CA_FILE="$(sed -n 's/^KAFKA_SSL_CA_FILE=//p' <<<"$env")"
  KAFKA_TEST_SASL_PLAINTEXT_BROKERS="127.0.0.1:$1"
  # The same under the names tests/kafka/security_test.ts reads.
  KAFKA_TEST_SASL_SSL_BROKERS="$KAFKA_TEST_SASL_BROKERS"
  KAFKA_TEST_SSL_CA_FILE="$KAFKA_TEST_SASL_CA_FILE"
  export KAFKA_TEST_SASL_BROKERS KAFKA_TEST_SASL_USERNAME KAFKA_TEST_SASL_PASSWORD \
    KAFKA_TEST_SASL_CA_FILE KAFKA_TEST_SASL_PLAINTEXT_BROKERS KAFKA_TEST_SASL_SSL_BROKERS \
    KAFKA_TEST_SSL_CA_FILE
}

test_brokers_start() {
  if [[ -z "${KAFKA_TEST_SASL_BROKERS:-}" ]] && ! _tb_export_sasl "${KAFKA_PORT:-9092}"; then
    local port="${KAFKA_TEST_SASL_KAFKA_PORT:-9096}"
    if ! KAFKA_PORT="$port" _tb_kafka status >/dev/null 2>&1; then _tb_sasl_port="$port"; fi
    KAFKA_PORT="$port" KAFKA_SASL_SSL_PORT="$((port + 2))" _tb_kafka start
    _tb_export_sasl "$port" || {
      echo "test brokers: no SASL_SSL listener beside 127.0.0.1:$port" >&2
      return 1
    }
  fi
  # The outside client the SCRAM tests read with: installed now, so a failure shows here.
  "$_tb_repo/scripts/kafka/outside_client.sh" setup >/dev/null
  if [[ -z "${KAFKA_TEST_CLUSTER_BROKERS:-}" ]]; then
    if ! _tb_kafka cluster status >/dev/null 2>&1; then
      _tb_cluster=true
      _tb_kafka cluster reset >/dev/null
    fi
    _tb_kafka cluster start
    KAFKA_TEST_CLUSTER_BROKERS="$(_tb_kafka cluster brokers)"
    export KAFKA_TEST_CLUSTER_BROKERS
  fi
}

test_brokers_stop() {
  if [[ -n "$_tb_sasl_port" ]]; then KAFKA_PORT="$_tb_sasl_port" _tb_kafka stop || true; fi
  if $_tb_cluster; then _tb_kafka cluster stop || true; fi
  _tb_sasl_port=""
  _tb_cluster=false
}
