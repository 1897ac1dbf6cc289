#!/usr/bin/env bash
# dispatch into tmux, against a bare `tmux new-window -d` on the same private
# server in the same run; the tmux client calls a dispatch makes (and those
# its supervisor makes); `list` over 1000 records against a no-op process.
#
#   scripts/bench/dispatch.sh [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
. "$here/lib.sh"
runs="${1:-30}"
bin="$(bench_binary)"
work="$(mktemp -d)"
export TMUX_TMPDIR="$work/tmux" HOME="$work/home" SCOPECRAFT_HOME="$work/scopecraft"
unset TMUX
mkdir -p "$TMUX_TMPDIR" "$HOME" "$work/project/.tasks/current" "$work/project/.tasks/.modes/implementation" "$work/bin"
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
printf 'default-mode = "implementation"\n[tmux]\nkeep-pane = false\n' > "$work/project/.tasks/.config.toml" 2>/dev/null || true
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
"$bin" dispatch "bench-$((runs + 1))-11A" >/dev/null
PATH="$work/bin:$PATH" "$bin" dispatch "bench-$((runs + 2))-11A" >/dev/null

samples=()
for ((i = 0; i < runs; i++)); do
  start=$(date +%s%N); "$bin" dispatch "bench-$i-11A" >/dev/null; end=$(date +%s%N)
  samples+=($((end - start)))
done
dispatch_ms=$(printf '%s\n' "${samples[@]}" | sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1e6}')
bare_ms=$(median_ms "$runs" tmux new-window -d -t baseline: sleep 1)

# Client calls of one more dispatch, split by caller (dispatch vs supervisor).
: > "$work/tmux-calls"
PATH="$work/bin:$PATH" "$bin" dispatch "bench-$runs-11A" >/dev/null &
dispatch_pid=$!
wait "$dispatch_pid"
sleep 1
by_dispatch=$(awk -v p="$dispatch_pid" '$1 == p' "$work/tmux-calls" | wc -l)
total=$(wc -l < "$work/tmux-calls")

echo "dispatch into tmux, median of $runs runs (private server, agent exits at once):"
echo "  tmux new-window -d          ${bare_ms} ms"
echo "  scopecraft-tmux dispatch    ${dispatch_ms} ms  ($(ratio "$dispatch_ms" "$bare_ms")x the bare new-window)"
echo "  tmux client calls: ${by_dispatch} by dispatch, $((total - by_dispatch)) by its supervisor (label + end)"

# list over 1000 records.
sessions="$(ls -d "$SCOPECRAFT_HOME"/projects/*/sessions)"
template="$(ls "$sessions"/*.info.json | head -n 1)"
for ((n = 0; n < 1000; n++)); do
  sed "s/bench-[0-9]*-11A-implementation/bench-r$n-11A-implementation/; s/\"taskId\": \"bench-[0-9]*-11A\"/\"taskId\": \"bench-r$n-11A\"/" \
    "$template" > "$sessions/bench-r$n-11A-implementation.info.json"
done
records=$(ls "$sessions"/*.info.json | wc -l)
noop=$(median_ms "$runs" /bin/true)
list=$(median_ms "$runs" "$bin" list)
list_json=$(median_ms "$runs" "$bin" list --json)
echo "list over $records records, median of $runs runs:"
echo "  /bin/true                   ${noop} ms"
echo "  scopecraft-tmux list        ${list} ms  ($(ratio "$list" "$noop")x the no-op)"
echo "  scopecraft-tmux list --json ${list_json} ms  ($(ratio "$list_json" "$noop")x the no-op)"
