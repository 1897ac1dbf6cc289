//! scopecraft-tmux: run AI coding agents on the tasks of a Scopecraft project.

use std::process::ExitCode;

use clap::Parser;

mod cli;
mod cmd;
mod compose;
mod config;
mod error;
mod markdown;
mod mode;
mod names;
mod output;
mod process;
mod project;
mod task;
mod template;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => error::report(&err),
    }
}
