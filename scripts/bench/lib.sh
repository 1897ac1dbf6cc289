# Shared by the benchmarks: timing in the same run as a baseline, medians.
# Sourced, not run.

# Builds the release binary once and prints its path.
bench_binary() {
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  (cd "$root" && cargo build --release --locked --quiet) >&2
  printf '%s\n' "$root/target/release/scopecraft-tmux"
}

# median_ms RUNS COMMAND...: runs COMMAND RUNS times (output discarded) and
# prints the median wall time in milliseconds with two decimals.
median_ms() {
  local runs="$1"; shift
  local i start end samples=()
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    samples+=($((end - start)))
  done
  printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f\n", m / 1e6}'
}

# ratio A B: A / B with two decimals.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }'
}
