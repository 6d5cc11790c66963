#!/usr/bin/env bash
# The benchmark suite (bench/): builds pkg/ if missing, starts the dev server, runs every benchmark in one headless
# Chromium, prints the tables and writes BENCHMARKS.md. --smoke: tiny counts, one round, checks only (no file written).
# Uses the dev server at $DEVSERVER_URL when set (scripts/test.sh), else starts one.
# Usage: bash scripts/bench.sh [--smoke] [--rounds N] [--only throughput,latency,coldStart,memory,scale,size]
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
[ -f pkg/web/conduit_realtime_bg.wasm ] || bash scripts/build.sh
if [ -z "${DEVSERVER_URL:-}" ]; then
  pidfile=$(mktemp)
  DEVSERVER_URL=$(bash scripts/devserver.sh "$pidfile" --quiet)
  trap 'kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"' EXIT
fi
export DEVSERVER_URL
node bench/run.mjs "$@"
