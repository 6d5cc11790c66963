#!/usr/bin/env bash
# Builds the npm package's two WebAssembly builds: pkg/web (ES module with init(): script tags, Vite,
# webpack 5) and pkg/bundler (imports the .wasm as a module), then prints their sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
for target in web bundler; do
  wasm-pack --log-level warn build --release --mode no-install --target "$target" --out-dir "pkg/$target" --out-name conduit_realtime --no-pack
  rm -f "pkg/$target/.gitignore" "pkg/$target/package.json" "pkg/$target/README.md"
  node scripts/patch-dts.mjs "pkg/$target/conduit_realtime.d.ts"
done
bash scripts/size.sh pkg/web
