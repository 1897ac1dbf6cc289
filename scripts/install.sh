#!/usr/bin/env bash
# Installs scopecraft-tmux: the binary (cargo install, into ~/.cargo/bin) and
# the tmux plugin (a run-shell line in your tmux configuration, loaded into
# a running tmux server at once). Safe to run again.
#
#   scripts/install.sh [--no-plugin]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
plugin=1
for arg in "$@"; do
  case "$arg" in
    --no-plugin) plugin=0 ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown argument $arg" >&2; exit 2 ;;
  esac
done

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "install.sh: $1 is required: $2" >&2; exit 2; }
}
need cargo "install Rust from https://rustup.rs"
need tmux "install tmux 3.0 or later (apt install tmux, brew install tmux)"

echo "==> building and installing the binary (a release build: a few minutes the first time)"
cargo install --path "$root" --locked --force
bin_dir="${CARGO_INSTALL_ROOT:-${CARGO_HOME:-$HOME/.cargo}}/bin"
echo "    $bin_dir/scopecraft-tmux ($("$bin_dir/scopecraft-tmux" --version))"
case ":$PATH:" in
  *":$bin_dir:"*) ;;
  *) echo "    note: $bin_dir is not on your PATH; add it, or set @scopecraft-bin in tmux" ;;
esac

[ "$plugin" = 1 ] || exit 0
echo "==> installing the tmux plugin"
line="run-shell '$root/scopecraft.tmux'"
conf="$HOME/.tmux.conf"
xdg="${XDG_CONFIG_HOME:-$HOME/.config}/tmux/tmux.conf"
[ -f "$conf" ] || [ ! -f "$xdg" ] || conf="$xdg"
if [ -f "$conf" ] && grep -qE "scopecraft\.tmux|@plugin ['\"][^'\"]*scopecraft-tmux" "$conf"; then
  echo "    $conf already loads the plugin"
else
  {
    echo ""
    echo "# scopecraft-tmux (added by scripts/install.sh)"
    echo "$line"
  } >> "$conf"
  echo "    added to $conf: $line"
fi
if tmux list-sessions >/dev/null 2>&1; then
  tmux run-shell "$root/scopecraft.tmux"
  echo "    loaded into the running tmux server"
fi
echo "    for the summary in your status line, put #{scopecraft_status} in status-right"
echo "    above that line (set -g status-right '#{scopecraft_status} | %H:%M')"
echo "done: try \`scopecraft-tmux tasks\` in a Scopecraft project"
