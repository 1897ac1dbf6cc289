#!/usr/bin/env bash
# Loads the plugin: the keys in the prefix table, the status placeholders,
# the window-list glyphs, and a refresh of the counts on attach. Starts no
# build and waits for nothing; running it again changes nothing.
CURRENT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLUGIN_DIR="$(dirname "$CURRENT_DIR")"
# shellcheck source=tmux-plugin/options.sh
source "$CURRENT_DIR/options.sh"
# shellcheck source=tmux-plugin/helpers.sh
source "$CURRENT_DIR/helpers.sh"

# prefix + key opens the menu; a key bound by an earlier run under another
# name is let go.
bind_key() {
  local key previous
  key="$(get_tmux_option "$key_option" "$key_default")"
  previous="$(get_tmux_option "$bound_key_option" "")"
  if [ -n "$previous" ] && [ "$previous" != "$key" ] &&
    tmux list-keys -T prefix "$previous" 2>/dev/null | grep -qF "$CURRENT_DIR/menu.sh"; then
    tmux unbind-key -T prefix "$previous"
  fi
  tmux bind-key -T prefix "$key" \
    run-shell -b "$(run_shell_line "$CURRENT_DIR/menu.sh" "'#{client_name}'" "'#{pane_id}'")"
  tmux set-option -gq "$bound_key_option" "$key"
}

# prefix + next key runs `next`: the binary itself when there is one (a
# press starts sh, the binary and one tmux client), else next.sh, which
# looks for it then.
bind_next_key() {
  local key previous bin line
  key="$(get_tmux_option "$next_key_option" "$next_key_default")"
  previous="$(get_tmux_option "$bound_next_key_option" "")"
  if [ -n "$previous" ] && [ "$previous" != "$key" ] &&
    tmux list-keys -T prefix "$previous" 2>/dev/null | grep -qF -e " next --client " -e "/next.sh "; then
    tmux unbind-key -T prefix "$previous"
  fi
  if [ "$key" = "off" ]; then
    tmux set-option -gq "$bound_next_key_option" ""
    return
  fi
  if bin="$(find_binary)"; then
    line="$(run_shell_line "$bin" next --client "'#{client_name}'" --window "'#{window_id}'")"
  else
    line="$(run_shell_line "$CURRENT_DIR/next.sh" "'#{client_name}'" "'#{window_id}'")"
  fi
  tmux bind-key -T prefix "$key" run-shell -b "$line"
  tmux set-option -gq "$bound_next_key_option" "$key"
}

# Replaces $2 with $3 in the global option $1 (-w for a window option).
interpolate() {
  local scope="$1" option="$2" placeholder="$3" replacement="$4" value
  value="$(tmux show-option "$scope" -qv "$option")"
  [[ "$value" == *"$placeholder"* ]] || return 0
  tmux set-option "$scope" -q "$option" "${value//"$placeholder"/"$replacement"}"
}

# The status format: the user's, else our default. A default set by an
# earlier version of the plugin is replaced by this version's.
status_format() {
  local current previous
  current="$(tmux show-option -gqv "$status_format_option")"
  previous="$(tmux show-option -gqv "$status_format_set_option")"
  if [ -z "$current" ] || [ "$current" = "$previous" ]; then
    tmux set-option -gq "$status_format_option" "$status_format_default"
    tmux set-option -gq "$status_format_set_option" "$status_format_default"
  fi
  interpolate -g status-right "#{scopecraft_status}" "#{E:@scopecraft_status}"
  interpolate -g status-left "#{scopecraft_status}" "#{E:@scopecraft_status}"
  # The text for the counts pushed so far, in the format now set.
  tmux set-option -gqF @scopecraft_status "#{E:$status_format_option}"
}

window_status() {
  local option value
  tmux set-option -gq @scopecraft_window_state "$window_state_format"
  for option in window-status-format window-status-current-format; do
    interpolate -gw "$option" "#{scopecraft_window_state}" "#{E:@scopecraft_window_state}"
    [ "$(get_tmux_option "$window_status_option" "$window_status_default")" = "on" ] || continue
    value="$(tmux show-option -gwqv "$option")"
    [[ "$value" == *"#{E:@scopecraft_window_state}"* ]] ||
      tmux set-option -gwq "$option" "$value#{E:@scopecraft_window_state}"
  done
}

# Counts age (a run ended yesterday stops counting): pushed again when a
# client attaches and now, in the background.
refresh() {
  tmux set-hook -g "client-attached[$hook_index]" \
    "run-shell -b $(tmux_quote "$(run_shell_line "$CURRENT_DIR/refresh.sh")")"
  "$CURRENT_DIR/refresh.sh" </dev/null >/dev/null 2>&1 &
}

bind_key
bind_next_key
status_format
window_status
refresh
