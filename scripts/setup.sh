#!/usr/bin/env bash
# What the tests use besides Deno and Java, installed where this script can: Maven (it fetches the
# local broker's jars, once), kcat (the outside producer), sqlite3, MariaDB (server and client,
# for the [mysql] variants) and Chromium (the dashboard's browser test). With root, or sudo that
# needs no password, it installs what is missing with apt-get (Debian/Ubuntu). Otherwise it
# installs nothing and says what is missing and how to get it; the tests that need a missing part
# are then ignored with that message.
# `deno task test` runs it first. Always exits 0 unless an install it tried failed.
set -euo pipefail

say() { echo "setup.sh: $*" >&2; }

missing=()
# The broker's jars, once, only if they are not there yet (scripts/kafka.sh fetches them).
[[ -d "${KAFKA_CACHE_DIR:-$HOME/.cache/datalake-kafka}/kafka-4.1.1/libs" ]] || command -v mvn >/dev/null ||
  missing+=(maven)
command -v kcat >/dev/null || missing+=(kcat)
command -v sqlite3 >/dev/null || missing+=(sqlite3)
command -v mariadbd >/dev/null || [[ -x /usr/sbin/mariadbd ]] || missing+=(mariadb-server)
command -v mariadb >/dev/null || missing+=(mariadb-client)
[[ -x /usr/bin/chromium || -n "${CHROMIUM_PATH:-}" ]] || missing+=(chromium)
((${#missing[@]})) || exit 0

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  say "missing: ${missing[*]} (the tests that need them are ignored, saying so)."
  say "to install: sudo apt-get install ${missing[*]}   (or run this script as root)"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  say "missing: ${missing[*]}; no apt-get here: install them with your package manager."
  exit 0
fi

say "installing ${missing[*]} (apt-get, once)"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q >&2
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
