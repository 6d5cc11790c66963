#!/usr/bin/env bash
# Runs every test on this machine, installing what is missing first:
# native protocol tests, browser tests in headless Chromium, and the two package builds.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
step() { printf '\n=== %s ===\n' "$*"; }

step "setup"
bash scripts/setup.sh

step "native tests (cargo test)"
cargo test --workspace --quiet

# Built before the dev server starts: it serves pkg/ only if the folder exists at start.
step "package builds (pkg/web, pkg/bundler)"
bash scripts/build.sh

step "dev server"
mkdir -p artifacts
pidfile=$(mktemp)
export DEVSERVER_LOG=artifacts/devserver.log
DEVSERVER_URL=$(bash scripts/devserver.sh "$pidfile")
export DEVSERVER_URL
trap 'kill "$(cat "$pidfile")" 2>/dev/null || true' EXIT
echo "dev server at $DEVSERVER_URL"

step "dev server against the official @microsoft/signalr client (node --test)"
node --test --test-concurrency=1 tests/devserver/

step "browser tests (wasm-pack test, headless Chromium)"
export CHROMEDRIVER=/usr/bin/chromedriver WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-300}
for t in tests/web_*.rs; do
  wasm-pack --log-level warn test --headless --chrome --mode no-install --test "$(basename "$t" .rs)"
done

step "web: React hook (Vitest), demos, packed consumer app, docs (Playwright on Chromium)"
bash scripts/test-web.sh "$DEVSERVER_URL"

step "benchmarks, smoke (tiny counts: every client receives every event)"
bash scripts/bench.sh --smoke

step "npm pack"
npm pack --dry-run --json 2>/dev/null | node -e '
  const [p] = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const need = ["pkg/web/conduit_realtime.js", "pkg/web/conduit_realtime_bg.wasm", "pkg/web/conduit_realtime.d.ts",
                "pkg/bundler/conduit_realtime.js", "pkg/bundler/conduit_realtime_bg.wasm"];
  const have = new Set(p.files.map(f => f.path));
  const missing = need.filter(f => !have.has(f));
  if (missing.length) { console.error("npm pack is missing", missing); process.exit(1); }
  console.log(`npm pack: ${p.entryCount} files, ${p.size} bytes`);'

echo
echo "all tests passed"
