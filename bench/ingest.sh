#!/usr/bin/env bash
# Ingest benchmark: N (default 1,000,000) TRANSACTIONS_SECURE-shaped messages in a fresh topic,
# consumed to a file by kcat, into a fresh lake by `deno task start consume --once`, and by our
# client alone with a do-nothing handler (bench/ingest_client.ts). Prints the rates, the ratios
# (goals: ≥ 0.45 of kcat, ≥ 0.8 of the client alone), our peak memory, and checks the lake holds
# every message once.
# Needs the local broker (scripts/kafka.sh start), kcat and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT="${BENCH_COUNT:-1000000}"
BROKERS="${KAFKA_BROKERS:-localhost:9092}"
STAMP="$(date +%s)$$"
TOPIC="BENCH_INGEST_${STAMP}"
WORK="$(mktemp -d -t bench-ingest-XXXXXX)"
TOPIC_TOOL=(deno run --allow-net --allow-env --allow-read --allow-sys bench/ingest_topic.ts)
cleanup() {
  rm -rf "$WORK"
  KAFKA_BROKERS="$BROKERS" "${TOPIC_TOOL[@]}" delete "$TOPIC" >/dev/null 2>&1 || true
}
trap cleanup EXIT

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else printf "n/a" }'; }

echo "== generating $COUNT messages"
deno run --allow-write bench/ingest_gen.ts "$COUNT" "$WORK/input.jsonl"
BYTES=$(stat -c %s "$WORK/input.jsonl")
echo "   $(awk -v b="$BYTES" -v n="$COUNT" 'BEGIN { printf "%.0f", b / n }') bytes per message"

echo "== producing to $TOPIC with kcat"
KAFKA_BROKERS="$BROKERS" "${TOPIC_TOOL[@]}" create "$TOPIC" 2>/dev/null
kcat -b "$BROKERS" -P -t "$TOPIC" -l \
  -X linger.ms=100 -X batch.num.messages=50000 -X batch.size=8000000 \
  -X queue.buffering.max.messages=2000000 -X queue.buffering.max.kbytes=2000000 \
  "$WORK/input.jsonl"

echo "== kcat -C -e (to a file)"
START=$(now)
/usr/bin/time -v -o "$WORK/kcat_time.txt" \
  kcat -b "$BROKERS" -C -t "$TOPIC" -e -o beginning -q >"$WORK/kcat.jsonl"
KCAT_S=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }')
KCAT_CPU_S=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$WORK/kcat_time.txt")
KCAT_LINES=$(wc -l <"$WORK/kcat.jsonl")

echo "== deno task start consume --once (into a fresh lake)"
cat >"$WORK/feeds.json" <<EOF
{ "feeds": [ { "name": "$TOPIC", "kind": "stream", "primaryKey": ["TRANSACTION_ID"],
  "timeField": "TIMESTAMP" } ] }
EOF
START=$(now)
FEEDS_FILE="$WORK/feeds.json" DATA_LAKE_DIR="$WORK/lake" KAFKA_BROKERS="$BROKERS" \
  KAFKA_GROUP_ID="bench-ingest-$STAMP" LOG_FORMAT=json LOG_LEVEL=debug \
  /usr/bin/time -v -o "$WORK/time.txt" \
  deno task start consume --once --feeds "$TOPIC" >"$WORK/consume.out" 2>"$WORK/consume.err" || {
  echo "consume failed:"
  tail -20 "$WORK/consume.err"
  exit 1
}
OURS_S=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }')
PEAK_KB=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$WORK/time.txt")
CPU_S=$(awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$WORK/time.txt")
LAKE_LINES=$(cat "$WORK"/lake/"$TOPIC"/*/*.jsonl | wc -l)
REJECTED=$( (cat "$WORK"/lake/_rejected/"$TOPIC"/*/*.jsonl 2>/dev/null || true) | wc -l)
# Steady state: first to last batch log line (leaves out process start and group join).
STEADY_S=$(grep '"lake.batch_written"' "$WORK/consume.err" |
  sed -E 's/.*"time":"([^"]+)".*/\1/' | sed -n '1p;$p' | xargs -n1 date +%s.%N -d |
  paste -sd' ' | awk '{ print $2 - $1 }')

echo "== our client alone, do-nothing handler (bench/ingest_client.ts)"
START=$(now)
KAFKA_BROKERS="$BROKERS" deno run --allow-net --allow-env --allow-read --allow-sys \
  bench/ingest_client.ts "$TOPIC" >"$WORK/client.json"
CLIENT_S=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }') # process start included, as for consume
CLIENT_RECORDS=$(deno eval "console.log(JSON.parse(Deno.readTextFileSync('$WORK/client.json')).records)")

KCAT_RATE=$(rate "$KCAT_LINES" "$KCAT_S")
CLIENT_RATE=$(rate "$CLIENT_RECORDS" "$CLIENT_S")
OURS_RATE=$(rate "$LAKE_LINES" "$OURS_S")
echo
echo "messages:            $COUNT ($(awk -v b="$BYTES" 'BEGIN { printf "%.0f", b / 1048576 }') MiB)"
echo "kcat:                $KCAT_LINES msg in $(printf %.2f "$KCAT_S") s = $KCAT_RATE msg/s"
echo "ours (consume):      $LAKE_LINES msg in $(printf %.2f "$OURS_S") s = $OURS_RATE msg/s" \
  "(steady state $(rate "$LAKE_LINES" "$STEADY_S") msg/s)"
echo "ratio ours/kcat:     $(awk -v a="$OURS_RATE" -v b="$KCAT_RATE" 'BEGIN { printf "%.2f", a / b }')"
echo "client alone:        $CLIENT_RECORDS msg in $(printf %.2f "$CLIENT_S") s = $CLIENT_RATE msg/s" \
  "($(awk -v a="$CLIENT_RATE" -v b="$KCAT_RATE" 'BEGIN { printf "%.2f", a / b }') of kcat)"
echo "ratio ours/client:   $(awk -v a="$OURS_RATE" -v b="$CLIENT_RATE" 'BEGIN { printf "%.2f", a / b }')" \
  "(the lake's own work; goal ≥ 0.8)"
echo "our CPU time:        $CPU_S s user+sys ($(rate "$LAKE_LINES" "$CPU_S") msg per CPU second)"
echo "kcat CPU time:       $KCAT_CPU_S s user+sys ($(rate "$KCAT_LINES" "$KCAT_CPU_S") msg per CPU second)"
# On a loaded machine wall time measures the queue for the cores; CPU time measures the code.
echo "ratio ours/kcat, per CPU second: $(awk -v a="$CPU_S" -v b="$KCAT_CPU_S" 'BEGIN { if (a > 0) printf "%.2f", b / a; else printf "n/a" }')" \
  "(the ratio above is wall clock)"
echo "our peak memory:     $((PEAK_KB / 1024)) MB"
echo "load average:        $(cut -d' ' -f1-3 /proc/loadavg)"
echo "lake lines:          $LAKE_LINES (rejected $REJECTED)"
if [ "$LAKE_LINES" -ne "$COUNT" ] || [ "$KCAT_LINES" -ne "$COUNT" ]; then
  echo "FAIL: expected $COUNT lines in the lake and from kcat"
  exit 1
fi
echo "OK: the lake holds all $COUNT messages"
