#!/usr/bin/env bash
# Processor benchmark: BENCH_COUNT (default 200,000) raw transactions from our fake producer into
# a fresh raw topic, then `deno task start process --once` on a fresh consumer group. Prints the
# processor's own rates (records/s in and out, measured after its state is rebuilt), the whole
# command's wall time and its peak memory (/usr/bin/time -v).
# Needs the local broker (scripts/kafka.sh start) and /usr/bin/time. Derived records go to the
# default feed topics, as in production; the raw topic is the benchmark's own.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT="${BENCH_COUNT:-200000}"
STAMP="$(date +%s)-$$"
export RAW_TOPIC="bench_raw_$STAMP" REJECTED_TOPIC="bench_rejected_$STAMP"
export KAFKA_GROUP_ID="bench-process-$STAMP" ANONYMIZATION_KEY="bench-anonymization-key"
export LOG_FORMAT=json
TIME_LOG="$(mktemp -t bench-process-XXXXXX)"
trap 'rm -f "$TIME_LOG"' EXIT

echo "== producing $COUNT raw transactions into $RAW_TOPIC"
deno task -q start produce --count "$COUNT" --seed 1 2>/dev/null

echo "== process --once (fresh group $KAFKA_GROUP_ID.processor)"
/usr/bin/time -v -o "$TIME_LOG" deno task -q start process --once 2>/dev/null
echo "   wall time of the command: $(grep 'Elapsed (wall clock)' "$TIME_LOG" | awk '{print $NF}')"
echo "   peak RSS: $(awk '/Maximum resident set size/ {printf "%.0f MiB", $NF / 1024}' "$TIME_LOG")"
