#!/usr/bin/env bash
# Builds the binary in the plugin's checkout, in the window the menu opened
# so the progress shows. --locked uses Cargo.lock as it is (never rewrites
# it) and target/ is ignored by git: the checkout stays clean for TPM's
# `git pull`.
CURRENT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PLUGIN_DIR="$(dirname "$CURRENT_DIR")"
# shellcheck source=tmux-plugin/helpers.sh
source "$CURRENT_DIR/helpers.sh"

cd "$PLUGIN_DIR" || exit 1
# rustup's default place, in case the tmux server started without it on PATH.
PATH="$PATH:$HOME/.cargo/bin"
echo "Building scopecraft-tmux in $PLUGIN_DIR"
echo "\$ cargo build --release --locked"
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is not installed: install Rust from https://rustup.rs, then try again."
  status=127
else
  cargo build --release --locked
  status=$?
fi
if [ "$status" -eq 0 ]; then
  message="scopecraft: built target/release/scopecraft-tmux; press the key again"
  "$PLUGIN_DIR/target/release/scopecraft-tmux" status-line --push >/dev/null 2>&1
else
  message="scopecraft: the build failed (exit $status); the window scopecraft-build shows why"
fi
tmux display-message "$(escape_format "$message")"
echo
echo "$message"
read -r -n 1 -s -p "Press any key to close this window."
