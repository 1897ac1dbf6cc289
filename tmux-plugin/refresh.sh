#!/usr/bin/env bash
# Pushes the status counts into tmux (when the plugin loads and when a
# client attaches), so that the status line itself starts no process.
CURRENT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLUGIN_DIR="$(dirname "$CURRENT_DIR")"
# shellcheck source=tmux-plugin/options.sh
source "$CURRENT_DIR/options.sh"
# shellcheck source=tmux-plugin/helpers.sh
source "$CURRENT_DIR/helpers.sh"

bin="$(find_binary)" || exit 0
exec "$bin" status-line --push
