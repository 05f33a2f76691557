#!/usr/bin/env bash
# Counts the terminal lines `deno task dev` prints in the 100 s after its banner, in a 160×50
# tmux terminal, and says whether the banner (token and curl lines) is still on screen then.
# Runs its own broker (DEV_KAFKA_PORT, default 19640; wiped first) and a fresh lake and
# warehouse in a temporary folder, so nothing shared is touched.
# Usage: bench/dev_lines.sh [repo dir] (default: this repository). Settings: DEV_SECONDS (100),
# DEV_PORT (18640).
set -euo pipefail
repo="$(cd "${1:-$(dirname "${BASH_SOURCE[0]}")/..}" && pwd)"
seconds="${DEV_SECONDS:-100}"
kport="${DEV_KAFKA_PORT:-19640}"
port="${DEV_PORT:-18640}"
work="$(mktemp -d /tmp/dev-lines.XXXXXX)"
session="devlines$$"
log="$work/terminal.log"

(cd "$repo" && KAFKA_PORT=$kport scripts/kafka.sh reset >/dev/null 2>&1 || true)
# serve can still die on a wiped broker (issue 9): then the run is tried again, topics now made.
for attempt in 1 2 3; do
  rm -rf "$work/lake" "$work/wh.db"* "$log"
  tmux new-session -d -s "$session" -x 160 -y 50 \
    "cd '$repo' && KAFKA_PORT=$kport PORT=$port DATA_LAKE_DIR='$work/lake' \
     WAREHOUSE_PATH='$work/wh.db' script -qfc 'deno task dev' '$log'"
  for _ in $(seq 1 240); do
    grep -q "Ctrl-C stops everything" "$log" 2>/dev/null && break
    tmux has-session -t "$session" 2>/dev/null || break
    sleep 1
  done
  before=$(wc -l <"$log")
  sleep "$seconds"
  after=$(wc -l <"$log")
  if tmux has-session -t "$session" 2>/dev/null; then
    screen="$(tmux capture-pane -p -t "$session")"
    tmux send-keys -t "$session" C-c
    for _ in $(seq 1 60); do tmux has-session -t "$session" 2>/dev/null || break; sleep 1; done
    tmux kill-session -t "$session" 2>/dev/null || true
    break
  fi
  echo "attempt $attempt: deno task dev ended early; again"
  screen=""
done
(cd "$repo" && KAFKA_PORT=$kport scripts/kafka.sh stop >/dev/null 2>&1 || true)
on_screen=no
if grep -q "Admin token" <<<"$screen" && grep -q "curl http" <<<"$screen"; then on_screen=yes; fi
echo "lines in ${seconds} s after the banner: $((after - before))"
echo "banner (token and curl lines) still on screen: $on_screen"
echo "terminal log: $log"
echo "--- screen at the end ---"
echo "$screen"
