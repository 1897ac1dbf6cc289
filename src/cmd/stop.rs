//! `stop`: end a running session and say how it ended.

use std::io::Write;

use anyhow::Result;

use super::{Globals, Run};
use crate::books::Books;
use crate::cli::SessionArgs;
use crate::ops::stop::{self, Stopped};
use crate::output;

impl Run for SessionArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let books = Books::for_project(&project)?;
        let record = super::find_session(&project, &books, self)?;
        let mut out = output::stdout();
        match stop::stop(&books, &record)? {
            Stopped::NotRunning(record) => writeln!(
                out,
                "{} ({}) is not running ({}); nothing to stop",
                record.task_id,
                record.mode_name(),
                record.status
            )?,
            Stopped::Ended(ended) => {
                let outcome = ended.outcome();
                writeln!(
                    out,
                    "{} ({}) {}{}",
                    ended.task_id,
                    ended.mode_name(),
                    ended.status,
                    if outcome.is_empty() {
                        String::new()
                    } else {
                        format!(" ({outcome})")
                    }
                )?;
                if !ended.unended.is_empty() {
                    eprintln!(
                        "scopecraft-tmux: warning: could not end what the agent started: {}",
                        crate::procs::describe(&ended.unended)
                    );
                }
            }
        }
        out.flush()?;
        Ok(())
    }
}
