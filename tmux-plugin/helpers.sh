# Shared by the plugin's scripts: options, finding the binary, quoting.
# Sourced after options.sh (bin_option, bin_default) with PLUGIN_DIR set.
# shellcheck shell=bash disable=SC2154

# The value of a global option, or $2 when it is unset or empty.
get_tmux_option() {
  local value
  value="$(tmux show-option -gqv "$1")"
  printf '%s' "${value:-$2}"
}

# The binary, as SPEC §6 orders it: @scopecraft-bin, then PATH, then the
# plugin's own build. Fails when there is none.
find_binary() {
  local bin
  bin="$(get_tmux_option "$bin_option" "$bin_default")"
  bin="${bin/#\~/$HOME}"
  if [ -n "$bin" ] && [ -x "$bin" ]; then
    printf '%s' "$bin"
    return 0
  fi
  if bin="$(command -v scopecraft-tmux)"; then
    printf '%s' "$bin"
    return 0
  fi
  bin="$PLUGIN_DIR/target/release/scopecraft-tmux"
  [ -x "$bin" ] || return 1
  printf '%s' "$bin"
}

# $1 with `#` doubled, for text tmux expands as a format.
escape_format() {
  printf '%s' "${1//\#/##}"
}

# $1 single-quoted for tmux's command parser.
tmux_quote() {
  local quoted="${1//\'/\'\\\'\'}"
  printf "'%s'" "$quoted"
}

# A run-shell command for the script $1, then the words $2… as they are
# (formats such as '#{pane_id}' for run-shell to expand): the path is
# shell-quoted (bash's %q) and its `#` doubled.
run_shell_line() {
  local line
  line="$(escape_format "$(printf '%q' "$1")")"
  shift
  [ $# -gt 0 ] && line+=" $*"
  printf '%s' "$line"
}
