#!/usr/bin/env bash
# TPM runs every *.tmux file at the plugin's root; the plugin lives in tmux-plugin/.
CURRENT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$CURRENT_DIR/tmux-plugin/scopecraft.sh"
