#!/usr/bin/env bash
# The status line: `status-line` over 1000 records (cached and recounting)
# against a no-op process in the same run, and the processes a tmux status
# refresh starts with the plugin's #{scopecraft_status} (pushed options)
# against #(scopecraft-tmux status-line), counted with strace on the server.
#
#   scripts/bench/status-line.sh [RUNS] [RECORDS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=scripts/bench/lib.sh
. "$here/lib.sh"
runs="${1:-50}"
records="${2:-1000}"
bin="$(bench_binary)"
bench_world
sleeper=
cleanup() {
  tmux kill-server 2>/dev/null || true
  tmux -L outer kill-server 2>/dev/null || true
  if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# $records sessions of one run each (a session record and the run's record
# for Scopecraft) over 4 projects: every 50th running (its supervisor, a
# sleeping process, alive), the rest completed or failed over the last two
# days (about half of them within the 24 hours that count).
sleep 100000 &
sleeper=$!
ticks=$(awk '{print $22}' "/proc/$sleeper/stat")
boot=$(cat /proc/sys/kernel/random/boot_id)
now=$(date -u +%s)
for p in 0 1 2 3; do mkdir -p "$SCOPECRAFT_HOME/projects/home-me-proj$p/sessions/logs"; done
for ((i = 0; i < records; i++)); do
  p=$((i % 4)) dir="$SCOPECRAFT_HOME/projects/home-me-proj$((i % 4))/sessions"
  name="bench-$i.implementation" ms=$(((now - (i * 137) % (48 * 3600)) * 1000))
  run="task-bench-$i-$ms"
  t=$(date -u -d "@$((ms / 1000))" +%Y-%m-%dT%H:%M:%S.000Z)
  if ((i % 50 == 0)); then
    state="\"status\": \"running\", \"supervisorPid\": $sleeper, \"supervisorStartTicks\": $ticks, \"bootId\": \"$boot\","
    scopecraft="\"status\": \"running\", \"state\": \"running\","
  elif ((i % 3 == 0)); then
    state="\"status\": \"failed\", \"exitCode\": 1, \"endTime\": \"$t\","
    scopecraft="\"status\": \"failed\", \"state\": \"failed\", \"exitCode\": 1, \"endTime\": \"$t\","
  else
    state="\"status\": \"completed\", \"exitCode\": 0, \"endTime\": \"$t\","
    scopecraft="\"status\": \"completed\", \"state\": \"completed\", \"exitCode\": 0, \"endTime\": \"$t\","
  fi
  cat > "$dir/$name.session.json" <<RECORD
{
  "sessionName": "$name", "taskId": "bench-$i", $state
  "startTime": "$t", "lastUpdated": "$t", "logFile": "$dir/logs/$run.log", "type": "interactive",
  "sessionHistory": [{"sessionId": "0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10", "record": "$run", "logFile": "$dir/logs/$run.log", "startTime": "$t", "execType": "tmux"}],
  "mode": "implementation", "execType": "tmux", "projectRoot": "/home/me/proj$p", "workdir": "/home/me/proj$p",
  "tmux": {"session": "scopecraft", "windowName": "$name", "windowId": "@$i", "paneId": "%$i"},
  "agentSessionId": "0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10", "promptFile": "$dir/$name.prompt.md",
  "agentCommand": ["claude", "--session-id", "0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10", "--allowedTools=Read,Edit,Bash"],
  "promptOnStdin": false, "keepPane": true
}
RECORD
  cat > "$dir/$run.info.json" <<RECORD
{
  "sessionName": "$run", "taskId": "bench-$i", "logFile": "$dir/logs/$run.log", "startTime": "$t",
  "lastUpdated": "$t", $scopecraft "type": "interactive", "executionMode": "tmux", "dockerEnabled": false,
  "realSessionId": "0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10",
  "sessionHistory": [{"sessionId": "0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10", "startTime": "$t"}],
  "sessionKey": "$name", "mode": "implementation", "execType": "tmux", "projectRoot": "/home/me/proj$p"
}
RECORD
done
# Folders written seconds ago are not trusted for the cache: age them.
touch -d '1 minute ago' "$SCOPECRAFT_HOME"/projects/*/sessions

echo "status-line over $records sessions ($(ls "$SCOPECRAFT_HOME"/projects/*/sessions/task-*.info.json | wc -l) run records): $("$bin" status-line)"
"$bin" status-line >/dev/null # warm: writes the cache
true_ms=$(median_ms "$runs" /bin/true)
cached_ms=$(median_ms "$runs" "$bin" status-line)
# A directory where the cache file would go: every call recounts.
rm -f "$SCOPECRAFT_HOME/cache/status-line" && mkdir -p "$SCOPECRAFT_HOME/cache/status-line"
recount_ms=$(median_ms "$runs" "$bin" status-line)
true_again_ms=$(median_ms "$runs" /bin/true)
rmdir "$SCOPECRAFT_HOME/cache/status-line"
baseline_ms=$(awk -v a="$true_ms" -v b="$true_again_ms" 'BEGIN { printf "%.2f", (a + b) / 2 }')
printf '%-34s %8s ms\n' "/bin/true (median of $runs, twice)" "$baseline_ms"
printf '%-34s %8s ms  %6sx /bin/true\n' "status-line, cached" "$cached_ms" "$(ratio "$cached_ms" "$baseline_ms")"
printf '%-34s %8s ms  %6sx /bin/true\n' "status-line, recounting" "$recount_ms" "$(ratio "$recount_ms" "$baseline_ms")"

# Processes a status refresh starts: a private server under strace, one
# client attached (in a pane of a second, untraced server), status-interval 1,
# then 100 forced refreshes and 3 seconds of ticking; the processes the
# server and its children fork are counted (the pane runs `sleep`, which starts
# nothing). Prints the count, then the status-right text.
if ! command -v strace >/dev/null 2>&1; then
  echo "strace not installed: skipping the process count (apt install strace)"
  exit 0
fi
count_refresh_processes() {
  local status_right="$1" trace="$work/trace.$2" mark client i
  tmux kill-server 2>/dev/null || true
  tmux -L outer kill-server 2>/dev/null || true
  # strace follows the server the client forks, so it runs until the server ends.
  strace -f -qq -e trace=fork,vfork,clone,clone3 -o "$trace" \
    tmux -f /dev/null new-session -d -s main -x 100 -y 20 "exec sleep 100000" &
  for _ in $(seq 200); do tmux has-session -t main 2>/dev/null && break; sleep 0.05; done
  tmux set -g status-interval 1 \; set -g status-right "$status_right" \; set -g @scopecraft-bin "$bin"
  tmux run-shell "$root/scopecraft.tmux"
  tmux -L outer -f /dev/null new-session -d -x 100 -y 20 "env -u TMUX tmux attach -t main"
  for _ in $(seq 100); do
    [ -n "$(tmux list-clients -F '#{client_name}')" ] && break
    sleep 0.05
  done
  sleep 2 # the plugin's load-time refresh and the attach hook run and finish
  mark=$(wc -l < "$trace")
  client="$(tmux list-clients -F '#{client_name}' | head -1)"
  for ((i = 0; i < 100; i++)); do tmux refresh-client -S -t "$client"; done
  sleep 3
  # New processes: forks, and clones that are not threads.
  tail -n +"$((mark + 1))" "$trace" | grep -E '(fork|clone3?)\(' | grep -vc CLONE_THREAD || true
  tmux display -p '#{E:status-right}'
  tmux kill-server 2>/dev/null || true
  wait
}
{ read -r pushed; read -r shown; } < <(count_refresh_processes '#{scopecraft_status} %H:%M' pushed)
{ read -r job; read -r _; } < <(count_refresh_processes "#($bin status-line) %H:%M" job)
echo "processes started by 100 forced status refreshes and 3 s at status-interval 1:"
printf '  %-44s %s   (status-right shows: %s)\n' "#{scopecraft_status} (the plugin's options)" "$pushed" "$shown"
printf '  %-44s %s\n' "#(scopecraft-tmux status-line)" "$job"
