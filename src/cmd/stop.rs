//! `stop`: ask a session's supervisor to end the agent, and wait until the
//! books say how it ended.

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::Result;

use super::{Globals, Run};
use crate::books::Books;
use crate::cli::SessionArgs;
use crate::output;
use crate::procs;

/// The supervisor's grace period, and a little more.
const WAIT: Duration = Duration::from_secs(15);

impl Run for SessionArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let books = Books::for_project(&project)?;
        let record = super::find_session(&books, self)?;
        let mut out = output::stdout();
        if !record.status.is_live() {
            writeln!(
                out,
                "{} ({}) is not running ({}); nothing to stop",
                record.task_id,
                record.mode_name(),
                record.status
            )?;
            out.flush()?;
            return Ok(());
        }
        {
            let _lock = books.lock(&record.session_name)?;
            if let Some(mut current) = books.read_raw(&record.session_name)? {
                current.stop_requested = Some(true);
                books.write(&mut current)?;
            }
        }
        if let Some(pid) = record.supervisor_pid {
            procs::signal(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + WAIT;
        let ended = loop {
            let current = books.read(&record.session_name)?;
            match current {
                Some(current) if current.status.is_live() && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                other => break other,
            }
        };
        match ended {
            Some(ended) if !ended.status.is_live() => {
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
            }
            _ => anyhow::bail!(
                "{} ({}) did not stop within {}s; its supervisor is pid {}",
                record.task_id,
                record.mode_name(),
                WAIT.as_secs(),
                record.supervisor_pid.map_or("?".into(), |p| p.to_string())
            ),
        }
        out.flush()?;
        Ok(())
    }
}
