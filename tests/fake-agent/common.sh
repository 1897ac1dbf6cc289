# Shared by the fake Codex and Gemini CLIs (sourced): their behaviour from
# $SCOPECRAFT_HOME/fake-agent/<task>.conf (else default.conf), and a record
# of what they received in $SCOPECRAFT_HOME/fake-agent/calls/<task>.<µs>.<pid>/
# (argv, stdin, cwd, env, prompt), as the fake Claude Code keeps them.
#
#   exit_code=0     exit status
#   sleep=0         seconds to wait before ending
#   wait_for=       a file to wait for before ending (polling)
#   replay=         a JSONL stream to print headless, its conversation id
#                   replaced by ours (default: the documented sample in
#                   tests/fixtures/agent-streams/<agent>.jsonl)
#   say=            a line to print (interactive)
: "${SCOPECRAFT_HOME:?the fake agent needs SCOPECRAFT_HOME}"
root="$SCOPECRAFT_HOME/fake-agent"
task="${SCOPECRAFT_TASK_ID:-${TASK_ID:-unknown}}"
exit_code=0 sleep=0 wait_for= replay= say=
if [ -f "$root/$task.conf" ]; then . "$root/$task.conf"; elif [ -f "$root/default.conf" ]; then . "$root/default.conf"; fi
# Named by the start time (µs, fixed width) so that names sort in call
# order; pids, as text, do not.
calls="$root/calls/$task.${EPOCHREALTIME//[!0-9]/}.$$"
mkdir -p "$calls" "$root/sessions"
printf '%s\0' "$@" > "$calls/argv"
pwd > "$calls/cwd"
env | grep -E '^(SCOPECRAFT_|PATH=)' | sort > "$calls/env"
fixtures="$(cd "$(dirname "${BASH_SOURCE[0]}")/../fixtures/agent-streams" && pwd)"

# Reads stdin whole (keeping trailing newlines) into $stdin_text.
read_stdin() {
  stdin_text="$(cat; printf x)"; stdin_text="${stdin_text%x}"
  printf '%s' "$stdin_text" > "$calls/stdin"
}

# Prints the replayed stream with the conversation id $2 in place of the
# one its first line names under the key $1.
replay_stream() {
  local key="$1" id="$2" file="${replay:-$fixtures/$agent.jsonl}"
  local original
  original=$(head -n 1 "$file" | grep -o "\"$key\":\"[^\"]*\"" | head -n 1 | cut -d'"' -f4)
  if [ -n "$original" ]; then sed "s/$original/$id/g" "$file"; else cat "$file"; fi
}

# Ends as told.
finish() {
  # Whole or not at all: a test reads the call once its prompt file exists.
printf '%s' "$prompt" > "$calls/prompt.part" && mv "$calls/prompt.part" "$calls/prompt"
  [ -n "$say" ] && printf '%s\n' "$say"
  if [ -n "$wait_for" ]; then
    while [ ! -e "$wait_for" ] && [ -d "$SCOPECRAFT_HOME" ]; do sleep 0.05; done
  fi
  [ "$sleep" != 0 ] && sleep "$sleep"
  exit "$exit_code"
}

new_uuid() { cat /proc/sys/kernel/random/uuid; }
