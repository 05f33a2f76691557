#!/usr/bin/env bash
# Load benchmark (issues 4, 13): builds a TRANSACTIONS_USD lake of BENCH_ROWS lines (default
# 1,000,000) over a few date partitions and loads the same files, each into a fresh database,
# with: `sqlite-utils upsert --nl --pk TRANSACTION_ID` (the peer), bench/load_raw.ts (the raw
# node:sqlite limit: JSON.parse + one prepared INSERT OR REPLACE per row, one transaction), and
# `deno task start load`; then a no-op reload. Prints rows/s of each, both ratios, peak RSS and
# the no-op time. Targets: >= 4x sqlite-utils, >= 0.9x raw node:sqlite, <= 200 MB, no-op < 100 ms.
# Settings: BENCH_ROWS, BENCH_DAYS (default 4), BENCH_DIR (default a fresh temp folder, removed).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

ROWS="${BENCH_ROWS:-1000000}"
DAYS="${BENCH_DAYS:-4}"
if [[ -n "${BENCH_DIR:-}" ]]; then
  WORK="$BENCH_DIR"
  mkdir -p "$WORK"
else
  WORK="$(mktemp -d /tmp/bench-load.XXXXXX)"
  trap 'rm -rf "$WORK"' EXIT
fi
LAKE="$WORK/data_lake"
FEED=TRANSACTIONS_USD

now_ms() { date +%s%3N; }
say() { echo "bench: $*"; }

if ! command -v sqlite-utils >/dev/null; then
  say "installing sqlite-utils (pip install sqlite-utils)"
  pip install -q sqlite-utils
fi

rm -rf "$LAKE" "$WORK"/*.db*
say "building a $ROWS-line $FEED lake in $LAKE"
deno run --allow-read --allow-write bench/gen_transactions.ts "$LAKE" "$ROWS" "$DAYS"
files=("$LAKE/$FEED"/*/*.jsonl)
say "lake: ${#files[@]} files, $(du -sh "$LAKE" | cut -f1)"

# sqlite-utils: the same files, one upsert per file, into a fresh database.
t0=$(now_ms)
for file in "${files[@]}"; do
  sqlite-utils upsert --nl --pk TRANSACTION_ID "$WORK/sqlite_utils.db" "$FEED" "$file" >/dev/null
done
su_ms=$(($(now_ms) - t0))
su_rows=$(sqlite3 "$WORK/sqlite_utils.db" "SELECT count(*) FROM $FEED")

# The raw node:sqlite limit, same files, fresh database.
t0=$(now_ms)
/usr/bin/time -v -o "$WORK/time_raw.txt" deno run -A bench/load_raw.ts "$WORK/raw.db" "${files[@]}" >/dev/null
raw_ms=$(($(now_ms) - t0))
raw_rows=$(sqlite3 "$WORK/raw.db" "SELECT count(*) FROM $FEED")
raw_rss_kb=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$WORK/time_raw.txt")

# Ours: `deno task start load` into a fresh warehouse, peak RSS from /usr/bin/time -v.
export DATA_LAKE_DIR="$LAKE" WAREHOUSE_PATH="$WORK/warehouse.db" LOG_FORMAT=json
deno task start --help >/dev/null 2>&1 # warm Deno's transpile cache: measure the load, not that
t0=$(now_ms)
/usr/bin/time -v -o "$WORK/time.txt" deno task start load --feeds "$FEED" \
  >"$WORK/load.out" 2>"$WORK/load.err"
our_ms=$(($(now_ms) - t0))
our_rows=$(sqlite3 "$WORK/warehouse.db" "SELECT count(*) FROM $FEED")
rss_kb=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$WORK/time.txt")
grep -E "^[✓!]" "$WORK/load.out" || true

# No-op reload: nothing new; the loader's own time (load_done ms) and the whole process.
t0=$(now_ms)
deno task start load >"$WORK/noop.out" 2>"$WORK/noop.err"
noop_wall_ms=$(($(now_ms) - t0))
noop_ms=$(grep -o '"event":"warehouse.load_done".*' "$WORK/noop.err" |
  sed -nE 's/.*"ms":([0-9]+).*/\1/p' | tail -n 1)

rate() { awk -v r="$1" -v ms="$2" 'BEGIN { printf "%.0f", r / (ms / 1000) }'; }
su_rate=$(rate "$su_rows" "$su_ms")
raw_rate=$(rate "$raw_rows" "$raw_ms")
our_rate=$(rate "$our_rows" "$our_ms")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "sqlite-utils upsert: $su_rows rows in $su_ms ms = $su_rate rows/s"
echo "raw node:sqlite (bench/load_raw.ts): $raw_rows rows in $raw_ms ms = $raw_rate rows/s, peak RSS $((raw_rss_kb / 1024)) MB"
echo "deno task start load: $our_rows rows in $our_ms ms = $our_rate rows/s"
echo "ratio: $(ratio "$our_rate" "$su_rate")x sqlite-utils (target >= 4x)"
echo "ratio: $(ratio "$our_rate" "$raw_rate")x raw node:sqlite (target >= 0.9x)"
echo "peak RSS (load): $((rss_kb / 1024)) MB (target <= 200 MB)"

echo "no-op reload: ${noop_ms} ms in the loader, ${noop_wall_ms} ms for the whole process incl. Deno start (target < 100 ms)"
