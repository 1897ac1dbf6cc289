//! A take-over: a headless run becomes an interactive tmux window on the
//! same conversation. The headless agent is stopped (its run stays in the
//! record's history, `stopped`), then the conversation is resumed by its
//! id in a tmux window (`claude --resume <id>`, or the agent profile's
//! `resume-interactive`), in the working directory it ran in.

use anyhow::Result;

use super::dispatch::{self, Dispatched, Request};
use super::{sessions, stop};
use crate::agent::{Profile, Style};
use crate::books::{Books, ExecType, Record};
use crate::config::Config;
use crate::error::bail_input;
use crate::project::Project;
use crate::tmux;

/// Takes over the live headless run of `task` (and `mode`). Everything
/// that can be refused is checked before the run is stopped.
pub fn takeover(
    project: &Project,
    config: &Config,
    task: &str,
    mode: Option<&str>,
) -> Result<(Record, Dispatched)> {
    let books = Books::for_project(project)?;
    let record = sessions::find_session(project, &books, task, mode)?;
    check(config, &record)?;
    let stopped = match stop::stop(&books, &record)? {
        stop::Stopped::Ended(ended) | stop::Stopped::NotRunning(ended) => ended,
    };
    let request = Request {
        task: record.task_id.clone(),
        mode: Some(record.mode_name().to_string()),
        exec: Some(ExecType::Tmux),
        resume: true,
        focus_existing: true,
        ..Request::default()
    };
    let dispatched = dispatch::dispatch(project, config, &request).map_err(|err| {
        err.context(format!(
            "the headless run of {} ({}) was stopped, but its conversation could not be opened in tmux; \
             try again with: scopecraft-tmux dispatch {} --mode {} --continue",
            record.task_id,
            record.mode_name(),
            record.task_id,
            record.mode_name()
        ))
    })?;
    Ok((stopped, dispatched))
}

/// A live headless run with a conversation to resume, by an agent that
/// resumes in a terminal, and tmux at hand.
fn check(config: &Config, record: &Record) -> Result<()> {
    let key = format!("{} ({})", record.task_id, record.mode_name());
    if !record.status.is_live() {
        bail_input!(
            "nothing runs: {key} is {}; continue its conversation in tmux with: scopecraft-tmux dispatch {} --mode {} --continue",
            record.status,
            record.task_id,
            record.mode_name()
        );
    }
    match record.exec_type {
        Some(ExecType::Detached) => {}
        Some(ExecType::Tmux) => bail_input!(
            "{key} is not headless: it runs in tmux already; go to it with: scopecraft-tmux attach {} --mode {}",
            record.task_id,
            record.mode_name()
        ),
        Some(ExecType::Terminal) => {
            bail_input!("{key} is not headless: it runs in the terminal that ran `work`")
        }
        Some(ExecType::Docker) | None => bail_input!(
            "{key} runs in Docker: its conversation is inside the container, where a tmux window cannot resume it"
        ),
    }
    if record.agent_session_id.is_none() && record.real_session_id.is_none() {
        bail_input!(
            "{key} has no conversation id yet (the agent has not reported one), so there is nothing to take over; try again in a moment"
        );
    }
    let profile = Profile::named(config, record.agent_name())?;
    if !profile.can_resume(Style::Interactive) {
        bail_input!(
            "the agent {} cannot resume a conversation in tmux: its profile has no resume-interactive arguments",
            profile.name
        );
    }
    tmux::check_installed(true)?;
    Ok(())
}
