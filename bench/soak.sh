#!/usr/bin/env bash
# Soak: `serve` (consumer, processor, schedule every minute, API) with the fake producer at RATE
# (default 500) raw transactions per second for DURATION seconds (default 600). Samples serve's
# RSS every SAMPLE seconds (default 10) and prints it at start, at 1 minute and at the end, plus
# the peak, serve's CPU time, and whether every record arrived: after the producer stops, serve's
# processor must have read every raw record and the lake consumer must have no lag left (bounded
# wait, from serve's /metrics). SOAK_SCHEDULE replaces the every-minute pipeline schedule.
#
# Each sample also splits the RSS (/proc/PID/smaps): anonymous mappings (V8's heap pages, thread
# stacks, large malloc blocks), the malloc heap ([heap], brk) and file-backed pages (Deno's own
# code). PROBE=1 starts serve with --inspect on PROBE_PORT (default 19329) and adds
# Deno.memoryUsage() (V8's heap committed and used, external buffers) to each sample, and an
# allocation profile of the last PROBE_ALLOC seconds (default 30) at the end (bench/soak_probe.ts).
# MALLOC_TRIM=1 asks glibc, at the end, how much of the malloc heap is free but still resident:
# gdb attaches to serve, calls malloc_stats() (into serve's log) and malloc_trim(0), and the split
# is printed before and after (a diagnosis only: the product never calls it).
#
# Runs on a broker of its own (SOAK_KAFKA_PORT, default 19292; wiped first, stopped after), with
# its own lake and warehouse in a temp dir, so it touches nothing shared.
# Needs Java (scripts/kafka.sh), curl, kcat and ps.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${DURATION:-600}"
RATE="${RATE:-500}"
SAMPLE="${SAMPLE:-10}"
KPORT="${SOAK_KAFKA_PORT:-19292}"
WORK="$(mktemp -d -t soak-XXXXXX)"
RSS_LOG="$WORK/rss.tsv"

export KAFKA_BROKERS="127.0.0.1:$KPORT" KAFKA_GROUP_ID="soak-$$"
export DATA_LAKE_DIR="$WORK/lake" WAREHOUSE_PATH="$WORK/warehouse.db"
export ANONYMIZATION_KEY="soak-anonymization-key" ADMIN_TOKEN="soak-admin-token-0123456789abcdef"
export PIPELINE_SCHEDULE="${SOAK_SCHEDULE:-* * * * *}" LOG_FORMAT=json LOG_LEVEL="${LOG_LEVEL:-warn}" PORT="${SOAK_PORT:-18480}"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  KAFKA_PORT="$KPORT" scripts/kafka.sh stop >/dev/null || true
  [[ -n "${KEEP:-}" ]] || rm -rf "$WORK"
}
trap cleanup INT TERM EXIT

echo "== broker on $KAFKA_BROKERS (wiped), work dir $WORK"
KAFKA_PORT="$KPORT" scripts/kafka.sh reset >/dev/null
KAFKA_PORT="$KPORT" scripts/kafka.sh start >/dev/null

source scripts/start_flags.sh
# --trace-gc: V8 prints the JS heap after each collection, to tell heap growth from native.
PROBE_PORT="${PROBE_PORT:-19329}"
probe_flags=()
[[ -n "${PROBE:-}" ]] && probe_flags=(--inspect="127.0.0.1:$PROBE_PORT")
probe() { deno run --allow-net --allow-write bench/soak_probe.ts "$PROBE_PORT" "$@"; }
# The start task's own --v8-flags (if any) are kept: --trace-gc (and SOAK_V8_FLAGS, comma-separated,
# to try others) are added to them.
v8=--v8-flags=--trace-gc${SOAK_V8_FLAGS:+,$SOAK_V8_FLAGS}
for i in "${!FLAGS[@]}"; do
  if [[ "${FLAGS[$i]}" == --v8-flags=* ]]; then v8="${FLAGS[$i]},${v8#--v8-flags=}"; unset 'FLAGS[i]'; fi
done
deno run "${FLAGS[@]}" "$v8" "${probe_flags[@]}" main.ts serve >"$WORK/gc.log" 2>"$WORK/serve.log" &
serve_pid=$!
pids+=("$serve_pid")
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$WORK/serve.log"; echo "serve exited" >&2; exit 1; }
  sleep 0.5
done

deno run "${FLAGS[@]}" main.ts produce --rate "$RATE" >/dev/null 2>"$WORK/produce.log" &
producer_pid=$!
pids+=("$producer_pid")

# JS heap in use after the last full (mark-compact) collection, from --trace-gc.
heap_mib() { grep -a 'Mark-Compact' "$WORK/gc.log" | tail -n 1 | sed -nE 's/.* -> ([0-9.]+) \(.*/\1/p'; }
rss_mib() { awk '{printf "%.1f", $1 / 1024}' < <(ps -o rss= -p "$serve_pid"); }
# RSS of anonymous mappings, of the malloc heap ([heap]) and of files, in MiB.
rss_split() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / {kind = $6 == "" ? "anon" : $6 == "[heap]" ? "heap" : substr($6, 1, 1) == "/" ? "file" : "other"}
    /^Rss:/ {kb[kind] += $2}
    END {printf "%.1f\t%.1f\t%.1f", kb["anon"] / 1024, kb["heap"] / 1024, kb["file"] / 1024}' \
    "/proc/$serve_pid/smaps" 2>/dev/null || printf '\t\t'
}
# rss heapTotal heapUsed external (MiB) from Deno.memoryUsage(), with PROBE=1.
usage() { [[ -n "${PROBE:-}" ]] && probe memory 2>/dev/null || printf '\t\t\t'; }
lake_records() {
  find "$DATA_LAKE_DIR" -path "$DATA_LAKE_DIR/_*" -prune -o -name '*.jsonl' -print0 |
    xargs -0 -r cat | wc -l
}

echo "== serve pid $serve_pid, producer at $RATE/s for $DURATION s, RSS every $SAMPLE s"
start=$(date +%s)
alloc_pid=""
printf 'seconds\trss_mib\theap_mib\tanon\tmalloc_heap\tfile\tu_rss\tu_heap_total\tu_heap_used\tu_external\n' >"$RSS_LOG"
while :; do
  now=$(($(date +%s) - start))
  kill -0 "$serve_pid" 2>/dev/null || { tail -n 20 "$WORK/serve.log"; echo "serve died" >&2; exit 1; }
  printf '%s\t%s\t%s\t%s\t%s\n' "$now" "$(rss_mib)" "$(heap_mib)" "$(rss_split)" "$(usage)" >>"$RSS_LOG"
  ((now >= DURATION)) && break
  if [[ -n "${PROBE:-}" && -z "$alloc_pid" ]] && ((now + ${PROBE_ALLOC:-30} >= DURATION)); then
    probe alloc "${PROBE_ALLOC:-30}" >"$WORK/alloc.txt" 2>&1 &
    alloc_pid=$!
  fi
  sleep "$SAMPLE"
done

trim_report=""
if [[ -n "${MALLOC_TRIM:-}" ]]; then
  before=$(rss_split)
  gdb -batch -p "$serve_pid" -ex 'call (void) malloc_stats()' -ex 'call (int) malloc_trim(0)' \
    >/dev/null 2>&1 || echo "gdb could not attach to serve" >&2
  trim_report="before $(tr '\t' / <<<"$before"), after malloc_trim(0) $(rss_split | tr '\t' /)"
fi

# serve's CPU seconds (user + system) so far.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.1f", ($14 + $15) / hz}' "/proc/$serve_pid/stat"; }
serve_cpu=$(cpu_seconds)

# Every record still arrives: stop the producer, count the raw records it wrote (kcat), and wait
# (bounded) until serve's processor has read them all and the lake consumer has no lag left.
kill -TERM "$producer_pid" 2>/dev/null || true
wait "$producer_pid" 2>/dev/null || true
raw=$(kcat -b "$KAFKA_BROKERS" -C -t transactions -e -q -f '.\n' 2>/dev/null | wc -l)
metrics() {
  curl -fsS -H "Authorization: Bearer $ADMIN_TOKEN" "http://127.0.0.1:$PORT/metrics" 2>/dev/null
}
drained=""
drain_start=$(date +%s)
for _ in $(seq 1 120); do
  m=$(metrics || true)
  read_in=$(awk '/^datalake_processor_records_in_total/ {print $2}' <<<"$m")
  lag=$(awk '/^datalake_consumer_lag/ {sum += $2; n++} END {print n ? sum : "?"}' <<<"$m")
  if [[ "${read_in:-0}" -ge "$raw" && "$lag" == 0 ]]; then drained=$(($(date +%s) - drain_start)); break; fi
  sleep 1
done

at() { awk -v t="$1" 'NR > 1 && $1 >= t {print $2; exit}' "$RSS_LOG"; }
echo "   RSS at start:    $(awk 'NR == 2 {print $2}' "$RSS_LOG") MiB"
echo "   RSS at 1 minute: $(at 60) MiB"
echo "   RSS at the end:  $(tail -n 1 "$RSS_LOG" | cut -f2) MiB (${DURATION} s)"
echo "   RSS peak:        $(awk 'NR > 1 && $2 > m {m = $2} END {print m}' "$RSS_LOG") MiB"
echo "   RSS samples (s:MiB): $(awk 'NR > 1 {printf "%s:%s ", $1, $2}' "$RSS_LOG")"
echo "   JS heap after last full GC (s:MiB): $(awk 'NR > 1 {printf "%s:%s ", $1, $3}' "$RSS_LOG")"
echo "   RSS split (s: anonymous/malloc heap/files MiB): $(awk -F'\t' 'NR > 1 {printf "%s:%s/%s/%s ", $1, $4, $5, $6}' "$RSS_LOG")"
if [[ -n "${PROBE:-}" ]]; then
  echo "   Deno.memoryUsage() (s: rss/heapTotal/heapUsed/external MiB): $(awk -F'\t' 'NR > 1 {printf "%s:%s/%s/%s/%s ", $1, $7, $8, $9, $10}' "$RSS_LOG")"
  [[ -n "$alloc_pid" ]] && wait "$alloc_pid"
  sed 's/^/   /' "$WORK/alloc.txt" 2>/dev/null || true
fi
if [[ -n "$trim_report" ]]; then
  echo "   malloc (anonymous/malloc heap/files MiB): $trim_report"
  echo "   malloc_stats(): $(grep -aE '^(Arena|system bytes|in use bytes|Total)' "$WORK/serve.log" | tr '\n' ' ' | tr -s ' ')"
fi
echo "   serve CPU: ${serve_cpu} s over the ${DURATION} s"
echo "   raw records produced: $raw; read by serve's processor: ${read_in:-?}; lake lag: ${lag:-?}" \
  "($([[ -n "$drained" ]] && echo "all in, ${drained} s after the producer stopped" || echo "NOT all in after 120 s"))"
echo "   records in the lake: $(lake_records) (all feeds, quarantine excluded)"
warnings=$(grep -c '"level":"warn\|"level":"error' "$WORK/serve.log" || true)
echo "   serve warn/error lines: $warnings"
