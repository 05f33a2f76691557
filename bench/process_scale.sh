#!/usr/bin/env bash
# Scale-out of the processor (issue 18): SCALE_COUNT (default 200,000) raw transactions in a
# fresh raw topic of 2 partitions, processed (1) by one `process` instance and then (2) by two
# instances of one group side by side (one partition each), each run with topics, group and state
# of its own. Continuous `process` (not --once: an instance stops at the end of the partitions
# it owns only in continuous mode, by SIGTERM), timed from the launch to the moment the group has
# committed the end of both raw partitions (polled twice a second), start-up and group join
# included. Prints both throughputs, their ratio (the issue's goal is 1.6× where the machine has
# the cores), each instance's CPU seconds and peak RSS, and the load average.
# Needs the broker (KAFKA_BROKERS, default localhost:9092), kcat and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT="${SCALE_COUNT:-200000}"
BROKERS="${KAFKA_BROKERS:-localhost:9092}"
STAMP="$(date +%s)_$$"
RUN="bench_scale_${STAMP}"
export KAFKA_BROKERS="$BROKERS" ANONYMIZATION_KEY="bench-anonymization-key" LOG_FORMAT=json
export RAW_TOPIC="${RUN}_raw"
WORK="$(mktemp -d -t bench-scale-XXXXXX)"
TOPIC_TOOL=(deno run --allow-net --allow-env --allow-read --allow-sys bench/ingest_topic.ts)
cleanup() {
  rm -rf "$WORK"
  for t in $(kcat -b "$BROKERS" -L 2>/dev/null | grep -oE "topic \"(${RUN}|bench-scale-${STAMP})[^\"]*\"" |
    cut -d'"' -f2); do
    "${TOPIC_TOOL[@]}" delete "$t" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
load() { cut -d' ' -f1-3 /proc/loadavg; }
peak_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
cpu_s() { awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$1"; }

deno run --allow-read --allow-write bench/process_gen.ts "$COUNT" "$WORK/raw.tsv"
deno eval 'import { currencyRateRecords } from "./src/producer/rates.ts";
for (const r of currencyRateRecords()) console.log(`${r.CURRENCY}\t${JSON.stringify(r)}`);' \
  >"$WORK/rates.tsv"
# Two partitions (one per instance), created through the product's client.
deno eval --ext=ts "import { loadConfig } from './src/config/config.ts';
import { createLogger } from './src/core/log.ts';
import { closeWithin, connectKafka } from './src/kafka/connect.ts';
const kafka = connectKafka(loadConfig(), createLogger());
await kafka.ensureTopics([{ topic: '$RAW_TOPIC', partitions: 2 }]);
await closeWithin(kafka);"
kcat -b "$BROKERS" -P -t "$RAW_TOPIC" -K $'\t' -l \
  -X linger.ms=100 -X batch.num.messages=50000 -X batch.size=8000000 \
  -X queue.buffering.max.messages=2000000 -X queue.buffering.max.kbytes=2000000 "$WORK/raw.tsv"
deno cache --quiet main.ts bench/process_scale_wait.ts
# The start task's flags, run without `deno task` in between: /usr/bin/time's child is the
# instance itself, which gets the SIGTERM and prints its summary.
source scripts/start_flags.sh

run() { # instances name → "seconds"
  local n=$1 name=$2 prefix="${RUN}_${2}_" group="bench-scale-${STAMP}-$2" pids=()
  kcat -b "$BROKERS" -P -t "${prefix}CURRENCY_RATES" -K $'\t' -l "$WORK/rates.tsv"
  local since
  since=$(date +%s.%N)
  for i in $(seq 1 "$n"); do
    KAFKA_GROUP_ID="$group" REJECTED_TOPIC="${prefix}rejected" PROCESSOR_TOPIC_PREFIX="$prefix" \
      PROCESSOR_STATE_DIR="$WORK/state-$name-$i" \
      /usr/bin/time -v -o "$WORK/time-$name-$i.txt" deno run "${FLAGS[@]}" main.ts process \
      >"$WORK/out-$name-$i.txt" 2>"$WORK/err-$name-$i.txt" &
    local timer=$!
    local child=""
    while [ -z "$child" ]; do child=$(pgrep -P "$timer" || true); done
    pids+=("$child")
  done
  local secs
  secs=$(deno run --allow-net --allow-env --allow-read --allow-sys bench/process_scale_wait.ts \
    "${group}.processor" "$RAW_TOPIC" "$since") || {
    kill -TERM "${pids[@]}"
    exit 1
  }
  kill -TERM "${pids[@]}"
  wait || true
  echo "$secs"
}

echo "== load average at start: $(load)"
LOAD1=$(load)
ONE_S=$(run 1 one)
LOAD2=$(load)
TWO_S=$(run 2 two)
rate() { awk -v n="$COUNT" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
ONE=$(rate "$ONE_S")
TWO=$(rate "$TWO_S")
echo
printf '%-14s %10s %14s %22s %14s %s\n' "" "wall s" "raw records/s" "CPU s per instance" \
  "peak RSS MB" "load before"
printf '%-14s %10s %14s %22s %14s %s\n' "1 instance" "$ONE_S" "$ONE" \
  "$(cpu_s "$WORK/time-one-1.txt")" "$(peak_mb "$WORK/time-one-1.txt")" "$LOAD1"
printf '%-14s %10s %14s %22s %14s %s\n' "2 instances" "$TWO_S" "$TWO" \
  "$(cpu_s "$WORK/time-two-1.txt") + $(cpu_s "$WORK/time-two-2.txt")" \
  "$(peak_mb "$WORK/time-two-1.txt") + $(peak_mb "$WORK/time-two-2.txt")" "$LOAD2"
for i in 1 2; do
  echo "instance $i of 2: $(grep '^processed' "$WORK/out-two-$i.txt" || echo 'no summary')"
done
echo "2 instances / 1: $(awk -v a="$TWO" -v b="$ONE" 'BEGIN { printf "%.2f", a / b }')×" \
  "(goal 1.6× where the cores allow; $(nproc) cores, broker on the same machine);" \
  "load average at end: $(load)"
