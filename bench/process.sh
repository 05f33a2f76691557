#!/usr/bin/env bash
# Processor benchmark: BENCH_COUNT (default 200,000) raw transactions (the fake producer's
# generator, written to a file) put into a fresh raw topic by kcat, then read back by
# `kcat -C -e` (the peer) and processed by `deno task start process --once` on a fresh consumer
# group. Prints kcat's read rate, the processor's own rate (records/s in, after its state is
# rebuilt), the whole command's rate and wall time, the ratio to kcat and our peak RSS.
# Needs the local broker (scripts/kafka.sh start), kcat and /usr/bin/time. Derived records go to
# the default feed topics, as in production (rates are published by `produce --count 0`).
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT="${BENCH_COUNT:-200000}"
BROKERS="${KAFKA_BROKERS:-localhost:9092}"
STAMP="$(date +%s)-$$"
export KAFKA_BROKERS="$BROKERS"
export RAW_TOPIC="bench_raw_$STAMP" REJECTED_TOPIC="bench_rejected_$STAMP"
export KAFKA_GROUP_ID="bench-process-$STAMP" ANONYMIZATION_KEY="bench-anonymization-key"
export LOG_FORMAT=json
WORK="$(mktemp -d -t bench-process-XXXXXX)"
TOPIC_TOOL=(deno run --allow-net --allow-env --allow-read --allow-sys bench/ingest_topic.ts)
cleanup() {
  rm -rf "$WORK"
  "${TOPIC_TOOL[@]}" delete "$RAW_TOPIC" >/dev/null 2>&1 || true
  "${TOPIC_TOOL[@]}" delete "$REJECTED_TOPIC" >/dev/null 2>&1 || true
}
trap cleanup EXIT
now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else printf "n/a" }'; }

echo "== generating $COUNT raw transactions; publishing currency rates"
deno run --allow-read --allow-write bench/process_gen.ts "$COUNT" "$WORK/raw.tsv"
deno task -q start produce --count 0 >/dev/null 2>&1

echo "== producing to $RAW_TOPIC with kcat"
"${TOPIC_TOOL[@]}" create "$RAW_TOPIC" 2>/dev/null
kcat -b "$BROKERS" -P -t "$RAW_TOPIC" -K $'\t' -l \
  -X linger.ms=100 -X batch.num.messages=50000 -X batch.size=8000000 \
  -X queue.buffering.max.messages=2000000 -X queue.buffering.max.kbytes=2000000 \
  "$WORK/raw.tsv"

echo "== kcat -C -e (the peer: reading the same topic to a file)"
START=$(now)
/usr/bin/time -v -o "$WORK/kcat_time.txt" \
  kcat -b "$BROKERS" -C -t "$RAW_TOPIC" -e -o beginning -q >"$WORK/kcat.jsonl"
KCAT_S=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }')
KCAT_CPU_S=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$WORK/kcat_time.txt")
KCAT_LINES=$(wc -l <"$WORK/kcat.jsonl")

echo "== process --once (fresh group $KAFKA_GROUP_ID.processor)"
START=$(now)
/usr/bin/time -v -o "$WORK/time.txt" deno task -q start process --once \
  >"$WORK/process.out" 2>"$WORK/process.err" || {
  echo "process failed:"
  grep -v '^ *at ' "$WORK/process.err" | tail -8
  exit 1
}
WALL_S=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }')
PEAK_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.txt")
# CPU seconds of the whole command: on a shared, loaded machine a steadier figure than wall time.
CPU_S=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$WORK/time.txt")
LINE=$(grep '^processed' "$WORK/process.out" || true)
IN=$(sed -E 's/^processed ([0-9]+) .*/\1/' <<<"$LINE")
OWN_RATE=$(sed -E 's/.*s: ([0-9]+) records\/s in.*/\1/' <<<"$LINE")
KCAT_RATE=$(rate "$KCAT_LINES" "$KCAT_S")

echo
echo "$LINE"
echo "kcat -C -e:            $KCAT_LINES msg in $(printf %.2f "$KCAT_S") s = $KCAT_RATE msg/s"
echo "processor (own rate):  $OWN_RATE raw records/s in (after state restore)"
echo "process (whole cmd):   $IN in $(printf %.2f "$WALL_S") s = $(rate "$IN" "$WALL_S") raw records/s"
echo "process (per CPU s):   $(rate "$IN" "$CPU_S") raw records per CPU second ($CPU_S s user+sys)"
echo "kcat (per CPU s):      $(rate "$KCAT_LINES" "$KCAT_CPU_S") msg per CPU second ($KCAT_CPU_S s)"
echo "ratio own/kcat:        $(awk -v a="$OWN_RATE" -v b="$KCAT_RATE" 'BEGIN { printf "%.3f", a / b }')"
echo "load average:          $(cut -d' ' -f1-3 /proc/loadavg)"
echo "peak RSS:              $((PEAK_KB / 1024)) MB"
if [ "$IN" != "$COUNT" ]; then
  echo "FAIL: expected $COUNT raw records in, got $IN"
  exit 1
fi
