#!/usr/bin/env bash
# Local Confluent-compatible Schema Registry for development and tests: Apicurio Registry
# (Apache-2.0) from its release package on Maven Central, in-memory storage, both ports bound to
# 127.0.0.1. No Docker: Maven fetches the package once into a cache outside the repository.
#
# Usage: scripts/schema-registry.sh start | stop | status | url
#   start   fetch the package on first use, start the registry in the background and return once
#           it answers on its Confluent API; does nothing if ours already answers
#   stop    stop the registry this script started (SIGTERM, SIGKILL after a timeout); its
#           schemas are gone (in-memory storage)
#   status  print whether it runs; exit 0 if running, 3 if not
#   url     print the Confluent API base URL (the value for SCHEMA_REGISTRY_URL) on the last line
#   pause   freeze the running registry (SIGSTOP): it keeps its schemas but answers nothing, as a
#           hung or unreachable registry; `resume` (SIGCONT) lets it go on (outage tests)
#
# Version by Java: Apicurio 3.3.3 needs Java 21 or newer; with Java 17, 2.6.13.Final runs instead
# (same Confluent API). The Java is JAVA_HOME's when set, else the newest of `java` on PATH and
# the JDKs under /usr/lib/jvm.
#
# Settings (environment):
#   SCHEMA_REGISTRY_PORT            HTTP port on 127.0.0.1 (default 18081)
#   SCHEMA_REGISTRY_MGMT_PORT       Quarkus management port (default SCHEMA_REGISTRY_PORT + 1)
#   SCHEMA_REGISTRY_CACHE_DIR       package, logs, pid (default ~/.cache/datalake-registry)
#   SCHEMA_REGISTRY_START_TIMEOUT   seconds `start` waits (default 90)
#   SCHEMA_REGISTRY_HEAP_OPTS       JVM heap flags (default -Xmx384m)
set -euo pipefail

PORT="${SCHEMA_REGISTRY_PORT:-18081}"
MGMT_PORT="${SCHEMA_REGISTRY_MGMT_PORT:-$((PORT + 1))}"
CACHE="${SCHEMA_REGISTRY_CACHE_DIR:-$HOME/.cache/datalake-registry}"
START_TIMEOUT="${SCHEMA_REGISTRY_START_TIMEOUT:-90}"
STOP_TIMEOUT=20
HEAP_OPTS="${SCHEMA_REGISTRY_HEAP_OPTS:--Xmx384m}"
HOST=127.0.0.1
RUN_DIR="$CACHE/port-$PORT"
PID_FILE="$RUN_DIR/registry.pid"
LOG_FILE="$RUN_DIR/registry.log"
URL="http://$HOST:$PORT/apis/ccompat/v7"

say() { echo "schema-registry.sh: $*"; }
die() { echo "schema-registry.sh: error: $*" >&2; exit 1; }

for n in "$PORT" "$MGMT_PORT" "$START_TIMEOUT"; do
  [[ "$n" =~ ^[0-9]+$ ]] || die "not a number: '$n' (check SCHEMA_REGISTRY_PORT and friends)"
done
[[ "$PORT" != "$MGMT_PORT" ]] || die "SCHEMA_REGISTRY_PORT and SCHEMA_REGISTRY_MGMT_PORT must differ"

java_major() { "$1" -version 2>&1 | sed -nE '1s/.*version "([0-9]+).*/\1/p'; }

# The Java to use, as "<major> <path>": JAVA_HOME's when set, else the newest of `java` on PATH
# and the JDKs under /usr/lib/jvm; nothing if none.
find_java() {
  local best_major=0 best="" candidate major candidates
  if [[ -n "${JAVA_HOME:-}" ]]; then
    candidates=("$JAVA_HOME/bin/java")
  else
    candidates=("$(command -v java || true)" /usr/lib/jvm/*/bin/java)
  fi
  for candidate in "${candidates[@]}"; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    major="$(java_major "$candidate")"
    [[ -n "$major" ]] || continue
    if ((major > best_major)); then best_major=$major best=$candidate; fi
  done
  [[ -n "$best" ]] && echo "$best_major $best"
}

answers() { curl -fsS -m 2 -o /dev/null "$URL/subjects" 2>/dev/null; }

running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Fetch the package once; an interrupted fetch or unpack is never taken for a complete one.
fetch_package() {
  local version="$1" home="$CACHE/apicurio-$1"
  [[ -f "$home/.complete" ]] && return 0
  command -v mvn >/dev/null || die "mvn not found; Maven is needed once to fetch Apicurio $version"
  say "fetching Apicurio Registry $version from Maven Central into $home (once)"
  local work="$CACHE/fetch.$$"
  rm -rf "$work" && mkdir -p "$work/app"
  if ! mvn -B -q dependency:copy -Dartifact="io.apicurio:apicurio-registry-app:$version:tar.gz:all" \
    -DoutputDirectory="$work" 2>&1 | sed -E 's/\x1b\[[0-9;]*m//g'; then
    rm -rf "$work"
    die "Maven could not fetch io.apicurio:apicurio-registry-app:$version (network or ~/.m2?)"
  fi
  tar xzf "$work"/apicurio-registry-app-*.tar.gz -C "$work/app"
  touch "$work/app/.complete"
  rm -rf "$home"
  mv "$work/app" "$home"
  rm -rf "$work"
}

start() {
  if running_pid >/dev/null && answers; then
    say "already running at $URL"
    return 0
  fi
  if answers; then die "something else answers on port $PORT; choose SCHEMA_REGISTRY_PORT"; fi
  local found major java version
  found="$(find_java)" || true
  [[ -n "$found" ]] || die "java not found; Apicurio Registry needs Java 17 or newer"
  major="${found%% *}" java="${found#* }"
  if ((major >= 21)); then
    version=3.3.3
  elif ((major >= 17)); then
    version=2.6.13.Final
  else
    die "Apicurio Registry needs Java 17 or newer; the newest found is $major ($java)"
  fi
  fetch_package "$version"
  local home="$CACHE/apicurio-$version" jar candidate
  # 3.x ships quarkus-run.jar (fast-jar layout), 2.x a single *-runner.jar beside lib/.
  jar=""
  for candidate in "$home"/quarkus-run.jar "$home"/apicurio-registry-app-*-runner.jar; do
    if [[ -f "$candidate" ]]; then jar="$(basename "$candidate")" && break; fi
  done
  [[ -n "$jar" ]] || die "no runnable jar in $home (delete it to fetch again)"
  mkdir -p "$RUN_DIR"
  say "starting Apicurio Registry $version (Java $major) on $HOST:$PORT"
  # Both listeners on loopback: Quarkus' management interface binds 0.0.0.0 by default.
  (
    cd "$home"
    # shellcheck disable=SC2086
    exec setsid "$java" $HEAP_OPTS \
      -Dquarkus.http.host=$HOST -Dquarkus.http.port="$PORT" \
      -Dquarkus.management.host=$HOST -Dquarkus.management.port="$MGMT_PORT" \
      -Dquarkus.management.enabled=true \
      -Dquarkus.log.console.json=false -Dquarkus.banner.enabled=false \
      -jar "$jar" </dev/null >"$LOG_FILE" 2>&1
  ) &
  echo $! >"$PID_FILE"
  local waited=0
  while ! answers; do
    if ! running_pid >/dev/null; then
      tail -n 20 "$LOG_FILE" >&2 || true
      die "the registry exited during start; log: $LOG_FILE"
    fi
    ((waited < START_TIMEOUT * 2)) || die "the registry did not answer within ${START_TIMEOUT}s; log: $LOG_FILE"
    sleep 0.5
    waited=$((waited + 1))
  done
  say "ready at $URL"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    say "not running"
    rm -f "$PID_FILE"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local waited=0
  while kill -0 "$pid" 2>/dev/null; do
    if ((waited >= STOP_TIMEOUT * 10)); then
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  rm -f "$PID_FILE"
  say "stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if running_pid >/dev/null && answers; then
      say "running at $URL (pid $(running_pid))"
    else
      say "not running"
      exit 3
    fi
    ;;
  url) echo "$URL" ;;
  pause | resume)
    pid="$(running_pid)" || die "not running"
    kill "-$([[ "$1" == pause ]] && echo STOP || echo CONT)" "$pid"
    say "${1}d (pid $pid)"
    ;;
  *) die "usage: scripts/schema-registry.sh start|stop|status|url|pause|resume" ;;
esac
