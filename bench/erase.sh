#!/usr/bin/env bash
# Erasure benchmark: a warehouse of BENCH_ROWS (default 1,000,000) rows — 10,000 USERS and the
# rest split between TRANSACTIONS_SECURE and TRANSACTIONS_USD — plus a lake holding the same
# facts in 30 daily partitions per feed, every user active on every day (the worst case: every
# file holds the person and is rewritten). Then, RUNS times (default 3), on the same data:
#   ours: the real command, `deno task start erase --user U000xx` (lake + warehouse + Kafka
#         tombstones if a broker answers), timed whole, with its peak RSS and the lake figures it
#         logs (`erasure.lake_done`: time, bytes scanned, longest hold of the lake lock);
#   peer: GNU sed deleting another person's lines from every lake file (`sed -i '/HASH/d'`: reads
#         and rewrites every file, no fsync, no warehouse) — the shell way to do the lake part.
# PEER_REF=<git ref> (e.g. the commit before a change) also runs that version's `erase` on the
# same data, for a third person each run: the before/after figure in the same run.
# Needs nothing but Deno and sed; no broker. Uses ~0.7 GB of temp space, removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

ROWS="${BENCH_ROWS:-1000000}"
RUNS="${RUNS:-3}"
WORK="$(mktemp -d -t bench-erase-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
export ANONYMIZATION_KEY=bench-anonymization-key LOG_FORMAT=json
export WAREHOUSE_PATH="$WORK/warehouse.db" DATA_LAKE_DIR="$WORK/lake"

echo "== building $ROWS rows and the lake"
deno run -A bench/erase_gen.ts "$WORK/lake" "$WAREHOUSE_PATH" "$ROWS"
LAKE_BYTES=$(find "$WORK/lake" -name '*.jsonl' -printf '%s\n' | awk '{ s += $1 } END { print s }')
echo "   lake: $(du -sh "$WORK/lake" | cut -f1) in $(find "$WORK/lake" -name '*.jsonl' | wc -l) files"

if [[ -n "${PEER_REF:-}" ]]; then
  git archive "$PEER_REF" | tar -x -C "$WORK" --one-top-level=ref
  cp -r node_modules "$WORK/ref/" 2>/dev/null || true
fi

hash_of() {
  deno eval "import { hmacHexSync, hmacKey } from './src/processor/pseudonymize.ts';
    console.log(hmacHexSync(hmacKey('$ANONYMIZATION_KEY'), '$1'))"
}

for run in $(seq 1 "$RUNS"); do
  ours="U$(printf '%05d' $((41 + run)))"
  peer="U$(printf '%05d' $((141 + run)))"
  echo "== run $run: erase --user $ours (lake + warehouse)"
  /usr/bin/time -f '%e %M' -o "$WORK/time" \
    deno task -q start erase --user "$ours" 2>"$WORK/log" | head -1
  read -r secs rss <"$WORK/time"
  lake=$(grep -o '"event":"erasure.lake_done".*' "$WORK/log" || true)
  lake_ms=$(sed -n 's/.*"ms":\([0-9]*\).*/\1/p' <<<"$lake")
  lock_ms=$(sed -n 's/.*"longestLockMs":\([0-9]*\).*/\1/p' <<<"$lake")

  hash=$(hash_of "$peer")
  /usr/bin/time -f '%e %M' -o "$WORK/time" \
    find "$WORK/lake" -name '*.jsonl' -exec sed -i "/$hash/d" {} +
  read -r peer_secs peer_rss <"$WORK/time"

  if [[ -n "${PEER_REF:-}" ]]; then
    (cd "$WORK/ref" && /usr/bin/time -f '%e %M' -o "$WORK/time" \
      deno task -q start erase --user "U$(printf '%05d' $((241 + run)))" >/dev/null 2>&1)
    read -r ref_secs ref_rss <"$WORK/time"
    echo "   $PEER_REF: ${ref_secs} s whole command, peak RSS $((ref_rss / 1024)) MB"
  fi

  awk -v s="$secs" -v rss="$rss" -v lm="$lake_ms" -v lock="$lock_ms" -v b="$LAKE_BYTES" \
    -v ps="$peer_secs" -v prss="$peer_rss" -v rows="$ROWS" 'BEGIN {
    printf "   ours: %.2f s whole command (%d rows), lake part %.2f s = %.0f MB/s, longest lake-lock hold %d ms, peak RSS %.0f MB\n", s, rows, lm / 1000, b / 1e6 / (lm / 1000), lock, rss / 1024
    printf "   peer: sed -i over the lake %.2f s = %.0f MB/s, peak RSS %.0f MB\n", ps, b / 1e6 / ps, prss / 1024
    printf "   ratio (peer time / our lake time): %.2f; goal: whole command under 1 s: %s\n", ps / (lm / 1000), (s < 1 ? "met" : "NOT met")
  }'
done
