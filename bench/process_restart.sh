#!/usr/bin/env bash
# Restart time of the processor as its history grows (issue 18 item 3). Fills a fresh raw topic
# (the fake producer's generator piped into kcat) up to each of RESTART_AT (default 1,000,000 and
# 5,000,000 raw records), runs `process --once` over what is new, then times two restarts, each
# with RESTART_NEW (default 3,000) new raw records so that every partition is assigned and its
# state loaded: one with the state dir's snapshots (the normal case), one with the state dir
# emptied (every partition rebuilt from its changelog: what every start cost before). Prints, per
# step, the wall time of each restart, the restore time and changelog records read from the
# processor's own log, the state's size (keys, snapshot bytes) and the load average.
# Topics have their own prefix and are deleted at the end. Needs the broker, kcat, /usr/bin/time.
# bench/process.sh (the peer engineer's) may call this script; it prints one "restart:" line per
# step for it to pick up.
set -euo pipefail
cd "$(dirname "$0")/.."

BROKERS="${KAFKA_BROKERS:-localhost:9092}"
read -r -a STEPS <<<"${RESTART_AT:-1000000 5000000}"
STAMP="$(date +%s)-$$"
PREFIX="bench_restart_${STAMP}_"
export KAFKA_BROKERS="$BROKERS" LOG_FORMAT=json
export RAW_TOPIC="${PREFIX}raw" REJECTED_TOPIC="${PREFIX}rejected"
export KAFKA_GROUP_ID="bench-restart-$STAMP" ANONYMIZATION_KEY="bench-anonymization-key"
export PROCESSOR_TOPIC_PREFIX="$PREFIX"
WORK="$(mktemp -d -t bench-restart-XXXXXX)"
export PROCESSOR_STATE_DIR="$WORK/state"
TOPIC_TOOL=(deno run --allow-net --allow-env --allow-read --allow-sys bench/ingest_topic.ts)
cleanup() {
  rm -rf "$WORK"
  for t in $(kcat -b "$BROKERS" -L 2>/dev/null | grep -oE "topic \"(${PREFIX}[^\"]*|${KAFKA_GROUP_ID}[^\"]*)\"" |
    cut -d'"' -f2); do
    "${TOPIC_TOOL[@]}" delete "$t" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

echo "== rates into ${PREFIX}CURRENCY_RATES; raw topic $RAW_TOPIC"
deno task -q start produce --count 0 >/dev/null 2>&1 || true
# `produce --count 0` writes the default rates topic; the processor reads the prefixed one.
kcat -b "$BROKERS" -C -t CURRENCY_RATES -e -q -K $'\t' -o beginning 2>/dev/null | sort -u |
  kcat -b "$BROKERS" -P -t "${PREFIX}CURRENCY_RATES" -K $'\t'
"${TOPIC_TOOL[@]}" create "$RAW_TOPIC" 2>/dev/null

restore_figures() { # log file → "restore <ms> ms, <n> changelog records"
  awk '/"event":"processor.partitions_restored"/ {
      match($0, /"changelogRecords":[0-9]+/); n += substr($0, RSTART + 19, RLENGTH - 19)
      match($0, /"ms":[0-9]+/); ms += substr($0, RSTART + 5, RLENGTH - 5)
    } END { printf "restore %d ms, %d changelog records read", ms, n }' "$1"
}

fill() { # count seed
  deno run --allow-read --allow-write bench/process_gen.ts "$1" - "$2" |
    kcat -b "$BROKERS" -P -t "$RAW_TOPIC" -K $'\t' -l \
      -X linger.ms=100 -X batch.num.messages=50000 -X batch.size=8000000 \
      -X queue.buffering.max.messages=2000000 -X queue.buffering.max.kbytes=2000000
}
NEW="${RESTART_NEW:-3000}"
total=0
seed=1
for target in "${STEPS[@]}"; do
  add=$((target - total))
  echo "== +$add raw records (to $target)"
  fill "$add" "$seed"
  total=$target
  seed=$((seed + 3))
  START=$(now)
  deno task -q start process --once >"$WORK/run.out" 2>"$WORK/run.err" || {
    echo "process failed:"
    tail -5 "$WORK/run.err"
    exit 1
  }
  echo "   processed: $(grep '^processed' "$WORK/run.out") [$(since "$START") s wall]"

  fill "$NEW" $((seed + 1))
  START=$(now)
  /usr/bin/time -v -o "$WORK/time.txt" deno task -q start process --once \
    >/dev/null 2>"$WORK/warm.err"
  WARM_S=$(since "$START")
  WARM_RSS=$(awk -F': ' '/Maximum resident set size/ { print int($2 / 1024) }' "$WORK/time.txt")
  SNAP_BYTES=$(du -sb "$PROCESSOR_STATE_DIR" | cut -f1)
  KEYS=$(kcat -b "$BROKERS" -C -t "${PREFIX}USER_SPENDING_BY_TYPE" -e -q -f '%k\n' 2>/dev/null |
    sort -u | wc -l)

  mv "$PROCESSOR_STATE_DIR" "$WORK/state.kept"
  fill "$NEW" $((seed + 2))
  START=$(now)
  /usr/bin/time -v -o "$WORK/time.txt" deno task -q start process --once \
    >/dev/null 2>"$WORK/cold.err"
  COLD_S=$(since "$START")
  COLD_RSS=$(awk -F': ' '/Maximum resident set size/ { print int($2 / 1024) }' "$WORK/time.txt")
  rm -rf "$PROCESSOR_STATE_DIR"
  mv "$WORK/state.kept" "$PROCESSOR_STATE_DIR"

  total=$((total + 2 * NEW))
  echo "restart: after $total raw records (+$NEW each): with snapshots ${WARM_S} s wall" \
    "($(restore_figures "$WORK/warm.err"), peak RSS $WARM_RSS MB);" \
    "from the changelogs ${COLD_S} s wall ($(restore_figures "$WORK/cold.err")," \
    "peak RSS $COLD_RSS MB); state: $KEYS USER_SPENDING_BY_TYPE keys, snapshots $SNAP_BYTES bytes;" \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
done
