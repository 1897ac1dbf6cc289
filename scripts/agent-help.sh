#!/usr/bin/env bash
# Refreshes the saved `--help` texts of the built-in agents from their real
# CLIs: installs Claude Code, Codex CLI and Gemini CLI from npm into a
# temporary directory and records `--version` and `--help` (and the help of
# the subcommands we call) under tests/fixtures/<agent>/. The unit tests in
# src/agent.rs then check every flag dispatch passes against these texts.
#
#   scripts/agent-help.sh [claude|codex|gemini]...   (default: all three)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
agents=("$@")
[ ${#agents[@]} -eq 0 ] && agents=(claude codex gemini)
cd "$work"
for agent in "${agents[@]}"; do
  case "$agent" in
    claude) package=@anthropic-ai/claude-code out=claude-code ;;
    codex) package=@openai/codex out=codex ;;
    gemini) package=@google/gemini-cli out=gemini ;;
    *) echo "unknown agent $agent (claude, codex or gemini)" >&2; exit 2 ;;
  esac
  npm install --silent --no-audit --no-fund "$package@latest" >/dev/null
  bin="$work/node_modules/.bin/$agent"
  dir="$root/tests/fixtures/$out"
  mkdir -p "$dir"
  # A home of its own: nothing of the user's configuration shows, nothing is written there.
  run() { HOME="$work" "$bin" "$@" 2>/dev/null; }
  run --version > "$dir/version.txt"
  run --help > "$dir/help.txt"
  if [ "$agent" = codex ]; then
    run exec --help > "$dir/exec-help.txt"
    run resume --help > "$dir/resume-help.txt"
    run exec resume --help > "$dir/exec-resume-help.txt"
  fi
  echo "recorded $agent $(cat "$dir/version.txt") in $dir"
done
