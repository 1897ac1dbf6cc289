//! scopecraft-tmux: run AI coding agents on the tasks of a Scopecraft project.
//!
//! The binary is `src/main.rs`; this library holds it all so that the fuzz
//! targets (`fuzz/`) reach the parsers. Without the `serve` feature (on by
//! default) the HTTP server and its async runtime are left out.

#![cfg_attr(not(feature = "serve"), allow(dead_code))]

use std::process::ExitCode;

use clap::Parser;

mod agent;
mod ansi;
mod books;
mod cli;
mod cmd;
mod compose;
mod config;
mod docker;
mod error;
mod files;
pub mod fuzzing;
mod git;
mod hook;
mod markdown;
mod menu;
mod mode;
mod names;
mod notify;
mod ops;
mod output;
mod picker;
mod process;
mod procs;
mod project;
#[cfg(feature = "serve")]
mod serve;
mod status;
mod stream;
mod supervisor;
mod task;
mod template;
mod terminal;
mod tmux;
mod transcript;
mod walk;
mod worktree;

/// The command line's program: parses the arguments, runs the command,
/// reports an error.
pub fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => error::report(&err),
    }
}
