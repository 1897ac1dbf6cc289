//! scopecraft-tmux: run AI coding agents on the tasks of a Scopecraft project.

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

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => error::report(&err),
    }
}
