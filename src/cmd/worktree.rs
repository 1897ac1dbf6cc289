//! `worktree list` and `worktree clean`: the task worktrees, what they hold
//! that exists nowhere else, which sessions use them, and removing them
//! without losing work.

use anyhow::{Result, anyhow};
use std::io::Write;

use super::{Globals, Run};
use crate::cli::{WorktreeCleanArgs, WorktreeCommand, WorktreeListArgs};
use crate::config::Config;
use crate::ops::clean::{self, Tally};
use crate::ops::worktrees::{self, Listed};
use crate::output::{self, pad};

impl Run for WorktreeCommand {
    fn run(&self, globals: &Globals) -> Result<()> {
        match self {
            WorktreeCommand::List(args) => args.run(globals),
            WorktreeCommand::Clean(args) => args.run(globals),
        }
    }
}

impl Run for WorktreeListArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let config = Config::load(&project)?;
        let Some((listed, base)) = worktrees::list(&project, &config)? else {
            if self.json {
                return output::json(&Vec::<Listed>::new());
            }
            let mut out = output::stdout();
            writeln!(
                out,
                "{} is not in a git repository: no worktrees",
                project.root.display()
            )?;
            out.flush()?;
            return Ok(());
        };
        if self.json {
            return output::json(&listed);
        }
        print_table(&listed, &base)
    }
}

fn print_table(all: &[Listed], base: &str) -> Result<()> {
    let mut out = output::stdout();
    let (saved, listed): (Vec<&Listed>, Vec<&Listed>) =
        all.iter().partition(|l| l.state == "saved");
    if listed.is_empty() {
        writeln!(
            out,
            "no task worktrees yet (dispatch makes one per task: scopecraft-tmux dispatch <task>)"
        )?;
    } else {
        write_rows(&mut out, &listed, base)?;
    }
    if !saved.is_empty() {
        writeln!(
            out,
            "\nsaved by `worktree clean --force` (restore with the command shown; git stash apply puts back the uncommitted files):"
        )?;
        for entry in saved {
            writeln!(
                out,
                "  {}  {}\n    {}",
                entry.env_id,
                entry.saved_ref.as_deref().unwrap_or_default(),
                entry.restore.as_deref().unwrap_or_default()
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

fn write_rows(out: &mut impl Write, listed: &[&Listed], base: &str) -> Result<()> {
    let ahead_header = format!("AHEAD OF {base}");
    let headers = [
        "TASK",
        "BRANCH",
        "STATE",
        ahead_header.as_str(),
        "SESSIONS",
        "PATH",
    ];
    let rows: Vec<[String; 6]> = listed
        .iter()
        .map(|l| {
            let mut state = match l.state {
                "dirty" => format!("dirty ({})", l.changes.len()),
                other => other.to_string(),
            };
            if l.locked.is_some() {
                state.push_str(", locked");
            }
            if let Some(merged) = &l.merged {
                state.push_str(&format!(", merged ({})", merged.method));
            }
            let sessions: Vec<&str> = l.sessions.iter().map(|s| s.session_name.as_str()).collect();
            [
                l.env_id.clone(),
                l.branch.clone().unwrap_or_else(|| "(detached)".into()),
                state,
                l.ahead.map_or("-".into(), |n| n.to_string()),
                if sessions.is_empty() {
                    "-".to_string()
                } else {
                    sessions.join(",")
                },
                l.path.clone(),
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 6]| -> String {
        let mut text: Vec<String> = cells[..5]
            .iter()
            .zip(widths)
            .map(|(cell, width)| pad(cell, width))
            .collect();
        text.push(cells[5].to_string());
        text.join("  ")
    };
    writeln!(out, "{}", line(headers))?;
    for row in &rows {
        writeln!(out, "{}", line(row.each_ref().map(String::as_str)))?;
    }
    Ok(())
}

impl Run for WorktreeCleanArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let config = Config::load(&project)?;
        let request = clean::Request {
            task: self.task.clone(),
            force: self.force,
        };
        let report = clean::clean(&project, &config, &request)?;
        let mut out = output::stdout();
        if report.outside_git {
            writeln!(
                out,
                "{} is not in a git repository: no worktrees to clean",
                project.root.display()
            )?;
            out.flush()?;
            return Ok(());
        }
        if let Some(note) = &report.subtask_note {
            writeln!(out, "{note}")?;
        }
        if report.worktrees.is_empty() {
            writeln!(out, "no task worktrees to clean")?;
        }
        let (mut kept_for_work, mut in_use, mut failed) = (0, 0, 0);
        for cleaned in &report.worktrees {
            let (lines, tally) = cleaned.said();
            for line in lines {
                writeln!(out, "{line}")?;
            }
            match tally {
                Tally::Removed => {}
                Tally::KeptForWork => kept_for_work += 1,
                Tally::InUse => in_use += 1,
                Tally::Failed => failed += 1,
            }
        }
        out.flush()?;

        if failed > 0 {
            return Err(anyhow!(
                "{failed} worktree(s) could not be cleaned up (see above)"
            ));
        }
        if kept_for_work > 0 {
            return Err(anyhow!(
                "{kept_for_work} worktree(s) kept: removing them would lose work (see above)"
            ));
        }
        if in_use > 0 && self.task.is_some() {
            return Err(anyhow!(
                "the worktree is in use by a live session or belongs to another project (see above)"
            ));
        }
        Ok(())
    }
}
