#!/usr/bin/env bash
# Fuzzes the protocol decoders and the connection state machine with cargo-fuzz (libFuzzer), one target at a time. Not run by CI.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target defaults to 60; TARGETs default to every target in fuzz/Cargo.toml
# (json_decode msgpack_decode handshake negotiate transcode connection conduit_events).
#
# Each target starts from its committed seeds (fuzz/seeds/<target>/) plus any crash inputs kept in
# fuzz/regressions/<target>/, and grows a working corpus in fuzz/corpus/<target>/ (gitignored, reused by the
# next run). A crash stops that target, leaves the input in fuzz/artifacts/<target>/ and makes the script exit 1
# after the other targets have run; `cargo fuzz tmin <target> <file>` minimises it. Logs go to
# fuzz/artifacts/logs/.
#
# Works on a stable toolchain: RUSTC_BOOTSTRAP=1 unlocks the nightly flags cargo-fuzz passes to rustc.
# Environment: FUZZ_SANITIZER=address|none (default: address, falling back to none if it does not build),
# FUZZ_ARGS="..." extra libFuzzer flags (e.g. "-max_len=65536").
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
export RUSTC_BOOTSTRAP=1
log() { printf '[fuzz] %s\n' "$*"; }

seconds=${1:-60}
case "$seconds" in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS] [TARGET...]" >&2; exit 2 ;;
esac
shift || true

if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cd fuzz
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi

sanitizer=${FUZZ_SANITIZER:-address}
log "building ${#targets[@]} targets (sanitizer: $sanitizer)"
if ! cargo fuzz build --sanitizer "$sanitizer"; then
  if [ "$sanitizer" = none ]; then
    exit 1
  fi
  log "the $sanitizer sanitizer does not build here; retrying with --sanitizer none"
  sanitizer=none
  cargo fuzz build --sanitizer none
fi

mkdir -p artifacts/logs
summary=()
failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  dirs=("corpus/$t")
  [ -d "seeds/$t" ] && dirs+=("seeds/$t")
  [ -d "regressions/$t" ] && dirs+=("regressions/$t")
  logfile="artifacts/logs/$t.log"
  log "running $t for ${seconds}s: corpus ${dirs[*]} (log: fuzz/$logfile)"
  status=ok
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
  if ! cargo fuzz run --sanitizer "$sanitizer" "$t" "${dirs[@]}" -- \
      -max_total_time="$seconds" -print_final_stats=1 ${FUZZ_ARGS:-} 2>&1 | tee "$logfile"; then
    status=CRASH
    failed=1
  fi
  # The log may lack any of these lines (e.g. a crash while loading the corpus): grep/sed must not end the script.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logfile" | tail -n1 || true)
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\)[[:space:]]*DONE.*/\1/p' "$logfile" | tail -n1 || true)
  cov=$( (grep -E '^#[0-9]+[[:space:]]' "$logfile" || true) | tail -n1 |
    sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([^ ]*\).*/cov \1, ft \2, corpus \3/p')
  crash=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$logfile" | tail -n1 || true)
  summary+=("$(printf '%-15s %-6s executions %-10s %s %s' "$t" "$status" "${execs:-?}" "${cov:-}" "${crash:+input: $crash}")")
done

echo
log "summary (${seconds}s per target, sanitizer $sanitizer)"
printf '  %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
  log "crashes found: minimise with 'cargo fuzz tmin <target> <input>' in fuzz/, keep the input under fuzz/regressions/<target>/"
  exit 1
fi
