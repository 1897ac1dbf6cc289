#!/usr/bin/env bash
# Builds the fuzz targets (fuzz/) and runs each for SECONDS (default 25) on
# its corpus, seeded first from the fixtures (scripts/fuzz/seed.sh). Exits
# non-zero on the first crash, leak, timeout or out-of-memory, whose input
# libFuzzer leaves in fuzz/artifacts/<target>/. Prints each target's runs.
#
#   scripts/fuzz/run.sh [SECONDS] [TARGET…]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`); on a stable toolchain
# RUSTC_BOOTSTRAP=1 lets it use the nightly flags it needs.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
seconds="${1:-25}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(template front_matter stream_json record)
export RUSTC_BOOTSTRAP=1

scripts/fuzz/seed.sh >/dev/null
cargo fuzz build --fuzz-dir fuzz
for target in "${targets[@]}"; do
  log="$(mktemp)"
  # stderr of the code under test (warnings about bad task files) closed;
  # libFuzzer keeps its own for its report.
  if ! cargo fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -close_fd_mask=2 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    rm -f -- "$log"
    echo "fuzz: $target crashed; the input is in fuzz/artifacts/$target/" >&2
    exit 1
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  corpus=$(find "fuzz/corpus/$target" -type f | wc -l)
  echo "fuzz: $target: $runs runs in ${seconds} s, no crash (corpus $corpus inputs)"
  rm -f -- "$log"
done
