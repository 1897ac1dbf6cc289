#!/usr/bin/env bash
# serve: requests per second and p99 latency of GET /sessions over 1000
# records and of GET /status/…, against GET /healthz in the same run (wrk,
# 50 connections); the server's peak memory while a WebSocket follows a
# 200 MB log.
#   scripts/bench/serve.sh [SECONDS] [RECORDS] [LOG_MB]
# (BENCH_BINARY=path measures another build, an older commit's to compare.)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v wrk >/dev/null || { echo "needs wrk (apt-get install wrk)" >&2; exit 2; }
seconds="${1:-5}" records="${2:-1000}" log_mb="${3:-200}"
bin="$(bench_binary)"
bench_world
server="" sleeper=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

project="$work/proj"
mkdir -p "$project/.tasks/current"
printf '# Task bench-1\n\n---\ntype: feature\nstatus: todo\n---\n\n## Instruction\nBench.\n' \
  > "$project/.tasks/current/bench-1.task.md"
# The project's books, where the binary keeps them: a dispatch dry run
# would not write them, so the encoding is the README's.
encoded="$(printf '%s' "$project" | sed 's#^/##' | tr '/' '\n' | sed 's/[^a-zA-Z0-9-]/_/g' | paste -sd- | tr 'A-Z' 'a-z')"
dir="$SCOPECRAFT_HOME/projects/$encoded/sessions"
mkdir -p "$dir/logs"
sleep 100000 &
sleeper=$!
ticks=$(awk '{print $22}' "/proc/$sleeper/stat")
boot=$(cat /proc/sys/kernel/random/boot_id)
t="$(date -u +%Y-%m-%dT%H:%M:%S.000Z)"
for ((i = 0; i < records; i++)); do
  if ((i == 1)); then
    state="\"status\": \"running\", \"supervisorPid\": $sleeper, \"supervisorStartTicks\": $ticks, \"bootId\": \"$boot\", \"execType\": \"detached\","
  else
    state="\"status\": \"completed\", \"exitCode\": 0, \"endTime\": \"$t\", \"execType\": \"tmux\","
  fi
  cat > "$dir/bench-$i.implementation.session.json" <<RECORD
{"sessionName": "bench-$i.implementation", "taskId": "bench-$i", $state
 "startTime": "$t", "lastUpdated": "$t", "logFile": "$dir/logs/bench-$i.log", "type": "interactive",
 "mode": "implementation", "projectRoot": "$project", "workdir": "$project",
 "sessionHistory": [{"sessionId": "0b9c6c1e-8f8e-4c55-9f37-2d1c7d7f3a10", "startTime": "$t"}]}
RECORD
done

(cd "$project" && exec "$bin" serve --port 0 >"$work/url" 2>/dev/null) &
server=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url="$(head -1 "$work/url")"
port="${url#http://127.0.0.1:}"; port="${port%%/*}"
token="${url#*token=}"
base="http://127.0.0.1:$port"
echo "GET /sessions answers $(curl -s -H "Authorization: Bearer $token" "$base/sessions" | grep -o '"sessionName"' | wc -l) records"

# measure PATH: prints its requests per second and p99; keeps the rate in
# $rps.
measure() {
  local line
  line="$(wrk -t2 -c50 -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$base$1" \
    | awk -v path="$1" '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} /Non-2xx/ {bad=$NF}
      END {printf "%-36s %10s req/s   p99 %-9s%s\n", path, rps, p99, bad ? "   NOT 2xx: " bad : ""}')"
  echo "$line"
  rps="$(awk '{print $2}' <<<"$line")"
}
measure /healthz; healthz_before="$rps"
measure /sessions; sessions="$rps"
measure /status/implementation/bench-1; status="$rps"
measure /healthz
healthz="$(awk -v a="$healthz_before" -v b="$rps" 'BEGIN { print (a + b) / 2 }')"
echo "ratio to /healthz (req/s): /sessions $(ratio "$sessions" "$healthz"), /status $(ratio "$status" "$healthz")"

# A WebSocket following a live run's 200 MB log (raw), read as fast as it
# comes; the server's peak resident memory before and after.
head -c $((log_mb * 1024 * 1024)) /dev/zero | tr '\0' 'x' | fold -w 199 > "$dir/logs/bench-1.log"
before=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
python3 - "$port" "$token" "$((log_mb * 1024 * 1024))" <<'PY'
import socket, sys, base64, os
port, token, want = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /logs/implementation/bench-1?raw=1 HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
           f"Authorization: Bearer {token}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
got = 0
while got < want:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    got += len(chunk)
print(f"WebSocket followed {got // (1024 * 1024)} MB")
PY
after=$(awk '/VmHWM/ {print $2}' "/proc/$server/status")
echo "server peak RSS: ${before} kB before, ${after} kB after following ${log_mb} MB"
