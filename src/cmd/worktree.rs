//! `worktree list` and `worktree clean`: the task worktrees, what they hold
//! that exists nowhere else, which sessions use them, and removing them
//! without losing work.

use anyhow::{Result, anyhow};
use std::io::Write;

use super::{Globals, Run};
use crate::cli::{WorktreeCleanArgs, WorktreeCommand, WorktreeListArgs};
use crate::config::Config;
use crate::ops::clean::{self, Branch, Outcome, Work};
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

/// Lines of a list shown before "… and N more".
const SHOWN: usize = 20;

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
            let path = cleaned.path.display();
            let env_id = &cleaned.env_id;
            match &cleaned.outcome {
                Outcome::Removed {
                    branch,
                    landed,
                    saved,
                } => {
                    if let Some(saved) = saved {
                        writeln!(
                            out,
                            "saved what {path} held only there as {}; to restore it: {}",
                            saved.reference, saved.restore
                        )?;
                    }
                    let how = landed
                        .as_ref()
                        .filter(|l| l.is_landed())
                        .map(|l| format!(" ({})", l.describe()))
                        .unwrap_or_default();
                    match branch {
                        Branch::Deleted(name) => {
                            writeln!(out, "removed {path} and its branch {name}{how}")?;
                        }
                        Branch::DeleteFailed(name, error) => {
                            writeln!(
                                out,
                                "removed {path}, but could not delete its branch {name}: {error}"
                            )?;
                            failed += 1;
                        }
                        Branch::NotOurs(name) => writeln!(
                            out,
                            "removed {path} (its branch {name} is not a task branch: kept)"
                        )?,
                        Branch::Detached => writeln!(out, "removed {path}")?,
                    }
                }
                Outcome::InUse { sessions, stop } => {
                    let stop = stop
                        .as_ref()
                        .map(|stop| format!("; stop it first ({stop})"))
                        .unwrap_or_else(|| "; it ends by itself, or stop it first".to_string());
                    writeln!(out, "kept {path}: in use by {}{stop}", sessions.join(", "))?;
                    in_use += 1;
                }
                Outcome::Locked { reason } => {
                    let reason = if reason.is_empty() {
                        String::new()
                    } else {
                        format!(" ({reason})")
                    };
                    writeln!(
                        out,
                        "kept {path}: locked with git worktree lock{reason}; unlock it first (git worktree unlock {path})"
                    )?;
                    kept_for_work += 1;
                }
                Outcome::IndexLocked { lock } => {
                    writeln!(
                        out,
                        "kept {path}: a git command holds its index lock {}; let it finish (or, if none runs, remove the stale lock)",
                        lock.display()
                    )?;
                    kept_for_work += 1;
                }
                Outcome::Work(work) => {
                    write_work(&mut out, &path.to_string(), env_id, work)?;
                    kept_for_work += 1;
                }
                Outcome::Theirs { projects } => {
                    let projects: Vec<String> =
                        projects.iter().map(|p| p.display().to_string()).collect();
                    writeln!(
                        out,
                        "kept {path}: it belongs to the project {} (the projects share the worktrees folder); clean it from there",
                        projects.join(", ")
                    )?;
                    in_use += 1;
                }
                Outcome::Failed { error } => {
                    writeln!(out, "could not remove {path}: {error}")?;
                    failed += 1;
                }
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

/// What a kept worktree holds that exists nowhere else.
fn write_work(out: &mut impl Write, path: &str, env_id: &str, work: &Work) -> Result<()> {
    writeln!(out, "kept {path}: removing it would lose")?;
    if !work.changes.is_empty() {
        writeln!(
            out,
            "  uncommitted changes ({}, untracked files included):",
            work.changes.len()
        )?;
        write_some(out, &work.changes)?;
    }
    if !work.hidden.is_empty() {
        writeln!(
            out,
            "  edits git status does not show (--assume-unchanged or --skip-worktree) ({}):",
            work.hidden.len()
        )?;
        write_some(out, &work.hidden)?;
    }
    if !work.ignored.is_empty() {
        writeln!(
            out,
            "  files git ignores that are not build output ({}):",
            work.ignored.len()
        )?;
        write_some(out, &work.ignored)?;
    }
    if !work.commits.is_empty() {
        writeln!(
            out,
            "  commits on no other branch, no remote, and not in the base ({}):",
            work.commits.len()
        )?;
        write_some(out, &work.commits)?;
    }
    let advice = if work.commits.is_empty() {
        "keep or commit what you need"
    } else if work.changes.is_empty() && work.hidden.is_empty() {
        "merge it (scopecraft-tmux merge) or push the branch"
    } else {
        "commit the changes, then merge it (scopecraft-tmux merge) or push the branch"
    };
    writeln!(
        out,
        "  {advice}, or remove it anyway, saving all of it under {}{env_id}/: scopecraft-tmux worktree clean {env_id} --force",
        clean::SAVED_PREFIX
    )?;
    Ok(())
}

fn write_some(out: &mut impl Write, lines: &[String]) -> Result<()> {
    for line in lines.iter().take(SHOWN) {
        writeln!(out, "    {line}")?;
    }
    if lines.len() > SHOWN {
        writeln!(out, "    … and {} more", lines.len() - SHOWN)?;
    }
    Ok(())
}
