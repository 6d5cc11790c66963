#!/usr/bin/env bash
# Starts the Conduit dev server in the background on a free port and prints its URL; the PID goes to $1.
# Usage: url=$(bash scripts/devserver.sh /tmp/devserver.pid [extra args...])
set -euo pipefail
cd "$(dirname "$0")/.."
pidfile=$1; shift
cargo build --quiet --release -p conduit-devserver
out=$(mktemp)
target/release/conduit-devserver --port 0 "$@" >"$out" 2>"${DEVSERVER_LOG:-/dev/null}" &
echo $! >"$pidfile"
for _ in $(seq 1 100); do
  url=$(sed -n 's/^conduit-devserver listening on \(http:[^ ]*\)$/\1/p' "$out")
  if [ -n "$url" ]; then echo "$url"; exit 0; fi
  sleep 0.1
done
echo "the dev server did not start" >&2
exit 1
