#!/usr/bin/env bash
# Processor benchmark against Kafka Streams, in the same run on the same topic.
# BENCH_COUNT (default 200,000) raw transactions (the fake producer's generator, written to a
# file by bench/process_gen.ts) are put into a fresh raw topic by kcat, with the currency rates in
# a fresh rates topic. Then, one after the other, on that topic:
#   peer: the same topology in Kafka Streams (bench/peers/kafka-streams, exactly_once_v2),
#   ours: `process --once` with PROCESSOR_TOPIC_PREFIX,
# each writing to topics of its own (bench_<stamp>_peer_*, bench_<stamp>_ours_*). Prints both
# rates (raw records/s in), the ratio ours/peer, both peak RSS and the load average; with
# BENCH_COMPARE=1 it also adds a few invalid records and compares the two outputs record for
# record. Every topic and consumer group of the run is deleted at the end; rerunnable.
# Needs a broker (KAFKA_BROKERS, default localhost:9092), kcat, Java 17+, Maven (the peer is
# built once into BENCH_CACHE_DIR, default ~/.cache/bench) and /usr/bin/time.
# PEER_JAVA_OPTS: JVM flags of the peer (default: a 256 MiB heap).
# Diagnosis: BENCH_PEER=0 runs ours alone (no ratio); OURS_V8_FLAGS (e.g. --trace-gc) adds V8
# flags to those of the start task; BENCH_OURS_LOG=<file> keeps ours' stdout there (V8's traces
# go to stdout) and its stderr (the JSON log) in <file>.err.
# Then bench/process_restart.sh (restart time after 1M and 5M raw records) runs, unless
# BENCH_RESTART=0. The scale-out (one instance vs two) is bench/process_scale.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT="${BENCH_COUNT:-200000}"
BROKERS="${KAFKA_BROKERS:-localhost:9092}"
CACHE="${BENCH_CACHE_DIR:-$HOME/.cache/bench}/kafka-streams-peer"
PEER_SRC=bench/peers/kafka-streams
STAMP="$(date +%s)_$$"
RUN="bench_${STAMP}"
export KAFKA_BROKERS="$BROKERS" ANONYMIZATION_KEY="bench-anonymization-key" LOG_FORMAT=json
# Both read the rates from the topic the processor reads under its topic prefix.
export RAW_TOPIC="${RUN}_raw" RATES_TOPIC="${RUN}_ours_CURRENCY_RATES"
WORK="$(mktemp -d -t bench-process-XXXXXX)"

# The peer, built when missing or older than its sources.
if [ ! -f "$CACHE/kafka-streams-peer.jar" ] ||
  [ -n "$(find "$PEER_SRC/src" "$PEER_SRC/pom.xml" -newer "$CACHE/kafka-streams-peer.jar")" ]; then
  echo "== building the Kafka Streams peer into $CACHE"
  rm -rf "$CACHE"
  (cd "$PEER_SRC" && mvn -q package -Dpeer.build="$CACHE")
fi
JAVA_CP="$CACHE/kafka-streams-peer.jar:$CACHE/lib/*"
topics() { java -cp "$JAVA_CP" bench.peer.BenchTopics "$@"; }
cleanup() {
  rm -rf "$WORK"
  topics delete "${RUN}_" "bench-peer-${STAMP}" "bench-ours-${STAMP}" >/dev/null 2>&1 || true
}
trap cleanup EXIT
now() { date +%s.%N; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.0f", n / s; else printf "n/a" }'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
peak_mb() { awk -F': ' '/Maximum resident set size/ { printf "%.0f", $2 / 1024 }' "$1"; }
cpu_s() { awk -F': ' '/User time|System time/ { s += $2 } END { print s }' "$1"; }

echo "== load average at start: $(load)"
echo "== generating $COUNT raw transactions"
deno run --allow-read --allow-write bench/process_gen.ts "$COUNT" "$WORK/raw.tsv"
if [ "${BENCH_COMPARE:-0}" = 1 ]; then
  # A few records each processor must quarantine, with the same reason.
  good=$(head -1 "$WORK/raw.tsv" | cut -f2-)
  bad() { printf 'U00001\t%s\n' "$(sed -E "$1" <<<"$good")" >>"$WORK/raw.tsv"; }
  bad 's/"CURRENCY":"[A-Z]+"/"CURRENCY":"XXX"/'
  bad 's/"IP_ADDRESS":"[^"]+"/"IP_ADDRESS":"300.1.2.3"/'
  bad 's/"STATUS":"[a-z]+"/"STATUS":"lost"/'
  bad 's/"AMOUNT":[0-9.]+/"AMOUNT":-5/'
  bad 's/"TIMESTAMP":"[^"]+"/"TIMESTAMP":"2026-02-30T10:00:00Z"/'
  bad 's/"TRANSACTION_TYPE":("[a-z]+"|null)/"TRANSACTION_TYPE":"gift"/'
  bad 's/"EMAIL":"[^"]+",//'
  # and one valid record with an IPv6 address, under an id of its own
  bad 's/"TRANSACTION_ID":"[^"]+"/"TRANSACTION_ID":"TXN-ipv6"/; s/"IP_ADDRESS":"[^"]+"/"IP_ADDRESS":"2001:db8:85a3::8a2e:370:7334"/'
  printf 'U00001\t[1,2]\n' >>"$WORK/raw.tsv"
fi
LINES=$(wc -l <"$WORK/raw.tsv")
deno eval 'import { currencyRateRecords } from "./src/producer/rates.ts";
for (const r of currencyRateRecords()) console.log(`${r.CURRENCY}\t${JSON.stringify(r)}`);' \
  >"$WORK/rates.tsv"

echo "== producing to $RAW_TOPIC and $RATES_TOPIC with kcat"
topics create "$RAW_TOPIC" 3
topics create "$RATES_TOPIC" 1 compact
kcat -b "$BROKERS" -P -t "$RATES_TOPIC" -K $'\t' -l "$WORK/rates.tsv"
kcat -b "$BROKERS" -P -t "$RAW_TOPIC" -K $'\t' -l \
  -X linger.ms=100 -X batch.num.messages=50000 -X batch.size=8000000 \
  -X queue.buffering.max.messages=2000000 -X queue.buffering.max.kbytes=2000000 \
  "$WORK/raw.tsv"
OURS_CMD=(deno task -q start process --once)
if [ -n "${OURS_V8_FLAGS:-}" ]; then
  source scripts/start_flags.sh # FLAGS: the start task's flags, its V8 flags among them
  for i in "${!FLAGS[@]}"; do
    [[ "${FLAGS[$i]}" == --v8-flags=* ]] && FLAGS[i]="${FLAGS[$i]},${OURS_V8_FLAGS}"
  done
  OURS_CMD=(deno run "${FLAGS[@]}" main.ts process --once)
fi
deno cache --quiet main.ts # measure the processor, not Deno's first transpile

PEER_IN="" PEER_LINE="" PEER_RATE="" PEER_WALL_S=0 PEER_LOAD_BEFORE=n/a
if [ "${BENCH_PEER:-1}" = 1 ]; then
  echo "== peer: Kafka Streams (load $(load))"
  PEER_LOAD_BEFORE=$(load)
  START=$(now)
  # shellcheck disable=SC2086 # PEER_JAVA_OPTS holds several flags
  APPLICATION_ID="bench-peer-${STAMP}" OUTPUT_PREFIX="${RUN}_peer_" \
    REJECTED_TOPIC="${RUN}_peer_rejected" STATE_DIR="$WORK/peer-state" \
    /usr/bin/time -v -o "$WORK/peer_time.txt" \
    java ${PEER_JAVA_OPTS:--Xmx256m} -cp "$JAVA_CP" bench.peer.PeerMain --once \
    >"$WORK/peer.out" 2>"$WORK/peer.err" || {
    echo "peer failed:"
    tail -8 "$WORK/peer.err"
    exit 1
  }
  PEER_WALL_S=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }')
  PEER_LINE=$(grep '^processed' "$WORK/peer.out" || true)
  PEER_IN=$(sed -E 's/^processed ([0-9]+) .*/\1/' <<<"$PEER_LINE")
  PEER_RATE=$(sed -E 's/.*s: ([0-9]+) records\/s in.*/\1/' <<<"$PEER_LINE")
fi

echo "== ours: process --once (load $(load))"
OURS_LOAD_BEFORE=$(load)
START=$(now)
KAFKA_GROUP_ID="bench-ours-${STAMP}" REJECTED_TOPIC="${RUN}_ours_rejected" \
  PROCESSOR_TOPIC_PREFIX="${RUN}_ours_" OUTPUT_PREFIX="${RUN}_ours_" \
  PROCESSOR_STATE_DIR="$WORK/ours-state" \
  /usr/bin/time -v -o "$WORK/ours_time.txt" "${OURS_CMD[@]}" \
  >"$WORK/ours.out" 2>"$WORK/ours.err" || {
  echo "process failed:"
  grep -v '^ *at ' "$WORK/ours.err" | tail -8
  exit 1
}
OURS_WALL_S=$(awk -v a="$START" -v b="$(now)" 'BEGIN { print b - a }')
if [ -n "${BENCH_OURS_LOG:-}" ]; then
  cp "$WORK/ours.out" "$BENCH_OURS_LOG"
  cp "$WORK/ours.err" "$BENCH_OURS_LOG.err"
fi
# Not anchored: a V8 trace line may share its line.
OURS_LINE=$(grep -o 'processed [0-9]* raw.*' "$WORK/ours.out" || true)
OURS_IN=$(sed -E 's/^processed ([0-9]+) .*/\1/' <<<"$OURS_LINE")
OURS_RATE=$(sed -E 's/.*s: ([0-9]+) records\/s in.*/\1/' <<<"$OURS_LINE")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
PEER_WHOLE=$(rate "$PEER_IN" "$PEER_WALL_S")
OURS_WHOLE=$(rate "$OURS_IN" "$OURS_WALL_S")
echo
echo "peer: $PEER_LINE"
grep '^peer: running' "$WORK/peer.err" || true
echo "ours: $OURS_LINE"
printf '%-34s %14s %14s %8s\n' "" "Kafka Streams" "ours" "ours/peer"
printf '%-34s %14s %14s %8s\n' "raw records/s in (own clock)" "$PEER_RATE" "$OURS_RATE" \
  "$(ratio "$OURS_RATE" "$PEER_RATE")"
printf '%-34s %14s %14s %8s\n' "raw records/s, whole command" "$PEER_WHOLE" "$OURS_WHOLE" \
  "$(ratio "$OURS_WHOLE" "$PEER_WHOLE")"
printf '%-34s %14s %14s\n' "wall s, whole command" "$(printf %.2f "$PEER_WALL_S")" \
  "$(printf %.2f "$OURS_WALL_S")"
PEER_CPU=$(cpu_s "$WORK/peer_time.txt" 2>/dev/null || true)
OURS_CPU=$(cpu_s "$WORK/ours_time.txt")
printf '%-34s %14s %14s\n' "CPU s (user+sys), whole command" "$PEER_CPU" "$OURS_CPU"
# Steadier than wall time on a shared, loaded machine.
printf '%-34s %14s %14s %8s\n' "raw records per CPU second" "$(rate "$PEER_IN" "$PEER_CPU")" \
  "$(rate "$OURS_IN" "$OURS_CPU")" \
  "$(ratio "$(rate "$OURS_IN" "$OURS_CPU")" "$(rate "$PEER_IN" "$PEER_CPU")")"
printf '%-34s %14s %14s\n' "peak RSS MB" "$(peak_mb "$WORK/peer_time.txt" 2>/dev/null)" \
  "$(peak_mb "$WORK/ours_time.txt")"
printf '%-34s %14s %14s\n' "load average before" "${PEER_LOAD_BEFORE%% *}" "${OURS_LOAD_BEFORE%% *}"
echo "load average at end: $(load)   ($(nproc) cores; own clock: peer from streams.start()"
echo "to every raw record committed, ours from after its state restore to caught up)"

FAIL=0
for pair in "peer:$PEER_IN" "ours:$OURS_IN"; do
  [ "${BENCH_PEER:-1}" = 1 ] || [ "${pair%%:*}" = ours ] || continue
  if [ "${pair#*:}" != "$LINES" ]; then
    echo "FAIL: ${pair%%:*} processed ${pair#*:} raw records, expected $LINES"
    FAIL=1
  fi
done
if [ "${BENCH_COMPARE:-0}" = 1 ]; then
  echo "== comparing outputs record for record"
  deno run --allow-run=kcat --allow-env --allow-read bench/peers/kafka-streams/compare.ts \
    "${RUN}_ours_" "${RUN}_ours_rejected" "${RUN}_peer_" "${RUN}_peer_rejected" || FAIL=1
fi
if [ "${BENCH_RESTART:-1}" = 1 ]; then
  echo "== bench/process_restart.sh"
  bash bench/process_restart.sh || FAIL=1
fi
exit "$FAIL"
