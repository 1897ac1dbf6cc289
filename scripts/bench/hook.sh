#!/usr/bin/env bash
# The hook Claude Code runs on every event of an interactive run: its wall
# time (median and p99) against /bin/true given the same stdin, in the same
# run, and how many times 1000 calls that change nothing rewrite the record
# (target: 0). The inputs are Claude Code's: a PostToolUse with a tool
# response, as every tool call sends, to a run that already works.
#
#   scripts/bench/hook.sh [RUNS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/bench/lib.sh
. "$here/lib.sh"
runs="${1:-500}"
bin="$(bench_binary)"
bench_world
sleeper=
cleanup() {
  if [ -n "$sleeper" ]; then kill "$sleeper" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# One live tmux run (its supervisor: a sleeping process) that works.
sleep 100000 &
sleeper=$!
ticks=$(awk '{print $22}' "/proc/$sleeper/stat")
boot=$(cat /proc/sys/kernel/random/boot_id)
dir="$SCOPECRAFT_HOME/projects/home-me-proj/sessions"
name="fix-11A.implementation"
record="$dir/$name.info.json"
id="0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10"
now=$(date -u +%Y-%m-%dT%H:%M:%S.000Z)
mkdir -p "$dir/logs"
cat >"$record" <<RECORD
{
  "sessionName": "$name", "taskId": "fix-11A", "status": "running",
  "startTime": "$now", "lastUpdated": "$now", "logFile": "$dir/logs/$name.log", "type": "interactive",
  "realSessionId": "$id",
  "sessionHistory": [{"sessionId": "$id", "startTime": "$now", "execType": "tmux", "status": "running"}],
  "mode": "implementation", "execType": "tmux", "projectRoot": "/home/me/proj", "workdir": "/home/me/proj",
  "tmux": {"session": "scopecraft", "windowName": "fix-11A-implementation", "windowId": "@1", "paneId": "%1"},
  "agentSessionId": "$id",
  "agentCommand": ["claude", "--session-id", "$id", "--allowedTools=Read,Edit,Bash"],
  "promptOnStdin": false, "keepPane": true,
  "supervisorPid": $sleeper, "supervisorStartTicks": $ticks, "bootId": "$boot",
  "agentState": {"state": "working", "event": "UserPromptSubmit", "since": "$now"}
}
RECORD
input="$work/post-tool-use.json"
output=$(head -c 3000 /dev/zero | tr '\0' 'x')
cat >"$input" <<JSON
{"session_id":"$id","transcript_path":"$HOME/.claude/projects/-home-me-proj/$id.jsonl","cwd":"/home/me/proj","permission_mode":"default","hook_event_name":"PostToolUse","tool_name":"Bash","tool_input":{"command":"cargo test","description":"Run the tests"},"tool_response":{"stdout":"$output","stderr":"","interrupted":false,"isImage":false},"tool_use_id":"toolu_01","duration_ms":1234}
JSON

# time_runs COMMAND...: the wall time of each of $runs runs in nanoseconds,
# COMMAND's stdin the hook input (bash's clock: no process per sample).
time_runs() {
  local i start end
  for ((i = 0; i < runs; i++)); do
    start=$EPOCHREALTIME
    "$@" <"$input" >/dev/null 2>&1
    end=$EPOCHREALTIME
    echo $(((${end/./} - ${start/./}) * 1000))
  done
}
# p99_of: the 99th percentile of the nanosecond samples on stdin, in ms.
p99_of() {
  sort -n | awk '{a[NR]=$1} END {i = int(NR * 0.99 + 0.999); if (i > NR) i = NR; printf "%.2f\n", a[i] / 1e6}'
}

"$bin" __hook "$record" <"$input" # warm
true_samples=$(time_runs /bin/true)
hook_samples=$(time_runs "$bin" __hook "$record")
true_again=$(time_runs /bin/true)
true_median=$(printf '%s\n%s\n' "$true_samples" "$true_again" | median_of)
true_p99=$(printf '%s\n%s\n' "$true_samples" "$true_again" | p99_of)
hook_median=$(median_of <<<"$hook_samples")
hook_p99=$(p99_of <<<"$hook_samples")
printf '%-36s %8s %8s\n' "" "median" "p99"
printf '%-36s %6s ms %6s ms\n' "/bin/true ($runs runs, twice)" "$true_median" "$true_p99"
printf '%-36s %6s ms %6s ms   %sx /bin/true (median)\n' "__hook, PostToolUse, unchanged" \
  "$hook_median" "$hook_p99" "$(ratio "$hook_median" "$true_median")"

# Records written by 1000 calls that change nothing: every write is a new
# file renamed over the record, so its inode changes.
writes=0
inode=$(stat -c %i "$record")
for ((i = 0; i < 1000; i++)); do
  "$bin" __hook "$record" <"$input" >/dev/null 2>&1
  now_inode=$(stat -c %i "$record")
  if [ "$now_inode" != "$inode" ]; then writes=$((writes + 1)) inode=$now_inode; fi
done
echo "records written by 1000 unchanged hook calls: $writes"
