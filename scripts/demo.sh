#!/usr/bin/env bash
# Runs the demo: installs what is missing, builds the package (pkg/) and the React demo, starts the Conduit dev
# server (it serves www/ at / and pkg/ at /pkg/) and prints the demo URLs. Ctrl-C stops it.
# PORT=8080 bash scripts/demo.sh picks the port (default 5000, or any free one when 5000 is taken).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

bash scripts/setup.sh
bash scripts/build.sh
node_modules/.bin/vite build --config www/react-demo/vite.config.ts
cargo build --quiet --release -p conduit-devserver

out=$(mktemp)
pid=
start() {
  target/release/conduit-devserver --port "$1" >"$out" 2>&1 &
  pid=$!
  for _ in $(seq 1 50); do
    url=$(sed -n 's/^conduit-devserver listening on \(http:[^ ]*\)$/\1/p' "$out")
    [ -n "$url" ] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}
tailpid=
stop() {
  [ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -f "$out"
}
trap stop EXIT
trap 'exit 0' INT TERM
start "${PORT:-5000}" || { [ -z "${PORT:-}" ] && start 0; } || { cat "$out" >&2; exit 1; }

cat <<MSG

  Conduit dev server    $url

  Plain JS demo         $url/
  React demo            $url/react-demo/dist/
  Documented dialect    $url/?dialect=documented

  Type a prompt and generate an image or a video; "Cut connection" drops the page's sockets at the server
  so you can watch it reconnect and finish. Prompt directives: ms=8000 steps=8 (slower), "fail" (fails).
  Ctrl-C stops.

MSG
tail -n +2 -f "$out" &
tailpid=$!
wait "$pid"
