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
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
say "load average at start: $(loadavg); rows: $ROWS, days: $DAYS"

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

# Context, not the goal's peer: the raw loop writing the rows as we must (lineage columns, the
# foreign key to USERS enforced, placeholders, its index): what our guarantees cost SQLite.
t0=$(now_ms)
deno run -A bench/load_raw.ts --our-work "$WORK/raw_ours.db" "${files[@]}" >/dev/null
raw2_ms=$(($(now_ms) - t0))
raw2_rows=$(sqlite3 "$WORK/raw_ours.db" "SELECT count(*) FROM $FEED")

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
raw2_rate=$(rate "$raw2_rows" "$raw2_ms")
echo "raw node:sqlite doing our writes (--our-work: lineage, FK to USERS, placeholders): $raw2_rows rows in $raw2_ms ms = $raw2_rate rows/s (context)"
echo "deno task start load: $our_rows rows in $our_ms ms = $our_rate rows/s"
echo "ratio: $(ratio "$our_rate" "$su_rate")x sqlite-utils (target >= 4x)"
echo "ratio: $(ratio "$our_rate" "$raw_rate")x raw node:sqlite (target >= 0.9x)"
echo "ratio: $(ratio "$our_rate" "$raw2_rate")x raw node:sqlite doing our writes (context)"
echo "peak RSS (load): $((rss_kb / 1024)) MB (target <= 200 MB)"

echo "no-op reload: ${noop_ms} ms in the loader, ${noop_wall_ms} ms for the whole process incl. Deno start (target < 100 ms)"
echo "load average after SQLite: $(loadavg)"

# MariaDB (issue 11): our `load` into a fresh MariaDB database against the server's own bulk
# path, LOAD DATA LOCAL INFILE of the same rows (lineage included) into the same table shape
# (CREATE TABLE ... LIKE ours: same columns, types and keys, without the foreign key, which
# LOAD DATA could not satisfy without the placeholders our load writes). Skipped with
# BENCH_MARIADB=0 or when mariadb-server is not installed. Uses scripts/mariadb.sh (started, and
# stopped again, if it was not running).
if [[ "${BENCH_MARIADB:-1}" != "0" ]] && { command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]]; }; then
  mariadb_started=false
  scripts/mariadb.sh status >/dev/null 2>&1 || mariadb_started=true
  scripts/mariadb.sh start >/dev/null
  url="$(scripts/mariadb.sh url | tail -n 1)"
  re='^mysql://([^:]+):([^@]+)@([^:]+):([0-9]+)/(.+)$'
  [[ "$url" =~ $re ]] || { say "cannot read $url"; exit 1; }
  m_user="${BASH_REMATCH[1]}" m_pw="${BASH_REMATCH[2]}" m_host="${BASH_REMATCH[3]}"
  m_port="${BASH_REMATCH[4]}" m_db="${BASH_REMATCH[5]}"
  ours_db="${m_db}_bench_ours_$$" ld_db="${m_db}_bench_ld_$$"
  sql() { MYSQL_PWD="$m_pw" mariadb --no-defaults --local-infile=1 -h"$m_host" -P"$m_port" -u"$m_user" -N -B "$@"; }
  cleanup_mariadb() {
    sql -e "DROP DATABASE IF EXISTS \`$ours_db\`; DROP DATABASE IF EXISTS \`$ld_db\`" || true
    if $mariadb_started; then scripts/mariadb.sh stop >/dev/null || true; fi
  }
  trap 'cleanup_mariadb; [[ -n "${BENCH_DIR:-}" ]] || rm -rf "$WORK"' EXIT
  sql -e "CREATE DATABASE \`$ours_db\`; CREATE DATABASE \`$ld_db\`"

  export WAREHOUSE_URL="mysql://$m_user:$m_pw@$m_host:$m_port/$ours_db"
  t0=$(now_ms)
  /usr/bin/time -v -o "$WORK/time_m.txt" deno task start load --feeds "$FEED" \
    >"$WORK/load_m.out" 2>"$WORK/load_m.err" || { tail -n 5 "$WORK/load_m.err"; exit 1; }
  m_ms=$(($(now_ms) - t0))
  unset WAREHOUSE_URL
  m_rows=$(sql "$ours_db" -e "SELECT COUNT(*) FROM \`$FEED\`")
  m_rss_kb=$(sed -nE 's/.*Maximum resident set size \(kbytes\): ([0-9]+)/\1/p' "$WORK/time_m.txt")
  grep -E "^[✓!]" "$WORK/load_m.out" || true

  sql -e "CREATE TABLE \`$ld_db\`.\`$FEED\` LIKE \`$ours_db\`.\`$FEED\`"
  cols=$(sql -e "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '$ld_db' AND TABLE_NAME = '$FEED'")
  deno run --allow-read --allow-write bench/jsonl_to_tsv.ts "$WORK/rows.tsv" "$cols" "${files[@]}" >/dev/null
  quoted=$(sed -E 's/([^,]+)/`\1`/g' <<<"$cols")
  t0=$(now_ms)
  sql "$ld_db" -e "LOAD DATA LOCAL INFILE '$WORK/rows.tsv' REPLACE INTO TABLE \`$FEED\` CHARACTER SET utf8mb4 FIELDS TERMINATED BY '\t' ($quoted)"
  ld_ms=$(($(now_ms) - t0))
  ld_rows=$(sql "$ld_db" -e "SELECT COUNT(*) FROM \`$FEED\`")

  m_rate=$(rate "$m_rows" "$m_ms")
  ld_rate=$(rate "$ld_rows" "$ld_ms")
  echo "MariaDB $(sql -e 'SELECT VERSION()')"
  echo "deno task start load (MariaDB): $m_rows rows in $m_ms ms = $m_rate rows/s (peak RSS $((m_rss_kb / 1024)) MB)"
  echo "LOAD DATA LOCAL INFILE: $ld_rows rows in $ld_ms ms = $ld_rate rows/s"
  echo "ratio: $(awk -v a="$m_rate" -v b="$ld_rate" 'BEGIN { printf "%.2f", a / b }')x LOAD DATA (the server's own bulk path: the near-limit; target >= 0.8x)"
  echo "load average after MariaDB: $(loadavg)"
fi
