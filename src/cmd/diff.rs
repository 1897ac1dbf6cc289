//! `diff`: a task's changes for review; see [`crate::ops::diff`].

use std::io::{IsTerminal, Write};

use anyhow::Result;

use super::{Globals, Run};
use crate::cli::{ColorChoice, DiffArgs};
use crate::config::Config;
use crate::ops::diff::{self, Diff, Request};
use crate::output;

impl Run for DiffArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let config = Config::load(&project)?;
        let request = Request {
            task: self.task.clone(),
            stat: self.stat,
            color: !self.json
                && match self.color {
                    ColorChoice::Auto => colours(),
                    ColorChoice::Always => true,
                    ColorChoice::Never => false,
                },
        };
        let found = diff::diff(&project, &config, &request)?;
        if self.json {
            return output::json(&found);
        }
        print(&found, request.color)
    }
}

/// Colours on a terminal, unless `NO_COLOR` is set.
pub fn colours() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

fn print(found: &Diff, color: bool) -> Result<()> {
    let (bold, plain) = if color {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("", "")
    };
    let env = &found.environment;
    let mut out = output::stdout();
    if let Some(note) = env.subtask_note("its diff is") {
        writeln!(out, "{note}")?;
    }
    let from = env
        .fork_point
        .as_deref()
        .map(|c| c.get(..7).unwrap_or(c))
        .unwrap_or("its first commit");
    if found.committed.is_empty() {
        writeln!(
            out,
            "{bold}{} has no changes since it left {} at {from}{plain}",
            env.branch, env.base
        )?;
    } else {
        writeln!(
            out,
            "{bold}{} against {}, since it left it at {from} ({} commit(s), {} file(s)):{plain}",
            env.branch,
            env.base,
            found.commits.len(),
            found.committed.files.len()
        )?;
        for commit in &found.commits {
            writeln!(out, "  {commit}")?;
        }
        writeln!(out)?;
        out.write_all(found.committed.text.as_bytes())?;
    }
    match (&found.uncommitted, &env.worktree) {
        (Some(part), Some(path)) if !part.is_empty() => {
            writeln!(
                out,
                "\n{bold}uncommitted in {} (not on the branch yet; {} file(s)):{plain}",
                path.display(),
                part.files.len()
            )?;
            out.write_all(part.text.as_bytes())?;
        }
        (_, Some(path)) => writeln!(out, "\nnothing uncommitted in {}", path.display())?,
        (_, None) => writeln!(out, "\n(no worktree: only the branch's commits are shown)")?,
    }
    out.flush()?;
    Ok(())
}
