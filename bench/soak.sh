#!/usr/bin/env bash
# Soak: `serve` (consumer, processor, schedule every minute, API) with the fake producer at RATE
# (default 500) raw transactions per second for DURATION seconds (default 600). Samples serve's
# RSS every SAMPLE seconds (default 10) and prints it at start, at 1 minute and at the end, plus
# the peak, the records in the lake and serve's own counters (/metrics) at the end.
#
# Runs on a broker of its own (SOAK_KAFKA_PORT, default 19292; wiped first, stopped after), with
# its own lake and warehouse in a temp dir, so it touches nothing shared.
# Needs Java (scripts/kafka.sh), curl and ps.
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
export PIPELINE_SCHEDULE="* * * * *" LOG_FORMAT=json LOG_LEVEL="${LOG_LEVEL:-warn}" PORT="${SOAK_PORT:-18480}"

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
deno run "${FLAGS[@]}" --v8-flags=--trace-gc main.ts serve >"$WORK/gc.log" 2>"$WORK/serve.log" &
serve_pid=$!
pids+=("$serve_pid")
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$WORK/serve.log"; echo "serve exited" >&2; exit 1; }
  sleep 0.5
done

deno run "${FLAGS[@]}" main.ts produce --rate "$RATE" >/dev/null 2>"$WORK/produce.log" &
pids+=("$!")

# JS heap in use after the last full (mark-compact) collection, from --trace-gc.
heap_mib() { grep -a 'Mark-Compact' "$WORK/gc.log" | tail -n 1 | sed -nE 's/.* -> ([0-9.]+) \(.*/\1/p'; }
rss_mib() { awk '{printf "%.1f", $1 / 1024}' < <(ps -o rss= -p "$serve_pid"); }
lake_records() {
  find "$DATA_LAKE_DIR" -path "$DATA_LAKE_DIR/_*" -prune -o -name '*.jsonl' -print0 |
    xargs -0 -r cat | wc -l
}

echo "== serve pid $serve_pid, producer at $RATE/s for $DURATION s, RSS every $SAMPLE s"
start=$(date +%s)
printf 'seconds\trss_mib\theap_mib\n' >"$RSS_LOG"
while :; do
  now=$(($(date +%s) - start))
  kill -0 "$serve_pid" 2>/dev/null || { tail -n 20 "$WORK/serve.log"; echo "serve died" >&2; exit 1; }
  printf '%s\t%s\t%s\n' "$now" "$(rss_mib)" "$(heap_mib)" >>"$RSS_LOG"
  ((now >= DURATION)) && break
  sleep "$SAMPLE"
done

at() { awk -v t="$1" 'NR > 1 && $1 >= t {print $2; exit}' "$RSS_LOG"; }
echo "   RSS at start:    $(awk 'NR == 2 {print $2}' "$RSS_LOG") MiB"
echo "   RSS at 1 minute: $(at 60) MiB"
echo "   RSS at the end:  $(tail -n 1 "$RSS_LOG" | cut -f2) MiB (${DURATION} s)"
echo "   RSS peak:        $(awk 'NR > 1 && $2 > m {m = $2} END {print m}' "$RSS_LOG") MiB"
echo "   RSS samples (s:MiB): $(awk 'NR > 1 {printf "%s:%s ", $1, $2}' "$RSS_LOG")"
echo "   JS heap after last full GC (s:MiB): $(awk 'NR > 1 {printf "%s:%s ", $1, $3}' "$RSS_LOG")"
echo "   records in the lake: $(lake_records) (all feeds, quarantine excluded)"
curl -fsS "http://127.0.0.1:$PORT/metrics" 2>/dev/null |
  grep -E '^datalake_(records_consumed_total|processor_records_in_total|kafka_up)' |
  sed 's/^/   /' || true
warnings=$(grep -c '"level":"warn\|"level":"error' "$WORK/serve.log" || true)
echo "   serve warn/error lines: $warnings"
