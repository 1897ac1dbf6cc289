//! A session record file, as the books read it.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| scopecraft_tmux::fuzzing::record(bytes));
