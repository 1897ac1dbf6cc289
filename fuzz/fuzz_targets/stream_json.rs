//! An agent's stream-json log (Claude Code, Codex, Gemini): read for the conversation and result, rendered for `logs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| scopecraft_tmux::fuzzing::stream_json(bytes));
