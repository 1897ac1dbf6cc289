//! `work`: the agent in the foreground of this terminal, with the prompt,
//! worktree and books of a dispatch; this process is its supervisor, so the
//! run is recorded (and `list`, `status` and Scopecraft's reader see it)
//! like any other, with its outcome.

use std::process::ExitStatus;

use anyhow::Result;

use super::dispatch::{self, Outcome, Request};
use super::sessions;
use crate::books::{Books, ExecType, Record};
use crate::config::Config;
use crate::error::bail_input;
use crate::project::Project;
use crate::supervisor;

/// How a `work` run ended.
#[derive(Debug)]
pub struct Worked {
    /// The record as the run left it.
    pub record: Record,
    /// The agent's exit status; none when it never started.
    pub status: Option<ExitStatus>,
}

impl Worked {
    /// Our exit code: the agent's, 128 + the signal that ended it (as a
    /// shell says), 1 when it could not start.
    pub fn exit_code(&self) -> u8 {
        use std::os::unix::process::ExitStatusExt;
        match self.status {
            Some(status) => match (status.code(), status.signal()) {
                (Some(code), _) => u8::try_from(code).unwrap_or(1),
                (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(1),
                (None, None) => 1,
            },
            None => 1,
        }
    }
}

/// Runs `request` in this terminal until the agent ends. `told` gets the
/// dispatch's notes and the record before the agent starts. A live run of the same task and mode is
/// refused: one key, one run.
pub fn work(
    project: &Project,
    config: &Config,
    request: &Request,
    told: impl FnOnce(&[String], &Record),
) -> Result<Worked> {
    let request = Request {
        foreground: true,
        focus_existing: false,
        dry_run: false,
        exec: Some(ExecType::Terminal),
        ..request.clone()
    };
    let dispatched = dispatch::dispatch(project, config, &request)?;
    let record = match dispatched.outcome {
        Outcome::Started(record) => record,
        Outcome::AlreadyRunning(record) => {
            let place = match (&record.exec_type, &record.tmux) {
                (Some(ExecType::Tmux), Some(place)) => {
                    format!("in tmux window {}:{}", place.session, place.window_name)
                }
                (Some(ExecType::Terminal), _) => {
                    format!("in another terminal ({})", sessions::live_process(&record))
                }
                _ => format!("headless ({})", sessions::live_process(&record)),
            };
            bail_input!(
                "{} ({}) already runs {place}; one run per task and mode. See it with: scopecraft-tmux attach {} --mode {} (or logs -f), or end it with: scopecraft-tmux stop {} --mode {}",
                record.task_id,
                record.mode_name(),
                record.task_id,
                record.mode_name(),
                record.task_id,
                record.mode_name()
            );
        }
        Outcome::Preview(_) => anyhow::bail!("work never previews"),
    };
    told(&dispatched.notes, &record);
    let books = Books::for_project(project)?;
    let status = supervisor::run(&books.record_path(&record.session_name), None)?;
    let record = books.read(&record.session_name)?.unwrap_or(record);
    Ok(Worked { record, status })
}
