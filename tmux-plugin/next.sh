#!/usr/bin/env bash
# The next key's command when the plugin found no binary at load (run-shell
# passes the client and the window): the binary switches to the run that
# waits, if there is one by now.
CURRENT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLUGIN_DIR="$(dirname "$CURRENT_DIR")"
# shellcheck source=tmux-plugin/options.sh
source "$CURRENT_DIR/options.sh"
# shellcheck source=tmux-plugin/helpers.sh
source "$CURRENT_DIR/helpers.sh"

if bin="$(find_binary)"; then
  exec "$bin" next --client "$1" --window "$2"
fi
tmux display-message -c "$1" "scopecraft: scopecraft-tmux is not installed (prefix + $(escape_format "$(get_tmux_option "$key_option" "$key_default")") offers to build it)"
