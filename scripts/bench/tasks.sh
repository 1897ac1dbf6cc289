#!/usr/bin/env bash
# `tasks` over the 177 tasks of the Scopecraft v2 fixture, against a no-op
# process (/bin/true) measured in the same run. Median of RUNS (default 50).
#
#   scripts/bench/tasks.sh [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"
runs="${1:-50}"
bin="$(bench_binary)"
bench_world
trap 'rm -rf "$work"' EXIT
cp -r "$here/../../tests/fixtures/scopecraft-v2" "$work/project"
cd "$work/project"
count=$("$bin" tasks --json | grep -c '"id":')

noop=$(median_ms "$runs" /bin/true)
tasks=$(median_ms "$runs" "$bin" tasks)
json=$(median_ms "$runs" "$bin" tasks --json)
echo "tasks over $count tasks, median of $runs runs:"
echo "  /bin/true              ${noop} ms"
echo "  scopecraft-tmux tasks  ${tasks} ms  ($(ratio "$tasks" "$noop")x the no-op)"
echo "  tasks --json           ${json} ms  ($(ratio "$json" "$noop")x the no-op)"
