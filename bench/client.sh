#!/usr/bin/env bash
# Kafka client benchmark (issue 16 item 5): N (default 1,000,000) records of ~481 bytes, written
# by kcat uncompressed, with lz4 and with zstd, then read in the same run by kcat (-C -e, to
# /dev/null) and by our client through the product's `consume` interface with a handler that does
# nothing (bench/ingest_client.ts). Prints rates, ratios to kcat, peak RSS and the load average.
# Needs the local broker (scripts/kafka.sh start), kcat and /usr/bin/time. Run it on a quiet
# machine (load average under 3): the numbers are wall clock.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT="${BENCH_COUNT:-1000000}"
BROKERS="${KAFKA_BROKERS:-localhost:9092}"
STAMP="$(date +%s)$$"
WORK="$(mktemp -d -t bench-client-XXXXXX)"
TOPIC_TOOL=(deno run --allow-net --allow-env --allow-read --allow-sys bench/ingest_topic.ts)
CODECS=(none lz4 zstd)
topic_of() { echo "BENCH_CLIENT_${1^^}_${STAMP}"; }
cleanup() {
  rm -rf "$WORK"
  for codec in "${CODECS[@]}"; do
    KAFKA_BROKERS="$BROKERS" "${TOPIC_TOOL[@]}" delete "$(topic_of "$codec")" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else printf "n/a" }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "n/a" }'; }
peak_mib() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }

echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== generating $COUNT messages"
deno run --allow-write bench/ingest_gen.ts "$COUNT" "$WORK/input.jsonl"
BYTES=$(stat -c %s "$WORK/input.jsonl")
echo "   $(awk -v b="$BYTES" -v n="$COUNT" 'BEGIN { printf "%.0f", b / n }') bytes per message"

for codec in "${CODECS[@]}"; do
  topic="$(topic_of "$codec")"
  echo "== producing to $topic with kcat -z $codec"
  KAFKA_BROKERS="$BROKERS" "${TOPIC_TOOL[@]}" create "$topic" 2>/dev/null
  kcat -b "$BROKERS" -P -t "$topic" -l -z "$codec" \
    -X linger.ms=100 -X batch.num.messages=50000 -X batch.size=8000000 \
    -X queue.buffering.max.messages=2000000 -X queue.buffering.max.kbytes=2000000 \
    "$WORK/input.jsonl"
done

declare -A KCAT OURS PEAK
for codec in "${CODECS[@]}"; do
  topic="$(topic_of "$codec")"
  echo "== $codec: kcat -C -e"
  START=$(now)
  kcat -b "$BROKERS" -C -t "$topic" -e -o beginning -q | wc -l >"$WORK/kcat_$codec.count"
  KCAT_S=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }')
  KCAT[$codec]=$(rate "$(cat "$WORK/kcat_$codec.count")" "$KCAT_S")

  echo "== $codec: our client, do-nothing handler"
  START=$(now)
  KAFKA_BROKERS="$BROKERS" /usr/bin/time -v -o "$WORK/time_$codec.txt" \
    deno run --allow-net --allow-env --allow-read --allow-sys bench/ingest_client.ts "$topic" \
    >"$WORK/ours_$codec.json"
  ELAPSED=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }') # wall clock, as kcat's
  RECORDS=$(deno eval "console.log(JSON.parse(Deno.readTextFileSync('$WORK/ours_$codec.json')).records)")
  [[ "$RECORDS" == "$COUNT" ]] || { echo "our client read $RECORDS of $COUNT"; exit 1; }
  OURS[$codec]=$(rate "$RECORDS" "$ELAPSED")
  PEAK[$codec]=$(peak_mib "$WORK/time_$codec.txt")
done

echo
echo "messages: $COUNT ($(awk -v b="$BYTES" 'BEGIN { printf "%.0f", b / 1048576 }') MiB uncompressed)"
printf "%-6s %14s %14s %8s %10s\n" codec "kcat msg/s" "ours msg/s" ratio "peak RSS"
for codec in "${CODECS[@]}"; do
  printf "%-6s %14s %14s %8s %7s MiB\n" "$codec" "${KCAT[$codec]}" "${OURS[$codec]}" \
    "$(ratio "${OURS[$codec]}" "${KCAT[$codec]}")" "${PEAK[$codec]}"
done
echo "ours with lz4 / kcat uncompressed:  $(ratio "${OURS[lz4]}" "${KCAT[none]}")"
echo "ours with zstd / kcat uncompressed: $(ratio "${OURS[zstd]}" "${KCAT[none]}")"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
