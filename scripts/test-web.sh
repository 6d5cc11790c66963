#!/usr/bin/env bash
# The web tests: the React hook (Vitest, happy-dom, fake client), type checks, the docs in step with the
# published types, and Playwright (playwright-core on Debian's /usr/bin/chromium) against the dev server:
# the hook under StrictMode counting sockets at the server, both demos end to end with a cut connection, the
# packed tarball in a consumer app (Vite + React 18) and plain <script type="module"> pages, SSR import.
# Screenshots go to artifacts/screenshots/.
# Usage: bash scripts/test-web.sh [DEVSERVER_URL]   (without one, a dev server is started and stopped here)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n=== web: %s ===\n' "$*"; }
started=$SECONDS

url=${1:-${DEVSERVER_URL:-}}
if [ -z "$url" ]; then
  pidfile=$(mktemp)
  url=$(bash scripts/devserver.sh "$pidfile")
  trap 'kill "$(cat "$pidfile")" 2>/dev/null || true; rm -f "$pidfile"' EXIT
fi
export DEVSERVER_URL=${url%/}
echo "dev server at $DEVSERVER_URL"

[ -x node_modules/.bin/vite ] || npm ci --no-audit --no-fund
if [ ! -f pkg/web/conduit_realtime_bg.wasm ] || [ ! -f pkg/bundler/conduit_realtime_bg.wasm ]; then
  step "package build (pkg/ is missing)"
  bash scripts/build.sh
fi

step "hook build (tsc -> pkg/react) and type checks"
rm -rf pkg/react
node_modules/.bin/tsc -p www/tsconfig.hook.json
node_modules/.bin/tsc -p www/react-demo/tsconfig.json

step "hook unit tests (vitest)"
node_modules/.bin/vitest run --config tests/web-hook/vitest.config.mjs

step "React demo build (vite -> www/react-demo/dist)"
node_modules/.bin/vite build --config www/react-demo/vite.config.ts

step "docs, SSR, browser tests (node --test, headless Chromium)"
mkdir -p artifacts/screenshots
node --test --test-concurrency=1 --test-timeout=240000 tests/web-e2e/

echo
echo "web tests passed in $((SECONDS - started)) s; screenshots in artifacts/screenshots/"
