# Helpers shared by scripts/kafka.sh and scripts/kafka/cluster.sh (sourced, not run): the
# cached jars, and one broker JVM ("node") described by a few globals set with use_node.
# shellcheck shell=bash

KAFKA_VERSION=4.1.1 # keep in step with scripts/kafka/pom.xml
HOST=127.0.0.1
KAFKA_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
KAFKA_HOME="${KAFKA_CACHE_DIR:-$HOME/.cache/datalake-kafka}/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
# Brokers' data, config and logs (port-<port>/, cluster-<port>/); jars stay in KAFKA_HOME.
KAFKA_DATA_ROOT="${KAFKA_DATA_DIR:-$KAFKA_HOME}"
LOG4J_CONFIG="$KAFKA_SCRIPTS/log4j2.yaml"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-180}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"

say() { echo "kafka.sh: $*"; }
die() {
  echo "kafka.sh: error: $*" >&2
  exit 1
}

need_number() {
  local n
  for n in "$@"; do
    [[ "$n" =~ ^[0-9]+$ ]] || die "not a number: '$n' (check KAFKA_PORT and friends)"
  done
}
need_number "$START_TIMEOUT" "$STOP_TIMEOUT"

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
  cp "$KAFKA_SCRIPTS/pom.xml" "$work/pom.xml"
  # Debian's Maven 3.8 writes color codes even when quiet and not on a terminal: strip them.
  if ! mvn -B -q -f "$work/pom.xml" dependency:copy-dependencies -Dkafka.version="$KAFKA_VERSION" \
    -DincludeScope=runtime -DoutputDirectory="$work/libs" 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g'; then
    rm -rf "$work"
    die "Maven could not fetch the Kafka jars (network or ~/.m2 problem?)"
  fi
  mv "$work/libs" "$LIBS"
  rm -rf "$work"
}

# Runs a Kafka class (a tool: StorageTool, ConfigCommand) with the cached jars, a small heap
# and our quiet logging configuration.
kafka_java() {
  java -Xmx256m -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$LIBS/*" "$@"
}

# Describes one broker JVM: use_node RUN_DIR PORT CONTROLLER_PORT NODE_ID HEAP_OPTS
use_node() {
  RUN_DIR="$1" PORT="$2" CONTROLLER_PORT="$3" NODE_ID="$4" NODE_HEAP="$5"
  need_number "$PORT" "$CONTROLLER_PORT"
  [[ "$PORT" != "$CONTROLLER_PORT" ]] || die "client port and controller port must differ ($PORT)"
  DATA_DIR="$RUN_DIR/data"
  CONFIG="$RUN_DIR/server.properties"
  PID_FILE="$RUN_DIR/kafka.pid"
  LOG_FILE="$RUN_DIR/kafka.log"
}

# The pid of the node's JVM if this script started it and it still runs. Checks the command
# line too, so a recycled pid never gets mistaken for (and killed as) the broker.
node_pid() {
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

# Does a Kafka broker answer on the node's port? With kcat: a metadata request (no topic
# named, since naming one would auto-create it) must list a broker ("0 brokers" means still
# starting) or, given a node id, that very node. Without kcat: the port is open.
node_answers() {
  local id="${1:-}"
  port_open || return 1 # fast answer when nothing listens
  command -v kcat >/dev/null || return 0
  local meta
  meta="$(kcat -b "$HOST:$PORT" -L -m 3 2>/dev/null)" || return 1
  if [[ -n "$id" ]]; then
    grep -Eq "^ *broker $id at " <<<"$meta"
  else
    grep -Eq '^ *[1-9][0-9]* brokers:' <<<"$meta"
  fi
}

# First start only: give the data folder a cluster id and the KRaft bootstrap metadata.
# The cluster id (a new one when empty) comes first; extra arguments go to the format command
# (e.g. --add-scram).
format_storage() {
  local id="$1"
  shift
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  [[ -n "$id" ]] || id="$(kafka_java kafka.tools.StorageTool random-uuid)"
  say "formatting storage in $DATA_DIR"
  # No --standalone: the quorum is already given by controller.quorum.voters.
  kafka_java kafka.tools.StorageTool format -t "$id" -c "$CONFIG" "$@" >>"$LOG_FILE" 2>&1 ||
    { show_log; die "could not format $DATA_DIR"; }
}

# Starts the node's JVM in the background with the config already written. Detached from the
# calling shell (own session, no stdin, no terminal) so the broker outlives it; the inner bash
# writes its pid and then becomes the JVM via exec.
launch_node() {
  local detach=(nohup)
  command -v setsid >/dev/null && detach=(setsid)
  rm -f "$PID_FILE"
  # shellcheck disable=SC2086 # NODE_HEAP holds several flags on purpose
  "${detach[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" \
    java $NODE_HEAP -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$LIBS/*" kafka.Kafka "$CONFIG" \
    </dev/null >>"$LOG_FILE" 2>&1 &
  disown 2>/dev/null || true
}

# Marks a new start in the log, keeping the log from growing without end.
begin_log() {
  mkdir -p "$RUN_DIR"
  if [[ -f "$LOG_FILE" && $(wc -c <"$LOG_FILE") -gt 10000000 ]]; then
    mv "$LOG_FILE" "$LOG_FILE.old"
  fi
  echo "----- start $(date '+%Y-%m-%d %H:%M:%S') -----" >>"$LOG_FILE"
}

# Waits until the node answers (as node id $1 when given); dies with the log if its JVM exits.
wait_node() {
  local id="${1:-}" began=$SECONDS deadline=$((SECONDS + START_TIMEOUT))
  while ((SECONDS < deadline)); do
    if node_answers "$id"; then return 0; fi
    # Give the pid file a moment to appear before concluding that the JVM died.
    if ((SECONDS - began > 2)) && ! node_pid >/dev/null; then
      show_log
      die "the broker on $HOST:$PORT exited during start-up (log above, full log: $LOG_FILE)"
    fi
    sleep 0.5
  done
  show_log
  die "the broker on $HOST:$PORT did not accept clients within ${START_TIMEOUT}s (log: $LOG_FILE)"
}

# Stops the node's JVM: SIGTERM, then SIGKILL after STOP_TIMEOUT (or at once with "now").
stop_node() {
  local how="${1:-}" pid
  pid="$(node_pid)" || { rm -f "$PID_FILE"; return 1; }
  if [[ "$how" == now ]]; then
    kill -KILL "$pid" 2>/dev/null || true
  else
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      say "still running after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  rm -f "$PID_FILE"
}

# The broker settings every node of ours shares: quick group joins and quick aborts of
# timed-out transactions, as tests want.
common_config() {
  cat <<EOF
auto.create.topics.enable=true
num.partitions=1
group.initial.rebalance.delay.ms=0
transaction.abort.timed.out.transaction.cleanup.interval.ms=5000
EOF
}
