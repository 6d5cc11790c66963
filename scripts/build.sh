#!/usr/bin/env bash
# Builds the npm package's two WebAssembly builds: pkg/web (ES module with init(): script tags, Vite,
# webpack 5) and pkg/bundler (imports the .wasm as a module), then the React hook (pkg/react, from www/src/react
# with tsc: the conduit-realtime/react subpath), and prints their sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
# wasm-opt from the npm package binaryen: Debian's (version 108) points the __wbindgen_externrefs export at the
# function table, and the module then fails in init() with "Table.set(): Argument 1 is invalid".
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
[ -x node_modules/.bin/wasm-opt ] || { echo "node_modules/.bin/wasm-opt is missing: run scripts/setup.sh" >&2; exit 1; }
for target in web bundler; do
  rm -rf "pkg/$target/snippets"
  wasm-pack --log-level warn build --release --mode no-install --target "$target" --out-dir "pkg/$target" --out-name conduit_realtime --no-pack
  rm -f "pkg/$target/.gitignore" "pkg/$target/package.json" "pkg/$target/README.md"
  node scripts/patch-dts.mjs "pkg/$target/conduit_realtime.d.ts"
done
# The web build (the package's default export) is also loaded as it is, by script tags: one minified file with the
# snippets inlined saves a request and most of the parse. The conduit-realtime/bundler subpath keeps the plain glue.
node_modules/.bin/rolldown pkg/web/conduit_realtime.js --format esm --platform browser --minify --keepNames \
  -o pkg/web/conduit_realtime.min.js >/dev/null
mv pkg/web/conduit_realtime.min.js pkg/web/conduit_realtime.js
rm -rf pkg/web/snippets
rm -rf pkg/react
node_modules/.bin/tsc -p www/tsconfig.hook.json
bash scripts/size.sh pkg/web
printf '%-32s %10s %10s\n' react/useConduitRealtime.js "$(wc -c <pkg/react/useConduitRealtime.js)" "$(gzip -9 -c pkg/react/useConduitRealtime.js | wc -c)"
