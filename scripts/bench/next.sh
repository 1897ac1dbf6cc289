#!/usr/bin/env bash
# The next key: `next` over 1000 records (20 of them waiting) against
# /bin/true in the same run, and the processes one press of prefix + N
# starts (the tmux server under strace, a real client attached) against
# one press of the menu's key, prefix + A.
#
#   scripts/bench/next.sh [RUNS] [RECORDS]
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

# A tmux server (under strace when there is one) with a session `main` and
# two windows whose runs wait.
strace_out="$work/trace"
if command -v strace >/dev/null 2>&1; then
  strace -f -qq -e trace=fork,vfork,clone,clone3 -o "$strace_out" \
    tmux -f /dev/null new-session -d -s main -x 100 -y 20 "exec sleep 100000" &
else
  tmux -f /dev/null new-session -d -s main -x 100 -y 20 "exec sleep 100000"
fi
for _ in $(seq 200); do tmux has-session -t main 2>/dev/null && break; sleep 0.05; done
first=$(tmux new-window -d -P -F '#{window_id}' -t main "exec sleep 100000")
second=$(tmux new-window -d -P -F '#{window_id}' -t main "exec sleep 100000")

# $records sessions over 4 projects, every 50th waiting for its user (its
# supervisor, a sleeping process, alive), the rest completed. The two
# waiting longest are the real windows.
sleep 100000 &
sleeper=$!
ticks=$(awk '{print $22}' "/proc/$sleeper/stat")
boot=$(cat /proc/sys/kernel/random/boot_id)
now=$(date -u +%s)
for p in 0 1 2 3; do mkdir -p "$SCOPECRAFT_HOME/projects/home-me-proj$p/sessions/logs"; done
for ((i = 0; i < records; i++)); do
  p=$((i % 4)) dir="$SCOPECRAFT_HOME/projects/home-me-proj$((i % 4))/sessions"
  name="bench-$i.implementation"
  t=$(date -u -d "@$((now - 3600 - i))" +%Y-%m-%dT%H:%M:%S.000Z)
  window="@9$i"
  if ((i % 50 == 0)); then
    ((i == records - 50)) && window="$first"
    ((i == records - 50 * 2)) && window="$second"
    state="\"status\": \"waiting\", \"supervisorPid\": $sleeper, \"supervisorStartTicks\": $ticks, \"bootId\": \"$boot\",
  \"agentState\": {\"state\": \"waiting\", \"reason\": \"permission_prompt\", \"event\": \"Notification\", \"since\": \"$t\"},"
  else
    state="\"status\": \"completed\", \"exitCode\": 0, \"endTime\": \"$t\","
  fi
  cat > "$dir/$name.session.json" <<RECORD
{
  "sessionName": "$name", "taskId": "bench-$i", $state
  "startTime": "$t", "lastUpdated": "$t", "logFile": "$dir/logs/$name.log", "type": "interactive",
  "sessionHistory": [{"sessionId": "0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10", "startTime": "$t", "execType": "tmux"}],
  "mode": "implementation", "execType": "tmux", "projectRoot": "/home/me/proj$p", "workdir": "/home/me/proj$p",
  "tmux": {"session": "main", "windowName": "$name", "windowId": "$window", "paneId": "%9$i"},
  "agentSessionId": "0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10",
  "agentCommand": ["claude", "--session-id", "0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10"],
  "promptOnStdin": false, "keepPane": true
}
RECORD
done

echo "next over $records sessions: $("$bin" next --print | tail -1)"
true_ms=$(median_ms "$runs" /bin/true)
next_ms=$(median_ms "$runs" "$bin" next --print)
true_again_ms=$(median_ms "$runs" /bin/true)
baseline_ms=$(awk -v a="$true_ms" -v b="$true_again_ms" 'BEGIN { printf "%.2f", (a + b) / 2 }')
printf '%-34s %8s ms\n' "/bin/true (median of $runs, twice)" "$baseline_ms"
printf '%-34s %8s ms  %6sx /bin/true\n' "next --print (books, no tmux)" "$next_ms" "$(ratio "$next_ms" "$baseline_ms")"

if [ ! -s "$strace_out" ]; then
  echo "strace not installed: skipping the process count (apt install strace)"
  exit 0
fi
tmux set -g @scopecraft-bin "$bin"
tmux run-shell "$root/scopecraft.tmux"
tmux -L outer -f /dev/null new-session -d -x 100 -y 20 "env -u TMUX tmux attach -t main"
for _ in $(seq 100); do
  [ -n "$(tmux list-clients -F '#{client_name}')" ] && break
  sleep 0.05
done
sleep 2 # the plugin's load-time refresh and the attach hook run and finish
window() { tmux list-clients -F '#{window_id}'; }
# forks_of PATTERN KEYS…: the processes the server and its children start
# for the keys typed into the client (new processes: forks, and clones that
# are not threads), once the server's log has one more line matching
# PATTERN (what the press ends with) and a moment has passed.
forks_of() {
  local pattern="$1" mark seen i
  shift
  mark=$(wc -l < "$strace_out")
  seen=$(tmux show-messages | grep -c -- "$pattern" || true)
  tmux -L outer send-keys "$@"
  for ((i = 0; i < 400; i++)); do
    (($(tmux show-messages | grep -c -- "$pattern" || true) > seen)) && break
    sleep 0.05
  done
  sleep 0.5
  tail -n +"$((mark + 1))" "$strace_out" | grep -E '(fork|clone3?)\(' | grep -vc CLONE_THREAD || true
}
before=$(window)
next_forks=$(forks_of "message: scopecraft: " C-b N)
after_one=$(window)
next_again=$(forks_of "message: scopecraft: " C-b N)
after_two=$(window)
menu_forks=$(forks_of "command: display-menu " C-b A)
tmux -L outer send-keys q
echo "processes one key press starts (strace on the server):"
printf '  %-40s %s  (the client went %s -> %s, then -> %s)\n' "prefix + N (next)" \
  "$next_forks, again $next_again" "$before" "$after_one" "$after_two"
printf '  %-40s %s\n' "prefix + A (the menu, for comparison)" "$menu_forks"
