#!/usr/bin/env bash
# Builds one self-contained executable, dist/data-platform, from main.ts: the code, its npm
# packages (@platformatic/kafka, hono) and node:sqlite are embedded; nothing is downloaded when it runs.
#
# The permission and unstable flags are read from the `start` task in deno.json, so
# `deno task start` and the binary always run with exactly the same permissions.
#
# Building needs Deno's runtime for the target (denort), which `deno compile` downloads from
# dl.deno.land once. Offline, point DENORT_BIN at a denort binary of the same Deno version
# (Deno itself reads that variable; this script only passes it through).
#
# Usage: ./compile.sh [--target <triple>]   (OUTPUT=path to change dist/data-platform)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
OUTPUT="${OUTPUT:-dist/data-platform}"

say() { echo "compile.sh: $*"; }
die() { echo "compile.sh: error: $*" >&2; exit 1; }

command -v deno >/dev/null || die "deno not found on PATH (https://docs.deno.com/runtime/getting_started/installation/)"

# The `start` task's flags (every word starting with --), the one source of truth.
source scripts/start_flags.sh
((${#FLAGS[@]})) || die "no flags found in the start task of deno.json"

if [[ -n "${DENORT_BIN:-}" ]]; then
  [[ -x "$DENORT_BIN" ]] || die "DENORT_BIN=$DENORT_BIN is not an executable file"
  say "using Deno runtime from DENORT_BIN=$DENORT_BIN"
fi

say "flags: ${FLAGS[*]}"
mkdir -p "$(dirname "$OUTPUT")"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# Worker modules are loaded by URL at run time, not imported: embed them by name.
WORKERS=(--include src/warehouse/load/read_worker.ts)
if ! deno compile "${FLAGS[@]}" "${WORKERS[@]}" --output "$OUTPUT" "$@" main.ts 2>&1 | tee "$log"; then
  if grep -qiE "dl\.deno\.land|download|dns|network|connect|denort" "$log"; then
    die "deno compile could not get Deno's runtime (denort); building needs the network once," \
      "or set DENORT_BIN to a denort $(deno --version | head -n 1 | cut -d' ' -f2) binary"
  fi
  die "deno compile failed (see above)"
fi
say "built $(cd "$(dirname "$OUTPUT")" && pwd)/$(basename "$OUTPUT")"
say "run it: WAREHOUSE_PATH=... DATA_LAKE_DIR=... ANONYMIZATION_KEY=... ADMIN_TOKEN=... $OUTPUT serve"
