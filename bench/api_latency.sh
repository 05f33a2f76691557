#!/usr/bin/env bash
# API latency during a load (issue 9): see bench/api_latency.ts. Settings: BENCH_ROWS (default
# 300,000), KAFKA_BROKERS (default localhost:9092: /status asks Kafka for the lag).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec deno run --allow-all --unstable-cron bench/api_latency.ts
