//! `work`: the agent in this terminal (the operation is
//! [`crate::ops::work`]); our exit code is the agent's.

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::WorkArgs;
use crate::config::Config;
use crate::error::Exit;
use crate::ops::{dispatch, work};

impl Run for WorkArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let config = Config::load(&project)?;
        let request = dispatch::Request {
            task: self.input.task.clone(),
            mode: self.input.mode.clone(),
            instructions: self.input.instructions.clone(),
            data: self.input.data.clone(),
            resume: self.resume,
            no_worktree: self.no_worktree,
            agent: self.agent.clone(),
            agent_args: self.agent_args.clone(),
            ..dispatch::Request::default()
        };
        let worked = work::work(&project, &config, &request, |notes, record| {
            for note in notes {
                eprintln!("scopecraft-tmux: {note}");
            }
            let place = record.worktree.as_ref().map_or_else(String::new, |place| {
                format!(" in {} (branch {})", place.path.display(), place.branch)
            });
            eprintln!(
                "scopecraft-tmux: {} ({}) runs here{place}",
                record.task_id,
                record.mode_name()
            );
        })?;
        let record = &worked.record;
        let outcome = match record.outcome() {
            outcome if outcome.is_empty() => String::new(),
            outcome => format!(", {outcome}"),
        };
        eprintln!(
            "scopecraft-tmux: {} ({}) {}{outcome}",
            record.task_id,
            record.mode_name(),
            record.status
        );
        match worked.exit_code() {
            0 => Ok(()),
            code => Err(Exit(code).into()),
        }
    }
}
