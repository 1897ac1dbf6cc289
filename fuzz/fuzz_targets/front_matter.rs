//! A task file in either format: MDTM's `+++` TOML block or Scopecraft v2's `---` YAML block.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| scopecraft_tmux::fuzzing::front_matter(bytes));
