#!/usr/bin/env bash
# Refreshes tests/fixtures/claude-code/ from a real Claude Code: installs it
# from npm into a temporary directory and records `--version` and `--help`.
# The unit test `every_flag_we_pass_exists_in_claude_codes_help` then checks
# every flag dispatch passes against it.
#
#   scripts/claude-code-help.sh [VERSION]   (default: latest)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
npm install --silent --no-audit --no-fund "@anthropic-ai/claude-code@${1:-latest}" >/dev/null
claude="$work/node_modules/.bin/claude"
out="$root/tests/fixtures/claude-code"
mkdir -p "$out"
HOME="$work" "$claude" --version > "$out/version.txt"
HOME="$work" "$claude" --help > "$out/help.txt"
echo "recorded $(cat "$out/version.txt") in $out"
