//! `worktree list` and `worktree clean`: the task worktrees, what they hold
//! that exists nowhere else, which sessions use them, and removing them
//! without losing work.

use std::io::Write;
use std::path::Path;

use anyhow::{Result, anyhow};
use serde::Serialize;

use super::{Globals, Run};
use crate::books::{self, Books, Record};
use crate::cli::{WorktreeCleanArgs, WorktreeCommand, WorktreeListArgs};
use crate::config::Config;
use crate::error::bail_input;
use crate::git;
use crate::names;
use crate::output::{self, pad};
use crate::task;
use crate::worktree::{BRANCH_PREFIX, Layout, Ours, canonical};

impl Run for WorktreeCommand {
    fn run(&self, globals: &Globals) -> Result<()> {
        match self {
            WorktreeCommand::List(args) => args.run(globals),
            WorktreeCommand::Clean(args) => args.run(globals),
        }
    }
}

/// Whether the session works in the worktree at `path` (resolved, as
/// [`Layout`] lists it). The record's paths are resolved too: one written
/// before its worktree existed may name it through a symlink.
fn uses(record: &Record, path: &Path) -> bool {
    record
        .worktree
        .as_ref()
        .is_some_and(|w| w.path == path || canonical(&w.path) == path)
        || record
            .workdir
            .as_ref()
            .is_some_and(|dir| dir.starts_with(path) || canonical(dir).starts_with(path))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Listed {
    env_id: String,
    path: String,
    branch: Option<String>,
    head: Option<String>,
    /// `clean`, `dirty`, or `missing` (its folder was deleted by hand).
    state: &'static str,
    /// Uncommitted changes, untracked files included, as `git status --short`.
    changes: Vec<String>,
    /// Commits ahead of `base`.
    ahead: Option<u64>,
    base: String,
    /// The reason given to `git worktree lock`, when locked.
    locked: Option<String>,
    sessions: Vec<Session>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Session {
    session_name: String,
    task_id: String,
    mode: String,
    status: String,
}

impl Run for WorktreeListArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let config = Config::load(&project)?;
        let Some(layout) = Layout::read(&project, &config)? else {
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
        let records = Books::for_project(&project)?.list()?;
        let base = layout.base_name();
        let base_commit = layout.checkout.head.clone();
        let mut listed = Vec::new();
        for Ours { env_id, worktree } in layout.ours() {
            let changes = if worktree.missing {
                Vec::new()
            } else {
                git::changes(&worktree.path)?
            };
            let ahead = match (&base_commit, &worktree.head) {
                (Some(base), Some(head)) => {
                    Some(git::count_ahead(&layout.checkout.path, base, head)?)
                }
                _ => None,
            };
            let sessions = records
                .iter()
                .filter(|r| r.status.is_live() && uses(r, &worktree.path))
                .map(|r| Session {
                    session_name: r.session_name.clone(),
                    task_id: r.task_id.clone(),
                    mode: r.mode_name().to_string(),
                    status: r.status.to_string(),
                })
                .collect();
            listed.push(Listed {
                env_id,
                path: worktree.path.display().to_string(),
                branch: worktree.branch.clone(),
                head: worktree.head.clone(),
                state: if worktree.missing {
                    "missing"
                } else if changes.is_empty() {
                    "clean"
                } else {
                    "dirty"
                },
                changes,
                ahead,
                base: base.clone(),
                locked: worktree.locked.clone(),
                sessions,
            });
        }
        if self.json {
            return output::json(&listed);
        }
        print_table(&listed, &base)
    }
}

fn print_table(listed: &[Listed], base: &str) -> Result<()> {
    let mut out = output::stdout();
    if listed.is_empty() {
        writeln!(
            out,
            "no task worktrees yet (dispatch makes one per task: scopecraft-tmux dispatch <task>)"
        )?;
        out.flush()?;
        return Ok(());
    }
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
    out.flush()?;
    Ok(())
}

/// Lines of a list shown before "… and N more".
const SHOWN: usize = 20;

impl Run for WorktreeCleanArgs {
    fn run(&self, globals: &Globals) -> Result<()> {
        let project = globals.project()?;
        let config = Config::load(&project)?;
        let books = Books::for_project(&project)?;
        let mut out = output::stdout();
        let Some(layout) = Layout::read(&project, &config)? else {
            if let Some(task) = &self.task {
                bail_input!(
                    "no worktree for {task}: {} is not in a git repository",
                    project.root.display()
                );
            }
            writeln!(
                out,
                "{} is not in a git repository: no worktrees to clean",
                project.root.display()
            )?;
            out.flush()?;
            return Ok(());
        };
        let mut selected = layout.ours();
        if let Some(task) = &self.task {
            names::check_task_id(task)?;
            // A task's worktree is its environment's; a task deleted since
            // is named by its environment id.
            let env_id = task::resolve(&project, task)
                .map_or_else(|_| task.clone(), |t| t.environment_id().to_string());
            selected.retain(|ours| ours.env_id == env_id);
            if selected.is_empty() {
                bail_input!(
                    "no worktree for task {task} (its worktree would be {}); `scopecraft-tmux worktree list` shows them",
                    layout.folder.join(&env_id).display()
                );
            }
        }
        if selected.is_empty() {
            writeln!(out, "no task worktrees to clean")?;
            out.flush()?;
            return Ok(());
        }

        let repo = &layout.checkout.path;
        let (mut kept_for_work, mut in_use, mut failed) = (0, 0, 0);
        for Ours { env_id, worktree } in &selected {
            let path = &worktree.path;
            // Under the lock a dispatch holds until its record is written:
            // a session starting now is seen, or finds the worktree gone and
            // makes it again. No session lock is taken while it is held.
            let _lock = books.worktree_lock(env_id)?;
            let live: Vec<Record> = books
                .list_raw(false)?
                .into_iter()
                .filter(|r| books::runs_now(r) && uses(r, path))
                .collect();
            if !live.is_empty() {
                let names: Vec<String> = live
                    .iter()
                    .map(|r| format!("{} ({})", r.session_name, r.status))
                    .collect();
                writeln!(
                    out,
                    "kept {}: in use by {}; stop it first (scopecraft-tmux stop {} --mode {})",
                    path.display(),
                    names.join(", "),
                    live[0].task_id,
                    live[0].mode_name()
                )?;
                in_use += 1;
                continue;
            }
            if let Some(reason) = &worktree.locked {
                let reason = if reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({reason})")
                };
                writeln!(
                    out,
                    "kept {}: locked with git worktree lock{reason}; unlock it first (git worktree unlock {})",
                    path.display(),
                    path.display()
                )?;
                kept_for_work += 1;
                continue;
            }
            if !self.force
                && let Some(lock) = git::held_index_lock(path)
            {
                writeln!(
                    out,
                    "kept {}: a git command holds its index lock {}; let it finish (or, if none runs, remove the stale lock)",
                    path.display(),
                    lock.display()
                )?;
                kept_for_work += 1;
                continue;
            }
            let changes = if worktree.missing {
                Vec::new()
            } else {
                git::changes(path)?
            };
            let unique = match &worktree.head {
                Some(head) => git::unique_commits(repo, head, worktree.branch.as_deref())?,
                None => Vec::new(),
            };
            if !self.force && (!changes.is_empty() || !unique.is_empty()) {
                writeln!(out, "kept {}: removing it would lose", path.display())?;
                if !changes.is_empty() {
                    writeln!(
                        out,
                        "  uncommitted changes ({}, untracked files included):",
                        changes.len()
                    )?;
                    write_some(&mut out, &changes)?;
                }
                if !unique.is_empty() {
                    writeln!(
                        out,
                        "  commits on no other branch and no remote ({}):",
                        unique.len()
                    )?;
                    write_some(&mut out, &unique)?;
                }
                let advice = if changes.is_empty() {
                    "merge or push the branch"
                } else {
                    "commit the changes, then merge or push the branch"
                };
                writeln!(
                    out,
                    "  {advice}, or remove it anyway: scopecraft-tmux worktree clean {env_id} --force"
                )?;
                kept_for_work += 1;
                continue;
            }
            if let Err(err) = git::remove_worktree(repo, path, !changes.is_empty()) {
                writeln!(out, "could not remove {}: {err:#}", path.display())?;
                failed += 1;
                continue;
            }
            match (&worktree.branch, &worktree.head) {
                (Some(branch), Some(head)) if branch.starts_with(BRANCH_PREFIX) => {
                    match git::delete_branch(repo, branch, head) {
                        Ok(()) => {
                            writeln!(out, "removed {} and its branch {branch}", path.display())?;
                        }
                        Err(err) => {
                            writeln!(
                                out,
                                "removed {}, but could not delete its branch {branch}: {err:#}",
                                path.display()
                            )?;
                            failed += 1;
                        }
                    }
                }
                (Some(branch), _) => writeln!(
                    out,
                    "removed {} (its branch {branch} is not a task branch: kept)",
                    path.display()
                )?,
                (None, _) => writeln!(out, "removed {}", path.display())?,
            }
        }
        // The worktrees folder goes with its last worktree.
        let _ = std::fs::remove_dir(&layout.folder);
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
                "the worktree is in use by a live session (see above)"
            ));
        }
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn record_in(worktree: &Path, workdir: &Path) -> Record {
        serde_json::from_value(serde_json::json!({
            "sessionName": "fix-11A-implementation",
            "taskId": "fix-11A",
            "status": "running",
            "startTime": books::now(),
            "execType": "detached",
            "worktree": { "path": worktree, "branch": "task/fix-11A" },
            "workdir": workdir,
        }))
        .unwrap()
    }

    #[test]
    fn a_record_naming_its_worktree_through_a_symlink_uses_it() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(top.join("real/wt/fix-11A/project")).unwrap();
        std::fs::create_dir_all(top.join("real/wt/other-11A")).unwrap();
        std::os::unix::fs::symlink(top.join("real"), top.join("link")).unwrap();
        let through_link = top.join("link/wt/fix-11A");
        let record = record_in(&through_link, &through_link.join("project"));
        assert!(uses(&record, &top.join("real/wt/fix-11A")));
        assert!(!uses(&record, &top.join("real/wt/other-11A")));
        // Only the workdir names it (a record from before worktrees).
        let mut record = record;
        record.worktree = None;
        assert!(uses(&record, &top.join("real/wt/fix-11A")));
    }
}
