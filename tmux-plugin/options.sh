# Every option the plugin reads, with its default; set them in ~/.tmux.conf
# before TPM runs, e.g. `set -g @scopecraft-key 'A'`. The binary reads
# @scopecraft-session, -default-mode, -exec and -popup itself (src/menu/context.rs),
# and @scopecraft-notify (src/notify.rs).
# shellcheck shell=bash disable=SC2034

# The key, in the prefix table (prefix + A): not bound by tmux by default.
key_option="@scopecraft-key"
key_default="A"
# The key to the agent that needs you (prefix + N): switches to the run that
# has waited longest (waiting or blocked), the next one on the next press;
# off: no key.
next_key_option="@scopecraft-next-key"
next_key_default="N"
# The tmux session for dispatched windows; empty: the project's tmux.session, else scopecraft.
session_option="@scopecraft-session"
session_default=""
# The mode listed first (marked default); empty: the project's default-mode, else auto.
default_mode_option="@scopecraft-default-mode"
default_mode_default=""
# Where dispatched agents run (tmux, detached, docker); empty: the project's exec, else tmux.
exec_option="@scopecraft-exec"
exec_default=""
# The binary; empty: scopecraft-tmux on PATH, else the plugin's target/release/.
bin_option="@scopecraft-bin"
bin_default=""
# Popups (tmux 3.2 and later) for long task lists and logs: auto, on (always) or off.
popup_option="@scopecraft-popup"
popup_default="auto"
# on: add each window's state glyph to window-status-format and window-status-current-format.
window_status_option="@scopecraft-window-status"
window_status_default="off"
# When a run you are not looking at needs you or ends (read by the binary):
# tmux (a message on the attached clients), desktop (and a desktop
# notification), off; empty: the project's [notify] mode, else tmux.
notify_option="@scopecraft-notify"
notify_default=""
# What #{scopecraft_status} shows, expanded whenever the counts change; the
# counts are @scopecraft_waiting, _blocked, _stuck, _running, _done, _failed,
# _stopped and _interrupted. Default: a glyph and a count per state, the runs
# that need you first, zeros hidden, one space between (`◐ 1 ● 2 ✗ 1`).
status_format_option="@scopecraft-status-format"

# The glyphs: glyph, state, count option; the binary's are the same (src/status.rs).
glyphs=(
  "◐:waiting:@scopecraft_waiting"
  "⊘:blocked:@scopecraft_blocked"
  "⧗:stuck:@scopecraft_stuck"
  "●:running:@scopecraft_running"
  "✓:completed:@scopecraft_done"
  "✗:failed:@scopecraft_failed"
  "■:stopped:@scopecraft_stopped"
  "⚠:interrupted:@scopecraft_interrupted"
)

# Each count shows when it is not zero, preceded by a space when an earlier
# one showed (the earlier counts, written one after another, are not all 0).
status_format_default=""
earlier="" zeros=""
for entry in "${glyphs[@]}"; do
  IFS=: read -r glyph _ count <<<"$entry"
  space=""
  [ -n "$earlier" ] && space="#{?#{!=:$earlier,$zeros}, ,}"
  status_format_default+="#{?$count,$space$glyph #{$count},}"
  earlier+="#{$count}" zeros+="0"
done

# A window's state as a glyph, for the window list: what the plugin
# publishes as @scopecraft_window_state (expanded per window with
# #{E:@scopecraft_window_state}); empty for windows that are not ours.
window_state_format="#{@scopecraft-state}"
for entry in "${glyphs[@]}"; do
  IFS=: read -r glyph state _ <<<"$entry"
  window_state_format="#{?#{==:#{@scopecraft-state},$state},$glyph,$window_state_format}"
done
window_state_format="#{?@scopecraft-state, $window_state_format,}"

# What the plugin keeps for itself between runs.
bound_key_option="@scopecraft_bound_key"
bound_next_key_option="@scopecraft_bound_next_key"
status_format_set_option="@scopecraft_status_format_default"
# The index of our client-attached hook (an array: other hooks stay).
hook_index=4747
