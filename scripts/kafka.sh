#!/usr/bin/env bash
# Local Apache Kafka (KRaft mode, broker and controller in one JVM per node) for development
# and tests. No Docker and no Kafka download: Maven fetches the broker jars once.
#
# Usage: scripts/kafka.sh start | stop | status | reset | version
#        scripts/kafka.sh sasl-env [PLAIN|SCRAM-SHA-256|SCRAM-SHA-512] | scram-user NAME PASSWORD
#        scripts/kafka.sh cluster start | stop | status | reset | brokers | kill N | restart N
#                                 | topic-config TOPIC
#   start    format storage on first use, start the broker in the background and return
#            once it accepts Kafka clients; does nothing if a broker already answers
#   stop     stop the broker this script started (SIGTERM, SIGKILL after a timeout)
#   status   print whether it runs; exit 0 if running, 3 if not
#   reset    stop it and delete its data (topics, offsets, consumer groups, SASL users, CA)
#   version  print the Kafka version of the cached jars
#   sasl-env print the settings (NAME=value lines) a client needs for the broker's SASL_SSL
#            listener with the given mechanism (default SCRAM-SHA-512); exit 3 if it has none
#   scram-user  create a SCRAM-SHA-256 and -512 user on the running broker, or change its
#            password (through the plaintext listener; the broker has no authorizer)
#   cluster  a three-node KRaft cluster on ports of its own: see scripts/kafka/cluster.sh
#
# Settings (environment):
#   KAFKA_PORT             plaintext client port on 127.0.0.1 (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default KAFKA_PORT + 1, so keep two
#                          brokers run side by side at least 2 ports apart, 3 with SASL_SSL)
#   KAFKA_SASL_SSL_PORT    if set, `start` adds a SASL_SSL listener on this port (off by default;
#                          .ci/run and scripts/test.sh use KAFKA_PORT + 2). It has a throwaway CA
#                          and certificate for 127.0.0.1/localhost, and one user, "datalake",
#                          for PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 with a random password
#   KAFKA_CACHE_DIR        jars, data and logs (default ~/.cache/datalake-kafka)
#   KAFKA_DATA_DIR         brokers' data and logs only (default the versioned folder in
#                          KAFKA_CACHE_DIR); .ci/run gives its brokers a fresh one
#   KAFKA_HEAP_OPTS        JVM heap flags (default -Xmx512m)
#   KAFKA_START_TIMEOUT    seconds `start` waits for the broker (default 180: a broker killed
#                          with thousands of partitions spends minutes recovering them)
#   KAFKA_STOP_TIMEOUT     seconds `stop` waits before SIGKILL (default 30)
#
# Files, all outside the repository:
#   $KAFKA_CACHE_DIR/kafka-<version>/libs/               jars (fetched once with mvn)
#   $KAFKA_DATA_DIR/port-<port>/data/   log.dirs (survives restarts)
#   $KAFKA_DATA_DIR/port-<port>/sasl/   CA, keystore, password (mode 600)
#   $KAFKA_DATA_DIR/port-<port>/{server.properties,kafka.pid,kafka.log}
# Needs: Java 17+ and Maven (first start only), openssl for SASL_SSL. Uses kcat, if
# installed, to check readiness.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=kafka/lib.sh
source "$SCRIPT_DIR/kafka/lib.sh"
# shellcheck source=kafka/sasl.sh
source "$SCRIPT_DIR/kafka/sasl.sh"

single_broker() {
  local port="${KAFKA_PORT:-9092}"
  need_number "$port"
  use_node "$KAFKA_DATA_ROOT/port-$port" "$port" "${KAFKA_CONTROLLER_PORT:-$((port + 1))}" 1 \
    "${KAFKA_HEAP_OPTS:--Xmx512m}"
  SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-}"
  [[ "$SASL_SSL_PORT" == off ]] && SASL_SSL_PORT=""
  if [[ -n "$SASL_SSL_PORT" ]]; then
    need_number "$SASL_SSL_PORT"
    [[ "$SASL_SSL_PORT" != "$PORT" && "$SASL_SSL_PORT" != "$CONTROLLER_PORT" ]] ||
      die "KAFKA_SASL_SSL_PORT must differ from the client and controller ports"
  fi
  sasl_paths
}

# Written on every start, so changes made here apply after a restart.
write_config() {
  mkdir -p "$DATA_DIR"
  local listeners="PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT"
  local advertised="PLAINTEXT://$HOST:$PORT"
  local protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [[ -n "$SASL_SSL_PORT" ]]; then
    listeners+=",SASL_SSL://$HOST:$SASL_SSL_PORT"
    advertised+=",SASL_SSL://$HOST:$SASL_SSL_PORT"
    protocols+=",SASL_SSL:SASL_SSL"
  fi
  (
    umask 077 # the file holds the PLAIN password when SASL_SSL is on
    cat >"$CONFIG" <<EOF
# Written by scripts/kafka.sh on each start; edits here are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
log.dirs=$DATA_DIR
default.replication.factor=1
# One node: internal topics cannot have more than one replica. Few partitions, so the
# first consumer group and the first transaction are ready quickly.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
$(common_config)
EOF
    if [[ -n "$SASL_SSL_PORT" ]]; then sasl_config >>"$CONFIG"; fi
  )
}

start() {
  local pid=""
  if pid="$(node_pid)" && node_answers; then
    say "already running (pid $pid) on $HOST:$PORT"
    warn_missing_sasl
    return 0
  fi
  if [[ -z "${pid:-}" ]] && node_answers; then
    say "a broker not started by this script already answers on $HOST:$PORT; using it"
    warn_missing_sasl
    return 0
  fi
  need_java
  fetch_jars
  mkdir -p "$RUN_DIR"
  if [[ -z "${pid:-}" ]]; then
    port_open && die "port $PORT is taken by something that is not a Kafka broker"
    port_open "$CONTROLLER_PORT" &&
      die "controller port $CONTROLLER_PORT is taken (choose another with KAFKA_CONTROLLER_PORT)"
    if [[ -n "$SASL_SSL_PORT" ]] && port_open "$SASL_SSL_PORT"; then
      die "SASL_SSL port $SASL_SSL_PORT is taken (choose another with KAFKA_SASL_SSL_PORT)"
    fi
    begin_log
    write_config
    local scram_args=() fresh=false
    [[ -f "$DATA_DIR/meta.properties" ]] || fresh=true
    if [[ -n "$SASL_SSL_PORT" ]]; then
      make_certificates
      # shellcheck disable=SC2207 # the words contain no spaces (hex password)
      scram_args=($(scram_format_args))
    fi
    format_storage "" "${scram_args[@]}"
    if [[ -n "$SASL_SSL_PORT" ]] && $fresh; then touch "$SCRAM_DONE"; fi
    launch_node
    say "starting Kafka $KAFKA_VERSION on $HOST:$PORT (controller $CONTROLLER_PORT${SASL_SSL_PORT:+, SASL_SSL $SASL_SSL_PORT}), log: $LOG_FILE"
  else
    say "broker (pid $pid) is still starting; waiting for it"
  fi
  wait_node
  if [[ -n "$SASL_SSL_PORT" && ! -f "$SCRAM_DONE" ]]; then
    # Data formatted before the listener existed: add the SCRAM users now.
    scram_user "$SASL_USER" "$(sasl_password)"
    touch "$SCRAM_DONE"
  fi
  say "ready on $HOST:$PORT (pid $(cat "$PID_FILE")) after ${SECONDS}s"
}

# A broker that already runs keeps its listeners: say so when a SASL_SSL one was asked for.
warn_missing_sasl() {
  [[ -z "$SASL_SSL_PORT" || "$(configured_sasl_port)" == "$SASL_SSL_PORT" ]] && return 0
  say "warning: it has no SASL_SSL listener on $SASL_SSL_PORT; to add one: scripts/kafka.sh stop," \
    "then KAFKA_SASL_SSL_PORT=$SASL_SSL_PORT scripts/kafka.sh start" >&2
}

stop() {
  if ! node_pid >/dev/null; then
    rm -f "$PID_FILE"
    if node_answers; then
      say "not stopping the broker on $HOST:$PORT: this script did not start it"
    else
      say "not running on $HOST:$PORT"
    fi
    return 0
  fi
  say "stopping broker (pid $(node_pid)) on $HOST:$PORT"
  stop_node
  say "stopped"
}

status() {
  local pid
  if pid="$(node_pid)"; then
    local sasl
    sasl="$(configured_sasl_port)"
    if node_answers; then
      say "running (pid $pid) on $HOST:$PORT${sasl:+ (SASL_SSL on $sasl)}, data: $DATA_DIR"
    else
      say "running (pid $pid) on $HOST:$PORT but not answering yet (starting or stuck; log: $LOG_FILE)"
    fi
    return 0
  fi
  if node_answers; then
    say "running on $HOST:$PORT (not started by this script)"
    return 0
  fi
  say "not running on $HOST:$PORT"
  return 3
}

reset() {
  stop
  say "deleting $DATA_DIR and $SASL_DIR"
  rm -rf "$DATA_DIR" "$SASL_DIR"
}

version() {
  need_java
  fetch_jars
  kafka_java kafka.Kafka --version 2>/dev/null | head -n 1
}

# NAME=value lines for a client of the SASL_SSL listener, e.g. `export $(scripts/kafka.sh sasl-env)`.
sasl_env() {
  local mechanism="${1:-SCRAM-SHA-512}" port
  case "$mechanism" in
    PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512) ;;
    *) die "unknown mechanism '$mechanism' (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)" ;;
  esac
  port="$(configured_sasl_port)"
  if [[ -z "$port" ]] || ! node_pid >/dev/null || ! port_open "$port"; then
    echo "kafka.sh: no SASL_SSL listener runs beside $HOST:$PORT; start one with" \
      "KAFKA_SASL_SSL_PORT=$((PORT + 2)) scripts/kafka.sh start (after scripts/kafka.sh stop)" >&2
    exit 3
  fi
  printf '%s\n' "KAFKA_BROKERS=$HOST:$port" "KAFKA_SECURITY_PROTOCOL=SASL_SSL" \
    "KAFKA_SASL_MECHANISM=$mechanism" "KAFKA_SASL_USERNAME=$SASL_USER" \
    "KAFKA_SASL_PASSWORD=$(cat "$PASSWORD_FILE")" "KAFKA_SSL_CA_FILE=$CA_FILE"
}

case "${1:-}" in
  start | stop | status | reset | version)
    single_broker
    "$1"
    ;;
  sasl-env)
    single_broker
    sasl_env "${2:-}"
    ;;
  scram-user)
    (($# == 3)) || die "usage: $0 scram-user NAME PASSWORD"
    single_broker
    node_answers || die "no broker answers on $HOST:$PORT"
    scram_user "$2" "$3"
    say "SCRAM-SHA-256 and SCRAM-SHA-512 credentials of $2 set"
    ;;
  cluster)
    # shellcheck source=kafka/cluster.sh
    source "$SCRIPT_DIR/kafka/cluster.sh"
    shift
    cluster_main "$@"
    ;;
  *)
    echo "usage: $0 start | stop | status | reset | version | sasl-env [MECHANISM]" \
      "| scram-user NAME PASSWORD | cluster COMMAND" >&2
    exit 2
    ;;
esac
