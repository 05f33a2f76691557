#!/usr/bin/env bash
# `deno task dev`: the whole platform on one machine, for a newcomer with Deno and Java.
#
#   1. starts the local Kafka broker (scripts/kafka.sh; left running if it already was)
#   2. sets a development ANONYMIZATION_KEY and a random ADMIN_TOKEN (printed once, below)
#   3. runs the fake producer at a gentle rate in the background (its log: $DEV_LOG_DIR/produce.log,
#      so the terminal shows serve's story only: runs, a flow line every 30 s, warnings)
#   4. runs `serve` (consumer + processor + schedule + API) with the flags of `deno task start`
#      and PIPELINE_SCHEDULE every minute, so rows reach the warehouse soon
#   5. prints the dashboard address and curl lines to try, before serve starts: from then on only
#      serve writes to the terminal, so its lines and the banner never cut into each other
#
# Ctrl-C stops everything this script started (the broker only if it started it).
# Settings: PORT (8080), PIPELINE_SCHEDULE ("* * * * *"), PRODUCE_RATE (2 per second),
# DATA_LAKE_DIR, WAREHOUSE_PATH, KAFKA_PORT, ADMIN_TOKEN and ANONYMIZATION_KEY if you want your own,
# DEV_LOG_DIR (/tmp/datalake-dev), LOG_LEVEL=debug for every event on the terminal.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
say() { echo "dev.sh: $*"; }

export KAFKA_PORT="${KAFKA_PORT:-9092}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
export PORT="${PORT:-8080}"
export PIPELINE_SCHEDULE="${PIPELINE_SCHEDULE:-* * * * *}"
PRODUCE_RATE="${PRODUCE_RATE:-2}"
DEV_LOG_DIR="${DEV_LOG_DIR:-/tmp/datalake-dev}"
mkdir -p "$DEV_LOG_DIR"

broker_started=false
stopping=false
pids=()
cleanup() {
  # Ignored, not reset: a second Ctrl-C (or the one `deno task` passes on) must not cut the
  # cleanup short and leave the broker running.
  trap '' INT TERM
  trap - EXIT
  stopping=true
  say "stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if $broker_started; then scripts/kafka.sh stop || true; fi
  say "stopped"
}
trap cleanup INT TERM EXIT

if ! scripts/kafka.sh status >/dev/null 2>&1; then broker_started=true; fi
scripts/kafka.sh start

if [[ -z "${ANONYMIZATION_KEY:-}" ]]; then
  export ANONYMIZATION_KEY="dev-only-anonymization-key-not-for-production"
  say "ANONYMIZATION_KEY set to a development value (set your own secret outside development)"
fi
if [[ -z "${ADMIN_TOKEN:-}" ]]; then
  ADMIN_TOKEN="$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | head -c 40)"
  export ADMIN_TOKEN
  say "ADMIN_TOKEN set to a random development token (shown below, once)"
fi

# The exact flags of `deno task start` (same as the compiled binary).
source scripts/start_flags.sh
# exec: the background job's pid is deno's own, so the trap signals deno itself.
run_main() { exec deno run "${FLAGS[@]}" main.ts "$@"; }

base="http://127.0.0.1:$PORT"
cat <<INFO

  Starting: producer ($PRODUCE_RATE/s) → processor → lake → warehouse every minute.
  Admin token (development only): $ADMIN_TOKEN
  Dashboard: $base/      producer log: $DEV_LOG_DIR/produce.log

  curl $base/health
  curl $base/status                 (or "$base/status?format=text")
  curl -H "Authorization: Bearer $ADMIN_TOKEN" $base/feeds
  curl -H "Authorization: Bearer $ADMIN_TOKEN" "$base/feeds/TRANSACTIONS_USD/rows?limit=5"
  curl -H "Authorization: Bearer $ADMIN_TOKEN" "$base/feeds/USERS/rows?COUNTRY=France&limit=5"
  curl -H "Authorization: Bearer $ADMIN_TOKEN" $base/metrics
  curl -X POST -H "Authorization: Bearer $ADMIN_TOKEN" "$base/jobs/pipeline/run?wait=true"

  serve's lines follow ("● API" once it listens). Rows appear after the first scheduled load
  (within a minute). Ctrl-C stops everything.

INFO

# From here on only serve writes to this terminal (the banner is out before it starts), so its
# lines are never cut into. The producer's JSON lines go to their own file.
LOG_FORMAT=json run_main produce --rate "$PRODUCE_RATE" >/dev/null 2>"$DEV_LOG_DIR/produce.log" &
pids+=($!)
run_main serve &
pids+=($!)

# Until Ctrl-C, or until serve or the producer ends on its own.
wait -n "${pids[@]}" || true
if ! $stopping && ! kill -0 "${pids[0]}" 2>/dev/null; then
  say "the producer ended; the end of $DEV_LOG_DIR/produce.log:"
  tail -n 5 "$DEV_LOG_DIR/produce.log" >&2 || true
fi
