//! A mode file (then, after a NUL byte, its data as JSON): front matter read, body rendered.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| scopecraft_tmux::fuzzing::template(bytes));
