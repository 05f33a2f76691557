#!/usr/bin/env bash
# Runs scripts/kafka/outside_client.py (confluent-kafka, an outside client that speaks SCRAM
# over TLS) in a venv of its own, made on first use with pip from PyPI:
#   scripts/kafka/outside_client.sh setup              make the venv (once), print its python
#   scripts/kafka/outside_client.sh consume|produce …  see outside_client.py
# Settings: KAFKA_CACHE_DIR (venv in $KAFKA_CACHE_DIR/venv, default ~/.cache/datalake-kafka).
# Needs python3 with venv and pip (Debian: python3-venv).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${KAFKA_CACHE_DIR:-$HOME/.cache/datalake-kafka}/venv"
CONFLUENT_KAFKA_SPEC="confluent-kafka>=2.12,<3" # speaks SCRAM-SHA-256/512 with Kafka 4.1

setup() {
  if [[ -x "$VENV/bin/python" ]] && "$VENV/bin/python" -c 'import confluent_kafka' 2>/dev/null; then
    return 0
  fi
  command -v python3 >/dev/null || { echo "outside_client: python3 not found" >&2; exit 1; }
  rm -rf "$VENV.new"
  python3 -m venv "$VENV.new" >&2
  "$VENV.new/bin/pip" install -q --disable-pip-version-check \
    "$CONFLUENT_KAFKA_SPEC" >&2
  rm -rf "$VENV"
  mv "$VENV.new" "$VENV"
}

case "${1:-}" in
  setup)
    setup
    echo "$VENV/bin/python"
    ;;
  consume | produce)
    setup
    exec "$VENV/bin/python" "$HERE/outside_client.py" "$@"
    ;;
  *)
    echo "usage: $0 setup | consume TOPIC [--count N] [--timeout S] | produce TOPIC" >&2
    exit 2
    ;;
esac
