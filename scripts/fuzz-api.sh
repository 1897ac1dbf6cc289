#!/usr/bin/env bash
# Property-based fuzzing of the HTTP API against its OpenAPI document
# (schemathesis): a real `serve` with its token, in a temporary world (its
# own HOME, SCOPECRAFT_HOME and tmux server; the fake agent), for a bounded
# time. Fails on any 5xx, on an answer the document does not allow, and if
# the server dies.
#   scripts/fuzz-api.sh [SECONDS]
# Needs `st` (pip install schemathesis) on PATH, or SCHEMATHESIS=path;
# SCOPECRAFT_BIN=path fuzzes that binary instead of a fresh debug build.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-90}"
st="${SCHEMATHESIS:-st}"
command -v "$st" >/dev/null || { echo "needs schemathesis (pip install schemathesis)" >&2; exit 2; }
# A path given relative to here still works once we move to the temporary folder.
case "$st" in */*) st="$(realpath "$st")" ;; esac
bin="${SCOPECRAFT_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --locked --quiet) >&2
  bin="$root/target/debug/scopecraft-tmux"
fi

work="$(mktemp -d)"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  tmux -S "$work/tmux/tmux-$(id -u)/default" kill-server 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
export TMUX_TMPDIR="$work/tmux" HOME="$work/home" SCOPECRAFT_HOME="$work/scopecraft"
export SCOPECRAFT_AGENT="$root/tests/fake-agent/claude" NO_COLOR=1
unset TMUX TMUX_PANE
mkdir -p "$TMUX_TMPDIR" "$HOME" "$SCOPECRAFT_HOME/fake-agent"
# The fake agent ends at once: fuzzing starts many runs.
echo "exit_code=0" > "$SCOPECRAFT_HOME/fake-agent/default.conf"

# A project with tasks and modes the fuzzer may hit (its examples name
# them), and a run in its books.
project="$work/project"
mkdir -p "$project/.tasks/current" "$project/.tasks/.modes/implementation" "$project/.tasks/.config"
for id in web-11A fuzz-1; do
  printf '# Task %s\n\n---\ntype: feature\nstatus: todo\n---\n\n## Instruction\nFuzz.\n' "$id" \
    > "$project/.tasks/current/$id.task.md"
done
printf -- '---\ninput:\n  taskId: string\n---\n\nImplement {taskId}.\n' \
  > "$project/.tasks/.modes/implementation/base.md"
printf 'default-mode = "implementation"\nexec = "detached"\n' \
  > "$project/.tasks/.config/scopecraft-tmux.toml"
(cd "$project" && "$bin" dispatch fuzz-1 >/dev/null)

(cd "$project" && exec "$bin" serve --port 0 >"$work/url" 2>"$work/server.log") &
server=$!
for _ in $(seq 200); do [ -s "$work/url" ] && break; sleep 0.05; done
url="$(head -1 "$work/url")"
port="${url#http://127.0.0.1:}"; port="${port%%/*}"
token="${url#*token=}"

status=0
# From the temporary folder: schemathesis keeps a cache where it runs.
cd "$work"
"$st" run "$root/src/serve/openapi.json" \
  --url "http://127.0.0.1:$port" \
  --header "Authorization: Bearer $token" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-time "$seconds" \
  --workers 1 \
  --request-timeout 30 \
  --seed 1 \
  --no-color \
  --report-dir "$work/report" || status=$?

if ! kill -0 "$server" 2>/dev/null; then
  echo "the server died while fuzzed; its stderr:" >&2
  cat "$work/server.log" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "the server's stderr:" >&2
  tail -n 50 "$work/server.log" >&2
fi
exit "$status"
