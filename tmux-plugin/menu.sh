#!/usr/bin/env bash
# The key's command (run-shell passes the client and the pane): the binary
# shows the menu; when there is no binary, or one too old to have a menu,
# a menu offers to build it.
CURRENT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLUGIN_DIR="$(dirname "$CURRENT_DIR")"
# shellcheck source=tmux-plugin/options.sh
source "$CURRENT_DIR/options.sh"
# shellcheck source=tmux-plugin/helpers.sh
source "$CURRENT_DIR/helpers.sh"

client="$1"
pane="$2"
problem="scopecraft-tmux is not installed"
where="(looked at @scopecraft-bin, PATH, the plugin's target/)"
if bin="$(find_binary)"; then
  # The binary shows its own errors on the client; exit 2 here is a usage
  # error: a binary from before the plugin's menu.
  "$bin" menu --client "$client" --pane "$pane" --plugin-dir "$PLUGIN_DIR" 2>/dev/null
  [ $? -eq 2 ] || exit 0
  problem="the scopecraft-tmux found is older than the plugin"
  where="(update it, or build the plugin's own)"
fi

build="new-window -n scopecraft-build -c $(tmux_quote "$(escape_format "$PLUGIN_DIR")")"
build+=" -- bash $(tmux_quote "$CURRENT_DIR/build.sh")"
tmux display-menu -c "$client" -t "$pane" -T "#[align=centre] scopecraft " -x C -y C -- \
  "-$problem" "" "" \
  "-$where" "" "" \
  "" \
  "Build it: cargo build --release --locked" b "$(escape_format "$build")"
