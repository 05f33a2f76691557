#!/usr/bin/env bash
# Erasure benchmark: a warehouse of BENCH_ROWS (default 1,000,000) rows — 10,000 USERS and the
# rest split between TRANSACTIONS_SECURE and TRANSACTIONS_USD — plus a lake holding the same
# facts in 30 daily partitions per feed, every user active on every day. Then times the real
# command, `deno task start erase --user U00042`, twice: on the warehouse and lake together,
# and on the warehouse alone (an empty lake), and checks the counts it printed.
# Needs nothing but Deno; no broker. Uses ~0.7 GB of temp space, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${BENCH_ROWS:-1000000}"
WORK="$(mktemp -d -t bench-erase-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
export ANONYMIZATION_KEY=bench-anonymization-key LOG_FORMAT=json
export WAREHOUSE_PATH="$WORK/warehouse.db"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

echo "== building $ROWS rows and the lake"
deno run -A bench/erase_gen.ts "$WORK/lake" "$WAREHOUSE_PATH" "$ROWS"
echo "   lake: $(du -sh "$WORK/lake" | cut -f1) in $(find "$WORK/lake" -name '*.jsonl' | wc -l) files"

echo "== erase --user U00042 (lake + warehouse)"
START=$(now)
DATA_LAKE_DIR="$WORK/lake" deno task -q start erase --user U00042 2>/dev/null | head -1
echo "   erase took $(since "$START") s (lake + warehouse, $ROWS rows)"

echo "== erase --user U00043 (warehouse only, empty lake)"
mkdir -p "$WORK/empty"
START=$(now)
DATA_LAKE_DIR="$WORK/empty" deno task -q start erase --user U00043 2>/dev/null | head -1
echo "   erase took $(since "$START") s (warehouse only, $ROWS rows)"
