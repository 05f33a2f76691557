# A local three-node KRaft cluster (each node broker and controller in one JVM), sourced by
# scripts/kafka.sh for `scripts/kafka.sh cluster ...`:
#   start      format on first use, start the nodes not running, return once all three are in
#              the cluster's metadata
#   stop       stop the nodes this script started;  reset  stop them and delete their data
#   status     one line per node; exit 0 if all three run, 3 otherwise
#   brokers    print the bootstrap list (KAFKA_BROKERS value) of the three nodes
#   kill N     SIGKILL node N (1-3) at once, as a crash would
#   restart N  start node N again (after kill or stop) and wait until it is back in the metadata
#   topic-config TOPIC  print the topic's own settings (kafka-configs --describe), e.g.
#              min.insync.replicas=2 when whoever created it asked for that
#
# Node N listens on 127.0.0.1:KAFKA_CLUSTER_PORT + 2(N-1), its controller on the port after:
# 9192-9197 by default. Settings: KAFKA_CLUSTER_PORT (default 9192), KAFKA_CLUSTER_HEAP_OPTS
# (default -Xmx256m per node), KAFKA_START_TIMEOUT, KAFKA_STOP_TIMEOUT, KAFKA_CACHE_DIR,
# KAFKA_DATA_DIR.
# Files: $KAFKA_DATA_DIR/cluster-<port>/node-N/{data,server.properties,kafka.log}.
#
# The brokers keep Kafka's own defaults for topics created without settings (replication
# factor 1, min.insync.replicas 1), so a test sees whether the product asks for 3 and 2.
# Internal topics (offsets, transactions) get 3 replicas and min.isr 2, as Kafka's defaults.
# shellcheck shell=bash

CLUSTER_NODES=3
CLUSTER_BASE="${KAFKA_CLUSTER_PORT:-9192}"
need_number "$CLUSTER_BASE"
CLUSTER_DIR="$KAFKA_DATA_ROOT/cluster-$CLUSTER_BASE"

use_cluster_node() {
  local n="$1"
  [[ "$n" =~ ^[1-3]$ ]] || die "node number must be 1, 2 or 3 (got '$n')"
  use_node "$CLUSTER_DIR/node-$n" "$((CLUSTER_BASE + 2 * (n - 1)))" \
    "$((CLUSTER_BASE + 2 * (n - 1) + 1))" "$n" "${KAFKA_CLUSTER_HEAP_OPTS:--Xmx256m}"
}

cluster_brokers() {
  local n list=()
  for ((n = 1; n <= CLUSTER_NODES; n++)); do list+=("$HOST:$((CLUSTER_BASE + 2 * (n - 1)))"); done
  (IFS=, && echo "${list[*]}")
}

cluster_voters() {
  local n list=()
  for ((n = 1; n <= CLUSTER_NODES; n++)); do
    list+=("$n@$HOST:$((CLUSTER_BASE + 2 * (n - 1) + 1))")
  done
  (IFS=, && echo "${list[*]}")
}

write_cluster_config() {
  mkdir -p "$DATA_DIR"
  cat >"$CONFIG" <<EOF
# Written by scripts/kafka.sh cluster on each start; edits here are lost.
process.roles=broker,controller
node.id=$NODE_ID
controller.quorum.voters=$(cluster_voters)
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA_DIR
offsets.topic.replication.factor=3
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
# A killed leader is replaced soon, and a restarted node takes its partitions back.
replica.lag.time.max.ms=10000
leader.imbalance.check.interval.seconds=10
$(common_config)
EOF
}

# Starts node N's JVM unless it runs; does not wait.
launch_cluster_node() {
  use_cluster_node "$1"
  node_pid >/dev/null && return 0
  port_open && die "port $PORT (node $1) is taken by something this script did not start"
  port_open "$CONTROLLER_PORT" && die "controller port $CONTROLLER_PORT (node $1) is taken"
  begin_log
  write_cluster_config
  format_storage "$(cluster_id)"
  launch_node
  say "starting node $1 on $HOST:$PORT (controller $CONTROLLER_PORT), log: $LOG_FILE"
}

# One id for the three data folders, made on first use.
cluster_id() {
  local file="$CLUSTER_DIR/cluster.id"
  if [[ ! -s "$file" ]]; then
    mkdir -p "$CLUSTER_DIR"
    kafka_java kafka.tools.StorageTool random-uuid >"$file"
  fi
  cat "$file"
}

cluster_start() {
  need_java
  fetch_jars
  local n
  for ((n = 1; n <= CLUSTER_NODES; n++)); do launch_cluster_node "$n"; done
  # Each node is ready once the metadata it serves lists it; the quorum needs two of three.
  for ((n = 1; n <= CLUSTER_NODES; n++)); do
    use_cluster_node "$n"
    wait_node "$n"
  done
  wait_producers
  say "cluster ready: $(cluster_brokers) after ${SECONDS}s"
}

# For a while after a fresh start the nodes answer metadata but cannot yet hand out producer
# ids: wait until an idempotent producer (kcat) gets one and writes to a probe topic.
wait_producers() {
  command -v kcat >/dev/null || return 0
  local deadline=$((SECONDS + START_TIMEOUT))
  until echo ready | kcat -b "$(cluster_brokers)" -P -t _kafka_sh_ready -X enable.idempotence=true \
    -X message.timeout.ms=5000 2>/dev/null; do
    ((SECONDS < deadline)) || die "the cluster does not accept producers after ${START_TIMEOUT}s"
    sleep 1
  done
}

# SIGTERM to all nodes at once: stopped one by one, the last ones would wait for a quorum
# that is gone. SIGKILL after STOP_TIMEOUT.
cluster_stop() {
  local n pid pids=() deadline=$((SECONDS + STOP_TIMEOUT))
  for ((n = 1; n <= CLUSTER_NODES; n++)); do
    use_cluster_node "$n"
    if pid="$(node_pid)"; then
      kill -TERM "$pid" 2>/dev/null || true
      pids+=("$pid")
    fi
    rm -f "$PID_FILE"
  done
  for pid in "${pids[@]}"; do
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      say "pid $pid still running after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  done
  say "cluster stopped (${#pids[@]} nodes were running)"
}

cluster_status() {
  local n running=0 pid
  for ((n = 1; n <= CLUSTER_NODES; n++)); do
    use_cluster_node "$n"
    if pid="$(node_pid)"; then
      if node_answers "$n"; then
        say "node $n running (pid $pid) on $HOST:$PORT"
        running=$((running + 1))
      else
        say "node $n running (pid $pid) on $HOST:$PORT but not in the metadata yet (log: $LOG_FILE)"
      fi
    else
      say "node $n not running ($HOST:$PORT)"
    fi
  done
  ((running == CLUSTER_NODES)) || return 3
}

cluster_main() {
  case "${1:-}" in
    start) cluster_start ;;
    stop) cluster_stop ;;
    status) cluster_status ;;
    brokers) cluster_brokers ;;
    reset)
      cluster_stop
      say "deleting $CLUSTER_DIR"
      rm -rf "$CLUSTER_DIR"
      ;;
    kill)
      use_cluster_node "${2:-}"
      stop_node now || die "node $2 is not running"
      say "killed node $2 (SIGKILL)"
      ;;
    restart)
      need_java
      fetch_jars
      launch_cluster_node "${2:-}"
      wait_node "$2"
      say "node $2 is back on $HOST:$PORT after ${SECONDS}s"
      ;;
    topic-config)
      [[ -n "${2:-}" ]] || die "usage: scripts/kafka.sh cluster topic-config TOPIC"
      fetch_jars
      kafka_java kafka.admin.ConfigCommand --bootstrap-server "$(cluster_brokers)" --describe \
        --entity-type topics --entity-name "$2"
      ;;
    *)
      echo "usage: scripts/kafka.sh cluster start | stop | status | reset | brokers" \
        "| kill N | restart N | topic-config TOPIC" >&2
      exit 2
      ;;
  esac
}
