#!/usr/bin/env bash
# dispatch into tmux, against a bare `tmux new-window -d` on the same private
# server in the same run; the tmux client calls a dispatch makes (and those
# its supervisor makes); `list` and `status <task>` over 1000 sessions
# against a no-op process.
#
#   scripts/bench/dispatch.sh [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/lib.sh"
runs="${1:-30}"
bin="$(bench_binary)"
bench_world
mkdir -p "$work/project/.tasks/current" "$work/project/.tasks/.modes/implementation" "$work/bin"
trap 'tmux kill-server 2>/dev/null || true; rm -rf "$work"' EXIT

# An agent that ends at once, and a tmux that counts its callers.
printf '#!/bin/sh\nexit 0\n' > "$work/agent"
real_tmux="$(command -v tmux)"
cat > "$work/bin/tmux" <<WRAP
#!/bin/sh
printf '%s %s\n' "\$PPID" "\$1" >> "$work/tmux-calls"
exec "$real_tmux" "\$@"
WRAP
chmod +x "$work/agent" "$work/bin/tmux"
export SCOPECRAFT_AGENT="$work/agent"
printf -- '---\ninput:\n  taskId: string\n---\nImplement {taskId}.\n' > "$work/project/.tasks/.modes/implementation/base.md"
mkdir -p "$work/project/.tasks/.config"
printf 'default-mode = "implementation"\n[tmux]\nkeep-pane = false\n' > "$work/project/.tasks/.config/scopecraft-tmux.toml"
for ((i = 0; i < runs + 3; i++)); do
  printf '# Task %s\n\n---\ntype: feature\nstatus: todo\narea: cli\n---\n\n## Instruction\nDo %s.\n' "$i" "$i" \
    > "$work/project/.tasks/current/bench-$i-11A.task.md"
done
cd "$work/project"
tmux -f /dev/null new-session -d -s scopecraft -x 200 -y 50
tmux new-session -d -s baseline

# Warm up (the tmux version cache, the page cache).
"$bin" dispatch --no-worktree "bench-$((runs + 1))-11A" >/dev/null
PATH="$work/bin:$PATH" "$bin" dispatch --no-worktree "bench-$((runs + 2))-11A" >/dev/null

dispatch_ms=$(for ((i = 0; i < runs; i++)); do
  start=$(date +%s%N); "$bin" dispatch --no-worktree "bench-$i-11A" >/dev/null; end=$(date +%s%N)
  echo $((end - start))
done | median_of)
bare_ms=$(median_ms "$runs" tmux new-window -d -t baseline: sleep 1)

# Client calls of one more dispatch, split by caller (dispatch vs supervisor).
: > "$work/tmux-calls"
PATH="$work/bin:$PATH" "$bin" dispatch --no-worktree "bench-$runs-11A" >/dev/null &
dispatch_pid=$!
wait "$dispatch_pid"
sleep 1
by_dispatch=$(awk -v p="$dispatch_pid" '$1 == p' "$work/tmux-calls" | wc -l)
total=$(wc -l < "$work/tmux-calls")

echo "dispatch into tmux, median of $runs runs (private server, agent exits at once):"
echo "  tmux new-window -d          ${bare_ms} ms"
echo "  scopecraft-tmux dispatch    ${dispatch_ms} ms  ($(ratio "$dispatch_ms" "$bare_ms")x the bare new-window)"
echo "  tmux client calls: ${by_dispatch} by dispatch, $((total - by_dispatch)) by its supervisor (label + end)"

# list over 1000 sessions of one run each (a session record and its run's
# record for Scopecraft, as a dispatch writes them).
# Copies of a real session, each with its own task id (a record whose
# sessionName is not its file's name would be skipped, not listed).
sessions="$(ls -d "$SCOPECRAFT_HOME"/projects/*/sessions)"
template="$sessions/bench-0-11A.implementation.session.json"
run_template="$(ls "$sessions"/task-bench-0-11A-*.info.json | head -n 1)"
for ((n = 0; n < 1000; n++)); do
  sed "s/bench-0-11A/bench-r$n-11A/g" "$template" > "$sessions/bench-r$n-11A.implementation.session.json"
  run="$(basename "$run_template")"
  sed "s/bench-0-11A/bench-r$n-11A/g" "$run_template" > "$sessions/${run/bench-0-11A/bench-r$n-11A}"
done
if "$bin" list 2>&1 >/dev/null | grep -q warning; then
  echo "dispatch.sh: the generated records do not parse" >&2
  exit 1
fi
records=$(ls "$sessions"/*.session.json | wc -l)
runs_on_disk=$(ls "$sessions"/task-*.info.json | wc -l)
noop=$(median_ms "$runs" /bin/true)
list=$(median_ms "$runs" "$bin" list)
list_json=$(median_ms "$runs" "$bin" list --json)
status=$(median_ms "$runs" "$bin" status bench-r500-11A)
echo "list over $records sessions ($runs_on_disk run records), median of $runs runs:"
echo "  /bin/true                   ${noop} ms"
echo "  scopecraft-tmux list        ${list} ms  ($(ratio "$list" "$noop")x the no-op)"
echo "  scopecraft-tmux list --json ${list_json} ms  ($(ratio "$list_json" "$noop")x the no-op)"
echo "  scopecraft-tmux status TASK ${status} ms  ($(ratio "$status" "$noop")x the no-op; no --mode)"
