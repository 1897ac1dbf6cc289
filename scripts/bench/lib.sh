# Shared by the benchmarks: timing in the same run as a baseline, medians.
# Sourced, not run.

# Builds the release binary once and prints its path; BENCH_BINARY names
# another build to measure instead (an older commit's, to compare).
bench_binary() {
  if [ -n "${BENCH_BINARY:-}" ]; then
    printf '%s\n' "$BENCH_BINARY"
    return
  fi
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  (cd "$root" && cargo build --release --locked --quiet) >&2
  printf '%s\n' "$root/target/release/scopecraft-tmux"
}

# bench_world: a temporary folder in $work (the caller removes it), with its own
# HOME, SCOPECRAFT_HOME and tmux server (TMUX_TMPDIR; TMUX unset), so a
# benchmark never touches the user's.
bench_world() {
  work="$(mktemp -d)"
  export TMUX_TMPDIR="$work/tmux" HOME="$work/home" SCOPECRAFT_HOME="$work/scopecraft"
  unset TMUX
  mkdir -p "$TMUX_TMPDIR" "$HOME"
}

# median_of: the median of the nanosecond samples on stdin, in
# milliseconds with two decimals.
median_of() {
  sort -n | awk '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2; printf "%.2f\n", m / 1e6}'
}

# median_ms RUNS COMMAND...: runs COMMAND RUNS times (output discarded) and
# prints the median wall time in milliseconds with two decimals.
median_ms() {
  local runs="$1"; shift
  local i start end
  for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s%N)
    echo $((end - start))
  done | median_of
}

# ratio A B: A / B with two decimals.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f\n", (b > 0) ? a / b : 0 }'
}
