#!/usr/bin/env bash
# Local single-node Apache Kafka (KRaft mode, broker and controller in one JVM) for
# development and tests. No Docker and no Kafka download: Maven fetches the broker jars once.
#
# Usage: scripts/kafka.sh start | stop | status | reset | version
#   start    format storage on first use, start the broker in the background and return
#            once it accepts Kafka clients; does nothing if a broker already answers
#   stop     stop the broker this script started (SIGTERM, SIGKILL after a timeout)
#   status   print whether it runs; exit 0 if running, 3 if not
#   reset    stop it and delete its data (topics, offsets, consumer groups)
#   version  print the Kafka version of the cached jars
#
# Settings (environment):
#   KAFKA_PORT             client port on 127.0.0.1 (default 9092)
#   KAFKA_CONTROLLER_PORT  KRaft controller port (default KAFKA_PORT + 1, so keep two
#                          brokers run side by side at least 2 ports apart)
#   KAFKA_CACHE_DIR        jars, data and logs (default ~/.cache/datalake-kafka)
#   KAFKA_HEAP_OPTS        JVM heap flags (default -Xmx512m)
#   KAFKA_START_TIMEOUT    seconds `start` waits for the broker (default 60)
#   KAFKA_STOP_TIMEOUT     seconds `stop` waits before SIGKILL (default 30)
#
# Files, all outside the repository:
#   $KAFKA_CACHE_DIR/kafka-<version>/libs/               jars (fetched once with mvn)
#   $KAFKA_CACHE_DIR/kafka-<version>/port-<port>/data/   log.dirs (survives restarts)
#   $KAFKA_CACHE_DIR/kafka-<version>/port-<port>/{server.properties,kafka.pid,kafka.log}
# Needs: Java 17+ and Maven (first start only). Uses kcat, if installed, to check readiness.
set -euo pipefail

KAFKA_VERSION=4.1.1 # keep in step with scripts/kafka/pom.xml

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
HOST=127.0.0.1
KAFKA_HOME="${KAFKA_CACHE_DIR:-$HOME/.cache/datalake-kafka}/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
RUN_DIR="$KAFKA_HOME/port-$PORT"
DATA_DIR="$RUN_DIR/data"
CONFIG="$RUN_DIR/server.properties"
PID_FILE="$RUN_DIR/kafka.pid"
LOG_FILE="$RUN_DIR/kafka.log"
LOG4J_CONFIG="$SCRIPT_DIR/kafka/log4j2.yaml"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

say() { echo "kafka.sh: $*"; }
die() { echo "kafka.sh: error: $*" >&2; exit 1; }

for n in "$PORT" "$CONTROLLER_PORT" "$START_TIMEOUT" "$STOP_TIMEOUT"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "not a number: '$n' (check KAFKA_PORT and friends)"
done
[[ "$PORT" != "$CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ"

need_java() {
  command -v java >/dev/null || die "java not found; Kafka $KAFKA_VERSION needs Java 17 or newer"
  local major
  major="$(java -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p')"
  [[ -n "$major" && "$major" -ge 17 ]] ||
    die "Kafka $KAFKA_VERSION needs Java 17 or newer; found: $(java -version 2>&1 | head -n 1)"
}

# Download the jars once. Maven writes into a temporary folder that is renamed at the end,
# so an interrupted download is never mistaken for a complete one.
fetch_jars() {
  [[ -d "$LIBS" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found; Maven is needed once to fetch the Kafka jars"
  say "fetching Kafka $KAFKA_VERSION jars with Maven into $LIBS (once)"
  mkdir -p "$KAFKA_HOME"
  local work="$KAFKA_HOME/fetch.$$"
  rm -rf "$work" && mkdir -p "$work"
  # A copy of the pom, so Maven leaves nothing behind in the repository.
  cp "$SCRIPT_DIR/kafka/pom.xml" "$work/pom.xml"
  # Debian's Maven 3.8 writes color codes even when quiet and not on a terminal: strip them.
  if ! mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies -Dkafka.version="$KAFKA_VERSION" \
    -DincludeScope=runtime -DoutputDirectory="$work/libs" 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g'; then
    rm -rf "$work"
    die "Maven could not fetch the Kafka jars (network or ~/.m2 problem?)"
  fi
  mv "$work/libs" "$LIBS"
  rm -rf "$work"
}

# Runs a Kafka class with the cached jars and our quiet logging configuration.
kafka_java() {
  # shellcheck disable=SC2086 # KAFKA_HEAP_OPTS holds several flags on purpose
  java ${KAFKA_HEAP_OPTS:--Xmx512m} -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$LIBS/*" "$@"
}

# Written on every start, so changes made here apply after a restart.
write_config() {
  mkdir -p "$DATA_DIR"
  cat >"$CONFIG" <<EOF
# Written by scripts/kafka.sh on each start; edits here are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR
auto.create.topics.enable=true
num.partitions=1
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
# Tests want consumers to join at once and timed-out transactions to be aborted soon.
group.initial.rebalance.delay.ms=0
transaction.abort.timed.out.transaction.cleanup.interval.ms=5000
EOF
}

# First start only: give the data folder a cluster id and the KRaft bootstrap metadata.
format_storage() {
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  say "formatting storage in $DATA_DIR"
  local id
  id="$(kafka_java kafka.tools.StorageTool random-uuid)"
  # No --standalone: the quorum is already given by controller.quorum.voters.
  kafka_java kafka.tools.StorageTool format -t "$id" -c "$CONFIG" >>"$LOG_FILE" 2>&1 ||
    { show_log; die "could not format $DATA_DIR"; }
}

# The pid of the broker this script started on this port, if it still runs. Checks the
# command line too, so a recycled pid never gets mistaken for (and killed as) the broker.
broker_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  ps -p "$pid" -o args= 2>/dev/null | grep -qF "$CONFIG" || return 1
  echo "$pid"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/${1:-$PORT}") 2>/dev/null; }

# The log of the latest start without Java stack frames, which would hide the cause.
show_log() {
  awk '/^----- start /{n=0} {buf[++n]=$0} END{for(i=1;i<=n;i++) print buf[i]}' "$LOG_FILE" |
    grep -Ev '^[[:space:]]+(at |\.\.\. [0-9]+ more)' | tail -n 25 >&2
}

# Does a Kafka broker answer on the port? With kcat: a metadata request (no topic named,
# since naming one would auto-create it) must list a broker. Without kcat: the port is open.
broker_answers() {
  port_open || return 1 # fast answer when nothing listens
  command -v kcat >/dev/null || return 0
  local meta
  meta="$(kcat -b "$HOST:$PORT" -L -m 3 2>/dev/null)" || return 1
  grep -Eq '^ *[1-9][0-9]* brokers:' <<<"$meta" # "0 brokers" means still starting
}

start() {
  local pid=""
  if pid="$(broker_pid)" && broker_answers; then
    say "already running (pid $pid) on $HOST:$PORT"
    return 0
  fi
  if [[ -z "${pid:-}" ]] && broker_answers; then
    say "a broker not started by this script already answers on $HOST:$PORT; using it"
    return 0
  fi
  need_java
  fetch_jars
  mkdir -p "$RUN_DIR"
  if [[ -z "${pid:-}" ]]; then
    port_open && die "port $PORT is taken by something that is not a Kafka broker"
    port_open "$CONTROLLER_PORT" &&
      die "controller port $CONTROLLER_PORT is taken (choose another with KAFKA_CONTROLLER_PORT)"
    # Keep the log from growing without end across many starts.
    if [[ -f "$LOG_FILE" && $(wc -c <"$LOG_FILE") -gt 10000000 ]]; then
      mv "$LOG_FILE" "$LOG_FILE.old"
    fi
    echo "----- start $(date '+%Y-%m-%d %H:%M:%S') -----" >>"$LOG_FILE"
    write_config
    format_storage
    # Detach from the calling shell (own session, no stdin, no terminal) so the broker
    # outlives it; the inner bash writes its pid and then becomes the JVM via exec.
    local detach=(nohup)
    command -v setsid >/dev/null && detach=(setsid)
    rm -f "$PID_FILE"
    "${detach[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
      java ${KAFKA_HEAP_OPTS:--Xmx512m} -Djava.awt.headless=true \
      -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$LIBS/*" kafka.Kafka "$CONFIG" \
      </dev/null >>"$LOG_FILE" 2>&1 &
    disown 2>/dev/null || true
    say "starting Kafka $KAFKA_VERSION on $HOST:$PORT (controller $CONTROLLER_PORT), log: $LOG_FILE"
  else
    say "broker (pid $pid) is still starting; waiting for it"
  fi

  local began=$SECONDS deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if broker_answers; then
      say "ready on $HOST:$PORT (pid $(cat "$PID_FILE")) after ${SECONDS}s"
      return 0
    fi
    # Give the pid file a moment to appear before concluding that the JVM died.
    if ((SECONDS - began > 2)) && ! broker_pid >/dev/null; then
      show_log
      die "the broker exited during start-up (log above, full log: $LOG_FILE)"
    fi
    sleep 0.5
  done
  show_log
  die "the broker did not accept clients within ${START_TIMEOUT}s (still running; log: $LOG_FILE)"
}

stop() {
  local pid
  if ! pid="$(broker_pid)"; then
    rm -f "$PID_FILE"
    if broker_answers; then
      say "not stopping the broker on $HOST:$PORT: this script did not start it"
    else
      say "not running on $HOST:$PORT"
    fi
    return 0
  fi
  say "stopping broker (pid $pid) on $HOST:$PORT"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    say "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PID_FILE"
  say "stopped"
}

status() {
  local pid
  if pid="$(broker_pid)"; then
    if broker_answers; then
      say "running (pid $pid) on $HOST:$PORT, data: $DATA_DIR"
    else
      say "running (pid $pid) on $HOST:$PORT but not answering yet (starting or stuck; log: $LOG_FILE)"
    fi
    return 0
  fi
  if broker_answers; then
    say "running on $HOST:$PORT (not started by this script)"
    return 0
  fi
  say "not running on $HOST:$PORT"
  return 3
}

reset() {
  stop
  say "deleting $DATA_DIR"
  rm -rf "$DATA_DIR"
}

version() {
  need_java
  fetch_jars
  kafka_java kafka.Kafka --version 2>/dev/null | head -n 1
}

case "${1:-}" in
  start | stop | status | reset | version) "$1" ;;
  *)
    echo "usage: $0 start | stop | status | reset | version" >&2
    exit 2
    ;;
esac
