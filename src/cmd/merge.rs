//! `merge`: a task's branch into its base; see [`crate::ops::merge`].

use std::io::Write;

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::MergeArgs;
use crate::config::Config;
use crate::ops::merge::{self, Method, Outcome, Request};
use crate::output;

impl Run for MergeArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let config = Config::load(&project)?;
        let method = if self.squash {
            Method::Squash
        } else if self.rebase {
            Method::Rebase
        } else {
            Method::Merge
        };
        let request = Request {
            task: self.task.clone(),
            method,
            message: self.message.clone(),
        };
        let done = merge::merge(&project, &config, &request)?;
        if self.json {
            return output::json(&done);
        }
        let env = &done.environment;
        let mut out = output::stdout();
        if let Some(note) = env.subtask_note("merging") {
            writeln!(out, "{note}")?;
        }
        match &done.outcome {
            Outcome::AlreadyIn { landed } => writeln!(
                out,
                "nothing to merge: {} is in {} already ({})",
                env.branch,
                env.base,
                landed.describe()
            )?,
            Outcome::Merged { commit, commits } => {
                let how = match method {
                    Method::Merge => "with a merge commit",
                    Method::Squash => "squashed into one commit",
                    Method::Rebase => "rebased onto it",
                };
                writeln!(
                    out,
                    "merged {} ({commits} commit(s)) into {} {how}: {} is now {}",
                    env.branch,
                    env.base,
                    env.base,
                    commit.get(..7).unwrap_or(commit)
                )?;
                writeln!(
                    out,
                    "remove the worktree and branch when done: scopecraft-tmux worktree clean {}",
                    env.task_id
                )?;
            }
        }
        out.flush()?;
        Ok(())
    }
}
