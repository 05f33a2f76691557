#!/usr/bin/env bash
# Makes (once) a Python venv outside the repository with Confluent's own Kafka client and its
# Schema Registry serializers (PyPI: confluent-kafka[avro,json,protobuf,schemaregistry]), used by
# tests/registry to produce and read records with clients we did not write. Prints the venv's
# python path on its last line. Settings: REGISTRY_PY_VENV (default
# ~/.cache/datalake-registry/venv).
set -euo pipefail
VENV="${REGISTRY_PY_VENV:-$HOME/.cache/datalake-registry/venv}"
CONFLUENT_KAFKA_VERSION=2.16.2
# A marker written last: an interrupted install is redone, never taken for a complete one.
if [[ ! -f "$VENV/.complete-$CONFLUENT_KAFKA_VERSION-json" ]]; then
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  python3 -m venv "$VENV" >&2
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "confluent-kafka[avro,json,protobuf,schemaregistry]==$CONFLUENT_KAFKA_VERSION" >&2
  touch "$VENV/.complete-$CONFLUENT_KAFKA_VERSION-json"
fi
echo "$VENV/bin/python"
