#!/usr/bin/env bash
# Prints raw, gzip and brotli sizes of a wasm-pack build directory (default pkg/web).
set -euo pipefail
dir=${1:-pkg/web}
gz() { gzip -9 -c "$1" | wc -c; }
br() { if command -v brotli >/dev/null; then brotli -c -q 11 "$1" | wc -c; else echo "-"; fi; }
printf '%-32s %10s %10s %10s\n' file raw gzip brotli
total_raw=0; total_gz=0
for f in "$dir"/conduit_realtime_bg.wasm "$dir"/conduit_realtime.js $(find "$dir/snippets" -name "*.js" 2>/dev/null); do
  raw=$(wc -c <"$f"); g=$(gz "$f")
  total_raw=$((total_raw + raw)); total_gz=$((total_gz + g))
  printf '%-32s %10s %10s %10s\n' "$(basename "$f")" "$raw" "$g" "$(br "$f")"
done
printf '%-32s %10s %10s\n' total "$total_raw" "$total_gz"
